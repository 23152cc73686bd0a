"""Selling packages: activation modes, quantities, order changes and cancellation."""

from datetime import date

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import freeze_time

from .common import ClinicCase


class SellingCase(ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.package_paid = cls._clinic_package(
            "4 Massages Paid First",
            400.0,
            [(cls.massage, 4, 0.0)],
            clinic_validity_days=90,
            clinic_activation="on_payment",
        )
        cls.package_first_visit = cls._clinic_package(
            "5 Acupuncture From First Visit",
            450.0,
            [(cls.acupuncture, 5, 0.0)],
            clinic_validity_days=60,
            clinic_activation="on_first_visit",
        )

    def _invoice(self, order):
        invoice = order._create_invoices()
        invoice.action_post()
        return invoice

    def _pay(self, invoice, amount=None):
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"amount": invoice.amount_residual if amount is None else amount})
        )
        return wizard._create_payments()

    def _cancel(self, order):
        return order.with_context(disable_cancel_warning=True).action_cancel()

    def _book(self, entitlement, service=None):
        return self.env["clinic.entitlement.usage"].create(
            {"entitlement_id": entitlement.id, "service_product_id": (service or self.physio).id}
        )


class TestActivation(SellingCase):
    @freeze_time("2025-03-01 12:00:00")
    def test_on_confirm(self):
        order = self._clinic_sell(self.package_physio8, confirm=False)
        self.assertFalse(order.clinic_entitlement_ids, "a quotation gives no package")
        order.action_confirm()
        entitlement = order.clinic_entitlement_ids
        self.assertEqual(len(entitlement), 1)
        self.assertEqual(entitlement.state, "active")
        self.assertEqual(entitlement.partner_id, self.patient)
        self.assertEqual(entitlement.product_id, self.package_physio8)
        self.assertEqual(entitlement.sale_line_id, order.order_line)
        self.assertEqual(entitlement.company_id, self.company)
        self.assertEqual(entitlement.activation, "on_confirm")
        self.assertEqual(entitlement.date_start, date(2025, 3, 1))
        self.assertEqual(entitlement.date_expiry, date(2025, 8, 28))  # + 180 days
        self.assertTrue(entitlement.name.startswith("PKG/2025/"), entitlement.name)
        self.assertEqual(entitlement.line_ids.service_product_id, self.physio)
        self.assertEqual(entitlement.line_ids.quantity, 8)
        self.assertEqual(entitlement.uses_total, 8)
        self.assertEqual(entitlement.uses_remaining, 8)
        self.assertEqual(entitlement.amount_total, 1600.0)
        self.assertEqual(entitlement.amount_untaxed, 1600.0)
        self.assertEqual(entitlement.unit_value, 200.0)

    @freeze_time("2025-03-01 12:00:00")
    def test_on_confirm_copies_package_terms(self):
        order = self._clinic_sell(self.package_rehab)
        entitlement = order.clinic_entitlement_ids
        self.assertEqual(entitlement.date_expiry, date(2026, 3, 1))  # + 365 days
        lines = {line.service_product_id: line for line in entitlement.line_ids}
        self.assertEqual(set(lines), {self.physio, self.massage})
        self.assertEqual(lines[self.physio].quantity, 6)
        self.assertEqual(lines[self.physio].patient_pays, 0.0)
        self.assertEqual(lines[self.massage].quantity, 4)
        self.assertEqual(lines[self.massage].patient_pays, 10.0)
        self.assertEqual(entitlement.uses_total, 10)
        self.assertEqual(entitlement.unit_value, 150.0)
        # the package changes afterwards: the sold entitlement keeps what was sold
        self.package_rehab.product_tmpl_id.clinic_package_line_ids.filtered(
            lambda line: line.service_product_id == self.massage
        ).quantity = 8
        self.package_rehab.clinic_validity_days = 30
        self.assertEqual(lines[self.massage].quantity, 4)
        self.assertEqual(entitlement.date_expiry, date(2026, 3, 1))

    def test_on_payment_full(self):
        with freeze_time("2025-03-01 12:00:00"):
            order = self._clinic_sell(self.package_paid)
            entitlement = order.clinic_entitlement_ids
            self.assertEqual(len(entitlement), 1)
            self.assertEqual(entitlement.state, "draft")
            self.assertFalse(entitlement.date_start)
            self.assertFalse(entitlement.date_expiry)
            invoice = self._invoice(order)
            self.assertEqual(invoice.amount_total, 400.0)
            self.assertEqual(entitlement.state, "draft", "an unpaid invoice activates nothing")
        with freeze_time("2025-03-10 12:00:00"):
            self._pay(invoice)
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))
            self.assertEqual(entitlement.state, "active")
            self.assertEqual(entitlement.date_start, date(2025, 3, 10))
            self.assertEqual(entitlement.date_expiry, date(2025, 6, 8))  # + 90 days
            self.assertEqual(entitlement.uses_remaining, 4)

    def test_on_payment_partial(self):
        with freeze_time("2025-03-01 12:00:00"):
            order = self._clinic_sell(self.package_paid)
            entitlement = order.clinic_entitlement_ids
            invoice = self._invoice(order)
            self._pay(invoice, 150.0)
            self.assertEqual(invoice.payment_state, "partial")
            self.assertEqual(invoice.amount_residual, 250.0)
            self.assertEqual(entitlement.state, "draft")
            self.assertFalse(entitlement.date_start)
            # a draft package cannot be booked yet
            with self.assertRaises(UserError) as error:
                self._book(entitlement, self.massage)
            self.assertIn(entitlement.name, str(error.exception))
            self.assertFalse(entitlement.usage_ids)
        with freeze_time("2025-03-20 12:00:00"):
            self._pay(invoice)
            self.assertEqual(entitlement.state, "active")
            self.assertEqual(entitlement.date_start, date(2025, 3, 20))
            self.assertEqual(entitlement.date_expiry, date(2025, 6, 18))

    @freeze_time("2025-03-01 12:00:00")
    def test_on_payment_two_units(self):
        order = self._clinic_sell(self.package_paid, qty=2)
        entitlements = order.clinic_entitlement_ids
        self.assertEqual(entitlements.mapped("state"), ["draft", "draft"])
        self.assertEqual(order.order_line.clinic_uses_remaining, 8)
        invoice = self._invoice(order)
        self.assertEqual(invoice.amount_total, 800.0)
        self._pay(invoice, 400.0)
        self.assertEqual(entitlements.mapped("state"), ["draft", "draft"])
        self._pay(invoice)
        self.assertEqual(entitlements.mapped("state"), ["active", "active"])
        self.assertEqual(entitlements.mapped("date_expiry"), [date(2025, 5, 30)] * 2)
        self.assertEqual(entitlements.mapped("amount_total"), [400.0, 400.0])

    def test_on_payment_of_on_confirm_package_changes_nothing(self):
        with freeze_time("2025-03-01 12:00:00"):
            order = self._clinic_sell(self.package_physio8)
            entitlement = order.clinic_entitlement_ids
        with freeze_time("2025-03-05 12:00:00"):
            self._pay(self._invoice(order))
        self.assertEqual(entitlement.state, "active")
        self.assertEqual(entitlement.date_start, date(2025, 3, 1))

    @freeze_time("2025-03-01 12:00:00")
    def test_on_first_visit(self):
        order = self._clinic_sell(self.package_first_visit)
        entitlement = order.clinic_entitlement_ids
        self.assertEqual(entitlement.state, "active")
        self.assertFalse(entitlement.date_start)
        self.assertFalse(entitlement.date_expiry)
        entitlement._clinic_start_validity(date(2025, 4, 1))
        self.assertEqual(entitlement.date_start, date(2025, 4, 1))
        self.assertEqual(entitlement.date_expiry, date(2025, 5, 31))  # + 60 days
        # the validity starts once: a later visit does not move it
        entitlement._clinic_start_validity(date(2025, 4, 15))
        self.assertEqual(entitlement.date_start, date(2025, 4, 1))
        self.assertEqual(entitlement.date_expiry, date(2025, 5, 31))


class TestQuantities(SellingCase):
    def test_quantity_two(self):
        order = self._clinic_sell(self.package_rehab, qty=2)
        entitlements = order.clinic_entitlement_ids
        self.assertEqual(len(entitlements), 2)
        self.assertEqual(order.clinic_entitlement_count, 2)
        self.assertEqual(len(set(entitlements.mapped("name"))), 2, "each has its own reference")
        self.assertEqual(set(entitlements.mapped("state")), {"active"})
        for entitlement in entitlements:
            self.assertEqual(len(entitlement.line_ids), 2)
            self.assertEqual(entitlement.uses_total, 10)
            self.assertEqual(entitlement.amount_total, 1500.0)
            self.assertEqual(entitlement.unit_value, 150.0)
        self.assertFalse(
            entitlements[0].line_ids & entitlements[1].line_ids, "each has its own lines"
        )
        self.assertEqual(order.amount_total, 3000.0)
        # using one leaves the other untouched
        self._book(entitlements[0]).action_consume()
        self.assertEqual(entitlements[0].uses_remaining, 9)
        self.assertEqual(entitlements[1].uses_remaining, 10)

    def test_amount_is_price_per_unit_with_discount(self):
        order = self._clinic_sell(self.package_physio8, qty=3, confirm=False)
        order.order_line.discount = 25.0
        order.action_confirm()
        self.assertEqual(len(order.clinic_entitlement_ids), 3)
        for entitlement in order.clinic_entitlement_ids:
            self.assertEqual(entitlement.amount_total, 1200.0)
            self.assertEqual(entitlement.unit_value, 150.0)

    def test_price_changed_after_confirmation_reprices_open_packages(self):
        """The salesman lowers the price of a confirmed line: its open packages take the new
        price (and value per use), which the line's invoice bills; a closed package keeps
        the price it was settled at."""
        order = self._clinic_sell(self.package_physio8, qty=2, user=self.receptionist)
        first, second = order.clinic_entitlement_ids.sorted("id")
        second.sudo().action_cancel()
        line = order.order_line.with_user(self.receptionist)
        line.write({"price_unit": 800.0, "discount": 10.0})
        self.assertRecordValues(
            first, [{"amount_total": 720.0, "amount_untaxed": 720.0, "unit_value": 90.0}]
        )
        self.assertEqual(second.amount_total, 1600.0)
        # the line's invoice bills each unit at that price too
        invoice_line = self._invoice(order).invoice_line_ids
        self.assertEqual(invoice_line.price_subtotal / invoice_line.quantity, 720.0)

    def test_non_integer_quantity_refused(self):
        order = self._clinic_sell(self.package_physio8, qty=1.5, confirm=False)
        with self.assertRaises(UserError) as error:
            order.action_confirm()
        message = str(error.exception)
        self.assertIn("8 Physio Sessions", message)
        self.assertIn(order.name, message)
        self.assertIn("1.5", message)
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.clinic_entitlement_ids)

    def test_non_integer_quantity_on_confirmed_order_refused(self):
        order = self._clinic_sell(self.package_physio8)
        with self.assertRaises(UserError) as error:
            order.order_line.product_uom_qty = 2.5
        self.assertIn("8 Physio Sessions", str(error.exception))
        self.assertEqual(order.order_line.product_uom_qty, 1)
        self.assertEqual(len(order.clinic_entitlement_ids), 1)

    def test_increase_quantity_on_confirmed_order(self):
        order = self._clinic_sell(self.package_physio8)
        first = order.clinic_entitlement_ids
        order.order_line.product_uom_qty = 3
        entitlements = order.clinic_entitlement_ids
        self.assertEqual(len(entitlements), 3)
        self.assertIn(first, entitlements)
        self.assertEqual(set(entitlements.mapped("state")), {"active"})
        self.assertEqual(order.clinic_entitlement_count, 3)
        self.assertEqual(order.order_line.clinic_uses_remaining, 24)

    def test_decrease_quantity_cancels_unused(self):
        order = self._clinic_sell(self.package_physio8, qty=3)
        entitlements = order.clinic_entitlement_ids.sorted("id")
        self._book(entitlements[0])
        order.order_line.product_uom_qty = 1
        self.assertEqual(entitlements.mapped("state"), ["active", "cancelled", "cancelled"])
        self.assertEqual(order.order_line.clinic_uses_remaining, 7)
        # increasing again adds new packages; cancelled ones stay cancelled
        order.order_line.product_uom_qty = 2
        live = order.clinic_entitlement_ids.filtered(lambda e: e.state != "cancelled")
        self.assertEqual(len(live), 2)
        self.assertEqual(len(order.clinic_entitlement_ids), 4)

    def test_decrease_quantity_keeps_the_used_package(self):
        """The newest package is the one in use: an older, unused one is cancelled instead."""
        order = self._clinic_sell(self.package_physio8, qty=2)
        older, newer = order.clinic_entitlement_ids.sorted("id")
        self._book(newer)
        order.order_line.product_uom_qty = 1
        self.assertEqual(older.state, "cancelled")
        self.assertEqual(newer.state, "active")
        self.assertEqual(newer.uses_reserved, 1)

    def test_decrease_below_used_packages_refused(self):
        order = self._clinic_sell(self.package_physio8, qty=2)
        older, newer = order.clinic_entitlement_ids.sorted("id")
        self._book(older)
        self._book(newer).action_consume()
        with self.assertRaises(UserError) as error:
            order.order_line.product_uom_qty = 1
        message = str(error.exception)
        self.assertIn(order.name, message)
        self.assertTrue(older.name in message or newer.name in message, message)
        self.assertEqual(order.order_line.product_uom_qty, 2)
        self.assertEqual(older.state, "active")
        self.assertEqual(newer.state, "active")


class TestCounters(SellingCase):
    def test_sale_line_uses_remaining(self):
        order = self._clinic_sell(self.package_rehab, qty=2)
        line = order.order_line
        self.assertEqual(line.clinic_uses_remaining, 20)
        first, second = order.clinic_entitlement_ids.sorted("id")
        usage = self._book(first)
        self.assertEqual(line.clinic_uses_remaining, 19)
        usage.action_consume()
        self._book(second, self.massage)
        self.assertEqual(line.clinic_uses_remaining, 18)
        second.action_cancel()
        self.assertEqual(line.clinic_uses_remaining, 9)

    def test_quotation_line_has_no_uses(self):
        order = self._clinic_sell(self.package_physio8, confirm=False)
        self.assertEqual(order.order_line.clinic_uses_remaining, 0)
        self.assertEqual(order.clinic_entitlement_count, 0)

    def test_on_payment_line_counts_draft_package(self):
        order = self._clinic_sell(self.package_paid)
        self.assertEqual(order.clinic_entitlement_ids.state, "draft")
        self.assertEqual(order.order_line.clinic_uses_remaining, 4)

    def test_order_entitlement_count_and_action(self):
        order = self._clinic_sell(self.package_physio8)
        self.assertEqual(order.clinic_entitlement_count, 1)
        action = order.action_view_clinic_entitlements()
        self.assertEqual(action["res_model"], "clinic.entitlement")
        self.assertEqual(action["res_id"], order.clinic_entitlement_ids.id)
        self.assertEqual(action["views"], [(False, "form")])
        self.assertIn(order.name, action["name"])

        order_2 = self._clinic_sell(self.package_physio8, qty=2)
        self.assertEqual(order_2.clinic_entitlement_count, 2)
        action = order_2.action_view_clinic_entitlements()
        self.assertEqual(action["domain"], [("sale_order_id", "=", order_2.id)])
        self.assertFalse(action.get("res_id"))
        found = self.env["clinic.entitlement"].search(action["domain"])
        self.assertEqual(found, order_2.clinic_entitlement_ids)

    def test_mixed_order(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.patient.id,
                "order_line": [
                    Command.create({"product_id": self.package_physio8.id}),
                    Command.create({"product_id": self.massage.id, "product_uom_qty": 2}),
                    Command.create({"product_id": self.package_rehab.id}),
                ],
            }
        )
        order.action_confirm()
        self.assertEqual(order.clinic_entitlement_count, 2)
        self.assertEqual(
            order.clinic_entitlement_ids.product_id, self.package_physio8 | self.package_rehab
        )
        massage_line = order.order_line.filtered(lambda line: line.product_id == self.massage)
        self.assertFalse(massage_line.clinic_entitlement_ids)
        self.assertEqual(massage_line.clinic_uses_remaining, 0)

    def test_partner_entitlement_count(self):
        self.assertEqual(self.patient.clinic_entitlement_count, 0)
        self._clinic_sell(self.package_physio8)
        self._clinic_sell(self.package_rehab, qty=2)
        self._clinic_sell(self.package_physio8, partner=self.patient_2)
        self.patient.invalidate_recordset(["clinic_entitlement_count"])
        self.patient_2.invalidate_recordset(["clinic_entitlement_count"])
        self.assertEqual(self.patient.clinic_entitlement_count, 3)
        self.assertEqual(self.patient_2.clinic_entitlement_count, 1)
        action = self.patient.action_view_clinic_entitlements()
        self.assertEqual(len(self.env["clinic.entitlement"].search(action["domain"])), 3)


class TestOrderCancel(SellingCase):
    def test_cancel_order_without_usage(self):
        order = self._clinic_sell(self.package_physio8, qty=2)
        entitlements = order.clinic_entitlement_ids
        self._cancel(order)
        self.assertEqual(order.state, "cancel")
        self.assertEqual(entitlements.mapped("state"), ["cancelled", "cancelled"])
        self.assertEqual(order.order_line.clinic_uses_remaining, 0)

    def test_cancel_order_with_released_usage(self):
        order = self._clinic_sell(self.package_physio8)
        entitlement = order.clinic_entitlement_ids
        self._book(entitlement).action_release()
        self._cancel(order)
        self.assertEqual(order.state, "cancel")
        self.assertEqual(entitlement.state, "cancelled")

    def test_cancel_order_with_usage_refused(self):
        order = self._clinic_sell(self.package_physio8)
        entitlement = order.clinic_entitlement_ids
        usage = self._book(entitlement)
        with self.assertRaises(UserError) as error:
            self._cancel(order)
        message = str(error.exception)
        self.assertIn(order.name, message)
        self.assertIn(entitlement.name, message)
        self.assertEqual(order.state, "sale")
        self.assertEqual(entitlement.state, "active")
        self.assertEqual(usage.state, "reserved")
        self.assertEqual(entitlement.uses_reserved, 1)

    def test_cancel_order_with_consumed_usage_refused(self):
        order = self._clinic_sell(self.package_rehab, qty=2)
        used = order.clinic_entitlement_ids.sorted("id")[1]
        self._book(used, self.massage).action_consume()
        with self.assertRaises(UserError) as error:
            self._cancel(order)
        self.assertIn(used.name, str(error.exception))
        self.assertEqual(order.state, "sale")
        self.assertEqual(set(order.clinic_entitlement_ids.mapped("state")), {"active"})

    def test_cancel_on_payment_order(self):
        order = self._clinic_sell(self.package_paid)
        entitlement = order.clinic_entitlement_ids
        self._cancel(order)
        self.assertEqual(entitlement.state, "cancelled")

    def test_cancel_then_back_to_quotation_and_confirm(self):
        order = self._clinic_sell(self.package_physio8)
        first = order.clinic_entitlement_ids
        self._cancel(order)
        order.action_draft()
        order.action_confirm()
        self.assertEqual(first.state, "cancelled")
        live = order.clinic_entitlement_ids.filtered(lambda e: e.state == "active")
        self.assertEqual(len(live), 1)
        self.assertNotEqual(live, first)
