"""The package accounts and journal come with a company's chart of accounts; readers never
create them."""

from odoo.exceptions import UserError
from odoo.tests import Form

from .common import ClinicCase


class TestAccountsSetup(ClinicCase):
    def _account_count(self):
        return self.env["account.account"].with_context(active_test=False).search_count([])

    def _new_company(self, name="Clinic New"):
        return self.env["res.company"].create({"name": name})

    def assertPackageAccounting(self, company):
        """The company has its own unearned and breakage accounts, of the right types and in
        its chart's code conventions, and a general journal of its own."""
        deferred = company.clinic_deferred_account_id
        breakage = company.clinic_breakage_account_id
        journal = company.clinic_journal_id
        self.assertTrue(deferred and breakage and journal, f"{company.name}: missing")
        self.assertEqual(deferred.account_type, "liability_current")
        self.assertEqual(breakage.account_type, "income_other")
        self.assertEqual(journal.type, "general")
        self.assertEqual(deferred.company_ids, company)
        self.assertEqual(breakage.company_ids, company)
        self.assertEqual(journal.company_id, company)
        self.assertEqual(deferred.name, "Unearned Revenue (Packages)")
        self.assertEqual(breakage.name, "Package Breakage Income")
        Account = self.env["account.account"].with_company(company)
        chart_codes = (
            Account.search(
                [
                    ("company_ids", "in", company.ids),
                    ("account_type", "=", "liability_current"),
                    ("id", "!=", deferred.id),
                ]
            )
            .with_company(company)
            .mapped("code")
        )
        code = deferred.with_company(company).code
        self.assertTrue(code and code.isdigit(), code)
        self.assertIn(len(code), {len(other) for other in chart_codes})
        self.assertEqual(company._clinic_accounting(), (deferred, breakage, journal))

    def test_main_company_has_them_after_install(self):
        """On a fresh database the chart loads after the install hooks: the chart brings them."""
        company = self.env.ref("base.main_company")
        self.assertTrue(company.chart_template)
        self.assertPackageAccounting(company)

    def test_new_company_gets_them_with_its_chart(self):
        company = self._new_company()
        self.assertFalse(company.chart_template)
        self.assertFalse(company.clinic_deferred_account_id)
        self.env["account.chart.template"].try_loading(
            "generic_coa", company=company, install_demo=False
        )
        self.assertEqual(company.chart_template, "generic_coa")
        self.assertPackageAccounting(company)
        main = self.env.ref("base.main_company")
        self.assertNotEqual(company.clinic_deferred_account_id, main.clinic_deferred_account_id)
        self.assertNotEqual(company.clinic_journal_id, main.clinic_journal_id)

        # reloading the chart keeps them and creates no second pair
        accounting = company._clinic_accounting()
        count = self._account_count()
        self.env["account.chart.template"].try_loading(
            "generic_coa", company=company, install_demo=False
        )
        self.assertEqual(company._clinic_accounting(), accounting)
        self.assertEqual(self._account_count(), count)

    def test_branch_shares_its_parent_accounts(self):
        """As Odoo shares a root company's accounts and journals with its branches."""
        company = self._new_company()
        self.env["account.chart.template"].try_loading(
            "generic_coa", company=company, install_demo=False
        )
        count = self._account_count()
        branch = self.env["res.company"].create({"name": "Clinic Branch", "parent_id": company.id})
        self.env.cr.precommit.run()  # Odoo loads the branch's chart before the commit
        self.assertEqual(branch.chart_template, "generic_coa")
        self.assertEqual(branch._clinic_accounting(), company._clinic_accounting())
        self.assertEqual(self._account_count(), count)

    def test_installation_completes_charts_loaded_before(self):
        """A company whose chart was loaded before the addon: the installation gives it the
        accounts and journal, and leaves what a company already has as it is."""
        company = self._new_company()
        self.env["account.chart.template"].try_loading(
            "generic_coa", company=company, install_demo=False
        )
        accounts = company.clinic_deferred_account_id | company.clinic_breakage_account_id
        company.write(
            {
                "clinic_deferred_account_id": False,
                "clinic_breakage_account_id": False,
                "clinic_journal_id": False,
            }
        )
        accounts.unlink()
        main = self.env.ref("base.main_company")
        main_accounting = main._clinic_accounting()
        count = self._account_count()
        self.env["account.chart.template"]._clinic_setup_all_companies()
        self.assertEqual(self._account_count(), count + 2)
        self.assertPackageAccounting(company)
        self.assertEqual(main._clinic_accounting(), main_accounting)
        self.env["account.chart.template"]._clinic_setup_all_companies()
        self.assertEqual(self._account_count(), count + 2)

    def test_no_chart_raises_and_creates_nothing(self):
        company = self._new_company("Clinic Without Chart")
        count = self._account_count()
        with self.assertRaisesRegex(UserError, "Install a chart of accounts"):
            company._clinic_accounting()
        self.assertEqual(self._account_count(), count)
        self.assertFalse(company.clinic_deferred_account_id)
        self.assertFalse(company.clinic_breakage_account_id)
        self.assertFalse(company.clinic_journal_id)

    def test_product_accounts_only_read(self):
        template = self.package_physio8.product_tmpl_id
        self.assertEqual(template.clinic_billing_mode, "package_invoice")
        count = self._account_count()
        accounts = template._get_product_accounts()
        self.assertEqual(accounts["income"], self.company.clinic_deferred_account_id)
        # a company without chart: nothing to read, nothing created
        company = self._new_company("Clinic Without Chart")
        accounts = template.with_company(company)._get_product_accounts()
        self.assertFalse(accounts["income"])
        self.assertFalse(company.clinic_deferred_account_id)
        self.assertEqual(self._account_count(), count)

    def test_settings_show_and_change_them(self):
        """An accounting manager sees the package accounts and journal in the Clinic
        settings and can change them there."""
        company = self.env.company
        journal = self.env["account.journal"].create(
            {"name": "Clinic Misc", "code": "CLMI", "type": "general", "company_id": company.id}
        )
        admin = self.env.ref("base.user_admin")
        with Form(self.env["res.config.settings"].with_user(admin)) as settings:
            self.assertEqual(
                settings.clinic_deferred_account_id, company.clinic_deferred_account_id
            )
            settings.clinic_journal_id = journal
        settings.record.execute()
        self.assertEqual(company.clinic_journal_id, journal)
