from odoo import fields, models
from odoo.exceptions import UserError


class ResCompany(models.Model):
    _inherit = "res.company"

    clinic_count_upcoming = fields.Boolean(
        string="Count Kept and Upcoming Visits",
        default=True,
        help="Authorizations count booked visits as well as kept ones when deciding whether "
        "they are exhausted, so that a clinic does not schedule more visits than approved. "
        "Frequency limits (per day, week, month) always count booked visits.",
    )
    clinic_block_unauthorized = fields.Boolean(
        string="Block Bookings Without Authorization",
        help="Refuse to book a visit that no valid insurance authorization covers (pending, "
        "inactive, expired, exhausted, or over its daily, weekly or monthly limit), instead "
        "of booking it with a warning. Visits paid by a package need no authorization.",
    )
    clinic_auto_allocate = fields.Boolean(
        string="Apply Package Prepayments Automatically",
        default=True,
        help="When a visit invoice of a prepaid package is posted, pay it from that "
        "package's prepayment.",
    )
    clinic_no_show_product_id = fields.Many2one(
        "product.product",
        string="No-Show Fee",
        domain="[('type', '=', 'service')]",
        help="Invoiced when a no-show is not covered by the patient's package. Empty: no "
        "fee is charged.",
    )
    clinic_cancel_window_hours = fields.Integer(
        string="Cancellation Window (hours)",
        default=24,
        help="A patient who cancels a visit from the portal less than this many hours before "
        "it starts makes a late cancellation: it uses a visit of the package if the package "
        "counts late cancellations. 0: every cancellation is on time.",
    )
    clinic_membership_block_unpaid = fields.Boolean(
        string="Membership Periods Wait for Payment",
        help="A renewed membership period can be booked only once its renewal invoice is "
        "paid: until then it waits (Awaiting Activation) and covers no visit (a visit booked "
        "meanwhile is not paid by the membership). Without it, a renewed period can be used "
        "at once, paid or not.",
    )
    clinic_alert_remaining = fields.Integer(
        string="Alert When Uses Left Reach",
        default=2,
    )
    clinic_alert_days = fields.Char(
        string="Alert Days Before Expiry",
        default="7,30",
        help="Comma-separated numbers of days before the end date at which the "
        "responsible user gets a reminder.",
    )

    clinic_deferred_account_id = fields.Many2one(
        "account.account",
        string="Unearned Revenue Account",
        domain="[('account_type', 'in', ('liability_current', 'liability_non_current'))]",
        help="Liability that holds package money until the visits are delivered.",
    )
    clinic_breakage_account_id = fields.Many2one(
        "account.account",
        string="Breakage Income Account",
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="Income for the value of expired or forfeited packages.",
    )
    clinic_journal_id = fields.Many2one(
        "account.journal",
        string="Package Journal",
        domain="[('type', '=', 'general')]",
        help="Journal of the revenue recognition and breakage entries of packages.",
    )

    def write(self, vals):
        res = super().write(vals)
        if "clinic_deferred_account_id" in vals:
            # the stored unearned movements follow the account the reports read; only who may
            # write the company (checked above) gets here
            posted = (
                self.env["account.move"]
                .sudo()
                .search([("company_id", "in", self.ids), ("state", "=", "posted")])
            )
            self.env["clinic.unearned.move"].sudo()._clinic_refresh(posted)
        return res

    def _clinic_accounting(self):
        """(unearned account, breakage account, journal) of the company. They come with its
        chart of accounts (account.chart.template._post_load_data); read only, never created
        here."""
        self.ensure_one()
        if not (
            self.clinic_deferred_account_id
            and self.clinic_breakage_account_id
            and self.clinic_journal_id
        ):
            raise UserError(
                self.env._(
                    "%(company)s has no unearned revenue account, breakage account or package "
                    "journal. Install a chart of accounts, then set them in Clinic settings.",
                    company=self.name,
                )
            )
        return (
            self.clinic_deferred_account_id,
            self.clinic_breakage_account_id,
            self.clinic_journal_id,
        )

    def _clinic_alert_day_list(self):
        """The numbers of days before an end date at which reminders go out, e.g. [7, 30]."""
        self.ensure_one()
        days = set()
        for token in (self.clinic_alert_days or "").split(","):
            token = token.strip()
            if token.isdigit():
                days.add(int(token))
        return sorted(days)
