"""The patient portal lists the patient's upcoming booked visits on /my/packages (date and time
in the patient's timezone, service, practitioner, location, package), never another
patient's, and not past, arrived or cancelled visits. The Packages card of /my shows its
pictogram as Odoo's own portal cards do.

The HTTP tests need pytest-odoo's `--odoo-http`; without it HttpCase is skipped.
"""

from datetime import datetime, timedelta
from unittest.mock import patch

import pytz
from lxml import html

from odoo import Command
from odoo.tests import HttpCase

from .common import ClinicTestMixin, attend
from .test_portal import PortalDataMixin
from .test_statement_pdf import closed_url

TZ = "Asia/Tokyo"  # UTC+9 all year: no daylight saving time to reckon with


def local(start):
    """`start` (naive UTC) as the portal shows it in TZ, in English: 03/05/2026 10:30."""
    moment = pytz.utc.localize(start).astimezone(pytz.timezone(TZ))
    return moment.strftime("%m/%d/%Y %H:%M")


class TestPortalUpcoming(PortalDataMixin, ClinicTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()
        cls._clinic_setup_portal()  # Maria: a package and an arrived visit 3 days ago
        cls.portal_maria.tz = TZ
        day = datetime.now().replace(minute=0, second=0, microsecond=0)
        # Maria's: two upcoming visits (one on her package, one billed on its own), one that
        # was never marked though its time has passed, one cancelled
        cls.maria_next = cls._clinic_visit(
            (day + timedelta(days=3)).replace(hour=1, minute=30),
            cls.patient,
            cls.physio,
            entitlement=cls.maria_package,
        )
        cls.maria_later = cls._clinic_visit(
            (day + timedelta(days=5)).replace(hour=6, minute=15),
            cls.patient,
            cls.acupuncture,
            location=cls.location_2,
        )
        cls.maria_past = cls._clinic_visit(
            (day - timedelta(days=2)).replace(hour=3, minute=45), cls.patient, cls.massage
        )
        cls.maria_cancelled = cls._clinic_visit(
            (day + timedelta(days=4)).replace(hour=2, minute=20),
            cls.patient,
            cls.physio,
            entitlement=cls.maria_package,
        )
        cls.maria_cancelled.action_clinic_cancel()
        # James's: an upcoming visit on his package, with the manager who also sees patients
        cls.manager.clinic_practitioner = True
        cls.james_next = cls._clinic_visit(
            (day + timedelta(days=3)).replace(hour=4, minute=50),
            cls.patient_2,
            cls.massage,
            entitlement=cls.james_package,
            user=cls.manager,
        )

    @classmethod
    def _clinic_visit(cls, start, patient, service, entitlement=None, location=None, user=None):
        return cls.env["calendar.event"].create(
            {
                "name": "Visit",
                "start": start,
                "stop": start + timedelta(minutes=45),
                "clinic_patient_id": patient.id,
                "clinic_service_id": service.id,
                "clinic_entitlement_id": entitlement.id if entitlement else False,
                "clinic_location_id": (location or cls.location).id,
                "user_id": (user or cls.practitioner).id,
                "partner_ids": [Command.clear()],
            }
        )

    def _upcoming_rows(self, login):
        """The page of `login` and the text of each row of its upcoming visits."""
        self.authenticate(login, login)
        response = self.url_open("/my/packages")
        self.assertEqual(response.status_code, 200)
        page = html.fromstring(response.text)
        rows = page.xpath("//tr[contains(concat(' ', @class, ' '), ' o_clinic_portal_upcoming ')]")
        return response.text, [" ".join(row.text_content().split()) for row in rows]

    def test_setup(self):
        self.assertEqual(self.maria_next.clinic_entitlement_id, self.maria_package)
        self.assertFalse(self.maria_later.clinic_entitlement_id)
        self.assertEqual(self.maria_past.clinic_attendance, "upcoming")
        self.assertLess(self.maria_past.start, datetime.now())
        self.assertEqual(self.maria_cancelled.clinic_attendance, "cancelled")
        self.assertEqual(self.james_next.clinic_entitlement_id, self.james_package)
        self.assertEqual(self.maria_package.uses_reserved, 1)  # the cancelled one released

    def test_patient_sees_own_upcoming_visits(self):
        page, rows = self._upcoming_rows("maria_portal")
        self.assertIn("Upcoming visits", page)
        self.assertEqual(len(rows), 2, rows)
        soonest, later = rows
        # soonest first, at the time of the patient's timezone (UTC 01:30 is 10:30 in Tokyo)
        self.assertIn(local(self.maria_next.start), soonest)
        self.assertNotIn(self.maria_next.start.strftime("%H:%M"), soonest)
        for expected in ("Physio 45 min", "Dr. Practitioner", "Main Street"):
            self.assertIn(expected, soonest)
        self.assertIn(self.maria_package.name, soonest)
        self.assertIn(local(self.maria_later.start), later)
        for expected in ("Acupuncture", "Harbour", "No package"):
            self.assertIn(expected, later)

    def test_patient_portal_tour(self):
        """In a real browser: the patient finds the upcoming visits and downloads the
        package statement as a PDF (rendered by wkhtmltopdf, as in production: Odoo's tests
        otherwise render reports as HTML)."""
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not installed")
        # wkhtmltopdf would wait for this test's cursor to fetch the style sheets
        self.env["ir.config_parameter"].sudo().set_param("report.url", closed_url())
        Report = type(self.env["ir.actions.report"])
        render = Report._render_qweb_pdf

        def render_pdf(report, *args, **kwargs):
            return render(report.with_context(force_report_rendering=True), *args, **kwargs)

        with patch.object(Report, "_render_qweb_pdf", render_pdf):
            self.start_tour("/my", "clinic_portal_upcoming_statement", login="maria_portal")

    def test_not_another_patients_visits(self):
        page, rows = self._upcoming_rows("maria_portal")
        self.assertNotIn(self.james_package.name, page)
        self.assertFalse([row for row in rows if "Massage" in row or "Clinic Manager" in row])
        # James sees his own, and none of Maria's
        page, rows = self._upcoming_rows("james_portal")
        self.assertEqual(len(rows), 1, rows)
        self.assertIn(self.james_package.name, rows[0])
        self.assertIn("Massage 60 min", rows[0])
        self.assertIn("Clinic Manager", rows[0])
        self.assertNotIn(self.maria_package.name, page)
        self.assertNotIn("Acupuncture", page)

    def test_past_and_cancelled_visits_are_not_upcoming(self):
        __, rows = self._upcoming_rows("maria_portal")
        listed = " | ".join(rows)
        self.assertNotIn(local(self.maria_past.start), listed)
        self.assertNotIn("Massage", listed)
        self.assertNotIn(local(self.maria_cancelled.start), listed)
        # the arrived visit of 3 days ago is a past visit, not an upcoming one
        self.assertNotIn(local(self.maria_usage.event_id.start), listed)
        # once marked arrived, the next visit leaves the list too
        attend(self.maria_next, "arrive")
        __, rows = self._upcoming_rows("maria_portal")
        self.assertEqual(len(rows), 1, rows)
        self.assertIn("Acupuncture", rows[0])

    def test_no_upcoming_visit(self):
        (self.maria_next | self.maria_later).action_clinic_cancel()
        page, rows = self._upcoming_rows("maria_portal")
        self.assertEqual(rows, [])
        self.assertNotIn("Upcoming visits", page)
        self.assertIn("Past visits", page)

    def test_home_card_icon(self):
        """The Packages card carries a 64 px SVG pictogram, as Odoo's own cards, not the app
        icon (256 px, four times their size)."""
        self.authenticate("maria_portal", "maria_portal")
        page = html.fromstring(self.url_open("/my/home").text)
        card = page.xpath("//a[@href='/my/packages']")
        self.assertEqual(len(card), 1)
        icons = card[0].xpath(".//div[contains(@class, 'o_portal_icon')]/img/@src")
        self.assertEqual(icons, ["/web/static/img/folder.svg"])
        response = self.url_open(icons[0])
        self.assertEqual(response.status_code, 200)
        self.assertIn('width="64" height="64"', response.text)
