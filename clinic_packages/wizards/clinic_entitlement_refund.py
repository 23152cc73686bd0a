from odoo import api, fields, models


class ClinicEntitlementRefund(models.TransientModel):
    _name = "clinic.entitlement.refund"
    _description = "Refund a Patient Package"

    entitlement_id = fields.Many2one("clinic.entitlement", string="Package", required=True)
    partner_id = fields.Many2one(related="entitlement_id.partner_id")
    currency_id = fields.Many2one(related="entitlement_id.currency_id")
    billing_mode = fields.Selection(related="entitlement_id.billing_mode")
    uses_left = fields.Integer(compute="_compute_amounts", string="Uses Not Delivered")
    collected_amount = fields.Monetary(
        compute="_compute_amounts",
        string="Collected",
        help="What the patient was billed for this package, taxes included: the most that "
        "can be refunded.",
    )
    suggested_amount = fields.Monetary(
        compute="_compute_amounts",
        string="Suggested",
        help="Package price / uses x uses not delivered, taxes included.",
    )
    amount = fields.Monetary(
        string="Refund",
        compute="_compute_amount",
        store=True,
        readonly=False,
        help="Any amount from 0 to what was collected. What stays unearned is recognised as "
        "breakage income.",
    )

    @api.depends("entitlement_id")
    def _compute_amounts(self):
        for wizard in self:
            entitlement = wizard.entitlement_id
            wizard.uses_left = entitlement.uses_total - entitlement.uses_used
            wizard.collected_amount = entitlement._clinic_collected_total()
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
