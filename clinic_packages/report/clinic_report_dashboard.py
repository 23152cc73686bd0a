from dateutil.relativedelta import relativedelta

from odoo import fields, models
from odoo.tools import SQL

EXPIRY_HORIZON_DAYS = 30


class ClinicReportDashboard(models.Model):
    """The Clinic app's landing numbers, one row per company: packages in use, uses this
    month, packages expiring in the next 30 days and the unearned revenue balance."""

    _name = "clinic.report.dashboard"
    _inherit = ["clinic.report.mixin"]
    _description = "Clinic Dashboard"
    _auto = False
    _rec_name = "company_id"
    _order = "company_id"
    _depends = {
        "clinic.entitlement": ["company_id", "state", "date_expiry"],
        "clinic.entitlement.usage": ["company_id", "state", "date"],
        "account.move.line": ["account_id", "company_id", "balance", "parent_state"],
        "res.company": ["clinic_deferred_account_id"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    active_count = fields.Integer(string="Active Packages", readonly=True)
    uses_month = fields.Integer(string="Uses This Month", readonly=True)
    expiring_count = fields.Integer(
        string="Expiring in 30 Days",
        readonly=True,
        help="Active packages whose expiry date is within the next 30 days (or already past, "
        "waiting for the daily expiry job).",
    )
    unearned_balance = fields.Monetary(
        readonly=True,
        help="Balance of the unearned revenue account: package money not yet earned by visits.",
    )

    def _clinic_dates(self):
        today = fields.Date.context_today(self)
        month_start = today.replace(day=1)
        return {
            "today": today,
            "month_start": month_start,
            "next_month": month_start + relativedelta(months=1),
            "horizon": today + relativedelta(days=EXPIRY_HORIZON_DAYS),
        }

    def _select(self):
        """The columns: one number per subquery on the company (`c`), at the dates of
        `_clinic_dates`."""
        return SQL(
            """
            c.id AS id,
            c.id AS company_id,
            c.currency_id AS currency_id,
            (SELECT COUNT(*)
               FROM clinic_entitlement e
              WHERE e.company_id = c.id AND e.state = 'active') AS active_count,
            (SELECT COUNT(*)
               FROM clinic_entitlement_usage u
              WHERE u.company_id = c.id
                AND u.state = 'consumed'
                AND u.date >= %(month_start)s
                AND u.date < %(next_month)s) AS uses_month,
            (SELECT COUNT(*)
               FROM clinic_entitlement e
              WHERE e.company_id = c.id
                AND e.state = 'active'
                AND e.date_expiry <= %(horizon)s) AS expiring_count,
            COALESCE((SELECT -SUM(l.balance)
                        FROM account_move_line l
                       WHERE l.account_id = c.clinic_deferred_account_id
                         AND l.company_id = c.id
                         AND l.parent_state = 'posted'), 0.0) AS unearned_balance
            """,
            **self._clinic_dates(),
        )

    def _from(self):
        return SQL("res_company c")

    def _clinic_open(self, xmlid, context=None, domain=None):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["context"] = context or {}
        action["domain"] = [("company_id", "=", self.company_id.id), *(domain or [])]
        return action

    def action_open_active(self):
        return self._clinic_open(
            "clinic_packages.clinic_entitlement_action", {"search_default_active": 1}
        )

    def action_open_expiring(self):
        return self._clinic_open(
            "clinic_packages.clinic_entitlement_action", {"search_default_expiring_soon": 1}
        )

    def action_open_uses(self):
        dates = self._clinic_dates()
        return self._clinic_open(
            "clinic_packages.clinic_report_usage_action",
            domain=[("date", ">=", dates["month_start"]), ("date", "<", dates["next_month"])],
        )

    def action_open_unearned(self):
        return self._clinic_open("clinic_packages.clinic_report_unearned_action")
