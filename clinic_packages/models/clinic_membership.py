"""A membership: a package sold once and renewed every week or month until cancelled.

Each period is a `clinic.entitlement` of its own (`membership_id`, `membership_period`), with
its own invoice, uses and unearned value, so that every period keeps the package money
invariant (billed = recognised + unearned + refunded + breakage) with no special case. The
daily renewal job (`_cron_renew`) closes the period that ended (rollover of its unused uses
with their value, breakage of the rest) and opens the next one with its posted invoice.
"""

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from .clinic_guard import GROUP_USER, internal_context
from .product_template_membership import PERIOD_SELECTION

# context key: the renewal job closes its own periods (the expiry job must not renew them)
RENEWING = "clinic_membership_renewing"


class ClinicMembership(models.Model):
    _name = "clinic.membership"
    _description = "Membership"
    _inherit = ["mail.thread", "clinic.guard.mixin"]
    _order = "id desc"
    _check_company_auto = True

    # -------------------------------------------------------------------------
    # FIELDS
    # -------------------------------------------------------------------------

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False)
    partner_id = fields.Many2one(
        "res.partner",
        string="Patient",
        required=True,
        readonly=True,
        index=True,
        check_company=True,
    )
    product_id = fields.Many2one(
        "product.product", string="Membership", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    sale_line_id = fields.Many2one(
        "sale.order.line", readonly=True, index="btree_not_null", check_company=True
    )
    sale_order_id = fields.Many2one(related="sale_line_id.order_id", string="Sale Order")
    period = fields.Selection(PERIOD_SELECTION, string="Renews", required=True, readonly=True)
    rollover = fields.Boolean(string="Unused Uses Roll Over", readonly=True)
    price_unit = fields.Monetary(
        string="Price per Period (untaxed)",
        currency_field="currency_id",
        readonly=True,
        help="What each renewal invoices, before taxes: the price it was sold at.",
    )
    price_total = fields.Monetary(
        string="Price per Period", currency_field="currency_id", readonly=True
    )
    tax_ids = fields.Many2many("account.tax", string="Taxes", readonly=True)
    state = fields.Selection(
        [("active", "Renewing"), ("cancelled", "Cancelled")],
        default="active",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    date_start = fields.Date(
        string="Started", readonly=True, help="The first day of the first period."
    )
    date_next = fields.Date(
        string="Next Renewal",
        readonly=True,
        index=True,
        tracking=True,
        help="The day the next period starts and is invoiced. Empty: no more renewals.",
    )
    date_cancelled = fields.Date(string="Cancelled On", readonly=True, tracking=True)
    period_ids = fields.One2many(
        "clinic.entitlement", "membership_id", string="Periods", readonly=True
    )
    current_period_id = fields.Many2one("clinic.entitlement", readonly=True, index="btree_not_null")
    period_count = fields.Integer(string="Periods Count", compute="_compute_period_count")
    date_end = fields.Date(
        related="current_period_id.date_expiry",
        string="Current Period Ends",
    )
    can_cancel = fields.Boolean(compute="_compute_can_cancel")

    # -------------------------------------------------------------------------
    # COMPUTE METHODS
    # -------------------------------------------------------------------------

    @api.depends("period_ids")
    def _compute_period_count(self):
        counts = dict(
            self.env["clinic.entitlement"]._read_group(
                [("membership_id", "in", self.ids)], ["membership_id"], ["__count"]
            )
        )
        for membership in self:
            membership.period_count = counts.get(membership._origin, 0)

    @api.depends("state")
    def _compute_can_cancel(self):
        for membership in self:
            membership.can_cancel = membership.state == "active"

    # -------------------------------------------------------------------------
    # BUSINESS METHODS
    # -------------------------------------------------------------------------

    def _clinic_period_bounds(self, index, start=None):
        """(first day, last day) of period `index` (1 for the first): periods follow the
        calendar from the membership's start, so that monthly periods do not drift."""
        self.ensure_one()
        anchor = self.date_start or start
        step = relativedelta(weeks=1) if self.period == "week" else relativedelta(months=1)
        first = anchor + step * (index - 1)
        return first, anchor + step * index - relativedelta(days=1)

    def _prepare_period_vals(self, previous, rolled):
        """Values of the period after `previous`; `rolled`: {service id: uses carried over}
        and the value they carry under key None."""
        self.ensure_one()
        index = previous.membership_period + 1
        first, last = self._clinic_period_bounds(index)
        Entitlement = self.env["clinic.entitlement"]
        vals = Entitlement._prepare_from_product(self.product_id)
        for command in vals["line_ids"]:
            line = command[2]
            carried = rolled.get(line["service_product_id"], 0)
            if carried and not line.get("unlimited"):
                line["quantity"] += carried
                line["rolled_in"] = carried
        value = rolled.get(None, 0.0)
        vals.update(
            {
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "membership_id": self.id,
                "membership_period": index,
                "activation": "on_payment",
                # usable at once, unless the company waits for the payment of its invoice
                "state": "draft" if self.company_id.clinic_membership_block_unpaid else "active",
                "date_start": first,
                "date_expiry": last,
                "amount_untaxed": self.currency_id.round(self.price_unit + value),
                "amount_total": self.currency_id.round(self.price_total + value),
                "rolled_value": value,
            }
        )
        return vals

    def _prepare_renewal_invoice_line_vals(self, period, analytic_cache=None):
        """The invoice line of `period`: the membership's price, on the unearned revenue
        account like a package invoiced at sale, tagged with the period's package. Every
        value Odoo would compute for a product line is given (its type, unit, partner,
        analytic distribution), so that creating a batch's invoices computes none of them
        line by line."""
        self.ensure_one()
        deferred = self.company_id._clinic_accounting()[0]
        return {
            "display_type": "product",
            "partner_id": self.partner_id.commercial_partner_id.id,
            "product_uom_id": self.product_id.uom_id.id,
            "discount": 0.0,
            "analytic_distribution": self.env["clinic.entitlement"]._clinic_analytic_distribution(
                self.company_id,
                deferred,
                self.partner_id.commercial_partner_id,
                self.product_id,
                cache=analytic_cache,
            ),
            "product_id": self.product_id.id,
            "name": self.env._(
                "%(product)s (%(membership)s): %(start)s to %(end)s",
                product=self.product_id.display_name,
                membership=self.name,
                start=period.date_start,
                end=period.date_expiry,
            ),
            "quantity": 1,
            "price_unit": self.price_unit,
            "tax_ids": [fields.Command.set(self.tax_ids.ids)],
            "account_id": deferred.id,
            "clinic_entitlement_id": period.id,
        }

    def _prepare_renewal_invoice_vals(self, periods, analytic_cache=None):
        """The customer invoice of the new `periods` of these memberships (one patient's,
        renewing the same day, in the same order): one line per period. An invoice of one
        period is tagged with its package, like a package invoice; one of several periods
        is the periods' through its lines only."""
        first = self[:1]
        if len(self) == 1:
            ref = self.env._(
                "%(membership)s, period %(index)s (%(start)s to %(end)s)",
                membership=first.name,
                index=periods.membership_period,
                start=periods.date_start,
                end=periods.date_expiry,
            )
        else:
            ref = self.env._(
                "%(count)s memberships renewed on %(date)s: %(names)s",
                count=len(self),
                date=periods[:1].date_start,
                names=", ".join(self.mapped("name")),
            )
        return {
            "move_type": "out_invoice",
            "partner_id": first.partner_id.id,
            "company_id": first.company_id.id,
            "invoice_date": periods[:1].date_start,
            "invoice_origin": ", ".join(self.mapped("name")),
            "ref": ref,
            "clinic_entitlement_id": periods.id if len(periods) == 1 else False,
            "clinic_move_kind": "membership",
            "invoice_line_ids": [
                fields.Command.create(
                    membership._prepare_renewal_invoice_line_vals(period, analytic_cache)
                )
                for membership, period in zip(self, periods, strict=True)
            ],
        }

    def _clinic_renewal_invoices(self, periods):
        """Create the customer invoices of the new `periods` of these memberships (same
        order, one company), one per patient and first day: a patient renewing several
        memberships the same day receives one invoice with a line per membership, as a
        clinic bills a family's or a patient's plans together. Not posted."""
        groups = {}
        for membership, period in zip(self, periods, strict=True):
            key = (membership.partner_id, period.date_start)
            memberships, group_periods = groups.get(key, (self.browse(), periods.browse()))
            groups[key] = (memberships | membership, group_periods | period)
        analytic_cache = {}
        return self.env["account.move"].create(
            [
                memberships._prepare_renewal_invoice_vals(group_periods, analytic_cache)
                for memberships, group_periods in groups.values()
            ]
        )

    def _clinic_rollover(self, ending, money):
        """{service id: uses, None: value} that `ending` carries over to the next period: its
        uses left, at most one period's worth per service (uses carried over once are used
        first, and do not roll again), with their unearned value."""
        self.ensure_one()
        if not self.rollover or ending.state not in ("active", "exhausted", "paused"):
            return {}
        rolled, count = {}, 0
        for line in ending.line_ids:
            if line.unlimited:
                continue
            uses = min(line.remaining, line.quantity - line.rolled_in)
            if uses > 0:
                rolled[line.service_product_id.id] = uses
                count += uses
        if not count:
            return {}
        unearned = money[ending.id]["unearned"]
        # what the booked visits of the period will still earn stays with it
        kept = ending.unit_value * ending.uses_reserved
        value = ending.currency_id.round(max(min(ending.unit_value * count, unearned - kept), 0.0))
        rolled[None] = value
        return rolled

    def _clinic_renew(self):
        """Close the current period of these memberships and open the next one: its posted
        invoice, its uses (plus the uses rolled over), the value rolled over moved with an
        entry, what the closed period still holds to breakage (unlimited periods: to
        revenue). Runs trusted: the renewal job, or a business action that checked its
        caller."""
        # no chatter message or tracking per document: the periods and invoices say it all,
        # and a message per record would cost more than the rest of the job
        self = self.sudo().with_context(
            tracking_disable=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            mail_notrack=True,
            **internal_context(**{RENEWING: True}),
        )
        Entitlement = self.env["clinic.entitlement"]
        created = Entitlement
        for company in self.company_id:
            memberships = self.filtered(
                lambda m, c=company: m.company_id == c and m.state == "active"
            ).with_company(company)
            ending = memberships.current_period_id
            money = ending._clinic_deferred_money()
            rolled = {m: m._clinic_rollover(m.current_period_id, money) for m in memberships}
            periods = Entitlement.with_company(company).create(
                [m._prepare_period_vals(m.current_period_id, rolled[m]) for m in memberships]
            )
            invoices = memberships._clinic_renewal_invoices(periods)
            invoices._post(soft=False)
            ending._clinic_post_grouped_rollover(
                {
                    m.current_period_id: (p, rolled[m].get(None, 0.0))
                    for m, p in zip(memberships, periods, strict=True)
                }
            )
            ending._clinic_close_period()
            for membership, period in zip(memberships, periods, strict=True):
                membership.write(
                    {
                        "current_period_id": period.id,
                        "date_next": period.date_expiry + relativedelta(days=1),
                    }
                )
            created |= periods
        return created

    # -------------------------------------------------------------------------
    # ACTIONS
    # -------------------------------------------------------------------------

    def _clinic_stop(self):
        """Cancelled (through the membership, its current period or its order): no more
        renewals, and the day it happened. Runs trusted: callers check their user."""
        self.write(
            {
                "state": "cancelled",
                "date_next": False,
                "date_cancelled": fields.Date.context_today(self),
            }
        )

    def action_cancel(self):
        """Stop renewing: no next period, no next invoice. The current period runs to its
        end (then its unused uses go to breakage, as a package's at expiry)."""
        self._clinic_check_group(GROUP_USER, self.env._("cancel a membership"))
        self.check_access("write")
        for membership in self:
            if not membership.can_cancel:
                raise UserError(
                    self.env._(
                        "Membership %(name)s is already cancelled: it does not renew.",
                        name=membership.name,
                    )
                )
        for membership in self._clinic_trusted():
            membership._clinic_stop()
            end = membership.current_period_id.date_expiry
            membership.message_post(
                body=self.env._(
                    "Cancelled by %(user)s: no more renewals. The current period runs until "
                    "%(end)s.",
                    user=self.env.user.name,
                    end=end or "-",
                )
            )
        return True

    def action_view_periods(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_packages.clinic_entitlement_action"
        )
        action["domain"] = [("membership_id", "=", self.id)]
        action["context"] = {"create": False}
        action["name"] = action["display_name"] = self.env._("Periods of %s", self.name)
        return action

    # -------------------------------------------------------------------------
    # CRON
    # -------------------------------------------------------------------------

    @api.model
    def _cron_renew(self, batch_size=500):
        """Renew the memberships whose current period has ended. One batch per call: the
        cron runner commits it and calls again while some are left, so an interrupted run
        resumes where it stopped (a renewed membership is no longer due)."""
        today = fields.Date.context_today(self)
        domain = [("state", "=", "active"), ("date_next", "<=", today)]
        batch = self.search(domain, limit=batch_size, order="date_next, id")
        batch._clinic_renew()
        # a late job renews a membership once per call: it may still be due after it
        remaining = self.search_count(domain) if batch else 0
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=remaining)
        return batch
