"""The package statement as a real PDF (wkhtmltopdf, which scripts/test.sh installs): rendered
for a clinic user in the back office, and downloaded by a portal patient, who gets their own
packages only.

Odoo's tests render reports as HTML unless asked otherwise (`test_enable`): the back-office
tests ask with the `force_report_rendering` context key, as Odoo's own report tests do; the
HTTP tests switch `test_enable` off in the configuration for the duration of the request, so
that the controllers run exactly as in production.

wkhtmltopdf fetches the report's style sheets and images from Odoo (`report.url`, else the
base URL). In an HttpCase every request shares the test's cursor, one request at a time: the
request that renders the PDF holds it, so wkhtmltopdf's own requests would wait for it forever.
The tests point `report.url` at a closed port instead: wkhtmltopdf is refused at once and lays
the statement out without the style sheets (its text is all there, which is what is checked).

Debian's wkhtmltopdf is built on an unpatched Qt: one HTML document per PDF, no company
header or footer. A statement of one patient is one document; printing several patients at once
needs wkhtmltopdf's own "patched qt" build, and that test is skipped without it.

The HTTP tests need pytest-odoo's `--odoo-http`; without it HttpCase is skipped.
"""

import io
import re
import shutil
import socket
import subprocess
import unittest
from unittest.mock import patch

from odoo.tests import HttpCase, new_test_user
from odoo.tools import config
from odoo.tools.pdf import PdfFileReader

from .common import ClinicCase, ClinicTestMixin

PATIENT_REPORT = "clinic_packages.action_report_package_statement"
PACKAGE_REPORT = "clinic_packages.action_report_entitlement_statement"


def pdf_text(content):
    """The text of a PDF: poppler's pdftotext when installed, else Odoo's PDF library."""
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
        ).stdout.decode()
    else:
        reader = PdfFileReader(io.BytesIO(content))
        text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text)


def wkhtmltopdf_patched_qt():
    """Whether wkhtmltopdf can print several documents into one PDF."""
    binary = shutil.which("wkhtmltopdf")
    if not binary:
        return False
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    return "patched qt" in version


def closed_url():
    """The URL of a local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class StatementPdfMixin:
    def _clinic_prepare_pdf(self):
        state = self.env["ir.actions.report"].get_wkhtmltopdf_state()
        self.assertNotEqual(
            state, "install", "wkhtmltopdf is not installed (scripts/common.sh installs it)"
        )
        # see the module's docstring; rolled back with the test
        self.env["ir.config_parameter"].sudo().set_param("report.url", closed_url())

    def _clinic_assert_pdf(self, content, contains=(), lacks=()):
        self.assertTrue(content.startswith(b"%PDF-"), content[:200])
        self.assertGreater(len(content), 5000)
        text = pdf_text(content)
        for expected in contains:
            self.assertIn(expected, text)
        for unexpected in lacks:
            self.assertNotIn(unexpected, text)
        return text


class TestStatementPdf(StatementPdfMixin, ClinicCase):
    """Back office: a clinic user (the least privileged clinic group) prints statements."""

    def setUp(self):
        super().setUp()
        self._clinic_prepare_pdf()
        self.maria_package = self._clinic_sell(self.package_physio8).clinic_entitlement_ids
        self.james_package = self._clinic_sell(
            self.package_rehab, partner=self.patient_2
        ).clinic_entitlement_ids

    def _clinic_render(self, user, report_ref, res_ids):
        Report = self.env["ir.actions.report"].with_user(user)
        return Report.with_context(force_report_rendering=True)._render_qweb_pdf(
            report_ref, res_ids
        )

    def test_setup(self):
        self.assertEqual(len(self.maria_package), 1)
        self.assertEqual(len(self.james_package), 1)
        self.assertNotEqual(self.maria_package.name, self.james_package.name)

    def test_patient_statement_as_practitioner(self):
        content, report_type = self._clinic_render(
            self.practitioner, PATIENT_REPORT, self.patient.ids
        )
        self.assertEqual(report_type, "pdf")
        self._clinic_assert_pdf(
            content,
            contains=("Package Statement", "Maria Lopez", self.maria_package.name, "Physio"),
            lacks=("James Carter", self.james_package.name),
        )

    def test_package_statement_as_receptionist(self):
        content, report_type = self._clinic_render(
            self.receptionist, PACKAGE_REPORT, self.james_package.ids
        )
        self.assertEqual(report_type, "pdf")
        self._clinic_assert_pdf(
            content,
            contains=("James Carter", self.james_package.name, "Rehab Bundle", "Massage 60 min"),
            lacks=("Maria Lopez", self.maria_package.name),
        )

    @unittest.skipUnless(
        wkhtmltopdf_patched_qt(), "several documents in one PDF need wkhtmltopdf with patched qt"
    )
    def test_package_statements_of_two_patients(self):
        """Printed from two packages of two patients: one statement for each."""
        packages = self.maria_package | self.james_package
        content, report_type = self._clinic_render(self.receptionist, PACKAGE_REPORT, packages.ids)
        self.assertEqual(report_type, "pdf")
        self._clinic_assert_pdf(
            content,
            contains=(
                "Maria Lopez",
                self.maria_package.name,
                "James Carter",
                self.james_package.name,
                "Rehab Bundle",
            ),
        )
        self.assertGreaterEqual(len(PdfFileReader(io.BytesIO(content)).pages), 2)


class TestStatementPdfPortal(StatementPdfMixin, ClinicTestMixin, HttpCase):
    """The portal and back-office download routes answer a real PDF."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()
        cls.portal_maria = new_test_user(
            cls.env,
            login="maria_portal",
            name="Maria Lopez",  # the user's name is its partner's
            groups="base.group_portal",
            partner_id=cls.patient.id,
        )
        cls.portal_james = new_test_user(
            cls.env,
            login="james_portal",
            name="James Carter",
            groups="base.group_portal",
            partner_id=cls.patient_2.id,
        )

    def setUp(self):
        super().setUp()
        self._clinic_prepare_pdf()
        self.maria_package = self._clinic_sell(self.package_physio8).clinic_entitlement_ids
        self.james_package = self._clinic_sell(
            self.package_rehab, partner=self.patient_2
        ).clinic_entitlement_ids

    def _clinic_get(self, url):
        """GET `url` with reports rendered as in production (not as HTML for tests)."""
        with patch.dict(config.options, {"test_enable": False, "test_file": False}):
            return self.url_open(url, timeout=120, allow_redirects=False)

    def _clinic_assert_pdf_response(self, response, disposition="attachment"):
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self.assertTrue(response.headers["Content-Disposition"].startswith(disposition))
        self.assertIn(".pdf", response.headers["Content-Disposition"])
        return response.content

    def _clinic_assert_not_pdf(self, response):
        self.assertIn(response.status_code, (302, 303, 403, 404))
        self.assertNotIn("pdf", response.headers.get("Content-Type", ""))
        self.assertFalse(response.content.startswith(b"%PDF"))

    def test_patient_downloads_own_package_statement(self):
        self.authenticate("maria_portal", "maria_portal")
        page = self.url_open("/my/packages").text
        url = f"/my/packages/{self.maria_package.id}/statement?report_type=pdf&download=true"
        self.assertIn(url.replace("&", "&amp;"), page)
        content = self._clinic_assert_pdf_response(self._clinic_get(url))
        self._clinic_assert_pdf(
            content,
            contains=("Package Statement", "Maria Lopez", self.maria_package.name),
            lacks=(self.james_package.name,),
        )

    def test_patient_is_refused_another_patients_statement(self):
        self.authenticate("maria_portal", "maria_portal")
        response = self._clinic_get(
            f"/my/packages/{self.james_package.id}/statement?report_type=pdf&download=true"
        )
        self._clinic_assert_not_pdf(response)
        self.assertIn("/my/packages", response.headers.get("Location", ""))
        # nor as HTML
        response = self._clinic_get(
            f"/my/packages/{self.james_package.id}/statement?report_type=html"
        )
        self.assertIn(response.status_code, (302, 303))
        self.assertNotIn(self.james_package.name, response.text)
        # a package that does not exist is refused the same way
        self._clinic_assert_not_pdf(self._clinic_get("/my/packages/999999999/statement"))
        # and James still gets his own
        self.authenticate("james_portal", "james_portal")
        self._clinic_assert_pdf_response(
            self._clinic_get(f"/my/packages/{self.james_package.id}/statement"),
            disposition="inline",
        )

    def test_download_statement_of_all_packages(self):
        """The "Download statement" button of /my/packages: every package of the patient."""
        self.authenticate("maria_portal", "maria_portal")
        second = self._clinic_sell(self.package_rehab).clinic_entitlement_ids
        content = self._clinic_assert_pdf_response(
            self._clinic_get("/my/packages/statement?report_type=pdf&download=true")
        )
        self._clinic_assert_pdf(
            content,
            contains=("Maria Lopez", self.maria_package.name, second.name),
            lacks=("James Carter", self.james_package.name),
        )

    def test_anonymous_gets_no_statement(self):
        response = self._clinic_get(f"/my/packages/{self.maria_package.id}/statement")
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

    def test_back_office_download(self):
        """The back office's print menu downloads through Odoo's /report/pdf route."""
        self.authenticate("clinic_receptionist", "clinic_receptionist")
        response = self._clinic_get(
            f"/report/pdf/clinic_packages.report_package_statement/{self.patient.id}"
        )
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self._clinic_assert_pdf(response.content, contains=("Maria Lopez", self.maria_package.name))

    def test_report_urls_are_for_clinic_staff(self):
        """Odoo's report URLs print a statement for clinic staff only, whatever the package:
        a salesperson or an accountant who may read packages still gets no statement."""
        salesman = new_test_user(
            self.env, login="statement_sales", groups="sales_team.group_sale_salesman"
        )
        accountant = new_test_user(
            self.env, login="statement_accountant", groups="account.group_account_invoice"
        )
        urls = (
            f"/report/html/clinic_packages.report_entitlement_statement/{self.maria_package.id}",
            f"/report/html/clinic_packages.report_package_statement/{self.patient.id}",
        )
        for user in (salesman, accountant):
            self.authenticate(user.login, user.login)
            for url in urls:
                with self.subTest(user=user.login, url=url):
                    response = self._clinic_get(url)
                    self.assertEqual(response.status_code, 403, response.text[:300])
                    self.assertNotIn("Maria Lopez", response.text)
        self.authenticate("clinic_receptionist", "clinic_receptionist")
        for url in urls:
            with self.subTest(user="clinic_receptionist", url=url):
                response = self._clinic_get(url)
                self.assertEqual(response.status_code, 200, response.text[:300])
                self.assertIn("Maria Lopez", response.text)
