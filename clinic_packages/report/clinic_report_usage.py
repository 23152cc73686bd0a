from odoo import api, fields, models
from odoo.tools import SQL, create_index, index_exists


class ClinicReportUsage(models.Model):
    """One row per package use delivered (consumed): who delivered it, what, where and when,
    with the revenue it recognised. Jane's "Package Usage" report."""

    _name = "clinic.report.usage"
    _inherit = ["clinic.report.mixin"]
    _description = "Package Usage Analysis"
    _auto = False
    _rec_name = "usage_id"
    _order = "date desc, id desc"
    _depends = {
        "clinic.entitlement.usage": [
            "entitlement_id",
            "event_id",
            "service_product_id",
            "user_id",
            "date",
            "state",
            "reason",
            "amount",
            "partner_id",
            "company_id",
            "location_id",
        ],
        "clinic.entitlement": ["product_id", "billing_mode"],
        "calendar.event": ["clinic_authorization_id"],
    }

    usage_id = fields.Many2one("clinic.entitlement.usage", string="Package Use", readonly=True)
    date = fields.Date(readonly=True)
    user_id = fields.Many2one("res.users", string="Practitioner", readonly=True)
    service_product_id = fields.Many2one("product.product", string="Service", readonly=True)
    location_id = fields.Many2one("clinic.location", readonly=True)
    event_id = fields.Many2one("calendar.event", string="Appointment", readonly=True)
    authorization_id = fields.Many2one(
        "clinic.authorization",
        readonly=True,
        help="The insurance authorization that counted the same visit for its payer.",
    )
    entitlement_id = fields.Many2one("clinic.entitlement", string="Patient Package", readonly=True)
    product_id = fields.Many2one("product.product", string="Package", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Patient", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    reason = fields.Selection(selection="_selection_reason", readonly=True)
    billing_mode = fields.Selection(selection="_selection_billing_mode", readonly=True)
    amount = fields.Monetary(string="Revenue Recognised", readonly=True)
    nbr = fields.Integer(string="# Uses", readonly=True)

    def init(self):
        """Indexes for what the report reads: the uses delivered newest first (the list), and
        what the groupings (month, location, practitioner, company) need of them, read from
        the index alone rather than from the wide table: PostgreSQL drops the joins whose
        columns a grouping does not read, but still reads their keys (`event_id`,
        `entitlement_id`), hence their place in the index. The appointment is not joined
        for the location any more (the use keeps it): the indexes that served that join go."""
        cr = self.env.cr
        create_index(
            cr,
            "clinic_entitlement_usage_consumed_date_index",
            "clinic_entitlement_usage",
            ["date DESC", "id DESC"],
            where="state = 'consumed'",
        )
        if not index_exists(cr, "clinic_entitlement_usage_consumed_report_index"):
            cr.execute(
                SQL(
                    "CREATE INDEX clinic_entitlement_usage_consumed_report_index "
                    "ON clinic_entitlement_usage (date, location_id) "
                    "INCLUDE (user_id, company_id, amount, event_id, entitlement_id) "
                    "WHERE state = 'consumed'"
                )
            )
        for name in (
            "clinic_entitlement_usage_consumed_event_index",
            "calendar_event_clinic_location_index",
        ):
            cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))

    @api.model
    def _selection_reason(self):
        return self.env["clinic.entitlement.usage"]._fields["reason"].selection

    @api.model
    def _selection_billing_mode(self):
        return self.env["clinic.entitlement"]._fields["billing_mode"].selection

    def _select(self):
        """The columns: the use (`u`, with its location), its package (`e`), its company's
        currency (`c`) and the authorization of its appointment (`ev`). A grouping that reads
        none of the joined columns reads the uses alone: PostgreSQL drops the unused joins."""
        return SQL(
            """
            u.id AS id,
            u.id AS usage_id,
            u.date AS date,
            u.user_id AS user_id,
            u.service_product_id AS service_product_id,
            u.location_id AS location_id,
            u.event_id AS event_id,
            ev.clinic_authorization_id AS authorization_id,
            u.entitlement_id AS entitlement_id,
            e.product_id AS product_id,
            u.partner_id AS partner_id,
            u.company_id AS company_id,
            c.currency_id AS currency_id,
            u.reason AS reason,
            e.billing_mode AS billing_mode,
            COALESCE(u.amount, 0.0) AS amount,
            1 AS nbr
            """
        )

    def _from(self):
        return SQL(
            """
            clinic_entitlement_usage u
            LEFT JOIN clinic_entitlement e ON e.id = u.entitlement_id
            LEFT JOIN res_company c ON c.id = u.company_id
            LEFT JOIN calendar_event ev ON ev.id = u.event_id
            """
        )

    def _where(self):
        """The uses delivered: booked and released uses are not counted."""
        return SQL("u.state = 'consumed'")
