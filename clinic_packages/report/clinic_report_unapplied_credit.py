from odoo import fields, models
from odoo.tools import SQL

AGE_BUCKETS = [
    ("0_30", "0-30 days"),
    ("31_60", "31-60 days"),
    ("61_90", "61-90 days"),
    ("91_plus", "Over 90 days"),
]


class ClinicReportUnappliedCredit(models.Model):
    """Every patient's outstanding credit: the open receivable credit of posted payments and
    credit notes (what Odoo offers as "outstanding credits" on an invoice), with its age and
    the package a prepayment is for."""

    _name = "clinic.report.unapplied.credit"
    _inherit = ["clinic.report.mixin"]
    _description = "Unapplied Patient Credit"
    _auto = False
    _rec_name = "move_id"
    _order = "date, id"
    _depends = {
        "account.move.line": [
            "move_id",
            "payment_id",
            "partner_id",
            "company_id",
            "account_id",
            "date",
            "balance",
            "amount_residual",
            "reconciled",
            "parent_state",
        ],
        "account.payment": ["clinic_entitlement_id"],
        "account.move": ["move_type"],
    }

    move_line_id = fields.Many2one("account.move.line", string="Journal Item", readonly=True)
    move_id = fields.Many2one("account.move", string="Entry", readonly=True)
    payment_id = fields.Many2one("account.payment", readonly=True)
    entitlement_id = fields.Many2one(
        "clinic.entitlement",
        string="Prepays Package",
        readonly=True,
        help="The package this payment is the prepayment of.",
    )
    product_id = fields.Many2one("product.product", string="Package", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Patient", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    account_id = fields.Many2one("account.account", readonly=True)
    journal_id = fields.Many2one("account.journal", readonly=True)
    date = fields.Date(readonly=True)
    origin = fields.Selection(
        [("payment", "Payment"), ("credit_note", "Credit Note"), ("entry", "Other Entry")],
        readonly=True,
    )
    amount_original = fields.Monetary(string="Original Credit", readonly=True)
    amount_residual = fields.Monetary(string="Unapplied Credit", readonly=True)
    age_days = fields.Integer(string="Age (days)", aggregator="max", readonly=True)
    age_bucket = fields.Selection(AGE_BUCKETS, string="Age", readonly=True)
    nbr = fields.Integer(string="# Credits", readonly=True)

    def _select(self):
        """The columns: the journal item (`l`), where its credit comes from (payment or credit
        note, `m`), the package a payment prepays (`pay`, `ent`), the patient (the commercial
        partner, `p`) and its age today."""
        today = fields.Date.context_today(self)
        return SQL(
            """
            l.id AS id,
            l.id AS move_line_id,
            l.move_id AS move_id,
            l.payment_id AS payment_id,
            pay.clinic_entitlement_id AS entitlement_id,
            ent.product_id AS product_id,
            COALESCE(p.commercial_partner_id, l.partner_id) AS partner_id,
            l.company_id AS company_id,
            l.company_currency_id AS currency_id,
            l.account_id AS account_id,
            l.journal_id AS journal_id,
            l.date AS date,
            CASE
                WHEN l.payment_id IS NOT NULL THEN 'payment'
                WHEN m.move_type = 'out_refund' THEN 'credit_note'
                ELSE 'entry'
            END AS origin,
            -l.balance AS amount_original,
            -l.amount_residual AS amount_residual,
            %(today)s - l.date AS age_days,
            CASE
                WHEN %(today)s - l.date <= 30 THEN '0_30'
                WHEN %(today)s - l.date <= 60 THEN '31_60'
                WHEN %(today)s - l.date <= 90 THEN '61_90'
                ELSE '91_plus'
            END AS age_bucket,
            1 AS nbr
            """,
            today=today,
        )

    def _from(self):
        return SQL(
            """
            account_move_line l
            JOIN account_account a ON a.id = l.account_id
            JOIN account_move m ON m.id = l.move_id
            LEFT JOIN account_payment pay ON pay.id = l.payment_id
            LEFT JOIN clinic_entitlement ent ON ent.id = pay.clinic_entitlement_id
            LEFT JOIN res_partner p ON p.id = l.partner_id
            """
        )

    def _where(self):
        """The open credit on receivable accounts of posted entries (what Odoo offers as
        outstanding credits)."""
        return SQL(
            """
            a.account_type = 'asset_receivable'
            AND l.parent_state = 'posted'
            AND (l.reconciled IS NULL OR l.reconciled = FALSE OR l.reconciled IS NOT TRUE)
            AND l.amount_residual < 0
            """
        )
