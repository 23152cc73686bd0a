"""The trust boundary of the clinic's records.

Counters, states, prices, owners and journal entries change only through business actions
(book, arrive, cancel, pause, extend, refund, expire, ...). Each action checks the caller's
right in Python, then runs *trusted*: `records._clinic_trusted()`. A write or create that is
not trusted (any call from a client: a form, XML-RPC, JSON-RPC) may set only the fields its
model lists for the caller's group, and every value is checked for what it is (whole numbers
within range, real dates, existing records) before it reaches the database.

Trusted is a context key whose value is a private Python object: no client can send it
(JSON and XML-RPC carry plain data only), and the superuser (crons, install, `sudo()` taken
after a check) is trusted as well.
"""

import math

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

GROUP_USER = "clinic_packages.group_clinic_user"
GROUP_MANAGER = "clinic_packages.group_clinic_manager"
# PostgreSQL's integer column
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

_TRUSTED = object()
TRUSTED_KEY = "clinic_trusted"


def is_trusted(env):
    """Whether `env` runs a business action that checked its caller (or is the superuser)."""
    return env.su or env.context.get(TRUSTED_KEY) is _TRUSTED


def trusted(records):
    """`records` in a business action that has checked its caller: protected fields may be
    written. Take it only after that check."""
    return records.with_context(**{TRUSTED_KEY: _TRUSTED})


def internal_context(**values):
    """Context values only this addon's own code can set: `internal_value` reads them back,
    and ignores what a client sends under the same keys."""
    return {key: (_TRUSTED, value) for key, value in values.items()}


def internal_value(env, key, default=None):
    value = env.context.get(key)
    if isinstance(value, tuple) and len(value) == 2 and value[0] is _TRUSTED:
        return value[1]
    return default


def check_values(model, vals, names=None):
    """Refuse values that do not fit their field with a ValidationError saying which field
    and what to enter, instead of letting the database refuse them with a traceback (or the
    ORM silently truncate 2.5 uses to 2). `names`: the fields to check (default: all)."""
    env = model.env
    if is_trusted(env):
        return  # the addon's own values
    missing = {}
    for name, value in vals.items():
        if names is not None and name not in names:
            continue
        field = model._fields.get(name)
        if field is None or value is False or value is None:
            continue
        problem = None
        if field.type == "integer":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problem = env._("a whole number is expected, not %r", value)
            elif isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
                problem = env._("a whole number is expected, not %s", value)
            elif not INT_MIN <= value <= INT_MAX:
                problem = env._(
                    "%(value)s is out of range (at most %(max)s)", value=value, max=INT_MAX
                )
        elif field.type in ("float", "monetary"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problem = env._("a number is expected, not %r", value)
            elif not math.isfinite(value) or abs(value) >= 1e15:
                problem = env._("%s is not an amount", value)
        elif field.type == "date":
            try:
                fields.Date.to_date(value)
            except (TypeError, ValueError):
                problem = env._("%r is not a date (expected YYYY-MM-DD)", value)
        elif field.type == "selection" and not callable(field.selection):
            choices = dict(field._description_selection(env))
            if value not in choices:
                problem = env._(
                    "%(value)r is not one of %(choices)s",
                    value=value,
                    choices=", ".join(repr(key) for key in choices),
                )
        elif field.type == "many2one":
            if isinstance(value, bool) or not isinstance(value, int):
                problem = env._("a record id is expected, not %r", value)
            else:
                missing.setdefault(field.comodel_name, {})[value] = field
        if problem:
            raise ValidationError(
                env._("%(field)s: %(problem)s.", field=_label(model, field), problem=problem)
            )
    for comodel, ids in missing.items():
        found = _existing_ids(env[comodel].browse(list(ids)).sudo())
        for record_id, field in ids.items():
            if record_id not in found:
                raise ValidationError(
                    env._(
                        "%(field)s: record %(id)s does not exist (it may have been deleted). "
                        "Choose an existing one.",
                        field=_label(model, field),
                        id=record_id,
                    )
                )


def _label(model, field):
    """How `check_values` names `field` of `model` to the user."""
    return f"{field._description_string(model.env)} ({model._description})"


def existence_probe(model):
    """The field `_existing_ids` reads to tell that a record of `model` exists: the first
    stored column prefetched with the others (None: a model without one)."""
    return next(
        (
            field
            for field in model._fields.values()
            if field.store and field.column_type and field.prefetch is True and field.name != "id"
        ),
        None,
    )


def _existing_ids(records):
    """The ids of `records` that exist. They are read as the next use of them would read
    them (the fields prefetched together), so that checking costs no query of its own;
    those this transaction has read already (their probe field in cache) are not read
    again."""
    probe = existence_probe(records)
    if probe is None:
        return set(records.exists().ids)
    cache = records.env.cache
    unread = records.browse(record.id for record in records if not cache.contains(record, probe))
    if unread:
        unread._fetch_field(probe)
    return {record.id for record in records if cache.contains(record, probe)}


def changed_fields(record, vals, names):
    """The fields among `names` that `vals` would really change on `record`, in order:
    writing the value a record already has (Odoo re-synchronising a document, a form
    sending an unchanged field) is no change."""
    changed = []
    for name in names:
        if name not in vals:
            continue
        field = record._fields[name]
        if record[name] != field.convert_to_record(
            field.convert_to_cache(vals[name], record), record
        ):
            changed.append(name)
    return changed


def selection_label(record, name):
    """The label of `record`'s selection field `name`, in the user's language."""
    labels = dict(record._fields[name]._description_selection(record.env))
    return labels.get(record[name], record[name])


def check_retag(records, vals, names):
    """Refuse a client's change of the fields `names` that tie `records` to a package (its
    journal entries, its prepayment): the package's money is read from them. Writing the
    value a record already has is no change (`changed_fields`)."""
    if is_trusted(records.env):
        return
    for record in records:
        changed = changed_fields(record, vals, names)
        if changed:
            raise AccessError(
                records.env._(
                    "%(field)s of %(record)s is set by the clinic's actions (sell, arrive, "
                    "refund, expire), not by hand.",
                    field=records._fields[changed[0]]._description_string(records.env),
                    record=record.display_name,
                )
            )


def is_id(value):
    """Whether `value` is a record id as a client sends it (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def field_labels(model, names):
    """The labels of the fields `names` of `model`, in the user's language, for a message."""
    return ", ".join(model._fields[name]._description_string(model.env) for name in names)


def check_new_tags(model, vals, names):
    """Refuse a client's new record (`vals`) of `model` that would be tied to a package by
    the fields `names`: only the clinic's actions make a package's entries."""
    if is_trusted(model.env):
        return
    given = [name for name in names if vals.get(name)]
    if given:
        raise AccessError(
            model.env._(
                "%(fields)s of a new %(model)s is set by the clinic's actions (sell, arrive, "
                "refund, expire), not by hand.",
                fields=field_labels(model, given),
                model=model._description,
            )
        )


class ClinicGuardMixin(models.AbstractModel):
    """Fields a client may set directly, per group; every other field changes only through
    a business action (trusted). Values are checked before they reach the database."""

    _name = "clinic.guard.mixin"
    _description = "Clinic: changed through business actions only"

    # fields a Clinic User / a Clinic Manager may write directly (besides chatter fields)
    _clinic_user_fields = frozenset()
    _clinic_manager_fields = frozenset()
    # whether a Clinic User may create records directly (else only business actions do)
    _clinic_user_create = False
    # fields a Clinic User may set when creating, besides the ones they may write
    _clinic_create_fields = frozenset()

    def _clinic_trusted(self):
        """These records, in a business action that has checked its caller."""
        return trusted(self)

    @api.model
    def _clinic_check_group(self, group, action):
        if is_trusted(self.env) or self.env.user.has_group(group):
            return
        raise AccessError(
            self.env._(
                "%(user)s may not %(action)s: it takes the Clinic %(role)s role. Ask a clinic "
                "manager.",
                user=self.env.user.name,
                action=action,
                role=self.env._("Manager") if group == GROUP_MANAGER else self.env._("User"),
            )
        )

    @api.model
    def _clinic_writable_fields(self):
        """What the caller may write directly."""
        user = self.env.user
        allowed = set()
        if user.has_group(GROUP_USER):
            allowed |= self._clinic_user_fields
        if user.has_group(GROUP_MANAGER):
            allowed |= self._clinic_manager_fields
        # chatter and activities belong to mail: its own rules apply
        for mixin in ("mail.thread", "mail.activity.mixin"):
            if mixin in self.env:
                allowed |= set(self.env[mixin]._fields) - set(models.MAGIC_COLUMNS)
        return allowed

    @api.model
    def _clinic_check_direct(self, vals, creating=False):
        """Refuse what a client may not set directly on this model."""
        if is_trusted(self.env):
            return
        if creating and not (self._clinic_user_create and self.env.user.has_group(GROUP_USER)):
            raise AccessError(
                self.env._(
                    "%(model)s records are made by the clinic's actions (selling a package, "
                    "booking a visit, ...), not created directly.",
                    model=self._description,
                )
            )
        allowed = self._clinic_writable_fields()
        if creating:
            allowed |= self._clinic_create_fields
        refused = sorted(set(vals) - allowed)
        if refused:
            raise AccessError(
                self.env._(
                    "%(model)s: %(fields)s change only through the clinic's actions (book, "
                    "arrive, cancel, pause, extend, refund, ...), not directly. Use the "
                    "buttons of the record, or ask a clinic manager.",
                    model=self._description,
                    fields=", ".join(
                        self._fields[name]._description_string(self.env)
                        if name in self._fields
                        else name
                        for name in refused
                    ),
                )
            )

    @api.model
    def _clinic_strip_defaults(self):
        """A client's context defaults (`default_state`, ...) count as values it sends."""
        if is_trusted(self.env):
            return self
        allowed = self._clinic_writable_fields() | self._clinic_create_fields
        context = {
            key: value
            for key, value in self.env.context.items()
            if not (
                key.startswith("default_") and key[8:] in self._fields and key[8:] not in allowed
            )
        }
        if len(context) == len(self.env.context):
            return self
        return self.with_env(self.env(context=context))

    @api.model_create_multi
    def create(self, vals_list):
        self = self._clinic_strip_defaults()
        for vals in vals_list:
            self._clinic_check_direct(vals, creating=True)
            check_values(self, vals)
        return super().create(vals_list)

    def write(self, vals):
        self._clinic_check_direct(vals)
        check_values(self, vals)
        return super().write(vals)


class ClinicInputMixin(models.AbstractModel):
    """The clinic's wizards check what a client sends them as its records do (`check_values`:
    whole numbers, amounts, dates, choices and records that exist), so that a bad value gets
    a message instead of a database error or a silent truncation."""

    _name = "clinic.input.mixin"
    _description = "Clinic: wizard values checked before use"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_values(self, vals)
        return super().create(vals_list)

    def write(self, vals):
        check_values(self, vals)
        return super().write(vals)
