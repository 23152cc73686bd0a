"""Weekly and monthly caps of a package, and a Clinic Manager's adjustment of its uses.

A package with a cap covers at most that many visits of a calendar week (Monday to Sunday) or
month: a visit beyond it is refused with the next week or month it fits in (nothing written),
left uncovered with that reason in a series, and passed over when the package is chosen
automatically. A Clinic Manager adds or removes uses with a reason (chatter); adding uses adds
no money. Visits are booked by the front desk (a Clinic User).
"""

from datetime import datetime, timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time

from .common import ClinicCase, attend

TODAY = "2026-03-02"  # a Monday


def at(month, day, hour=10):
    """2026-<month>-<day> at <hour>:00 UTC."""
    return datetime(2026, month, day, hour, 0)


@freeze_time(TODAY)
class TestCapsAdjust(ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.tz = "UTC"
        (cls.receptionist | cls.manager).write({"tz": "UTC", "lang": "en_US"})
        cls.weekly = cls._clinic_package(
            "Physio, 2 a week",
            800.0,
            [(cls.physio, 8, 0.0)],
            clinic_validity_days=365,
            clinic_cap_per_week=2,
        )
        cls.monthly = cls._clinic_package(
            "Physio, 3 a month",
            800.0,
            [(cls.physio, 8, 0.0)],
            clinic_validity_days=365,
            clinic_cap_per_month=3,
        )

    def _sell(self, product):
        order = self._clinic_sell(product)
        invoice = order._create_invoices()
        invoice.action_post()
        return order.clinic_entitlement_ids

    def _book(self, start, package=None, **values):
        """A visit booked by the front desk, with `package` when given (else the one the
        visit picks)."""
        vals = {
            "name": "Visit",
            "start": start,
            "stop": start + timedelta(minutes=45),
            "clinic_patient_id": self.patient.id,
            "clinic_service_id": self.physio.id,
            "user_id": self.practitioner.id,
            "partner_ids": [Command.clear()],
            **values,
        }
        if package is not None:
            vals["clinic_entitlement_id"] = package.id
        return self.env["calendar.event"].with_user(self.receptionist).create(vals)

    def _snapshot(self, package):
        return (
            self.env["calendar.event"].search_count([]),
            self.env["clinic.entitlement.usage"].search_count([]),
            package.uses_reserved,
        )

    def _assert_money(self, package):
        money = package._clinic_money()
        self.assertAlmostEqual(
            money["billed"],
            money["recognised"] + money["unearned"] + money["refunded"] + money["breakage"],
            places=2,
        )
        return money

    # ------------------------------------------------------------------ caps
    def test_caps_copied_at_sale_and_shown_to_the_front_desk(self):
        package = self._sell(self.weekly)
        self.assertEqual((package.cap_per_week, package.cap_per_month), (2, 0))
        monthly = self._sell(self.monthly)
        self.assertEqual((monthly.cap_per_week, monthly.cap_per_month), (0, 3))
        self.assertEqual(package.with_user(self.receptionist).cap_per_week, 2)

    def test_week_cap_refuses_with_next_week_and_writes_nothing(self):
        package = self._sell(self.weekly)
        self._book(at(3, 3), package)
        self._book(at(3, 5), package)
        before = self._snapshot(package)
        # Sunday is still the week of Monday 2 March
        with self.assertRaises(UserError) as caught:
            self._book(at(3, 8, 18), package)
        message = caught.exception.args[0]
        self.assertIn("allows 2 use(s) per week: 2 are already booked or used", message)
        self.assertIn("in the week of 03/02/2026", message)
        self.assertIn("Book it in the week of 03/09/2026, or without the package.", message)
        self.assertEqual(self._snapshot(package), before, "a refused booking writes nothing")
        # Monday is a new week
        monday = self._book(at(3, 9, 8), package)
        self.assertEqual(monday.clinic_entitlement_id, package)
        self.assertEqual(monday.clinic_usage_id.state, "reserved")

    def test_week_cap_next_week_skips_full_weeks_and_counts_used_visits(self):
        package = self._sell(self.weekly)
        first = self._book(at(3, 3), package)
        attend(first, "arrive")
        self.assertEqual(first.clinic_usage_id.state, "consumed")
        self._book(at(3, 4), package)
        self._book(at(3, 9), package)
        self._book(at(3, 10), package)
        with self.assertRaises(UserError) as caught:
            self._book(at(3, 6), package)
        self.assertIn("Book it in the week of 03/16/2026", caught.exception.args[0])

    def test_moving_a_visit_within_its_week_does_not_count_itself(self):
        package = self._sell(self.weekly)
        self._book(at(3, 3), package)
        visit = self._book(at(3, 4), package)
        visit.with_user(self.receptionist).write(
            {"start": at(3, 6), "stop": at(3, 6) + timedelta(minutes=45)}
        )
        self.assertEqual(visit.clinic_entitlement_id, package)
        self.assertEqual(visit.clinic_usage_id.date.isoformat(), "2026-03-06")
        self.assertEqual(package.uses_reserved, 2)

    def test_month_cap_across_the_month_boundary(self):
        package = self._sell(self.monthly)
        for day in (10, 24, 31):
            self._book(at(3, day), package)
        before = self._snapshot(package)
        with self.assertRaises(UserError) as caught:
            self._book(at(3, 27), package)
        message = caught.exception.args[0]
        self.assertIn(
            "allows 3 use(s) per month: 3 are already booked or used in March 2026", message
        )
        self.assertIn("Book it in April 2026, or without the package.", message)
        self.assertEqual(self._snapshot(package), before)
        # the week of 30 March runs into April: the month counts, not the week
        april = self._book(at(4, 1), package)
        self.assertEqual(april.clinic_entitlement_id, package)

    def test_cap_beyond_expiry_says_book_without_the_package(self):
        package = self._sell(self.weekly)
        package.date_expiry = "2026-03-08"
        self._book(at(3, 3), package)
        self._book(at(3, 4), package)
        with self.assertRaises(UserError) as caught:
            self._book(at(3, 5), package)
        self.assertIn("book the visit without the package", caught.exception.args[0])

    def test_automatic_choice_passes_over_a_capped_out_package(self):
        package = self._sell(self.weekly)
        self.assertEqual(self._book(at(3, 3)).clinic_entitlement_id, package)
        self.assertEqual(self._book(at(3, 4)).clinic_entitlement_id, package)
        # none left this week: booked without package, the warning says why
        visit = self._book(at(3, 5))
        self.assertFalse(visit.clinic_entitlement_id)
        self.assertIn("allows 2 use(s) per week", visit.clinic_warning)
        # another package of the patient is chosen instead
        other = self._sell(self.package_physio8)
        self.assertEqual(self._book(at(3, 6)).clinic_entitlement_id, other)

    def test_series_beyond_the_cap_left_uncovered_with_the_reason(self):
        package = self._sell(self.weekly)
        # Monday, Tuesday and Thursday for two weeks: the Thursdays go beyond the cap
        base = self._book(
            at(3, 2, 12),
            package,
            recurrency=True,
            rrule_type="weekly",
            interval=1,
            count=6,
            mon=True,
            tue=True,
            thu=True,
            end_type="count",
        )
        series = base.recurrence_id.calendar_event_ids.sorted("start")
        self.assertEqual(len(series), 6)
        covered = series.filtered("clinic_entitlement_id")
        self.assertEqual(
            [e.start.day for e in covered], [2, 3, 9, 10], "the first two of each week"
        )
        self.assertEqual(package.uses_reserved, 4)
        for event in series - covered:
            self.assertIn("Not covered by a package", event.clinic_coverage_note)
            self.assertIn("allows 2 use(s) per week", event.clinic_coverage_note)
        uncovered = series - covered
        self.assertIn("week of 03/09/2026", uncovered[0].clinic_coverage_note)
        self.assertIn("week of 03/16/2026", uncovered[-1].clinic_coverage_note)

    def test_front_desk_cannot_change_the_caps(self):
        package = self._sell(self.weekly)
        with self.assertRaises(AccessError):
            package.with_user(self.receptionist).write({"cap_per_week": 0})
        with self.assertRaises(AccessError):
            package.with_user(self.receptionist).write({"cap_per_month": 10})
        with self.assertRaises(AccessError):
            self.weekly.product_tmpl_id.with_user(self.receptionist).write(
                {"clinic_cap_per_week": 5}
            )
        self.assertEqual(package.cap_per_week, 2)
        # a manager changes the terms of a package
        package.with_user(self.manager).write({"cap_per_week": 3})
        self.assertEqual(package.cap_per_week, 3)

    # ------------------------------------------------------------------ adjustment
    def _adjust(self, package, delta, reason="Goodwill after a complaint", user=None):
        wizard = (
            self.env["clinic.entitlement.adjust"]
            .with_user(user or self.manager)
            .create(
                {
                    "entitlement_id": package.id,
                    "delta": delta,
                    "reason": reason,
                }
            )
        )
        return wizard.action_confirm()

    def test_manager_adds_uses_without_adding_money(self):
        package = self._sell(self.package_physio8)
        attend(self._book(at(3, 3), package), "arrive")
        before = self._assert_money(package)
        action = package.with_user(self.manager).action_adjust_uses()
        self.assertEqual(action["res_model"], "clinic.entitlement.adjust")
        self._adjust(package, 2)
        line = package.line_ids
        self.assertEqual((line.quantity, package.uses_total, package.uses_remaining), (10, 10, 9))
        after = self._assert_money(package)
        self.assertEqual(after, before, "adding uses adds no money")
        self.assertIn("Goodwill after a complaint", package.message_ids[0].body)
        self.assertIn("+2 use(s)", package.message_ids[0].body)
        # the rest of the value is delivered by the 9 uses left, to the cent
        for day in range(4, 13):
            attend(self._book(at(3, day), package), "arrive")
        money = self._assert_money(package)
        self.assertEqual(package.state, "exhausted")
        self.assertAlmostEqual(money["unearned"], 0.0, places=2)
        self.assertAlmostEqual(money["recognised"], money["billed"], places=2)

    def test_manager_removes_unused_uses_never_below_used_and_booked(self):
        package = self._sell(self.package_physio8)
        attend(self._book(at(3, 3), package), "arrive")
        self._book(at(3, 4), package)
        self._adjust(package, -5, reason="Sessions not needed")
        self.assertEqual(package.line_ids.quantity, 3)
        self.assertIn("Sessions not needed", package.message_ids[0].body)
        with self.assertRaises(UserError) as caught:
            self._adjust(package, -2)
        self.assertIn("at most 1 can be removed", caught.exception.args[0])
        self.assertEqual(package.line_ids.quantity, 3)
        self._assert_money(package)

    def test_removing_the_last_free_uses_recognises_breakage(self):
        package = self._sell(self.package_physio8)
        attend(self._book(at(3, 3), package), "arrive")
        self._adjust(package, -7)
        self.assertEqual(package.state, "exhausted")
        money = self._assert_money(package)
        self.assertAlmostEqual(money["unearned"], 0.0, places=2)
        self.assertAlmostEqual(money["breakage"], 1400.0, places=2)

    def test_adjustment_needs_a_reason_and_a_number(self):
        package = self._sell(self.package_physio8)
        with self.assertRaises(UserError):
            package.line_ids.with_user(self.manager)._clinic_adjust_uses(1, "  ")
        with self.assertRaises(UserError):
            package.line_ids.with_user(self.manager)._clinic_adjust_uses(0, "why")

    def test_front_desk_cannot_adjust_uses(self):
        package = self._sell(self.package_physio8)
        with self.assertRaises(AccessError):
            package.with_user(self.receptionist).action_adjust_uses()
        with self.assertRaises(AccessError):
            self._adjust(package, 2, user=self.receptionist)
        with self.assertRaises(AccessError):
            package.line_ids.with_user(self.receptionist)._clinic_adjust_uses(2, "why")
        self.assertEqual(package.line_ids.quantity, 8)
