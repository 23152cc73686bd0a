from odoo import models
from odoo.tools import SQL


class ClinicReportMixin(models.AbstractModel):
    """A report read from SQL, built from parts another module can override one by one
    (as Odoo's own sale report): `_select` (the columns), `_from` (the tables and joins) and
    `_where` (the rows kept; empty: all)."""

    _name = "clinic.report.mixin"
    _description = "Clinic Report Built from SQL Parts"

    @property
    def _table_query(self):
        return self._query()

    def _query(self):
        where = self._where()
        return SQL(
            "SELECT %s FROM %s%s",
            self._select(),
            self._from(),
            SQL(" WHERE %s", where) if where else SQL(),
        )

    def _select(self):
        raise NotImplementedError

    def _from(self):
        raise NotImplementedError

    def _where(self):
        return SQL()
