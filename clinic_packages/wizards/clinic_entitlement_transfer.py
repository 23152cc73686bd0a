from odoo import api, fields, models

from ..models.clinic_guard import GROUP_MANAGER


class ClinicEntitlementTransfer(models.TransientModel):
    """Give the uses of a package not delivered to another patient, with their value."""

    _name = "clinic.entitlement.transfer"
    _inherit = ["clinic.input.mixin"]
    _description = "Transfer a Patient Package"

    entitlement_id = fields.Many2one("clinic.entitlement", string="Package", required=True)
    from_partner_id = fields.Many2one(related="entitlement_id.partner_id", string="From")
    company_id = fields.Many2one(related="entitlement_id.company_id")
    currency_id = fields.Many2one(related="entitlement_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="To Patient",
        required=True,
        domain="[('id', '!=', from_partner_id), '|', ('company_id', '=', False), "
        "('company_id', '=', company_id)]",
    )
    uses_left = fields.Integer(compute="_compute_summary", string="Uses Transferred")
    value = fields.Monetary(
        compute="_compute_summary",
        string="Unearned Value Transferred",
        help="What the package still holds, untaxed: it moves to the new package with an "
        "entry of the package journal.",
    )
    move_visits = fields.Boolean(
        string="Move Upcoming Visits",
        default=True,
        help="Upcoming visits of the new patient booked on this package move to the new "
        "package; the other upcoming visits are released (no longer covered). Unticked: all "
        "are released.",
    )

    @api.depends("entitlement_id")
    def _compute_summary(self):
        for wizard in self:
            entitlement = wizard.entitlement_id
            wizard.uses_left = entitlement.uses_total - entitlement.uses_used
            wizard.value = max(entitlement.deferred_balance, 0.0)

    def action_confirm(self):
        self.ensure_one()
        entitlement = self.entitlement_id
        entitlement._clinic_check_group(GROUP_MANAGER, self.env._("transfer a package"))
        new = entitlement._clinic_transfer(self.partner_id, move_visits=self.move_visits)
        return {
            "type": "ir.actions.act_window",
            "res_model": "clinic.entitlement",
            "res_id": new.id,
            "view_mode": "form",
            "target": "current",
        }
