from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression

from .calendar_event import defer_sync
from .clinic_guard import GROUP_MANAGER, GROUP_USER, is_trusted
from .product_template import ACTIVATION_SELECTION, BILLING_SELECTION

# states in which a package may still be booked against, one way or another
OPEN_STATES = ("draft", "active", "paused")
# states in which a package still holds money the patient may get back
REFUNDABLE_STATES = ("draft", "active", "paused", "exhausted", "expired")
# states that end a package for good
CLOSED_STATES = ("refunded", "cancelled")


class ClinicEntitlement(models.Model):
    _name = "clinic.entitlement"
    _description = "Patient Package"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "clinic.reminder.mixin",
        "clinic.guard.mixin",
    ]
    _order = "date_expiry asc nulls last, id desc"
    _check_company_auto = True
    # made by selling (or importing) a package; the front desk extends it, a manager also
    # changes the terms it was sold on. Everything else changes through its actions.
    _clinic_user_fields = frozenset({"date_expiry"})
    _clinic_manager_fields = frozenset(
        {"practitioner_ids", "location_ids", "count_no_show", "count_late_cancel"}
    )

    name = fields.Char(
        string="Reference",
        required=True,
        copy=False,
        readonly=True,
        index="trigram",
        default=lambda self: self.env._("New"),
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Patient",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    product_id = fields.Many2one(
        "product.product",
        string="Package",
        required=True,
        index=True,
        domain="[('clinic_package_ok', '=', True)]",
        check_company=True,
    )
    product_tmpl_id = fields.Many2one(related="product_id.product_tmpl_id")
    sale_line_id = fields.Many2one(
        "sale.order.line",
        index="btree_not_null",
        copy=False,
        readonly=True,
        check_company=True,
    )
    sale_order_id = fields.Many2one(
        related="sale_line_id.order_id", store=True, string="Sale Order", index="btree_not_null"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date_start = fields.Date(string="Start", tracking=True, copy=False)
    date_expiry = fields.Date(
        string="Expires",
        tracking=True,
        copy=False,
        help="The package cannot be used for visits after this date. Empty: never expires.",
    )
    date_paused = fields.Date(string="Paused Since", readonly=True, copy=False)
    state = fields.Selection(
        [
            ("draft", "Awaiting Activation"),
            ("active", "Active"),
            ("paused", "Paused"),
            ("exhausted", "Used Up"),
            ("expired", "Expired"),
            ("refunded", "Refunded"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
    )
    activation = fields.Selection(
        ACTIVATION_SELECTION,
        required=True,
        default="on_confirm",
    )
    billing_mode = fields.Selection(
        BILLING_SELECTION,
        required=True,
        default="package_invoice",
    )
    count_no_show = fields.Boolean(string="No-Shows Can Use It", default=True)
    count_late_cancel = fields.Boolean(string="Late Cancellations Count")
    practitioner_ids = fields.Many2many(
        "res.users",
        "clinic_entitlement_practitioner_rel",
        "entitlement_id",
        "user_id",
        string="Practitioners",
        help="Visits with these practitioners only. Empty: any.",
    )
    location_ids = fields.Many2many(
        "clinic.location",
        "clinic_entitlement_location_rel",
        "entitlement_id",
        "location_id",
        string="Locations",
        help="Visits at these locations only. Empty: any.",
    )
    line_ids = fields.One2many("clinic.entitlement.line", "entitlement_id", string="Services")
    usage_ids = fields.One2many("clinic.entitlement.usage", "entitlement_id", string="Visits")
    uses_total = fields.Integer(string="Uses", compute="_compute_uses", store=True)
    uses_used = fields.Integer(string="Used", compute="_compute_uses", store=True)
    uses_reserved = fields.Integer(string="Booked", compute="_compute_uses", store=True)
    uses_remaining = fields.Integer(string="Left", compute="_compute_uses", store=True)
    amount_total = fields.Monetary(
        string="Price Paid",
        currency_field="currency_id",
        help="What the patient pays for this package, taxes included.",
    )
    amount_untaxed = fields.Monetary(string="Price (untaxed)", currency_field="currency_id")
    unit_value = fields.Monetary(
        string="Value per Use",
        currency_field="currency_id",
        compute="_compute_unit_value",
        store=True,
        help="Untaxed price divided by the number of uses.",
    )

    move_ids = fields.One2many(
        "account.move", "clinic_entitlement_id", string="Journal Entries", readonly=True
    )
    breakage_ids = fields.One2many(
        "clinic.entitlement.breakage",
        "entitlement_id",
        string="Expiry Breakage",
        readonly=True,
        help="The package's share of the grouped entries of the daily expiry job.",
    )
    payment_ids = fields.One2many(
        "account.payment", "clinic_entitlement_id", string="Prepayments", readonly=True
    )
    move_count = fields.Integer(string="Entries", compute="_compute_move_count")
    amount_billed = fields.Monetary(
        string="Collected",
        currency_field="currency_id",
        compute="_compute_money",
        help="Untaxed: the package's share of its posted invoice, or its prepayments.",
    )
    amount_recognised = fields.Monetary(
        string="Recognised", currency_field="currency_id", compute="_compute_money"
    )
    amount_refunded = fields.Monetary(
        string="Refunded", currency_field="currency_id", compute="_compute_money"
    )
    amount_breakage = fields.Monetary(
        string="Breakage", currency_field="currency_id", compute="_compute_money"
    )
    deferred_balance = fields.Monetary(
        string="Unearned",
        currency_field="currency_id",
        compute="_compute_money",
        help="Collected and not yet recognised, refunded or broken: what the clinic still "
        "owes the patient in visits.",
    )
    # what can be done with the package now: one answer for the code, the buttons and wizards
    can_refund = fields.Boolean(compute="_compute_capabilities")
    can_cancel = fields.Boolean(compute="_compute_capabilities")
    can_pause = fields.Boolean(compute="_compute_capabilities")
    can_resume = fields.Boolean(compute="_compute_capabilities")
    can_extend = fields.Boolean(compute="_compute_capabilities")

    _sql_constraints = [
        (
            "dates_check",
            "CHECK(date_expiry IS NULL OR date_start IS NULL OR date_expiry >= date_start)",
            "A package cannot expire before it starts.",
        ),
    ]

    @api.depends("state", "uses_used")
    def _compute_capabilities(self):
        for entitlement in self:
            state = entitlement.state
            entitlement.can_refund = state in REFUNDABLE_STATES
            # a delivered use is refunded, not cancelled
            entitlement.can_cancel = state not in CLOSED_STATES and not entitlement.uses_used
            entitlement.can_pause = state == "active"
            entitlement.can_resume = state == "paused"
            entitlement.can_extend = state not in CLOSED_STATES

    @api.depends("line_ids.quantity", "line_ids.used", "line_ids.reserved")
    def _compute_uses(self):
        for entitlement in self:
            lines = entitlement.line_ids
            entitlement.uses_total = sum(lines.mapped("quantity"))
            entitlement.uses_used = sum(lines.mapped("used"))
            entitlement.uses_reserved = sum(lines.mapped("reserved"))
            entitlement.uses_remaining = sum(lines.mapped("remaining"))

    @api.depends("move_ids", "breakage_ids")
    def _compute_move_count(self):
        for entitlement in self:
            entitlement.move_count = len(entitlement._clinic_entries())

    def _clinic_entries(self):
        """The package's own journal entries and the grouped expiry entries it is part of."""
        self.ensure_one()
        return self.sudo().move_ids | self.sudo().breakage_ids.move_id

    def _clinic_ledger(self):
        """Posted journal items of this package's own entries, by kind and account."""
        self.ensure_one()
        lines = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("clinic_entitlement_id", "=", self.id),
                    ("parent_state", "=", "posted"),
                ]
            )
        )
        return lines

    @api.depends(
        "move_ids.state",
        "breakage_ids.state",
        "payment_ids.state",
        "usage_ids.amount",
        "sale_line_id.invoice_lines",
    )
    def _compute_money(self):
        for entitlement in self:
            money = entitlement._clinic_money()
            entitlement.amount_billed = money["billed"]
            entitlement.amount_recognised = money["recognised"]
            entitlement.amount_refunded = money["refunded"]
            entitlement.amount_breakage = money["breakage"]
            entitlement.deferred_balance = money["unearned"]

    def _clinic_money(self):
        """The package's money, untaxed, from the ledger: billed = recognised + unearned +
        refunded + breakage, where unearned is what the ledger still holds for it."""
        self.ensure_one()
        currency = self.currency_id
        lines = self._clinic_ledger() if self.id else self.env["account.move.line"]
        deferred = self.company_id.clinic_deferred_account_id
        breakage_account = self.company_id.clinic_breakage_account_id

        def total(kind, account=None, exclude=None, sign=-1):
            selected = lines.filtered(
                lambda line: (
                    line.move_id.clinic_move_kind == kind
                    and (account is None or line.account_id == account)
                    and (exclude is None or line.account_id != exclude)
                )
            )
            return currency.round(sign * sum(selected.mapped("balance")))

        # billed and held on the unearned account, its shares of grouped expiry entries
        deferred_money = self._clinic_deferred_money()[self.id]
        breakage = total("breakage", breakage_account) + deferred_money["grouped"]
        if self.billing_mode == "package_invoice":
            billed, unearned = deferred_money["billed"], deferred_money["unearned"]
            recognised = total("recognition", exclude=deferred)
            refunded = total("refund", deferred, sign=1)
        else:
            payments = self.sudo().payment_ids.filtered(lambda p: p.state in ("in_process", "paid"))
            inbound = payments.filtered(lambda p: p.payment_type == "inbound")
            billed = currency.round(sum(inbound.mapped("amount_company_currency_signed")))
            refunded = currency.round(
                -sum((payments - inbound).mapped("amount_company_currency_signed"))
            )
            recognised = total("visit")
            unearned = currency.round(billed - recognised - refunded - breakage)
        return {
            "billed": billed,
            "recognised": recognised,
            "refunded": refunded,
            "breakage": breakage,
            "unearned": unearned,
        }

    @api.depends("amount_untaxed", "uses_total")
    def _compute_unit_value(self):
        for entitlement in self:
            entitlement.unit_value = (
                entitlement.currency_id.round(entitlement.amount_untaxed / entitlement.uses_total)
                if entitlement.uses_total
                else 0.0
            )

    @api.depends("name", "product_id")
    def _compute_display_name(self):
        for entitlement in self:
            entitlement.display_name = (
                f"{entitlement.name} - {entitlement.product_id.name}"
                if entitlement.product_id
                else entitlement.name
            )

    @api.constrains("date_start", "date_expiry")
    def _check_dates(self):
        for entitlement in self:
            if (
                entitlement.date_start
                and entitlement.date_expiry
                and entitlement.date_expiry < entitlement.date_start
            ):
                raise ValidationError(
                    self.env._(
                        "Package %(name)s cannot expire on %(expiry)s, before it starts on "
                        "%(start)s. Choose a later expiry date, or clear it for no expiry.",
                        name=entitlement.name,
                        expiry=entitlement.date_expiry,
                        start=entitlement.date_start,
                    )
                )

    # ------------------------------------------------------------------ create / write
    @api.model
    def _prepare_from_product(self, product):
        """Values an entitlement copies from its package product: the terms it was sold on."""
        template = product.product_tmpl_id
        return {
            "product_id": product.id,
            "activation": template.clinic_activation,
            "billing_mode": template.clinic_billing_mode,
            "count_no_show": template.clinic_count_no_show,
            "count_late_cancel": template.clinic_count_late_cancel,
            "practitioner_ids": [fields.Command.set(template.clinic_practitioner_ids.ids)],
            "location_ids": [fields.Command.set(template.clinic_location_ids.ids)],
            "line_ids": [
                fields.Command.create(
                    {
                        "service_product_id": line.service_product_id.id,
                        "quantity": line.quantity,
                        "patient_pays": line.patient_pays,
                        "sequence": line.sequence,
                    }
                )
                for line in template.clinic_package_line_ids
            ],
        }

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("product_id") and not vals.get("line_ids"):
                product = self.env["product.product"].browse(vals["product_id"])
                vals.update(
                    {
                        key: value
                        for key, value in self._prepare_from_product(product).items()
                        if key not in vals or key == "line_ids"
                    }
                )
            if vals.get("name", self.env._("New")) == self.env._("New"):
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["name"] = self.env["ir.sequence"].with_company(company).next_by_code(
                    "clinic.entitlement"
                ) or self.env._("New")
        entitlements = super().create(vals_list)
        for entitlement in entitlements:
            if not entitlement.line_ids:
                raise ValidationError(
                    self.env._(
                        "Package %(name)s has no services: its product %(product)s is not "
                        "configured as a package.",
                        name=entitlement.name,
                        product=entitlement.product_id.display_name,
                    )
                )
        return entitlements

    def write(self, vals):
        if "date_expiry" in vals and not is_trusted(self.env):
            # extending is a front-desk action: not on a package that is over
            self._clinic_check_group(GROUP_USER, self.env._("change a package's expiry date"))
            for entitlement in self.filtered(lambda e: not e.can_extend):
                raise entitlement._clinic_state_error(self.env._("extended"))
        res = super().write(vals)
        if "date_expiry" in vals:
            trusted = self._clinic_trusted()
            if "reminders_sent" not in vals:
                # a new expiry date: its reminders come again
                trusted._clinic_forget_reminders(("days:",))
            # an extended (or cleared) expiry brings an expired package back
            today = fields.Date.context_today(self)
            extended = trusted.filtered(
                lambda e: e.state == "expired" and (not e.date_expiry or e.date_expiry >= today)
            )
            extended._clinic_reverse_breakage()
            extended._clinic_reopen()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        for entitlement in self:
            if entitlement.usage_ids or entitlement.state not in ("draft", "cancelled"):
                raise UserError(
                    self.env._(
                        "Package %(name)s cannot be deleted: it is %(state)s. Cancel it "
                        "(or refund it) instead, so that its history is kept.",
                        name=entitlement.name,
                        state=entitlement._clinic_state_label(),
                    )
                )

    # ------------------------------------------------------------------ life cycle
    def _clinic_compute_expiry(self, date_start):
        self.ensure_one()
        days = self.product_id.clinic_validity_days
        return date_start + relativedelta(days=days) if days else False

    def _clinic_activate(self, date_start=None):
        """Make draft packages usable. Packages activated at the first visit stay without
        dates until that visit (see `_clinic_start_validity`)."""
        today = fields.Date.context_today(self)
        for entitlement in self.filtered(lambda e: e.state == "draft"):
            vals = {"state": "active"}
            if entitlement.activation != "on_first_visit":
                start = date_start or today
                vals.update(date_start=start, date_expiry=entitlement._clinic_compute_expiry(start))
            entitlement.write(vals)

    def _clinic_start_validity(self, date_start):
        """First visit of a package activated at the first visit: its validity starts."""
        for entitlement in self.filtered(lambda e: not e.date_start):
            entitlement.write(
                {
                    "date_start": date_start,
                    "date_expiry": entitlement._clinic_compute_expiry(date_start),
                }
            )

    def _clinic_reopen(self):
        """Back to the state the counters say: active, or used up."""
        for entitlement in self:
            entitlement.state = (
                "exhausted"
                if entitlement.uses_total and entitlement.uses_used >= entitlement.uses_total
                else "active"
            )

    def _clinic_refresh_state(self):
        """Called when uses change: the last use exhausts, undoing it re-activates."""
        for entitlement in self:
            if entitlement.state == "active" and entitlement.uses_used >= entitlement.uses_total:
                entitlement.state = "exhausted"
            elif (
                entitlement.state == "exhausted" and entitlement.uses_used < entitlement.uses_total
            ):
                entitlement.state = "active"

    def _clinic_state_label(self):
        """The package's state, in the user's language."""
        self.ensure_one()
        return dict(self._fields["state"]._description_selection(self.env))[self.state]

    def _clinic_state_error(self, action):
        self.ensure_one()
        return UserError(
            self.env._(
                "Package %(name)s cannot be %(action)s: it is %(state)s.",
                name=self.name,
                action=action,
                state=self._clinic_state_label(),
            )
        )

    def _clinic_begin(self, group, action):
        """Start a business action on these packages: the caller needs `group` and access
        to each package (its company); the action then runs trusted."""
        self._clinic_check_group(group, action)
        self.check_access("write")
        return self._clinic_trusted()

    def action_pause(self):
        self = self._clinic_begin(GROUP_USER, self.env._("pause a package"))
        today = fields.Date.context_today(self)
        for entitlement in self:
            if not entitlement.can_pause:
                raise entitlement._clinic_state_error(self.env._("paused"))
            entitlement.write({"state": "paused", "date_paused": today})
        return True

    def action_resume(self):
        """Resume a paused package; the days it was paused are added to its validity."""
        self = self._clinic_begin(GROUP_USER, self.env._("resume a package"))
        today = fields.Date.context_today(self)
        for entitlement in self:
            if not entitlement.can_resume:
                raise entitlement._clinic_state_error(self.env._("resumed"))
            vals = {"date_paused": False}
            paused_days = (today - entitlement.date_paused).days if entitlement.date_paused else 0
            if entitlement.date_expiry and paused_days > 0:
                vals["date_expiry"] = entitlement.date_expiry + relativedelta(days=paused_days)
            entitlement.write(vals)
            entitlement._clinic_reopen()
            if paused_days > 0 and entitlement.date_expiry:
                entitlement.message_post(
                    body=self.env._(
                        "Resumed after %(days)s days; the expiry moves to %(date)s.",
                        days=paused_days,
                        date=entitlement.date_expiry,
                    )
                )
        return True

    def action_cancel(self):
        self = self._clinic_begin(GROUP_MANAGER, self.env._("cancel a package"))
        for entitlement in self:
            if entitlement.state in CLOSED_STATES:
                raise entitlement._clinic_state_error(self.env._("cancelled"))
            consumed = entitlement.usage_ids.filtered(lambda u: u.state == "consumed")
            if consumed:
                raise UserError(
                    self.env._(
                        "Package %(name)s cannot be cancelled: %(count)s of its uses were "
                        "already delivered. Refund the package instead, or undo those visits "
                        "first.",
                        name=entitlement.name,
                        count=len(consumed),
                    )
                )
        self.usage_ids.filtered(lambda u: u.state == "reserved")._clinic_release()
        self.write({"state": "cancelled"})
        return True

    def _clinic_check_cancellable(self, order):
        """Packages of a cancelled order (or a reduced quantity) go away only if unused."""
        for entitlement in self:
            usages = entitlement.usage_ids.filtered(lambda u: u.state != "released")
            if usages:
                raise UserError(
                    self.env._(
                        "%(order)s cannot be cancelled or reduced: package %(name)s already "
                        "has %(count)s visit(s) booked or delivered. Remove the package from "
                        "those visits, or refund it instead.",
                        order=order.display_name,
                        name=entitlement.name,
                        count=len(usages),
                    )
                )

    @api.model
    def _cron_expire(self, batch_size=2000):
        """Expire packages whose expiry date has passed (paused ones wait) and recognise what
        they still hold as breakage. One batch per call: the cron runner commits it and calls
        again while some are left."""
        today = fields.Date.context_today(self)
        domain = [("state", "=", "active"), ("date_expiry", "<", today)]
        batch = self.search(domain, limit=batch_size, order="date_expiry, id")
        batch._clinic_expire()
        remaining = self.search_count(domain) if len(batch) == batch_size else 0
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=remaining)
        return batch

    @api.model
    def _cron_reminders(self):
        """Daily: remind the patient's responsible user (else the order's salesperson, else
        who created the package) when an active package with uses left is the company's
        number of days from its expiry, or when its uses left (not booked) reach the
        company's threshold: time to book the rest, or to offer a new package. Each reminder
        is sent once per package (a new expiry date starts its reminders again)."""
        today = fields.Date.context_today(self)
        for (company,) in self._read_group([("state", "=", "active")], ["company_id"]):
            days = company._clinic_alert_day_list()
            conditions = [[("uses_remaining", "<=", company.clinic_alert_remaining)]]
            if days:
                conditions.append(
                    [
                        ("uses_remaining", ">", 0),
                        ("date_expiry", ">=", today),
                        ("date_expiry", "<=", today + relativedelta(days=max(days))),
                    ]
                )
            packages = self.search(
                expression.AND(
                    [
                        [("company_id", "=", company.id), ("state", "=", "active")],
                        expression.OR(conditions),
                    ]
                )
            )
            for package in packages:
                package._clinic_send_reminders(company.clinic_alert_remaining, days, today)

    def _clinic_send_reminders(self, threshold, days, today):
        self.ensure_one()
        reminders = []
        if self.uses_remaining <= threshold and self.uses_remaining < self.uses_total:
            reminders.append(
                (
                    [f"left:{threshold}"],
                    self.env._("Package %s is running out", self.name),
                    self.env._(
                        "Package %(name)s of %(patient)s has %(left)s of %(total)s uses left "
                        "to book (%(used)s used, %(booked)s booked). Offer a new package if "
                        "the treatment continues.",
                        name=self.name,
                        patient=self.partner_id.name,
                        left=self.uses_remaining,
                        total=self.uses_total,
                        used=self.uses_used,
                        booked=self.uses_reserved,
                    ),
                )
            )
        if self.date_expiry and self.uses_remaining > 0:
            days_left, due = self._clinic_days_due(self.date_expiry, days, today)
            if due:
                reminders.append(
                    (
                        due,
                        self.env._("Package %s expires soon", self.name),
                        self.env._(
                            "Package %(name)s of %(patient)s expires on %(date)s, in %(days)s "
                            "day(s), with %(left)s use(s) not booked yet. Book the remaining "
                            "visits, or extend the expiry date if the clinic agrees.",
                            name=self.name,
                            patient=self.partner_id.name,
                            date=self.date_expiry,
                            days=days_left,
                            left=self.uses_remaining,
                        ),
                    )
                )
        user = self.partner_id.user_id or self.sale_order_id.user_id or self.create_uid
        return self._clinic_remind(reminders, user, today)

    def _clinic_expire(self):
        # no chatter message per package (the state's tracking would log one each, which
        # costs more than the rest of the job): the package shows its expiry date, its state
        # and, on its Money tab, its share of the grouped breakage entry with that entry's date
        self.with_context(mail_notrack=True).write({"state": "expired"})
        grouped = self.filtered(lambda e: e.billing_mode == "package_invoice")
        for company in grouped.company_id:
            grouped.filtered(lambda e, c=company: e.company_id == c)._clinic_post_grouped_breakage()
        # a prepaid package's breakage is reconciled with its own prepayment: one by one
        for entitlement in self - grouped:
            entitlement._clinic_post_breakage(
                self.env._("Expiry of package %(name)s", name=entitlement.name)
            )

    def _clinic_post_grouped_breakage(self):
        """Recognise what these packages (invoiced at sale, of one company) still hold as
        breakage in one entry, itemised per package in `clinic.entitlement.breakage`."""
        if not self:
            return self.env["account.move"]
        company = self.company_id.ensure_one()
        deferred, breakage, journal = company._clinic_accounting()
        money = self._clinic_deferred_money()
        shares = {
            e: money[e.id]["unearned"]
            for e in self
            if company.currency_id.compare_amounts(money[e.id]["unearned"], 0) > 0
        }
        if not shares:
            return self.env["account.move"]
        total = company.currency_id.round(sum(shares.values()))
        today = fields.Date.context_today(self)
        ref = self.env._(
            "Expiry of %(count)s package(s) on %(date)s", count=len(shares), date=today
        )
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": journal.id,
                    "date": today,
                    "ref": ref,
                    "clinic_move_kind": "breakage",
                    "line_ids": [
                        fields.Command.create(
                            {
                                "account_id": account.id,
                                "debit": debit,
                                "credit": credit,
                                "name": ref,
                            }
                        )
                        for account, debit, credit in (
                            (deferred, total, 0.0),
                            (breakage, 0.0, total),
                        )
                    ],
                }
            )
        )
        move.action_post()
        item = move.line_ids.filtered(lambda line: line.account_id == deferred)
        self.env["clinic.entitlement.breakage"].sudo().create(
            [
                {
                    "entitlement_id": entitlement.id,
                    "company_id": company.id,
                    "move_id": move.id,
                    "move_line_id": item.id,
                    "amount": amount,
                }
                for entitlement, amount in shares.items()
            ]
        )
        return move

    def _clinic_deferred_money(self):
        """{id: {billed, unearned, grouped}} in at most three grouped queries, whatever the
        number of packages: for a package invoiced at sale, its share of its sale line's
        posted invoices on the unearned account (billed) and what that account still holds
        for it (unearned); for any package, its shares of posted grouped expiry entries
        (grouped). `_clinic_money()` reads it for one package, the expiry job for a batch."""
        invoiced_packages = self.filtered(lambda e: e.billing_mode == "package_invoice")
        deferred_accounts = invoiced_packages.company_id.clinic_deferred_account_id
        sale_lines = invoiced_packages.sale_line_id.sudo()
        saved = self.filtered("id")  # a package being created has no ledger yet
        saved_invoiced = saved & invoiced_packages
        Line = self.env["account.move.line"].sudo()
        invoiced, own, grouped = {}, {}, {}
        if sale_lines:
            invoiced = dict(
                Line._read_group(
                    [
                        ("sale_line_ids", "in", sale_lines.ids),
                        ("parent_state", "=", "posted"),
                        ("account_id", "in", deferred_accounts.ids),
                        ("move_id.clinic_entitlement_id", "=", False),
                    ],
                    ["sale_line_ids"],
                    ["balance:sum"],
                )
            )
        if saved_invoiced:
            own = dict(
                Line._read_group(
                    [
                        ("clinic_entitlement_id", "in", saved_invoiced.ids),
                        ("parent_state", "=", "posted"),
                        ("account_id", "in", deferred_accounts.ids),
                    ],
                    ["clinic_entitlement_id"],
                    ["balance:sum"],
                )
            )
        if saved:
            grouped = dict(
                self.env["clinic.entitlement.breakage"]
                .sudo()
                ._read_group(
                    [("entitlement_id", "in", saved.ids), ("move_id.state", "=", "posted")],
                    ["entitlement_id"],
                    ["amount:sum"],
                )
            )
        result = {}
        for entitlement in self:
            currency = entitlement.currency_id
            broken = currency.round(grouped.get(entitlement, 0.0))
            billed = unearned = 0.0
            if entitlement in invoiced_packages:
                sale_line = entitlement.sale_line_id.sudo()
                shares = max(int(sale_line.product_uom_qty), 1)
                billed = currency.round(-invoiced.get(sale_line, 0.0) / shares)
                unearned = currency.round(billed - own.get(entitlement, 0.0) - broken)
            result[entitlement.id] = {"billed": billed, "unearned": unearned, "grouped": broken}
        return result

    # ------------------------------------------------------------------ accounting
    def _clinic_post_entry(self, kind, lines, ref, date=None):
        """Post a journal entry of this package. `lines`: (account, amount, partner), a
        positive amount is a debit."""
        self.ensure_one()
        journal = self.company_id._clinic_accounting()[2]
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(self.company_id)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": journal.id,
                    "date": date or fields.Date.context_today(self),
                    "ref": ref,
                    "clinic_entitlement_id": self.id,
                    "clinic_move_kind": kind,
                    "line_ids": [
                        fields.Command.create(
                            {
                                "account_id": account.id,
                                "debit": max(amount, 0.0),
                                "credit": max(-amount, 0.0),
                                "partner_id": partner.id,
                                "name": ref,
                                "clinic_entitlement_id": self.id,
                            }
                        )
                        for account, amount, partner in lines
                    ],
                }
            )
        )
        move.action_post()
        return move

    def _clinic_receivable_account(self):
        self.ensure_one()
        return self.partner_id.with_company(self.company_id).property_account_receivable_id

    def _clinic_reconcile_with_prepayment(self, move):
        """Reconcile the receivable items of `move` with this package's open prepayment."""
        self.ensure_one()
        receivable = self._clinic_receivable_account()
        own = move.line_ids.filtered(lambda line: line.account_id == receivable)
        credits = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("payment_id.clinic_entitlement_id", "=", self.id),
                    ("account_id", "=", receivable.id),
                    ("parent_state", "=", "posted"),
                    ("reconciled", "=", False),
                ]
            )
        )
        if own and credits:
            (own | credits).reconcile()

    def _clinic_post_breakage(self, ref, allow_negative=False):
        """Recognise what the package still holds as breakage income (with
        `allow_negative`, also take back what a refund paid beyond it)."""
        for entitlement in self:
            amount = entitlement._clinic_money()["unearned"]
            # what the prepayment still owes delivered visits not invoiced yet stays for them
            amount -= min(entitlement._clinic_unbilled_value(), max(amount, 0.0))
            if entitlement.currency_id.is_zero(amount) or (amount < 0 and not allow_negative):
                continue
            deferred, breakage, __ = entitlement.company_id._clinic_accounting()
            patient = entitlement.partner_id
            if entitlement.billing_mode == "prepaid_credit":
                # the unapplied prepayment is forfeited: it leaves the patient's credit
                move = entitlement._clinic_post_entry(
                    "breakage",
                    [
                        (entitlement._clinic_receivable_account(), amount, patient),
                        (breakage, -amount, patient),
                    ],
                    ref,
                )
                entitlement._clinic_reconcile_with_prepayment(move)
            else:
                entitlement._clinic_post_entry(
                    "breakage", [(deferred, amount, patient), (breakage, -amount, patient)], ref
                )

    def _clinic_unbilled_value(self):
        """Prepaid credit mode: the value of the uses delivered whose visit invoice is still a
        draft: the prepayment pays them when they are posted (as far as it goes)."""
        self.ensure_one()
        if self.billing_mode != "prepaid_credit":
            return 0.0
        usages = self.usage_ids.filtered(
            lambda u: u.state == "consumed" and u.move_id.state == "draft"
        )
        return self.currency_id.round(sum(usages.mapped("amount")))

    def _clinic_reverse_breakage(self):
        """An expired package extended: its breakage entries are reversed, and its share of
        grouped expiry entries is given back by an entry of its own."""
        shares = self.sudo().breakage_ids
        moves = self.sudo().move_ids.filtered(
            lambda m: (
                m.clinic_move_kind == "breakage"
                and m.state == "posted"
                and not m.reversed_entry_id
                and not m.reversal_move_ids
                and m not in shares.reversal_move_id
            )
        )
        if moves:
            moves.line_ids.remove_move_reconcile()
            moves._reverse_moves(
                [{"ref": self.env._("Reversal: %s", move.ref)} for move in moves], cancel=True
            )
        for share in shares.filtered(lambda b: b.state == "posted" and not b.reversal_move_id):
            entitlement = share.entitlement_id
            deferred, breakage, __ = entitlement.company_id._clinic_accounting()
            patient = entitlement.partner_id
            share.reversal_move_id = entitlement._clinic_post_entry(
                "breakage",
                [(breakage, share.amount, patient), (deferred, -share.amount, patient)],
                self.env._(
                    "Reversal of the expiry of package %(name)s (%(entry)s)",
                    name=entitlement.name,
                    entry=share.move_id.name,
                ),
            )

    def _clinic_use_value(self):
        """Untaxed value of the next use: price / uses, the last use taking what is left so
        that the uses add up to the price to the cent."""
        self.ensure_one()
        # summed in SQL: one query, whatever the number of uses already delivered
        [(count, recognised)] = self.env["clinic.entitlement.usage"]._read_group(
            [("entitlement_id", "=", self.id), ("state", "=", "consumed"), ("amount", "!=", 0)],
            aggregates=["__count", "amount:sum"],
        )
        left = self.currency_id.round(self.amount_untaxed - recognised)
        if count + 1 >= self.uses_total:
            return max(left, 0.0)
        return max(min(self.unit_value, left), 0.0)

    # ------------------------------------------------------------------ refund
    def _clinic_collected_total(self):
        """What the patient was billed for this package, taxes included."""
        self.ensure_one()
        if self.billing_mode == "prepaid_credit":
            return self._clinic_money()["billed"]
        lines = self.sale_line_id.sudo().invoice_lines.filtered(
            lambda line: line.parent_state == "posted" and not line.move_id.clinic_entitlement_id
        )
        signed = sum(
            line.price_total * (-1 if line.move_id.move_type == "out_refund" else 1)
            for line in lines
        )
        shares = max(int(self.sale_line_id.product_uom_qty), 1)
        return self.currency_id.round(signed / shares)

    def _clinic_check_refund_amount(self, amount):
        self.ensure_one()
        collected = self._clinic_collected_total()
        if (
            self.currency_id.compare_amounts(amount, 0.0) < 0
            or self.currency_id.compare_amounts(amount, collected) > 0
        ):
            raise UserError(
                self.env._(
                    "Package %(name)s: a refund must be between 0 and %(collected)s, the amount "
                    "collected for it (asked: %(amount)s).",
                    name=self.name,
                    collected=collected,
                    amount=amount,
                )
            )

    def action_refund(self):
        """Open the refund wizard."""
        self.ensure_one()
        self._clinic_begin(GROUP_MANAGER, self.env._("refund a package"))
        if not self.can_refund:
            raise self._clinic_state_error(self.env._("refunded"))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Refund %s", self.name),
            "res_model": "clinic.entitlement.refund",
            "view_mode": "form",
            "target": "new",
            "context": {"default_entitlement_id": self.id},
        }

    def _clinic_refund(self, amount):
        """Refund `amount` (taxes included) and end the package: a credit note against the
        package invoice (or a payment back from the prepayment), the rest of its unearned
        value to breakage, its booked visits released. Returns the credit note or payment."""
        self.ensure_one()
        self = self._clinic_begin(GROUP_MANAGER, self.env._("refund a package"))
        if not self.can_refund:
            raise self._clinic_state_error(self.env._("refunded"))
        self._clinic_check_refund_amount(amount)
        document = False
        if not self.currency_id.is_zero(amount):
            if self.billing_mode == "prepaid_credit":
                document = self._clinic_refund_prepayment(amount)
            else:
                document = self._clinic_refund_invoice(amount)
        self.usage_ids.filtered(lambda u: u.state == "reserved")._clinic_release()
        upcoming = self.env["calendar.event"].search(
            [("clinic_entitlement_id", "=", self.id), ("clinic_attendance", "=", "upcoming")]
        )
        defer_sync(upcoming).write(
            {
                "clinic_entitlement_id": False,
                "clinic_coverage_note": self.env._(
                    "Package %(name)s was refunded: this visit is no longer covered.",
                    name=self.name,
                ),
            }
        )
        self.write({"state": "refunded"})
        # what the refund leaves unearned (or took beyond it) closes on breakage
        self._clinic_post_breakage(
            self.env._("Refund of package %(name)s", name=self.name), allow_negative=True
        )
        self.message_post(
            body=self.env._(
                "Refunded %(amount)s %(currency)s; the package can no longer be used.",
                amount=amount,
                currency=self.currency_id.name,
            )
        )
        return document

    def _clinic_refund_invoice(self, amount):
        sale_line = self.sale_line_id.sudo()
        invoice = sale_line.invoice_lines.move_id.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "posted"
        ).sorted("id")[-1:]
        taxes = sale_line.tax_id
        if taxes and all(taxes.mapped("price_include")):
            price = amount
        elif self.amount_total:
            price = self.currency_id.round(amount * self.amount_untaxed / self.amount_total)
        else:
            price = amount
        credit_note = (
            self.env["account.move"]
            .sudo()
            .with_company(self.company_id)
            .create(
                {
                    "move_type": "out_refund",
                    "partner_id": (invoice.partner_id or self.partner_id).id,
                    "reversed_entry_id": invoice.id,
                    "invoice_origin": self.name,
                    "ref": self.env._("Refund of package %(name)s", name=self.name),
                    "clinic_entitlement_id": self.id,
                    "clinic_move_kind": "refund",
                    "invoice_line_ids": [
                        fields.Command.create(
                            {
                                "product_id": self.product_id.id,
                                "name": self.env._(
                                    "Refund: %(package)s (%(name)s)",
                                    package=self.product_id.display_name,
                                    name=self.name,
                                ),
                                "quantity": 1,
                                "price_unit": price,
                                "tax_ids": [fields.Command.set(taxes.ids)],
                                "clinic_entitlement_id": self.id,
                            }
                        )
                    ],
                }
            )
        )
        credit_note.action_post()
        if invoice and invoice.payment_state not in ("paid", "in_payment", "reversed"):
            # an unpaid package invoice: the credit note reduces what is owed
            # (unless posting already matched it with the invoice it reverses)
            receivable = credit_note.line_ids.filtered(
                lambda line: line.account_type == "asset_receivable" and not line.reconciled
            )
            if receivable:
                invoice.js_assign_outstanding_line(receivable.id)
        return credit_note

    def _clinic_refund_prepayment(self, amount):
        prepayment = self.sudo().payment_ids.filtered(
            lambda p: p.payment_type == "inbound" and p.state in ("in_process", "paid")
        )[:1]
        payment = (
            self.env["account.payment"]
            .sudo()
            .with_company(self.company_id)
            .create(
                {
                    "payment_type": "outbound",
                    "partner_type": "customer",
                    "partner_id": self.partner_id.id,
                    "amount": amount,
                    "journal_id": prepayment.journal_id.id,
                    "memo": self.env._("Refund of package %(name)s", name=self.name),
                    "clinic_entitlement_id": self.id,
                }
            )
        )
        payment.action_post()
        self._clinic_reconcile_with_prepayment(payment.move_id)
        return payment

    def action_register_prepayment(self):
        """Register the patient's prepayment of this package (prepaid credit mode)."""
        self.ensure_one()
        if self.billing_mode != "prepaid_credit":
            raise UserError(
                self.env._(
                    "Package %(name)s is invoiced at sale: register the payment on its invoice.",
                    name=self.name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Prepayment of %s", self.name),
            "res_model": "account.payment",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_payment_type": "inbound",
                "default_partner_type": "customer",
                "default_partner_id": self.partner_id.id,
                "default_amount": self.amount_total,
                "default_clinic_entitlement_id": self.id,
                "default_memo": self.name,
            },
        }

    def action_view_moves(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_journal_line")
        action.update(
            domain=[("id", "in", self._clinic_entries().ids)],
            context={"create": False},
            name=self.env._("Entries of %s", self.name),
        )
        return action

    # ------------------------------------------------------------------ booking helpers
    def _clinic_line_for(self, service):
        self.ensure_one()
        return self.line_ids.filtered(lambda line: line.service_product_id == service)[:1]

    def action_view_usages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_packages.clinic_entitlement_usage_action"
        )
        action["domain"] = [("entitlement_id", "=", self.id)]
        action["context"] = {"default_entitlement_id": self.id}
        return action
