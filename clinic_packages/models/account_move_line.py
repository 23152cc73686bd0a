from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    clinic_entitlement_id = fields.Many2one(
        "clinic.entitlement",
        string="Patient Package",
        index="btree_not_null",
        copy=True,
        help="The package whose money this journal item moves.",
    )
