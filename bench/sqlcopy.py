"""Generated benchmark data as SQL copies of template rows.

The data generators of `bench_expiry.py` and `bench_reports.py` make a few template documents
through the real flows and copy their rows in bulk with `INSERT ... SELECT`. `bench/run.sh`
puts this folder on the Python path so that they import this module.
"""

from odoo import fields


def log(message):
    print(f"[bench] {message}", flush=True)


class TemplateCopier:
    """Bulk copies of template rows, and the SQL helpers the generators share."""

    # table: its amount columns, multiplied by `s.factor` by clone(..., scale=True)
    scaled = {}

    def __init__(self, env):
        self.env = env
        self.cr = env.cr
        self.today = fields.Date.context_today(env["res.users"])
        self.counts = {}

    def sql(self, query, params=None):
        # without parameters, a '%' in the query is the modulo operator
        self.cr.execute(query, params or None)
        return self.cr.rowcount

    def value(self, query, params=None):
        self.cr.execute(query, params or None)
        return self.cr.fetchone()[0]

    def columns(self, table):
        self.cr.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
            [table],
        )
        return [name for (name,) in self.cr.fetchall()]

    def clone(self, table, source, overrides, scale=False):
        """Copy, for each row `s` of the query `source`, the row `s.tpl` of `table` (the
        template) with the columns of `overrides` (SQL expressions over `s` and the template
        row `t`) replaced. With `scale`, the amount columns are multiplied by `s.factor`."""
        columns = self.columns(table)
        unknown = set(overrides) - set(columns)
        assert not unknown, f"{table} has no column {unknown}"
        exprs = []
        for column in columns:
            if column in overrides:
                exprs.append(f"{overrides[column]}")
            elif scale and column in self.scaled.get(table, ()):
                exprs.append(f'ROUND(t."{column}" * s.factor, 2)')
            elif column in ("create_date", "write_date"):
                exprs.append("now() AT TIME ZONE 'UTC'")
            else:
                exprs.append(f't."{column}"')
        names = ", ".join(f'"{column}"' for column in columns)
        count = self.sql(
            f'INSERT INTO "{table}" ({names}) SELECT {", ".join(exprs)} '
            f'FROM ({source}) s JOIN "{table}" t ON t.id = s.tpl'
        )
        self.counts[table] = self.counts.get(table, 0) + count
        return count

    def temp(self, name, query, params=None):
        self.sql(f"DROP TABLE IF EXISTS {name}")
        count = self.sql(f"CREATE TEMP TABLE {name} AS {query}", params)
        self.sql(f"ANALYZE {name}")
        return count
