"""The online shop (bridge addon clinic_packages_website, with website_sale and payment_demo):
a package is published, bought and paid online; the paid transaction invoices the order,
the invoice is reconciled with the payment and the package activates on payment; then the
patient books and cancels a visit from the portal in headless Chromium.

Skipped on a database without clinic_packages_website (scripts/test.sh runs this file on a
second database that has it).
"""

import unittest
from datetime import date, datetime, timedelta

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, new_test_user

from .common import ClinicScreensMixin, ClinicTestMixin
from .test_booking_slots import hours_calendar, practitioner_works


class ShopCase(ClinicTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        modules = cls.env["ir.module.module"].search(
            [
                ("name", "in", ("clinic_packages_website", "payment_demo")),
                ("state", "=", "installed"),
            ]
        )
        if len(modules) < 2:
            raise unittest.SkipTest(
                "clinic_packages_website and payment_demo are not installed here"
            )
        cls._clinic_setup_data()
        cls.physio.product_tmpl_id.clinic_visit_minutes = 45
        # sold online, activated when paid
        cls.package_physio8.write({"clinic_activation": "on_payment", "is_published": True})
        every_day = hours_calendar(cls.env, "Every day", "UTC", range(7), ((8, 18),))
        practitioner_works(cls.practitioner, every_day, "UTC")
        cls.provider = cls.env.ref("payment.payment_provider_demo")
        cls.visitor = new_test_user(
            cls.env, login="shop_maria", groups="base.group_portal", partner_id=cls.patient.id
        )

    def _pay_online(self, order):
        """Pay `order` with the demo provider, as its payment form does: a transaction, the
        provider's notification that it is done, then Odoo's post-processing (the
        /payment/status poll)."""
        tx = self.env["payment.transaction"].create(
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.provider.payment_method_ids[:1].id,
                "amount": order.amount_total,
                "currency_id": order.currency_id.id,
                "partner_id": order.partner_id.id,
                "reference": self.env["payment.transaction"]._compute_reference(
                    "demo", sale_order_ids=[Command.set(order.ids)]
                ),
                "sale_order_ids": [Command.set(order.ids)],
                "operation": "online_direct",
            }
        )
        self.env["payment.transaction"].sudo()._handle_notification_data(
            "demo",
            {"reference": tx.reference, "simulated_state": "done", "payment_details": "4242"},
        )
        tx._post_process()
        return tx


class TestShop(ShopCase):
    def test_package_bought_online_activates_when_paid(self):
        self.env["ir.config_parameter"].set_param("sale.automatic_invoice", False)
        website = self.env["website"].get_current_website()
        order = self.env["sale.order"].create(
            {
                "partner_id": self.patient.id,
                "website_id": website.id,
                "order_line": [Command.create({"product_id": self.package_physio8.id})],
            }
        )
        tx = self._pay_online(order)
        self.assertEqual(tx.state, "done")
        self.assertEqual(order.state, "sale")
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(tx.payment_id.reconciled_invoice_ids == invoice)
        entitlement = order.clinic_entitlement_ids
        self.assertEqual(entitlement.state, "active")
        self.assertEqual(entitlement.date_start, date.today())
        self.assertEqual(entitlement.date_expiry, date.today() + timedelta(days=180))
        self.assertEqual((entitlement.uses_total, entitlement.uses_remaining), (8, 8))
        # the package's price is unearned revenue until its visits are delivered
        self.assertAlmostEqual(entitlement.deferred_balance, 1600.0)
        # no staff action: the patient books on it right away
        slots = entitlement.with_user(self.visitor).clinic_booking_slots(
            self.physio.id,
            f"{date.today() + timedelta(days=2)} 00:00:00",
            f"{date.today() + timedelta(days=3)} 00:00:00",
        )
        visit = entitlement.with_user(self.visitor).clinic_book_slot(
            self.physio.id, slots[0]["start"], self.practitioner.id, slots[0]["location_id"]
        )
        self.assertEqual(visit.sudo().clinic_usage_id.state, "reserved")

    def test_prepaid_credit_packages_are_not_sold_online(self):
        with self.assertRaisesRegex(ValidationError, "cannot be sold in the online shop"):
            self.package_rehab.write(
                {"clinic_billing_mode": "prepaid_credit", "is_published": True}
            )

    def test_book_and_cancel_tour(self):
        """Headless Chromium: the patient of a package bought and paid online books a visit
        from My Packages, sees it listed and cancels it."""
        order = self.env["sale.order"].create(
            {
                "partner_id": self.patient.id,
                "order_line": [Command.create({"product_id": self.package_physio8.id})],
            }
        )
        self._pay_online(order)
        entitlement = order.clinic_entitlement_ids
        self.assertEqual(entitlement.state, "active")
        # the first free time may be within a day: no cancellation window, an on-time cancel
        self.env.company.clinic_cancel_window_hours = 0
        self.start_tour("/my/packages", "clinic_portal_book_and_cancel", login=self.visitor.login)
        visit = self.env["calendar.event"].search([("clinic_patient_id", "=", self.patient.id)])
        self.assertEqual(len(visit), 1)
        self.assertEqual(visit.clinic_entitlement_id, entitlement)
        self.assertEqual(visit.clinic_attendance, "cancelled")
        self.assertEqual(visit.clinic_usage_id.state, "released")
        self.assertEqual(entitlement.uses_remaining, 8)

    def test_buy_package_in_shop_tour(self):
        """Headless Chromium: the logged-in patient buys the published package through the
        shop (product page, cart, billing address, Demo payment set to succeed) and reaches
        the confirmation page; the order is confirmed, invoiced and paid, and the package is
        active."""
        self.env["ir.config_parameter"].set_param("sale.automatic_invoice", False)
        self.provider.write({"state": "test", "is_published": True})
        self.provider.payment_method_ids.filtered(lambda m: m.code == "demo").active = True
        self.start_tour("/shop", "clinic_shop_buy_package", login=self.visitor.login)
        order = self.env["sale.order"].search(
            [("partner_id", "=", self.patient.id), ("website_id", "!=", False)]
        )
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.order_line.product_id, self.package_physio8)
        self.assertEqual(order.transaction_ids.state, "done")
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(self.patient.street, "Rue Haute 12")
        entitlement = order.clinic_entitlement_ids
        self.assertEqual(len(entitlement), 1)
        self.assertEqual(entitlement.partner_id, self.patient)
        self.assertEqual(entitlement.state, "active")
        self.assertEqual((entitlement.uses_total, entitlement.uses_remaining), (8, 8))


class TestShopNewPatient(ClinicScreensMixin, ShopCase):
    """Headless Chromium, no staff action: a visitor without an account buys a package in the
    shop, pays with the Demo provider, signs up, books a visit on the package from My
    Packages, sees it listed and cancels it. The tour takes the README's screenshots of the
    shop and the portal booking (to $CLINIC_SCREENSHOTS_DIR when set, as TestScreens)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env.company.name = "Harbour Physio Clinic"
        cls.practitioner.name = "Dr. Sara Ahmed"
        cls.package_physio8.write(
            {
                "description_sale": "8 physio sessions of 45 minutes, valid 6 months. "
                "Book them yourself online.",
                "description_ecommerce": "<p>Eight 45-minute physiotherapy sessions, valid six "
                "months. Once paid, book each visit yourself from <b>My Packages</b>.</p>",
                "clinic_location_ids": [Command.set(cls.location.ids)],
            }
        )
        # Odoo's defaults, stated: guests may check out, anyone may sign up (b2c)
        cls.website = env["website"].get_current_website()
        cls.website.write({"account_on_checkout": "optional", "auth_signup_uninvited": "b2c"})
        env["ir.config_parameter"].set_param("sale.automatic_invoice", False)
        cls.provider.write({"state": "test", "is_published": True})
        cls.provider.payment_method_ids.filtered(lambda m: m.code == "demo").active = True
        # the clinic's cancellation window: the tour books a time more than a day ahead
        env.company.clinic_cancel_window_hours = 24

    def start_tour(self, url_path, tour_name, step_delay=None, **kwargs):
        # a long tour (the shop, the payment, the signup, the portal): more than the
        # default minute on a loaded machine
        kwargs.setdefault("timeout", 300)
        return super().start_tour(url_path, tour_name, step_delay=step_delay, **kwargs)

    def test_new_visitor_from_shop_to_booked_visit(self):
        Users = self.env["res.users"].with_context(active_test=False)
        users_before = Users.search([]).ids
        taken = self._take_screens([("/shop", "clinic_shop_new_patient", None)])
        self.assertEqual(
            sorted(taken),
            [
                "portal_book_confirm",
                "portal_book_slots",
                "portal_my_packages",
                "portal_visit_booked",
                "shop_cart",
                "shop_product",
            ],
        )
        # a new portal user, for the customer of the order
        user = Users.search([("id", "not in", users_before)])
        self.assertEqual(len(user), 1)
        self.assertEqual(user.login, "lena.novak@example.com")
        self.assertTrue(user._is_portal())
        patient = user.partner_id
        self.assertEqual((patient.name, patient.email), ("Lena Novak", "lena.novak@example.com"))
        self.assertEqual((patient.street, patient.city), ("Rue Haute 12", "Brussels"))
        # the order: confirmed, invoiced, paid by the Demo provider
        order = self.env["sale.order"].search([("partner_id", "=", patient.id)])
        self.assertEqual(len(order), 1)
        self.assertEqual(order.website_id, self.website)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.order_line.product_id, self.package_physio8)
        self.assertEqual(order.transaction_ids.provider_id, self.provider)
        self.assertEqual(order.transaction_ids.state, "done")
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.partner_id, patient)
        self.assertAlmostEqual(invoice.amount_total, 1600.0)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(order.transaction_ids.payment_id.reconciled_invoice_ids, invoice)
        # the package: the patient's, active since the payment, one use reserved then given
        # back
        entitlement = order.clinic_entitlement_ids
        self.assertEqual(len(entitlement), 1)
        self.assertEqual(entitlement.partner_id, patient)
        self.assertEqual(entitlement.state, "active")
        self.assertEqual(entitlement.date_start, date.today())
        self.assertEqual((entitlement.uses_total, entitlement.uses_remaining), (8, 8))
        self.assertAlmostEqual(entitlement.deferred_balance, 1600.0)
        # the visit: booked by the patient on the practitioner's calendar, cancelled on time
        visit = (
            self.env["calendar.event"]
            .with_context(active_test=False)
            .search([("clinic_patient_id", "=", patient.id)])
        )
        self.assertEqual(len(visit), 1)
        self.assertEqual(visit.create_uid, user)
        self.assertEqual(visit.user_id, self.practitioner)
        self.assertIn(self.practitioner.partner_id, visit.partner_ids)
        self.assertIn(patient, visit.partner_ids)
        self.assertEqual(visit.clinic_service_id, self.physio)
        self.assertEqual(visit.clinic_location_id, self.location)
        self.assertEqual(visit.clinic_entitlement_id, entitlement)
        self.assertGreater(visit.start, datetime.now() + timedelta(hours=24))
        self.assertEqual(visit.stop - visit.start, timedelta(minutes=45))
        self.assertEqual(visit.clinic_attendance, "cancelled")
        usage = visit.clinic_usage_id
        self.assertEqual(usage.entitlement_id, entitlement)
        self.assertEqual((usage.state, usage.reason), ("released", "cancelled"))
        self.assertEqual(usage.create_uid, user)
        # nobody of the clinic did anything: the visitor (the website's public user), then the
        # patient; Odoo itself created the cart (website_sale creates carts as the superuser)
        records = [order, invoice, entitlement, visit, usage]
        doers = self.env["res.users"].union(
            *(record.create_uid | record.write_uid for record in records)
        )
        staff = (
            self.manager | self.receptionist | self.practitioner | self.env.ref("base.user_admin")
        )
        self.assertFalse(doers & staff)
        self.assertEqual(
            doers - self.env.ref("base.user_root"),
            self.website.user_id | user,
            [(r._name, r.create_uid.login, r.write_uid.login) for r in records],
        )
