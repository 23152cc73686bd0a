from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from .clinic_guard import check_values

# Fields of a membership's configuration: like the rest of a package's, Clinic Managers only.
MEMBERSHIP_FIELDS = {"clinic_membership", "clinic_period", "clinic_rollover"}

PERIOD_SELECTION = [("week", "Every Week"), ("month", "Every Month")]


class ProductTemplate(models.Model):
    # a separable concern of the package product in a file of its own
    _inherit = "product.template"  # pylint: disable=consider-merging-classes-inherited

    clinic_membership = fields.Boolean(
        string="Membership",
        help="Selling this package starts a membership: the package is invoiced again and "
        "gives its uses again every period, until the membership is cancelled. The uses of "
        "the Package Content are uses per period.",
    )
    clinic_period = fields.Selection(
        PERIOD_SELECTION,
        string="Renews",
        default="month",
        help="How often a membership is invoiced and gives its uses.",
    )
    clinic_rollover = fields.Boolean(
        string="Unused Uses Roll Over",
        help="The uses a period leaves unused carry over, once, to the next period (with "
        "their value). Without it they are forfeited at the period's end (breakage).",
    )

    @api.constrains(
        "clinic_membership",
        "clinic_period",
        "clinic_package_ok",
        "clinic_billing_mode",
        "clinic_activation",
        "clinic_package_line_ids",
    )
    def _check_clinic_membership(self):
        for template in self:
            unlimited = template.clinic_package_line_ids.filtered("unlimited")
            if unlimited and not template.clinic_membership:
                raise ValidationError(
                    self.env._(
                        "Package %(package)s: only a membership can give unlimited uses of "
                        "%(service)s (its value is earned period by period). Tick Membership, "
                        "or enter a number of uses.",
                        package=template.display_name,
                        service=unlimited[0].service_product_id.display_name,
                    )
                )
            if not template.clinic_membership:
                continue
            if not template.clinic_package_ok:
                raise ValidationError(
                    self.env._(
                        "%(product)s: a membership is a package renewed every period. Tick "
                        "Is a Clinic Package and list its services first.",
                        product=template.display_name,
                    )
                )
            if not template.clinic_period:
                raise ValidationError(
                    self.env._(
                        "Membership %(product)s: choose how often it renews (every week or "
                        "every month).",
                        product=template.display_name,
                    )
                )
            if template.clinic_billing_mode != "package_invoice":
                raise ValidationError(
                    self.env._(
                        "Membership %(product)s: a membership is invoiced every period; choose "
                        "the billing Invoice the package at sale.",
                        product=template.display_name,
                    )
                )
            if template.clinic_activation == "on_first_visit":
                raise ValidationError(
                    self.env._(
                        "Membership %(product)s: its periods follow the calendar from the day "
                        "it starts; choose activation when the order is confirmed or when the "
                        "invoice is paid.",
                        product=template.display_name,
                    )
                )

    def _clinic_check_package_rights(self, vals):
        res = super()._clinic_check_package_rights(vals)
        check_values(self, vals, MEMBERSHIP_FIELDS)
        if (
            MEMBERSHIP_FIELDS.intersection(vals)
            and not self.env.su
            and not self.env.user.has_group("clinic_packages.group_clinic_manager")
        ):
            raise AccessError(
                self.env._(
                    "Only a Clinic Manager can change the membership terms of a product. Ask a "
                    "manager, or sell the membership as it is."
                )
            )
        return res

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if MEMBERSHIP_FIELDS.intersection(vals) and vals.get("clinic_membership"):
                self._clinic_check_package_rights(vals)
        return super().create(vals_list)
