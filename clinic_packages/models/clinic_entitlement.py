from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import format_date
from odoo.tools.misc import format_amount

from .calendar_event import defer_sync
from .clinic_guard import GROUP_MANAGER, GROUP_USER, is_id, is_trusted, selection_label
from .product_template import ACTIVATION_SELECTION, BILLING_SELECTION

# states in which a package may still be booked against, one way or another
OPEN_STATES = ("draft", "active", "paused")
# states in which a package still holds money the patient may get back
REFUNDABLE_STATES = ("draft", "active", "paused", "exhausted", "expired")
# states that end a package for good
CLOSED_STATES = ("refunded", "cancelled", "transferred")


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
    _clinic_user_fields = frozenset({"date_expiry", "shared_partner_ids"})
    _clinic_manager_fields = frozenset(
        {
            "practitioner_ids",
            "location_ids",
            "count_no_show",
            "count_late_cancel",
            "cap_per_week",
            "cap_per_month",
        }
    )

    # -------------------------------------------------------------------------
    # FIELDS
    # -------------------------------------------------------------------------

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
        groups="base.group_user",
    )
    sale_order_id = fields.Many2one(
        related="sale_line_id.order_id",
        store=True,
        string="Sale Order",
        index="btree_not_null",
        groups="base.group_user",
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
            ("transferred", "Transferred"),
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
    cap_per_week = fields.Integer(
        string="Uses per Week",
        help="At most this many visits of a calendar week (Monday to Sunday) use the package. "
        "0: no limit.",
    )
    cap_per_month = fields.Integer(
        string="Uses per Month",
        help="At most this many visits of a calendar month use the package. 0: no limit.",
    )
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
    shared_partner_ids = fields.Many2many(
        "res.partner",
        "clinic_entitlement_shared_partner_rel",
        "entitlement_id",
        "partner_id",
        string="Shared With",
        check_company=True,
        help="Family members whose visits may use this package, after their own packages.",
    )
    transferred_to_id = fields.Many2one(
        "clinic.entitlement",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The package the remaining uses of this one were transferred to.",
    )
    transferred_from_id = fields.Many2one(
        "clinic.entitlement",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The package whose remaining uses (and unearned value) became this one.",
    )
    line_ids = fields.One2many("clinic.entitlement.line", "entitlement_id", string="Services")
    usage_ids = fields.One2many("clinic.entitlement.usage", "entitlement_id", string="Visits")
    uses_total = fields.Integer(string="Uses", compute="_compute_uses", store=True)
    uses_used = fields.Integer(string="Used", compute="_compute_uses", store=True)
    uses_reserved = fields.Integer(string="Booked", compute="_compute_uses", store=True)
    uses_remaining = fields.Integer(string="Left", compute="_compute_uses", store=True)
    uses_unlimited = fields.Boolean(
        string="Unlimited Uses",
        compute="_compute_uses",
        store=True,
        help="A service of the package has unlimited uses: it is never used up.",
    )
    amount_total = fields.Monetary(
        string="Price Paid",
        currency_field="currency_id",
        help="What the patient pays for this package, taxes included.",
        groups="base.group_user",
    )
    amount_untaxed = fields.Monetary(
        string="Price (untaxed)", currency_field="currency_id", groups="base.group_user"
    )
    # brought from another system by Clinic > Configuration > Import (clinic.import)
    imported = fields.Boolean(
        readonly=True,
        copy=False,
        help="Brought from another system by an import: its uses consumed there are counted "
        "as used before, its value not yet delivered came with an opening entry.",
    )
    import_reference = fields.Char(
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The package's reference in the system it was imported from: importing a file "
        "again updates the package with this reference.",
    )
    unit_value = fields.Monetary(
        string="Value per Use",
        currency_field="currency_id",
        compute="_compute_unit_value",
        store=True,
        help="Untaxed price divided by the number of uses.",
        groups="base.group_user",
    )

    # the package's money (entries, collected, unearned, ...): clinic_entitlement_accounting.py
    # what can be done with the package now: one answer for the code, the buttons and wizards
    can_refund = fields.Boolean(compute="_compute_capabilities")
    can_cancel = fields.Boolean(compute="_compute_capabilities")
    can_pause = fields.Boolean(compute="_compute_capabilities")
    can_resume = fields.Boolean(compute="_compute_capabilities")
    can_extend = fields.Boolean(compute="_compute_capabilities")
    can_transfer = fields.Boolean(compute="_compute_capabilities")

    _sql_constraints = [
        (
            "dates_check",
            "CHECK(date_expiry IS NULL OR date_start IS NULL OR date_expiry >= date_start)",
            "A package cannot expire before it starts.",
        ),
        (
            "import_reference_uniq",
            "unique(company_id, import_reference)",
            "Another package was imported with this reference.",
        ),
        (
            "caps_check",
            "CHECK(cap_per_week >= 0 AND cap_per_month >= 0)",
            "The uses per week or month of a package cannot be negative (0: no limit).",
        ),
    ]

    # -------------------------------------------------------------------------
    # COMPUTE METHODS
    # -------------------------------------------------------------------------

    @api.depends("state", "uses_used", "billing_mode")
    def _compute_capabilities(self):
        for entitlement in self:
            state = entitlement.state
            entitlement.can_refund = state in REFUNDABLE_STATES
            # a delivered use is refunded, not cancelled
            entitlement.can_cancel = state not in CLOSED_STATES and not entitlement.uses_used
            entitlement.can_pause = state == "active"
            entitlement.can_resume = state == "paused"
            entitlement.can_extend = state not in CLOSED_STATES
            # its remaining uses (and their unearned value) can become another patient's
            entitlement.can_transfer = (
                state in ("active", "paused") and entitlement.billing_mode == "package_invoice"
            )

    @api.depends("line_ids.quantity", "line_ids.used", "line_ids.reserved", "line_ids.unlimited")
    def _compute_uses(self):
        for entitlement in self:
            lines = entitlement.line_ids
            entitlement.uses_total = sum(lines.mapped("quantity"))
            entitlement.uses_used = sum(lines.mapped("used"))
            entitlement.uses_reserved = sum(lines.mapped("reserved"))
            entitlement.uses_remaining = sum(lines.mapped("remaining"))
            entitlement.uses_unlimited = any(lines.mapped("unlimited"))

    @api.depends("amount_untaxed", "uses_total")
    def _compute_unit_value(self):
        for entitlement in self:
            entitlement.unit_value = (
                entitlement.currency_id.round(entitlement.amount_untaxed / entitlement.uses_total)
                if entitlement.uses_total
                else 0.0
            )

    @api.depends("name", "product_id", "uses_remaining", "uses_unlimited", "date_expiry")
    @api.depends_context("clinic_show_left")
    def _compute_display_name(self):
        # where a package is chosen (a visit's package), what is left of it and until when
        show_left = self.env.context.get("clinic_show_left")
        for entitlement in self:
            name = (
                f"{entitlement.name} - {entitlement.product_id.name}"
                if entitlement.product_id
                else entitlement.name
            )
            if show_left:
                left = (
                    self.env._("unlimited")
                    if entitlement.uses_unlimited
                    else self.env._("%s left", max(entitlement.uses_remaining, 0))
                )
                if entitlement.date_expiry:
                    left = self.env._(
                        "%(left)s, until %(date)s",
                        left=left,
                        date=format_date(self.env, entitlement.date_expiry),
                    )
                name = f"{name} ({left})"
            entitlement.display_name = name

    # -------------------------------------------------------------------------
    # CONSTRAINT METHODS
    # -------------------------------------------------------------------------

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
                        expiry=format_date(self.env, entitlement.date_expiry),
                        start=format_date(self.env, entitlement.date_start),
                    )
                )

    # -------------------------------------------------------------------------
    # CRUD METHODS
    # -------------------------------------------------------------------------

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
            "cap_per_week": template.clinic_cap_per_week,
            "cap_per_month": template.clinic_cap_per_month,
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
        shared_before = (
            {entitlement: entitlement.shared_partner_ids for entitlement in self}
            if "shared_partner_ids" in vals
            else {}
        )
        res = super().write(vals)
        for entitlement, before in shared_before.items():
            removed = before - entitlement.shared_partner_ids - entitlement.partner_id
            if removed:
                entitlement._clinic_trusted()._clinic_uncover_patients(removed)
                # nor do they hear of the package any more
                entitlement.sudo().message_unsubscribe(partner_ids=removed.ids)
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

    # -------------------------------------------------------------------------
    # BUSINESS METHODS
    # -------------------------------------------------------------------------

    def message_subscribe(self, partner_ids=None, subtype_ids=None):
        """A package's chatter is the clinic's (the patient has My Packages): only clinic
        staff follow it or add followers, and through it post; a patient, a family member or
        a salesperson reading the package may not."""
        if not is_trusted(self.env) and not self.env.user.has_group(GROUP_USER):
            raise AccessError(
                self.env._(
                    "%(user)s may not follow packages: their messages are the clinic's. "
                    "Patients see their packages in My Packages.",
                    user=self.env.user.name,
                )
            )
        return super().message_subscribe(partner_ids=partner_ids, subtype_ids=subtype_ids)

    def _clinic_upcoming_visits(self):
        """The visits still to come that this package pays for."""
        self.ensure_one()
        return self.env["calendar.event"].search(
            [("clinic_entitlement_id", "=", self.id), ("clinic_attendance", "=", "upcoming")]
        )

    def _clinic_uncover_patients(self, patients):
        """`patients` no longer share this package: their upcoming visits on it are no
        longer covered by it (their uses are given back), and say why."""
        self.ensure_one()
        visits = self._clinic_upcoming_visits().filtered(lambda e: e.clinic_patient_id in patients)
        visits.write(
            {
                "clinic_entitlement_id": False,
                "clinic_coverage_note": self.env._(
                    "Package %(name)s is no longer shared with this patient: this visit is no "
                    "longer covered by it.",
                    name=self.name,
                ),
            }
        )

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

    def _clinic_used_up(self):
        """Whether every use of the package is used (never with an unlimited service)."""
        self.ensure_one()
        return not self.uses_unlimited and self.uses_used >= self.uses_total

    def _clinic_reopen(self):
        """Back to the state the counters say: active, or used up."""
        for entitlement in self:
            entitlement.state = (
                "exhausted"
                if entitlement.uses_total and entitlement._clinic_used_up()
                else "active"
            )

    def _clinic_refresh_state(self):
        """Called when uses change: the last use exhausts, undoing it re-activates."""
        for entitlement in self:
            used_up = entitlement._clinic_used_up()
            if entitlement.state == "active" and used_up:
                entitlement.state = "exhausted"
            elif entitlement.state == "exhausted" and not used_up:
                entitlement.state = "active"

    def _clinic_state_label(self):
        """The package's state, in the user's language."""
        self.ensure_one()
        return selection_label(self, "state")

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

    def _clinic_held_unearned(self):
        """The unearned revenue this package still holds (0.0 when none): a package holding
        money is not cancelled, since nothing would ever take that money off the unearned
        account; it is refunded (or its invoice credited) instead."""
        self.ensure_one()
        unearned = self._clinic_money()["unearned"]
        return 0.0 if self.currency_id.is_zero(unearned) else unearned

    def _clinic_check_cancellable(self, order):
        """Packages of a cancelled order (or a reduced quantity) go away only if unused and
        holding no money: a package whose invoice (or prepayment) is still on the unearned
        account is refunded, or its invoice credited, first, so that no value is left on a
        cancelled package."""
        for entitlement in self:
            unearned = entitlement._clinic_held_unearned()
            if unearned:
                raise UserError(
                    self.env._(
                        "%(order)s cannot be cancelled or reduced: package %(name)s was billed "
                        "and still holds %(amount)s of unearned revenue. Refund the package "
                        "(or credit its invoice) first.",
                        order=order.display_name,
                        name=entitlement.name,
                        amount=format_amount(self.env, unearned, entitlement.currency_id),
                    )
                )
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
        self.usage_ids.filtered(lambda u: u.state == "reserved")._action_release("package_closed")
        upcoming = self._clinic_upcoming_visits()
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
        formatted = format_amount(self.env, amount, self.currency_id)
        self.message_post(
            body=self.env._(
                "Paid back %(amount)s of the prepayment; the package can no longer be used.",
                amount=formatted,
            )
            if self.billing_mode == "prepaid_credit"
            else self.env._(
                "Refunded %(amount)s (taxes included); the package can no longer be used.",
                amount=formatted,
            )
        )
        return document

    def _clinic_line_for(self, service):
        self.ensure_one()
        return self.line_ids.filtered(lambda line: line.service_product_id == service)[:1]

    # -------------------------------------------------------------------------
    # ACTIONS
    # -------------------------------------------------------------------------

    @api.model
    def action_clinic_sell_package(self):
        """A new quotation, for the patient whose packages are shown (from their form): a
        package is sold, then confirming the order gives it."""
        partner_id = self.env.context.get("default_partner_id")
        partner = self.env["res.partner"].browse(partner_id if is_id(partner_id) else ())
        context = {"default_partner_id": partner.id} if partner.exists() else {}
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Sell a Package"),
            "res_model": "sale.order",
            "view_mode": "form",
            "views": [(False, "form")],
            "context": context,
        }

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
                        date=format_date(self.env, entitlement.date_expiry),
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
            unearned = entitlement._clinic_held_unearned()
            if unearned:
                raise UserError(
                    self.env._(
                        "Package %(name)s cannot be cancelled: it was billed and still holds "
                        "%(amount)s of unearned revenue, which cancelling would leave on the "
                        "unearned account for good. Refund the package (or credit its "
                        "invoice) instead.",
                        name=entitlement.name,
                        amount=format_amount(self.env, unearned, entitlement.currency_id),
                    )
                )
        self.usage_ids.filtered(lambda u: u.state == "reserved")._action_release("package_closed")
        self.write({"state": "cancelled"})
        return True

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

    def action_adjust_uses(self):
        """Open the wizard that adds or removes uses (Clinic Manager)."""
        self.ensure_one()
        self._clinic_begin(GROUP_MANAGER, self.env._("adjust the uses of a package"))
        if not self.can_extend:
            raise self._clinic_state_error(self.env._("adjusted"))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Adjust Uses of %s", self.name),
            "res_model": "clinic.entitlement.adjust",
            "view_mode": "form",
            "target": "new",
            "context": {"default_entitlement_id": self.id},
        }

    def action_transfer(self):
        """Open the transfer wizard."""
        self.ensure_one()
        self._clinic_begin(GROUP_MANAGER, self.env._("transfer a package"))
        self._clinic_check_transferable()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Transfer %s", self.name),
            "res_model": "clinic.entitlement.transfer",
            "view_mode": "form",
            "target": "new",
            "context": {"default_entitlement_id": self.id},
        }

    def action_view_usages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_packages.clinic_entitlement_usage_action"
        )
        action["domain"] = [("entitlement_id", "=", self.id)]
        action["context"] = {"default_entitlement_id": self.id}
        return action

    # -------------------------------------------------------------------------
    # CRON
    # -------------------------------------------------------------------------

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
        if (
            not self.uses_unlimited
            and self.uses_remaining <= threshold
            and self.uses_remaining < self.uses_total
        ):
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
                            date=format_date(self.env, self.date_expiry),
                            days=days_left,
                            left=self.uses_remaining,
                        ),
                    )
                )
        user = self.partner_id.user_id or self.sale_order_id.user_id or self.create_uid
        return self._clinic_remind(reminders, user, today)
