from odoo import fields, models


class ClinicEntitlementBreakage(models.Model):
    """What one package gave up to breakage in a grouped expiry entry.

    The daily expiry job recognises the unearned balance of the packages it expires in one
    journal entry per batch (Dr unearned revenue / Cr breakage income, the batch's total),
    the way Odoo groups deferral entries: one entry per package would cost a journal entry
    per package. These records itemise that entry per package; they add up to its lines, and
    a package's money and the unearned revenue report read them.
    """

    _name = "clinic.entitlement.breakage"
    _inherit = ["clinic.guard.mixin"]
    _description = "Package Expiry Breakage"
    _order = "id desc"
    _rec_name = "entitlement_id"

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
        string="Expiry Entry",
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
        help="The entry's item on the unearned revenue account that this amount is part of.",
    )
    reversal_move_id = fields.Many2one(
        "account.move",
        string="Reversal",
        readonly=True,
        help="The entry that gave this amount back to the package when its expiry was extended.",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(related="entitlement_id.partner_id", string="Patient")
    date = fields.Date(related="move_id.date")
    state = fields.Selection(related="move_id.state", string="Entry Status")
    amount = fields.Monetary(
        string="Breakage",
        currency_field="currency_id",
        readonly=True,
        help="Untaxed unearned value of the package recognised as breakage income.",
    )
