from odoo import api, fields, models
from odoo.tools import SQL, create_index


class ClinicReportPackageSales(models.Model):
    """One row per package sold (entitlement): what was sold, to whom, by whom, and what is
    left of it. Jane's "Package Sales" report, on Odoo's sale orders."""

    _name = "clinic.report.package.sales"
    _inherit = ["clinic.report.mixin"]
    _description = "Package Sales Analysis"
    _auto = False
    _rec_name = "name"
    _order = "date desc, id desc"
    _depends = {
        "clinic.entitlement": [
            "name",
            "partner_id",
            "product_id",
            "sale_line_id",
            "sale_order_id",
            "company_id",
            "state",
            "billing_mode",
            "date_start",
            "date_expiry",
            "amount_total",
            "amount_untaxed",
            "uses_total",
            "uses_used",
            "uses_reserved",
            "uses_remaining",
        ],
        "clinic.entitlement.usage": ["entitlement_id", "state", "date"],
        "sale.order": ["date_order", "user_id"],
    }

    entitlement_id = fields.Many2one("clinic.entitlement", string="Patient Package", readonly=True)
    name = fields.Char(string="Reference", readonly=True)
    date = fields.Datetime(string="Sale Date", readonly=True)
    product_id = fields.Many2one("product.product", string="Package", readonly=True)
    product_tmpl_id = fields.Many2one("product.template", string="Package Product", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Patient", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    sale_order_id = fields.Many2one("sale.order", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    state = fields.Selection(selection="_selection_state", string="Status", readonly=True)
    billing_mode = fields.Selection(selection="_selection_billing_mode", readonly=True)
    amount_total = fields.Monetary(string="Amount", readonly=True, help="Price, taxes included.")
    amount_untaxed = fields.Monetary(string="Untaxed Amount", readonly=True)
    uses_total = fields.Integer(string="Uses", readonly=True)
    uses_used = fields.Integer(string="Redeemed", readonly=True)
    uses_reserved = fields.Integer(string="Booked", readonly=True)
    uses_remaining = fields.Integer(string="Remaining", readonly=True)
    is_expired = fields.Boolean(
        string="Expired", readonly=True, help="Its expiry date has passed (or it was expired)."
    )
    date_expiry = fields.Date(string="Expiry Date", readonly=True)
    date_last_visit = fields.Date(string="Last Visit", aggregator="max", readonly=True)
    nbr = fields.Integer(string="# Packages", readonly=True)

    def init(self):
        """The date of a package's last visit, read from an index: one probe per package."""
        create_index(
            self.env.cr,
            "clinic_entitlement_usage_consumed_entitlement_index",
            "clinic_entitlement_usage",
            ["entitlement_id", "date"],
            where="state = 'consumed'",
        )

    @api.model
    def _selection_state(self):
        return self.env["clinic.entitlement"]._fields["state"].selection

    @api.model
    def _selection_billing_mode(self):
        return self.env["clinic.entitlement"]._fields["billing_mode"].selection

    def _select(self):
        """The columns: the package (`e`), its product (`pp`), its company's currency (`c`),
        its sale order's date and salesperson (`so`), whether it has expired by today and the
        date of its last use consumed."""
        today = fields.Date.context_today(self)
        return SQL(
            """
            e.id AS id,
            e.id AS entitlement_id,
            e.name AS name,
            COALESCE(so.date_order, e.create_date) AS date,
            e.product_id AS product_id,
            pp.product_tmpl_id AS product_tmpl_id,
            e.partner_id AS partner_id,
            so.user_id AS user_id,
            e.sale_order_id AS sale_order_id,
            e.company_id AS company_id,
            c.currency_id AS currency_id,
            e.state AS state,
            e.billing_mode AS billing_mode,
            e.amount_total AS amount_total,
            e.amount_untaxed AS amount_untaxed,
            e.uses_total AS uses_total,
            e.uses_used AS uses_used,
            e.uses_reserved AS uses_reserved,
            e.uses_remaining AS uses_remaining,
            (e.state = 'expired'
             OR COALESCE(e.date_expiry < %(today)s, FALSE)) AS is_expired,
            e.date_expiry AS date_expiry,
            (SELECT MAX(u.date)
               FROM clinic_entitlement_usage u
              WHERE u.entitlement_id = e.id AND u.state = 'consumed') AS date_last_visit,
            1 AS nbr
            """,
            today=today,
        )

    def _from(self):
        return SQL(
            """
            clinic_entitlement e
            LEFT JOIN product_product pp ON pp.id = e.product_id
            LEFT JOIN res_company c ON c.id = e.company_id
            LEFT JOIN sale_order so ON so.id = e.sale_order_id
            """
        )

    def _where(self):
        """Every package sold, but the cancelled ones."""
        return SQL("e.state != 'cancelled'")

    def action_open_entitlement(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "clinic.entitlement",
            "res_id": self.entitlement_id.id,
            "views": [(False, "form")],
        }
