from odoo import fields, models


class ClinicEntitlementLine(models.Model):
    # memberships' own field on a period's services
    _inherit = "clinic.entitlement.line"  # pylint: disable=consider-merging-classes-inherited

    rolled_in = fields.Integer(
        string="Rolled Over",
        readonly=True,
        copy=False,
        help="Uses carried over from the membership's previous period (part of Bought). They "
        "are used first and do not roll over again.",
    )
