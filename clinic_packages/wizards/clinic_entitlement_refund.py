from odoo import api, fields, models


class ClinicEntitlementRefund(models.TransientModel):
    """Refund a package: the amounts it shows say whether they include taxes, and what was
    billed is told apart from what was paid."""

    _name = "clinic.entitlement.refund"
    _inherit = ["clinic.input.mixin"]
    _description = "Refund a Patient Package"

    entitlement_id = fields.Many2one("clinic.entitlement", string="Package", required=True)
    partner_id = fields.Many2one(related="entitlement_id.partner_id")
    currency_id = fields.Many2one(related="entitlement_id.currency_id")
    billing_mode = fields.Selection(related="entitlement_id.billing_mode")
    uses_left = fields.Integer(compute="_compute_amounts", string="Uses Not Delivered")
    billed_untaxed = fields.Monetary(
        compute="_compute_amounts",
        string="Billed (untaxed)",
        help="The package's share of its posted invoice without taxes, as on its Money tab "
        "(prepaid credit: its prepayments).",
    )
    collected_amount = fields.Monetary(
        compute="_compute_amounts",
        string="Billed (taxes included)",
        help="What the patient was charged for this package, taxes included, paid or not "
        "(prepaid credit: its prepayments): the most that can be refunded.",
    )
    paid_amount = fields.Monetary(
        compute="_compute_amounts",
        string="Paid",
        help="What the patient has paid for it so far, taxes included. Refunding more than "
        "was paid first reduces what the patient still owes on the invoice.",
    )
    suggested_amount = fields.Monetary(
        compute="_compute_amounts",
        string="Suggested Refund",
        help="Price paid (taxes included) / uses x uses not delivered, at most what was billed.",
    )
    amount = fields.Monetary(
        string="Refund (taxes included)",
        compute="_compute_amount",
        store=True,
        readonly=False,
        help="Any amount from 0 to what was billed, taxes included. What stays unearned is "
        "recognised as breakage income.",
    )
    amount_untaxed = fields.Monetary(
        compute="_compute_amount_untaxed",
        string="Refund (untaxed)",
        help="The untaxed part of the refund: what the package's Refunded (untaxed) grows by "
        "on its Money tab.",
    )

    @api.depends("entitlement_id")
    def _compute_amounts(self):
        for wizard in self:
            entitlement = wizard.entitlement_id
            wizard.uses_left = entitlement.uses_total - entitlement.uses_used
            wizard.billed_untaxed = entitlement.amount_billed
            wizard.collected_amount = entitlement._clinic_collected_total()
            wizard.paid_amount = entitlement._clinic_paid_total()
            wizard.suggested_amount = (
                entitlement.currency_id.round(
                    entitlement.amount_total / entitlement.uses_total * wizard.uses_left
                )
                if entitlement.uses_total
                else 0.0
            )
            wizard.suggested_amount = min(wizard.suggested_amount, wizard.collected_amount)

    @api.depends("suggested_amount")
    def _compute_amount(self):
        for wizard in self:
            wizard.amount = wizard.suggested_amount

    @api.depends("amount", "entitlement_id")
    def _compute_amount_untaxed(self):
        for wizard in self:
            wizard.amount_untaxed = (
                wizard.entitlement_id._clinic_refund_untaxed(wizard.amount)
                if wizard.entitlement_id
                else 0.0
            )

    def action_confirm(self):
        self.ensure_one()
        move = self.entitlement_id._clinic_refund(self.amount)
        if not move:
            return {"type": "ir.actions.act_window_close"}
        return {
            "type": "ir.actions.act_window",
            "res_model": move._name,
            "res_id": move.id,
            "view_mode": "form",
            "target": "current",
        }

    @api.constrains("amount")
    def _check_amount(self):
        for wizard in self:
            wizard.entitlement_id._clinic_check_refund_amount(wizard.amount)
