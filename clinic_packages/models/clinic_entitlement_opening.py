from odoo import fields, models


class ClinicEntitlementOpening(models.Model):
    """What one imported package brought in an opening entry of an import.

    An import (Clinic > Configuration > Import) posts one opening entry, Dr clearing account /
    Cr unearned revenue, with one item per patient on each side: an item per package would
    cost a journal item per package (thousands for an import). These records itemise the
    patient's unearned item per package, the way `clinic.entitlement.breakage` itemises a
    grouped expiry entry: they add up to its lines, and a package's money (what it was billed
    and still holds) and the unearned revenue report read them, for posted entries only.
    """

    _name = "clinic.entitlement.opening"
    _inherit = ["clinic.guard.mixin"]
    _description = "Imported Package Opening Value"
    _order = "id desc"
    _rec_name = "entitlement_id"
    _log_access = False

    entitlement_id = fields.Many2one(
        "clinic.entitlement",
        string="Patient Package",
        required=True,
        index=True,
        ondelete="restrict",
        readonly=True,
    )
    move_id = fields.Many2one(
        "account.move",
        string="Opening Entry",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    move_line_id = fields.Many2one(
        "account.move.line",
        string="Unearned Item",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
        help="The entry's item on the unearned revenue account (the patient's) that this "
        "amount is part of.",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(related="entitlement_id.partner_id", string="Patient")
    state = fields.Selection(related="move_id.state", string="Entry Status")
    amount = fields.Monetary(
        string="Opening Value",
        currency_field="currency_id",
        readonly=True,
        help="Untaxed value not yet delivered that the import brought to the package (a "
        "re-import that lowers it: negative).",
    )
