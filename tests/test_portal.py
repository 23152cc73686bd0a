"""The patient portal: /my/packages lists the logged-in patient's own packages, and the
portal record rules keep every patient to their own packages, services and visits.

The HTTP tests need pytest-odoo's `--odoo-http`; without it HttpCase is skipped.
"""

from datetime import datetime, timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user

from .common import ClinicCase, ClinicTestMixin, attend


class PortalDataMixin:
    @classmethod
    def _clinic_setup_portal(cls):
        cls.env.user.tz = "UTC"
        cls.portal_maria = new_test_user(
            cls.env,
            login="maria_portal",
            groups="base.group_portal",
            partner_id=cls.patient.id,
            tz="UTC",
        )
        cls.portal_james = new_test_user(
            cls.env,
            login="james_portal",
            groups="base.group_portal",
            partner_id=cls.patient_2.id,
            tz="UTC",
        )
        # Maria: a physio package with one past visit; James: a rehab bundle
        cls.maria_package = cls._clinic_portal_sell(cls.package_physio8, cls.patient)
        cls.james_package = cls._clinic_portal_sell(cls.package_rehab, cls.patient_2)
        # the past visit: three days ago, within the package's validity
        cls.maria_package.date_start = fields.Date.today() - timedelta(days=10)
        start = datetime.now().replace(microsecond=0) - timedelta(days=3)
        visit = cls.env["calendar.event"].create(
            {
                "name": "Visit",
                "start": start,
                "stop": start + timedelta(minutes=45),
                "clinic_patient_id": cls.patient.id,
                "clinic_service_id": cls.physio.id,
                "clinic_entitlement_id": cls.maria_package.id,
                "user_id": cls.practitioner.id,
                "partner_ids": [Command.clear()],
            }
        )
        attend(visit, "arrive")
        cls.maria_usage = visit.clinic_usage_id

    @classmethod
    def _clinic_portal_sell(cls, product, partner):
        order = cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [Command.create({"product_id": product.id})],
            }
        )
        order.action_confirm()
        return order.clinic_entitlement_ids


class TestPortalRules(PortalDataMixin, ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_portal()

    def test_setup(self):
        self.assertEqual(self.maria_usage.state, "consumed")
        self.assertEqual(self.maria_package.uses_used, 1)

    def test_portal_patient_sees_own_packages_only(self):
        Entitlement = self.env["clinic.entitlement"].with_user(self.portal_maria)
        self.assertEqual(Entitlement.search([]), self.maria_package.with_user(self.portal_maria))
        record = Entitlement.browse(self.maria_package.id)
        self.assertEqual(
            record.read(["name", "uses_remaining", "date_expiry"])[0]["uses_remaining"], 7
        )
        with self.assertRaises(AccessError):
            Entitlement.browse(self.james_package.id).read(["name"])
        James = self.env["clinic.entitlement"].with_user(self.portal_james)
        self.assertEqual(James.search([]), self.james_package.with_user(self.portal_james))

    def test_portal_patient_sees_own_services_and_visits_only(self):
        Line = self.env["clinic.entitlement.line"].with_user(self.portal_maria)
        self.assertEqual(Line.search([]).ids, self.maria_package.line_ids.ids)
        with self.assertRaises(AccessError):
            Line.browse(self.james_package.line_ids[:1].id).read(["remaining"])
        Usage = self.env["clinic.entitlement.usage"].with_user(self.portal_maria)
        self.assertEqual(Usage.search([]).ids, self.maria_usage.ids)
        self.assertFalse(
            self.env["clinic.entitlement.usage"].with_user(self.portal_james).search([])
        )

    def test_portal_patient_cannot_change_anything(self):
        record = self.maria_package.with_user(self.portal_maria)
        with self.assertRaises(AccessError):
            record.write({"date_expiry": "2030-01-01"})
        with self.assertRaises(AccessError):
            self.env["clinic.entitlement"].with_user(self.portal_maria).create(
                {"partner_id": self.patient.id, "product_id": self.package_physio8.id}
            )
        with self.assertRaises(AccessError):
            self.maria_usage.with_user(self.portal_maria).write({"state": "released"})

    def test_family_member_of_the_patient(self):
        """A contact under the patient (e.g. a parent) sees the patient's packages."""
        contact = self.env["res.partner"].create(
            {"name": "Maria's mother", "parent_id": self.patient.id}
        )
        mother = new_test_user(
            self.env, login="maria_mother", groups="base.group_portal", partner_id=contact.id
        )
        self.assertEqual(
            self.env["clinic.entitlement"].with_user(mother).search([]).ids,
            self.maria_package.ids,
        )


class TestPortalPages(PortalDataMixin, ClinicTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()
        cls._clinic_setup_portal()

    def test_my_packages_lists_own_packages(self):
        self.authenticate("maria_portal", "maria_portal")
        response = self.url_open("/my/packages")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn(self.maria_package.name, page)
        self.assertIn("8 Physio Sessions", page)
        self.assertIn("7 of 8", page)  # remaining uses
        self.assertIn("Past visits", page)
        self.assertIn(self.practitioner.name, page)
        self.assertNotIn(self.james_package.name, page)
        self.assertNotIn("Rehab Bundle", page)

    def test_other_patient_sees_theirs(self):
        self.authenticate("james_portal", "james_portal")
        page = self.url_open("/my/packages").text
        self.assertIn(self.james_package.name, page)
        self.assertIn("Rehab Bundle", page)
        self.assertIn("10 of 10", page)
        self.assertNotIn(self.maria_package.name, page)
        self.assertNotIn("Past visits", page)

    def test_home_counter(self):
        self.authenticate("maria_portal", "maria_portal")
        home = self.url_open("/my/home")
        self.assertEqual(home.status_code, 200)
        self.assertIn('href="/my/packages"', home.text)
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["clinic_package_count"]})
        self.assertEqual(counters["clinic_package_count"], 1)

    def test_statement_download(self):
        self.authenticate("maria_portal", "maria_portal")
        response = self.url_open("/my/packages/statement?report_type=html")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Package Statement", response.text)
        self.assertIn(self.maria_package.name, response.text)
        self.assertNotIn(self.james_package.name, response.text)

    def test_anonymous_is_sent_to_login(self):
        response = self.url_open("/my/packages", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
