"""Switching from another system: Clinic > Configuration > Import (`clinic.import`).

Real files (tests/data/import/*.csv, and the same rows as XLSX workbooks with date and number
cells) imported by a Clinic Manager: live packages with the uses consumed before, their
opening entry and the first visits after the import; authorizations with TheraNest's
conversion rules; prepaid balances as outstanding credits; re-import; the all-or-nothing
rule; rights (a Clinic User may not import), also over XML-RPC.
"""

import base64
import csv
import io
import re
import xmlrpc.client
from datetime import date, datetime
from pathlib import Path

import openpyxl

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, freeze_time

from .common import ClinicCase, ClinicRpcMixin, ClinicTestMixin

DATA = Path(__file__).parent / "data" / "import"
TODAY = "2026-03-02"


def at(day, hour=10):
    return datetime(2026, 3, day, hour, 0)


def csv_file(name):
    return (DATA / name).read_bytes()


def xlsx_file(name):
    """The rows of the CSV fixture `name` as an XLSX workbook, typed as a spreadsheet types
    them: dates as date cells, numbers as number cells."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    with open(DATA / name, newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle)):
            cells = []
            for value in row:
                if number and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                    cells.append(date.fromisoformat(value))
                elif number and re.fullmatch(r"\d+(\.\d+)?", value):
                    cells.append(float(value))
                else:
                    cells.append(value or None)
            sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class ImportCase(ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env.user.tz = "UTC"
        cls.deferred = cls.company._clinic_accounting()[0]
        cls.clearing = env["account.account"].create(
            {
                "name": "Migration clearing",
                "code": "499900",
                "account_type": "equity",
                "company_ids": [Command.set(cls.company.ids)],
            }
        )
        cls.physio_income = cls.physio.product_tmpl_id._get_product_accounts()["income"]
        cls.package_prepaid = cls._clinic_package(
            "5 Prepaid Massages",
            500.0,
            [(cls.massage, 5, 0.0)],
            clinic_billing_mode="prepaid_credit",
        )
        cls.payer = env["res.partner"].create({"name": "Blue Shield", "is_company": True})

    def _import(self, kind, content, filename="export.csv", user=None, **values):
        """Run the import wizard as `user` (a Clinic Manager by default)."""
        wizard = (
            self.env["clinic.import"]
            .with_user(user or self.manager)
            .create(
                {
                    "kind": kind,
                    "file": base64.b64encode(content),
                    "filename": filename,
                    "clearing_account_id": self.clearing.id,
                    **values,
                }
            )
        )
        wizard.action_import()
        return wizard

    def _imported(self, reference):
        return self.env["clinic.entitlement"].search([("import_reference", "=", reference)])

    def _openings(self):
        return self.env["account.move"].search([("clinic_move_kind", "=", "opening")])

    def _shares(self):
        return self.env["clinic.entitlement.opening"].search([])

    def _balance(self, account, **domain):
        self.env.flush_all()
        lines = self.env["account.move.line"].search(
            [("account_id", "=", account.id), ("parent_state", "=", "posted")]
            + [(key, "=", value) for key, value in domain.items()]
        )
        return round(sum(lines.mapped("balance")), 2)

    def assertInvariant(self, entitlement):
        money = entitlement._clinic_money()
        self.assertAlmostEqual(
            money["billed"],
            money["recognised"] + money["unearned"] + money["refunded"] + money["breakage"],
            places=2,
            msg=f"money created or lost: {money}",
        )
        return money

    def _arrive(self, day, service=None, patient=None):
        """A visit booked and kept on 2026-03-`day` (that day)."""
        with freeze_time(at(day, 12)):
            event = self._clinic_book(at(day), service=service, patient=patient)
            event.with_user(self.receptionist).action_clinic_arrive()
        return event


@freeze_time(TODAY)
class TestImportPackages(ImportCase):
    def _check_packages(self, wizard):
        self.assertEqual(wizard.state, "done", wizard.result)
        maria, james = self._imported("JANE-501"), self._imported("JANE-502")
        self.assertEqual((len(maria), len(james)), (1, 1))
        # as if sold here: the package's terms, no sale order, imported
        self.assertEqual(maria.partner_id, self.patient)
        self.assertEqual(maria.product_id, self.package_physio8)
        self.assertFalse(maria.sale_line_id)
        self.assertTrue(maria.imported and james.imported)
        self.assertEqual((maria.state, james.state), ("active", "active"))
        self.assertEqual(maria.date_start, date(2024, 1, 15))
        self.assertEqual(maria.date_expiry, date(2099, 7, 15))
        self.assertFalse(james.date_expiry, "an empty expiry never expires")
        # the uses consumed before are part of used
        self.assertEqual(
            [
                (line.quantity, line.used_before, line.used, line.remaining)
                for line in maria.line_ids
            ],
            [(8, 3, 3, 5)],
        )
        self.assertEqual(
            {
                line.service_product_id: (line.quantity, line.used_before, line.remaining)
                for line in james.line_ids
            },
            {self.physio: (6, 2, 4), self.massage: (4, 1, 3)},
        )
        self.assertEqual((james.uses_total, james.uses_used, james.uses_remaining), (10, 3, 7))
        # one opening entry for the import: Cr unearned and Dr clearing per patient, each
        # package's part of its patient's unearned item itemised
        opening = self._openings()
        self.assertEqual(len(opening), 1)
        self.assertEqual(opening.state, "posted")
        self.assertEqual(
            sorted(
                (
                    line.account_id.id,
                    line.partner_id.id,
                    line.clinic_entitlement_id.id,
                    line.balance,
                )
                for line in opening.line_ids
            ),
            sorted(
                [
                    (self.deferred.id, self.patient.id, False, -500.0),
                    (self.deferred.id, self.patient_2.id, False, -700.0),
                    (self.clearing.id, self.patient.id, False, 500.0),
                    (self.clearing.id, self.patient_2.id, False, 700.0),
                ]
            ),
        )
        self.assertEqual(
            sorted(
                (share.entitlement_id.id, share.move_line_id.partner_id.id, share.amount)
                for share in self._shares()
            ),
            sorted([(maria.id, self.patient.id, 500.0), (james.id, self.patient_2.id, 700.0)]),
        )
        # the package's money: billed = its opening value, all of it unearned
        for package, value in ((maria, 500.0), (james, 700.0)):
            money = self.assertInvariant(package)
            self.assertAlmostEqual(money["billed"], value, 2)
            self.assertAlmostEqual(money["unearned"], value, 2)
            self.assertAlmostEqual(package.deferred_balance, value, 2)
            self.assertIn(opening, package._clinic_entries())
        # the price at the same value per use: 500 / 5 uses left x 8 uses
        self.assertAlmostEqual(maria.amount_untaxed, 800.0, 2)
        self.assertAlmostEqual(maria.unit_value, 100.0, 2)
        # the unearned revenue report reads the same, per package
        report = dict(
            self.env["clinic.report.unearned"]._read_group(
                [("entitlement_id", "in", (maria | james).ids)], ["entitlement_id"], ["amount:sum"]
            )
        )
        self.assertEqual(
            {e.id: round(a, 2) for e, a in report.items()}, {maria.id: 500.0, james.id: 700.0}
        )
        return maria, james

    def test_packages_from_csv(self):
        before = self._balance(self.deferred)
        wizard = self._import("packages", csv_file("packages.csv"))
        self._check_packages(wizard)
        self.assertIn("2 new package(s)", wizard.result)
        # the general ledger agrees with the file: 1,200 unearned, balanced by the clearing account
        self.assertAlmostEqual(self._balance(self.deferred) - before, -1200.0, 2)
        self.assertAlmostEqual(self._balance(self.clearing), 1200.0, 2)

    def test_packages_from_xlsx(self):
        wizard = self._import("packages", xlsx_file("packages.csv"), filename="export.xlsx")
        self._check_packages(wizard)

    def test_first_visits_recognise_unearned_over_uses_left(self):
        self._import("packages", csv_file("packages.csv"))
        maria = self._imported("JANE-501")
        # 500 unearned, 5 uses left: each visit earns 100
        event = self._arrive(3)
        self.assertEqual(event.clinic_entitlement_id, maria)
        usage = event.clinic_usage_id
        self.assertAlmostEqual(usage.amount, 100.0, 2)
        self.assertEqual(
            sorted((line.account_id.id, line.balance) for line in usage.move_id.line_ids),
            sorted([(self.deferred.id, 100.0), (self.physio_income.id, -100.0)]),
        )
        self.assertEqual((maria.line_ids.used, maria.line_ids.remaining), (4, 4))
        money = self.assertInvariant(maria)
        self.assertAlmostEqual(money["recognised"], 100.0, 2)
        self.assertAlmostEqual(money["unearned"], 400.0, 2)
        # the uses left add up to the opening value, and the package is then used up
        for day in (4, 5, 6, 9):
            self._arrive(day)
        self.assertEqual(maria.state, "exhausted")
        money = self.assertInvariant(maria)
        self.assertAlmostEqual(money["recognised"], 500.0, 2)
        self.assertAlmostEqual(money["unearned"], 0.0, 2)

    def test_uneven_value_takes_the_rest_on_the_last_use(self):
        rows = (
            "reference,patient_email,package,service,quantity,used,unearned\n"
            "ODD-1,maria@example.com,8 Physio Sessions,97110,8,5,100\n"
        )
        self._import("packages", rows.encode())
        package = self._imported("ODD-1")
        amounts = [self._arrive(day).clinic_usage_id.amount for day in (3, 4, 5)]
        # what is left / uses left each time: 100 / 3, 66.67 / 2, the rest
        self.assertEqual(amounts, [33.33, 33.34, 33.33])
        self.assertAlmostEqual(self.assertInvariant(package)["unearned"], 0.0, 2)

    def test_one_unearned_item_per_patient_itemised_per_package(self):
        rows = (
            "reference,patient_email,package,service,quantity,used,expiry,unearned\n"
            "PAIR-1,maria@example.com,8 Physio Sessions,97110,8,3,2099-01-31,500\n"
            "PAIR-2,maria@example.com,Rehab Bundle,Massage 60 min,4,1,2099-06-30,150\n"
        )
        self._import("packages", rows.encode())
        physio, massage = self._imported("PAIR-1"), self._imported("PAIR-2")
        # the patient's two packages: one unearned item and one clearing item
        opening = self._openings()
        self.assertEqual(
            sorted(
                (line.account_id.id, line.partner_id.id, line.balance) for line in opening.line_ids
            ),
            sorted(
                [
                    (self.deferred.id, self.patient.id, -650.0),
                    (self.clearing.id, self.patient.id, 650.0),
                ]
            ),
        )
        item = opening.line_ids.filtered(lambda line: line.account_id == self.deferred)
        self.assertEqual(
            {(share.entitlement_id, share.move_line_id, share.amount) for share in self._shares()},
            {(physio, item, 500.0), (massage, item, 150.0)},
        )
        # each package holds its own row's value, and the report splits the item the same way
        for package, value in ((physio, 500.0), (massage, 150.0)):
            money = self.assertInvariant(package)
            self.assertAlmostEqual(money["billed"], value, 2)
            self.assertAlmostEqual(money["unearned"], value, 2)
            self.assertIn(opening, package._clinic_entries())
        report = dict(
            self.env["clinic.report.unearned"]._read_group(
                [("entitlement_id", "in", (physio | massage).ids)],
                ["entitlement_id"],
                ["amount:sum"],
            )
        )
        self.assertEqual(
            {e.id: round(a, 2) for e, a in report.items()}, {physio.id: 500.0, massage.id: 150.0}
        )
        # the first visit of each recognises what it holds / its uses left
        event = self._arrive(3)
        self.assertEqual(event.clinic_entitlement_id, physio)
        self.assertAlmostEqual(event.clinic_usage_id.amount, 100.0, 2)  # 500 / 5
        event = self._arrive(4, service=self.massage)
        self.assertEqual(event.clinic_entitlement_id, massage)
        self.assertAlmostEqual(event.clinic_usage_id.amount, 50.0, 2)  # 150 / 3
        self.assertAlmostEqual(self.assertInvariant(physio)["unearned"], 400.0, 2)
        self.assertAlmostEqual(self.assertInvariant(massage)["unearned"], 100.0, 2)
        # the general ledger agrees: the patient's unearned balance is the packages' sum
        self.assertAlmostEqual(self._balance(self.deferred, partner_id=self.patient.id), -500.0, 2)

    def test_reimport_updates_instead_of_duplicating(self):
        self._import("packages", csv_file("packages.csv"))
        maria = self._imported("JANE-501")
        again = self._import("packages", csv_file("packages.csv"))
        self.assertEqual(again.state, "done", again.result)
        self.assertIn("0 new package(s), 0 updated, 2 unchanged", again.result)
        self.assertEqual(len(self._imported("JANE-501")), 1)
        self.assertEqual(len(self._openings()), 1, "nothing changed: no entry")
        # a later export: one more use consumed there, 400 left, a new expiry
        changed = csv_file("packages.csv").replace(
            b"JANE-501,Maria Lopez,maria@example.com,8 Physio Sessions,97110,8,3,2024-01-15,"
            b"2099-07-15,500.00",
            b"JANE-501,Maria Lopez,maria@example.com,8 Physio Sessions,97110,8,4,2024-01-15,"
            b"2099-12-31,400.00",
        )
        third = self._import("packages", changed)
        self.assertEqual(third.state, "done", third.result)
        self.assertIn("1 updated", third.result)
        self.assertEqual(self._imported("JANE-501"), maria)
        self.assertEqual((maria.line_ids.used_before, maria.line_ids.remaining), (4, 4))
        self.assertEqual(maria.date_expiry, date(2099, 12, 31))
        adjustment = self._openings().sorted("id")[-1]
        self.assertEqual(
            sorted((line.account_id.id, line.balance) for line in adjustment.line_ids),
            sorted([(self.deferred.id, 100.0), (self.clearing.id, -100.0)]),
        )
        money = self.assertInvariant(maria)
        self.assertAlmostEqual(money["billed"], 400.0, 2)
        self.assertAlmostEqual(money["unearned"], 400.0, 2)
        self.assertAlmostEqual(self._arrive(3).clinic_usage_id.amount, 100.0, 2)

    def test_a_bad_row_imports_nothing_and_every_bad_row_is_listed(self):
        wizard = self._import("packages", csv_file("packages_bad.csv"))
        self.assertEqual(wizard.state, "failed")
        self.assertFalse(self.env["clinic.entitlement"].search([("imported", "=", True)]))
        self.assertFalse(self._openings())
        result = wizard.result
        self.assertIn("Nothing was imported: 6 of 7 rows", result)
        self.assertNotIn("OK-1", result)
        for line, reference, reason in (
            (3, "BAD-2", "no contact matches patient Nobody Known"),
            (4, "BAD-3", "no service has the internal reference or name 'Yoga'"),
            (5, "BAD-4", "used (9) is more than quantity (5)"),
            (6, "BAD-5", "'15/01/2024' is not a date"),
            (7, "BAD-6", "already expired on 2020-06-30"),
            (8, "BAD-7", "'1,250.00' is not an amount"),
        ):
            self.assertRegex(result, rf"Line {line} \({reference}\): [^\n]*{re.escape(reason)}")

    def test_dry_run_checks_without_writing(self):
        wizard = self._import("packages", csv_file("packages.csv"), dry_run=True)
        self.assertEqual(wizard.state, "checked", wizard.result)
        self.assertIn("nothing was written", wizard.result)
        self.assertIn("2 new package(s)", wizard.result)
        self.assertFalse(self._imported("JANE-501"))
        self.assertFalse(self._openings())
        bad = self._import("packages", csv_file("packages_bad.csv"), dry_run=True)
        real = self._import("packages", csv_file("packages_bad.csv"))
        self.assertEqual(bad.result, real.result)

    def test_columns_and_clearing_account_are_checked(self):
        wizard = self._import(
            "packages", b"reference,patient,package,service,quantity,expiry_date\nX,a,b,c,1,\n"
        )
        self.assertEqual(wizard.state, "failed")
        self.assertIn("missing column(s): used, unearned", wizard.result)
        self.assertIn("unknown column(s): expiry_date", wizard.result)
        wizard = self._import("packages", csv_file("packages.csv"), clearing_account_id=False)
        self.assertEqual(wizard.state, "failed")
        self.assertIn("choose a clearing account", wizard.result)
        self.assertFalse(self._imported("JANE-501"))

    def test_clearing_account_is_not_a_patients_or_the_banks(self):
        """A receivable would turn a package already paid in the old system into a debt of
        the patient, a bank account into money nobody received: refused, nothing written."""
        receivable = self.patient.property_account_receivable_id
        wizard = self._import(
            "packages", csv_file("packages.csv"), clearing_account_id=receivable.id
        )
        self.assertEqual(wizard.state, "failed")
        self.assertIn("the clearing account cannot be", wizard.result)
        self.assertFalse(self._imported("JANE-501") or self._openings())

    def test_a_nul_character_is_refused_with_its_line(self):
        content = (
            b"reference,patient,package,service,quantity,used,unearned\n"
            b"RN,Maria\x00Lopez,8 Physio Sessions,97110,8,2,600\n"
        )
        with self.assertRaisesRegex(UserError, "Line 2 of the file holds a NUL character"):
            self._import("packages", content, dry_run=True)
        with self.assertRaisesRegex(ValidationError, "is not one of"):
            self.env["clinic.import"].with_user(self.manager).create(
                {"kind": "bogus", "file": base64.b64encode(b"x"), "filename": "x.csv"}
            )

    def test_rows_of_one_package_must_agree(self):
        rows = (
            "reference,patient,package,service,quantity,used,unearned\n"
            "MIX-1,Maria Lopez,Rehab Bundle,97110,6,0,100\n"
            "MIX-1,James Carter,Rehab Bundle,97110,4,0,100\n"
            "FULL-1,Maria Lopez,8 Physio Sessions,97110,8,8,50\n"
        )
        wizard = self._import("packages", rows.encode())
        self.assertEqual(wizard.state, "failed")
        self.assertIn("Line 3 (MIX-1): patient differs from line 2", wizard.result)
        self.assertIn("[97110] Physio 45 min is already listed for this package", wizard.result)
        self.assertIn("Line 4 (FULL-1): no use is left but 50.0 is unearned", wizard.result)

    def test_refund_of_an_imported_package(self):
        self._import("packages", csv_file("packages.csv"))
        maria = self._imported("JANE-501")
        self._arrive(3)
        self.assertAlmostEqual(maria._clinic_collected_total(), 500.0, 2)
        maria.with_user(self.manager)._clinic_refund(300.0)
        self.assertEqual(maria.state, "refunded")
        money = self.assertInvariant(maria)
        self.assertAlmostEqual(money["refunded"], 300.0, 2)
        self.assertAlmostEqual(money["breakage"], 100.0, 2)
        self.assertAlmostEqual(money["unearned"], 0.0, 2)


@freeze_time(TODAY)
class TestImportAuthorizations(ImportCase):
    def _check(self, wizard):
        self.assertEqual(wizard.state, "done", wizard.result)
        Authorization = self.env["clinic.authorization"]
        full = Authorization.search([("import_reference", "=", "TN-1")])
        converted = Authorization.search([("import_reference", "=", "TN-2")])
        self.assertEqual((len(full), len(converted)), (1, 1))
        self.assertEqual(
            (full.name, full.partner_id, full.payer_id, full.auth_type),
            ("BS-7781", self.patient_2, self.payer, "sessions"),
        )
        self.assertEqual(full.service_product_ids, self.physio | self.massage)
        self.assertEqual((full.date_start, full.date_end), (date(2024, 1, 1), date(2099, 12, 31)))
        # what was kept before counts as kept
        self.assertEqual(
            (full.allowed, full.used_before, full.used, full.remaining), (12, 2, 2, 10)
        )
        self.assertTrue(full.imported)
        self.assertFalse(full.converted)
        self.assertEqual(full.state, "active")
        # TheraNest's conversion: start today, end 12 months later, all services, flagged
        self.assertEqual(
            (converted.date_start, converted.date_end, converted.service_product_ids),
            (date(2026, 3, 2), date(2027, 3, 2), self.env["product.product"]),
        )
        self.assertTrue(converted.converted and converted.imported)
        self.assertEqual(
            (converted.auth_type, converted.frequency, converted.frequency_limit),
            ("units", "week", 4),
        )
        self.assertEqual(
            (converted.used, converted.remaining, converted.utilization), (8, 32, 20.0)
        )
        return full, converted

    def test_authorizations_from_csv(self):
        wizard = self._import("authorizations", csv_file("authorizations.csv"))
        self.assertIn("1 completed by the conversion rules", wizard.result)
        self._check(wizard)

    def test_authorizations_from_xlsx(self):
        self._check(
            self._import("authorizations", xlsx_file("authorizations.csv"), filename="a.xlsx")
        )

    def test_kept_before_import_counts_against_the_approved_sessions(self):
        full, __ = self._check(self._import("authorizations", csv_file("authorizations.csv")))
        event = self._arrive(3, patient=self.patient_2)
        self.assertEqual(event.clinic_authorization_id, full)
        self.assertEqual((full.used, full.remaining), (3, 9))
        self.assertIn("BS-7781: 9 of 12 sessions left", event.clinic_coverage_trace or "")

    def test_reimport_updates_and_keeps_converted_dates(self):
        self._import("authorizations", csv_file("authorizations.csv"))
        converted = self.env["clinic.authorization"].search([("import_reference", "=", "TN-2")])
        with freeze_time("2026-04-01"):
            again = self._import(
                "authorizations",
                csv_file("authorizations.csv").replace(b",40,8,week", b",50,9,week"),
            )
        self.assertEqual(again.state, "done", again.result)
        self.assertEqual(
            self.env["clinic.authorization"].search_count([("imported", "=", True)]), 2
        )
        self.assertEqual((converted.allowed, converted.used), (50, 9))
        self.assertEqual(
            (converted.date_start, converted.date_end), (date(2026, 3, 2), date(2027, 3, 2))
        )

    def test_bad_authorization_rows(self):
        rows = (
            "reference,patient,payer,number,type,start,end,allowed,used,frequency,limit\n"
            "A-1,James Carter,Nobody Insurance,N1,sessions,2024-01-01,2024-12-31,10,1,period,\n"
            "A-2,James Carter,,N2,visits,,,10,1,period,\n"
            "A-3,James Carter,,N3,sessions,,,10,11,period,\n"
            "A-4,James Carter,,N4,sessions,,,10,1,month,\n"
            "A-5,James Carter,,,sessions,2025-01-01,2024-01-01,10,1,period,\n"
        )
        wizard = self._import("authorizations", rows.encode())
        self.assertEqual(wizard.state, "failed")
        self.assertFalse(self.env["clinic.authorization"].search([("imported", "=", True)]))
        for text in (
            "Line 2 (A-1): payer: no contacts are called 'Nobody Insurance'",
            "Line 3 (A-2): type: 'visits' is not one of sessions, units",
            "Line 4 (A-3): used (11) is more than allowed (10)",
            "Line 5 (A-4): a month frequency needs a limit",
            "Line 6 (A-5): the authorization number is missing; end 2024-01-01 is before start",
        ):
            self.assertIn(text, wizard.result)


@freeze_time(TODAY)
class TestImportCredits(ImportCase):
    def _receivable_items(self, payment):
        return payment.move_id.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )

    def test_credits_become_outstanding_payments_tagged_with_their_package(self):
        self._import("packages", csv_file("packages_prepaid.csv"))
        package = self._imported("PRE-9")
        self.assertEqual(package.billing_mode, "prepaid_credit")
        self.assertFalse(self._openings(), "a prepaid package's value comes with its credit")
        wizard = self._import("credits", csv_file("credits.csv"))
        self.assertEqual(wizard.state, "done", wizard.result)
        payments = self.env["account.payment"].search(
            [("clinic_import_reference", "in", ("CR-1", "CR-2"))], order="clinic_import_reference"
        )
        self.assertEqual(len(payments), 2)
        james, maria = payments
        self.assertEqual(
            (james.partner_id, james.amount, james.date), (self.patient_2, 150.0, date(2024, 3, 1))
        )
        self.assertFalse(james.clinic_entitlement_id)
        self.assertEqual(maria.clinic_entitlement_id, package)
        for payment, amount in ((james, 150.0), (maria, 500.0)):
            self.assertIn(payment.state, ("in_process", "paid"))
            self.assertEqual(payment.payment_type, "inbound")
            # Dr clearing / Cr receivable: the patient's outstanding credit
            self.assertEqual(
                sorted(
                    (line.account_id.account_type, line.balance)
                    for line in payment.move_id.line_ids
                ),
                sorted([("equity", amount), ("asset_receivable", -amount)]),
            )
            self.assertEqual(
                payment.move_id.line_ids.filtered(lambda line: line.balance > 0).account_id,
                self.clearing,
            )
            self.assertAlmostEqual(
                -sum(self._receivable_items(payment).mapped("amount_residual")), amount, 2
            )
        self.assertTrue(
            all(line.clinic_entitlement_id == package for line in maria.move_id.line_ids)
        )
        # the package holds its credit: 500 for 4 uses left
        money = self.assertInvariant(package)
        self.assertAlmostEqual(money["billed"], 500.0, 2)
        self.assertAlmostEqual(package.amount_untaxed, 625.0, 2)
        # its first visit is invoiced at 125 and paid from that credit
        event = self._arrive(3, service=self.massage)
        self.assertEqual(event.clinic_entitlement_id, package)
        self.assertAlmostEqual(event.clinic_usage_id.amount, 125.0, 2)
        # re-importing the credits changes nothing
        again = self._import("credits", csv_file("credits.csv"))
        self.assertIn("0 new credit(s), 0 updated, 2 unchanged", again.result)
        self.assertEqual(
            self.env["account.payment"].search_count([("clinic_import_reference", "!=", False)]), 2
        )

    def test_reimported_credit_with_a_new_amount_replaces_it(self):
        self._import("credits", b"reference,patient,amount\nCR-7,James Carter,80\n")
        old = self.env["account.payment"].search([("clinic_import_reference", "=", "CR-7")])
        wizard = self._import("credits", b"reference,patient,amount\nCR-7,James Carter,95.5\n")
        self.assertEqual(wizard.state, "done", wizard.result)
        self.assertIn("1 updated", wizard.result)
        payments = self.env["account.payment"].search([("clinic_import_reference", "=", "CR-7")])
        self.assertEqual(old.state, "canceled")
        self.assertFalse(old.move_id.filtered(lambda m: m.state == "posted"))
        [payment] = payments - old
        self.assertAlmostEqual(payment.amount, 95.5, 2)
        self.assertAlmostEqual(-sum(self._receivable_items(payment).mapped("balance")), 95.5, 2)
        # the patient's credit is the new amount only
        self.assertAlmostEqual(
            -sum(self._receivable_items(payments).mapped("amount_residual")), 95.5, 2
        )

    def test_bad_credit_rows(self):
        self._import("packages", csv_file("packages.csv"))
        rows = (
            "reference,patient,amount,date,package_reference\n"
            "C-1,James Carter,0,,\n"
            "C-2,James Carter,10,,NOPE\n"
            "C-3,James Carter,10,,JANE-501\n"
            "C-4,Maria Lopez,10,,JANE-501\n"
            "C-5,James Carter,10,,\n"
        )
        wizard = self._import("credits", rows.encode())
        self.assertEqual(wizard.state, "failed")
        self.assertFalse(
            self.env["account.payment"].search([("clinic_import_reference", "!=", False)])
        )
        for text in (
            "Line 2 (C-1): the amount must be more than 0",
            "Line 3 (C-2): package_reference: no package was imported with reference 'NOPE'",
            "Line 4 (C-3): package ",
            "belongs to Maria Lopez, not to this patient",
            "Line 5 (C-4): package ",
            "is invoiced at sale",
        ):
            self.assertIn(text, wizard.result)
        self.assertNotIn("C-5", wizard.result)


@freeze_time(TODAY)
class TestImportRights(ImportCase):
    def test_a_clinic_user_may_not_import(self):
        with self.assertRaises(AccessError):
            self._import("packages", csv_file("packages.csv"), user=self.receptionist)
        # even with a wizard made for them, the action checks the caller
        wizard = self.env["clinic.import"].create(
            {"kind": "packages", "file": base64.b64encode(csv_file("packages.csv"))}
        )
        with self.assertRaises(AccessError):
            wizard.with_user(self.receptionist).action_import()
        self.assertFalse(self._imported("JANE-501"))

    def test_imported_fields_are_not_writable(self):
        self._import("packages", csv_file("packages.csv"))
        maria = self._imported("JANE-501")
        for user in (self.receptionist, self.manager):
            for record, values in (
                (maria, {"imported": False}),
                (maria, {"import_reference": "X"}),
                (maria.line_ids, {"used_before": 0}),
            ):
                with self.subTest(user=user.login, values=values), self.assertRaises(AccessError):
                    record.with_user(user).write(values)
        self.assertEqual(maria.line_ids.used_before, 3)

    def test_template_per_kind(self):
        for kind, columns in (
            ("packages", "reference,patient,patient_email,package,service,quantity,used,start"),
            ("authorizations", "reference,patient,patient_email,payer,number,type,start,end"),
            ("credits", "reference,patient,patient_email,amount,date,package_reference"),
        ):
            wizard = self.env["clinic.import"].with_user(self.manager).create({"kind": kind})
            action = wizard.action_download_template()
            self.assertEqual(action["url"], f"/clinic_packages/static/import_templates/{kind}.csv")
            path = Path(__file__).parents[1] / "clinic_packages" / "static" / "import_templates"
            self.assertTrue((path / f"{kind}.csv").read_text().startswith(columns))


class TestImportOverRpc(ClinicRpcMixin, ClinicTestMixin, HttpCase):
    """An outside client runs the import over XML-RPC: a Clinic Manager imports, a Clinic
    User is refused with an access error (not a traceback) and nothing is written."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()

    def test_import_over_xmlrpc(self):
        content = base64.b64encode(csv_file("authorizations.csv")).decode()
        self.env["res.partner"].create({"name": "Blue Shield", "is_company": True})
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc(
                self.receptionist,
                "clinic.import",
                "create",
                {"kind": "authorizations", "file": content},
            )
        self.assertEqual(caught.exception.faultCode, 4)
        self.assertNotIn("Traceback", caught.exception.faultString)
        wizard_id = self.rpc(
            self.manager, "clinic.import", "create", {"kind": "authorizations", "file": content}
        )
        self.rpc(self.manager, "clinic.import", "action_import", [wizard_id])
        [result] = self.rpc(self.manager, "clinic.import", "read", [wizard_id], ["state", "result"])
        self.assertEqual(result["state"], "done", result["result"])
        self.assertEqual(
            self.env["clinic.authorization"].search_count(
                [("import_reference", "in", ("TN-1", "TN-2"))]
            ),
            2,
        )
