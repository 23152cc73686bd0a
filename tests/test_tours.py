"""The front desk in a real browser: tours (clinic_packages/static/tests/tours/) run in
headless Chromium against the test server, then the database is checked.

Run with pytest-odoo's `--odoo-http` (scripts/test.sh does); without it HttpCase is skipped.
"""

import struct
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user

from .common import ClinicScreensMixin, ClinicTestMixin, attend


class ClinicTourCase(ClinicTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()
        cls.package_massage1 = cls._clinic_package(
            "Single Massage", 120.0, [(cls.massage, 1, 0.0)], clinic_validity_days=90
        )

    def _visits(self, patient):
        return self.env["calendar.event"].search([("clinic_patient_id", "=", patient.id)])


class TestFrontDeskTours(ClinicTourCase):
    def test_sell_package_and_find_it_on_the_patient(self):
        self.start_tour("/odoo", "clinic_sell_package", login=self.receptionist.login)
        order = self.env["sale.order"].search([("partner_id", "=", self.patient.id)])
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.user_id, self.receptionist)
        entitlement = order.clinic_entitlement_ids
        self.assertEqual(entitlement.product_id, self.package_physio8)
        self.assertEqual(entitlement.state, "active")
        self.assertEqual((entitlement.uses_total, entitlement.uses_remaining), (8, 8))
        self.assertEqual(entitlement.amount_total, 1600.0)

    def test_book_visit_and_arrive(self):
        entitlement = self._clinic_sell(self.package_physio8).clinic_entitlement_ids
        self.start_tour(
            "/odoo/action-clinic_packages.clinic_visit_action",
            "clinic_book_visit",
            login=self.receptionist.login,
        )
        visit = self._visits(self.patient)
        self.assertEqual(len(visit), 1)
        self.assertEqual(visit.clinic_entitlement_id, entitlement)
        self.assertEqual(visit.clinic_attendance, "arrived")
        self.assertEqual(visit.clinic_usage_id.state, "consumed")
        # the practitioner chosen is credited, not the receptionist who booked
        self.assertEqual(visit.user_id, self.practitioner)
        self.assertEqual(visit.clinic_usage_id.user_id, self.practitioner)
        self.assertEqual(
            (entitlement.uses_used, entitlement.uses_reserved, entitlement.uses_remaining),
            (1, 0, 7),
        )

    def test_booking_past_the_last_use_is_refused(self):
        entitlement = self._clinic_sell(
            self.package_massage1, partner=self.patient_2
        ).clinic_entitlement_ids
        start = datetime.now().replace(microsecond=0) + timedelta(days=2)
        booked = self._clinic_book(start, service=self.massage, patient=self.patient_2)
        self.assertEqual(booked.clinic_entitlement_id, entitlement)
        self.start_tour(
            "/odoo/action-clinic_packages.clinic_visit_action",
            "clinic_book_past_last_use",
            login=self.receptionist.login,
        )
        self.assertEqual(self._visits(self.patient_2), booked)
        self.assertEqual(
            (entitlement.uses_used, entitlement.uses_reserved, entitlement.uses_remaining),
            (0, 1, 0),
        )

    def test_refund_package_through_the_wizard(self):
        order = self._clinic_sell(self.package_physio8)
        invoice = order._create_invoices()
        invoice.action_post()
        entitlement = order.clinic_entitlement_ids
        visit = self._clinic_book(datetime.now().replace(microsecond=0) - timedelta(hours=2))
        attend(visit, "arrive")
        self.assertEqual(entitlement.uses_used, 1)
        self.start_tour(
            f"/odoo/action-clinic_packages.clinic_entitlement_action/{entitlement.id}",
            "clinic_refund_package",
            login=self.manager.login,
        )
        self.assertEqual(entitlement.state, "refunded")
        credit_note = self.env["account.move"].search(
            [("reversed_entry_id", "=", invoice.id), ("move_type", "=", "out_refund")]
        )
        self.assertEqual(credit_note.state, "posted")
        self.assertEqual(credit_note.amount_total, 1000.0)
        self.assertEqual(credit_note.partner_id, self.patient)
        self.assertEqual(invoice.amount_residual, 600.0)


class TestScreens(ClinicScreensMixin, ClinicTourCase):
    """The README's screenshots, 1366x768, taken in headless Chromium.

    They go to $CLINIC_SCREENSHOTS_DIR (relative paths from the repository root), so that
    `CLINIC_SCREENSHOTS_DIR=docs/screenshots` refreshes the README's pictures; without it to
    Odoo's screenshots folder, where a normal test run leaves the work tree untouched.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env.company.name = "Harbour Physio Clinic"
        cls.practitioner.name = "Dr. Sara Ahmed"
        cls.package_rehab.product_tmpl_id.write(
            {
                "description_sale": "6 physio sessions and 4 massages, valid one year.",
                "purchase_ok": False,
                "clinic_location_ids": [Command.set((cls.location | cls.location_2).ids)],
            }
        )
        order = env["sale.order"].create(
            {
                "partner_id": cls.patient.id,
                "order_line": [
                    Command.create({"product_id": cls.package_rehab.id}),
                    Command.create({"product_id": cls.package_physio8.id}),
                ],
            }
        )
        order.action_confirm()
        order._create_invoices().action_post()
        entitlements = order.clinic_entitlement_ids
        cls.rehab = entitlements.filtered(lambda e: e.product_id == cls.package_rehab)
        cls.physio8 = entitlements.filtered(lambda e: e.product_id == cls.package_physio8)
        today = fields.Date.context_today(env["res.users"])
        started = today - relativedelta(days=40)
        for entitlement in entitlements:
            entitlement.write(
                {
                    "date_start": started,
                    "date_expiry": entitlement._clinic_compute_expiry(started),
                }
            )
        now = datetime.now().replace(minute=0, second=0, microsecond=0)

        def visit(entitlement, days, service, arrive=True):
            start = now.replace(hour=9) + timedelta(days=days)
            event = env["calendar.event"].create(
                {
                    "name": f"{service.name} - {cls.patient.name}",
                    "start": start,
                    "stop": start + timedelta(minutes=45),
                    "user_id": cls.practitioner.id,
                    "partner_ids": [Command.set((cls.patient | cls.practitioner.partner_id).ids)],
                    "clinic_patient_id": cls.patient.id,
                    "clinic_service_id": service.id,
                    "clinic_location_id": cls.location.id,
                    "clinic_entitlement_id": entitlement.id,
                }
            )
            if arrive:
                attend(event, "arrive")
            return event

        for days in (-38, -31, -24, -17, -10):
            visit(cls.physio8, days, cls.physio)
        for days, service in ((-35, cls.physio), (-30, cls.massage), (-28, cls.physio)):
            visit(cls.rehab, days, service)
        for days, service in ((-21, cls.physio), (-14, cls.massage)):
            visit(cls.rehab, days, service)
        # the patient's insurer approved 12 physio sessions too
        cls.authorization = env["clinic.authorization"].create(
            {
                "name": "BS-2291",
                "partner_id": cls.patient.id,
                "payer_id": env["res.partner"]
                .create({"name": "Blue Shield", "is_company": True})
                .id,
                "date_start": today,
                "date_end": today + relativedelta(days=90),
                "allowed": 12,
                "service_product_ids": [Command.set(cls.physio.ids)],
            }
        )
        visit(cls.rehab, 7, cls.physio, arrive=False)
        cls.late_visit = visit(cls.physio8, 21, cls.physio, arrive=False)
        # another patient's package, used up
        used_up = env["sale.order"].create(
            {
                "partner_id": cls.patient_2.id,
                "order_line": [Command.create({"product_id": cls.package_massage1.id})],
            }
        )
        used_up.action_confirm()
        used_up._create_invoices().action_post()
        start = now.replace(hour=11) - timedelta(days=3)
        env["calendar.event"].create(
            {
                "name": "Massage",
                "start": start,
                "stop": start + timedelta(hours=1),
                "user_id": cls.practitioner.id,
                "clinic_patient_id": cls.patient_2.id,
                "clinic_service_id": cls.massage.id,
            }
        ).action_clinic_arrive()
        cls.used_up = used_up.clinic_entitlement_ids
        # the package was shortened after that visit was booked: the visit shows why it is
        # no longer covered
        cls.physio8.date_expiry = today + relativedelta(days=14)

    def test_package_search_filters(self):
        self.assertEqual(self.used_up.state, "exhausted")
        self.start_tour(
            "/odoo/action-clinic_packages.clinic_entitlement_action",
            "clinic_package_filters",
            login=self.receptionist.login,
        )

    def _screen_week(self):
        """A front desk's week: visits of two practitioners, today and the next days."""
        second = new_test_user(
            self.env,
            login="clinic_practitioner_2",
            name="Dr. Second",
            groups="clinic_packages.group_clinic_user",
            clinic_practitioner=True,
        )
        omar = self.env["res.partner"].create({"name": "Omar Haddad"})
        today = datetime.combine(fields.Date.today(), datetime.min.time())
        for days, hour, user, patient, service in (
            (0, 9, self.practitioner, self.patient_2, self.physio),
            (0, 11, second, omar, self.massage),
            (0, 14, second, omar, self.physio),
            (1, 10, self.practitioner, omar, self.physio),
            (2, 15, second, self.patient_2, self.massage),
        ):
            start = today + timedelta(days=days, hours=hour)
            self._clinic_book(
                start,
                service=service,
                patient=patient,
                user=user,
                name="",
                stop=start + timedelta(minutes=45),
            )

    def test_screens(self):
        self._screen_week()
        visits = "/odoo/action-clinic_packages.clinic_visit_action"
        packages = "/odoo/action-clinic_packages.clinic_entitlement_action"
        products = "/odoo/action-clinic_packages.clinic_package_product_action"
        front_desk = self.receptionist.login
        taken = self._take_screens(
            [
                (
                    f"{products}/{self.package_rehab.product_tmpl_id.id}",
                    "clinic_screen_product",
                    "admin",
                ),
                (f"{packages}/{self.rehab.id}", "clinic_screen_entitlement", front_desk),
                (
                    f"/odoo/res.partner/{self.patient.id}",
                    "clinic_screen_patient_packages",
                    front_desk,
                ),
                (f"{visits}/{self.late_visit.id}", "clinic_screen_appointment", front_desk),
                (visits, "clinic_screen_calendar", front_desk),
                (
                    "/odoo/action-clinic_packages.clinic_day_sheet_action",
                    "clinic_screen_day_sheet",
                    front_desk,
                ),
                (
                    "/odoo/action-clinic_packages.clinic_report_dashboard_action",
                    "clinic_screen_dashboard",
                    self.manager.login,
                ),
            ]
        )
        self.assertEqual(
            sorted(taken),
            [
                "appointment_form",
                "appointments_calendar",
                "dashboard",
                "day_sheet",
                "entitlement_form",
                "patient_packages",
                "product_package_tab",
            ],
        )
        for name, data in taken.items():
            self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n", name)
            self.assertEqual(struct.unpack(">II", data[16:24]), (1366, 768), name)
        self.assertTrue(self.late_visit.clinic_warning)
        self.assertEqual(self.late_visit.clinic_authorization_id, self.authorization)
