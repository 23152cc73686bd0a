from odoo import fields, models


class ClinicPackageLine(models.Model):
    # memberships' own field on the package content
    _inherit = "clinic.package.line"  # pylint: disable=consider-merging-classes-inherited

    unlimited = fields.Boolean(
        help="Memberships only: any number of visits of this service in a period. Its uses "
        "number is then only shown, not counted against.",
    )
