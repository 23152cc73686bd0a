"""Who pays for a visit, as the visit asks it: the patient's package
(`clinic.entitlement`, clinic_entitlement_coverage.py) and authorizations
(`clinic.authorization`, clinic_authorization_coverage.py) decide whether they cover it;
the visit picks them when booked, keeps the chosen ones, says in red what does not apply
(`clinic_warning`) and explains every party considered (`clinic_coverage_trace`)."""

import logging
from datetime import datetime

from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount

from .calendar_event import AUTHORIZATION_FIELDS, defer_sync, is_sync_deferred
from .clinic_guard import existence_probe, is_id
from .clinic_sql import flushing

_logger = logging.getLogger(__name__)

# what decides who pays for a visit
VISIT_COVERAGE_FIELDS = (
    "clinic_patient_id",
    "clinic_service_id",
    "clinic_entitlement_id",
    "clinic_location_id",
    "user_id",
    "start",
    "clinic_attendance",
    "clinic_authorization_id",
    "clinic_units",
)
# placeholders of the booking look-up statement built once per user (`_clinic_lookup_statement`):
# ids no record has, replaced by the visit's own when it runs
LOOKUP_SLOTS = {
    "patient": 2_000_000_011,
    "service": 2_000_000_013,
    "practitioner": 2_000_000_017,
    "location": 2_000_000_019,
}
LOOKUP_SLOT_START = datetime(1901, 2, 3, 12, 0)
# what the coverage of a visit being booked looks at
PROBE_FIELDS = (
    "clinic_patient_id",
    "clinic_service_id",
    "clinic_location_id",
    "clinic_units",
    "user_id",
    "start",
    "stop",
    "allday",
    "start_date",
    "duration",
)
# what a booking reads of its service's template: the checks (a service, not a package),
# the visit's length and its units
SERVICE_TEMPLATE_FIELDS = (
    "type",
    "clinic_package_ok",
    "clinic_visit_minutes",
    "clinic_units",
    "clinic_unit_minutes",
)


class CalendarEvent(models.Model):
    _inherit = "calendar.event"  # pylint: disable=consider-merging-classes-inherited

    @api.depends(
        "clinic_entitlement_id",
        "clinic_service_id",
        "clinic_attendance",
        "clinic_usage_id.state",
        "clinic_entitlement_id.state",
        "clinic_entitlement_id.line_ids.remaining",
    )
    def _compute_clinic_package_info(self):
        for event in self:
            entitlement = event.clinic_entitlement_id
            event.clinic_package_info = (
                entitlement._clinic_left_label(event) if entitlement else False
            )

    @api.depends(
        "clinic_authorization_id",
        "clinic_units",
        "clinic_attendance",
        "clinic_authorization_id.used",
        "clinic_authorization_id.scheduled",
    )
    def _compute_clinic_authorization_info(self):
        for event in self:
            authorization = event.clinic_authorization_id
            event.clinic_authorization_info = (
                authorization._clinic_left_label(event) if authorization else False
            )

    @api.depends(*VISIT_COVERAGE_FIELDS, "clinic_coverage_note")
    def _compute_clinic_warning(self):
        for event in self:
            event.clinic_warning = "\n".join(event._clinic_warnings()) or False

    @api.depends(*VISIT_COVERAGE_FIELDS, "clinic_usage_id.state")
    def _compute_clinic_coverage_trace(self):
        for event in self:
            event.clinic_coverage_trace = "\n".join(event._clinic_coverage_lines()) or False

    def _clinic_coverage_lines(self):
        """Who pays for this visit, one sentence per party considered: the patient's
        authorizations (counting the visit for their payer), the patient's packages (paying
        the patient's share), then what the patient is billed. Each package and
        authorization says itself whether it covers the visit and what it has left."""
        self.ensure_one()
        if not (self.clinic_patient_id and self.clinic_service_id):
            return []
        upcoming = self.clinic_attendance == "upcoming"
        authorizations = self.env["clinic.authorization"]._clinic_on_file(self)
        authorizations = self.clinic_authorization_id | (
            authorizations if upcoming else authorizations.browse()
        )
        amounts = authorizations._clinic_amounts_for_visit(self) if authorizations else {}
        lines = [
            authorization._clinic_trace_line(
                self, authorization == self.clinic_authorization_id, amounts
            )
            for authorization in authorizations
        ]
        packages = self.env["clinic.entitlement"]._clinic_of_patient(self)
        packages = self.clinic_entitlement_id | (packages if upcoming else packages.browse())
        lines += [
            package._clinic_trace_line(self, package == self.clinic_entitlement_id)
            for package in packages
        ]
        if not packages and not authorizations:
            lines.append(self.env._("No package or authorization of the patient applies."))
        price = self._clinic_visit_price()
        currency = self._clinic_company().currency_id
        if currency.is_zero(price):
            lines.append(self.env._("The patient pays nothing at this visit."))
        else:
            lines.append(
                self.env._(
                    "The patient is billed %(amount)s at arrival%(how)s.",
                    amount=format_amount(self.env, price, currency),
                    how=(
                        self.env._(", paid from the package's prepayment")
                        if self.clinic_entitlement_id.billing_mode == "prepaid_credit"
                        else ""
                    ),
                )
            )
        return lines

    def _clinic_warnings(self):
        """Sentences shown in red on the visit. Extended by authorizations."""
        self.ensure_one()
        warnings = []
        if self.clinic_coverage_note:
            warnings.append(self.clinic_coverage_note)
        if self.clinic_attendance != "upcoming" or not self.clinic_patient_id:
            return warnings
        if self.clinic_entitlement_id:
            try:
                self.clinic_entitlement_id._clinic_check_covers(self)
            except UserError as error:
                warnings.append(error.args[0])
        elif self.clinic_service_id and not self.clinic_coverage_note:
            unusable = self.env["clinic.entitlement"].search(
                [
                    ("partner_id", "=", self.clinic_patient_id.id),
                    ("state", "in", ("draft", "active", "paused", "exhausted", "expired")),
                    ("line_ids.service_product_id", "=", self.clinic_service_id.id),
                ],
                limit=1,
                order="date_expiry desc nulls first, id desc",
            )
            if unusable and not self._clinic_find_entitlement():
                try:
                    unusable._clinic_check_covers(self, remaining=True)
                except UserError as error:
                    warnings.append(error.args[0])
        warnings += self.env["clinic.authorization"]._clinic_visit_warnings(self)
        return warnings

    def _clinic_find_entitlement(self):
        self.ensure_one()
        return self.env["clinic.entitlement"]._clinic_find_for_visit(self)

    def _clinic_find_authorization(self):
        self.ensure_one()
        return self.env["clinic.authorization"]._clinic_find_for_visit(self)

    @api.model
    def _clinic_prepare_authorization(self, vals_list, found=None):
        """Booking a patient and a service with no authorization given picks one. `found`:
        `_clinic_lookup_booking`'s answer."""
        found = found or {}
        for index, vals in enumerate(vals_list):
            if (
                "clinic_authorization_id" not in vals
                and vals.get("clinic_patient_id")
                and vals.get("clinic_service_id")
            ):
                probe = self.new(
                    {
                        key: vals[key]
                        for key in (
                            "clinic_patient_id",
                            "clinic_service_id",
                            "clinic_units",
                            "start",
                            "stop",
                            "allday",
                            "start_date",
                            "duration",
                        )
                        if key in vals
                    }
                )
                rows = found.get(index, {}).get("authorizations")
                vals["clinic_authorization_id"] = (
                    self.env["clinic.authorization"]._clinic_find_for_visit(probe, rows=rows).id
                )

    def _clinic_authorization_written(self, vals):
        """After a write: a new patient or service picks the authorization again (upcoming
        visits), and what changed is checked under the block setting."""
        if is_sync_deferred(self.env):
            return
        if not AUTHORIZATION_FIELDS.intersection(vals):
            return
        if "clinic_authorization_id" not in vals and (
            "clinic_patient_id" in vals or "clinic_service_id" in vals
        ):
            for event in self.filtered(lambda e: e.clinic_attendance == "upcoming"):
                defer_sync(event).clinic_authorization_id = event._clinic_find_authorization()
        self.env["clinic.authorization"]._clinic_check_block(self)

    @api.onchange("clinic_patient_id", "clinic_service_id", "start", "start_date", "clinic_units")
    def _onchange_clinic_authorization(self):
        """Keep the visit's authorization while it still covers the visit, else pick one."""
        if self.clinic_attendance != "upcoming":
            return
        current = self.clinic_authorization_id
        if current and not current._clinic_problem(self, current._clinic_amounts_for_visit(self)):
            return
        self.clinic_authorization_id = self._clinic_find_authorization()

    @api.onchange("clinic_patient_id", "clinic_service_id")
    def _onchange_clinic_patient_service(self):
        if not self.clinic_patient_id or not self.clinic_service_id:
            self.clinic_entitlement_id = False
            return
        if self.clinic_attendance == "upcoming":
            self.clinic_entitlement_id = self._clinic_find_entitlement()

    @api.model
    def _clinic_pick_for_vals(self, vals, rows=None):
        """(package, its line of the service) that pays for a visit booked with `vals`.
        `rows`: `_clinic_lookup_booking`'s answer for it."""
        probe = self._clinic_probe(vals)
        if "user_id" not in vals:
            probe.user_id = self.env.user
        return self.env["clinic.entitlement"]._clinic_pick(probe, rows=rows)

    @api.model
    def _clinic_probe(self, vals):
        """A new visit of `vals` (what coverage looks at), to ask packages and
        authorizations about it before it is saved."""
        return self.new({key: vals[key] for key in PROBE_FIELDS if key in vals})

    @api.model
    def _clinic_lookup_booking(self, vals_list):
        """Before a booking is checked: what it reads of its service (product and template,
        into the cache, where the checks, the visit's length and units find them), the
        package that pays for it (`clinic.entitlement._clinic_pick_sql`) and the
        authorization candidates (`clinic.authorization._clinic_candidates_sql`), in one
        query per visit. Each model decodes its own part. Only for a visit whose patient,
        service, practitioner and time are given as such: anything else is checked and
        looked up the usual way. {index in vals_list: {"packages": rows, "authorizations":
        rows}} (a part absent: the usual way)."""
        found = {}
        for index, vals in enumerate(vals_list):
            if not (
                all(is_id(vals.get(name)) for name in ("clinic_patient_id", "clinic_service_id"))
                and (is_id(vals.get("user_id")) or "user_id" not in vals)
                and (is_id(vals.get("clinic_location_id")) or not vals.get("clinic_location_id"))
                and isinstance(vals.get("start"), (datetime, str))
                and not vals.get("allday")
                and not vals.get("recurrency")
            ):
                continue
            try:
                # values not checked yet: a bad one leaves the visit to the usual checks
                start = fields.Datetime.to_datetime(vals["start"])
                day = start and self._clinic_start_date(start)
            except (TypeError, ValueError):
                continue
            if not day:
                continue
            # the patient's existence (`clinic_guard.check_values`), known without a read
            parts = ["patient"]
            if self.env["product.product"].has_access("read"):
                parts.append("service")
            if "clinic_entitlement_id" not in vals and "user_id" in vals:
                parts.append("packages")
            if "clinic_authorization_id" not in vals:
                parts.append("authorizations")
            located = bool(vals.get("clinic_location_id"))
            statement, slots = self._clinic_lookup_statement(tuple(parts), located)
            if statement is None:
                continue
            values = {
                slots["patient"]: vals["clinic_patient_id"],
                slots["service"]: vals["clinic_service_id"],
                slots["practitioner"]: vals.get("user_id"),
                slots["location"]: vals.get("clinic_location_id") or None,
                slots["day"]: day,
                slots["day_text"]: fields.Date.to_string(day),
            }
            self.env.flush_query(statement)
            self.env.cr.execute(statement.code, [fill_slots(p, values) for p in statement.params])
            row = self.env.cr.fetchone()
            answer = dict(zip(parts, (rows or [] for rows in row), strict=True))
            self._clinic_cache_patient(vals["clinic_patient_id"], answer.pop("patient"))
            self._clinic_cache_service(answer.pop("service", []))
            found[index] = answer
        return found

    @api.model
    @tools.ormcache(
        "self.env.uid",
        "self.env.su",
        "tuple(self.env.companies.ids)",
        "self.env.company.id",
        "self.env.context.get('active_test', True)",
        "parts",
        "located",
    )
    def _clinic_lookup_statement(self, parts, located):
        """The look-up statement of a booking (`parts`: "patient", then which of "service",
        "packages" and "authorizations" it reads; `located`: whether the visit has a
        location), built once per user, companies, archived records searched or not, and
        shape, as Odoo caches the record rules it applies (this cache is cleared with
        theirs: rules, groups and companies changed). It is built for a visit of placeholder
        values (`LOOKUP_SLOTS`), which `fill_slots` replaces with the visit's own. Returns
        (statement, {slot name: placeholder value}), or (None, None) when the statement does
        not take them all as parameters."""
        slots = dict(LOOKUP_SLOTS)
        probe = self.new(
            {
                "clinic_patient_id": slots["patient"],
                "clinic_service_id": slots["service"],
                "user_id": slots["practitioner"],
                "clinic_location_id": slots["location"] if located else False,
                "start": LOOKUP_SLOT_START,
                "stop": LOOKUP_SLOT_START,
            }
        )
        day = probe._clinic_visit_date()
        slots.update(day=day, day_text=fields.Date.to_string(day))
        if not located:
            slots["location"] = None
        sql = {"patient": self._clinic_patient_sql(slots["patient"])}
        if "service" in parts:
            sql["service"] = self._clinic_service_sql(slots["service"])
        if "packages" in parts:
            sql["packages"] = self.env["clinic.entitlement"]._clinic_pick_sql(probe)
        if "authorizations" in parts:
            Authorization = self.env["clinic.authorization"]
            sql["authorizations"] = Authorization._clinic_candidates_sql(
                Authorization._clinic_candidates_domain(probe)
            )
        statement = SQL(
            "SELECT %s",
            SQL(", ").join(
                sql[name]
                if name == "patient"
                else SQL(
                    "(SELECT json_agg(q%s) FROM (%s) AS q)",
                    SQL(" ORDER BY q.seq" if name == "authorizations" else ""),
                    sql[name],
                )
                for name in parts
            ),
        )
        # every placeholder the statement holds is one `fill_slots` replaces
        used = {value for value in slots.values() if value is not None}
        found = set()
        for param in statement.params:
            found.update(used.intersection(param if isinstance(param, tuple) else (param,)))
        needed = {slots["patient"], slots["service"]}
        if {"packages", "authorizations"}.intersection(parts):
            needed.add(slots["day"] if slots["day"] in found else slots["day_text"])
        if "%%" in statement.code or not needed <= found:
            # a builder that no longer takes its values as parameters: the usual way
            _logger.warning("The booking look-up statement %s cannot be reused.", parts)
            return None, None
        return statement, slots

    @api.model
    def _clinic_patient_sql(self, patient_id):
        """The expression of the patient's existence in the look-up: [the value of the field
        `clinic_guard.existence_probe` reads], or NULL when there is no such partner. As
        `check_values` asks it (whether the record exists, not whether the user may read
        it); the patient's other fields are read with the attendees, as Odoo reads them."""
        Partner = self.env["res.partner"]
        probe = existence_probe(Partner).name
        return flushing(
            SQL(
                "(SELECT json_build_array(p.%s) FROM res_partner AS p WHERE p.id = %s)",
                SQL.identifier(probe),
                patient_id,
            ),
            Partner,
            (probe,),
        )

    @api.model
    def _clinic_cache_patient(self, patient_id, found):
        """Put what `_clinic_patient_sql` read of the patient in the cache, so that checking
        it exists reads nothing (nothing when there is no such partner)."""
        if not found:
            return
        patient = self.env["res.partner"].browse(patient_id)
        probe = existence_probe(patient)
        self.env.cache.insert_missing(
            patient, probe, [probe.convert_to_cache(found[0], patient, validate=False)]
        )

    @api.model
    def _clinic_service_sql(self, service_id):
        """The query of what a booking reads of its service: the product (with the field
        that tells it exists, `clinic_guard.existence_probe`) and its template's
        SERVICE_TEMPLATE_FIELDS. Record rules apply, archived services included (the
        caller has the read access right, `has_access`)."""
        Product = self.env["product.product"]
        # the product's own record rules, as reading it would apply them (no domain to parse)
        query = Product.browse(service_id)._as_query(ordered=False)
        Product._apply_ir_rules(query, "read")
        table = query.table
        probe = existence_probe(Product).name
        template = SQL(", ").join(
            SQL("%s, t.%s", name, SQL.identifier(name)) for name in SERVICE_TEMPLATE_FIELDS
        )
        select = query.select(
            SQL.identifier(table, "id"),
            SQL.identifier(table, "product_tmpl_id"),
            SQL("%s AS probe", SQL.identifier(table, probe)),
            SQL(
                "(SELECT json_build_object(%s) FROM product_template AS t WHERE t.id = %s) "
                "AS template",
                template,
                SQL.identifier(table, "product_tmpl_id"),
            ),
        )
        select = flushing(select, Product, ("product_tmpl_id", probe))
        return flushing(select, self.env["product.template"], SERVICE_TEMPLATE_FIELDS)

    @api.model
    def _clinic_cache_service(self, rows):
        """Put what `_clinic_service_sql` read in the cache (nothing when the service does
        not exist or the user may not read it: the usual checks then say so)."""
        Product = self.env["product.product"]
        Template = self.env["product.template"]
        cache = self.env.cache
        for row in rows:
            product = Product.browse(row["id"])
            template = Template.browse(row["product_tmpl_id"])
            probe = existence_probe(Product)
            cache.insert_missing(product, probe, [probe.convert_to_cache(row["probe"], product)])
            cache.insert_missing(product, Product._fields["product_tmpl_id"], [template.id])
            for name, value in row["template"].items():
                field = Template._fields[name]
                value = field.convert_to_cache(value, template)
                cache.insert_missing(template, field, [value])
                # the product's own (inherited) field: read as such, not recomputed
                inherited = Product._fields.get(name)
                if inherited is not None and inherited.inherited:
                    cache.insert_missing(product, inherited, [value])


def fill_slots(param, values):
    """A parameter of the cached look-up statement, with the visit's value in place of its
    placeholder (`_clinic_lookup_statement`), inside a tuple (`IN`) too."""
    if isinstance(param, tuple):
        return tuple(fill_slots(item, values) for item in param)
    try:
        return values.get(param, param)
    except TypeError:  # not hashable: not a placeholder
        return param
