from odoo import api, fields, models
from odoo.tools import SQL, create_index


class ClinicUnearnedMove(models.Model):
    """The movements of the unearned revenue account, each attributed to a package: what the
    unearned revenue report reads, kept by the posting code so that the report is a sum over
    one narrow table rather than a split of every journal item at each read.

    One row per journal item posted on a company's unearned revenue account: an item of a
    package's own entries (recognition, breakage, refund, transfer) belongs to its package; a
    package invoice (or credit note) line belongs to the packages of its sale line, split
    equally between them (the first one takes the rounding remainder); the item of a grouped
    expiry entry is split between its packages by their `clinic.entitlement.breakage` amounts;
    any other item stays without package. The rows of an entry are written when it is posted
    (`account.move._post`) and removed when it is reset to draft or cancelled (or deleted:
    the foreign keys cascade), so they always add up to the general ledger balance of the
    account, at any date. Nothing else writes them: they are rebuilt from the journal items
    by `_clinic_refresh`, never edited.
    """

    _name = "clinic.unearned.move"
    _description = "Unearned Revenue Movement"
    _order = "date, id"
    _rec_name = "move_line_id"
    _log_access = False

    move_line_id = fields.Many2one(
        "account.move.line",
        string="Journal Item",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    move_id = fields.Many2one(
        "account.move",
        string="Entry",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    date = fields.Date(required=True, readonly=True)
    entitlement_id = fields.Many2one(
        "clinic.entitlement", string="Patient Package", readonly=True, index="btree_not_null"
    )
    product_id = fields.Many2one("product.product", string="Package", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Patient", readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True)
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
            ("transfer", "Package transfer"),
            ("membership", "Membership renewal invoice"),
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

    def init(self):
        # the list, in date order
        create_index(self.env.cr, "clinic_unearned_move_date_id_index", self._table, ["date", "id"])
        # an existing database: fill the table from the posted journal items, once every
        # table it reads exists (a new database has none)
        self.pool.post_init(self._clinic_backfill)

    @api.model
    def _clinic_backfill(self):
        self.env.cr.execute(SQL("SELECT 1 FROM %s LIMIT 1", SQL.identifier(self._table)))
        if not self.env.cr.rowcount:
            self._clinic_refresh()

    # business ----------------------------------------------------------------
    @api.model
    def _clinic_refresh(self, moves=None, fresh=False):
        """Rewrite the rows of the entries `moves` (all entries when None) from their posted
        journal items: an entry not posted (any more) keeps none. With `fresh`, the entries
        have no rows yet (they were just posted)."""
        if moves is not None and not moves:
            return
        self.env.flush_all()
        move_ids = None if moves is None else list(moves.ids)
        cr = self.env.cr
        if not fresh:
            cr.execute(
                SQL(
                    "DELETE FROM %s%s",
                    SQL.identifier(self._table),
                    SQL(" WHERE move_id = ANY(%s)", move_ids) if move_ids is not None else SQL(),
                )
            )
        cr.execute(self._clinic_insert_query(move_ids))
        self.invalidate_model()

    @api.model
    def _clinic_remove(self, moves):
        """The entries `moves` are no longer posted: their movements go."""
        if moves:
            self.env.cr.execute(
                SQL(
                    "DELETE FROM %s WHERE move_id = ANY(%s)", SQL.identifier(self._table), moves.ids
                )
            )
            self.invalidate_model()

    @api.model
    def _clinic_insert_query(self, move_ids=None):
        """INSERT the rows of the posted items of the unearned accounts (of the entries
        `move_ids` only, unless None): the item (`l`), its package (its own, `e`, or its share
        of the packages of its sale line or grouped expiry entry, `s`) and the kind of its
        entry (`m`). The amount of a share is its breakage amount, or the item split equally
        between the packages of the sale line, the first one taking the rounding remainder."""
        return SQL(
            """
            INSERT INTO %(table)s (move_line_id, move_id, date, entitlement_id, product_id,
                                   partner_id, company_id, currency_id, account_id, kind, amount)
            SELECT l.id,
                   l.move_id,
                   l.date,
                   COALESCE(s.id, e.id),
                   COALESCE(s.product_id, e.product_id),
                   COALESCE(s.partner_id, e.partner_id, l.partner_id),
                   l.company_id,
                   l.company_currency_id,
                   l.account_id,
                   CASE
                       WHEN m.clinic_move_kind IS NOT NULL THEN m.clinic_move_kind
                       WHEN m.move_type = 'out_invoice' THEN 'invoice'
                       WHEN m.move_type = 'out_refund' THEN 'credit_note'
                       ELSE 'other'
                   END,
                   CASE
                       WHEN s.id IS NULL THEN -l.balance
                       WHEN s.amount IS NOT NULL THEN -s.amount
                       ELSE ROUND(-l.balance / s.shares, cur.decimal_places)
                            + CASE WHEN s.rank = 1
                                   THEN -l.balance
                                        - ROUND(-l.balance / s.shares, cur.decimal_places)
                                          * s.shares
                                   ELSE 0 END
                   END
              FROM account_move_line l
              JOIN account_move m ON m.id = l.move_id
              JOIN res_company c
                ON c.id = l.company_id AND c.clinic_deferred_account_id = l.account_id
              JOIN res_currency cur ON cur.id = l.company_currency_id
              LEFT JOIN clinic_entitlement e ON e.id = l.clinic_entitlement_id
              LEFT JOIN (%(shares)s) s
                ON s.invoice_line_id = l.id AND l.clinic_entitlement_id IS NULL
             WHERE m.state = 'posted' %(moves)s
          ORDER BY l.date, l.id, s.rank
            """,
            table=SQL.identifier(self._table),
            shares=self._clinic_shares_query(move_ids),
            moves=SQL("AND l.move_id = ANY(%s)", move_ids) if move_ids is not None else SQL(),
        )

    @api.model
    def _clinic_shares_query(self, move_ids=None):
        """The packages a journal item is shared between, one row per (item, package):
        `invoice_line_id` (the item), the package's `id`, `partner_id` and `product_id`, its
        `rank` among the item's packages, and either `shares` (the number of packages the item
        is split equally between: those of its sale line) or `amount` (the package's share of
        a grouped expiry item, from `clinic.entitlement.breakage`)."""
        if move_ids is None:
            invoice_lines, expiries = SQL(), SQL()
        else:
            invoice_lines = SQL(
                "WHERE rel.invoice_line_id IN "
                "(SELECT id FROM account_move_line WHERE move_id = ANY(%s))",
                move_ids,
            )
            expiries = SQL("WHERE b.move_id = ANY(%s)", move_ids)
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
              %(invoice_lines)s
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
              %(expiries)s
            """,
            invoice_lines=invoice_lines,
            expiries=expiries,
        )
