from odoo import api, models
from odoo.exceptions import ValidationError


class ProductTemplate(models.Model):
    _inherit = "product.template"

    @api.constrains("is_published", "clinic_package_ok", "clinic_billing_mode")
    def _check_clinic_shop(self):
        """A prepaid-credit package is paid by a prepayment tagged with the package, which
        the front desk registers: the shop sells packages invoiced at sale only."""
        for template in self:
            if (
                template.is_published
                and template.clinic_package_ok
                and template.clinic_billing_mode == "prepaid_credit"
            ):
                raise ValidationError(
                    self.env._(
                        "%(package)s is a prepaid-credit package: it cannot be sold in the "
                        "online shop (its prepayment is registered at the front desk). "
                        "Publish packages invoiced at sale.",
                        package=template.display_name,
                    )
                )
