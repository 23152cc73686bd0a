from datetime import date, datetime, timedelta

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import freeze_time

from .common import ClinicCase, attend

TODAY = "2026-03-02"  # a Monday


def at(day, hour=10):
    """2026-03-<day> at <hour>:00 UTC."""
    return datetime(2026, 3, day, hour, 0)


@freeze_time(TODAY)
class TestBooking(ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.tz = "UTC"
        cls.no_show_fee = cls.env["product.product"].create(
            {
                "name": "No-show fee",
                "type": "service",
                "list_price": 50.0,
                "taxes_id": [Command.clear()],
            }
        )
        cls.env.company.clinic_no_show_product_id = cls.no_show_fee

    def _sell_one(self, product=None, **values):
        entitlement = self._clinic_sell(product or self.package_physio8).clinic_entitlement_ids
        if values:
            entitlement.write(values)
        return entitlement

    def _line(self, entitlement, service=None):
        return entitlement._clinic_line_for(service or self.physio)

    # ------------------------------------------------------------------ booking
    def test_booking_preselects_soonest_expiring_and_reserves(self):
        later = self._sell_one(date_expiry=date(2026, 9, 1))
        sooner = self._sell_one(date_expiry=date(2026, 5, 1))
        never = self._sell_one(date_expiry=False)
        event = self._clinic_book(at(3))
        self.assertEqual(event.clinic_entitlement_id, sooner)
        self.assertEqual(event.clinic_usage_id.state, "reserved")
        self.assertEqual(event.clinic_usage_id.user_id, self.practitioner)
        self.assertEqual(event.clinic_usage_id.date, date(2026, 3, 3))
        line = self._line(sooner)
        self.assertEqual((line.used, line.reserved, line.remaining), (0, 1, 7))
        self.assertEqual(sooner.uses_remaining, 7)
        self.assertEqual(later.uses_reserved + never.uses_reserved, 0)
        self.assertEqual(event.clinic_package_info, f"{sooner.name}: 7 of 8 left after this visit")
        self.assertFalse(event.clinic_warning)

    def test_staff_choose_another_package_or_none(self):
        first = self._sell_one(date_expiry=date(2026, 5, 1))
        second = self._sell_one(date_expiry=date(2026, 9, 1))
        chosen = self._clinic_book(at(3), clinic_entitlement_id=second.id)
        self.assertEqual(chosen.clinic_entitlement_id, second)
        self.assertEqual((first.uses_reserved, second.uses_reserved), (0, 1))
        without = self._clinic_book(at(4), clinic_entitlement_id=False)
        self.assertFalse(without.clinic_entitlement_id)
        self.assertFalse(without.clinic_usage_id)
        # switching the package moves the reservation
        chosen.clinic_entitlement_id = first
        self.assertEqual((first.uses_reserved, second.uses_reserved), (1, 0))
        self.assertEqual(chosen.clinic_usage_id.entitlement_id, first)
        # removing it before arrival releases the use
        chosen.clinic_entitlement_id = False
        self.assertEqual((first.uses_reserved, second.uses_reserved), (0, 0))
        self.assertEqual(
            self.env["clinic.entitlement.usage"].search_count(
                [("event_id", "=", chosen.id), ("state", "=", "released")]
            ),
            2,
        )

    def test_onchange_picks_the_package(self):
        entitlement = self._sell_one()
        event = self.env["calendar.event"].new(
            {
                "name": "Visit",
                "start": at(3),
                "stop": at(3, 11),
                "user_id": self.practitioner.id,
            }
        )
        event.clinic_patient_id = self.patient
        event.clinic_service_id = self.physio
        event._onchange_clinic_patient_service()
        self.assertEqual(event.clinic_entitlement_id, entitlement)
        event.clinic_service_id = self.acupuncture
        event._onchange_clinic_patient_service()
        self.assertFalse(event.clinic_entitlement_id)

    def test_refusals_name_the_limit_and_the_way_out(self):
        entitlement = self._sell_one(date_expiry=date(2026, 3, 31))
        other_patient = self._clinic_sell(self.package_physio8, partner=self.patient_2)
        cases = [
            ({"clinic_entitlement_id": other_patient.clinic_entitlement_ids.id}, "belongs to"),
            (
                {"clinic_entitlement_id": entitlement.id, "clinic_service_id": self.acupuncture.id},
                "does not cover Acupuncture",
            ),
        ]
        for values, message in cases:
            with self.subTest(message=message), self.assertRaisesRegex(UserError, message):
                self._clinic_book(at(3), **values)
        with self.assertRaisesRegex(UserError, "expires on 03/31/2026, before this visit"):
            self._clinic_book(at(31) + timedelta(days=1), clinic_entitlement_id=entitlement.id)
        self.assertEqual(entitlement.uses_reserved, 0)
        entitlement.action_pause()
        with self.assertRaisesRegex(UserError, "is paused. Resume it"):
            self._clinic_book(at(3), clinic_entitlement_id=entitlement.id)
        entitlement.action_resume()
        entitlement.write({"practitioner_ids": [Command.set(self.manager.ids)]})
        with self.assertRaisesRegex(
            UserError, "valid only with Clinic Manager.*Change the practitioner"
        ):
            self._clinic_book(at(3), clinic_entitlement_id=entitlement.id)
        entitlement.write(
            {
                "practitioner_ids": [Command.clear()],
                "location_ids": [Command.set(self.location.ids)],
            }
        )
        with self.assertRaisesRegex(
            UserError, "valid only at Main Street; this visit is at Harbour"
        ):
            self._clinic_book(
                at(3), clinic_entitlement_id=entitlement.id, clinic_location_id=self.location_2.id
            )
        ok = self._clinic_book(
            at(3), clinic_entitlement_id=entitlement.id, clinic_location_id=self.location.id
        )
        self.assertEqual(ok.clinic_usage_id.state, "reserved")
        self.assertEqual(entitlement.uses_reserved, 1)

    def test_draft_package_awaiting_payment_is_refused(self):
        self.package_physio8.clinic_activation = "on_payment"
        entitlement = self._sell_one()
        self.assertEqual(entitlement.state, "draft")
        with self.assertRaisesRegex(UserError, "not active yet.*invoice is paid"):
            self._clinic_book(at(3), clinic_entitlement_id=entitlement.id)
        # automatic choice skips it: the visit is booked without a package
        self.assertFalse(self._clinic_book(at(3)).clinic_entitlement_id)

    def test_exhausted_package_refused_and_warned(self):
        package = self._clinic_package("2 Physio", 400.0, [(self.physio, 2, 0.0)])
        entitlement = self._sell_one(package)
        self._clinic_book(at(3))
        self._clinic_book(at(4))
        self.assertEqual(entitlement.uses_remaining, 0)
        with self.assertRaisesRegex(
            UserError, r"has no \[97110\] Physio 45 min left.*Sell the patient a new package"
        ):
            self._clinic_book(at(5), clinic_entitlement_id=entitlement.id)
        third = self._clinic_book(at(5))
        self.assertFalse(third.clinic_entitlement_id)
        self.assertIn("Physio 45 min left", third.clinic_warning)
        self.assertEqual(entitlement.uses_reserved, 2)

    # ------------------------------------------------------------------ arrival
    def test_arrival_consumes_and_bills_patient_pays(self):
        entitlement = self._sell_one(self.package_rehab)
        physio = self._clinic_book(at(3))
        attend(physio, "arrive")
        self.assertEqual(physio.clinic_attendance, "arrived")
        self.assertEqual(physio.clinic_usage_id.state, "consumed")
        self.assertEqual(physio.clinic_usage_id.reason, "attended")
        self.assertEqual(physio.clinic_usage_id.user_id, self.practitioner)
        self.assertFalse(physio.clinic_invoice_id, "patient pays 0: no invoice")
        massage = self._clinic_book(at(4), service=self.massage)
        attend(massage, "arrive")
        invoice = massage.clinic_invoice_id
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(invoice.partner_id, self.patient)
        self.assertEqual(invoice.amount_untaxed, 10.0)
        self.assertEqual(invoice.invoice_line_ids.product_id, self.massage)
        self.assertEqual(
            (self._line(entitlement).used, self._line(entitlement, self.massage).used), (1, 1)
        )
        self.assertEqual(entitlement.uses_used, 2)
        self.assertEqual(entitlement.uses_remaining, 8)
        with self.assertRaisesRegex(UserError, "already marked Arrived"):
            attend(massage, "arrive")

    def test_arrival_without_package_bills_the_service(self):
        event = self._clinic_book(at(3), service=self.acupuncture)
        self.assertFalse(event.clinic_entitlement_id)
        attend(event, "arrive")
        self.assertEqual(event.clinic_invoice_id.amount_untaxed, 90.0)

    def test_package_cannot_be_removed_after_arrival(self):
        self._sell_one()
        event = self._clinic_book(at(3))
        attend(event, "arrive")
        with self.assertRaisesRegex(UserError, "cannot be changed: the visit was already counted"):
            event.clinic_entitlement_id = False
        with self.assertRaisesRegex(UserError, "cannot be deleted. Undo the arrival"):
            event.unlink()

    # ------------------------------------------------------------------ no-show / cancel
    def test_no_show_covered_counts_as_a_use(self):
        entitlement = self._sell_one()
        event = self._clinic_book(at(3))
        attend(event, "no_show", cover=True)
        self.assertEqual(event.clinic_attendance, "no_show")
        self.assertEqual(event.clinic_usage_id.state, "consumed")
        self.assertEqual(event.clinic_usage_id.reason, "no_show")
        self.assertFalse(event.clinic_invoice_id)
        self.assertEqual(entitlement.uses_used, 1)

    def test_no_show_not_covered_releases_and_charges_fee(self):
        entitlement = self._sell_one()
        event = self._clinic_book(at(3))
        attend(event, "no_show", cover=False)
        self.assertEqual(event.clinic_usage_id.state, "released")
        self.assertEqual((entitlement.uses_used, entitlement.uses_reserved), (0, 0))
        self.assertEqual(event.clinic_invoice_id.invoice_line_ids.product_id, self.no_show_fee)
        self.assertEqual(event.clinic_invoice_id.amount_untaxed, 50.0)
        # no fee configured: nothing invoiced
        self.env.company.clinic_no_show_product_id = False
        other = self._clinic_book(at(4))
        attend(other, "no_show", cover=False)
        self.assertFalse(other.clinic_invoice_id)

    def test_no_show_cover_refused_when_package_excludes_no_shows(self):
        entitlement = self._sell_one(count_no_show=False)
        event = self._clinic_book(at(3))
        with self.assertRaisesRegex(UserError, "does not cover no-shows"):
            attend(event, "no_show", cover=True)
        self.assertEqual(event.clinic_attendance, "upcoming")
        self.assertEqual(entitlement.uses_reserved, 1)

    def test_cancel_and_late_cancel(self):
        counting = self._sell_one(count_late_cancel=True, date_expiry=date(2026, 4, 1))
        not_counting = self._sell_one(count_late_cancel=False, date_expiry=date(2026, 5, 1))
        cancelled = self._clinic_book(at(3), clinic_entitlement_id=counting.id)
        cancelled.action_clinic_cancel()
        self.assertEqual(cancelled.clinic_attendance, "cancelled")
        self.assertEqual(cancelled.clinic_usage_id.state, "released")
        self.assertEqual((counting.uses_used, counting.uses_reserved), (0, 0))
        late = self._clinic_book(at(4), clinic_entitlement_id=counting.id)
        late.action_clinic_cancel(late=True)
        self.assertEqual(late.clinic_attendance, "late_cancel")
        self.assertEqual(late.clinic_usage_id.reason, "late_cancel")
        self.assertEqual(counting.uses_used, 1)
        late_free = self._clinic_book(at(5), clinic_entitlement_id=not_counting.id)
        late_free.action_clinic_cancel(late=True)
        self.assertEqual(late_free.clinic_usage_id.state, "released")
        self.assertEqual((not_counting.uses_used, not_counting.uses_reserved), (0, 0))

    # ------------------------------------------------------------------ undo
    def test_reset_undoes_arrival_and_no_show(self):
        entitlement = self._sell_one(self.package_rehab)
        event = self._clinic_book(at(3), service=self.massage)
        attend(event, "arrive")
        invoice = event.clinic_invoice_id
        event.action_clinic_reset()
        self.assertEqual(event.clinic_attendance, "upcoming")
        self.assertEqual(event.clinic_usage_id.state, "reserved")
        self.assertFalse(invoice.exists(), "the draft visit invoice is removed")
        self.assertEqual((entitlement.uses_used, entitlement.uses_reserved), (0, 1))
        attend(event, "no_show", cover=False)
        self.assertEqual(entitlement.uses_reserved, 0)
        event.action_clinic_reset()
        self.assertEqual(event.clinic_usage_id.state, "reserved")
        self.assertEqual(entitlement.uses_reserved, 1)
        with self.assertRaisesRegex(UserError, "still upcoming: there is nothing to undo"):
            event.action_clinic_reset()

    def test_reset_refused_once_invoice_posted(self):
        self._sell_one(self.package_rehab)
        event = self._clinic_book(at(3), service=self.massage)
        attend(event, "arrive")
        event.clinic_invoice_id.action_post()
        with self.assertRaisesRegex(UserError, "is posted. Reverse the invoice"):
            event.action_clinic_reset()
        self.assertEqual(event.clinic_attendance, "arrived")
        self.assertEqual(event.clinic_usage_id.state, "consumed")

    def test_reset_after_package_used_up_elsewhere_is_refused(self):
        package = self._clinic_package("1 Physio", 200.0, [(self.physio, 1, 0.0)])
        entitlement = self._sell_one(package)
        first = self._clinic_book(at(3))
        first.action_clinic_cancel()
        attend(self._clinic_book(at(4)), "arrive")
        self.assertEqual(entitlement.state, "exhausted")
        with self.assertRaisesRegex(UserError, "is used up"):
            first.action_clinic_reset()

    # ------------------------------------------------------------------ reschedule / delete
    def test_reschedule_past_expiry_refused_until_extended(self):
        entitlement = self._sell_one(date_expiry=date(2026, 3, 31))
        event = self._clinic_book(at(10))
        with self.assertRaisesRegex(
            UserError, "expires on 03/31/2026.*Extend the package's expiry"
        ):
            event.write({"start": datetime(2026, 4, 2, 10), "stop": datetime(2026, 4, 2, 11)})
        self.assertEqual(event.clinic_usage_id.date, date(2026, 3, 10))
        entitlement.date_expiry = date(2026, 4, 30)
        event.write({"start": datetime(2026, 4, 2, 10), "stop": datetime(2026, 4, 2, 11)})
        self.assertEqual(event.clinic_usage_id.date, date(2026, 4, 2))
        self.assertEqual(entitlement.uses_reserved, 1)

    def test_delete_covered_visit_releases_its_use(self):
        entitlement = self._sell_one()
        event = self._clinic_book(at(3))
        usage = event.clinic_usage_id
        event.unlink()
        self.assertEqual(usage.state, "released")
        self.assertEqual(entitlement.uses_reserved, 0)
        archived = self._clinic_book(at(4))
        archived.active = False
        self.assertEqual(archived.clinic_usage_id.state, "released")
        self.assertEqual(entitlement.uses_reserved, 0)

    # ------------------------------------------------------------------ series
    def test_series_beyond_uses_left_warns_uncovered_occurrences(self):
        entitlement = self._sell_one(date_expiry=date(2026, 12, 31))
        attend(self._clinic_book(at(2)), "arrive")
        base = self._clinic_book(
            at(4),
            recurrency=True,
            rrule_type="weekly",
            interval=1,
            count=10,
            wed=True,
            end_type="count",
        )
        series = base.recurrence_id.calendar_event_ids.sorted("start")
        self.assertEqual(len(series), 10)
        covered = series.filtered("clinic_entitlement_id")
        self.assertEqual(covered, series[:7], "the earliest visits get the uses left")
        self.assertEqual(entitlement.uses_reserved, 7)
        self.assertEqual(entitlement.uses_remaining, 0)
        for event in series[7:]:
            self.assertIn("Not covered by a package", event.clinic_coverage_note)
            self.assertIn("Not covered by a package", event.clinic_warning)
        message = base.recurrence_id.base_event_id.message_ids.filtered(
            lambda m: "left without package" in (m.body or "")
        )
        self.assertIn("(2026-04-22, 2026-04-29, 2026-05-06)", message.body)

    def test_series_past_expiry(self):
        entitlement = self._sell_one(date_expiry=date(2026, 3, 20))
        base = self._clinic_book(
            at(4),
            recurrency=True,
            rrule_type="weekly",
            interval=1,
            count=4,
            wed=True,
            end_type="count",
        )
        series = base.recurrence_id.calendar_event_ids.sorted("start")
        self.assertEqual(series.mapped("clinic_entitlement_id"), entitlement)
        self.assertEqual(len(series.filtered("clinic_entitlement_id")), 3)
        self.assertIn("expires on 03/20/2026", series[3].clinic_coverage_note)

    # ------------------------------------------------------------------ first-visit activation
    def test_first_visit_starts_validity(self):
        self.package_physio8.clinic_activation = "on_first_visit"
        entitlement = self._sell_one()
        self.assertEqual(entitlement.state, "active")
        self.assertFalse(entitlement.date_start)
        event = self._clinic_book(at(9))
        self.assertFalse(entitlement.date_start, "booking alone does not start it")
        attend(event, "arrive")
        self.assertEqual(entitlement.date_start, date(2026, 3, 9))
        self.assertEqual(entitlement.date_expiry, date(2026, 9, 5))
        event.action_clinic_reset()
        self.assertFalse(entitlement.date_start, "undoing the first visit undoes the start")
        self.assertFalse(entitlement.date_expiry)

    # ------------------------------------------------------------------ the seed scenario
    def test_eight_visit_package_scenario(self):
        """8 visits: 7 attended, 1 no-show covered -> used up; a 10th booking refused."""
        entitlement = self._sell_one()
        for day in range(3, 10):
            attend(self._clinic_book(at(day)), "arrive")
            self.assertEqual(entitlement.uses_used, day - 2)
        self.assertEqual(entitlement.state, "active")
        no_show = self._clinic_book(at(10))
        self.assertEqual(
            no_show.clinic_package_info, f"{entitlement.name}: 0 of 8 left after this visit"
        )
        attend(no_show, "no_show", cover=True)
        self.assertEqual(entitlement.state, "exhausted")
        self.assertEqual(
            (entitlement.uses_used, entitlement.uses_reserved, entitlement.uses_remaining),
            (8, 0, 0),
        )
        with self.assertRaisesRegex(UserError, "is used up. Sell the patient a new package"):
            self._clinic_book(at(11), clinic_entitlement_id=entitlement.id)
        tenth = self._clinic_book(at(11))
        self.assertFalse(tenth.clinic_entitlement_id)
        self.assertIn("used up", tenth.clinic_warning)
        # undoing the no-show brings the package back
        no_show.action_clinic_reset()
        self.assertEqual(entitlement.state, "active")
        self.assertEqual((entitlement.uses_used, entitlement.uses_reserved), (7, 1))
