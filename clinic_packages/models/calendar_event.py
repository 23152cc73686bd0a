from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression

ATTENDANCE_SELECTION = [
    ("upcoming", "Upcoming"),
    ("arrived", "Arrived"),
    ("no_show", "No-show"),
    ("cancelled", "Cancelled"),
    ("late_cancel", "Late cancellation"),
]
# fields whose change may move, re-check or release the package use of a visit
RESERVATION_FIELDS = {
    "clinic_entitlement_id",
    "clinic_patient_id",
    "clinic_service_id",
    "clinic_location_id",
    "user_id",
    "start",
    "stop",
    "start_date",
    "active",
}
# fields whose change may change which authorization covers a visit, or how much it takes
AUTHORIZATION_FIELDS = {
    "clinic_authorization_id",
    "clinic_patient_id",
    "clinic_service_id",
    "clinic_units",
    "start",
    "stop",
    "start_date",
    "allday",
    "duration",
}
# authorizations of one patient looked at when booking (a patient has a handful)
AUTHORIZATION_CANDIDATES = 10


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    clinic_patient_id = fields.Many2one("res.partner", string="Patient", index="btree_not_null")
    clinic_service_id = fields.Many2one(
        "product.product",
        string="Service",
        domain="[('type', '=', 'service'), ('clinic_package_ok', '=', False)]",
    )
    clinic_location_id = fields.Many2one("clinic.location")
    clinic_attendance = fields.Selection(
        ATTENDANCE_SELECTION,
        string="Attendance",
        default="upcoming",
        required=True,
        copy=False,
        tracking=True,
    )
    clinic_entitlement_id = fields.Many2one(
        "clinic.entitlement",
        string="Package",
        index="btree_not_null",
        domain="[('partner_id', '=', clinic_patient_id), ('state', '=', 'active')]",
        help="The patient's package this visit uses. Empty: the visit is billed on its own.",
    )
    clinic_authorization_id = fields.Many2one(
        "clinic.authorization",
        string="Authorization",
        index="btree_not_null",
        copy=False,
        domain="[('partner_id', '=', clinic_patient_id), ('pending', '=', False)]",
        help="The insurance authorization this visit counts on: 1 session, or the visit's "
        "units. Empty: no payer authorization.",
    )
    clinic_usage_id = fields.Many2one(
        "clinic.entitlement.usage", string="Package Use", readonly=True, copy=False
    )
    clinic_units = fields.Integer(
        string="Units",
        compute="_compute_clinic_units",
        store=True,
        readonly=False,
        help="Units this visit uses on a units authorization.",
    )
    clinic_invoice_id = fields.Many2one(
        "account.move", string="Visit Invoice", readonly=True, copy=False
    )
    clinic_coverage_note = fields.Char(
        string="Coverage Note",
        readonly=True,
        copy=False,
        help="Why a visit of a series is not covered by the package.",
    )
    clinic_package_info = fields.Char(string="Package Uses", compute="_compute_clinic_package_info")
    clinic_authorization_info = fields.Char(
        string="Authorization Uses", compute="_compute_clinic_authorization_info"
    )
    clinic_warning = fields.Text(compute="_compute_clinic_warning")

    # ------------------------------------------------------------------ computes
    @api.depends("clinic_service_id", "duration", "allday")
    def _compute_clinic_units(self):
        # both unit fields of the services' templates in one query
        self.clinic_service_id.product_tmpl_id.fetch(["clinic_units", "clinic_unit_minutes"])
        for event in self:
            service = event.clinic_service_id
            if not service:
                event.clinic_units = 0
            elif service.clinic_unit_minutes and not event.allday:
                event.clinic_units = service.product_tmpl_id._clinic_units_for_minutes(
                    event.duration * 60
                )
            else:
                event.clinic_units = service.clinic_units

    @api.depends("clinic_entitlement_id", "clinic_service_id", "clinic_usage_id.state")
    def _compute_clinic_package_info(self):
        for event in self:
            entitlement = event.clinic_entitlement_id
            line = entitlement and entitlement._clinic_line_for(event.clinic_service_id)
            if not line:
                event.clinic_package_info = False
                continue
            usage = event.clinic_usage_id
            counted = usage.state in ("reserved", "consumed") and usage.entitlement_line_id == line
            left = line.remaining - (0 if counted else 1)
            event.clinic_package_info = self.env._(
                "%(name)s: %(left)s of %(qty)s left after this visit",
                name=event.clinic_entitlement_id.name,
                left=max(left, 0),
                qty=line.quantity,
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
            if not authorization:
                event.clinic_authorization_info = False
                continue
            kind = (
                self.env._("sessions")
                if authorization.auth_type == "sessions"
                else self.env._("units")
            )
            if not authorization.allowed:
                event.clinic_authorization_info = self.env._(
                    "%(name)s: %(used)s %(kind)s kept, %(scheduled)s booked (no limit on the "
                    "number)",
                    name=authorization.name,
                    used=authorization.used,
                    scheduled=authorization.scheduled,
                    kind=kind,
                )
                continue
            # kept and booked visits all count here, whatever the company's exhaustion rule:
            # the front desk sees what is left once every booked visit is kept
            saved = event._origin
            counted = (
                saved.id
                and saved.clinic_authorization_id == authorization._origin
                and saved.clinic_attendance in ("upcoming", "arrived")
            )
            left = authorization.allowed - authorization.used - authorization.scheduled
            if not counted:
                left -= authorization._clinic_amount_of(event)
            event.clinic_authorization_info = self.env._(
                "%(name)s: %(left)s of %(allowed)s %(kind)s left after this visit",
                name=authorization.name,
                left=max(left, 0),
                allowed=authorization.allowed,
                kind=kind,
            )

    @api.depends(
        "clinic_patient_id",
        "clinic_service_id",
        "clinic_entitlement_id",
        "clinic_location_id",
        "user_id",
        "start",
        "clinic_coverage_note",
        "clinic_attendance",
        "clinic_authorization_id",
        "clinic_units",
    )
    def _compute_clinic_warning(self):
        for event in self:
            event.clinic_warning = "\n".join(event._clinic_warnings()) or False

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
                self._clinic_check_entitlement(self.clinic_entitlement_id)
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
                    self._clinic_check_entitlement(unusable, remaining=True)
                except UserError as error:
                    warnings.append(error.args[0])
        warnings += self._clinic_authorization_warnings()
        return warnings

    # ------------------------------------------------------------------ helpers
    def _clinic_visit_date(self):
        self.ensure_one()
        if self.allday or not self.start:
            return self.start_date or fields.Date.context_today(self)
        return fields.Datetime.context_timestamp(self, self.start).date()

    def _clinic_find_entitlement(self):
        """The patient's usable package for this visit: active, not expired on the visit
        date, uses left for the service, valid with the practitioner and location; the
        soonest-expiring first. One query, whatever the patient's history."""
        self.ensure_one()
        if not (self.clinic_patient_id and self.clinic_service_id):
            return self.env["clinic.entitlement"]
        visit_date = self._clinic_visit_date()
        domain = [
            ("partner_id", "=", self.clinic_patient_id.id),
            ("state", "=", "active"),
            (
                "line_ids",
                "any",
                [
                    ("service_product_id", "=", self.clinic_service_id.id),
                    ("remaining", ">", 0),
                ],
            ),
            "|",
            ("date_expiry", "=", False),
            ("date_expiry", ">=", visit_date),
            "|",
            ("practitioner_ids", "=", False),
            ("practitioner_ids", "in", self.user_id.ids),
            "|",
            ("location_ids", "=", False),
            ("location_ids", "in", self.clinic_location_id.ids),
        ]
        return self.env["clinic.entitlement"].search(
            domain, limit=1, order="date_expiry asc nulls last, id asc"
        )

    def _clinic_check_entitlement(self, entitlement, remaining=False):
        """Raise a UserError saying which limit `entitlement` breaks for this visit and what
        to do. `remaining` also checks uses left (booking checks them under a lock)."""
        self.ensure_one()
        name = entitlement.name
        if entitlement.partner_id != self.clinic_patient_id:
            raise UserError(
                self.env._(
                    "Package %(name)s belongs to %(owner)s, not to %(patient)s. Choose one of "
                    "the patient's packages, or none.",
                    name=name,
                    owner=entitlement.partner_id.display_name,
                    patient=(
                        self.clinic_patient_id.display_name or self.env._("this visit's patient")
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
        }
        if entitlement.state in state_errors:
            raise UserError(
                state_errors[entitlement.state]
                % {
                    "name": name,
                    "date": entitlement.date_expiry,
                }
            )
        visit_date = self._clinic_visit_date()
        if entitlement.date_expiry and visit_date > entitlement.date_expiry:
            raise UserError(
                self.env._(
                    "Package %(name)s expires on %(expiry)s, before this visit on %(date)s. "
                    "Extend the package's expiry date, or remove the package from the visit.",
                    name=name,
                    expiry=entitlement.date_expiry,
                    date=visit_date,
                )
            )
        line = entitlement._clinic_line_for(self.clinic_service_id)
        if not line:
            raise UserError(
                self.env._(
                    "Package %(name)s does not cover %(service)s (it covers %(services)s). "
                    "Choose a covered service, or book the visit without the package.",
                    name=name,
                    service=(
                        self.clinic_service_id.display_name or self.env._("a visit without service")
                    ),
                    services=", ".join(
                        entitlement.line_ids.service_product_id.mapped("display_name")
                    ),
                )
            )
        if entitlement.practitioner_ids and self.user_id not in entitlement.practitioner_ids:
            raise UserError(
                self.env._(
                    "Package %(name)s is valid only with %(allowed)s; this visit is with "
                    "%(user)s. Change the practitioner, or remove the package from the visit.",
                    name=name,
                    allowed=", ".join(entitlement.practitioner_ids.mapped("name")),
                    user=self.user_id.name or self.env._("nobody"),
                )
            )
        if entitlement.location_ids and self.clinic_location_id not in entitlement.location_ids:
            raise UserError(
                self.env._(
                    "Package %(name)s is valid only at %(allowed)s; this visit is %(where)s. "
                    "Change the location, or remove the package from the visit.",
                    name=name,
                    allowed=", ".join(entitlement.location_ids.mapped("name")),
                    where=(
                        self.env._("at %s", self.clinic_location_id.name)
                        if self.clinic_location_id
                        else self.env._("without a location")
                    ),
                )
            )
        if remaining and line.remaining <= 0:
            raise line._clinic_used_up_error()
        return line

    # ------------------------------------------------------------------ authorizations
    # Which insurance authorization covers a visit and what the visit takes from it: 1
    # session, or the visit's units. Kept (arrived) and upcoming visits count; no-shows and
    # cancellations never do (a payer is not billed for them). Booking picks the applicable
    # authorization; what breaks a limit is shown in red, or refused under the company's
    # setting "block bookings without authorization".
    def _clinic_find_authorization(self):
        """The patient's authorization for this visit: not pending, active, the visit date
        within its period, the service covered; primary before secondary, then the soonest
        ending. One with room for the visit in its limits is preferred; when none has room,
        the first one is returned and the visit says why. A bounded number of queries,
        whatever the number of authorizations and past visits."""
        self.ensure_one()
        Authorization = self.env["clinic.authorization"]
        if not (self.clinic_patient_id and self.clinic_service_id):
            return Authorization
        visit_date = self._clinic_visit_date()
        candidates = Authorization.search(
            [
                ("partner_id", "=", self.clinic_patient_id.id),
                ("company_id", "in", self.env.companies.ids),
                ("state", "=", "active"),
                ("date_start", "<=", visit_date),
                "|",
                ("date_end", "=", False),
                ("date_end", ">=", visit_date),
                "|",
                ("service_product_ids", "=", False),
                ("service_product_ids", "in", self.clinic_service_id.ids),
            ],
            order="priority, date_end asc nulls last, id",
            limit=AUTHORIZATION_CANDIDATES,
        )
        if len(candidates) > 1:
            amounts = self._clinic_authorization_amounts(candidates)
            for authorization in candidates:
                if not self._clinic_authorization_limit_problem(authorization, amounts):
                    return authorization
        return candidates[:1]

    @api.model
    def _clinic_prepare_authorization(self, vals_list):
        """Booking a patient and a service with no authorization given picks one."""
        for vals in vals_list:
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
                vals["clinic_authorization_id"] = probe._clinic_find_authorization().id

    def _clinic_dates_domain(self, first, last):
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

    def _clinic_authorization_amounts(self, authorizations, before_only=False, ignore=None):
        """What the other visits take from each authorization:
        {id: {"period": (kept, upcoming), "window": (kept, upcoming)}}, over its whole
        period and over the day, week or month of this visit. `before_only`: of the upcoming
        visits, only those booked before this one count (the later ones are over the
        limit, not this one). `ignore`: visits not to count. One query for the periods, one
        per kind of window."""
        self.ensure_one()
        others = []
        if self._origin.id and before_only:
            others = ["|", ("clinic_attendance", "!=", "upcoming"), ("id", "<", self._origin.id)]
        elif self._origin.id:
            others = [("id", "!=", self._origin.id)]
        if ignore:
            others = expression.AND([others, [("id", "not in", ignore.ids)]])
        periods = authorizations._clinic_amounts(others)
        amounts = {
            authorization.id: {"period": periods.get(authorization.id, (0, 0)), "window": (0, 0)}
            for authorization in authorizations
        }
        visit_date = self._clinic_visit_date()
        limited = authorizations.filtered(lambda a: a.frequency != "period" and a.frequency_limit)
        for group in limited.grouped("frequency").values():
            first, last = group[0]._clinic_window(visit_date)
            windows = group._clinic_amounts(
                expression.AND([others, self._clinic_dates_domain(first, last)])
            )
            for authorization in group:
                amounts[authorization.id]["window"] = windows.get(authorization.id, (0, 0))
        return amounts

    def _clinic_authorization_problem(self, authorization, amounts):
        """Why `authorization` does not cover this visit, as a sentence for the front desk,
        or False. `amounts` comes from `_clinic_authorization_amounts`."""
        self.ensure_one()
        name = authorization.name
        visit_date = self._clinic_visit_date()
        if authorization.partner_id != self.clinic_patient_id:
            return self.env._(
                "Authorization %(name)s belongs to %(owner)s, not to %(patient)s.",
                name=name,
                owner=authorization.partner_id.display_name,
                patient=self.clinic_patient_id.display_name,
            )
        reason = authorization._clinic_inactive_reason()
        if reason:
            return self.env._(
                "Authorization %(name)s is inactive (%(reason)s): it covers no more visits. "
                "Bill the patient, or use another authorization.",
                name=name,
                reason=reason,
            )
        if authorization.pending:
            return self.env._(
                "Authorization %(name)s is pending: it is not applied to visits until the "
                "payer approves it. Untick Pending on the authorization once it is approved.",
                name=name,
            )
        if authorization.date_end and visit_date > authorization.date_end:
            if authorization.date_end < fields.Date.context_today(self):
                return self.env._(
                    "Authorization %(name)s expired on %(end)s, before this visit on %(date)s. "
                    "Ask the payer for a new authorization, or bill the patient.",
                    name=name,
                    end=authorization.date_end,
                    date=visit_date,
                )
            return self.env._(
                "Authorization %(name)s ends on %(end)s, before this visit on %(date)s. Ask "
                "the payer to extend it, or bill the patient.",
                name=name,
                end=authorization.date_end,
                date=visit_date,
            )
        if visit_date < authorization.date_start:
            return self.env._(
                "Authorization %(name)s starts on %(start)s, after this visit on %(date)s.",
                name=name,
                start=authorization.date_start,
                date=visit_date,
            )
        services = authorization.service_product_ids
        if services and self.clinic_service_id not in services:
            return self.env._(
                "Authorization %(name)s does not cover %(service)s (it covers %(services)s).",
                name=name,
                service=self.clinic_service_id.display_name,
                services=", ".join(services.mapped("display_name")),
            )
        return self._clinic_authorization_limit_problem(authorization, amounts)

    def _clinic_authorization_limit_problem(self, authorization, amounts):
        """The approved amount or the day/week/month limit this visit would exceed, as a
        sentence, or False."""
        self.ensure_one()
        need = authorization._clinic_amount_of(self)
        if need <= 0:
            return False
        name = authorization.name
        unit = authorization._clinic_unit_label()
        how = authorization._clinic_how_counted()
        allowed = authorization.allowed
        counted = authorization._clinic_counted(*amounts[authorization.id]["period"])
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
        limit = authorization.frequency_limit
        if authorization.frequency != "period" and limit:
            counted = authorization._clinic_counted(*amounts[authorization.id]["window"])
            if counted + need > limit:
                visit_date = self._clinic_visit_date()
                return self.env._(
                    "Authorization %(name)s allows %(limit)s %(unit)s %(per)s: %(counted)s are "
                    "already %(how)s %(window)s and this visit needs %(need)s. Book it in "
                    "another %(period)s, or bill the patient.",
                    name=name,
                    limit=limit,
                    unit=unit,
                    per=authorization._clinic_frequency_label(),
                    counted=counted,
                    how=how,
                    window=authorization._clinic_window_label(visit_date),
                    need=need,
                    period={
                        "day": self.env._("day"),
                        "week": self.env._("week"),
                        "month": self.env._("month"),
                    }[authorization.frequency],
                )
        return False

    def _clinic_authorization_warnings(self, before_only=True, ignore=None):
        """Sentences saying why no valid authorization covers this upcoming visit (added to
        `_clinic_warnings`; under the block setting they refuse the booking). A visit that
        a package pays needs no authorization, nor does a patient without any on file
        (unless the company blocks bookings without authorization)."""
        self.ensure_one()
        authorization = self.clinic_authorization_id
        if authorization:
            amounts = self._clinic_authorization_amounts(authorization, before_only, ignore)
            problem = self._clinic_authorization_problem(authorization, amounts)
            return [problem] if problem else []
        if not self.clinic_service_id or self.clinic_entitlement_id:
            return []
        patient = self.clinic_patient_id
        on_file = self.env["clinic.authorization"].search(
            [("partner_id", "=", patient.id), ("company_id", "in", self.env.companies.ids)],
            order="priority, date_end desc nulls first, id desc",
            limit=AUTHORIZATION_CANDIDATES,
        )
        if not on_file:
            if not self.env.company.clinic_block_unauthorized:
                return []
            return [
                self.env._(
                    "%(patient)s has no insurance authorization on file. Add it on the "
                    "patient's Authorizations tab, or sell the patient a package.",
                    patient=patient.display_name,
                )
            ]
        amounts = self._clinic_authorization_amounts(on_file, before_only, ignore)
        return [
            self.env._("This visit has no authorization."),
            *(
                self._clinic_authorization_problem(authorization, amounts)
                or self.env._(
                    "Authorization %s covers it: choose it on the visit.", authorization.name
                )
                for authorization in on_file
            ),
        ]

    def _clinic_check_authorization_block(self, batch=False):
        """Under the company's setting "block bookings without authorization", refuse the
        upcoming visits that no valid authorization covers, naming the limit. Their
        authorizations are locked first, so that two bookings of the last session or unit
        cannot both pass. `batch`: visits booked together (a series), taken in date order."""
        if not self.env.company.clinic_block_unauthorized:
            return
        events = self.filtered(
            lambda e: (
                e.active
                and e.clinic_attendance == "upcoming"
                and e.clinic_patient_id
                and e.clinic_service_id
            )
        )
        events.clinic_authorization_id._clinic_lock()
        ordered = events.sorted(lambda e: (e.start, e.id))
        for index, event in enumerate(ordered):
            later = ordered[index + 1 :] if batch else None
            problems = event._clinic_authorization_warnings(before_only=False, ignore=later)
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

    def _clinic_authorization_written(self, vals):
        """After a write: a new patient or service picks the authorization again (upcoming
        visits), and what changed is checked under the block setting."""
        if self.env.context.get("clinic_defer_reservation"):
            return
        if not AUTHORIZATION_FIELDS.intersection(vals):
            return
        if "clinic_authorization_id" not in vals and (
            "clinic_patient_id" in vals or "clinic_service_id" in vals
        ):
            for event in self.filtered(lambda e: e.clinic_attendance == "upcoming"):
                event.with_context(
                    clinic_defer_reservation=True
                ).clinic_authorization_id = event._clinic_find_authorization()
        self._clinic_check_authorization_block()

    @api.onchange("clinic_patient_id", "clinic_service_id", "start", "start_date", "clinic_units")
    def _onchange_clinic_authorization(self):
        """Keep the visit's authorization while it still covers the visit, else pick one."""
        if self.clinic_attendance != "upcoming":
            return
        current = self.clinic_authorization_id
        if current and not self._clinic_authorization_problem(
            current, self._clinic_authorization_amounts(current)
        ):
            return
        self.clinic_authorization_id = self._clinic_find_authorization()

    # ------------------------------------------------------------------ onchange
    @api.onchange("clinic_patient_id", "clinic_service_id")
    def _onchange_clinic_patient_service(self):
        if not self.clinic_patient_id or not self.clinic_service_id:
            self.clinic_entitlement_id = False
            return
        if self.clinic_attendance == "upcoming":
            self.clinic_entitlement_id = self._clinic_find_entitlement()

    # ------------------------------------------------------------------ create / write
    @api.model_create_multi
    def create(self, vals_list):
        outer = not self.env.context.get("clinic_defer_reservation")
        for vals in vals_list:
            # a patient and a service with no package chosen: pick the usable one
            if (
                "clinic_entitlement_id" not in vals
                and vals.get("clinic_patient_id")
                and vals.get("clinic_service_id")
            ):
                vals["clinic_entitlement_id"] = self._clinic_pick_for_vals(vals).id
        self._clinic_prepare_authorization(vals_list)
        events = super(CalendarEvent, self.with_context(clinic_defer_reservation=True)).create(
            vals_list
        )
        events = events.with_env(self.env)
        if outer:
            # occurrences of a series are created inside the base event's create: reserve
            # them all here, in date order, so the earliest visits get the uses left
            series = (events | events.recurrence_id.calendar_event_ids).filtered(
                "clinic_entitlement_id"
            )
            series.sorted(lambda e: (e.start, e.id))._clinic_sync_reservation(
                soft=bool(series.recurrence_id)
            )
            (events | events.recurrence_id.calendar_event_ids)._clinic_check_authorization_block(
                batch=True
            )
        return events

    @api.model
    def _clinic_pick_for_vals(self, vals):
        probe = self.new(
            {
                key: vals[key]
                for key in (
                    "clinic_patient_id",
                    "clinic_service_id",
                    "clinic_location_id",
                    "user_id",
                    "start",
                    "stop",
                    "allday",
                    "start_date",
                )
                if key in vals
            }
        )
        if "user_id" not in vals:
            probe.user_id = self.env.user
        return probe._clinic_find_entitlement()

    def write(self, vals):
        if "clinic_entitlement_id" in vals:
            for event in self:
                if (
                    event.clinic_attendance != "upcoming"
                    and event.clinic_usage_id.state == "consumed"
                    and event.clinic_entitlement_id.id != vals["clinic_entitlement_id"]
                ):
                    raise UserError(
                        self.env._(
                            "The package of %(event)s cannot be changed: the visit was already "
                            "counted (%(attendance)s). Undo the arrival or no-show first.",
                            event=event.display_name,
                            attendance=dict(ATTENDANCE_SELECTION)[event.clinic_attendance],
                        )
                    )
        if "clinic_entitlement_id" in vals and "clinic_coverage_note" not in vals:
            vals = dict(vals, clinic_coverage_note=False)
        res = super().write(vals)
        if RESERVATION_FIELDS.intersection(vals) and not self.env.context.get(
            "clinic_defer_reservation"
        ):
            self.filtered(
                lambda e: e.clinic_entitlement_id or e.clinic_usage_id
            )._clinic_sync_reservation()
        self._clinic_authorization_written(vals)
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_clinic_release(self):
        for event in self:
            if event.clinic_usage_id.state == "consumed":
                raise UserError(
                    self.env._(
                        "%(event)s was counted on package %(name)s (%(attendance)s) and cannot be "
                        "deleted. Undo the arrival or no-show first.",
                        event=event.display_name,
                        name=event.clinic_entitlement_id.name,
                        attendance=dict(ATTENDANCE_SELECTION)[event.clinic_attendance],
                    )
                )
        self.clinic_usage_id.sudo()._clinic_release()

    # ------------------------------------------------------------------ reservation
    def _clinic_sync_reservation(self, soft=False):
        """Make each visit's package use match the visit: reserve one use of the chosen
        package, move it when the package or service changes, release it when the package is
        removed or the visit archived. A visit that breaks a limit of its package is refused
        with the reason, or, with `soft` (occurrences of a series), left without package and
        with the reason in its coverage note."""
        Usage = self.env["clinic.entitlement.usage"].sudo()
        uncovered = self.browse()
        for event in self:
            usage = event.clinic_usage_id
            entitlement = event.clinic_entitlement_id
            if usage.state == "consumed":
                usage.write({"date": event._clinic_visit_date()})
                continue
            if not event.active or not entitlement or event.clinic_attendance != "upcoming":
                usage._clinic_release()
                continue
            try:
                line = event._clinic_check_entitlement(entitlement)
                values = {
                    "date": event._clinic_visit_date(),
                    "user_id": event.user_id.id,
                    "event_id": event.id,
                }
                if usage.entitlement_line_id == line and usage.state == "reserved":
                    usage.write(values)
                elif usage.entitlement_line_id == line:
                    usage.write(dict(values, state="reserved"))
                else:
                    usage._clinic_release()
                    usage = Usage.create(
                        dict(
                            values,
                            entitlement_id=entitlement.id,
                            entitlement_line_id=line.id,
                            reason="attended",
                        )
                    )
                    event.with_context(clinic_defer_reservation=True).clinic_usage_id = usage
            except UserError as error:
                if not soft:
                    raise
                usage._clinic_release()
                event.with_context(clinic_defer_reservation=True).write(
                    {
                        "clinic_entitlement_id": False,
                        "clinic_coverage_note": self.env._(
                            "Not covered by a package: %s", error.args[0]
                        ),
                    }
                )
                uncovered |= event
        if uncovered:
            uncovered._clinic_notify_uncovered()
        return True

    def _clinic_notify_uncovered(self):
        """Say on the series which of its visits the package does not cover."""
        for recurrence in self.recurrence_id:
            events = self.filtered(lambda e, r=recurrence: e.recurrence_id == r)
            base = recurrence.base_event_id or events[:1]
            dates = ", ".join(str(e._clinic_visit_date()) for e in events.sorted("start"))
            base.message_post(
                body=self.env._(
                    "%(count)s visit(s) of this series (%(dates)s) are left without package. "
                    "%(reason)s",
                    count=len(events),
                    dates=dates,
                    reason=events[:1].clinic_coverage_note,
                )
            )

    # ------------------------------------------------------------------ front desk actions
    def _clinic_check_upcoming(self, action):
        for event in self:
            if not event.clinic_patient_id:
                raise UserError(
                    self.env._(
                        "%(event)s has no patient: set the patient before marking it %(action)s.",
                        event=event.display_name,
                        action=action,
                    )
                )
            if event.clinic_attendance != "upcoming":
                raise UserError(
                    self.env._(
                        "%(event)s is already marked %(attendance)s. Undo that first to mark it "
                        "%(action)s.",
                        event=event.display_name,
                        action=action,
                        attendance=dict(ATTENDANCE_SELECTION)[event.clinic_attendance],
                    )
                )

    def _clinic_consume(self, reason):
        """Count the visit on its package (arrival, covered no-show, counted late cancel)."""
        self.ensure_one()
        entitlement = self.clinic_entitlement_id
        if not (
            self.clinic_usage_id.state == "reserved"
            and self.clinic_usage_id.entitlement_id == entitlement
        ):
            self._clinic_sync_reservation()
        visit_date = self._clinic_visit_date()
        self.clinic_usage_id.write(
            {
                "state": "consumed",
                "reason": reason,
                "user_id": self.user_id.id,
                "date": visit_date,
            }
        )
        if entitlement.activation == "on_first_visit" and not entitlement.date_start:
            entitlement.sudo()._clinic_start_validity(visit_date)

    def action_clinic_arrive(self):
        """The patient arrived: the package use is consumed and the visit billed."""
        self._clinic_check_upcoming(self.env._("arrived"))
        for event in self:
            if event.clinic_entitlement_id:
                event._clinic_consume("attended")
            event.clinic_attendance = "arrived"
            event._clinic_bill_visit()
        return True

    def action_clinic_no_show(self, cover=True):
        """The patient did not come. `cover`: the package covers it (counts as a use, billed
        like an arrival); otherwise the use is released and the no-show fee invoiced."""
        self._clinic_check_upcoming(self.env._("a no-show"))
        for event in self:
            entitlement = event.clinic_entitlement_id
            if cover and entitlement:
                if not entitlement.count_no_show:
                    raise UserError(
                        self.env._(
                            "Package %(name)s does not cover no-shows. Charge the no-show fee "
                            "instead.",
                            name=entitlement.name,
                        )
                    )
                event._clinic_consume("no_show")
                event.clinic_attendance = "no_show"
                event._clinic_bill_visit()
            else:
                event.clinic_usage_id._clinic_release()
                event.clinic_attendance = "no_show"
                event._clinic_bill_no_show_fee()
        return True

    def action_clinic_no_show_fee(self):
        return self.action_clinic_no_show(cover=False)

    def action_clinic_cancel(self, late=False):
        """Cancel the visit: the package use is released, unless it is a late cancellation
        and the package counts those."""
        self._clinic_check_upcoming(
            self.env._("a late cancellation") if late else self.env._("cancelled")
        )
        for event in self:
            entitlement = event.clinic_entitlement_id
            if late and entitlement and entitlement.count_late_cancel:
                event._clinic_consume("late_cancel")
            else:
                event.clinic_usage_id._clinic_release()
            event.clinic_attendance = "late_cancel" if late else "cancelled"
        return True

    def action_clinic_late_cancel(self):
        return self.action_clinic_cancel(late=True)

    def action_clinic_reset(self):
        """Undo a mistaken arrival, no-show or cancellation while nothing downstream is
        posted: the visit is upcoming again and its package use booked again."""
        for event in self:
            if event.clinic_attendance == "upcoming":
                raise UserError(
                    self.env._(
                        "%(event)s is still upcoming: there is nothing to undo.",
                        event=event.display_name,
                    )
                )
            invoice = event.clinic_invoice_id
            if invoice.state == "posted":
                raise UserError(
                    self.env._(
                        "%(event)s cannot be undone: its invoice %(invoice)s is posted. Reverse "
                        "the invoice with a credit note (or reset it to draft) first.",
                        event=event.display_name,
                        invoice=invoice.name,
                    )
                )
            event._clinic_check_reset_usage()
            usage = event.clinic_usage_id
            if invoice:
                invoice.sudo().unlink()
            entitlement = event.clinic_entitlement_id
            event.with_context(clinic_defer_reservation=True).clinic_attendance = "upcoming"
            if usage.state == "consumed":
                usage._clinic_unconsume()
            if entitlement:
                event._clinic_sync_reservation()
                if (
                    entitlement.activation == "on_first_visit"
                    and not entitlement.usage_ids.filtered(lambda u: u.state == "consumed")
                ):
                    entitlement.sudo().write({"date_start": False, "date_expiry": False})
        return True

    def _clinic_check_reset_usage(self):
        """Hook: refuse to undo a use whose accounting cannot be undone."""
        return True

    # ------------------------------------------------------------------ billing
    def _clinic_visit_price(self):
        """What the patient is billed for this visit: the package's patient-pays amount,
        the per-use value of a prepaid package, or the service's price without package."""
        self.ensure_one()
        entitlement = self.clinic_entitlement_id
        if not entitlement:
            return self.clinic_service_id.lst_price
        if entitlement.billing_mode == "prepaid_credit":
            return self.clinic_usage_id.amount or entitlement.unit_value
        return self.clinic_usage_id.entitlement_line_id.patient_pays

    def _clinic_bill_visit(self):
        self.ensure_one()
        if not self.clinic_service_id:
            return
        price = self._clinic_visit_price()
        if self.env.company.currency_id.is_zero(price):
            return
        description = self.clinic_service_id.display_name
        if self.clinic_entitlement_id:
            description = self.env._(
                "%(service)s, %(date)s (package %(name)s)",
                service=description,
                date=self._clinic_visit_date(),
                name=self.clinic_entitlement_id.name,
            )
        self._clinic_create_invoice(self.clinic_service_id, price, description)

    def _clinic_bill_no_show_fee(self):
        self.ensure_one()
        fee = self.env.company.clinic_no_show_product_id
        if fee:
            self._clinic_create_invoice(
                fee,
                fee.lst_price,
                self.env._(
                    "%(fee)s: %(event)s",
                    fee=fee.display_name,
                    event=self.display_name,
                ),
            )

    def _clinic_create_invoice(self, product, price, description):
        """A draft customer invoice for the visit; the front desk posts it at checkout.
        The visit's own invoice carries its package, so that a prepaid package pays it."""
        self.ensure_one()
        entitlement = self.clinic_entitlement_id if product == self.clinic_service_id else None
        line = {"product_id": product.id, "name": description, "quantity": 1, "price_unit": price}
        values = {
            "move_type": "out_invoice",
            "partner_id": self.clinic_patient_id.id,
            "invoice_origin": self.display_name,
        }
        if entitlement:
            line["clinic_entitlement_id"] = entitlement.id
            values.update(clinic_entitlement_id=entitlement.id, clinic_move_kind="visit")
        values["invoice_line_ids"] = [fields.Command.create(line)]
        invoice = self.env["account.move"].sudo().create(values)
        self.with_context(clinic_defer_reservation=True).clinic_invoice_id = invoice
        if entitlement and entitlement.billing_mode == "prepaid_credit":
            self.clinic_usage_id.sudo().move_id = invoice
        return invoice

    def action_clinic_view_invoice(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "view_mode": "form",
            "res_id": self.clinic_invoice_id.id,
        }
