"""A package that is one period of a membership (README, "Family, transfer, caps,
memberships")."""

from odoo import api, fields, models
from odoo.exceptions import UserError

from .clinic_guard import internal_value, is_trusted
from .clinic_membership import RENEWING


class ClinicEntitlement(models.Model):
    # a separable concern in a file of its own, on purpose
    _inherit = "clinic.entitlement"  # pylint: disable=consider-merging-classes-inherited

    membership_id = fields.Many2one(
        "clinic.membership",
        readonly=True,
        copy=False,
        index="btree_not_null",
        check_company=True,
        help="This package is one period of that membership.",
    )
    membership_period = fields.Integer(string="Period", readonly=True, copy=False)
    rolled_value = fields.Monetary(
        string="Value Rolled Over",
        currency_field="currency_id",
        readonly=True,
        copy=False,
        help="The unearned value of the uses carried over from the previous period (part of "
        "the price, untaxed).",
        groups="base.group_user",
    )
    membership_state = fields.Selection(related="membership_id.state", string="Membership Status")
    membership_date_next = fields.Date(
        related="membership_id.date_next", string="Membership Renews On"
    )
    membership_period_ids = fields.One2many(
        related="membership_id.period_ids", string="Membership Periods"
    )

    # -------------------------------------------------------------------------
    # CRUD METHODS
    # -------------------------------------------------------------------------

    @api.model
    def _prepare_from_product(self, product):
        vals = super()._prepare_from_product(product)
        unlimited = {
            line.service_product_id.id
            for line in product.product_tmpl_id.clinic_package_line_ids
            if line.unlimited
        }
        if unlimited:
            for command in vals.get("line_ids", []):
                if command[2]["service_product_id"] in unlimited:
                    command[2]["unlimited"] = True
        return vals

    def write(self, vals):
        if "date_expiry" in vals and not is_trusted(self.env):
            # a period ends where the membership's calendar says: the renewal closes it (its
            # unused uses roll over or go to breakage) and a closed period does not come back
            for period in self.filtered("membership_id"):
                raise UserError(
                    self.env._(
                        "Package %(name)s is period %(period)s of membership %(membership)s: "
                        "it ends when the membership renews, its end date is not changed by "
                        "hand. To stop the renewals, cancel the membership.",
                        name=period.name,
                        period=period.membership_period,
                        membership=period.membership_id.name,
                    )
                )
        return super().write(vals)

    # -------------------------------------------------------------------------
    # COMPUTE METHODS
    # -------------------------------------------------------------------------

    @api.depends("membership_id")
    def _compute_capabilities(self):  # pylint: disable=missing-return
        super()._compute_capabilities()
        # a period the renewal closed has rolled over or broken its uses: none come back
        for period in self.filtered(lambda e: e.membership_id and e.state == "expired"):
            period.can_extend = False

    # -------------------------------------------------------------------------
    # BUSINESS METHODS
    # -------------------------------------------------------------------------

    def _clinic_start_membership(self):
        """Packages just sold with a membership product: each starts a membership, of which
        it is the first period."""
        Membership = self.env["clinic.membership"].sudo()
        for entitlement in self.filtered("product_id.clinic_membership"):
            template = entitlement.product_id.product_tmpl_id
            sale_line = entitlement.sale_line_id.sudo()
            quantity = sale_line.product_uom_qty or 1.0
            company = entitlement.company_id
            membership = Membership.create(
                {
                    "name": self.env["ir.sequence"]
                    .with_company(company)
                    .next_by_code("clinic.membership")
                    or entitlement.name,
                    "partner_id": entitlement.partner_id.id,
                    "product_id": entitlement.product_id.id,
                    "company_id": company.id,
                    "sale_line_id": sale_line.id,
                    "period": template.clinic_period or "month",
                    "rollover": template.clinic_rollover,
                    "price_unit": company.currency_id.round(sale_line.price_subtotal / quantity),
                    "price_total": company.currency_id.round(sale_line.price_total / quantity),
                    "tax_ids": [fields.Command.set(sale_line.tax_id.ids)],
                    "current_period_id": entitlement.id,
                }
            )
            entitlement.sudo().write({"membership_id": membership.id, "membership_period": 1})

    def _clinic_compute_expiry(self, date_start):
        """A period ends where the membership's calendar says."""
        if self.membership_id:
            return self.membership_id._clinic_period_bounds(
                self.membership_period or 1, start=date_start
            )[1]
        return super()._clinic_compute_expiry(date_start)

    def _clinic_activate(self, date_start=None):
        res = super()._clinic_activate(date_start=date_start)
        # the first period's start is the membership's: its calendar and first renewal
        for entitlement in self.filtered(
            lambda e: e.membership_id and e.state == "active" and not e.membership_id.date_start
        ):
            entitlement.membership_id.sudo().write(
                {
                    "date_start": entitlement.date_start,
                    "date_next": entitlement.membership_id._clinic_period_bounds(
                        2, start=entitlement.date_start
                    )[0],
                }
            )
        return res

    def _clinic_expire(self):
        """The expiry job meets a period whose membership renews: renew it (which closes the
        period with its rollover) rather than only expire it. A period that does not renew
        (cancelled membership) expires as any package, its unlimited value to revenue."""
        due = self.browse()
        if not internal_value(self.env, RENEWING):
            due = self.filtered(
                lambda e: (
                    e.membership_id.state == "active" and e.membership_id.current_period_id == e
                )
            )
            due.membership_id._clinic_renew()
        rest = self - due
        rest.filtered(lambda e: e.membership_id and e.uses_unlimited)._clinic_recognise_period()
        return super(ClinicEntitlement, rest)._clinic_expire()

    def _clinic_close_period(self):
        """The renewal job closes these ending periods: expired, what they still hold to
        breakage (unlimited periods: to revenue). A period that never became usable (its
        company waits for payments, and its invoice is still open) gave nothing and gave up
        nothing: it closes holding its invoice's value, which goes to zero if the invoice is
        credited, and to breakage if it is paid after all (`_clinic_break_paid_late`)."""
        closing = self.filtered(lambda e: e.state in ("draft", "active", "paused", "exhausted"))
        waiting = closing.filtered(lambda e: e.state == "draft")
        waiting.with_context(mail_notrack=True).write({"state": "expired"})
        waiting._clinic_break_rolled_in()
        (closing - waiting)._clinic_expire()

    def _clinic_break_rolled_in(self):
        """These periods closed without ever becoming usable: the uses they received from
        the previous (paid) period roll only once, so their value is breakage now, in one
        entry per company itemised per period like the expiry job's. What their own invoice
        billed stays unearned (`_clinic_close_period`)."""
        money = self._clinic_deferred_money()
        today = fields.Date.context_today(self)
        for company in self.company_id:
            shares = {}
            for period in self.filtered(lambda e, c=company: e.company_id == c):
                amount = company.currency_id.round(
                    min(period.rolled_value, money[period.id]["unearned"])
                )
                if company.currency_id.compare_amounts(amount, 0) > 0:
                    shares[period] = amount
            if not shares:
                continue
            ref = self.env._(
                "Uses rolled over into %(count)s membership period(s) never started, on %(date)s",
                count=len(shares),
                date=today,
            )
            self._clinic_post_shared_breakage(company, shares, ref)

    def _clinic_break_paid_late(self):
        """The renewal invoice of these closed periods was paid after their end: the value
        they still hold (never usable, see `_clinic_close_period`) is breakage now."""
        ended = self.filtered(lambda e: e.membership_id and e.state == "expired")
        for company in ended.company_id:
            ended.filtered(lambda e, c=company: e.company_id == c)._clinic_post_grouped_breakage()

    def action_cancel(self):
        res = super().action_cancel()
        # the order sold it back (or a manager cancelled the period): no more renewals
        self._clinic_stop_ended_memberships()
        return res

    def _clinic_refund(self, amount):
        move = super()._clinic_refund(amount)
        # the current period paid back: the membership stops, as when it is cancelled
        self._clinic_stop_ended_memberships()
        return move

    def _clinic_stop_ended_memberships(self):
        """The memberships whose current period these packages ended (cancelled, refunded)
        renew no more."""
        memberships = self.sudo().membership_id.filtered(
            lambda m: m.state == "active" and m.current_period_id.state in ("cancelled", "refunded")
        )
        memberships._clinic_stop()
