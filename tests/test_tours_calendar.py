"""The front desk's calendar in headless Chromium (clinic_calendar_tours.js): quick-create
booking, a practitioner's own day, deleting from the popover, a no-show from the day sheet.
The database is checked after each tour. Needs pytest-odoo's `--odoo-http`."""

from datetime import datetime, time, timedelta
from unittest.mock import patch

import pytz

from odoo import fields
from odoo.tests import new_test_user
from odoo.tests.common import ChromeBrowser

from .test_tours import ClinicTourCase


class TestCalendarTours(ClinicTourCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.practitioner_2 = new_test_user(
            cls.env,
            login="clinic_practitioner_2",
            name="Dr. Second",
            groups="clinic_packages.group_clinic_user",
            clinic_practitioner=True,
        )
        cls.physio.clinic_visit_minutes = 45
        cls.fee = cls.env["product.product"].create(
            {"name": "No-show Fee", "type": "service", "list_price": 50.0}
        )
        cls.company.clinic_no_show_product_id = cls.fee

    def setUp(self):
        super().setUp()
        self.entitlement = self._clinic_sell(self.package_physio8).clinic_entitlement_ids

    def _today_at(self, hour):
        return datetime.combine(fields.Date.today(), time(hour))

    def _other_visit(self):
        """James's massage with the second practitioner, today at 9."""
        start = self._today_at(9)
        return self._clinic_book(
            start,
            service=self.massage,
            patient=self.patient_2,
            user=self.practitioner_2,
            stop=start + timedelta(hours=1),
            name="",
        )

    def test_book_from_the_calendar_quick_create(self):
        other = self._other_visit()
        self.start_tour(
            "/odoo/action-clinic_packages.clinic_visit_action",
            "clinic_calendar_quick_create",
            login=self.receptionist.login,
        )
        visit = self._visits(self.patient)
        self.assertEqual(len(visit), 1)
        self.assertEqual(visit.name, "Maria Lopez – Physio 45 min")
        self.assertEqual(visit.duration, 0.75)
        self.assertEqual(visit.stop - visit.start, timedelta(minutes=45))
        # the practitioner is credited, not the receptionist who booked
        self.assertEqual(visit.user_id, self.practitioner)
        self.assertEqual(visit.partner_ids, self.patient | self.practitioner.partner_id)
        self.assertEqual(visit.clinic_entitlement_id, self.entitlement)
        self.assertEqual(visit.clinic_usage_id.state, "reserved")
        self.assertEqual(visit.clinic_usage_id.user_id, self.practitioner)
        self.assertEqual(self.entitlement.uses_reserved, 1)
        self.assertEqual(other.clinic_attendance, "upcoming")

    def test_delete_from_the_popover_releases_the_use(self):
        visit = self._clinic_book(self._today_at(11), name="")
        usage = visit.clinic_usage_id
        self.assertEqual((usage.state, self.entitlement.uses_reserved), ("reserved", 1))
        self.start_tour(
            "/odoo/action-clinic_packages.clinic_visit_action",
            "clinic_calendar_popover_delete",
            login=self.receptionist.login,
        )
        self.assertFalse(visit.exists())
        self.assertEqual(usage.state, "released")
        self.assertEqual((self.entitlement.uses_reserved, self.entitlement.uses_remaining), (0, 8))

    def test_day_sheet_today_in_the_clinic_time_zone(self):
        """A clinic in Sydney (UTC+10/+11): the day sheet's "Today" is Sydney's day, from its
        midnight to the next, whatever UTC's date is."""
        sydney = pytz.timezone("Australia/Sydney")
        self.receptionist.tz = "Australia/Sydney"
        today = datetime.now(sydney).date()

        def at_7_30(day):
            local = sydney.localize(datetime.combine(day, time(7, 30)))
            return local.astimezone(pytz.utc).replace(tzinfo=None)

        # this morning in Sydney is yesterday evening in UTC; tomorrow morning is UTC's today
        self._clinic_book(at_7_30(today), name="")
        self._clinic_book(
            at_7_30(today + timedelta(days=1)),
            service=self.massage,
            patient=self.patient_2,
            user=self.practitioner_2,
            name="",
        )
        navigate = ChromeBrowser.navigate_to

        def navigate_from_sydney(browser, url, wait_stop=False):
            # the web client takes "today" from the browser's time zone, as at the clinic
            browser._websocket_request(
                "Emulation.setTimezoneOverride", params={"timezoneId": "Australia/Sydney"}
            )
            return navigate(browser, url, wait_stop=wait_stop)

        with patch.object(ChromeBrowser, "navigate_to", navigate_from_sydney):
            self.start_tour(
                "/odoo/action-clinic_packages.clinic_day_sheet_action",
                "clinic_day_sheet_local_day",
                login=self.receptionist.login,
            )

    def test_practitioner_opens_their_day(self):
        self._clinic_book(self._today_at(11), name="")
        self._other_visit()
        self.start_tour(
            "/odoo/action-clinic_packages.clinic_my_day_action",
            "clinic_my_day",
            login=self.practitioner.login,
        )

    def test_no_show_with_fee_from_the_day_sheet(self):
        visit = self._clinic_book(self._today_at(8), name="")
        self._other_visit()
        self.start_tour(
            "/odoo/action-clinic_packages.clinic_day_sheet_action",
            "clinic_day_sheet_no_show_fee",
            login=self.receptionist.login,
        )
        self.assertEqual(visit.clinic_attendance, "no_show")
        self.assertEqual(visit.clinic_usage_id.state, "released")
        self.assertEqual(self.entitlement.uses_remaining, 8)
        invoice = visit.clinic_invoice_id
        self.assertEqual(invoice.invoice_line_ids.product_id, self.fee)
        self.assertEqual(invoice.amount_untaxed, 50.0)
