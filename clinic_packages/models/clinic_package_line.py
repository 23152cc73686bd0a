from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ClinicPackageLine(models.Model):
    _name = "clinic.package.line"
    _inherit = ["clinic.input.mixin"]
    _description = "Clinic Package Content"
    _order = "package_tmpl_id, sequence, id"

    package_tmpl_id = fields.Many2one(
        "product.template", string="Package", required=True, index=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=10)
    service_product_id = fields.Many2one(
        "product.product",
        string="Service",
        required=True,
        ondelete="restrict",
        domain="[('type', '=', 'service'), ('clinic_package_ok', '=', False)]",
    )
    quantity = fields.Integer(string="Uses", default=1, required=True)
    currency_id = fields.Many2one(related="package_tmpl_id.currency_id")
    patient_pays = fields.Monetary(
        string="Patient Pays per Use",
        currency_field="currency_id",
        help="What the patient is billed at each visit covered by the package "
        "(usually 0: the package price covers the visit).",
    )

    @api.constrains("quantity", "patient_pays", "service_product_id")
    def _check_line(self):
        for line in self:
            package = line.package_tmpl_id.display_name
            service = line.service_product_id.display_name
            if line.quantity <= 0:
                raise ValidationError(
                    self.env._(
                        "Package %(package)s: the number of uses of %(service)s must be at "
                        "least 1 (it is %(qty)s). Remove the line instead.",
                        package=package,
                        service=service,
                        qty=line.quantity,
                    )
                )
            if line.currency_id.compare_amounts(line.patient_pays, 0) < 0:
                raise ValidationError(
                    self.env._(
                        "Package %(package)s: the patient-pays amount of %(service)s cannot "
                        "be negative. Enter 0 when the package covers the visit.",
                        package=package,
                        service=service,
                    )
                )
            if line.service_product_id.clinic_package_ok:
                raise ValidationError(
                    self.env._(
                        "Package %(package)s: %(service)s is itself a package; a package "
                        "contains services only.",
                        package=package,
                        service=service,
                    )
                )
            if line.service_product_id.type != "service":
                raise ValidationError(
                    self.env._(
                        "Package %(package)s: %(service)s is not a service product; only "
                        "services can be booked as visits.",
                        package=package,
                        service=service,
                    )
                )
            twins = line.package_tmpl_id.clinic_package_line_ids.filtered(
                lambda other, line=line: other.service_product_id == line.service_product_id
            )
            if len(twins) > 1:
                raise ValidationError(
                    self.env._(
                        "Package %(package)s lists %(service)s twice. Keep one line and "
                        "set its number of uses instead.",
                        package=package,
                        service=service,
                    )
                )
