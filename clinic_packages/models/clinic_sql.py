"""SQL helpers of the clinic's own statements."""

from odoo.tools import SQL


def flushing(sql, model, names):
    """`sql`, carrying the fields `names` of `model` it reads as Odoo's own SQL carries them
    (`SQL(to_flush=...)`): whoever runs it (`env.execute_query`, `env.flush_query`) sends
    what is pending on them to the database first, also when the statement was built once
    and is run again (`calendar.event._clinic_lookup_statement`)."""
    for name in names:
        sql = SQL("%s", sql, to_flush=model._fields[name])
    return sql
