"""A sold package over time: expiry, pause / resume, cancel, counters and exhaustion."""

from datetime import date

from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time

from .common import ClinicCase


class EntitlementCase(ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.package_forever = cls._clinic_package(
            "10 Physio, No Expiry", 1800.0, [(cls.physio, 10, 0.0)], clinic_validity_days=0
        )
        cls.package_short = cls._clinic_package(
            "2 Physio Trial", 300.0, [(cls.physio, 2, 0.0)], clinic_validity_days=30
        )

    def _sell_one(self, product, partner=None):
        entitlement = self._clinic_sell(product, partner=partner).clinic_entitlement_ids
        self.assertEqual(len(entitlement), 1)
        return entitlement

    def _book(self, entitlement, service=None):
        return self.env["clinic.entitlement.usage"].create(
            {"entitlement_id": entitlement.id, "service_product_id": (service or self.physio).id}
        )

    def assertCounters(self, record, used, reserved, remaining):
        if record._name == "clinic.entitlement":
            values = (record.uses_used, record.uses_reserved, record.uses_remaining)
        else:
            values = (record.used, record.reserved, record.remaining)
        self.assertEqual(values, (used, reserved, remaining), record.display_name)

    def _line(self, entitlement, service):
        return entitlement.line_ids.filtered(lambda line: line.service_product_id == service)


class TestExpiry(EntitlementCase):
    @freeze_time("2025-01-01 12:00:00")
    def test_expiry_computation(self):
        self.assertEqual(self._sell_one(self.package_physio8).date_expiry, date(2025, 6, 30))
        self.assertEqual(self._sell_one(self.package_rehab).date_expiry, date(2026, 1, 1))
        self.assertEqual(self._sell_one(self.package_short).date_expiry, date(2025, 1, 31))

    @freeze_time("2025-01-01 12:00:00")
    def test_no_expiry(self):
        entitlement = self._sell_one(self.package_forever)
        self.assertEqual(entitlement.state, "active")
        self.assertEqual(entitlement.date_start, date(2025, 1, 1))
        self.assertFalse(entitlement.date_expiry)

    @freeze_time("2025-01-01 12:00:00")
    def test_edit_expiry(self):
        entitlement = self._sell_one(self.package_physio8)
        entitlement.date_expiry = date(2025, 12, 31)
        self.assertEqual(entitlement.date_expiry, date(2025, 12, 31))
        self.assertEqual(entitlement.state, "active")
        entitlement.date_expiry = False
        self.assertFalse(entitlement.date_expiry)
        self.assertEqual(entitlement.state, "active")
        entitlement.date_expiry = date(2025, 1, 1)  # expiring on its first day is allowed
        self.assertEqual(entitlement.date_expiry, date(2025, 1, 1))

    @freeze_time("2025-01-01 12:00:00")
    def test_expiry_before_start_refused(self):
        entitlement = self._sell_one(self.package_physio8)
        with self.assertRaises(ValidationError) as error:
            entitlement.date_expiry = date(2024, 12, 31)
        message = str(error.exception)
        self.assertIn(entitlement.name, message)
        self.assertIn("12/31/2024", message)
        self.assertIn("01/01/2025", message)
        self.assertEqual(entitlement.date_expiry, date(2025, 6, 30))

    @freeze_time("2025-01-01 12:00:00")
    def test_start_after_expiry_refused(self):
        entitlement = self._sell_one(self.package_short)
        with self.assertRaises(ValidationError) as error:
            entitlement.date_start = date(2025, 2, 15)
        self.assertIn(entitlement.name, str(error.exception))
        self.assertEqual(entitlement.date_start, date(2025, 1, 1))

    def test_cron_expire(self):
        with freeze_time("2025-01-01 12:00:00"):
            expiring = self._sell_one(self.package_physio8)  # 2025-06-30
            paused = self._sell_one(self.package_physio8, self.patient_2)
            forever = self._sell_one(self.package_forever)
            later = self._sell_one(self.package_rehab)  # 2026-01-01
            expiring_today = self._sell_one(self.package_physio8)
            expiring_today.date_expiry = date(2025, 7, 1)
            exhausted = self._sell_one(self.package_short)  # 2025-01-31
            for _i in range(2):
                self._book(exhausted).action_consume()
            self.assertEqual(exhausted.state, "exhausted")
        with freeze_time("2025-02-01 12:00:00"):
            paused.action_pause()
        with freeze_time("2025-06-30 12:00:00"):
            self.assertFalse(self.env["clinic.entitlement"]._cron_expire() & expiring)
            self.assertEqual(expiring.state, "active", "still valid on its expiry date")
        with freeze_time("2025-07-01 12:00:00"):
            expired = self.env["clinic.entitlement"]._cron_expire()
            self.assertIn(expiring, expired)
            self.assertEqual(expiring.state, "expired")
            self.assertEqual(paused.state, "paused")
            self.assertEqual(forever.state, "active")
            self.assertEqual(later.state, "active")
            self.assertEqual(expiring_today.state, "active")
            self.assertEqual(exhausted.state, "exhausted")
            self.assertFalse(expired & (paused | forever | later | expiring_today | exhausted))
            # running again expires nothing more
            self.assertFalse(self.env["clinic.entitlement"]._cron_expire() & expiring)
            # an expired package cannot be booked
            with self.assertRaises(UserError) as error:
                self._book(expiring)
            self.assertIn(expiring.name, str(error.exception))
            self.assertEqual(expiring.uses_reserved, 0)

    def test_extend_expired_reactivates(self):
        with freeze_time("2025-01-01 12:00:00"):
            entitlement = self._sell_one(self.package_physio8)
            self._book(entitlement).action_consume()
        with freeze_time("2025-08-01 12:00:00"):
            self.env["clinic.entitlement"]._cron_expire()
            self.assertEqual(entitlement.state, "expired")
            # a date still in the past keeps it expired
            entitlement.date_expiry = date(2025, 7, 15)
            self.assertEqual(entitlement.state, "expired")
            entitlement.date_expiry = date(2025, 9, 30)
            self.assertEqual(entitlement.state, "active")
            self.assertEqual(entitlement.date_expiry, date(2025, 9, 30))
            self.assertCounters(entitlement, 1, 0, 7)
            self._book(entitlement)
            self.assertCounters(entitlement, 1, 1, 6)

    def test_clear_expiry_of_expired_reactivates(self):
        with freeze_time("2025-01-01 12:00:00"):
            entitlement = self._sell_one(self.package_short)
        with freeze_time("2025-03-01 12:00:00"):
            self.env["clinic.entitlement"]._cron_expire()
            self.assertEqual(entitlement.state, "expired")
            entitlement.date_expiry = False
            self.assertEqual(entitlement.state, "active")


class TestReminders(EntitlementCase):
    """Daily package reminders: N days before expiry with uses not booked, and when the uses
    left reach the company's threshold; each once, a new expiry date starting them again."""

    def _reminders(self, entitlement):
        return self.env["mail.activity"].search(
            [("res_model", "=", "clinic.entitlement"), ("res_id", "=", entitlement.id)],
            order="id",
        )

    def _run(self, day):
        with freeze_time(f"{day} 12:00:00"):
            self.env["clinic.entitlement"]._cron_reminders()

    def test_expiry_and_running_out_reminders_sent_once(self):
        self.company.write({"clinic_alert_days": "7,30", "clinic_alert_remaining": 2})
        self.patient.user_id = self.receptionist
        with freeze_time("2025-01-01 12:00:00"):
            entitlement = self._sell_one(self.package_physio8)  # expires 2025-06-30
            untouched = self._sell_one(self.package_short)  # 2 uses: not "running out"
            no_expiry = self._sell_one(self.package_forever)
        untouched.date_expiry = date(2025, 12, 31)
        self.assertEqual(entitlement.date_expiry, date(2025, 6, 30))
        self._run("2025-05-30")
        self.assertFalse(self._reminders(entitlement), "31 days before: nothing due")
        self._run("2025-05-31")
        [first] = self._reminders(entitlement)
        self.assertEqual(first.user_id, self.receptionist)
        self.assertEqual(first.summary, f"Package {entitlement.name} expires soon")
        self.assertIn("in 30 day(s), with 8 use(s) not booked yet", str(first.note))
        self._run("2025-06-01")
        self.assertEqual(len(self._reminders(entitlement)), 1, "sent once")
        # six visits booked: 2 uses left to book
        for _i in range(6):
            self._book(entitlement)
        self._run("2025-06-02")
        reminders = self._reminders(entitlement)
        self.assertEqual(len(reminders), 2)
        self.assertEqual(reminders[1].summary, f"Package {entitlement.name} is running out")
        self.assertIn("has 2 of 8 uses left to book (0 used, 6 booked)", str(reminders[1].note))
        self._run("2025-06-23")
        self.assertEqual(len(self._reminders(entitlement)), 3, "7 days before")
        self._run("2025-06-24")
        self.assertEqual(len(self._reminders(entitlement)), 3)
        self.assertEqual(entitlement.reminders_sent, "days:30,days:7,left:2")
        # extended: the expiry reminders come again for the new date
        entitlement.date_expiry = date(2025, 9, 30)
        self.assertEqual(entitlement.reminders_sent, "left:2")
        self._run("2025-09-23")
        self.assertEqual(len(self._reminders(entitlement)), 4, "7 and 30 days due: one reminder")
        self.assertEqual(entitlement.reminders_sent, "days:30,days:7,left:2")
        # never for a package without expiry nor for one not used yet
        self.assertFalse(self._reminders(untouched) | self._reminders(no_expiry))

    def test_no_reminder_for_paused_or_fully_booked_expiry(self):
        self.company.write({"clinic_alert_days": "30", "clinic_alert_remaining": 0})
        with freeze_time("2025-01-01 12:00:00"):
            paused = self._sell_one(self.package_physio8)
            booked = self._sell_one(self.package_short)
            paused.action_pause()
        for _i in range(2):
            self._book(booked)
        booked.date_expiry = date(2025, 6, 30)
        self._run("2025-06-15")
        self.assertFalse(self._reminders(paused), "a paused package does not expire")
        # every use booked: nothing left to book before expiry, but it ran out
        [reminder] = self._reminders(booked)
        self.assertEqual(reminder.summary, f"Package {booked.name} is running out")
        # the salesperson is reminded when the patient has no responsible user
        self.assertEqual(reminder.user_id, booked.sale_order_id.user_id)


class TestPauseResume(EntitlementCase):
    def test_pause_resume_extends_expiry(self):
        with freeze_time("2025-01-01 12:00:00"):
            entitlement = self._sell_one(self.package_physio8)
            self.assertEqual(entitlement.date_expiry, date(2025, 6, 30))
        with freeze_time("2025-02-01 12:00:00"):
            entitlement.action_pause()
            self.assertEqual(entitlement.state, "paused")
            self.assertEqual(entitlement.date_paused, date(2025, 2, 1))
            with self.assertRaises(UserError) as error:
                self._book(entitlement)
            self.assertIn(entitlement.name, str(error.exception))
            self.assertEqual(entitlement.uses_reserved, 0)
        with freeze_time("2025-02-11 12:00:00"):
            entitlement.action_resume()
            self.assertEqual(entitlement.state, "active")
            self.assertFalse(entitlement.date_paused)
            self.assertEqual(entitlement.date_expiry, date(2025, 7, 10))  # + 10 days
            self.assertEqual(entitlement.date_start, date(2025, 1, 1))
            self.assertCounters(entitlement, 0, 0, 8)

    @freeze_time("2025-01-01 12:00:00")
    def test_resume_same_day_keeps_expiry(self):
        entitlement = self._sell_one(self.package_physio8)
        entitlement.action_pause()
        entitlement.action_resume()
        self.assertEqual(entitlement.state, "active")
        self.assertEqual(entitlement.date_expiry, date(2025, 6, 30))

    def test_resume_without_expiry(self):
        with freeze_time("2025-01-01 12:00:00"):
            entitlement = self._sell_one(self.package_forever)
            entitlement.action_pause()
        with freeze_time("2025-03-01 12:00:00"):
            entitlement.action_resume()
        self.assertEqual(entitlement.state, "active")
        self.assertFalse(entitlement.date_expiry)

    def test_paused_past_expiry_then_resumed(self):
        with freeze_time("2025-01-01 12:00:00"):
            entitlement = self._sell_one(self.package_short)  # expires 2025-01-31
        with freeze_time("2025-01-21 12:00:00"):
            entitlement.action_pause()
        with freeze_time("2025-03-01 12:00:00"):
            self.env["clinic.entitlement"]._cron_expire()
            self.assertEqual(entitlement.state, "paused")
            entitlement.action_resume()  # paused 39 days
            self.assertEqual(entitlement.state, "active")
            self.assertEqual(entitlement.date_expiry, date(2025, 3, 11))
            self.env["clinic.entitlement"]._cron_expire()
            self.assertEqual(entitlement.state, "active")

    def test_resume_keeps_reservations(self):
        with freeze_time("2025-01-01 12:00:00"):
            entitlement = self._sell_one(self.package_rehab)
            usage = self._book(entitlement, self.massage)
            entitlement.action_pause()
        with freeze_time("2025-01-05 12:00:00"):
            entitlement.action_resume()
        self.assertEqual(usage.state, "reserved")
        self.assertCounters(entitlement, 0, 1, 9)
        self.assertEqual(entitlement.date_expiry, date(2026, 1, 5))

    @freeze_time("2025-01-01 12:00:00")
    def test_pause_non_active_refused(self):
        paused = self._sell_one(self.package_physio8)
        paused.action_pause()
        with self.assertRaises(UserError) as error:
            paused.action_pause()
        self.assertIn(paused.name, str(error.exception))
        self.assertIn("Paused", str(error.exception))
        self.assertEqual(paused.date_paused, date(2025, 1, 1))

        draft = self._clinic_sell(
            self._clinic_package(
                "Pay First", 100.0, [(self.physio, 1, 0.0)], clinic_activation="on_payment"
            )
        ).clinic_entitlement_ids
        self.assertEqual(draft.state, "draft")
        with self.assertRaises(UserError) as error:
            draft.action_pause()
        self.assertIn(draft.name, str(error.exception))
        self.assertEqual(draft.state, "draft")

        cancelled = self._sell_one(self.package_physio8)
        cancelled.action_cancel()
        with self.assertRaises(UserError) as error:
            cancelled.action_pause()
        self.assertIn(cancelled.name, str(error.exception))
        self.assertEqual(cancelled.state, "cancelled")

    @freeze_time("2025-01-01 12:00:00")
    def test_resume_non_paused_refused(self):
        entitlement = self._sell_one(self.package_physio8)
        with self.assertRaises(UserError) as error:
            entitlement.action_resume()
        self.assertIn(entitlement.name, str(error.exception))
        self.assertIn("Active", str(error.exception))
        self.assertEqual(entitlement.state, "active")
        self.assertEqual(entitlement.date_expiry, date(2025, 6, 30))


class TestCancel(EntitlementCase):
    def test_cancel_releases_reservations(self):
        entitlement = self._sell_one(self.package_rehab)
        usages = self._book(entitlement) | self._book(entitlement, self.massage)
        released_before = self._book(entitlement)
        released_before.action_release()
        self.assertCounters(entitlement, 0, 2, 8)
        entitlement.action_cancel()
        self.assertEqual(entitlement.state, "cancelled")
        self.assertEqual(set(usages.mapped("state")), {"released"})
        self.assertEqual(released_before.state, "released")
        # a cancelled package has nothing left
        self.assertCounters(entitlement, 0, 0, 0)
        with self.assertRaises(UserError) as error:
            self._book(entitlement)
        self.assertIn(entitlement.name, str(error.exception))

    def test_cancel_with_consumed_use_refused(self):
        entitlement = self._sell_one(self.package_rehab)
        self._book(entitlement).action_consume()
        reserved = self._book(entitlement, self.massage)
        with self.assertRaises(UserError) as error:
            entitlement.action_cancel()
        message = str(error.exception)
        self.assertIn(entitlement.name, message)
        self.assertIn("1 of its uses", message)
        self.assertEqual(entitlement.state, "active")
        self.assertEqual(reserved.state, "reserved")
        self.assertCounters(entitlement, 1, 1, 8)

    def test_cancel_twice_refused(self):
        entitlement = self._sell_one(self.package_physio8)
        entitlement.action_cancel()
        with self.assertRaises(UserError) as error:
            entitlement.action_cancel()
        self.assertIn(entitlement.name, str(error.exception))
        self.assertIn("Cancelled", str(error.exception))

    def test_cancel_paused(self):
        entitlement = self._sell_one(self.package_physio8)
        entitlement.action_pause()
        entitlement.action_cancel()
        self.assertEqual(entitlement.state, "cancelled")


class TestCountersAndExhaustion(EntitlementCase):
    def test_counters_each_step(self):
        entitlement = self._sell_one(self.package_rehab)
        physio_line = self._line(entitlement, self.physio)
        massage_line = self._line(entitlement, self.massage)
        self.assertCounters(physio_line, 0, 0, 6)
        self.assertCounters(massage_line, 0, 0, 4)
        self.assertCounters(entitlement, 0, 0, 10)
        self.assertEqual(entitlement.uses_total, 10)

        booked = self._book(entitlement)
        self.assertEqual(booked.entitlement_line_id, physio_line)
        self.assertEqual(booked.service_product_id, self.physio)
        self.assertEqual(booked.state, "reserved")
        self.assertCounters(physio_line, 0, 1, 5)
        self.assertCounters(massage_line, 0, 0, 4)
        self.assertCounters(entitlement, 0, 1, 9)

        booked.action_consume()
        self.assertEqual(booked.state, "consumed")
        self.assertCounters(physio_line, 1, 0, 5)
        self.assertCounters(entitlement, 1, 0, 9)

        massage = self._book(entitlement, self.massage)
        self.assertCounters(massage_line, 0, 1, 3)
        self.assertCounters(entitlement, 1, 1, 8)

        massage.action_release()
        self.assertEqual(massage.state, "released")
        self.assertCounters(massage_line, 0, 0, 4)
        self.assertCounters(entitlement, 1, 0, 9)
        self.assertEqual(entitlement.state, "active")

    def test_consumed_use_cannot_be_consumed_or_released_again(self):
        entitlement = self._sell_one(self.package_physio8)
        usage = self._book(entitlement)
        usage.action_consume()
        with self.assertRaises(UserError):
            usage.action_consume()
        with self.assertRaises(UserError):
            usage.action_release()
        self.assertEqual(usage.state, "consumed")
        self.assertCounters(entitlement, 1, 0, 7)

    def test_exhaustion(self):
        entitlement = self._sell_one(self.package_short)
        first = self._book(entitlement)
        second = self._book(entitlement)
        self.assertCounters(entitlement, 0, 2, 0)
        self.assertEqual(entitlement.state, "active", "booked uses do not exhaust it")
        first.action_consume()
        self.assertCounters(entitlement, 1, 1, 0)
        self.assertEqual(entitlement.state, "active")
        second.action_consume()
        self.assertCounters(entitlement, 2, 0, 0)
        self.assertEqual(entitlement.state, "exhausted")
        self.assertEqual(entitlement.line_ids.used, 2)
        self.assertEqual(entitlement.line_ids.remaining, 0)

    def test_booking_beyond_remaining_refused(self):
        entitlement = self._sell_one(self.package_short)
        self._book(entitlement).action_consume()
        self._book(entitlement)
        with self.assertRaises(UserError) as error:
            self._book(entitlement)
        message = str(error.exception)
        self.assertIn(entitlement.name, message)
        self.assertIn("Physio 45 min", message)
        self.assertIn("1 used, 1 booked of 2", message)
        self.assertEqual(len(entitlement.usage_ids), 2)
        self.assertCounters(entitlement, 1, 1, 0)

    def test_booking_on_exhausted_refused(self):
        entitlement = self._sell_one(self.package_short)
        for _i in range(2):
            self._book(entitlement).action_consume()
        self.assertEqual(entitlement.state, "exhausted")
        with self.assertRaises(UserError) as error:
            self._book(entitlement)
        self.assertIn(entitlement.name, str(error.exception))
        self.assertEqual(len(entitlement.usage_ids), 2)

    def test_booking_two_at_once_beyond_remaining_refused(self):
        entitlement = self._sell_one(self.package_short)
        self._book(entitlement)
        with self.assertRaises(UserError) as error:
            self.env["clinic.entitlement.usage"].create(
                [
                    {"entitlement_id": entitlement.id, "service_product_id": self.physio.id},
                    {"entitlement_id": entitlement.id, "service_product_id": self.physio.id},
                ]
            )
        self.assertIn(entitlement.name, str(error.exception))
        self.assertCounters(entitlement, 0, 1, 1)

    def test_booking_service_not_in_package_refused(self):
        entitlement = self._sell_one(self.package_physio8)
        with self.assertRaises(UserError) as error:
            self._book(entitlement, self.massage)
        message = str(error.exception)
        self.assertIn(entitlement.name, message)
        self.assertIn("Massage 60 min", message)
        self.assertFalse(entitlement.usage_ids)

    def test_one_line_used_up_is_not_exhaustion(self):
        entitlement = self._sell_one(self.package_rehab)
        for _i in range(4):
            self._book(entitlement, self.massage).action_consume()
        massage_line = self._line(entitlement, self.massage)
        self.assertCounters(massage_line, 4, 0, 0)
        self.assertCounters(entitlement, 4, 0, 6)
        self.assertEqual(entitlement.state, "active")
        with self.assertRaises(UserError) as error:
            self._book(entitlement, self.massage)
        self.assertIn("Massage 60 min", str(error.exception))
        self._book(entitlement)  # physio is still available
        self.assertCounters(entitlement, 4, 1, 5)

    def test_last_use_of_every_line_exhausts(self):
        entitlement = self._sell_one(self.package_rehab)
        usages = self.env["clinic.entitlement.usage"].create(
            [{"entitlement_id": entitlement.id, "service_product_id": self.physio.id}] * 6
            + [{"entitlement_id": entitlement.id, "service_product_id": self.massage.id}] * 4
        )
        self.assertCounters(entitlement, 0, 10, 0)
        usages[:-1].action_consume()
        self.assertEqual(entitlement.state, "active")
        self.assertCounters(entitlement, 9, 1, 0)
        usages[-1].action_consume()
        self.assertEqual(entitlement.state, "exhausted")
        self.assertCounters(entitlement, 10, 0, 0)
        for line in entitlement.line_ids:
            self.assertEqual(line.remaining, 0)
            self.assertEqual(line.used, line.quantity)

    def test_exhausted_package_is_not_paused(self):
        entitlement = self._sell_one(self.package_short)
        for _i in range(2):
            self._book(entitlement).action_consume()
        with self.assertRaises(UserError) as error:
            entitlement.action_pause()
        self.assertIn(entitlement.name, str(error.exception))
        self.assertEqual(entitlement.state, "exhausted")
