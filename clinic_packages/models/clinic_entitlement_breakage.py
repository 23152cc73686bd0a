from odoo import fields, models


class ClinicEntitlementBreakage(models.Model):
    """What one package gave up to breakage in a grouped expiry entry.

    The daily expiry job recognises the unearned balance of the packages it expires in one
    journal entry per batch (Dr unearned revenue / Cr breakage income, the batch's total),
    the way Odoo groups deferral entries: one entry per package would cost a journal entry
    per package. These records are the packages' shares of its unearned item
    (`clinic.unearned.share`), and the reversal that gives a share back when its package's
    expiry is extended.
    """

    _name = "clinic.entitlement.breakage"
    _inherit = ["clinic.unearned.share", "clinic.guard.mixin"]
    _description = "Package Expiry Breakage"
    _order = "id desc"
    _rec_name = "entitlement_id"
    _clinic_unearned_sign = -1  # breakage debits the unearned revenue account

    move_id = fields.Many2one(string="Expiry Entry")
    reversal_move_id = fields.Many2one(
        "account.move",
        string="Reversal",
        readonly=True,
        help="The entry that gave this amount back to the package when its expiry was extended.",
    )
    date = fields.Date(related="move_id.date")
    amount = fields.Monetary(
        string="Breakage",
        help="Untaxed unearned value of the package recognised as breakage income.",
    )
