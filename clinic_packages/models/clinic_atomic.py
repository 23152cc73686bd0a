"""Counters taken by one atomic UPDATE instead of Odoo's recount.

A booking takes its place with one `UPDATE ... WHERE <room left> RETURNING ...`: the row
lock orders two bookings of the last place, and the table's CHECK constraint stands behind
it. The INSERT that follows (the package use, the visit) makes Odoo queue the recount of
every stored field that depends on the inserted row. `settle` takes out of that queue, for
the rows the UPDATE wrote and only for them, the fields the UPDATE left exact:

- the columns it set, with the other fields of their compute methods (the UPDATE states the
  whole result of a compute: what it does not set, a booking leaves unchanged; the tests
  recount after a booking and compare);
- the fields that depend on those only through the members it left unchanged.

Everything else the INSERT queued is still recomputed by Odoo. The set is derived from the
registry's field dependencies, not kept by hand: a field added later that depends on the
inserted records, or on a counter the UPDATE changes, is recomputed as usual.
"""

from odoo import api, models, tools


class ClinicAtomicCounters(models.AbstractModel):
    _name = "clinic.atomic.counters"
    _description = "Clinic: counters taken by one atomic UPDATE"

    @api.model
    @tools.ormcache("inserted", "changed")
    def _clinic_settled_fields(self, inserted, changed):
        """{model name: frozenset of field names} that an atomic UPDATE leaves exact after
        an INSERT into `inserted` (a model name). `changed`: ((model name, (column, ...)),
        ...), the columns the UPDATE sets on each model."""
        pool = self.pool
        changed_fields = {pool[model]._fields[name] for model, names in changed for name in names}
        # the compute groups the UPDATE answers for
        settled = {
            member for field in changed_fields for member in pool.field_computed.get(field, [field])
        }
        sources = {field for field in pool[inserted]._fields.values() if field.store}
        queued = {dependent for field in sources for dependent in pool.get_dependent_fields(field)}
        # what stays queued: a field depending on the inserted record, on a changed column or
        # on a field that stays queued (other than through a settled field left unchanged)
        stays = set()
        starts = sources | changed_fields
        grown = True
        while grown:
            grown = False
            for field in queued - settled - stays:
                if any(
                    path[-1] in starts or path[-1] in stays for path in field.resolve_depends(pool)
                ):
                    stays.add(field)
                    grown = True
        models_written = {model for model, _names in changed}
        result = {}
        for field in queued - stays:
            if field.store and field.model_name in models_written:
                result.setdefault(field.model_name, set()).add(field.name)
        return {model: frozenset(names) for model, names in result.items()}

    @api.model
    def _clinic_settled(self, inserted, changed):
        """`_clinic_settled_fields` of an INSERT into `inserted` and an UPDATE setting
        `changed` ({model name: columns})."""
        key = tuple(sorted((model, tuple(sorted(names))) for model, names in changed.items()))
        return self._clinic_settled_fields(inserted, key)

    @api.model
    def _clinic_settle(self, settled, written):
        """After the INSERT: take out of Odoo's recompute queue the fields `settled`
        ({model name: field names}, from `_clinic_settled`) of the rows the atomic UPDATE
        wrote (`written`: {model name: records})."""
        for model, names in settled.items():
            records = written.get(model)
            if not records:
                continue
            for name in names:
                self.env.remove_to_compute(records._fields[name], records)
