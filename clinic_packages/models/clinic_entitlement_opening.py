from odoo import fields, models


class ClinicEntitlementOpening(models.Model):
    """What one imported package brought in an opening entry of an import.

    An import (Clinic > Configuration > Import) posts one opening entry, Dr clearing account /
    Cr unearned revenue, with one item per patient on each side: an item per package would
    cost a journal item per package (thousands for an import). These records are the
    packages' shares of their patient's unearned item (`clinic.unearned.share`).
    """

    _name = "clinic.entitlement.opening"
    _inherit = ["clinic.unearned.share", "clinic.guard.mixin"]
    _description = "Imported Package Opening Value"
    _order = "id desc"
    _rec_name = "entitlement_id"
    _log_access = False

    move_id = fields.Many2one(string="Opening Entry")
    amount = fields.Monetary(
        string="Opening Value",
        help="Untaxed value not yet delivered that the import brought to the package (a "
        "re-import that lowers it: negative).",
    )
