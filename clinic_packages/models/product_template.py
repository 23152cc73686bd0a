from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from .clinic_guard import check_values

# Fields of the package configuration: only Clinic Managers change them.
PACKAGE_FIELDS = {
    "clinic_package_ok",
    "clinic_package_line_ids",
    "clinic_validity_days",
    "clinic_activation",
    "clinic_practitioner_ids",
    "clinic_location_ids",
    "clinic_count_no_show",
    "clinic_count_late_cancel",
    "clinic_cap_per_week",
    "clinic_cap_per_month",
    "clinic_billing_mode",
    "clinic_units",
    "clinic_unit_minutes",
    "clinic_visit_minutes",
}

ACTIVATION_SELECTION = [
    ("on_confirm", "When the order is confirmed"),
    ("on_payment", "When the invoice is paid"),
    ("on_first_visit", "At the first visit"),
]
BILLING_SELECTION = [
    ("package_invoice", "Invoice the package at sale"),
    ("prepaid_credit", "Prepaid credit, each visit invoiced"),
]


class ProductTemplate(models.Model):
    _inherit = "product.template"

    clinic_package_ok = fields.Boolean(
        string="Is a Clinic Package",
        help="Selling this product gives the patient a package of visits.",
    )
    clinic_package_line_ids = fields.One2many(
        "clinic.package.line", "package_tmpl_id", string="Package Content", copy=True
    )
    clinic_package_use_count = fields.Integer(
        string="Uses in Package", compute="_compute_clinic_package_use_count"
    )
    clinic_validity_days = fields.Integer(
        string="Valid for (days)",
        help="Days from activation until the package expires. 0 means it never expires.",
    )
    clinic_activation = fields.Selection(
        ACTIVATION_SELECTION,
        string="Activation",
        default="on_confirm",
        required=True,
        help="When the package can be used, and when its validity period starts.",
    )
    clinic_practitioner_ids = fields.Many2many(
        "res.users",
        "clinic_package_practitioner_rel",
        "product_tmpl_id",
        "user_id",
        string="Practitioners",
        help="The package covers visits with these practitioners only. Empty: any.",
    )
    clinic_location_ids = fields.Many2many(
        "clinic.location",
        "clinic_package_location_rel",
        "product_tmpl_id",
        "location_id",
        string="Locations",
        help="The package covers visits at these locations only. Empty: any.",
    )
    clinic_count_no_show = fields.Boolean(
        string="No-Shows Can Use the Package",
        default=True,
        help="A no-show may be covered by the package (it then counts as a use).",
    )
    clinic_count_late_cancel = fields.Boolean(
        string="Late Cancellations Count",
        help="A late cancellation counts as a use of the package.",
    )
    clinic_cap_per_week = fields.Integer(
        string="Uses per Week",
        help="At most this many visits of a calendar week (Monday to Sunday) use the package. "
        "0: no limit.",
    )
    clinic_cap_per_month = fields.Integer(
        string="Uses per Month",
        help="At most this many visits of a calendar month use the package. 0: no limit.",
    )
    clinic_billing_mode = fields.Selection(
        BILLING_SELECTION,
        string="Billing",
        default="package_invoice",
        required=True,
        help="Invoice the package at sale (visits then bill the patient-pays amount), or "
        "hold the patient's prepayment as credit and pay each visit invoice from it.",
    )
    clinic_units = fields.Integer(
        string="Units per Visit",
        default=1,
        help="Units a visit of this service uses on a units authorization.",
    )
    clinic_unit_minutes = fields.Integer(
        string="Minutes per Unit",
        help="When set, units are computed from the visit's duration (e.g. 15: a 50 "
        "minute visit is 3 units). 0: use the fixed units per visit.",
    )
    clinic_visit_minutes = fields.Integer(
        string="Visit Length (minutes)",
        help="How long a visit of this service is booked for in the calendar. 0: the "
        "calendar's own length.",
    )

    clinic_user_is_manager = fields.Boolean(
        compute="_compute_clinic_user_is_manager",
        # a new record's form gets its first values from defaults, not from this compute
        default=lambda self: self.env.user.has_group("clinic_packages.group_clinic_manager"),
    )

    @api.depends_context("uid")
    def _compute_clinic_user_is_manager(self):
        is_manager = self.env.user.has_group("clinic_packages.group_clinic_manager")
        for template in self:
            template.clinic_user_is_manager = is_manager

    @api.depends("clinic_package_line_ids.quantity")
    def _compute_clinic_package_use_count(self):
        for template in self:
            template.clinic_package_use_count = sum(
                template.clinic_package_line_ids.mapped("quantity")
            )

    @api.onchange("clinic_package_ok")
    def _onchange_clinic_package_ok(self):
        if self.clinic_package_ok:
            self.type = "service"

    @api.constrains(
        "clinic_package_ok",
        "clinic_package_line_ids",
        "type",
        "clinic_validity_days",
        "clinic_cap_per_week",
        "clinic_cap_per_month",
    )
    def _check_clinic_package(self):
        for template in self.filtered("clinic_package_ok"):
            if not template.clinic_package_line_ids:
                raise ValidationError(
                    self.env._(
                        "Package %(package)s has no services. Add at least one service "
                        "with its number of uses on the Package tab.",
                        package=template.display_name,
                    )
                )
            if template.type != "service":
                raise ValidationError(
                    self.env._(
                        "Package %(package)s must be a service product (it is not "
                        "delivered from stock).",
                        package=template.display_name,
                    )
                )
            if template.clinic_validity_days < 0:
                raise ValidationError(
                    self.env._(
                        "Package %(package)s: the validity cannot be negative. Enter 0 "
                        "for a package that never expires.",
                        package=template.display_name,
                    )
                )
            if template.clinic_cap_per_week < 0 or template.clinic_cap_per_month < 0:
                raise ValidationError(
                    self.env._(
                        "Package %(package)s: the uses per week or month cannot be negative. "
                        "Enter 0 for no limit.",
                        package=template.display_name,
                    )
                )

    @api.constrains("clinic_package_ok", "type")
    def _check_clinic_package_content(self):
        """A service that some package contains stays a plain service."""
        lines = (
            self.env["clinic.package.line"]
            .sudo()
            .search([("service_product_id.product_tmpl_id", "in", self.ids)])
        )
        for line in lines:
            service = line.service_product_id.product_tmpl_id
            if service.clinic_package_ok or service.type != "service":
                raise ValidationError(
                    self.env._(
                        "%(service)s is part of package %(package)s: it must stay a service "
                        "and cannot itself be a package. Remove it from that package first.",
                        service=service.display_name,
                        package=line.package_tmpl_id.display_name,
                    )
                )

    @api.constrains("clinic_units", "clinic_unit_minutes", "clinic_visit_minutes")
    def _check_clinic_units(self):
        for template in self:
            if template.clinic_units < 1 or template.clinic_unit_minutes < 0:
                raise ValidationError(
                    self.env._(
                        "%(product)s: a visit uses at least 1 unit, and minutes per unit "
                        "cannot be negative (0: units per visit are fixed).",
                        product=template.display_name,
                    )
                )
            if not 0 <= template.clinic_visit_minutes <= 24 * 60:
                raise ValidationError(
                    self.env._(
                        "%(product)s: a visit lasts from 1 to 1440 minutes (0: the calendar's "
                        "own length); it says %(minutes)s.",
                        product=template.display_name,
                        minutes=template.clinic_visit_minutes,
                    )
                )

    def _get_product_accounts(self):
        """A package invoiced at sale credits unearned revenue, not income: its value is
        recognised visit by visit. Only reads the company's account (it comes with the chart
        of accounts)."""
        accounts = super()._get_product_accounts()
        if self.clinic_package_ok and self.clinic_billing_mode == "package_invoice":
            deferred = self.env.company.clinic_deferred_account_id
            if deferred:
                accounts["income"] = deferred
        return accounts

    def _clinic_units_for_minutes(self, minutes):
        """Units of a visit of `minutes`: rounded to the nearest unit, halves up, never 0."""
        self.ensure_one()
        if not self.clinic_unit_minutes:
            return self.clinic_units
        units = int(minutes // self.clinic_unit_minutes)
        if minutes - units * self.clinic_unit_minutes >= self.clinic_unit_minutes / 2:
            units += 1
        return max(units, 1)

    def _clinic_check_package_rights(self, vals):
        check_values(self, vals, PACKAGE_FIELDS)
        if (
            PACKAGE_FIELDS.intersection(vals)
            and not self.env.su
            and not self.env.user.has_group("clinic_packages.group_clinic_manager")
        ):
            raise AccessError(
                self.env._(
                    "Only a Clinic Manager can change the package configuration of a "
                    "product. Ask a manager, or sell the package as it is."
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_values(self, vals, PACKAGE_FIELDS)
            # defaults of a plain product do not count as configuring a package
            if vals.get("clinic_package_ok") or vals.get("clinic_package_line_ids"):
                self._clinic_check_package_rights(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._clinic_check_package_rights(vals)
        return super().write(vals)
