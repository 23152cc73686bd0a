"""Patients book their own visits on a package: the free slots (working hours in the
practitioner's time zone, busy visits and meetings, leaves, a daylight-saving week), booking
one through the front desk's coverage, the refusals (nothing written), isolation between
patients (also over real XML-RPC), the cancellation window, and two patients racing for the
same slot in two real transactions.

The tests run as the patient's portal user, the least-privileged caller of these methods.
"""

import threading
import time
import xmlrpc.client
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from lxml import html

from odoo import Command, api, fields, sql_db
from odoo.exceptions import AccessError, UserError
from odoo.service.model import retrying
from odoo.tests import HttpCase, freeze_time, new_test_user
from odoo.tools.misc import format_date, format_time

from .common import RPC_ACCESS_ERROR as ACCESS_ERROR
from .common import RPC_WARNING as WARNING
from .common import ClinicCase, ClinicConcurrencyCase, ClinicRpcMixin, ClinicTestMixin

BRUSSELS = "Europe/Brussels"  # UTC+1 in winter, UTC+2 from the last Sunday of March
MONDAY = "2026-03-16 06:00:00"  # 07:00 in Brussels, before the practitioner starts


def hours_calendar(env, name, tz, days=range(5), periods=((9, 12), (13, 17))):
    """Working hours: `periods` (local hours) on `days` (0 = Monday), in `tz`."""
    return env["resource.calendar"].create(
        {
            "name": name,
            "tz": tz,
            "attendance_ids": [
                Command.create(
                    {
                        "name": f"{day} {hour_from}",
                        "dayofweek": str(day),
                        "hour_from": hour_from,
                        "hour_to": hour_to,
                        "day_period": "morning" if hour_from < 12 else "afternoon",
                    }
                )
                for day in days
                for hour_from, hour_to in periods
            ],
        }
    )


def practitioner_works(user, calendar, tz):
    user.resource_ids.write({"calendar_id": calendar.id, "tz": tz})


def starts(slots, day=None):
    """The slots' starts ("HH:MM", UTC), of `day` ("YYYY-MM-DD") only if given."""
    return [s["start"][11:16] for s in slots if day is None or s["start"][:10] == day]


class BookingMixin(ClinicTestMixin):
    @classmethod
    def _booking_setup(cls):
        env = cls.env
        cls.physio.product_tmpl_id.clinic_visit_minutes = 45
        cls.hours = hours_calendar(env, "Clinic hours", BRUSSELS)
        practitioner_works(cls.practitioner, cls.hours, BRUSSELS)
        cls.package_physio6 = cls._clinic_package("6 Physio", 600.0, [(cls.physio, 6, 0.0)])
        cls.maria_user = new_test_user(
            env,
            login="booking_maria",
            groups="base.group_portal",
            partner_id=cls.patient.id,
            tz=BRUSSELS,
        )
        cls.james_user = new_test_user(
            env, login="booking_james", groups="base.group_portal", partner_id=cls.patient_2.id
        )
        cls.maria_package = cls._active_package(cls.package_physio6, cls.patient)
        cls.james_package = cls._active_package(cls.package_physio6, cls.patient_2)

    @classmethod
    def _active_package(cls, product, patient, **values):
        """An active package of `product` for `patient`, valid with the practitioner at the
        main location (as sold and paid)."""
        entitlement = cls.env["clinic.entitlement"].create(
            {
                "partner_id": patient.id,
                "product_id": product.id,
                "practitioner_ids": [Command.set(cls.practitioner.ids)],
                "location_ids": [Command.set(cls.location.ids)],
                **values,
            }
        )
        entitlement._clinic_activate()
        return entitlement

    def _as(self, user, record):
        return record.with_user(user).with_context(tz=user.tz or "UTC")

    def _slots(self, date_from, date_to, package=None, user=None, service=None):
        package = package or self.maria_package
        return self._as(user or self.maria_user, package).clinic_booking_slots(
            (service or self.physio).id, date_from, date_to
        )

    def _book(self, start, package=None, user=None, service=None, practitioner=None):
        package = package or self.maria_package
        return self._as(user or self.maria_user, package).clinic_book_slot(
            (service or self.physio).id,
            start,
            (practitioner or self.practitioner).id,
            self.location.id,
        )

    def _visits(self, patient=None):
        return (
            self.env["calendar.event"]
            .with_context(active_test=False)
            .search([("clinic_patient_id", "=", (patient or self.patient).id)])
        )


@freeze_time(MONDAY)
class TestBookingSlots(BookingMixin, ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._booking_setup()

    def test_working_hours_in_the_practitioners_time_zone(self):
        slots = self._slots("2026-03-16 00:00:00", "2026-03-17 00:00:00")
        # 9:00-12:00 and 13:00-17:00 in Brussels (UTC+1), 45-minute visits end to end
        self.assertEqual(
            starts(slots),
            ["08:00", "08:45", "09:30", "10:15", "12:00", "12:45", "13:30", "14:15", "15:00"],
        )
        self.assertEqual(
            slots[0],
            {
                "start": "2026-03-16 08:00:00",
                "stop": "2026-03-16 08:45:00",
                "user_id": self.practitioner.id,
                "location_id": self.location.id,
            },
        )
        # the patient's own time zone changes nothing: the practitioner's hours decide
        self.maria_user.tz = "America/New_York"
        self.assertEqual(self._slots("2026-03-16 00:00:00", "2026-03-17 00:00:00"), slots)
        # no slot on the weekend, and only what is still to come
        self.assertEqual(self._slots("2026-03-21 00:00:00", "2026-03-23 00:00:00"), [])
        with freeze_time("2026-03-16 09:10:00"):
            later = self._slots("2026-03-16 00:00:00", "2026-03-17 00:00:00")
        self.assertEqual(starts(later)[:2], ["09:30", "10:15"])

    def test_all_practitioners_and_locations_when_the_package_names_none(self):
        colleague = new_test_user(
            self.env,
            login="booking_colleague",
            name="Dr. Colleague",
            groups="clinic_packages.group_clinic_user",
            clinic_practitioner=True,
        )
        practitioner_works(
            colleague, hours_calendar(self.env, "Mornings", "UTC", periods=((8, 9),)), "UTC"
        )
        open_package = self._active_package(
            self.package_physio6,
            self.patient,
            practitioner_ids=[Command.clear()],
            location_ids=[Command.clear()],
        )
        slots = self._slots("2026-03-16 00:00:00", "2026-03-16 09:00:00", package=open_package)
        pairs = {(s["start"][11:16], s["user_id"], s["location_id"]) for s in slots}
        locations = self.env["clinic.location"].search([])
        self.assertEqual(
            pairs,
            {
                (start, user.id, location.id)
                for start, user in (("08:00", self.practitioner), ("08:00", colleague))
                for location in locations
            },
        )

    def test_busy_visits_meetings_and_leaves(self):
        # a front-desk visit at 10:00 Brussels, a cancelled one at 9:00 (free again)
        self._clinic_book(datetime(2026, 3, 16, 9, 0), patient=self.patient_2)
        cancelled = self._clinic_book(datetime(2026, 3, 16, 8, 0), patient=self.patient_2)
        cancelled.action_clinic_cancel()
        # a meeting the practitioner attends (organized by someone else), 13:00-14:00
        self.env["calendar.event"].create(
            {
                "name": "Team meeting",
                "start": datetime(2026, 3, 16, 12, 0),
                "stop": datetime(2026, 3, 16, 13, 0),
                "user_id": self.manager.id,
                "partner_ids": [Command.set(self.practitioner.partner_id.ids)],
            }
        )
        # a meeting marked free blocks nothing
        self.env["calendar.event"].create(
            {
                "name": "Optional talk",
                "start": datetime(2026, 3, 16, 14, 0),
                "stop": datetime(2026, 3, 16, 15, 0),
                "user_id": self.practitioner.id,
                "show_as": "free",
                "partner_ids": [Command.clear()],
            }
        )
        slots = self._slots("2026-03-16 00:00:00", "2026-03-17 00:00:00")
        self.assertEqual(starts(slots), ["08:00", "09:45", "13:00", "13:45", "14:30", "15:15"])
        # a day of leave of the practitioner, and an all-day event on the next day
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Conference",
                "resource_id": self.practitioner.resource_ids.id,
                "calendar_id": self.hours.id,
                "date_from": datetime(2026, 3, 16, 23, 0),
                "date_to": datetime(2026, 3, 17, 23, 0),
            }
        )
        self.env["calendar.event"].create(
            {
                "name": "Training day",
                "allday": True,
                "start": datetime(2026, 3, 18, 8, 0),
                "stop": datetime(2026, 3, 18, 18, 0),
                "user_id": self.practitioner.id,
                "partner_ids": [Command.clear()],
            }
        )
        week = self._slots("2026-03-17 00:00:00", "2026-03-20 00:00:00")
        self.assertEqual({s["start"][:10] for s in week}, {"2026-03-19"})

    def test_overlapping_busy_times(self):
        """Busy times that overlap or touch, from the practitioner's own events and an
        invitation, block one stretch; someone else's meeting blocks nothing. Monday, 8:00 to
        11:00 and 12:00 to 16:00 UTC."""
        Event = self.env["calendar.event"]
        for start, stop, organizer, invited in (
            ((8, 30), (9, 15), self.practitioner, self.practitioner),
            ((9, 0), (9, 30), self.manager, self.practitioner),
            ((9, 30), (9, 45), self.practitioner, self.practitioner),
            ((12, 0), (13, 0), self.receptionist, self.receptionist),
        ):
            Event.create(
                {
                    "name": "Busy",
                    "start": datetime(2026, 3, 16, *start),
                    "stop": datetime(2026, 3, 16, *stop),
                    "user_id": organizer.id,
                    "partner_ids": [Command.set(invited.partner_id.ids)],
                }
            )
        slots = self._slots("2026-03-16 00:00:00", "2026-03-17 00:00:00")
        # 8:00-8:30 is too short for 45 minutes; 9:45-11:00 holds one visit
        self.assertEqual(starts(slots), ["09:45", "12:00", "12:45", "13:30", "14:15", "15:00"])

    def test_daylight_saving_week(self):
        """Brussels moves to UTC+2 on Sunday 29 March 2026: 9:00 is 08:00 UTC on Friday and
        07:00 UTC on Monday; the practitioner's day is the same in local time."""
        with freeze_time("2026-03-27 06:00:00"):
            slots = self._slots("2026-03-27 00:00:00", "2026-04-01 00:00:00")
        friday, monday = starts(slots, "2026-03-27"), starts(slots, "2026-03-30")
        self.assertEqual(friday[0], "08:00")
        self.assertEqual(monday[0], "07:00")
        self.assertEqual(len(friday), 9)
        self.assertEqual(
            [f"{int(t[:2]) + 1:02d}{t[2:]}" for t in friday],
            [f"{int(t[:2]) + 2:02d}{t[2:]}" for t in monday],
        )
        self.assertFalse(starts(slots, "2026-03-28") + starts(slots, "2026-03-29"))

    def test_book_a_slot_reserves_a_use(self):
        visit = self._book("2026-03-16 08:45:00")
        visit = visit.sudo()
        self.assertEqual(visit.clinic_patient_id, self.patient)
        self.assertEqual(visit.user_id, self.practitioner)
        self.assertEqual(visit.clinic_service_id, self.physio)
        self.assertEqual(visit.clinic_location_id, self.location)
        self.assertEqual(visit.clinic_entitlement_id, self.maria_package)
        self.assertEqual(visit.clinic_company_id, self.maria_package.company_id)
        self.assertEqual(
            (visit.start, visit.stop), (datetime(2026, 3, 16, 8, 45), datetime(2026, 3, 16, 9, 30))
        )
        self.assertEqual(visit.partner_ids, self.patient | self.practitioner.partner_id)
        self.assertEqual(visit.clinic_usage_id.state, "reserved")
        self.assertEqual(
            (self.maria_package.uses_reserved, self.maria_package.uses_remaining), (1, 5)
        )
        # the time is no longer offered, to anyone
        self.assertNotIn("08:45", starts(self._slots("2026-03-16 00:00:00", "2026-03-17 00:00:00")))
        james = self._slots(
            "2026-03-16 00:00:00", "2026-03-17 00:00:00", self.james_package, self.james_user
        )
        self.assertNotIn("08:45", starts(james))

    def test_refusals_write_nothing(self):
        self._book("2026-03-16 08:00:00")
        before = (len(self._visits()), self.maria_package.uses_reserved)

        def refused(pattern, **kwargs):
            with self.assertRaisesRegex(UserError, pattern):
                self._book(**kwargs)
            self.env.invalidate_all()
            self.assertEqual((len(self._visits()), self.maria_package.uses_reserved), before)

        refused("just taken", start="2026-03-16 08:00:00")
        # James cannot have Maria's time either
        with self.assertRaisesRegex(UserError, "just taken"):
            self._book("2026-03-16 08:30:00", self.james_package, self.james_user)
        refused("does not see patients at that time", start="2026-03-16 07:00:00")
        refused("does not see patients at that time", start="2026-03-21 09:00:00")
        refused("This time has passed", start="2026-03-13 09:00:00")
        refused("does not cover this service", start="2026-03-16 12:00:00", service=self.massage)
        refused(
            "cannot be booked with this practitioner",
            start="2026-03-16 12:00:00",
            practitioner=self.receptionist,
        )
        self.maria_package.action_pause()
        refused("is paused", start="2026-03-16 12:00:00")
        self.maria_package.action_resume()
        self.maria_package.date_expiry = date(2026, 3, 17)
        refused("expires on 03/17/2026", start="2026-03-18 09:00:00")
        self.assertFalse(self._slots("2026-03-18 00:00:00", "2026-03-20 00:00:00"))
        # every use booked: nothing left to book
        self.maria_package.date_expiry = False
        for hour in ("12:00", "12:45", "13:30", "14:15", "15:00"):
            self._book(f"2026-03-16 {hour}:00")
        before = (len(self._visits()), self.maria_package.uses_reserved)
        refused("no visit left", start="2026-03-17 08:00:00")
        with self.assertRaisesRegex(UserError, "no visit left"):
            self._slots("2026-03-17 00:00:00", "2026-03-18 00:00:00")

    def test_only_the_patient_books_and_cancels(self):
        for intruder in (self.james_user, self.receptionist, self.manager):
            with self.assertRaises(AccessError):
                self._slots("2026-03-16 00:00:00", "2026-03-17 00:00:00", user=intruder)
            with self.assertRaises(AccessError):
                self._book("2026-03-16 08:00:00", user=intruder)
        visit = self._book("2026-03-16 08:00:00")
        for intruder in (self.james_user, self.receptionist):
            with self.assertRaises(AccessError):
                visit.with_user(intruder).clinic_portal_cancel()
        self.assertEqual(visit.sudo().clinic_attendance, "upcoming")
        self.assertEqual(len(self._visits(self.patient_2)), 0)

    def test_cancellation_window(self):
        self.assertEqual(self.env.company.clinic_cancel_window_hours, 24)
        self.maria_package.count_late_cancel = True
        on_time = self._book("2026-03-18 08:00:00")  # 50 hours ahead
        late = self._book("2026-03-16 12:00:00")  # 6 hours ahead
        self.assertFalse(on_time.sudo()._clinic_portal_cancel_is_late())
        self.assertTrue(late.sudo()._clinic_portal_cancel_is_late())
        self.assertEqual(on_time.with_user(self.maria_user).clinic_portal_cancel(), "cancelled")
        self.assertEqual(on_time.sudo().clinic_usage_id.state, "released")
        self.assertEqual(late.with_user(self.maria_user).clinic_portal_cancel(), "late_cancel")
        self.assertEqual(late.sudo().clinic_usage_id.state, "consumed")
        self.assertEqual(late.sudo().clinic_usage_id.reason, "late_cancel")
        self.assertEqual((self.maria_package.uses_used, self.maria_package.uses_reserved), (1, 0))
        # a package that does not count late cancellations gives the use back
        self.maria_package.count_late_cancel = False
        late_free = self._book("2026-03-16 13:30:00")
        self.assertEqual(late_free.with_user(self.maria_user).clinic_portal_cancel(), "late_cancel")
        self.assertEqual(late_free.sudo().clinic_usage_id.state, "released")
        # no window: every cancellation is on time; a cancelled visit is not cancelled twice
        self.env.company.clinic_cancel_window_hours = 0
        again = self._book("2026-03-16 14:15:00")
        self.assertEqual(again.with_user(self.maria_user).clinic_portal_cancel(), "cancelled")
        with self.assertRaisesRegex(UserError, "can no longer be cancelled"):
            again.with_user(self.maria_user).clinic_portal_cancel()
        # the freed times are offered again
        self.assertIn("14:15", starts(self._slots("2026-03-16 00:00:00", "2026-03-17 00:00:00")))

    def test_query_count_does_not_depend_on_history(self):
        def count():
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self._slots("2026-03-16 00:00:00", "2026-04-13 00:00:00")
            return self.env.cr.sql_log_count - before

        count()  # the caches of access rules and views, as on a running server
        empty = count()
        # a history: 40 past visits of the practitioner, arrived
        for day in range(40):
            with freeze_time(datetime(2026, 1, 1, 9) + timedelta(days=day)):
                self._clinic_book(
                    datetime(2026, 1, 1, 9) + timedelta(days=day), patient=self.patient_2
                ).action_clinic_arrive()
        self.assertEqual(count(), empty)


class TestBookingRace(ClinicConcurrencyCase):
    """Two patients choose the same time with the same practitioner at the same moment, each
    in their own transaction (two portal requests): one gets it, the other is told."""

    VISIT = "2030-01-07 10:00:00"  # a Monday

    def _make_data(self, env):
        practitioner = new_test_user(
            env,
            login="race_practitioner",
            groups="clinic_packages.group_clinic_user",
            clinic_practitioner=True,
        )
        practitioner_works(practitioner, hours_calendar(env, "Race hours", "UTC"), "UTC")
        service = env["product.product"].create(
            {"name": "Race Physio", "type": "service", "clinic_visit_minutes": 45}
        )
        product = env["product.product"].create(
            {
                "name": "Race Package",
                "type": "service",
                "clinic_package_ok": True,
                "clinic_package_line_ids": [
                    Command.create({"service_product_id": service.id, "quantity": 4})
                ],
            }
        )
        ids = {"practitioner": practitioner.id, "service": service.id, "product": product.id}
        for n in (1, 2):
            patient = env["res.partner"].create({"name": f"Race Patient {n}"})
            user = new_test_user(
                env, login=f"race_patient_{n}", groups="base.group_portal", partner_id=patient.id
            )
            package = env["clinic.entitlement"].create(
                {
                    "partner_id": patient.id,
                    "product_id": product.id,
                    "practitioner_ids": [Command.set(practitioner.ids)],
                }
            )
            package._clinic_activate()
            ids.update({f"patient{n}": patient.id, f"user{n}": user.id, f"package{n}": package.id})
        return ids

    def _drop_data(self, env, ids):
        patients = env["res.partner"].browse([ids["patient1"], ids["patient2"]])
        env["calendar.event"].with_context(active_test=False).search(
            [("clinic_patient_id", "in", patients.ids)]
        ).unlink()
        packages = env["clinic.entitlement"].browse([ids["package1"], ids["package2"]])
        packages.usage_ids.unlink()
        packages.write({"state": "cancelled"})
        packages.unlink()
        users = env["res.users"].browse([ids["user1"], ids["user2"], ids["practitioner"]])
        for user in users:  # logins stay unique among archived users
            user.write(
                {"clinic_practitioner": False, "active": False, "login": f"{user.login}-{user.id}"}
            )
        env["product.product"].browse([ids["product"], ids["service"]]).action_archive()
        patients.action_archive()

    def test_same_slot_booked_twice_at_once(self):
        ids = self._committed(self._make_data)
        self.addCleanup(self._committed, lambda env: self._drop_data(env, ids))
        first_holds_lock = threading.Event()
        outcome = {}

        def book(n, hold):
            with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
                env = api.Environment(cr, ids[f"user{n}"], {"tz": "UTC"})

                def create():
                    package = env["clinic.entitlement"].browse(ids[f"package{n}"])
                    event = package.clinic_book_slot(
                        ids["service"], self.VISIT, ids["practitioner"], False
                    )
                    env.flush_all()
                    if hold:  # keep the practitioner while the other patient tries
                        first_holds_lock.set()
                        time.sleep(1.0)
                    return event.id

                if not hold:
                    first_holds_lock.wait(10)
                try:
                    outcome[n] = ("booked", retrying(create, env))
                except UserError as error:
                    cr.rollback()
                    outcome[n] = ("refused", error.args[0])
                except Exception as error:  # noqa: BLE001 - reported by the assertions
                    outcome[n] = ("crashed", repr(error))

        patients = [threading.Thread(target=book, args=(1, True))]
        patients.append(threading.Thread(target=book, args=(2, False)))
        for thread in patients:
            thread.start()
        for thread in patients:
            thread.join(60)
        self.assertEqual(outcome[1][0], "booked", outcome)
        self.assertEqual(outcome[2][0], "refused", outcome)
        self.assertIn("was just taken", outcome[2][1])

        def visits(env):
            events = env["calendar.event"].search(
                [("clinic_patient_id", "in", [ids["patient1"], ids["patient2"]])]
            )
            packages = env["clinic.entitlement"].browse([ids["package1"], ids["package2"]])
            return len(events), packages.mapped("uses_reserved")

        self.assertEqual(self._committed(visits), (1, [1, 0]))


class BookingHttpCase(ClinicRpcMixin, BookingMixin, HttpCase):
    """Through the real HTTP server, on today's clock: the practitioner works every day,
    8:00-18:00 UTC, so there are slots whatever day the test runs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()
        cls._booking_setup()
        every_day = hours_calendar(cls.env, "Every day", "UTC", range(7), ((8, 18),))
        practitioner_works(cls.practitioner, every_day, "UTC")


class TestBookingRpc(BookingHttpCase):
    """The same rules for an XML-RPC client logged in as a portal patient."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.day = date.today() + timedelta(days=2)

    def window(self):
        return f"{self.day} 00:00:00", f"{self.day + timedelta(days=1)} 00:00:00"

    def fault(self, code, user, model, method, *args):
        """The XML-RPC call fails with an Odoo error of `code` (no server traceback); its
        message."""
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc(user, model, method, *args)
        self.assertEqual(caught.exception.faultCode, code, caught.exception.faultString)
        return caught.exception.faultString

    def test_patients_are_isolated_over_rpc(self):
        Model = "clinic.entitlement"
        package = [self.maria_package.id]
        slots = self.rpc(
            self.maria_user, Model, "clinic_booking_slots", package, self.physio.id, *self.window()
        )
        self.assertEqual(len(slots), 13)  # 8:00 to 17:45, 45 minutes each
        self.assertEqual(slots[0]["start"], f"{self.day} 08:00:00")
        for intruder in (self.james_user, self.receptionist):
            for method, args in (
                ("clinic_booking_slots", (self.physio.id, *self.window())),
                (
                    "clinic_book_slot",
                    (self.physio.id, slots[0]["start"], self.practitioner.id, self.location.id),
                ),
            ):
                self.fault(ACCESS_ERROR, intruder, Model, method, package, *args)
        self.assertFalse(self._visits())
        event_id = self.rpc(
            self.maria_user,
            Model,
            "clinic_book_slot",
            package,
            self.physio.id,
            slots[0]["start"],
            self.practitioner.id,
            self.location.id,
        )
        self.assertEqual(self._visits().ids, [event_id])
        self.fault(
            ACCESS_ERROR, self.james_user, "calendar.event", "clinic_portal_cancel", [event_id]
        )
        self.assertEqual(
            self.rpc(self.maria_user, "calendar.event", "clinic_portal_cancel", [event_id]),
            "cancelled",
        )

    def test_bad_times_and_packages_get_a_clear_message(self):
        """What a client sends that is not a time, or more than one package, is refused
        with a message (an Odoo warning, no server traceback) and books nothing; an ISO time
        with its UTC offset is read as such."""
        Model = "clinic.entitlement"
        package = [self.maria_package.id]
        first, last = self.window()
        practitioner, location = self.practitioner.id, self.location.id
        for method, args in (
            ("clinic_booking_slots", (self.physio.id, "garbage", last)),
            ("clinic_booking_slots", (self.physio.id, first, "9999-12-31 23:00:00")),
            ("clinic_book_slot", (self.physio.id, "garbage", practitioner, location)),
            ("clinic_book_slot", (self.physio.id, ["x"], practitioner, location)),
            ("clinic_book_slot", (self.physio.id, "9999-12-31 23:00:00", practitioner, location)),
        ):
            with self.subTest(method=method, args=args):
                message = self.fault(WARNING, self.maria_user, Model, method, package, *args)
                self.assertIn("is not a date and time", message)
        message = self.fault(
            WARNING,
            self.maria_user,
            Model,
            "clinic_booking_slots",
            package + self.james_package.ids,
            self.physio.id,
            first,
            last,
        )
        self.assertIn("one package at a time", message)
        self.assertFalse(self._visits())
        # 08:00 UTC written as 10:00 at UTC+2
        event_id = self.rpc(
            self.maria_user,
            Model,
            "clinic_book_slot",
            package,
            self.physio.id,
            f"{self.day}T10:00:00+02:00",
            practitioner,
            location,
        )
        event = self.env["calendar.event"].browse(event_id)
        self.assertEqual(fields.Datetime.to_string(event.start), f"{self.day} 08:00:00")


class TestBookingPortalPages(BookingHttpCase):
    """/my/packages/<id>/book through the real HTTP server: the services, the free times by
    day in the patient's time zone, booking one (POST with the CSRF token) and cancelling."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.maria_user.tz = "Asia/Tokyo"  # UTC+9: 08:00 UTC is 17:00 there

    def _page(self, url, data=None):
        response = self.url_open(url, data=data)
        self.assertEqual(response.status_code, 200, url)
        return response, html.fromstring(response.content)

    def test_the_page_says_only_what_the_server_says(self):
        """A time the page cannot read (year 9999) gets its message, not a server error;
        a query parameter cannot put text in the page's alerts."""
        self.authenticate(self.maria_user.login, self.maria_user.login)
        book = f"/my/packages/{self.maria_package.id}/book"
        query = urlencode(
            {
                "service_id": self.physio.id,
                "start": "9999-12-31 23:59:59",
                "user_id": self.practitioner.id,
                "location_id": self.location.id,
            }
        )
        __, page = self._page(f"{book}?{query}")
        self.assertIn("This time could not be read", page.text_content())
        for url in (f"{book}?error=Call+555-FAKE", "/my/packages?cancel_error=Call+555-FAKE"):
            with self.subTest(url=url):
                __, page = self._page(url)
                self.assertNotIn("555-FAKE", page.text_content())
        self.assertFalse(self._visits())
        # a cancellation refused (the visit started meanwhile): its reason, once
        later = datetime.now().replace(microsecond=0) + timedelta(days=3)
        visit = self._clinic_book(later, patient=self.patient, service=self.physio)
        __, page = self._page("/my/packages")
        cancel = page.xpath("//form[contains(@action, '/cancel')]")[0]
        data = {i.get("name"): i.get("value") for i in cancel.xpath("./input")}
        past = datetime.now().replace(microsecond=0) - timedelta(hours=1)
        visit.write({"start": past, "stop": past + timedelta(minutes=45)})
        __, page = self._page(cancel.get("action"), data=data)
        shown = page.xpath("string(//div[hasclass('o_clinic_cancel_error')])")
        self.assertIn("can no longer be cancelled", shown)
        __, page = self._page("/my/packages")
        self.assertFalse(page.xpath("//div[hasclass('o_clinic_cancel_error')]"))

    def test_book_and_cancel_from_the_portal(self):
        self.authenticate(self.maria_user.login, self.maria_user.login)
        __, page = self._page("/my/packages")
        book = page.xpath("//a[hasclass('o_clinic_book_visit')]/@href")
        self.assertEqual(book, [f"/my/packages/{self.maria_package.id}/book"])
        # one service: its free times at once, by day, in Tokyo time
        __, page = self._page(book[0])
        slots = page.xpath("//button[hasclass('o_clinic_slot')]")
        self.assertTrue(slots)
        # a time more than a day ahead: cancelled on time below
        later = (datetime.now() + timedelta(days=1, hours=1)).strftime("%Y-%m-%d %H:%M:%S")
        first = next(
            slot.getparent()
            for slot in slots
            if slot.getparent().xpath("./input[@name='start']/@value")[0] > later
        )
        slots = first.xpath(".//button")
        start = first.xpath("./input[@name='start']/@value")[0]
        # the time as Maria reads it: Tokyo's, in her language's short format (en_US: 5:00 PM)
        local = fields.Datetime.to_datetime(start) + timedelta(hours=9)
        shown = format_time(self.env(user=self.maria_user), local.time(), time_format="short")
        self.assertRegex(shown, r"^\d{1,2}:\d\d\s(AM|PM)$")
        self.assertIn(shown, slots[0].text_content())
        self.assertIn("Dr. Practitioner", slots[0].text_content())
        # choosing a time asks to confirm it (nothing booked yet), in Tokyo time too
        self.assertEqual(first.get("method"), "get")
        query = {i.get("name"): i.get("value") for i in first.xpath("./input")}
        __, page = self._page(f"{first.get('action')}?{urlencode(query)}")
        self.assertFalse(self._visits())
        confirm = page.xpath("//div[hasclass('o_clinic_confirm_card')]//form")[0]
        card = page.xpath("string(//div[hasclass('o_clinic_confirm_card')])")
        self.assertIn(shown, card)
        # the day in her language too
        day = format_date(self.env(user=self.maria_user), local.date(), date_format="EEEE d MMMM y")
        self.assertIn(day, card)
        data = {i.get("name"): i.get("value") for i in confirm.xpath("./input")}
        self.assertEqual(data["start"], start)
        # a time with someone the package does not allow (an edited link): nothing to confirm
        forged = dict(query, user_id=self.receptionist.id)
        __, page = self._page(f"{first.get('action')}?{urlencode(forged)}")
        self.assertFalse(page.xpath("//div[hasclass('o_clinic_confirm_card')]"))
        self.assertIn(
            "choose one of the times offered",
            page.xpath("string(//div[hasclass('o_clinic_book_error')])"),
        )
        response, page = self._page(confirm.get("action"), data=data)
        self.assertIn(
            "/my/packages?booked=",
            response.url,
            page.xpath("string(//div[hasclass('o_clinic_book_error')])"),
        )
        self.assertTrue(page.xpath("//div[hasclass('o_clinic_booked')]"))
        visit = self._visits()
        self.assertEqual(len(visit), 1)
        self.assertEqual(visit.clinic_entitlement_id, self.maria_package)
        self.assertEqual(visit.start.strftime("%Y-%m-%d %H:%M:%S"), start)
        self.assertEqual(len(page.xpath("//tr[hasclass('o_clinic_portal_upcoming')]")), 1)
        # the same time again (a second tab): refused on the page, nothing booked
        __, page = self._page(confirm.get("action"), data=data)
        self.assertIn("just taken", page.xpath("string(//div[hasclass('o_clinic_book_error')])"))
        self.assertEqual(len(self._visits()), 1)
        # James cannot open Maria's booking page nor cancel her visit
        self.authenticate(self.james_user.login, self.james_user.login)
        response = self.url_open(book[0])
        self.assertTrue(response.url.endswith("/my/packages"))
        __, page = self._page("/my/packages")
        token = page.xpath("//input[@name='csrf_token']/@value") or [
            page.xpath("string(//meta[@name='csrf_token']/@content)")
        ]
        self.url_open(f"/my/visits/{visit.id}/cancel", data={"csrf_token": token[0]})
        self.assertEqual(visit.clinic_attendance, "upcoming")
        # Maria cancels it: on time (more than 24 hours ahead), the use is released
        self.authenticate(self.maria_user.login, self.maria_user.login)
        __, page = self._page("/my/packages")
        cancel = page.xpath("//form[contains(@action, '/cancel')]")[0]
        data = {i.get("name"): i.get("value") for i in cancel.xpath("./input")}
        response, page = self._page(cancel.get("action"), data=data)
        self.assertTrue(page.xpath("//div[hasclass('o_clinic_cancelled')]"))
        self.env.invalidate_all()
        self.assertEqual(visit.clinic_attendance, "cancelled")
        self.assertEqual(visit.clinic_usage_id.state, "released")
        self.assertFalse(page.xpath("//tr[hasclass('o_clinic_portal_upcoming')]"))
