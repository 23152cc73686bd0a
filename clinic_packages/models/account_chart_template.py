from odoo import api, fields, models


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    def _post_load_data(self, template_code, company, template_data):
        """A company gets its package accounts and journal with its chart of accounts."""
        result = super()._post_load_data(template_code, company, template_data)
        self._clinic_setup_accounts(company or self.env.company)
        return result

    @api.model
    def _clinic_setup_all_companies(self):
        """Installation and update (data/clinic_accounts_data.xml, loaded before the demo
        data): companies whose chart of accounts was loaded before this addon get the
        package accounts and journal; later charts bring them themselves."""
        self._clinic_setup_accounts(
            self.env["res.company"].search([("chart_template", "!=", False)])
        )

    def _clinic_setup_accounts(self, companies):
        """Give `companies` with a chart of accounts the package accounts and journal they
        miss; a branch takes its parent's."""
        Journal = self.env["account.journal"].sudo()
        for company in companies.filtered("chart_template"):
            parent = company.parent_id
            values = {}
            if not company.clinic_deferred_account_id:
                values["clinic_deferred_account_id"] = (
                    parent.clinic_deferred_account_id
                    or self._clinic_new_account(
                        company,
                        self.env._("Unearned Revenue (Packages)"),
                        "liability_current",
                        ["liability_current"],
                    )
                ).id
            if not company.clinic_breakage_account_id:
                values["clinic_breakage_account_id"] = (
                    parent.clinic_breakage_account_id
                    or self._clinic_new_account(
                        company,
                        self.env._("Package Breakage Income"),
                        "income_other",
                        ["income_other", "income"],
                    )
                ).id
            if not company.clinic_journal_id:
                values["clinic_journal_id"] = (
                    parent.clinic_journal_id
                    or Journal.search(
                        [*Journal._check_company_domain(company), ("type", "=", "general")],
                        order="sequence, id",
                        limit=1,
                    )
                ).id
            if values:
                company.sudo().write(values)

    def _clinic_new_account(self, company, name, account_type, like_types):
        """An account of `account_type` for `company`, its code next to the company's
        accounts of `like_types` (the chart's own code conventions); none without such
        accounts."""
        Account = self.env["account.account"].sudo().with_company(company)
        model = Account.search(
            [*Account._check_company_domain(company), ("account_type", "in", like_types)],
            order="code desc",
            limit=1,
        )
        if not model:
            return Account
        return Account.create(
            {
                "name": name,
                "code": Account._search_new_account_code(model.code),
                "account_type": account_type,
                "company_ids": [fields.Command.set(company.ids)],
            }
        )
