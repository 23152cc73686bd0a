from odoo import api, fields, models
from odoo.exceptions import UserError


class ClinicEntitlementAdjust(models.TransientModel):
    """Add or remove uses of a package's service, with a reason (Clinic Manager): Vagaro's
    "increase / decrease limit". The rule is `clinic.entitlement.line._clinic_adjust_uses`."""

    _name = "clinic.entitlement.adjust"
    _inherit = ["clinic.input.mixin"]
    _description = "Adjust the Uses of a Patient Package"

    entitlement_id = fields.Many2one("clinic.entitlement", string="Package", required=True)
    partner_id = fields.Many2one(related="entitlement_id.partner_id")
    line_id = fields.Many2one(
        "clinic.entitlement.line",
        string="Service",
        required=True,
        domain="[('entitlement_id', '=', entitlement_id)]",
        compute="_compute_line_id",
        store=True,
        precompute=True,
        readonly=False,
    )
    quantity = fields.Integer(related="line_id.quantity", string="Uses Bought")
    used = fields.Integer(related="line_id.used")
    reserved = fields.Integer(related="line_id.reserved", string="Booked")
    delta = fields.Integer(
        string="Uses to Add",
        required=True,
        help="A positive number adds uses, a negative one removes uses not used or booked. "
        "Adding uses adds no money: the package's value is spread over more uses.",
    )
    new_quantity = fields.Integer(compute="_compute_new_quantity", string="Uses After")
    reason = fields.Text(required=True)

    @api.depends("entitlement_id")
    def _compute_line_id(self):
        for wizard in self:
            if wizard.line_id.entitlement_id != wizard.entitlement_id:
                wizard.line_id = wizard.entitlement_id.line_ids[:1]

    @api.depends("line_id", "delta")
    def _compute_new_quantity(self):
        for wizard in self:
            wizard.new_quantity = wizard.line_id.quantity + wizard.delta

    def action_confirm(self):
        self.ensure_one()
        if self.line_id.entitlement_id != self.entitlement_id:
            raise UserError(self.env._("Choose a service of package %s.", self.entitlement_id.name))
        self.line_id._clinic_adjust_uses(self.delta, self.reason)
        return {"type": "ir.actions.act_window_close"}
