"""The front desk's calendar, as the model sees it: practitioners organize visits and are
credited, the patient and practitioner are invited, name and length are filled, only usable
packages are offered, hints say what is left after this visit, and nothing is counted
before its day. Run as the receptionist who books."""

from datetime import date, timedelta

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import Form, freeze_time
from odoo.tools import format_date

from .common import ClinicCase, attend
from .test_appointments import TODAY, at


@freeze_time(TODAY)
class TestFrontDesk(ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.tz = "UTC"
        cls.receptionist.tz = "UTC"
        cls.physio.clinic_visit_minutes = 45
        cls.fee = cls.env["product.product"].create(
            {"name": "No-show fee", "type": "service", "list_price": 50.0}
        )
        cls.env.company.clinic_no_show_product_id = cls.fee
        cls.desk = cls.env(user=cls.receptionist, context={"clinic_visit": True})

    def setUp(self):
        super().setUp()
        self.entitlement = self._clinic_sell(self.package_physio8).clinic_entitlement_ids

    def _desk_book(self, start, **values):
        return self.desk["calendar.event"].create(
            {
                "start": start,
                "clinic_patient_id": self.patient.id,
                "clinic_service_id": self.physio.id,
                **values,
            }
        )

    # ------------------------------------------------------------------ practitioners
    def test_booking_fills_name_length_attendees_and_credits_the_practitioner(self):
        visit = self._desk_book(at(3), user_id=self.practitioner.id)
        self.assertEqual(visit.name, "Maria Lopez – Physio 45 min")
        self.assertEqual(visit.stop - visit.start, timedelta(minutes=45))
        self.assertEqual(visit.partner_ids, self.patient | self.practitioner.partner_id)
        self.assertEqual(visit.clinic_usage_id.user_id, self.practitioner)
        self.assertEqual(visit.clinic_entitlement_id, self.entitlement)
        # another patient: the attendees follow, the former patient is no longer invited
        visit.with_env(self.desk).write(
            {"clinic_patient_id": self.patient_2.id, "clinic_entitlement_id": False}
        )
        self.assertEqual(visit.partner_ids, self.patient_2 | self.practitioner.partner_id)
        self.assertFalse(visit.clinic_entitlement_id)
        self.assertEqual(self.entitlement.uses_reserved, 0)

    def test_the_receptionist_is_never_the_organizer(self):
        defaults = self.desk["calendar.event"].default_get(["user_id", "partner_ids"])
        self.assertFalse(defaults["user_id"])
        with self.assertRaisesRegex(ValidationError, "has no practitioner"):
            self._desk_book(at(3))
        with self.assertRaisesRegex(ValidationError, "Front Desk is not a practitioner"):
            self._desk_book(at(3), user_id=self.receptionist.id)
        self.assertEqual(self.entitlement.uses_reserved, 0)
        self.assertFalse(
            self.env["calendar.event"].search([("clinic_patient_id", "=", self.patient.id)])
        )
        # a practitioner booking is the organizer by default
        visit = self.env(user=self.practitioner)["calendar.event"].create(
            {
                "start": at(3),
                "clinic_patient_id": self.patient.id,
                "clinic_service_id": self.physio.id,
            }
        )
        self.assertEqual(visit.user_id, self.practitioner)
        # and a plain meeting of the receptionist, in Odoo's Calendar, is none of this
        meeting = self.env(user=self.receptionist)["calendar.event"].create(
            {"name": "Team", "start": at(3), "stop": at(3, 11)}
        )
        self.assertEqual(meeting.user_id, self.receptionist)

    def test_a_practitioner_has_working_hours(self):
        self.assertTrue(self.practitioner.resource_ids)
        self.assertEqual(
            self.practitioner.resource_calendar_id, self.env.company.resource_calendar_id
        )
        with self.assertRaisesRegex(ValidationError, "only internal users"):
            self.env["res.users"].create(
                {
                    "name": "Patient Portal",
                    "login": "portal_practitioner",
                    "groups_id": [Command.set(self.env.ref("base.group_portal").ids)],
                    "clinic_practitioner": True,
                }
            )

    def test_form_fills_name_length_and_attendees(self):
        with Form(self.desk["calendar.event"]) as form:
            form.start = at(3)
            form.clinic_patient_id = self.patient
            form.clinic_service_id = self.physio
            form.user_id = self.practitioner
            self.assertEqual(form.name, "Maria Lopez – Physio 45 min")
            self.assertEqual(form.duration, 0.75)
            self.assertEqual(form.clinic_entitlement_id, self.entitlement)
            self.assertIn("7 of 8 left after this visit", form.clinic_package_info)
        visit = form.record
        self.assertEqual(visit.partner_ids, self.patient | self.practitioner.partner_id)
        self.assertEqual(visit.clinic_usage_id.state, "reserved")

    # ------------------------------------------------------------------ packages offered
    def test_only_usable_packages_are_offered(self):
        single = self._clinic_package("Single Physio", 200.0, [(self.physio, 1, 0.0)])
        used_up = self._clinic_sell(single).clinic_entitlement_ids
        booked = self._desk_book(
            at(3), user_id=self.practitioner.id, clinic_entitlement_id=used_up.id
        )
        self.assertEqual(used_up.uses_remaining, 0)
        # the visit holding the last use still offers its package; a new one does not
        self.assertIn(used_up, booked.clinic_usable_entitlement_ids)
        visit = self._desk_book(at(4), user_id=self.practitioner.id)
        self.assertEqual(visit.clinic_usable_entitlement_ids, self.entitlement)
        self.entitlement.action_pause()
        visit.invalidate_recordset(["clinic_usable_entitlement_ids"])
        self.assertEqual(visit.clinic_usable_entitlement_ids, self.entitlement)
        new = self.desk["calendar.event"].new(
            {
                "start": at(5),
                "clinic_patient_id": self.patient.id,
                "clinic_service_id": self.physio.id,
                "user_id": self.practitioner.id,
            }
        )
        self.assertFalse(new.clinic_usable_entitlement_ids)

    # ------------------------------------------------------------------ hints
    def test_hint_after_a_no_show_with_fee_and_a_late_cancellation(self):
        no_show = self._desk_book(at(2), user_id=self.practitioner.id)
        late = self._desk_book(at(2, 14), user_id=self.practitioner.id)
        self.assertIn("6 of 8 left after this visit", late.clinic_package_info)
        no_show.with_env(self.desk).action_clinic_no_show_fee()
        late.with_env(self.desk).action_clinic_late_cancel()
        name = self.entitlement.name
        self.assertEqual(
            no_show.clinic_package_info, f"{name}: not used by this visit, 8 of 8 left"
        )
        self.assertEqual(late.clinic_package_info, f"{name}: not used by this visit, 8 of 8 left")

    def test_first_visit_of_a_series_says_what_is_left_after_it(self):
        base = self._desk_book(
            at(4),
            user_id=self.practitioner.id,
            recurrency=True,
            rrule_type="weekly",
            interval=1,
            count=3,
            wed=True,
            end_type="count",
        )
        series = base.recurrence_id.calendar_event_ids.sorted("start")
        series.invalidate_recordset(["clinic_package_info"])
        self.assertEqual(
            [event.clinic_package_info.split(": ")[1] for event in series],
            ["5 of 8 left after this visit"] * 3,
        )
        self.assertEqual(self.entitlement.uses_reserved, 3)

    def test_refunded_package_hint_says_nothing_left(self):
        self.entitlement.sale_order_id._create_invoices().action_post()
        visit = self._desk_book(at(2), user_id=self.practitioner.id)
        attend(visit, "arrive")
        self.entitlement.with_user(self.manager)._clinic_refund(0.0)
        visit.invalidate_recordset(["clinic_package_info"])
        self.assertIn("nothing left", visit.clinic_package_info)

    # ------------------------------------------------------------------ not before its day
    def test_no_arrival_or_no_show_before_the_visit_day(self):
        tomorrow = self._desk_book(at(3), user_id=self.practitioner.id)
        for action in (
            "action_clinic_arrive",
            "action_clinic_no_show",
            "action_clinic_no_show_fee",
        ):
            with self.assertRaisesRegex(ValidationError, "before its day"):
                getattr(tomorrow.with_env(self.desk), action)()
        self.assertEqual(tomorrow.clinic_attendance, "upcoming")
        self.assertEqual(tomorrow.clinic_usage_id.state, "reserved")
        self.assertFalse(tomorrow.clinic_invoice_id)
        self.assertEqual(self.entitlement.uses_used, 0)
        # cancelling ahead is what front desks do
        tomorrow.with_env(self.desk).action_clinic_cancel()
        self.assertEqual(tomorrow.clinic_usage_id.state, "released")
        # today, later in the day, is fine
        today = self._desk_book(at(2, 18), user_id=self.practitioner.id)
        today.with_env(self.desk).action_clinic_arrive()
        self.assertEqual(today.clinic_usage_id.state, "consumed")
        self.assertEqual(today.clinic_usage_id.date, date(2026, 3, 2))

    def test_archiving_or_deleting_releases_the_use(self):
        archived = self._desk_book(at(3), user_id=self.practitioner.id)
        deleted = self._desk_book(at(4), user_id=self.practitioner.id)
        usage = deleted.clinic_usage_id
        self.assertEqual(self.entitlement.uses_reserved, 2)
        archived.with_env(self.desk).action_archive()
        deleted.with_env(self.desk).unlink()
        self.assertEqual(archived.clinic_usage_id.state, "released")
        self.assertEqual(usage.state, "released")
        self.assertEqual(self.entitlement.uses_reserved, 0)

    # ------------------------------------------------------------------ native screens
    def test_attendance_buttons_follow_what_can_succeed(self):
        """The buttons show only what can succeed: "No-show (use package)" for a package
        that counts no-shows, the fee's button only when a fee is set (else a plain
        "No-show" that releases the use)."""
        visit = self._desk_book(at(3), user_id=self.practitioner.id)
        self.assertRecordValues(
            visit, [{"clinic_count_no_show": True, "clinic_no_show_fee_set": True}]
        )
        self.entitlement.sudo().count_no_show = False
        self.env.company.clinic_no_show_product_id = False
        visit.invalidate_recordset()
        self.assertRecordValues(
            visit, [{"clinic_count_no_show": False, "clinic_no_show_fee_set": False}]
        )
        arch = visit.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("not clinic_count_no_show", arch)
        self.assertIn('string="No-show"', arch)

    def test_packages_are_sold_from_the_patient(self):
        """Packages have no "New": the patient's packages offer "Sell a Package", a quotation
        for that patient; the patient's form shows the Packages button even at 0."""
        Package = self.desk["clinic.entitlement"]
        for view in ("list", "kanban", "form"):
            arch = Package.get_views([(False, view)])["views"][view]["arch"]
            self.assertIn('create="0"', arch, view)
        action = self.patient_2.with_user(self.receptionist).action_view_clinic_entitlements()
        sell = Package.with_context(action["context"]).action_clinic_sell_package()
        self.assertEqual(sell["res_model"], "sale.order")
        with Form(self.desk["sale.order"].with_context(sell["context"])) as order:
            self.assertEqual(order.partner_id, self.patient_2)
        partner_arch = self.desk["res.partner"].get_views([(False, "form")])["views"]["form"][
            "arch"
        ]
        self.assertNotIn("not clinic_entitlement_count", partner_arch)

    def test_practitioner_is_chosen_with_the_patient(self):
        """On a clinic visit's form the practitioner sits with the patient and service."""
        with Form(self.desk["calendar.event"]) as form:
            form.start = at(3)
            form.clinic_patient_id = self.patient
            form.clinic_service_id = self.physio
            form.user_id = self.practitioner
        arch = self.desk["calendar.event"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('string="Practitioner"', arch)
        self.assertEqual(form.record.user_id, self.practitioner)

    def test_the_app_opens_on_the_appointments_for_the_front_desk(self):
        """Receptionists and practitioners land on the appointments; the dashboard (the
        clinic's money) is the managers' and accountants' landing screen."""
        Menu = self.env["ir.ui.menu"]
        dashboard = self.env.ref("clinic_packages.menu_clinic_dashboard")
        root = self.env.ref("clinic_packages.menu_clinic_root")
        for user, sees_dashboard in ((self.receptionist, False), (self.manager, True)):
            visible = Menu.with_user(user)._visible_menu_ids()
            self.assertEqual(dashboard.id in visible, sees_dashboard, user.login)
            first = root.child_id.filtered(lambda m, v=visible: m.id in v).sorted("sequence")[:1]
            expected = (
                dashboard if sees_dashboard else self.env.ref("clinic_packages.menu_clinic_visits")
            )
            self.assertEqual(first, expected, user.login)

    def test_the_package_picker_says_what_is_left_and_until_when(self):
        """Where a visit's package is chosen, each package says what is left of it and
        until when (Cliniko shows the count), in the user's date format."""
        arch = self.desk["calendar.event"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("clinic_show_left", arch)
        package = self.entitlement.with_user(self.receptionist)
        self.assertEqual(package.display_name, f"{package.name} - 8 Physio Sessions")
        expiry = format_date(self.env, package.date_expiry)
        self.assertEqual(
            package.with_context(clinic_show_left=True).display_name,
            f"{package.name} - 8 Physio Sessions (8 left, until {expiry})",
        )
        self._desk_book(at(3), user_id=self.practitioner.id)
        package.invalidate_recordset()
        self.assertIn("(7 left, until", package.with_context(clinic_show_left=True).display_name)
