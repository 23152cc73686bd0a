"""Which insurance authorization covers a visit, and what the visit takes from it.

An authorization answers for itself: `_clinic_find_for_visit` picks the patient's applicable
one, `_clinic_problem` says why one does not cover a visit (inactive, pending, dates, services,
approved amount, day / week / month window), `_clinic_amounts_for_visit` sums what the other
visits take, and `_clinic_check_block` refuses bookings under the company's block setting,
with the authorizations locked. `calendar.event` only asks (booking, warnings, trace); the
portal, imports and RPC go through the same methods.
"""

from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL, format_date

from .clinic_guard import selection_label

# authorizations of one patient looked at when booking (a patient has a handful)
AUTHORIZATION_CANDIDATES = 10
# what booking reads of them, in the candidates' query
CANDIDATE_FIELDS = (
    "name",
    "partner_id",
    "payer_id",
    "company_id",
    "auth_type",
    "date_start",
    "date_end",
    "allowed",
    "frequency",
    "frequency_limit",
    "pending",
    "inactive",
    "priority",
    "state",
    "used",
    "scheduled",
    "remaining",
    "used_before",
)
# the counters a booking takes, in one UPDATE (`_clinic_reserve_visits`)
RESERVE_COLUMNS = ("scheduled", "remaining")


class ClinicAuthorization(models.Model):
    _inherit = "clinic.authorization"

    # Which insurance authorization covers a visit and what the visit takes from it: 1
    # session, or the visit's units. Kept (arrived) and upcoming visits count; no-shows and
    # cancellations never do (a payer is not billed for them). Booking picks the applicable
    # authorization; what breaks a limit is shown in red, or refused under the company's
    # setting "block bookings without authorization".
    @api.model
    def _clinic_find_for_visit(self, visit, rows=None):
        """The patient's authorization for `visit`: not pending, active, the visit date
        within its period, the service covered; primary before secondary, then the soonest
        ending. One with room for the visit in its limits is preferred; when none has room,
        the first one is returned and the visit says why. A bounded number of queries,
        whatever the number of authorizations and past visits. `rows`: the result of
        `_clinic_candidates_sql` when the visit read it already (with the rest of its
        booking, `calendar.event._clinic_lookup_booking`)."""
        visit.ensure_one()
        if not (visit.clinic_patient_id and visit.clinic_service_id):
            return self.browse()
        if rows is None:
            sql = self._clinic_candidates_sql(self._clinic_candidates_domain(visit))
            rows = self.env.execute_query(
                SQL("SELECT json_agg(q ORDER BY q.seq) FROM (%s) AS q", sql)
            )[0][0]
        candidates = self._clinic_candidates_from_rows(rows or [])
        if len(candidates) > 1:
            amounts = candidates._clinic_amounts_for_visit(visit)
            for authorization in candidates:
                if not authorization._clinic_limit_problem(visit, amounts):
                    return authorization
        return candidates[:1]

    @api.model
    def _clinic_candidates_domain(self, visit):
        """The patient's authorizations that may cover `visit` (limits aside)."""
        visit_date = visit._clinic_visit_date()
        return [
            ("partner_id", "=", visit.clinic_patient_id.id),
            ("company_id", "in", self.env.companies.ids),
            ("state", "=", "active"),
            ("date_start", "<=", visit_date),
            "|",
            ("date_end", "=", False),
            ("date_end", ">=", visit_date),
            "|",
            ("service_product_ids", "=", False),
            ("service_product_ids", "in", visit.clinic_service_id.ids),
        ]

    @api.model
    def _clinic_candidates_sql(self, domain):
        """The query of the authorizations of `domain`, primary before secondary, then the
        soonest ending, at most AUTHORIZATION_CANDIDATES, with what booking reads of them
        (limits, counters, status, whether the payer is archived) and their rank (`seq`).
        Record rules apply."""
        order = "priority, date_end asc nulls last, id"
        query = self._search(domain, order=order, limit=AUTHORIZATION_CANDIDATES)
        table = query.table
        return query.select(
            SQL.identifier(table, "id"),
            *(SQL.identifier(table, name) for name in CANDIDATE_FIELDS),
            SQL(
                "(SELECT payer.active FROM res_partner AS payer WHERE payer.id = %s) "
                "AS payer_active",
                SQL.identifier(table, "payer_id"),
            ),
            SQL("row_number() OVER (ORDER BY %s) AS seq", query.order),
        )

    @api.model
    def _clinic_candidates_from_rows(self, rows):
        """The authorizations of `rows` (`_clinic_candidates_sql`, as JSON objects, in
        order), what was read of them put in the cache."""
        candidates = self.browse(row["id"] for row in rows)
        cache = self.env.cache
        Partner = self.env["res.partner"]
        for authorization, row in zip(candidates, rows, strict=True):
            for name in CANDIDATE_FIELDS:
                field = self._fields[name]
                value = field.convert_to_cache(row[name], authorization)
                cache.insert_missing(authorization, field, [value])
            if row["payer_id"]:
                payer = Partner.browse(row["payer_id"])
                cache.insert_missing(payer, Partner._fields["active"], [row["payer_active"]])
        return candidates

    @api.model
    def _clinic_reserve_settled(self):
        """{model name: field names} a visit's INSERT would have Odoo recount on its
        authorization and `_clinic_reserve_visits` leaves exact (`clinic.atomic.counters`)."""
        return self.env["clinic.atomic.counters"]._clinic_settled(
            "calendar.event", {self._name: RESERVE_COLUMNS}
        )

    @api.model
    def _clinic_reserve_prepare(self):
        """Before visits are inserted: what is pending on the counters `_clinic_reserve_visits`
        takes goes to the database first (it adds to them)."""
        for model, names in self._clinic_reserve_settled().items():
            self.env[model].flush_model(names)

    @api.model
    def _clinic_reserve_visits(self, events):
        """Count newly booked upcoming visits on their authorizations, each in one
        statement: `scheduled` (and `remaining`, when the company counts upcoming visits)
        take the visit's sessions or units, and under the company's block setting only while
        the approved amount has room. The UPDATE locks the row until the end of the
        transaction: a second booking of the last session waits, then fails to serialize and
        is retried, and finds no room. What it wrote Odoo does not recount after the visits'
        INSERT (`clinic.atomic.counters`); the status follows at once."""
        events = events.filtered("clinic_authorization_id")
        booked = events.filtered(lambda e: e.active and e.clinic_attendance == "upcoming")
        # an authorization that also gets a visit inserted as kept (trusted code) is counted
        # by Odoo's recount instead
        booked = booked.filtered(
            lambda e: e.clinic_authorization_id not in (events - booked).clinic_authorization_id
        )
        if not booked:
            return
        events = booked
        authorizations = events.clinic_authorization_id
        self.env["clinic.atomic.counters"]._clinic_settle(
            self._clinic_reserve_settled(), {self._name: authorizations}
        )
        cache = self.env.cache
        refused = events.browse()
        for event in events.sorted(lambda e: (e.start, e.id)):
            authorization = event.clinic_authorization_id
            company = authorization.company_id
            rows = self.env.execute_query(
                SQL(
                    """
                    UPDATE clinic_authorization AS a
                       SET scheduled = a.scheduled + %(need)s,
                           remaining = CASE WHEN a.allowed > 0 AND %(upcoming)s
                                            THEN a.remaining - %(need)s
                                            ELSE a.remaining END,
                           write_uid = %(uid)s,
                           write_date = now() AT TIME ZONE 'UTC'
                     WHERE a.id = %(id)s
                       AND (NOT %(block)s
                            OR a.allowed = 0
                            OR a.used + (CASE WHEN %(upcoming)s THEN a.scheduled ELSE 0 END)
                               + %(need)s <= a.allowed)
                 RETURNING a.scheduled, a.remaining
                    """,
                    need=authorization._clinic_amount_of(event),
                    upcoming=bool(company.clinic_count_upcoming),
                    block=bool(company.clinic_block_unauthorized),
                    id=authorization.id,
                    uid=self.env.uid,
                )
            )
            if not rows:
                refused |= event
                continue
            for name, value in zip(RESERVE_COLUMNS, rows[0], strict=True):
                cache.update(authorization, self._fields[name], [value])
        if refused:
            # the block check says which limit, with the authorization's own words
            self._clinic_check_block(refused)
            raise UserError(
                self.env._(
                    "%(event)s cannot be booked: its authorization %(name)s has no room left. "
                    "Ask the payer for more, or bill the patient.",
                    event=refused[:1].display_name,
                    name=refused[:1].clinic_authorization_id.name,
                )
            )
        authorizations._clinic_refresh_state()

    @api.model
    def _clinic_on_file(self, visit):
        """The visit's patient's authorizations in the user's companies, primary first."""
        return self.search(
            [
                ("partner_id", "=", visit.clinic_patient_id.id),
                ("company_id", "in", self.env.companies.ids),
            ],
            order="priority, date_end desc nulls first, id desc",
            limit=AUTHORIZATION_CANDIDATES,
        )

    def _clinic_trace_line(self, visit, chosen, amounts):
        """One sentence of the visit's coverage trace: whether this authorization counts
        `visit` for its payer, with what is left, or why not."""
        self.ensure_one()
        priority = selection_label(self, "priority")
        who = f"{self.name} ({priority}{', ' + self.payer_id.name if self.payer_id else ''})"
        problem = (
            self._clinic_problem(visit, amounts) if visit.clinic_attendance == "upcoming" else False
        )
        if chosen:
            text = self.env._(
                "Authorization %(who)s: counts %(need)s %(unit)s of this visit for the payer; "
                "%(left)s.",
                who=who,
                need=self._clinic_amount_of(visit),
                unit=self._clinic_unit_label(),
                left=self._clinic_left_label(visit),
            )
            return f"{text} {problem}" if problem else text
        return self.env._(
            "Authorization %(who)s: not used. %(why)s",
            who=who,
            why=problem or self.env._("The visit counts on the authorization chosen instead."),
        )

    def _clinic_left_label(self, visit):
        """'AUTH-1: 9 of 12 sessions left after this visit' (kept and booked visits all
        count here, whatever the company's exhaustion rule: the front desk sees what is left
        once every booked visit is kept)."""
        self.ensure_one()
        kind = self._clinic_unit_label()
        if not self.allowed:
            return self.env._(
                "%(name)s: %(used)s %(kind)s kept, %(scheduled)s booked (no limit on the number)",
                name=self.name,
                used=self.used,
                scheduled=self.scheduled,
                kind=kind,
            )
        saved = visit._origin
        counted = (
            saved.id
            and saved.clinic_authorization_id == self._origin
            and saved.clinic_attendance in ("upcoming", "arrived")
        )
        left = self.allowed - self.used - self.scheduled
        if not counted:
            left -= self._clinic_amount_of(visit)
        return self.env._(
            "%(name)s: %(left)s of %(allowed)s %(kind)s left after this visit",
            name=self.name,
            left=max(left, 0),
            allowed=self.allowed,
            kind=kind,
        )

    @api.model
    def _clinic_visit_dates_domain(self, first, last):
        """Visits dated from `first` to `last` in the user's timezone (as
        `_clinic_visit_date` dates them)."""
        try:
            tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        except pytz.UnknownTimeZoneError:
            tz = pytz.utc

        def utc(day):
            local = tz.localize(datetime.combine(day, time.min))
            return local.astimezone(pytz.utc).replace(tzinfo=None)

        return [
            "|",
            "&",
            "&",
            ("allday", "=", False),
            ("start", ">=", utc(first)),
            ("start", "<", utc(last + timedelta(days=1))),
            "&",
            "&",
            ("allday", "=", True),
            ("start_date", ">=", first),
            ("start_date", "<=", last),
        ]

    def _clinic_amounts_for_visit(self, visit, before_only=False, ignore=None):
        """What the visits other than `visit` take from each of these authorizations:
        {id: {"period": (kept, upcoming), "window": (kept, upcoming)}}, over its whole
        period and over the day, week or month of this visit. `before_only`: of the upcoming
        visits, only those booked before this one count (the later ones are over the
        limit, not this one). `ignore`: visits not to count. One query for the periods, one
        per kind of window."""
        visit.ensure_one()
        others = []
        if visit._origin.id and before_only:
            others = ["|", ("clinic_attendance", "!=", "upcoming"), ("id", "<", visit._origin.id)]
        elif visit._origin.id:
            others = [("id", "!=", visit._origin.id)]
        if ignore:
            others = expression.AND([others, [("id", "not in", ignore.ids)]])
        if not visit._origin.id and not ignore:
            # a visit being booked: every saved visit counts, as the stored counters do
            periods = {a.id: (a.used, a.scheduled) for a in self}
        else:
            periods = self._clinic_amounts(others)
        amounts = {
            authorization.id: {"period": periods.get(authorization.id, (0, 0)), "window": (0, 0)}
            for authorization in self
        }
        visit_date = visit._clinic_visit_date()
        limited = self.filtered(lambda a: a.frequency != "period" and a.frequency_limit)
        for group in limited.grouped("frequency").values():
            first, last = group[0]._clinic_window(visit_date)
            windows = group._clinic_amounts(
                expression.AND([others, self._clinic_visit_dates_domain(first, last)]),
                before_import=False,
            )
            for authorization in group:
                amounts[authorization.id]["window"] = windows.get(authorization.id, (0, 0))
        return amounts

    def _clinic_problem(self, visit, amounts):
        """Why this authorization does not cover `visit`, as a sentence for the front desk,
        or False. `amounts` comes from `_clinic_amounts_for_visit`."""
        self.ensure_one()
        name = self.name
        visit_date = visit._clinic_visit_date()
        if self.partner_id != visit.clinic_patient_id:
            return self.env._(
                "Authorization %(name)s belongs to %(owner)s, not to %(patient)s.",
                name=name,
                owner=self.partner_id.display_name,
                patient=visit.clinic_patient_id.display_name,
            )
        reason = self._clinic_inactive_reason()
        if reason:
            return self.env._(
                "Authorization %(name)s is inactive (%(reason)s): it covers no more visits. "
                "Bill the patient, or use another self.",
                name=name,
                reason=reason,
            )
        if self.pending:
            return self.env._(
                "Authorization %(name)s is pending: it is not applied to visits until the "
                "payer approves it. Untick Pending on the authorization once it is approved.",
                name=name,
            )
        if self.date_end and visit_date > self.date_end:
            if self.date_end < fields.Date.context_today(self):
                return self.env._(
                    "Authorization %(name)s expired on %(end)s, before this visit on %(date)s. "
                    "Ask the payer for a new authorization, or bill the patient.",
                    name=name,
                    end=format_date(self.env, self.date_end),
                    date=format_date(self.env, visit_date),
                )
            return self.env._(
                "Authorization %(name)s ends on %(end)s, before this visit on %(date)s. Ask "
                "the payer to extend it, or bill the patient.",
                name=name,
                end=format_date(self.env, self.date_end),
                date=format_date(self.env, visit_date),
            )
        if visit_date < self.date_start:
            return self.env._(
                "Authorization %(name)s starts on %(start)s, after this visit on %(date)s.",
                name=name,
                start=format_date(self.env, self.date_start),
                date=format_date(self.env, visit_date),
            )
        services = self.service_product_ids
        if services and visit.clinic_service_id not in services:
            return self.env._(
                "Authorization %(name)s does not cover %(service)s (it covers %(services)s).",
                name=name,
                service=visit.clinic_service_id.display_name,
                services=", ".join(services.mapped("display_name")),
            )
        return self._clinic_limit_problem(visit, amounts)

    def _clinic_limit_problem(self, visit, amounts):
        """The approved amount or the day/week/month limit `visit` would exceed, as a
        sentence, or False."""
        self.ensure_one()
        need = self._clinic_amount_of(visit)
        if need <= 0:
            return False
        name = self.name
        unit = self._clinic_unit_label()
        how = self._clinic_how_counted()
        allowed = self.allowed
        counted = self._clinic_counted(*amounts[self.id]["period"])
        if allowed and counted + need > allowed:
            if counted >= allowed:
                return self.env._(
                    "Authorization %(name)s is exhausted: %(counted)s of %(allowed)s %(unit)s "
                    "are already %(how)s. Ask the payer for more, or bill the patient.",
                    name=name,
                    counted=counted,
                    allowed=allowed,
                    unit=unit,
                    how=how,
                )
            return self.env._(
                "Authorization %(name)s has %(left)s of %(allowed)s %(unit)s left and this "
                "visit needs %(need)s. Ask the payer for more, shorten the visit, or bill the "
                "patient.",
                name=name,
                left=allowed - counted,
                allowed=allowed,
                unit=unit,
                need=need,
            )
        limit = self.frequency_limit
        if self.frequency != "period" and limit:
            # a window holds what is booked in it too: its limit is a schedule
            counted = sum(amounts[self.id]["window"])
            if counted + need > limit:
                visit_date = visit._clinic_visit_date()
                return self.env._(
                    "Authorization %(name)s allows %(limit)s %(unit)s %(per)s: %(counted)s are "
                    "already %(how)s %(window)s and this visit needs %(need)s. Book it in "
                    "another %(period)s, or bill the patient.",
                    name=name,
                    limit=limit,
                    unit=unit,
                    per=self._clinic_frequency_label(),
                    counted=counted,
                    how=self.env._("kept or booked"),
                    window=self._clinic_window_label(visit_date),
                    need=need,
                    period={
                        "day": self.env._("day"),
                        "week": self.env._("week"),
                        "month": self.env._("month"),
                    }[self.frequency],
                )
        return False

    @api.model
    def _clinic_visit_warnings(self, visit, before_only=True, ignore=None):
        """Sentences saying why no valid authorization covers the upcoming `visit` (added to
        `_clinic_warnings`; under the block setting they refuse the booking). A visit that
        a package pays needs no authorization, nor does a patient without any on file
        (unless the company blocks bookings without authorization)."""
        visit.ensure_one()
        authorization = visit.clinic_authorization_id
        if authorization:
            amounts = authorization._clinic_amounts_for_visit(visit, before_only, ignore)
            problem = authorization._clinic_problem(visit, amounts)
            return [problem] if problem else []
        if not visit.clinic_service_id or visit.clinic_entitlement_id:
            return []
        patient = visit.clinic_patient_id
        on_file = self._clinic_on_file(visit)
        if not on_file:
            if not visit._clinic_company().clinic_block_unauthorized:
                return []
            return [
                self.env._(
                    "%(patient)s has no insurance authorization on file. Add it on the "
                    "patient's Authorizations tab, or sell the patient a package.",
                    patient=patient.display_name,
                )
            ]
        amounts = on_file._clinic_amounts_for_visit(visit, before_only, ignore)
        return [
            self.env._("This visit has no authorization."),
            *(
                authorization._clinic_problem(visit, amounts)
                or self.env._(
                    "Authorization %s covers it: choose it on the visit.", authorization.name
                )
                for authorization in on_file
            ),
        ]

    @api.model
    def _clinic_check_block(self, events, batch=False):
        """Under their company's setting "block bookings without authorization", refuse the
        upcoming visits that no valid authorization covers, naming the limit. Their
        authorizations are locked first, so that two bookings of the last session or unit
        cannot both pass. `batch`: visits booked together (a series), taken in date order."""
        events = events.filtered(
            lambda e: (
                e.active
                and e.clinic_attendance == "upcoming"
                and e.clinic_patient_id
                and e.clinic_service_id
                and e._clinic_company().clinic_block_unauthorized
            )
        )
        events.clinic_authorization_id._clinic_lock()
        ordered = events.sorted(lambda e: (e.start, e.id))
        for index, event in enumerate(ordered):
            later = ordered[index + 1 :] if batch else None
            problems = self._clinic_visit_warnings(event, before_only=False, ignore=later)
            if problems:
                raise UserError(
                    self.env._(
                        "%(event)s on %(date)s cannot be booked: %(problems)s Bookings without "
                        "a valid authorization are blocked in the clinic settings.",
                        event=event.display_name,
                        date=event._clinic_visit_date(),
                        problems=" ".join(problems),
                    )
                )
