from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    clinic_entitlement_ids = fields.One2many(
        "clinic.entitlement", "sale_order_id", string="Packages", readonly=True
    )
    clinic_entitlement_count = fields.Integer(
        string="Packages Sold", compute="_compute_clinic_entitlement_count"
    )

    clinic_prepaid_amount = fields.Monetary(
        string="Prepaid",
        compute="_compute_clinic_prepaid_amount",
        currency_field="currency_id",
        help="Prepayments received for the prepaid-credit packages of this order.",
    )

    @api.depends("clinic_entitlement_ids.payment_ids.state")
    def _compute_clinic_prepaid_amount(self):
        for order in self:
            payments = order.sudo().clinic_entitlement_ids.payment_ids.filtered(
                lambda p: p.state in ("in_process", "paid")
            )
            order.clinic_prepaid_amount = sum(payments.mapped("amount_signed"))

    @api.depends("clinic_entitlement_ids")
    def _compute_clinic_entitlement_count(self):
        for order in self:
            order.clinic_entitlement_count = len(order.clinic_entitlement_ids)

    def _action_confirm(self):
        res = super()._action_confirm()
        self.order_line._clinic_sync_entitlements()
        return res

    def _action_cancel(self):
        entitlements = self.sudo().clinic_entitlement_ids.filtered(lambda e: e.state != "cancelled")
        for order in self:
            entitlements.filtered(
                lambda e, o=order: e.sale_order_id == o
            )._clinic_check_cancellable(order)
        res = super()._action_cancel()
        entitlements.action_cancel()
        return res

    def action_clinic_refund(self):
        """Refund a package of this order: the wizard for its only refundable package, else
        the list of its packages to pick one."""
        self.ensure_one()
        refundable = self.clinic_entitlement_ids.filtered("can_refund")
        if len(refundable) == 1:
            return refundable.action_refund()
        return self.action_view_clinic_entitlements()

    def action_clinic_view_prepayments(self):
        """The prepayments received for this order's packages."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_account_payments")
        action["domain"] = [("id", "in", self.clinic_entitlement_ids.payment_ids.ids)]
        action["context"] = {"create": False}
        action["name"] = action["display_name"] = self.env._("Prepayments of %s", self.name)
        return action

    def action_view_clinic_entitlements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_packages.clinic_entitlement_action"
        )
        action["domain"] = [("sale_order_id", "=", self.id)]
        action["context"] = {"create": False}
        if len(self.clinic_entitlement_ids) == 1:
            action.update(
                view_mode="form", views=[(False, "form")], res_id=self.clinic_entitlement_ids.id
            )
        # the web client titles the breadcrumb with display_name first
        action["name"] = action["display_name"] = self.env._("Packages of %s", self.name)
        return action
