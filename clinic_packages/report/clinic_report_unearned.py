from odoo import fields, models
from odoo.tools import SQL

# a journal item split over the packages of its sale line gets the ids
# item * ID_FACTOR + 1, + 2, ... (the other items keep item * ID_FACTOR)
ID_FACTOR = 100000


class ClinicReportUnearned(models.Model):
    """The movements of the unearned revenue account, each attributed to a package.

    One row per journal item posted on a company's unearned revenue account: an item of a
    package's own entries (recognition, breakage, refund) belongs to its package; a package
    invoice (or credit note) line belongs to the packages of its sale line, split equally
    between them (the first one takes the rounding remainder); the item of a grouped expiry
    entry is split between its packages by their `clinic.entitlement.breakage` amounts; any
    other item stays without package. The rows therefore add up to the general ledger balance
    of the account, and a filter on the date (date <= D) gives the unearned balance at D, per
    package or patient.
    Prepaid-credit packages hold their unearned money as unapplied credit, not here.
    """

    _name = "clinic.report.unearned"
    _inherit = ["clinic.report.mixin"]
    _description = "Unearned Package Revenue"
    _auto = False
    _rec_name = "move_id"
    _order = "date, id"
    _depends = {
        "account.move.line": [
            "move_id",
            "partner_id",
            "company_id",
            "account_id",
            "date",
            "balance",
            "parent_state",
            "clinic_entitlement_id",
            "sale_line_ids",
        ],
        "clinic.entitlement.breakage": ["entitlement_id", "move_line_id", "amount"],
        "account.move": ["move_type", "clinic_move_kind"],
        "clinic.entitlement": ["sale_line_id", "partner_id", "product_id"],
        "res.company": ["clinic_deferred_account_id"],
    }

    move_line_id = fields.Many2one("account.move.line", string="Journal Item", readonly=True)
    move_id = fields.Many2one("account.move", string="Entry", readonly=True)
    date = fields.Date(readonly=True)
    entitlement_id = fields.Many2one("clinic.entitlement", string="Patient Package", readonly=True)
    product_id = fields.Many2one("product.product", string="Package", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Patient", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    account_id = fields.Many2one("account.account", readonly=True)
    kind = fields.Selection(
        [
            ("invoice", "Package invoice"),
            ("credit_note", "Credit note"),
            ("recognition", "Revenue recognition"),
            ("breakage", "Breakage"),
            ("refund", "Package refund"),
            ("opening", "Opening balance (import)"),
            ("visit", "Visit invoice"),
            ("other", "Other entry"),
        ],
        string="Movement",
        readonly=True,
    )
    amount = fields.Monetary(
        string="Unearned",
        readonly=True,
        help="Credit minus debit on the unearned revenue account: what the movement adds to "
        "the revenue still owed in visits.",
    )

    def _select(self):
        """The columns: the journal item (`l`), its package (its own, `e`, or its share of the
        packages of its sale line or grouped expiry entry, `s`) and the kind of its entry
        (`m`). The amount of a share is its breakage amount, or the item split equally between
        the packages of the sale line, the first one taking the rounding remainder."""
        return SQL(
            """
            l.id::bigint * %(factor)s + COALESCE(s.rank, 0) AS id,
            l.id AS move_line_id,
            l.move_id AS move_id,
            l.date AS date,
            COALESCE(s.id, e.id) AS entitlement_id,
            COALESCE(s.product_id, e.product_id) AS product_id,
            COALESCE(s.partner_id, e.partner_id, l.partner_id) AS partner_id,
            l.company_id AS company_id,
            l.company_currency_id AS currency_id,
            l.account_id AS account_id,
            CASE
                WHEN m.clinic_move_kind IS NOT NULL THEN m.clinic_move_kind
                WHEN m.move_type = 'out_invoice' THEN 'invoice'
                WHEN m.move_type = 'out_refund' THEN 'credit_note'
                ELSE 'other'
            END AS kind,
            CASE
                WHEN s.id IS NULL THEN -l.balance
                WHEN s.amount IS NOT NULL THEN -s.amount
                ELSE ROUND(-l.balance / s.shares, cur.decimal_places)
                     + CASE WHEN s.rank = 1
                            THEN -l.balance
                                 - ROUND(-l.balance / s.shares, cur.decimal_places)
                                   * s.shares
                            ELSE 0 END
            END AS amount
            """,
            factor=ID_FACTOR,
        )

    def _from(self):
        # One pass over the account's items: an item without package of its own is joined to
        # the packages of its sale line, or to the packages of a grouped expiry entry with
        # their amounts (one row each, `s`), any other item keeps one row.
        # (Not a UNION ALL with NOT EXISTS: PostgreSQL grossly overestimates that plan and JIT
        # compiles it, which costs more than running it.) The entry is LEFT JOINed (it always
        # exists) so that PostgreSQL leaves it out when the movement kind is not asked for.
        return SQL(
            """
            account_move_line l
            JOIN res_company c
              ON c.id = l.company_id AND c.clinic_deferred_account_id = l.account_id
            JOIN res_currency cur ON cur.id = l.company_currency_id
            LEFT JOIN account_move m ON m.id = l.move_id
            LEFT JOIN clinic_entitlement e ON e.id = l.clinic_entitlement_id
            LEFT JOIN (%(package_shares)s) s
              ON s.invoice_line_id = l.id AND l.clinic_entitlement_id IS NULL
            """,
            package_shares=self._from_package_shares(),
        )

    def _from_package_shares(self):
        """The packages a journal item is shared between, one row per (item, package):
        `invoice_line_id` (the item), the package's `id`, `partner_id` and `product_id`, its
        `rank` among the item's packages, and either `shares` (the number of packages the item
        is split equally between: those of its sale line) or `amount` (the package's share of
        a grouped expiry item, from `clinic.entitlement.breakage`)."""
        return SQL(
            """
            SELECT rel.invoice_line_id,
                   se.id,
                   se.partner_id,
                   se.product_id,
                   ROW_NUMBER() OVER (
                       PARTITION BY rel.invoice_line_id ORDER BY se.id
                   ) AS rank,
                   COUNT(*) OVER (PARTITION BY rel.invoice_line_id) AS shares,
                   NULL::numeric AS amount
              FROM sale_order_line_invoice_rel rel
              JOIN clinic_entitlement se ON se.sale_line_id = rel.order_line_id
             UNION ALL
            SELECT b.move_line_id,
                   be.id,
                   be.partner_id,
                   be.product_id,
                   ROW_NUMBER() OVER (PARTITION BY b.move_line_id ORDER BY b.id),
                   NULL,
                   b.amount
              FROM clinic_entitlement_breakage b
              JOIN clinic_entitlement be ON be.id = b.entitlement_id
            """
        )

    def _where(self):
        """The items of posted entries."""
        return SQL("l.parent_state = 'posted'")
