"""Insurance authorizations: statuses, counting, frequency limits, booking, reminders,
companies, concurrency on the last unit, and the cost of the look-up."""

from contextlib import contextmanager
from datetime import date, datetime, timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, freeze_time, new_test_user

from .common import ClinicCase, ClinicConcurrencyCase, attend

TODAY = "2026-03-02"  # a Monday


def at(month, day, hour=10, minute=0):
    """2026-<month>-<day> at <hour>:<minute> UTC."""
    return datetime(2026, month, day, hour, minute)


class AuthorizationCase(ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.tz = "UTC"
        # these tests switch "count kept and upcoming" on where they need it (the default
        # of new companies, tested below)
        cls.env.company.clinic_count_upcoming = False
        cls.payer = cls.env["res.partner"].create({"name": "Acme Health", "is_company": True})
        cls.payer_2 = cls.env["res.partner"].create({"name": "Beta Mutual", "is_company": True})
        # a units service: 4 units per visit, whatever its length
        cls.therapy = cls.env["product.product"].create(
            {"name": "Therapy", "default_code": "97530", "type": "service", "clinic_units": 4}
        )
        # a timed service: 1 unit per 15 minutes
        cls.timed = cls.env["product.product"].create(
            {"name": "Timed Therapy", "type": "service", "clinic_unit_minutes": 15}
        )

    def _authorize(self, **values):
        vals = {
            "name": "AUTH-1",
            "partner_id": self.patient.id,
            "payer_id": self.payer.id,
            "date_start": date(2026, 3, 1),
            "date_end": date(2026, 5, 31),
            "allowed": 10,
            **values,
        }
        return self.env["clinic.authorization"].create(vals)

    def _book(self, start, minutes=45, **values):
        return self._clinic_book(start, stop=start + timedelta(minutes=minutes), **values)

    @contextmanager
    def _refused(self, pattern, exception=UserError):
        """Expect `exception` with a message matching `pattern`; what the refused operation
        wrote is rolled back (a savepoint, as in a request)."""
        with self.assertRaises(exception) as capture:
            yield
        self.assertRegex(capture.exception.args[0], pattern)

    def _count_upcoming(self, value=True):
        self.env.company.clinic_count_upcoming = value

    def _block(self, value=True):
        self.env.company.clinic_block_unauthorized = value


@freeze_time(TODAY)
class TestAuthorizationStatus(AuthorizationCase):
    def test_end_date_or_amount_required(self):
        with self._refused(
            exception=ValidationError, pattern="AUTH-1 needs an end date or a number"
        ):
            self._authorize(date_end=False, allowed=0)
        self.assertEqual(self._authorize(date_end=False, allowed=8).state, "active")
        # an end date alone: no limit on the number (DrChrono)
        open_ended = self._authorize(name="AUTH-2", allowed=0)
        self.assertEqual((open_ended.state, open_ended.remaining), ("active", 0))
        with self._refused(
            exception=ValidationError, pattern="cannot end on 02/01/2026, before it starts"
        ):
            self._authorize(name="AUTH-3", date_end=date(2026, 2, 1))
        with self._refused(
            exception=ValidationError, pattern="how many units are allowed per week"
        ):
            self._authorize(name="AUTH-4", auth_type="units", frequency="week")

    def test_statuses_over_time(self):
        authorization = self._authorize(date_end=date(2026, 3, 31), allowed=2)
        self.assertEqual(authorization.state, "active")
        authorization.pending = True
        self.assertEqual(authorization.state, "pending")
        authorization.pending = False
        self.payer.action_archive()
        self.assertEqual(authorization.state, "inactive")
        self.payer.action_unarchive()
        self.assertEqual(authorization.state, "active")
        authorization.inactive = True
        self.assertEqual(authorization.state, "inactive")
        authorization.inactive = False
        for day in (3, 4):
            attend(self._book(at(3, day)), "arrive")
        self.assertEqual(
            (authorization.used, authorization.remaining, authorization.state),
            (2, 0, "exhausted"),
        )
        self.assertEqual(authorization.utilization, 100.0)
        authorization.allowed = 4
        self.assertEqual(authorization.state, "active")
        # the day after the end date, the daily job expires it
        with freeze_time("2026-04-01"):
            self.env["clinic.authorization"]._cron_reminders()
            self.assertEqual(authorization.state, "expired")
            late = self._book(at(4, 2))
            self.assertFalse(late.clinic_authorization_id)
            self.assertIn("AUTH-1 expired on 03/31/2026, before this visit on", late.clinic_warning)
            # extending the end date brings it back
            authorization.date_end = date(2026, 4, 30)
            self.assertEqual(authorization.state, "active")

    def test_visits_counted_kept_and_upcoming(self):
        authorization = self._authorize(allowed=3)
        event = self._book(at(3, 3))
        self.assertEqual(event.clinic_authorization_id, authorization)
        self.assertFalse(event.clinic_warning)
        self.assertEqual((authorization.used, authorization.scheduled), (0, 1))
        self.assertEqual(authorization.remaining, 3)  # kept only, by default
        attend(event, "arrive")
        self.assertEqual((authorization.used, authorization.scheduled), (1, 0))
        self.assertEqual(authorization.remaining, 2)
        self.assertAlmostEqual(authorization.utilization, 33.3, places=1)
        # no-shows and cancellations are never billed to a payer: they do not count
        attend(self._book(at(3, 4)), "no_show", cover=False)
        self._book(at(3, 5)).action_clinic_cancel()
        self._book(at(3, 6)).action_clinic_cancel(late=True)
        archived = self._book(at(3, 9))
        archived.active = False
        self.assertEqual((authorization.used, authorization.scheduled), (1, 0))
        # undoing the arrival makes it upcoming again
        event.action_clinic_reset()
        self.assertEqual((authorization.used, authorization.scheduled), (0, 1))

    def test_kept_or_kept_and_upcoming_decides_exhaustion(self):
        authorization = self._authorize(allowed=2)
        first, second = self._book(at(3, 3)), self._book(at(3, 4))
        self.assertEqual((authorization.state, authorization.remaining), ("active", 2))
        third = self._book(at(3, 5))
        self.assertEqual(third.clinic_authorization_id, authorization)
        self.assertFalse(third.clinic_warning, "upcoming visits do not count by default")
        third.unlink()
        # the company setting switches what exhausts: every authorization is recomputed
        settings = self.env["res.config.settings"].create({"clinic_count_upcoming": True})
        settings.execute()
        self.assertTrue(self.env.company.clinic_count_upcoming)
        self.assertEqual((authorization.state, authorization.remaining), ("exhausted", 0))
        third = self._book(at(3, 5))
        self.assertFalse(third.clinic_authorization_id)
        self.assertIn(
            "AUTH-1 is exhausted: 2 of 2 sessions are already kept or booked",
            third.clinic_warning,
        )
        (first | second).invalidate_recordset(["clinic_warning"])
        self.assertFalse(first.clinic_warning or second.clinic_warning)
        third.unlink()
        self._count_upcoming(False)
        self.assertEqual((authorization.state, authorization.remaining), ("active", 2))
        attend(first, "arrive")
        attend(second, "arrive")
        self.assertEqual((authorization.state, authorization.remaining), ("exhausted", 0))
        fourth = self._book(at(3, 6))
        self.assertIn("2 of 2 sessions are already kept", fourth.clinic_warning)

    def test_units_from_service_and_duration(self):
        fixed = self._authorize(auth_type="units", allowed=100)
        event = self._book(at(3, 3), service=self.therapy)
        self.assertEqual((event.clinic_units, fixed.scheduled), (4, 4))
        attend(event, "arrive")
        self.assertEqual((fixed.used, fixed.remaining), (4, 96))
        # 15 minutes per unit: rounded to the nearest unit, halves up, never 0
        cases = [(45, 3), (50, 3), (60, 4), (22, 1), (23, 2), (5, 1), (8, 1)]
        expected = 0
        for day, (minutes, units) in enumerate(cases, start=4):
            with self.subTest(minutes=minutes):
                visit = self._book(at(3, day), minutes=minutes, service=self.timed)
                self.assertEqual(visit.clinic_units, units)
                expected += units
        self.assertEqual(fixed.scheduled, expected)
        # an exact half rounds up: 15 minutes at 10 minutes per unit is 2 units
        self.timed.clinic_unit_minutes = 10
        self.assertEqual(self._book(at(3, 20), minutes=15, service=self.timed).clinic_units, 2)
        # a longer visit takes more units
        visit.stop = visit.start + timedelta(minutes=90)
        self.assertEqual(visit.clinic_units, 9)
        # sessions count 1 per visit, whatever the units
        sessions = self._authorize(name="AUTH-S", service_product_ids=[Command.set(self.timed.ids)])
        self._book(at(3, 25), minutes=60, service=self.timed, clinic_authorization_id=sessions.id)
        self.assertEqual(sessions.scheduled, 1)

    def test_partner_tab_and_smart_button(self):
        authorization = self._authorize()
        self._authorize(name="AUTH-OTHER", partner_id=self.patient_2.id)
        self.assertEqual(self.patient.clinic_authorization_ids, authorization)
        self.assertEqual(self.patient.clinic_authorization_count, 1)
        action = self.patient.action_view_clinic_authorizations()
        self.assertEqual(self.env["clinic.authorization"].search(action["domain"]), authorization)
        self.assertEqual(action["context"]["default_partner_id"], self.patient.id)
        self.assertEqual(authorization.display_name, "AUTH-1 (Acme Health)")
        # the patient form creates authorizations on its tab
        with Form(self.patient_2) as form, form.clinic_authorization_ids.new() as line:
            line.name = "TAB-1"
            line.date_end = date(2026, 6, 30)
            line.allowed = 12
        self.assertEqual(self.patient_2.clinic_authorization_ids[:1].name, "TAB-1")

    def test_deleting_a_counted_authorization_is_refused(self):
        authorization = self._authorize()
        self._book(at(3, 3))
        with self._refused("AUTH-1 cannot be deleted.*Mark it inactive"):
            authorization.unlink()
        self._authorize(name="AUTH-EMPTY", service_product_ids=[Command.set(self.massage.ids)])
        self.env["clinic.authorization"].search([("name", "=", "AUTH-EMPTY")]).unlink()

    def test_access_rights(self):
        authorization = self._authorize()
        desk = self.env["clinic.authorization"].with_user(self.receptionist)
        created = desk.create(
            {"name": "DESK-1", "partner_id": self.patient.id, "date_end": date(2026, 4, 30)}
        )
        created.allowed = 3
        with self.assertRaises(AccessError):
            created.unlink()
        outsider = new_test_user(self.env, login="outsider", groups="base.group_user")
        with self.assertRaises(AccessError):
            authorization.with_user(outsider).read(["name"])


@freeze_time(TODAY)
class TestAuthorizationBooking(AuthorizationCase):
    def test_onchange_picks_and_warns(self):
        authorization = self._authorize(allowed=1)
        attend(self._book(at(3, 3)), "arrive")
        with Form(self.env["calendar.event"]) as form:
            form.name = "Visit"
            form.start = at(3, 4)
            form.stop = at(3, 4, 11)
            form.clinic_patient_id = self.patient
            form.clinic_service_id = self.physio
            form.user_id = self.practitioner
            self.assertFalse(form.clinic_authorization_id)
            self.assertIn(
                "AUTH-1 is exhausted: 1 of 1 sessions are already kept", form.clinic_warning
            )
            authorization.allowed = 5
            form.clinic_service_id = self.massage
            form.clinic_service_id = self.physio
            self.assertEqual(form.clinic_authorization_id, authorization)
            self.assertFalse(form.clinic_warning)
            # before saving, the visit being booked is counted too: 5 - 1 kept - 1
            self.assertEqual(
                form.clinic_authorization_info, "AUTH-1: 3 of 5 sessions left after this visit"
            )

    def test_pending_never_applied(self):
        pending = self._authorize(pending=True)
        event = self._book(at(3, 3))
        self.assertFalse(event.clinic_authorization_id)
        self.assertIn("This visit has no authorization.", event.clinic_warning)
        self.assertIn("AUTH-1 is pending: it is not applied to visits", event.clinic_warning)
        # chosen by hand, it is still not applied
        event.clinic_authorization_id = pending
        self.assertIn("AUTH-1 is pending", event.clinic_warning)
        self._block()
        with self._refused("cannot be booked: Authorization AUTH-1 is pending"):
            self._book(at(3, 4), clinic_authorization_id=pending.id)
        pending.pending = False
        self.assertEqual(self._book(at(3, 5)).clinic_authorization_id, pending)

    def test_service_and_dates_must_match(self):
        authorization = self._authorize(service_product_ids=[Command.set(self.physio.ids)])
        massage = self._book(at(3, 3), service=self.massage)
        self.assertFalse(massage.clinic_authorization_id)
        self.assertIn(
            "AUTH-1 does not cover [97124] Massage 60 min (it covers [97110] Physio",
            massage.clinic_warning,
        )
        before = self._book(datetime(2026, 2, 27, 10, 0))
        self.assertFalse(before.clinic_authorization_id)
        before.clinic_authorization_id = authorization
        self.assertIn(
            "AUTH-1 starts on 03/01/2026, after this visit on 02/27/2026", before.clinic_warning
        )
        # a visit that an applicable authorization could cover, left without it
        without = self._book(at(3, 4), clinic_authorization_id=False)
        self.assertIn("AUTH-1 covers it: choose it on the visit", without.clinic_warning)
        # a new patient picks the new patient's authorization
        booked = self._book(at(3, 5))
        other = self._authorize(name="AUTH-JC", partner_id=self.patient_2.id)
        booked.clinic_patient_id = self.patient_2
        self.assertEqual(booked.clinic_authorization_id, other)
        # rescheduling keeps the authorization and says when it no longer applies
        booked.write({"start": at(6, 2), "stop": at(6, 2, 11)})
        self.assertEqual(booked.clinic_authorization_id, other)
        self.assertIn(
            "AUTH-JC ends on 05/31/2026, before this visit on 06/02/2026", booked.clinic_warning
        )

    def test_no_authorization_on_file(self):
        event = self._book(at(3, 3))
        self.assertFalse(event.clinic_authorization_id)
        self.assertFalse(event.clinic_warning, "a patient without authorization pays for the visit")
        self._block()
        event.invalidate_recordset(["clinic_warning"])
        self.assertIn("Maria Lopez has no insurance authorization on file", event.clinic_warning)
        with self._refused("Maria Lopez has no insurance authorization"):
            self._book(at(3, 4))
        # a visit that a package pays needs no authorization
        self._clinic_sell(self.package_physio8)
        paid = self._book(at(3, 5))
        self.assertTrue(paid.clinic_entitlement_id)
        self.assertFalse(paid.clinic_warning)

    def test_primary_before_secondary(self):
        secondary = self._authorize(name="SEC", priority="secondary", payer_id=self.payer_2.id)
        primary = self._authorize(
            name="PRI",
            allowed=2,
            frequency="week",
            frequency_limit=1,
            date_end=date(2026, 12, 31),
        )
        self._count_upcoming()
        self.assertEqual(self._book(at(3, 3)).clinic_authorization_id, primary)
        # the primary has no room left this week: the secondary takes the visit
        self.assertEqual(self._book(at(3, 4)).clinic_authorization_id, secondary)
        self.assertEqual(self._book(at(3, 10)).clinic_authorization_id, primary)
        self.assertEqual(primary.state, "exhausted")
        self.assertEqual(self._book(at(3, 17)).clinic_authorization_id, secondary)
        # both used up: none applies, and the visit says why
        secondary.allowed = 2
        self.assertEqual(secondary.state, "exhausted")
        last = self._book(at(3, 24))
        self.assertFalse(last.clinic_authorization_id)
        self.assertIn("PRI is exhausted", last.clinic_warning)
        self.assertIn("SEC is exhausted", last.clinic_warning)

    def test_secondary_not_preferred_when_it_does_not_cover_the_service(self):
        self._authorize(
            name="SEC", priority="secondary", service_product_ids=[Command.set(self.massage.ids)]
        )
        primary = self._authorize(name="PRI", frequency="day", frequency_limit=1)
        self._count_upcoming()
        self._book(at(3, 3))
        again = self._book(at(3, 3, 14))
        self.assertEqual(again.clinic_authorization_id, primary)
        self.assertIn(
            "PRI allows 1 sessions per day: 1 are already kept or booked on 2026-03-03",
            again.clinic_warning,
        )

    def test_week_window_is_monday_to_sunday(self):
        authorization = self._authorize(frequency="week", frequency_limit=2)
        self._count_upcoming()
        saturday, sunday = self._book(at(3, 7)), self._book(at(3, 8))
        self.assertFalse(saturday.clinic_warning or sunday.clinic_warning)
        friday = self._book(at(3, 6))
        self.assertEqual(friday.clinic_authorization_id, authorization)
        self.assertIn(
            "AUTH-1 allows 2 sessions per week: 2 are already kept or booked in the week of "
            "2026-03-02 to 2026-03-08 and this visit needs 1. Book it in another week",
            friday.clinic_warning,
        )
        # the later booking is the one over the limit, not the earlier ones
        (saturday | sunday).invalidate_recordset(["clinic_warning"])
        self.assertFalse(saturday.clinic_warning or sunday.clinic_warning)
        self.assertFalse(self._book(at(3, 9)).clinic_warning, "Monday starts a new week")
        friday.unlink()
        # a window is a schedule: even when only kept visits exhaust the authorization,
        # the visits booked in the week fill it
        self._count_upcoming(False)
        self.assertIn(
            "2 are already kept or booked in the week", self._book(at(3, 6)).clinic_warning
        )

    def test_window_counts_booked_visits_by_default(self):
        """TheraNest's over-scheduling case: three 4-unit visits booked in a month that
        allows 8 units warn at the third booking, before any is kept; under the block the
        third is refused."""
        self.env.company.clinic_count_upcoming = True
        authorization = self._authorize(
            auth_type="units", allowed=40, frequency="month", frequency_limit=8
        )
        first = self._book(at(3, 10), service=self.therapy)
        second = self._book(at(3, 17), service=self.therapy)
        self.assertFalse(first.clinic_warning or second.clinic_warning)
        third = self._book(at(3, 24), service=self.therapy)
        self.assertEqual(third.clinic_authorization_id, authorization)
        self.assertIn(
            "AUTH-1 allows 8 units per month: 8 are already kept or booked in March 2026",
            third.clinic_warning,
        )
        third.unlink()
        self._block()
        with self._refused("allows 8 units per month"):
            self._book(at(3, 24), service=self.therapy)
        self.assertEqual(authorization.scheduled, 8)

    def test_new_company_counts_kept_and_upcoming(self):
        company = self.env["res.company"].create({"name": "New Clinic"})
        self.assertTrue(company.clinic_count_upcoming)

    def test_week_window_in_the_users_timezone(self):
        self.env.user.tz = "America/New_York"
        self._authorize(frequency="week", frequency_limit=1)
        self._count_upcoming()
        # Monday 9 March 02:00 UTC is still Sunday 8 March in New York
        sunday_evening = self._book(datetime(2026, 3, 9, 2, 0))
        self.assertFalse(sunday_evening.clinic_warning)
        self.assertIn("in the week of 2026-03-02", self._book(at(3, 4)).clinic_warning)
        self.assertFalse(self._book(at(3, 10)).clinic_warning)

    def test_month_window(self):
        self._authorize(frequency="month", frequency_limit=2)
        self._count_upcoming()
        self._book(at(3, 30))
        self._book(at(3, 31))
        self.assertFalse(self._book(at(4, 1)).clinic_warning)
        self.assertIn(
            "2 are already kept or booked in March 2026", self._book(at(3, 2)).clinic_warning
        )

    def test_allday_visits_count_on_their_date(self):
        self._authorize(frequency="day", frequency_limit=1)
        self._count_upcoming()
        self._book(at(3, 3), allday=True, start_date=date(2026, 3, 3), stop_date=date(2026, 3, 3))
        self.assertIn("on 2026-03-03", self._book(at(3, 3, 15)).clinic_warning)
        self.assertFalse(self._book(at(3, 4)).clinic_warning)

    def test_theranest_scenario(self):
        """20 units a month, 4 units a visit: the 6th visit of March is over the monthly
        limit, April has room again, and the authorization expires after its end date."""
        authorization = self._authorize(
            name="TN-20",
            auth_type="units",
            allowed=60,
            frequency="month",
            frequency_limit=20,
            service_product_ids=[Command.set(self.therapy.ids)],
        )
        visits = [self._book(at(3, day), service=self.therapy) for day in (3, 5, 10, 12, 17)]
        self.assertEqual(visits[0].clinic_units, 4)
        for visit in visits:
            self.assertEqual(visit.clinic_authorization_id, authorization)
            self.assertFalse(visit.clinic_warning)
            attend(visit, "arrive")
        self.assertEqual((authorization.used, authorization.remaining), (20, 40))
        self.assertAlmostEqual(authorization.utilization, 33.3, places=1)
        self.assertEqual(
            visits[-1].clinic_authorization_info, "TN-20: 40 of 60 units left after this visit"
        )
        sixth = self._book(at(3, 19), service=self.therapy)
        self.assertEqual(sixth.clinic_authorization_id, authorization)
        # a booked visit counts once: 60 - 20 kept - 4 booked
        self.assertEqual(
            sixth.clinic_authorization_info, "TN-20: 36 of 60 units left after this visit"
        )
        self.assertEqual(
            sixth.clinic_warning,
            "Authorization TN-20 allows 20 units per month: 20 are already kept or booked in "
            "March 2026 and this visit needs 4. Book it in another month, or bill the patient.",
        )
        sixth.unlink()
        april = self._book(at(4, 2), service=self.therapy)
        self.assertEqual(april.clinic_authorization_id, authorization)
        self.assertFalse(april.clinic_warning)
        # under the block setting, the 6th visit of March is refused, naming the limit
        self._block()
        with self._refused("allows 20 units per month: 20 are already kept"):
            self._book(at(3, 19), service=self.therapy)
        # moving an April visit into the full month is refused too
        with self._refused("in March 2026"):
            april.write({"start": at(3, 24), "stop": at(3, 24, 11)})
        self._block(False)
        with freeze_time("2026-06-01"):
            self.env["clinic.authorization"]._cron_reminders()
            self.assertEqual(authorization.state, "expired")
            june = self._book(at(6, 2), service=self.therapy)
            self.assertFalse(june.clinic_authorization_id)
            self.assertIn("TN-20 expired on 05/31/2026", june.clinic_warning)

    def test_block_setting_refuses_what_it_warns(self):
        self.assertIn("clinic_block_unauthorized", self.env["res.config.settings"]._fields)
        self.env["res.config.settings"].create({"clinic_block_unauthorized": True}).execute()
        self.assertTrue(self.env.company.clinic_block_unauthorized)
        authorization = self._authorize(allowed=1)
        self._count_upcoming()
        self._book(at(3, 3))
        with self._refused(
            r"Visit on 2026-03-04 cannot be booked: This visit has no authorization\. "
            r"Authorization AUTH-1 is exhausted: 1 of 1 sessions are already kept or booked",
        ):
            self._book(at(3, 4))
        with self._refused("AUTH-1 is exhausted"):
            self._book(at(3, 4), clinic_authorization_id=authorization.id)
        self.assertEqual(authorization.scheduled, 1)
        # a series beyond what is left is refused as a whole
        authorization.allowed = 3
        with self._refused("on 2026-03-18 cannot be booked"):
            self._book(
                at(3, 4),
                recurrency=True,
                rrule_type="weekly",
                interval=1,
                count=3,
                end_type="count",
                tue=False,
                wed=True,
            )
        self.assertEqual(authorization.scheduled, 1)


@freeze_time(TODAY)
class TestAuthorizationReminders(AuthorizationCase):
    def _reminders(self, authorization):
        return self.env["mail.activity"].search(
            [("res_model", "=", "clinic.authorization"), ("res_id", "=", authorization.id)],
            order="id",
        )

    def test_reminders_sent_once_per_threshold(self):
        self.patient.user_id = self.receptionist
        authorization = self._authorize(allowed=5, date_end=date(2026, 4, 30))
        cron = self.env["clinic.authorization"]._cron_reminders
        cron()
        self.assertFalse(self._reminders(authorization), "59 days and 5 left: nothing due")
        for day in (3, 4, 5):
            attend(self._book(at(3, day)), "arrive")
        self.assertEqual(authorization.remaining, 2)
        cron()
        cron()
        reminders = self._reminders(authorization)
        self.assertEqual(len(reminders), 1)
        self.assertEqual(reminders.user_id, self.receptionist)
        self.assertEqual(reminders.summary, "Authorization AUTH-1 is running out")
        self.assertIn("has 2 of 5 sessions left", str(reminders.note))
        with freeze_time("2026-04-01"):
            cron()
            cron()
            reminders = self._reminders(authorization)
            self.assertEqual(len(reminders), 2)
            self.assertIn("ends on 04/30/2026, in 29 day(s)", str(reminders[1].note))
        with freeze_time("2026-04-25"):
            cron()
            self.assertEqual(len(self._reminders(authorization)), 3)
            cron()
            self.assertEqual(len(self._reminders(authorization)), 3)
        self.assertEqual(authorization.reminders_sent, "days:30,days:7,left:2")
        # more sessions approved, then used: the threshold is reminded again
        authorization.allowed = 8
        self.assertEqual(authorization.reminders_sent, "days:30,days:7")
        with freeze_time("2026-04-26"):
            cron()
            self.assertEqual(len(self._reminders(authorization)), 3)
            for day in (20, 21, 22):
                attend(self._book(at(4, day)), "arrive")
            cron()
            self.assertEqual(len(self._reminders(authorization)), 4)

    def test_reminder_goes_to_creator_without_responsible_user(self):
        authorization = (
            self.env["clinic.authorization"]
            .with_user(self.receptionist)
            .create(
                {
                    "name": "AUTH-R",
                    "partner_id": self.patient.id,
                    "date_end": date(2026, 3, 6),
                }
            )
        )
        self.env["clinic.authorization"]._cron_reminders()
        reminder = self._reminders(authorization)
        self.assertEqual(reminder.user_id, self.receptionist)
        self.assertEqual(reminder.summary, "Authorization AUTH-R ends soon")
        self.assertEqual(authorization.reminders_sent, "days:30,days:7")

    def test_switching_to_kept_and_upcoming_can_trigger_a_reminder(self):
        authorization = self._authorize(allowed=4, date_end=False)
        for day in (3, 4):
            self._book(at(3, day))
        cron = self.env["clinic.authorization"]._cron_reminders
        cron()
        self.assertFalse(self._reminders(authorization))
        self._count_upcoming()
        cron()
        self.assertEqual(len(self._reminders(authorization)), 1)


@freeze_time(TODAY)
class TestAuthorizationCompanies(AuthorizationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b, cls.user_b = cls._clinic_other_company("clinic_auth_user_b")

    def test_each_company_sees_and_uses_its_own(self):
        auth_a = self._authorize(name="A-1")
        auth_b = self._authorize(name="B-1", company_id=self.company_b.id, allowed=1)
        self.assertEqual(auth_b.company_id, self.company_b)
        Authorization = self.env["clinic.authorization"]
        self.assertEqual(
            Authorization.with_user(self.user_b).search([("partner_id", "=", self.patient.id)]),
            auth_b,
        )
        self.assertEqual(
            Authorization.with_user(self.receptionist).search(
                [("partner_id", "=", self.patient.id)]
            ),
            auth_a,
        )
        with self.assertRaises(AccessError):
            auth_a.with_user(self.user_b).read(["name"])
        # booking in a company picks that company's authorization only
        event_a = self._book(at(3, 3))
        self.assertEqual(event_a.clinic_authorization_id, auth_a)
        self.user_b.clinic_practitioner = True  # books their own visit
        env_b = self.env(user=self.user_b)
        event_b = env_b["calendar.event"].create(
            {
                "name": "Visit B",
                "start": at(3, 4),
                "stop": at(3, 4, 11),
                "clinic_patient_id": self.patient.id,
                "clinic_service_id": self.physio.id,
                "partner_ids": [Command.clear()],
            }
        )
        self.assertEqual(event_b.clinic_authorization_id.id, auth_b.id)
        self.assertEqual((auth_a.scheduled, auth_b.scheduled), (1, 1))
        # each company's setting decides: B counts upcoming visits, A does not
        self.company_b.clinic_count_upcoming = True
        self.assertEqual((auth_a.state, auth_b.state), ("active", "exhausted"))
        # and its own reminder threshold
        self.company_b.clinic_alert_remaining = 0
        self.env.company.clinic_alert_days = ""
        self.company_b.clinic_alert_days = ""
        Authorization._cron_reminders()
        activities = self.env["mail.activity"].search(
            [("res_model", "=", "clinic.authorization"), ("res_id", "in", (auth_a | auth_b).ids)]
        )
        self.assertEqual(activities.mapped("res_id"), auth_b.ids)

    def test_authorization_of_another_company_is_refused_on_the_patient(self):
        patient_b = self.env["res.partner"].create(
            {"name": "Patient of B", "company_id": self.company_b.id}
        )
        with self.assertRaises(UserError):
            self._authorize(partner_id=patient_b.id)


class TestAuthorizationConcurrency(ClinicConcurrencyCase):
    """Two front desks book the last session of an authorization at the same moment, each
    in its own transaction, under the block setting: exactly one gets it."""

    VISIT = datetime(2030, 1, 7, 10, 0)

    def _make_data(self, env):
        company = env.company
        saved = {
            "company": company.id,
            "clinic_block_unauthorized": company.clinic_block_unauthorized,
            "clinic_count_upcoming": company.clinic_count_upcoming,
        }
        company.write({"clinic_block_unauthorized": True, "clinic_count_upcoming": True})
        service = env["product.product"].create({"name": "Race Therapy", "type": "service"})
        patient = env["res.partner"].create({"name": "Race Insured Patient"})
        authorization = env["clinic.authorization"].create(
            {
                "name": "RACE-1",
                "partner_id": patient.id,
                "date_start": date(2030, 1, 1),
                "date_end": date(2030, 12, 31),
                "allowed": 1,
            }
        )
        return dict(saved, service=service.id, patient=patient.id, authorization=authorization.id)

    def _drop_data(self, env, ids):
        env["calendar.event"].search([("clinic_patient_id", "=", ids["patient"])]).unlink()
        env["clinic.authorization"].browse(ids["authorization"]).unlink()
        env["product.product"].browse(ids["service"]).action_archive()
        env["res.partner"].browse(ids["patient"]).action_archive()
        env["res.company"].browse(ids["company"]).write(
            {
                "clinic_block_unauthorized": ids["clinic_block_unauthorized"],
                "clinic_count_upcoming": ids["clinic_count_upcoming"],
            }
        )

    def test_last_session_booked_twice_at_once(self):
        ids = self._committed(self._make_data)
        self.addCleanup(self._committed, lambda env: self._drop_data(env, ids))
        outcome = self._two_desks_book(
            {
                "start": self.VISIT,
                "stop": self.VISIT + timedelta(minutes=45),
                "clinic_patient_id": ids["patient"],
                "clinic_service_id": ids["service"],
            }
        )
        self.assertEqual(outcome["desk 1"][0], "booked", outcome)
        self.assertEqual(outcome["desk 2"][0], "refused", outcome)
        self.assertIn(
            "RACE-1 is exhausted: 1 of 1 sessions are already kept or booked",
            outcome["desk 2"][1],
        )

        def counters(env):
            authorization = env["clinic.authorization"].browse(ids["authorization"])
            events = env["calendar.event"].search([("clinic_patient_id", "=", ids["patient"])])
            return authorization.scheduled, authorization.state, len(events)

        self.assertEqual(self._committed(counters), (1, "exhausted", 1))


class TestAuthorizationQueries(AuthorizationCase):
    """Booking for a patient with a package and authorizations costs a bounded number of
    queries, the same with 3 authorizations and no history as with 30 authorizations, 20
    packages and 600 past visits."""

    VISIT = datetime(2030, 1, 7, 10, 0)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        package = cls._clinic_package("12 Physio", 2400.0, [(cls.physio, 12, 0.0)])
        cls.new_patient = cls.env["res.partner"].create({"name": "New Insured Patient"})
        cls.regular = cls.env["res.partner"].create({"name": "Regular Insured Patient"})
        for patient, packages, authorizations in ((cls.new_patient, 1, 3), (cls.regular, 20, 30)):
            order = cls.env["sale.order"].create(
                {
                    "partner_id": patient.id,
                    "order_line": [
                        Command.create({"product_id": package.id, "product_uom_qty": packages})
                    ],
                }
            )
            order.action_confirm()
            if patient == cls.regular:
                cls.env["clinic.entitlement.usage"].create(
                    [
                        {
                            "entitlement_id": entitlement.id,
                            "entitlement_line_id": entitlement.line_ids.id,
                            "state": "consumed",
                            "reason": "attended",
                            "date": date(2029, 1, 1) + timedelta(days=i),
                        }
                        for entitlement in order.clinic_entitlement_ids
                        for i in range(10)
                    ]
                )
            # every kind of limit, primary and secondary
            cls.env["clinic.authorization"].create(
                [
                    {
                        "name": f"Q-{patient.id}-{i}",
                        "partner_id": patient.id,
                        "payer_id": cls.payer.id,
                        "auth_type": ("sessions", "units")[i % 2],
                        "priority": ("primary", "secondary")[i % 2],
                        "date_start": date(2029, 1, 1),
                        "date_end": date(2031, 12, 31),
                        "allowed": 1000,
                        "frequency": ("day", "week", "month")[i % 3],
                        "frequency_limit": 50,
                    }
                    for i in range(authorizations)
                ]
            )
        # 400 past kept visits on the regular patient's authorizations
        authorizations = cls.env["clinic.authorization"].search(
            [("partner_id", "=", cls.regular.id)]
        )
        start = datetime(2029, 1, 1, 9, 0)
        cls.env["calendar.event"].create(
            [
                {
                    "name": "Past visit",
                    "user_id": cls.practitioner.id,
                    "start": start + timedelta(days=i),
                    "stop": start + timedelta(days=i, minutes=45),
                    "clinic_patient_id": cls.regular.id,
                    "clinic_service_id": cls.physio.id,
                    "clinic_entitlement_id": False,
                    "clinic_authorization_id": authorizations[i % len(authorizations)].id,
                    "clinic_attendance": "arrived",
                    "partner_ids": [Command.clear()],
                }
                for i in range(400)
            ]
        )
        assert sum(authorizations.mapped("used")) >= 400

    def _measure(self, patient, start):
        self._clinic_book(start - timedelta(days=7), patient=patient)
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        event = self._clinic_book(start, patient=patient)
        self.env.flush_all()
        count = self.cr.sql_log_count - before
        self.assertTrue(event.clinic_authorization_id)
        self.assertEqual(event.clinic_authorization_id.partner_id, patient)
        self.assertEqual(event.clinic_usage_id.state, "reserved")
        return count

    def test_booking_queries_bounded_with_authorizations(self):
        new = self._measure(self.new_patient, self.VISIT)
        regular = self._measure(self.regular, self.VISIT + timedelta(days=1))
        self.assertEqual(new, regular, "booking cost grows with the patient's history")
        self.assertLessEqual(regular, AUTHORIZATION_BOOKING_QUERIES)


# queries to book a visit with package redemption and an authorization (3 kinds of frequency
# window to check), the patient and practitioner invited, own then shared packages looked
# at, whatever the history: measured 39 (a stock meeting with the same two attendees: 34)
AUTHORIZATION_BOOKING_QUERIES = 39
