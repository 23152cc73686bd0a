from odoo import api, models
from odoo.tools import SQL


class ClinicUnearnedMove(models.Model):
    """An opening entry of an import credits the unearned revenue account once per patient:
    the movement of that item is split between the patient's packages by their
    `clinic.entitlement.opening` amounts (as a grouped expiry item by its breakage shares).

    The split is made after the movements are written, by two statements joining on the
    item (an equality join PostgreSQL hashes), whatever the number of packages."""

    # a separable concern in a file of its own, on purpose (account_move_line_tax_details.py)
    _inherit = "clinic.unearned.move"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _clinic_refresh(self, moves=None, fresh=False):
        res = super()._clinic_refresh(moves, fresh=fresh)
        self._clinic_split_openings(moves)
        return res

    @api.model
    def _clinic_split_openings(self, moves=None):
        """Replace the movement of each patient's unearned item of the opening entries
        `moves` (all when None) by one movement per package, its opening value."""
        if moves is not None and not moves:
            return
        shares = SQL("o.move_id = ANY(%s)", moves.ids) if moves is not None else SQL("TRUE")
        table = SQL.identifier(self._table)
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                INSERT INTO %(table)s (move_line_id, move_id, date, entitlement_id, product_id,
                                       partner_id, company_id, currency_id, account_id, kind,
                                       amount)
                SELECT u.move_line_id, u.move_id, u.date, e.id, e.product_id, e.partner_id,
                       u.company_id, u.currency_id, u.account_id, u.kind, o.amount
                  FROM %(table)s u
                  JOIN clinic_entitlement_opening o ON o.move_line_id = u.move_line_id
                  JOIN clinic_entitlement e ON e.id = o.entitlement_id
                 WHERE u.entitlement_id IS NULL AND %(shares)s
              ORDER BY u.date, u.move_line_id, o.id
                """,
                table=table,
                shares=shares,
            )
        )
        if cr.rowcount:
            cr.execute(
                SQL(
                    """
                    DELETE FROM %(table)s u
                     WHERE u.entitlement_id IS NULL
                       AND u.move_line_id IN (
                           SELECT o.move_line_id FROM clinic_entitlement_opening o
                            WHERE %(shares)s)
                    """,
                    table=table,
                    shares=shares,
                )
            )
            self.invalidate_model()
