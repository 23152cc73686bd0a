"""Whether a package can pay for a visit, and which one.

A package answers for itself. `_clinic_pick_sql` is the one statement of which packages can
pay for a visit and in which order (the patient's own or shared with them, active, not
expired on the visit date, a use left, valid with the practitioner and the location; own
before shared, the soonest-expiring first): booking (`calendar.event._clinic_lookup_booking`),
`_clinic_find_for_visit` and the visit's package field all decode its answer.
`_clinic_check_covers` says which limit one package breaks and what to do. `calendar.event`
asks them and keeps the answer; the portal, imports and RPC go through the same methods.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount, format_date

from .clinic_sql import flushing

# the columns `_clinic_pick_sql` reads
PICK_PACKAGE_FIELDS = (
    "partner_id",
    "shared_partner_ids",
    "state",
    "date_expiry",
    "practitioner_ids",
    "location_ids",
    "company_id",
    "cap_per_week",
    "cap_per_month",
)
PICK_LINE_FIELDS = ("entitlement_id", "service_product_id", "unlimited", "remaining", "company_id")


class ClinicEntitlement(models.Model):
    _inherit = "clinic.entitlement"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _clinic_pick_sql(self, visit, limit=1, skip=()):
        """The one statement of which packages can pay for `visit`, and in which order: the
        patient's own or shared with them, active, not expired on the visit date, a use left
        for the service (or unlimited), valid with the practitioner and the location; the
        patient's own before shared ones, then the soonest-expiring first. It brings what
        booking reads of them (company, caps, their line of the service). Record rules of the
        packages and of their lines apply. `skip`: ids passed over (capped out for the
        visit). Booking (`calendar.event._clinic_lookup_booking`), `_clinic_pick` and the
        visit's package field (`_clinic_usable_for_visit`) all read this answer."""
        Line = self.env["clinic.entitlement.line"]
        patient = visit.clinic_patient_id.id
        service = visit.clinic_service_id.id
        query = self._search([], limit=limit)
        table = SQL.identifier(query.table)
        lines = Line._search([])
        line_table = SQL.identifier(lines.table)
        lines.add_where(
            SQL(
                "%(line)s.entitlement_id = %(package)s.id AND %(line)s.service_product_id = "
                "%(service)s AND (%(line)s.unlimited OR %(line)s.remaining > 0)",
                line=line_table,
                package=table,
                service=service,
            )
        )
        query.add_where(
            SQL(
                """
                (%(package)s.partner_id = %(patient)s OR EXISTS (
                    SELECT FROM clinic_entitlement_shared_partner_rel AS shared
                     WHERE shared.entitlement_id = %(package)s.id
                       AND shared.partner_id = %(patient)s))
                AND %(package)s.state = 'active'
                AND (%(package)s.date_expiry IS NULL OR %(package)s.date_expiry >= %(day)s::date)
                AND %(practitioner)s
                AND %(location)s
                AND EXISTS (%(lines)s)
                """,
                package=table,
                patient=patient,
                day=fields.Date.to_string(visit._clinic_visit_date()),
                practitioner=self._clinic_valid_with_sql(
                    table, "practitioner_ids", visit.user_id.id
                ),
                location=self._clinic_valid_with_sql(
                    table, "location_ids", visit.clinic_location_id.id
                ),
                lines=lines.select(),
            )
        )
        if skip:
            query.add_where(SQL("%s.id NOT IN %s", table, tuple(skip)))
        query.order = SQL(
            "%(package)s.partner_id != %(patient)s, %(package)s.date_expiry ASC NULLS LAST, "
            "%(package)s.id",
            package=table,
            patient=patient,
        )
        select = query.select(
            SQL("%s.id", table),
            SQL("%s.company_id", table),
            SQL("%s.cap_per_week", table),
            SQL("%s.cap_per_month", table),
            SQL(
                "(SELECT line.id FROM clinic_entitlement_line AS line "
                "WHERE line.entitlement_id = %s.id AND line.service_product_id = %s) AS line_id",
                table,
                service,
            ),
        )
        # what is pending on the columns read goes to the database first (as a search would)
        return flushing(flushing(select, self, PICK_PACKAGE_FIELDS), Line, PICK_LINE_FIELDS)

    @api.model
    def _clinic_valid_with_sql(self, table, name, value):
        """The package `table` is valid with `value` through its many2many `name` (its
        practitioners, its locations): the list is empty (valid with all), or holds it."""
        field = self._fields[name]
        relation = SQL.identifier(field.relation)
        own = SQL.identifier(field.column1)
        other = SQL.identifier(field.column2)
        if not value:
            # nothing to be valid with: only a package valid with all
            return SQL(
                "NOT EXISTS (SELECT FROM %(relation)s AS rel WHERE rel.%(own)s = %(package)s.id)",
                relation=relation,
                own=own,
                package=table,
            )
        # no row (valid with all) gives NULL; rows give whether one is `value`
        return SQL(
            "(SELECT bool_or(rel.%(other)s = %(value)s) FROM %(relation)s AS rel "
            "WHERE rel.%(own)s = %(package)s.id) IS NOT FALSE",
            relation=relation,
            own=own,
            other=other,
            package=table,
            value=value,
        )

    @api.model
    def _clinic_pick_rows(self, visit, limit=1, skip=()):
        """The rows of `_clinic_pick_sql` (as JSON objects, in order)."""
        sql = self._clinic_pick_sql(visit, limit=limit, skip=skip)
        return self.env.execute_query(SQL("SELECT json_agg(q) FROM (%s) AS q", sql))[0][0] or []

    @api.model
    def _clinic_find_for_visit(self, visit):
        """The patient's usable package for `visit` (`_clinic_pick`)."""
        return self._clinic_pick(visit)[0]

    @api.model
    def _clinic_pick(self, visit, rows=None):
        """(package, its line of the visit's service) that pays for `visit`: the first row
        of `_clinic_pick_sql` (one query, whatever the patient's history), with what booking
        reads of it put in the cache. `rows`: that answer when the visit read it already
        (with the rest of its booking, `calendar.event._clinic_lookup_booking`)."""
        visit.ensure_one()
        Line = self.env["clinic.entitlement.line"]
        if not (visit.clinic_patient_id and visit.clinic_service_id):
            return self.browse(), Line
        if rows is None:
            rows = self._clinic_pick_rows(visit)
        if not rows:
            return self.browse(), Line
        return self._clinic_pick_decode(visit, rows[0])

    @api.model
    def _clinic_pick_decode(self, visit, row):
        """(package, line) of one row of `_clinic_pick_sql`, what it read put in the cache."""
        Line = self.env["clinic.entitlement.line"]
        package, line = self.browse(row["id"]), Line.browse(row["line_id"])
        cache = self.env.cache
        for name in ("company_id", "cap_per_week", "cap_per_month"):
            cache.insert_missing(package, self._fields[name], [row[name]])
        cache.insert_missing(line, Line._fields["entitlement_id"], [package.id])
        cache.insert_missing(line, Line._fields["service_product_id"], [visit.clinic_service_id.id])
        return package, line

    @api.model
    def _clinic_usable_for_visit(self, visit, limit=20):
        """All the packages that can pay for `visit`, in the order booking picks them
        (`_clinic_pick_sql`): what the visit's package field offers."""
        visit.ensure_one()
        if not (visit.clinic_patient_id and visit.clinic_service_id):
            return self.browse()
        rows = self._clinic_pick_rows(visit, limit=limit)
        packages = self.browse()
        for row in rows:
            packages |= self._clinic_pick_decode(visit, row)[0]
        return packages

    @api.model
    def _clinic_of_patient(self, visit, limit=10):
        """The visit's patient's packages that contain its service (any state but
        cancelled), the soonest-expiring first: what the coverage trace looks at."""
        return self.search(
            [
                ("partner_id", "=", visit.clinic_patient_id.id),
                ("state", "!=", "cancelled"),
                ("line_ids.service_product_id", "=", visit.clinic_service_id.id),
            ],
            order="date_expiry asc nulls last, id asc",
            limit=limit,
        )

    def _clinic_trace_line(self, visit, chosen):
        """One sentence of the visit's coverage trace: whether this package pays the
        patient's share of `visit`, and why not."""
        self.ensure_one()
        if chosen:
            line = self._clinic_line_for(visit.clinic_service_id)
            return self.env._(
                "Package %(left)s: pays the visit (the patient pays %(pays)s).",
                left=self._clinic_left_label(visit) or self.name,
                pays=format_amount(self.env, line.patient_pays, self.currency_id),
            )
        try:
            self._clinic_check_covers(visit, remaining=True)
        except UserError as error:
            return self.env._(
                "Package %(name)s: not used. %(why)s", name=self.name, why=error.args[0]
            )
        return self.env._(
            "Package %(name)s: could pay this visit too; choose it on the visit to use it.",
            name=self.name,
        )

    def _clinic_left_label(self, visit):
        """'PKG/2026/00001: 5 of 8 left after this visit' (the visit's service), or False
        when the package does not contain it."""
        self.ensure_one()
        line = self._clinic_line_for(visit.clinic_service_id)
        if not line:
            return False
        usage = visit.clinic_usage_id
        counted = usage.state in ("reserved", "consumed") and usage.entitlement_line_id == line
        if self.state in ("refunded", "cancelled", "transferred"):
            return self.env._(
                "%(name)s: %(state)s, nothing left",
                name=self.name,
                state=self._clinic_state_label(),
            )
        if line.unlimited:
            return self.env._("%(name)s: unlimited uses", name=self.name)
        if not counted and visit.clinic_attendance != "upcoming":
            # released (cancelled, no-show with fee): the visit took nothing
            return self.env._(
                "%(name)s: not used by this visit, %(left)s of %(qty)s left",
                name=self.name,
                left=line.remaining,
                qty=line.quantity,
            )
        left = line.remaining - (0 if counted else 1)
        return self.env._(
            "%(name)s: %(left)s of %(qty)s left after this visit",
            name=self.name,
            left=max(left, 0),
            qty=line.quantity,
        )

    def _clinic_check_covers(self, visit, remaining=False):
        """Raise a UserError saying which limit this package breaks for `visit` and what
        to do. `remaining` also checks uses left (booking checks them under a lock)."""
        self.ensure_one()
        name = self.name
        if visit.clinic_patient_id not in self.partner_id | self.shared_partner_ids:
            raise UserError(
                self.env._(
                    "Package %(name)s belongs to %(owner)s and is not shared with "
                    "%(patient)s. Choose one of the patient's packages, or share this one "
                    "with them.",
                    name=name,
                    owner=self.partner_id.display_name,
                    patient=(
                        visit.clinic_patient_id.display_name or self.env._("this visit's patient")
                    ),
                )
            )
        state_errors = {
            "draft": self.env._(
                "Package %(name)s is not active yet: it starts when its invoice is paid. "
                "Register the payment, or book the visit without the package."
            ),
            "paused": self.env._(
                "Package %(name)s is paused. Resume it, or book the visit without the package."
            ),
            "exhausted": self.env._(
                "Package %(name)s is used up. Sell the patient a new package, or book the "
                "visit without one."
            ),
            "expired": self.env._(
                "Package %(name)s expired on %(date)s. Extend its expiry date, sell a new "
                "package, or book the visit without one."
            ),
            "refunded": self.env._("Package %(name)s was refunded and can no longer be used."),
            "cancelled": self.env._("Package %(name)s was cancelled and can no longer be used."),
            "transferred": self.env._(
                "Package %(name)s was transferred to another patient and can no longer be used."
            ),
        }
        if self.state in state_errors:
            raise UserError(
                state_errors[self.state]
                % {
                    "name": name,
                    "date": format_date(self.env, self.date_expiry),
                }
            )
        visit_date = visit._clinic_visit_date()
        if self.date_expiry and visit_date > self.date_expiry:
            raise UserError(
                self.env._(
                    "Package %(name)s expires on %(expiry)s, before this visit on %(date)s. "
                    "Extend the package's expiry date, or remove the package from the visit.",
                    name=name,
                    expiry=format_date(self.env, self.date_expiry),
                    date=format_date(self.env, visit_date),
                )
            )
        line = self._clinic_line_for(visit.clinic_service_id)
        if not line:
            raise UserError(
                self.env._(
                    "Package %(name)s does not cover %(service)s (it covers %(services)s). "
                    "Choose a covered service, or book the visit without the package.",
                    name=name,
                    service=(
                        visit.clinic_service_id.display_name
                        or self.env._("a visit without service")
                    ),
                    services=", ".join(self.line_ids.service_product_id.mapped("display_name")),
                )
            )
        if self.practitioner_ids and visit.user_id not in self.practitioner_ids:
            raise UserError(
                self.env._(
                    "Package %(name)s is valid only with %(allowed)s; this visit is with "
                    "%(user)s. Change the practitioner, or remove the package from the visit.",
                    name=name,
                    allowed=", ".join(self.practitioner_ids.mapped("name")),
                    user=visit.user_id.name or self.env._("nobody"),
                )
            )
        if self.location_ids and visit.clinic_location_id not in self.location_ids:
            raise UserError(
                self.env._(
                    "Package %(name)s is valid only at %(allowed)s; this visit is %(where)s. "
                    "Change the location, or remove the package from the visit.",
                    name=name,
                    allowed=", ".join(self.location_ids.mapped("name")),
                    where=(
                        self.env._("at %s", visit.clinic_location_id.name)
                        if visit.clinic_location_id
                        else self.env._("without a location")
                    ),
                )
            )
        if remaining and line._clinic_is_used_up():
            raise line._clinic_used_up_error()
        # weekly / monthly caps: clinic_entitlement_coverage_caps.py
        self._clinic_check_caps(visit)
        return line
