from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .clinic_guard import (
    GROUP_USER,
    changed_fields,
    check_values,
    field_labels,
    internal_context,
    internal_value,
    is_trusted,
    selection_label,
    trusted,
)

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
# what a counted visit was counted as: unchanged until the visit is undone (its location may
# still be corrected: the use follows it, nothing is counted or billed by place)
COUNTED_FIELDS = (RESERVATION_FIELDS | AUTHORIZATION_FIELDS | {"stop_date"}) - {
    "clinic_location_id"
}
# attendances that count nothing
UNCOUNTED_ATTENDANCES = ("upcoming", "cancelled")
# what the front desk enters on a visit (Clinic Users only)
CLINIC_INPUT_FIELDS = {
    "clinic_patient_id",
    "clinic_service_id",
    "clinic_location_id",
    "clinic_entitlement_id",
    "clinic_authorization_id",
    "clinic_units",
}
# what only the visit's actions write (arrive, no-show, cancel, undo, bill)
CLINIC_ACTION_FIELDS = {
    "clinic_attendance",
    "clinic_usage_id",
    "clinic_usage_ids",
    "clinic_invoice_id",
    "clinic_coverage_note",
    "clinic_company_id",
}


def defer_sync(events):
    """`events` written by the clinic's own code, without re-syncing their package use and
    authorization (the caller does it). Clients cannot ask for it."""
    return trusted(events).with_context(**internal_context(clinic_defer_reservation=True))


def is_sync_deferred(env):
    return internal_value(env, "clinic_defer_reservation", False)


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    clinic_patient_id = fields.Many2one("res.partner", string="Patient", index="btree_not_null")
    clinic_company_id = fields.Many2one(
        "res.company",
        compute="_compute_clinic_company_id",
        store=True,
        precompute=True,
        index="btree_not_null",
        help="The company of a clinic visit: only its users see it (record rule), and its "
        "package, authorization and invoice are that company's.",
    )
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
        help="Changed by the visit's buttons (Arrived, No-show, Cancel Visit, Undo) only.",
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
    clinic_usage_ids = fields.One2many(
        "clinic.entitlement.usage", "event_id", string="Uses of the Visit", readonly=True
    )
    # the visit's use is told by the uses themselves (their `event_id`): nothing writes it
    clinic_usage_id = fields.Many2one(
        "clinic.entitlement.usage",
        string="Package Use",
        compute="_compute_clinic_usage_id",
        store=True,
        readonly=True,
        copy=False,
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
    # which attendance buttons can succeed (the buttons show only those)
    clinic_count_no_show = fields.Boolean(related="clinic_entitlement_id.count_no_show")
    clinic_no_show_fee_set = fields.Boolean(
        compute="_compute_clinic_no_show_fee_set",
        help="The visit's company charges a no-show fee (its product is set in Settings).",
    )
    clinic_coverage_trace = fields.Text(
        string="Who Pays",
        compute="_compute_clinic_coverage_trace",
        help="Who pays for this visit and why: each authorization and package of the patient "
        "considered, chosen or not and why, with what is left after the visit.",
    )

    # ------------------------------------------------------------------ computes
    @api.depends("clinic_patient_id")
    def _compute_clinic_company_id(self):
        for event in self:
            if not event.clinic_patient_id:
                event.clinic_company_id = event.clinic_company_id
            elif not event.clinic_company_id:
                event.clinic_company_id = (
                    event.clinic_entitlement_id.company_id
                    or event.clinic_authorization_id.company_id
                    or self.env.company
                )

    @api.depends("clinic_company_id")
    @api.depends_context("company")
    def _compute_clinic_no_show_fee_set(self):
        for event in self:
            event.clinic_no_show_fee_set = bool(
                event._clinic_company().sudo().clinic_no_show_product_id
            )

    @api.depends("clinic_usage_ids")
    def _compute_clinic_usage_id(self):
        # the latest use of the visit: one booked again for another package or service comes
        # after the one released (for a visit booked now, read from the use just inserted)
        for event in self:
            event.clinic_usage_id = max(event.clinic_usage_ids, key=lambda u: u.id, default=False)

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

    # ------------------------------------------------------------------ helpers
    def _clinic_attendance_label(self):
        """The visit's attendance, in the user's language."""
        self.ensure_one()
        return selection_label(self, "clinic_attendance")

    def _clinic_company(self):
        """The company the visit belongs to (its users see it, it bills in it)."""
        self.ensure_one()
        return self.clinic_company_id or self.env.company

    def _clinic_visit_date(self):
        self.ensure_one()
        if self.allday or not self.start:
            return self.start_date or fields.Date.context_today(self)
        return self._clinic_start_date(self.start)

    @api.model
    def _clinic_start_date(self, start):
        """The date of a visit (not all day) starting at `start` (UTC), in the user's
        timezone."""
        return fields.Datetime.context_timestamp(self, start).date()

    @api.model_create_multi
    def create(self, vals_list):
        outer = not is_sync_deferred(self.env)
        # what the bookings read of their service, packages and authorizations: one query each
        found = self._clinic_lookup_booking(vals_list) if outer else {}
        if not is_trusted(self.env):
            # a client's context defaults count as values it sends
            context = dict(self.env.context)
            for name in CLINIC_ACTION_FIELDS:
                context.pop(f"default_{name}", None)
            self = self.with_env(self.env(context=context))
            defaults = {
                name: context[f"default_{name}"]
                for name in CLINIC_INPUT_FIELDS
                if f"default_{name}" in context
            }
            for vals in vals_list:
                self._clinic_check_input(dict(defaults, **vals))
        self._clinic_prepare_visit_vals(vals_list)
        # a patient and a service with no package chosen: pick the usable one, and its
        # service line (the pick checked every limit but the uses left, which the
        # reservation takes atomically)
        picked = {}
        for index, vals in enumerate(vals_list):
            if (
                "clinic_entitlement_id" not in vals
                and vals.get("clinic_patient_id")
                and vals.get("clinic_service_id")
            ):
                package, line = self._clinic_pick_for_vals(
                    vals, rows=found.get(index, {}).get("packages")
                )
                vals["clinic_entitlement_id"] = package.id
                if line:
                    picked[index] = line
        self._clinic_prepare_authorization(vals_list, found)
        if outer:
            self.env["clinic.authorization"]._clinic_reserve_prepare()
        events = super(
            CalendarEvent,
            defer_sync(self).with_context(**internal_context(clinic_practitioner_checked=True)),
        ).create(vals_list)
        # booking is the business action: the caller was checked above
        events = trusted(events.with_env(self.env))
        if outer:
            # occurrences of a series are created inside the base event's create: reserve
            # them all here, in date order, so the earliest visits get the uses left
            recurrences = events.recurrence_id
            visits = (events | recurrences.calendar_event_ids) if recurrences else events
            series = visits.filtered("clinic_entitlement_id")
            if len(series) > 1:
                series = series.sorted(lambda e: (e.start, e.id))
            series._clinic_sync_reservation(
                soft=bool(series.recurrence_id),
                picked={events[index].id: line for index, line in picked.items()},
            )
            self.env["clinic.authorization"]._clinic_reserve_visits(visits)
            self.env["clinic.authorization"]._clinic_check_block(visits, batch=True)
        return events

    def write(self, vals):
        self._clinic_check_input(vals, self)
        self._clinic_check_counted_write(vals)
        if "clinic_entitlement_id" in vals and "clinic_coverage_note" not in vals:
            vals = dict(vals, clinic_coverage_note=False)
        previous = {}
        if {"clinic_patient_id", "user_id"}.intersection(vals):
            previous = {
                e.id: self._clinic_visit_attendees(e.clinic_patient_id, e.user_id) for e in self
            }
        res = super().write(vals)
        if previous:
            trusted(self)._clinic_sync_attendees(previous)
        if RESERVATION_FIELDS.intersection(vals) and not is_sync_deferred(self.env):
            trusted(
                self.filtered(lambda e: e.clinic_entitlement_id or e.clinic_usage_id)
            )._clinic_sync_reservation()
        trusted(self)._clinic_authorization_written(vals)
        return res

    def _clinic_check_counted_write(self, vals):
        """A counted visit (arrived, a no-show, a late cancellation) keeps what it was
        counted as: its package use, authorization, invoice and revenue entry tell of that
        patient, service, practitioner, place and day. Writing the value a visit already has
        is no change. Whoever writes: undoing the visit comes first."""
        names = COUNTED_FIELDS.intersection(vals)
        if not names:
            return
        for event in self.filtered(lambda e: e.clinic_attendance not in UNCOUNTED_ATTENDANCES):
            changed = changed_fields(event, vals, sorted(names))
            if changed:
                raise UserError(
                    self.env._(
                        "%(fields)s of %(event)s cannot be changed: the visit was already "
                        "counted (%(attendance)s). Undo the arrival or no-show first.",
                        fields=field_labels(self, changed),
                        event=event.display_name,
                        attendance=event._clinic_attendance_label(),
                    )
                )

    @api.model
    def _clinic_check_input(self, vals, events=None):
        """What a client sends on a visit (`events`: written, else created). Clinic data is
        the front desk's: Clinic Users set it and move or archive clinic visits; attendance,
        package use, invoice and company change only through the visit's actions. Values are
        checked before they reach the database."""
        if is_trusted(self.env):
            return
        check_values(self, vals, CLINIC_INPUT_FIELDS)
        if events is None:
            # a new visit starts upcoming, without use, invoice or note
            protected = [
                name
                for name in CLINIC_ACTION_FIELDS.intersection(vals)
                if vals[name] and not (name == "clinic_attendance" and vals[name] == "upcoming")
            ]
        else:
            protected = sorted(CLINIC_ACTION_FIELDS.intersection(vals))
        if protected:
            raise AccessError(
                self.env._(
                    "%(fields)s of a visit change only through its buttons (Arrived, No-show, "
                    "Cancel Visit, Undo), not directly.",
                    fields=", ".join(self._fields[name].string for name in protected),
                )
            )
        clinic_data = any(vals[name] for name in CLINIC_INPUT_FIELDS.intersection(vals))
        if events is not None and not clinic_data:
            moved = (RESERVATION_FIELDS | AUTHORIZATION_FIELDS).intersection(vals)
            clinic_data = bool(moved) and any(events.mapped("clinic_patient_id"))
        if clinic_data and not self.env.user.has_group(GROUP_USER):
            raise AccessError(
                self.env._(
                    "%(user)s may not book or change clinic visits (patient, service, package, "
                    "time, practitioner): it takes the Clinic User role.",
                    user=self.env.user.name,
                )
            )

    def _clinic_begin(self, action):
        """Start a front-desk action on these visits: the caller is a Clinic User who may
        change each of them (their company); the action then runs trusted."""
        if not is_trusted(self.env) and not self.env.user.has_group(GROUP_USER):
            raise AccessError(
                self.env._(
                    "%(user)s may not mark visits %(action)s: it takes the Clinic User role.",
                    user=self.env.user.name,
                    action=action,
                )
            )
        self.check_access("write")
        return trusted(self)

    @api.constrains("clinic_service_id", "clinic_units")
    def _check_clinic_service(self):
        for event in self.filtered("clinic_service_id"):
            service = event.clinic_service_id
            if service.type != "service" or service.clinic_package_ok:
                raise ValidationError(
                    self.env._(
                        "%(product)s cannot be the service of a visit: it is %(what)s. Choose "
                        "the service delivered (e.g. the physio session); a package is sold, "
                        "then its visits are booked with their own service.",
                        product=service.display_name,
                        what=(
                            self.env._("a package")
                            if service.clinic_package_ok
                            else self.env._("not a service")
                        ),
                    )
                )
            if event.clinic_units < 1:
                raise ValidationError(
                    self.env._(
                        "%(event)s: a visit uses at least 1 unit (it says %(units)s).",
                        event=event.display_name,
                        units=event.clinic_units,
                    )
                )

    @api.constrains("clinic_company_id", "clinic_entitlement_id", "clinic_authorization_id")
    def _check_clinic_company(self):
        for event in self.filtered("clinic_company_id"):
            for record in (event.clinic_entitlement_id, event.clinic_authorization_id):
                if record and record.company_id != event.clinic_company_id:
                    raise ValidationError(
                        self.env._(
                            "%(record)s belongs to %(company)s, and %(event)s to %(own)s: a "
                            "visit uses the packages and authorizations of its own company.",
                            record=record.display_name,
                            company=record.company_id.name,
                            event=event.display_name,
                            own=event.clinic_company_id.name,
                        )
                    )

    @api.ondelete(at_uninstall=False)
    def _unlink_clinic_release(self):
        if not is_trusted(self.env) and not self.env.user.has_group(GROUP_USER):
            clinic = self.filtered("clinic_patient_id")
            if clinic:
                raise AccessError(
                    self.env._(
                        "%(user)s may not delete clinic visits (%(event)s): it takes the Clinic "
                        "User role.",
                        user=self.env.user.name,
                        event=clinic[:1].display_name,
                    )
                )
        for event in self:
            if event.clinic_usage_id.state == "consumed":
                raise UserError(
                    self.env._(
                        "%(event)s was counted on package %(name)s (%(attendance)s) and cannot be "
                        "deleted. Undo the arrival or no-show first.",
                        event=event.display_name,
                        name=event.clinic_entitlement_id.name,
                        attendance=event._clinic_attendance_label(),
                    )
                )
        trusted(self.clinic_usage_id)._action_release("visit_removed")

    # ------------------------------------------------------------------ reservation
    def _clinic_sync_reservation(self, soft=False, picked=None):
        """Make each visit's package use match the visit: reserve one use of the chosen
        package, move it when the package or service changes, release it when the package is
        removed or the visit archived. A visit that breaks a limit of its package is refused
        with the reason, or, with `soft` (occurrences of a series), left without package and
        with the reason in its coverage note. `picked`: {visit id: package line} of visits
        whose package was just chosen for them (`_clinic_pick`), every limit but the uses
        left checked by that choice."""
        picked = picked or {}
        Usage = trusted(self.env["clinic.entitlement.usage"])
        uncovered = self.browse()
        for event in self:
            line = picked.get(event.id)
            # a visit just booked with a package picked for it has no use yet (its use is
            # then computed once, from the use booked below)
            usage = Usage.browse() if line else event.clinic_usage_id
            entitlement = event.clinic_entitlement_id
            if usage.state == "consumed":
                usage.write({"date": event._clinic_visit_date()})
                continue
            if not event.active or not entitlement or event.clinic_attendance != "upcoming":
                usage._action_release()
                continue
            try:
                if line and line.entitlement_id == entitlement and not usage:
                    # chosen by `_clinic_pick`: caps are counted again under the lock
                    entitlement._clinic_check_caps(event)
                else:
                    line = entitlement._clinic_check_covers(event)
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
                    usage._action_release()
                    # the visit's `clinic_usage_id` follows the new use's `event_id`
                    Usage._clinic_create_reserved(line, dict(values, reason="attended"))
            except UserError as error:
                if not soft:
                    raise
                usage._action_release()
                defer_sync(event).write(
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
                        attendance=event._clinic_attendance_label(),
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
        self.clinic_usage_id._action_consume(
            {"reason": reason, "user_id": self.user_id.id, "date": visit_date}
        )
        if entitlement.activation == "on_first_visit" and not entitlement.date_start:
            entitlement._clinic_start_validity(visit_date)

    def action_clinic_arrive(self):
        """The patient arrived: the package use is consumed and the visit billed."""
        self = self._clinic_begin(self.env._("arrived"))
        self._clinic_check_upcoming(self.env._("arrived"))
        self._clinic_check_not_future(self.env._("arrived"))
        for event in self:
            if event.clinic_entitlement_id:
                event._clinic_consume("attended")
            event.clinic_attendance = "arrived"
            event._clinic_bill_visit()
        return True

    def action_clinic_no_show(self, cover=True):
        """The patient did not come. `cover`: the package covers it (counts as a use, billed
        like an arrival); otherwise the use is released and the no-show fee invoiced."""
        self = self._clinic_begin(self.env._("a no-show"))
        self._clinic_check_upcoming(self.env._("a no-show"))
        self._clinic_check_not_future(self.env._("a no-show"))
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
                event.clinic_usage_id._action_release("no_show_fee")
                event.clinic_attendance = "no_show"
                event._clinic_bill_no_show_fee()
        return True

    def action_clinic_no_show_fee(self):
        return self.action_clinic_no_show(cover=False)

    def action_clinic_cancel(self, late=False):
        """Cancel the visit: the package use is released, unless it is a late cancellation
        and the package counts those."""
        action = self.env._("a late cancellation") if late else self.env._("cancelled")
        self = self._clinic_begin(action)
        self._clinic_check_upcoming(action)
        for event in self:
            entitlement = event.clinic_entitlement_id
            if late and entitlement and entitlement.count_late_cancel:
                event._clinic_consume("late_cancel")
            else:
                event.clinic_usage_id._action_release("cancelled")
            event.clinic_attendance = "late_cancel" if late else "cancelled"
        return True

    def action_clinic_late_cancel(self):
        return self.action_clinic_cancel(late=True)

    def action_clinic_reset(self):
        """Undo a mistaken arrival, no-show or cancellation while nothing downstream is
        posted: the visit is upcoming again and its package use booked again."""
        self = self._clinic_begin(self.env._("upcoming again"))
        for event in self:
            if event.clinic_attendance == "upcoming":
                raise UserError(
                    self.env._(
                        "%(event)s is still upcoming: there is nothing to undo.",
                        event=event.display_name,
                    )
                )
            # the visit's own draft invoice: the front desk may need no invoicing rights
            invoice = event.clinic_invoice_id.sudo()
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
                invoice.unlink()
            entitlement = event.clinic_entitlement_id
            defer_sync(event).clinic_attendance = "upcoming"
            if usage.state == "consumed":
                usage._action_unconsume()
            if entitlement:
                event._clinic_sync_reservation()
                if (
                    entitlement.activation == "on_first_visit"
                    and not entitlement.usage_ids.filtered(lambda u: u.state == "consumed")
                ):
                    entitlement.write({"date_start": False, "date_expiry": False})
        return True

    def _clinic_check_reset_usage(self):
        """Hook: refuse to undo a use whose accounting cannot be undone."""
        return True

    # ------------------------------------------------------------------ billing
