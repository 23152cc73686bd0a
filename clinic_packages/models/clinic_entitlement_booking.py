"""Patients book their own visits on a package (the portal, or an XML-RPC client).

`clinic_booking_slots` lists the free times of the practitioners the package allows, from
their working hours (`resource.calendar`, in each practitioner's time zone, leaves and public
holidays removed) minus their busy visits and meetings; `clinic_book_slot` books one of them
as a clinic visit, through `calendar.event.create`: the same coverage as the front desk (one
use reserved, the visit on the practitioner's calendar, Odoo's invitation e-mail).

Both are for the package's owner (or, once packages are shared, a family member it is shared
with: `_clinic_booking_patient` is the one place that decides), portal users included, who
have no right on calendar visits: the caller is checked in Python, then the visit is created
trusted, in the package's company. Anyone else gets an AccessError.
"""

from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.addons.resource.models.utils import Intervals
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, format_date

from .clinic_guard import trusted

# the longest period one call lists slots for (a portal page shows two weeks)
MAX_SLOT_DAYS = 62
# a service without a visit length is booked for this long
DEFAULT_VISIT_MINUTES = 60
# visit attendances that leave the practitioner free
FREE_ATTENDANCES = ("cancelled", "late_cancel")


def own_patient(env, partners):
    """Among `partners`, the one the logged-in user acts for: their own partner, else one of
    their commercial entity (a patient's contacts, as the portal's record rules allow), else
    an empty recordset. The ownership test of the patient's self-service (booking,
    cancelling)."""
    user = env.user
    if user._is_public():
        return partners.browse()
    if user.partner_id in partners:
        return user.partner_id
    commercial = user.commercial_partner_id
    return partners.filtered(lambda p: p.commercial_partner_id == commercial)[:1]


def to_utc_naive(value):
    """A datetime, a date, an Odoo datetime / date string or an ISO 8601 one (with its UTC
    offset), as a naive UTC datetime (how Odoo stores datetimes); an aware datetime is
    converted."""
    if isinstance(value, str) and ("T" in value or "+" in value[10:]):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo:
            return value.astimezone(pytz.utc).replace(tzinfo=None)
        return value
    return fields.Datetime.to_datetime(value)


def booking_moment(env, value, what):
    """`value`, a time a client sends to the booking methods, as a naive UTC datetime; a
    UserError saying what is expected for anything else."""
    try:
        moment = to_utc_naive(value)
    except (TypeError, ValueError, OverflowError):
        moment = None
    # far from the years a visit is booked in: the slots' arithmetic would overflow
    if not moment or not 1900 <= moment.year <= 9000:
        raise UserError(
            env._(
                '%(what)s is not a date and time: send it as "YYYY-MM-DD HH:MM:SS" (UTC), '
                "as the times offered are (got %(value)s).",
                what=what,
                value=repr(value),
            )
        )
    return moment


def one_package(packages):
    """The booking methods work on one package: a UserError for none or several."""
    if len(packages) != 1:
        raise UserError(
            packages.env._("Book on one package at a time (%(count)s given).", count=len(packages))
        )


class ClinicEntitlement(models.Model):
    _inherit = "clinic.entitlement"

    # -------------------------------------------------------------------------
    # ACCESS
    # -------------------------------------------------------------------------

    def _clinic_booking_patient(self):
        """The patient the logged-in user books for on this package: its owner, or a family
        member it is shared with (`shared_partner_ids`, when packages have it). Anyone else:
        AccessError. Read with sudo: a portal user reads nothing of a package not theirs."""
        self.ensure_one()
        package = self.sudo()
        candidates = package.partner_id
        if "shared_partner_ids" in package._fields:
            candidates |= package.shared_partner_ids
        patient = own_patient(self.env, candidates)
        if not patient:
            raise AccessError(
                self.env._(
                    "Only the patient a package belongs to can book visits on it (%(name)s).",
                    name=package.name,
                )
            )
        return patient

    # -------------------------------------------------------------------------
    # PUBLIC METHODS
    # -------------------------------------------------------------------------

    def clinic_booking_slots(self, service_id, date_from, date_to):
        """The free times to book a visit of `service_id` on this package between
        `date_from` and `date_to` (datetimes or Odoo datetime strings, UTC; a date means its
        midnight UTC; at most MAX_SLOT_DAYS apart; only times still to come).

        One slot per allowed practitioner (the package's, else every practitioner of its
        company) and location (the package's, else the company's; `False` when the clinic has
        none), of the service's visit length, tiling each free stretch of the practitioner's
        working hours from its start. Returns a list of dicts sorted by start, practitioner
        and location: `start`, `stop` (UTC, naive, as "YYYY-MM-DD HH:MM:SS" strings: what
        XML-RPC carries), `user_id`, `location_id`. The number of queries does not depend on
        the clinic's history."""
        one_package(self)
        self._clinic_booking_patient()
        date_from = booking_moment(self.env, date_from, self.env._("The first day asked"))
        date_to = booking_moment(self.env, date_to, self.env._("The last day asked"))
        package = trusted(self.sudo())
        service = package._clinic_booking_service(service_id)
        package._clinic_check_bookable()
        now = fields.Datetime.now().replace(microsecond=0)
        first = max(date_from, now)
        end = min(date_to, first + timedelta(days=MAX_SLOT_DAYS))
        # the slots are laid from where the working hours start, even if that is before
        # `first` (already gone, or before the period asked): those are left out below
        begin = first - timedelta(days=1)
        if package.date_expiry:
            # a visit on the expiry day is still covered, wherever the patient is
            end = min(end, datetime.combine(package.date_expiry, time.max) + timedelta(hours=14))
        if end <= first:
            return []
        practitioners = package._clinic_booking_practitioners()
        location_ids = package._clinic_booking_locations().ids or [False]
        length = timedelta(minutes=service.clinic_visit_minutes or DEFAULT_VISIT_MINUTES)
        free = package._clinic_free_intervals(practitioners, begin, end)
        # a visit counts on the day it starts in the booking user's time zone: on a package
        # that expires, the last slot starts before the midnight that ends its expiry day
        latest = package.date_expiry and package._clinic_day_end_utc(package.date_expiry)
        slots = []
        for user_id in practitioners.ids:
            for start, stop in package._clinic_tile(free[user_id], length):
                if start < first or stop > end or (latest and start >= latest):
                    continue
                # whole minutes: "YYYY-MM-DD HH:MM:SS", as fields.Datetime.to_string
                start_text, stop_text = start.isoformat(" "), stop.isoformat(" ")
                slots.extend(
                    {
                        "start": start_text,
                        "stop": stop_text,
                        "user_id": user_id,
                        "location_id": location_id,
                    }
                    for location_id in location_ids
                )
        slots.sort(key=lambda s: (s["start"], s["user_id"], s["location_id"] or 0))
        return slots

    @api.returns("calendar.event", lambda event: event.id)
    def clinic_book_slot(self, service_id, start, user_id, location_id):
        """Book a visit of `service_id` at `start` (UTC, as in `clinic_booking_slots`) with
        the practitioner `user_id` at `location_id` (False: none) on this package, for the
        patient who calls. The visit is created through `calendar.event.create` (one use
        reserved, the practitioner's calendar, the invitation e-mail) and returned.

        Refused with a UserError, nothing written: a service the package does not cover, a
        package not active (paused, used up, expired, ...), a practitioner or location the
        package does not allow, a time past, outside the practitioner's working hours, or
        taken meanwhile. Two patients booking the same time at once: the practitioner is
        locked first, one gets it, the other is told it was just taken."""
        one_package(self)
        patient = self._clinic_booking_patient()
        start = booking_moment(self.env, start, self.env._("The visit's time"))
        package = trusted(self.sudo())
        company = package.company_id
        service = package._clinic_booking_service(service_id)
        package._clinic_check_bookable()
        start = start.replace(second=0, microsecond=0)
        stop = start + timedelta(minutes=service.clinic_visit_minutes or DEFAULT_VISIT_MINUTES)
        if start <= fields.Datetime.now():
            raise UserError(self.env._("This time has passed: choose a time still to come."))
        practitioner = package._clinic_booking_practitioners().filtered(
            lambda user: user.id == user_id
        )
        if not practitioner:
            raise UserError(
                self.env._(
                    "Visits on package %(name)s cannot be booked with this practitioner: "
                    "choose one of the times offered.",
                    name=package.name,
                )
            )
        locations = package._clinic_booking_locations()
        location = locations.filtered(lambda loc: loc.id == location_id)
        if (locations and not location) or (location_id and not location):
            raise UserError(
                self.env._(
                    "Visits on package %(name)s cannot be booked at this location: choose one "
                    "of the times offered.",
                    name=package.name,
                )
            )
        Event = trusted(self.env["calendar.event"].sudo()).with_company(company)
        vals = {
            "start": start,
            "stop": stop,
            "user_id": practitioner.id,
            "clinic_patient_id": patient.id,
            "clinic_service_id": service.id,
            "clinic_location_id": location.id or False,
            "clinic_entitlement_id": package.id,
        }
        # the package's own checks, with its own words (expiry at the visit's date, the
        # practitioner and location it is valid with, uses left)
        package._clinic_check_covers(Event.new(vals), remaining=True)
        package._clinic_lock_practitioner(practitioner)
        work = package._clinic_free_intervals(practitioner, start, stop, busy=False)
        if not package._clinic_covers_interval(work[practitioner.id], start, stop):
            raise UserError(
                self.env._(
                    "%(user)s does not see patients at that time: choose one of the times offered.",
                    user=practitioner.name,
                )
            )
        free = package._clinic_free_intervals(practitioner, start, stop)
        if not package._clinic_covers_interval(free[practitioner.id], start, stop):
            raise UserError(
                self.env._(
                    "This time with %(user)s was just taken. Choose another time.",
                    user=practitioner.name,
                )
            )
        event = Event.create(vals)
        return event.with_env(self.env)

    # -------------------------------------------------------------------------
    # BUSINESS METHODS
    # -------------------------------------------------------------------------

    def _clinic_booking_service(self, service_id):
        """The service of `service_id` if this package covers it, else a UserError."""
        self.ensure_one()
        line = self.line_ids.filtered(lambda line: line.service_product_id.id == service_id)
        if not line:
            raise UserError(
                self.env._(
                    "Package %(name)s does not cover this service (it covers %(services)s). "
                    "Choose one of its services.",
                    name=self.name,
                    services=", ".join(self.line_ids.service_product_id.mapped("display_name")),
                )
            )
        return line.service_product_id

    def _clinic_check_bookable(self):
        """A visit can be booked on this package now: it is active and has uses left."""
        self.ensure_one()
        if self.state != "active":
            messages = {
                "draft": self.env._(
                    "Package %(name)s is not active yet: it starts when it is paid."
                ),
                "paused": self.env._(
                    "Package %(name)s is paused: visits can be booked on it once the clinic "
                    "resumes it."
                ),
                "exhausted": self.env._(
                    "Package %(name)s is used up: no visit is left to book on it."
                ),
                "expired": self.env._("Package %(name)s has expired on %(date)s."),
            }
            message = messages.get(
                self.state, self.env._("Package %(name)s can no longer be used (%(state)s).")
            )
            raise UserError(
                message
                % {
                    "name": self.name,
                    "date": format_date(self.env, self.date_expiry),
                    "state": self._clinic_state_label(),
                }
            )
        if not self.uses_unlimited and self.uses_remaining <= 0:
            raise UserError(
                self.env._(
                    "Package %(name)s has no visit left to book: all are used or booked.",
                    name=self.name,
                )
            )

    def _clinic_booking_practitioners(self):
        """Who a patient may book with on this package: its practitioners, else every
        practitioner of its company (active internal users marked practitioner)."""
        self.ensure_one()
        domain = [("clinic_practitioner", "=", True), ("company_ids", "in", self.company_id.ids)]
        if self.practitioner_ids:
            domain.append(("id", "in", self.practitioner_ids.ids))
        return self.env["res.users"].sudo().search(domain, order="name, id")

    def _clinic_booking_locations(self):
        """Where a patient may book on this package: its locations, else the company's
        (none when the clinic has no location)."""
        self.ensure_one()
        if self.location_ids:
            return self.location_ids.filtered(lambda loc: loc.company_id == self.company_id)
        return self.env["clinic.location"].sudo().search([("company_id", "=", self.company_id.id)])

    def _clinic_free_intervals(self, practitioners, begin, end, busy=True):
        """{user id: Intervals (aware, UTC)} of `practitioners`' working hours between
        `begin` and `end` (naive UTC), leaves removed and, with `busy`, their busy times too.
        A practitioner without working hours (no resource, no calendar) has none. One query
        for the resources, two per working-hours calendar, one for the busy times."""
        self.ensure_one()
        start_dt, end_dt = pytz.utc.localize(begin), pytz.utc.localize(end)
        resources = (
            self.env["resource.resource"]
            .sudo()
            .search(
                [("user_id", "in", practitioners.ids), ("calendar_id", "!=", False)],
                order="id",
            )
        )
        by_user = {}
        for resource in resources:
            # the resource of the package's company first
            current = by_user.get(resource.user_id.id)
            if not current or (
                resource.company_id == self.company_id and current.company_id != self.company_id
            ):
                by_user[resource.user_id.id] = resource
        result = {user.id: Intervals() for user in practitioners}
        chosen = self.env["resource.resource"].browse(r.id for r in by_user.values())
        for calendar in chosen.calendar_id:
            calendar_resources = chosen.filtered(lambda r, c=calendar: r.calendar_id == c)
            work = calendar._work_intervals_batch(start_dt, end_dt, resources=calendar_resources)
            for resource in calendar_resources:
                result[resource.user_id.id] = Intervals(
                    (a.astimezone(pytz.utc), b.astimezone(pytz.utc), meta)
                    for a, b, meta in work[resource.id]
                )
        if busy and by_user:
            taken = self._clinic_busy_intervals(
                practitioners.filtered(lambda u: u.id in by_user), begin, end, by_user
            )
            for user_id, intervals in taken.items():
                result[user_id] = result[user_id] - intervals
        return result

    def _clinic_busy_intervals(self, practitioners, begin, end, resources):
        """{user id: Intervals (aware, UTC)} of the times `practitioners` are taken between
        `begin` and `end`: the events they organize or are invited to (an invitation they
        declined still counts: Odoo keeps no index to read that cheaply), shown as busy, that
        are not cancelled visits. An all-day event takes the whole of its days in the
        practitioner's time zone (`resources`: {user id: resource}).

        One query: the events of the period (through the index on their end, whatever the
        history), those the practitioners organize, plus those they are invited to; the
        busy times of each practitioner are merged in PostgreSQL, so the rows
        read are a few per day and practitioner, however many visits they have."""
        Event = self.env["calendar.event"]
        Event.flush_model(
            ["active", "allday", "start", "stop", "start_date", "stop_date", "show_as", "user_id"]
            + ["clinic_attendance", "partner_ids"]
        )
        users = practitioners.ids
        rows = self.env.execute_query(
            SQL(
                """
                WITH period AS MATERIALIZED (
                    SELECT e.id, e.user_id, e.allday, e.start, e.stop, e.start_date, e.stop_date
                      FROM calendar_event e
                     WHERE e.active
                       AND e.stop > %(begin)s
                       AND e.start < %(end)s
                       AND e.show_as IS DISTINCT FROM 'free'
                       AND e.clinic_attendance NOT IN %(free)s
                ), taken AS (
                    SELECT e.user_id, e.allday, e.start, e.stop, e.start_date, e.stop_date
                      FROM period e
                     WHERE e.user_id = ANY(%(users)s)
                     UNION ALL
                    -- the invitations of each event of the period, read by event: reading
                    -- them by practitioner would read every visit they ever had
                    SELECT p.user_id, e.allday, e.start, e.stop, e.start_date, e.stop_date
                      FROM period e
                     CROSS JOIN LATERAL (
                            SELECT r.res_partner_id
                              FROM calendar_event_res_partner_rel r
                             WHERE r.calendar_event_id = e.id
                               AND r.res_partner_id = ANY(%(partners)s)
                            OFFSET 0
                           ) r
                      JOIN unnest(%(partners)s::int[], %(users)s::int[]) AS p(partner_id, user_id)
                        ON p.partner_id = r.res_partner_id
                     WHERE e.user_id IS DISTINCT FROM p.user_id
                )
                -- overlapping or touching busy times merged: a new stretch starts where
                -- an event starts after every earlier one of the practitioner has ended
                SELECT user_id, FALSE, min(start), max(stop), NULL::date, NULL::date
                  FROM (SELECT user_id, start, stop,
                               count(*) FILTER (WHERE ended IS NULL OR start > ended)
                                   OVER (PARTITION BY user_id ORDER BY start, stop) AS stretch
                          FROM (SELECT user_id, start, stop,
                                       max(stop) OVER (
                                           PARTITION BY user_id ORDER BY start, stop
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                                       ) AS ended
                                  FROM taken
                                 WHERE NOT allday) timed) stretches
                 GROUP BY user_id, stretch
                 UNION ALL
                SELECT user_id, TRUE, NULL, NULL, start_date, stop_date
                  FROM taken
                 WHERE allday
                """,
                # an all-day event's start and stop are hours of its days: one day of margin
                begin=begin - timedelta(days=1),
                end=end + timedelta(days=1),
                free=FREE_ATTENDANCES,
                users=users,
                partners=[user.partner_id.id for user in practitioners],
            )
        )
        utc = pytz.utc
        taken = {uid: [] for uid in users}
        for uid, allday, start, stop, start_date, stop_date in rows:
            if allday:
                tz = pytz.timezone(resources[uid].tz or "UTC")
                first = tz.localize(datetime.combine(start_date, time.min))
                last = tz.localize(datetime.combine(stop_date or start_date, time.min))
                taken[uid].append((first, last + timedelta(days=1), Event))
            else:
                taken[uid].append((utc.localize(start), utc.localize(stop), Event))
        return {uid: Intervals(intervals) for uid, intervals in taken.items()}

    @api.model
    def _clinic_tile(self, intervals, length):
        """Slots (naive UTC start, stop) of `length` laid end to end in each interval, from
        its first whole minute."""
        for begin, end, _meta in intervals:
            start = begin.astimezone(pytz.utc).replace(tzinfo=None)
            if start.second or start.microsecond:
                start = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
            end = end.astimezone(pytz.utc).replace(tzinfo=None)
            while start + length <= end:
                yield start, start + length
                start += length

    @api.model
    def _clinic_covers_interval(self, intervals, start, stop):
        """Whether one of `intervals` (aware) contains [start, stop] (naive UTC)."""
        start, stop = pytz.utc.localize(start), pytz.utc.localize(stop)
        return any(begin <= start and stop <= end for begin, end, _meta in intervals)

    def _clinic_day_end_utc(self, day):
        """The end of `day` (a date) in the booking user's time zone (the context's, else
        the user's, as Odoo shows dates), as a naive UTC datetime."""
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        midnight = tz.localize(datetime.combine(day + timedelta(days=1), time.min))
        return midnight.astimezone(pytz.utc).replace(tzinfo=None)

    def _clinic_lock_practitioner(self, practitioner):
        """Take the practitioner for the rest of the transaction before checking the time is
        still free: a second booking with them waits here until the first commits, then
        fails with a serialization error (the row was updated by the first), and Odoo replays
        it: the replay sees the first visit and is refused. A lock alone (FOR UPDATE, an
        advisory lock) would not do: under REPEATABLE READ the second would then check
        against its older snapshot and book the same time."""
        self.env.cr.execute(
            SQL("UPDATE res_users SET write_date = write_date WHERE id = %s", practitioner.id)
        )
