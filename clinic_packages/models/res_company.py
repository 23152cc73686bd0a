from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    clinic_count_upcoming = fields.Boolean(
        string="Count Kept and Upcoming Visits",
        help="Authorizations and packages count booked visits as well as kept ones "
        "when deciding whether they are exhausted.",
    )
    clinic_auto_allocate = fields.Boolean(
        string="Apply Package Prepayments Automatically",
        default=True,
        help="When a visit invoice of a prepaid package is posted, pay it from that "
        "package's prepayment.",
    )
    clinic_no_show_product_id = fields.Many2one(
        "product.product",
        string="No-Show Fee",
        domain="[('type', '=', 'service')]",
        help="Invoiced when a no-show is not covered by the patient's package. Empty: no "
        "fee is charged.",
    )
    clinic_alert_remaining = fields.Integer(
        string="Alert When Uses Left Reach",
        default=2,
    )
    clinic_alert_days = fields.Char(
        string="Alert Days Before Expiry",
        default="7,30",
        help="Comma-separated numbers of days before the end date at which the "
        "responsible user gets a reminder.",
    )
