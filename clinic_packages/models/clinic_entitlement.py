from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .product_template import ACTIVATION_SELECTION, BILLING_SELECTION

# states in which a package may still be booked against, one way or another
OPEN_STATES = ("draft", "active", "paused")


class ClinicEntitlement(models.Model):
    _name = "clinic.entitlement"
    _description = "Patient Package"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_expiry asc nulls last, id desc"
    _check_company_auto = True

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

    _sql_constraints = [
        (
            "dates_check",
            "CHECK(date_expiry IS NULL OR date_start IS NULL OR date_expiry >= date_start)",
            "A package cannot expire before it starts.",
        ),
    ]

    @api.depends("line_ids.quantity", "line_ids.used", "line_ids.reserved")
    def _compute_uses(self):
        for entitlement in self:
            lines = entitlement.line_ids
            entitlement.uses_total = sum(lines.mapped("quantity"))
            entitlement.uses_used = sum(lines.mapped("used"))
            entitlement.uses_reserved = sum(lines.mapped("reserved"))
            entitlement.uses_remaining = sum(lines.mapped("remaining"))

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
        res = super().write(vals)
        if "date_expiry" in vals:
            # an extended (or cleared) expiry brings an expired package back
            today = fields.Date.context_today(self)
            self.filtered(
                lambda e: e.state == "expired" and (not e.date_expiry or e.date_expiry >= today)
            )._clinic_reopen()
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
                        state=dict(self._fields["state"].selection)[entitlement.state],
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

    def _clinic_state_error(self, action):
        self.ensure_one()
        return UserError(
            self.env._(
                "Package %(name)s cannot be %(action)s: it is %(state)s.",
                name=self.name,
                action=action,
                state=dict(self._fields["state"].selection)[self.state],
            )
        )

    def action_pause(self):
        today = fields.Date.context_today(self)
        for entitlement in self:
            if entitlement.state != "active":
                raise entitlement._clinic_state_error(self.env._("paused"))
            entitlement.write({"state": "paused", "date_paused": today})
        return True

    def action_resume(self):
        """Resume a paused package; the days it was paused are added to its validity."""
        today = fields.Date.context_today(self)
        for entitlement in self:
            if entitlement.state != "paused":
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
        for entitlement in self:
            if entitlement.state in ("refunded", "cancelled"):
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
    def _cron_expire(self, batch_size=1000):
        """Expire packages whose expiry date has passed (paused ones wait)."""
        today = fields.Date.context_today(self)
        to_expire = self.search(
            [("state", "=", "active"), ("date_expiry", "<", today)], limit=batch_size
        )
        to_expire.write({"state": "expired"})
        return to_expire

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
