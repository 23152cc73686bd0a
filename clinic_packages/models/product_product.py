from odoo import models

from .product_template import PACKAGE_FIELDS


class ProductProduct(models.Model):
    _inherit = "product.product"

    def write(self, vals):
        # A variant hands its template's fields over one at a time, so the package checks
        # would see clinic_package_ok without its lines: write the package fields together.
        package_vals = {key: vals[key] for key in PACKAGE_FIELDS.intersection(vals)}
        if package_vals:
            self.product_tmpl_id.write(package_vals)
            vals = {key: value for key, value in vals.items() if key not in package_vals}
        return super().write(vals)
