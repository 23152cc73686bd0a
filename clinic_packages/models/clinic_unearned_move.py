from odoo import api, fields, models
from odoo.tools import SQL, create_index


class ClinicUnearnedMove(models.Model):
    """The movements of the unearned revenue account, each attributed to a package: the one
    place that says how much of an unearned revenue item belongs to which package. A
    package's money (`clinic.entitlement._clinic_deferred_money`: billed, unearned, breakage)
    and the unearned revenue report both read it, one grouped query over one narrow table.

    One row per journal item posted on a company's unearned revenue account and package: an
    item of a package's own entries (recognition, breakage, refund, transfer, rollover,
    renewal) belongs to its package; a package invoice (or credit note) line belongs to the
    packages of its sale line, split equally between them (the first one takes the rounding
    remainder); the item of a grouped entry (an expiry batch, an import's patient) is split
    between its packages by the shares its builder wrote before posting it
    (`clinic.unearned.share`); any other item stays without package. The rows of an entry are
    written when it is posted (`account.move._post`) and removed when it is reset to draft or
    cancelled (or deleted: the foreign keys cascade), so they always add up to the general
    ledger balance of the account, at any date. Nothing else writes them: they are rebuilt
    from the journal items and shares by `_clinic_refresh`, never edited.
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
    shared = fields.Boolean(
        string="Part of a Shared Item",
        readonly=True,
        help="The item is shared between packages: this is the package's part of it (a "
        "package invoice line of several packages, a grouped expiry or opening entry).",
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
        """Fill an empty table (or one written before `shared` existed) from the journal."""
        table = SQL.identifier(self._table)
        self.env.cr.execute(
            SQL(
                "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM %s) "
                "OR EXISTS (SELECT 1 FROM %s WHERE shared IS NULL)",
                table,
                table,
            )
        )
        if self.env.cr.rowcount:
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
        `move_ids` only, unless None), in date order: an item with shares
        (`clinic.unearned.share`) one row per share, its amount; any other item its own
        package's (`e`) or its parts of the packages of its sale line (`s`), split equally, the
        first one taking the rounding remainder. Each kind of share is read from its table
        (an index lookup per share), never joined to every item."""
        shared_items = [
            SQL(
                "NOT EXISTS (SELECT 1 FROM %s b WHERE b.move_line_id = l.id)",
                SQL.identifier(self.env[name]._table),
            )
            for name in self._clinic_share_models()
        ]
        queries = [
            SQL(
                """
                SELECT l.id AS move_line_id, l.move_id, l.date,
                       COALESCE(s.id, e.id) AS entitlement_id,
                       COALESCE(s.product_id, e.product_id) AS product_id,
                       COALESCE(s.partner_id, e.partner_id, l.partner_id) AS partner_id,
                       l.company_id, l.company_currency_id AS currency_id, l.account_id,
                       %(kind)s AS kind,
                       s.id IS NOT NULL AS shared,
                       %(amount)s AS amount,
                       s.rank
                  FROM account_move_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN res_company c
                    ON c.id = l.company_id AND c.clinic_deferred_account_id = l.account_id
                  JOIN res_currency cur ON cur.id = l.company_currency_id
                  LEFT JOIN clinic_entitlement e ON e.id = l.clinic_entitlement_id
                  LEFT JOIN (%(sale_shares)s) s
                    ON s.invoice_line_id = l.id AND l.clinic_entitlement_id IS NULL
                 WHERE m.state = 'posted' %(moves)s
                   AND (l.clinic_entitlement_id IS NOT NULL OR (%(unshared)s))
                """,
                kind=self._clinic_kind_sql(),
                amount=self._clinic_part_sql(SQL("-l.balance")),
                sale_shares=self._clinic_sale_shares_query(move_ids),
                moves=SQL("AND l.move_id = ANY(%s)", move_ids) if move_ids is not None else SQL(),
                unshared=SQL(" AND ").join(shared_items) if shared_items else SQL("TRUE"),
            )
        ]
        for name in self._clinic_share_models():
            Share = self.env[name]
            queries.append(
                SQL(
                    """
                    SELECT l.id, l.move_id, l.date, be.id, be.product_id, be.partner_id,
                           l.company_id, l.company_currency_id, l.account_id,
                           %(kind)s,
                           TRUE,
                           %(sign)s * b.amount,
                           ROW_NUMBER() OVER (PARTITION BY b.move_line_id ORDER BY b.id)
                      FROM %(table)s b
                      JOIN account_move_line l ON l.id = b.move_line_id
                      JOIN account_move m ON m.id = l.move_id
                      JOIN res_company c
                        ON c.id = l.company_id AND c.clinic_deferred_account_id = l.account_id
                      JOIN clinic_entitlement be ON be.id = b.entitlement_id
                     WHERE m.state = 'posted' AND l.clinic_entitlement_id IS NULL %(moves)s
                    """,
                    kind=self._clinic_kind_sql(),
                    sign=Share._clinic_unearned_sign,
                    table=SQL.identifier(Share._table),
                    moves=SQL("AND b.move_id = ANY(%s)", move_ids)
                    if move_ids is not None
                    else SQL(),
                )
            )
        return SQL(
            """
            INSERT INTO %(table)s (move_line_id, move_id, date, entitlement_id, product_id,
                                   partner_id, company_id, currency_id, account_id, kind,
                                   shared, amount)
            SELECT move_line_id, move_id, date, entitlement_id, product_id, partner_id,
                   company_id, currency_id, account_id, kind, shared, amount
              FROM (%(rows)s) AS item
          ORDER BY date, move_line_id, rank
            """,
            table=SQL.identifier(self._table),
            rows=SQL(" UNION ALL ").join(queries),
        )

    @api.model
    def _clinic_share_models(self):
        """The models of the packages' shares of grouped items (`clinic.unearned.share`)."""
        return sorted(
            name
            for name in self.env["clinic.unearned.share"]._inherit_children
            if not self.env[name]._abstract
        )

    @api.model
    def _clinic_kind_sql(self):
        """The kind of the movements of an item of the entry `m`."""
        return SQL(
            """
            CASE
                WHEN m.clinic_move_kind IS NOT NULL THEN m.clinic_move_kind
                WHEN m.move_type = 'out_invoice' THEN 'invoice'
                WHEN m.move_type = 'out_refund' THEN 'credit_note'
                ELSE 'other'
            END
            """
        )

    @api.model
    def _clinic_part_sql(self, amount):
        """The part of `amount` (an SQL expression of the item `l`) that belongs to the
        package `s` of `_clinic_sale_shares_query` sharing it: the whole when the item is
        not shared (no `s`), else an equal share rounded to the currency `cur`, the first
        package taking the rounding remainder. The one rule splitting an invoice line between
        the packages of its sale line."""
        share = SQL("ROUND(%s / s.shares, cur.decimal_places)", amount)
        return SQL(
            "CASE WHEN s.id IS NULL THEN %(amount)s "
            "ELSE %(share)s + CASE WHEN s.rank = 1 THEN %(amount)s - %(share)s * s.shares "
            "ELSE 0 END END",
            amount=amount,
            share=share,
        )

    @api.model
    def _clinic_package_parts(self, entitlement, lines):
        """{line id: `entitlement`'s part of the line's total, taxes included, in the line's
        currency} for the posted invoice or credit note `lines` of its sale line (or of its
        own): the split of `_clinic_part_sql`, the same the movements are written with."""
        if not lines:
            return {}
        self.env["account.move.line"].flush_model(["price_total", "currency_id"])
        self.env["clinic.entitlement"].flush_model(["sale_line_id"])
        self.env["sale.order.line"].flush_model(["invoice_lines"])
        self.env.cr.execute(
            SQL(
                """
                SELECT l.id, %(part)s
                  FROM account_move_line l
                  JOIN res_currency cur ON cur.id = l.currency_id
             LEFT JOIN (%(shares)s) s
                    ON s.invoice_line_id = l.id AND l.clinic_entitlement_id IS NULL
                 WHERE l.id = ANY(%(lines)s) AND (s.id IS NULL OR s.id = %(package)s)
                """,
                part=self._clinic_part_sql(SQL("l.price_total")),
                shares=self._clinic_sale_shares_query(line_ids=lines.ids),
                lines=lines.ids,
                package=entitlement.id,
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _clinic_sale_shares_query(self, move_ids=None, line_ids=None):
        """The packages an invoice line is split equally between (those of its sale line),
        one row per (line, package): `invoice_line_id`, the package's `id`, `partner_id` and
        `product_id`, its `rank` among the line's packages and `shares`, their number. Of
        the lines of the entries `move_ids`, or the lines `line_ids`, when given."""
        invoice_lines = SQL()
        if line_ids is not None:
            invoice_lines = SQL("WHERE rel.invoice_line_id = ANY(%s)", line_ids)
        elif move_ids is not None:
            invoice_lines = SQL(
                "WHERE rel.invoice_line_id IN "
                "(SELECT id FROM account_move_line WHERE move_id = ANY(%s))",
                move_ids,
            )
        return SQL(
            """
            SELECT rel.invoice_line_id,
                   se.id,
                   se.partner_id,
                   se.product_id,
                   ROW_NUMBER() OVER (
                       PARTITION BY rel.invoice_line_id ORDER BY se.id
                   ) AS rank,
                   COUNT(*) OVER (PARTITION BY rel.invoice_line_id) AS shares
              FROM sale_order_line_invoice_rel rel
              JOIN clinic_entitlement se ON se.sale_line_id = rel.order_line_id
              %s
            """,
            invoice_lines,
        )
