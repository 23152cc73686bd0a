"""Billing a visit: the patient's share of it (the package's patient-pays amount, the
per-use value of a prepaid package, or the service's price without package) or the no-show
fee, as a draft invoice of the visit's company that the front desk posts at checkout."""

from odoo import fields, models

from .calendar_event import defer_sync
from .clinic_guard import trusted


class CalendarEvent(models.Model):
    _inherit = "calendar.event"  # pylint: disable=consider-merging-classes-inherited

    def _clinic_visit_price(self):
        """What the patient is billed for this visit: the package's patient-pays amount,
        the per-use value of a prepaid package, or the service's price without package."""
        self.ensure_one()
        entitlement = self.clinic_entitlement_id
        if not entitlement:
            return self.clinic_service_id.lst_price
        if entitlement.billing_mode == "prepaid_credit":
            return self.clinic_usage_id.amount or entitlement.unit_value
        return self.clinic_usage_id.entitlement_line_id.patient_pays

    def _clinic_bill_visit(self):
        self.ensure_one()
        if not self.clinic_service_id:
            return
        price = self._clinic_visit_price()
        if self._clinic_company().currency_id.is_zero(price):
            return
        description = self.clinic_service_id.display_name
        if self.clinic_entitlement_id:
            description = self.env._(
                "%(service)s, %(date)s (package %(name)s)",
                service=description,
                date=self._clinic_visit_date(),
                name=self.clinic_entitlement_id.name,
            )
        self._clinic_create_invoice(self.clinic_service_id, price, description)

    def _clinic_bill_no_show_fee(self):
        self.ensure_one()
        fee = self._clinic_company().clinic_no_show_product_id
        if fee:
            self._clinic_create_invoice(
                fee,
                fee.lst_price,
                self.env._(
                    "%(fee)s: %(event)s",
                    fee=fee.display_name,
                    event=self.display_name,
                ),
            )

    def _prepare_clinic_invoice_vals(self, product, price, description):
        """Values of the visit's draft customer invoice of `product`. The visit's own service
        carries its package, so that a prepaid package pays it."""
        self.ensure_one()
        entitlement = self.clinic_entitlement_id if product == self.clinic_service_id else None
        line = {"product_id": product.id, "name": description, "quantity": 1, "price_unit": price}
        values = {
            "move_type": "out_invoice",
            "partner_id": self.clinic_patient_id.id,
            "invoice_origin": self.display_name,
        }
        if entitlement:
            line["clinic_entitlement_id"] = entitlement.id
            values.update(clinic_entitlement_id=entitlement.id, clinic_move_kind="visit")
        values["invoice_line_ids"] = [fields.Command.create(line)]
        return values

    def _clinic_create_invoice(self, product, price, description):
        """A draft customer invoice for the visit; the front desk posts it at checkout."""
        self.ensure_one()
        values = self._prepare_clinic_invoice_vals(product, price, description)
        # the front desk bills the visit without invoicing rights, in the visit's company
        invoice = (
            self.env["account.move"].sudo().with_company(self._clinic_company()).create(values)
        )
        defer_sync(self).clinic_invoice_id = invoice
        entitlement = invoice.clinic_entitlement_id
        if entitlement and entitlement.billing_mode == "prepaid_credit":
            trusted(self.clinic_usage_id).move_id = invoice
        return invoice

    def action_clinic_view_invoice(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "view_mode": "form",
            "res_id": self.clinic_invoice_id.id,
        }
