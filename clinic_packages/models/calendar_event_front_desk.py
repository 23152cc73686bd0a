"""The front desk's side of a clinic visit: who sees the patient (a practitioner, the
visit's organizer), who is invited (the patient and the practitioner), what the visit is
called ("Patient – Service") and how long it lasts (the service's visit length), and which
packages the form offers (only those that can pay for it)."""

from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date

from .clinic_guard import GROUP_USER, internal_value


class CalendarEvent(models.Model):
    _inherit = "calendar.event"  # pylint: disable=consider-merging-classes-inherited

    clinic_practitioner_id = fields.Many2one(
        related="user_id",
        string="Practitioner",
        help="Who sees the patient: the visit's organizer.",
    )
    clinic_usable_entitlement_ids = fields.Many2many(
        "clinic.entitlement",
        compute="_compute_clinic_usable_entitlement_ids",
        string="Usable Packages",
        help="The patient's packages that can pay for this visit: what the package field offers.",
    )

    @api.model
    def default_get(self, fields_list):
        defaults = super().default_get(fields_list)
        if self.env.context.get("clinic_visit"):
            # a visit booked at the front desk: the organizer is the practitioner who sees
            # the patient (the one booking, only if they are a practitioner), and the
            # attendees are the patient and the practitioner, filled when they are chosen
            if "user_id" in defaults and not self.env.user.clinic_practitioner:
                defaults["user_id"] = False
            if "partner_ids" in defaults and "default_partner_ids" not in self.env.context:
                defaults["partner_ids"] = [Command.clear()]
        return defaults

    # ------------------------------------------------------------------ computes
    @api.depends(
        "clinic_patient_id",
        "clinic_service_id",
        "clinic_location_id",
        "user_id",
        "start",
        "start_date",
        "clinic_attendance",
        "clinic_entitlement_id",
    )
    def _compute_clinic_usable_entitlement_ids(self):
        Entitlement = self.env["clinic.entitlement"]
        for event in self:
            usable = Entitlement.browse()
            if event.clinic_attendance == "upcoming":
                usable = Entitlement._clinic_usable_for_visit(event)
            # the package the visit already holds stays (its use may be the last one)
            event.clinic_usable_entitlement_ids = usable | event.clinic_entitlement_id

    def _compute_user_can_edit(self):
        """The front desk edits the clinic visits it books for practitioners (Odoo lets only
        the organizer and attendees edit a meeting)."""
        res = super()._compute_user_can_edit()
        if self.env.user.has_group(GROUP_USER):
            clinic_context = self.env.context.get("clinic_visit")
            for event in self:
                if event.clinic_patient_id or (clinic_context and not event._origin):
                    event.user_can_edit = True
        return res

    # ------------------------------------------------------------------ form
    @api.onchange("clinic_patient_id", "clinic_service_id")
    def _onchange_clinic_visit_name(self):
        if (
            self.clinic_patient_id
            and self.clinic_service_id
            and (not self.name or " – " in self.name)
        ):
            self.name = self._clinic_visit_name(self.clinic_patient_id, self.clinic_service_id)

    @api.onchange("clinic_service_id")
    def _onchange_clinic_visit_length(self):
        minutes = self.clinic_service_id.clinic_visit_minutes
        if minutes and not self.allday:
            self.duration = minutes / 60.0

    @api.onchange("clinic_patient_id", "user_id")
    def _onchange_clinic_attendees(self):
        if self.clinic_patient_id:
            wanted = self._clinic_visit_attendees(self.clinic_patient_id, self.user_id)
            missing = wanted - self.partner_ids
            if missing:
                self.partner_ids = [Command.link(partner.id) for partner in missing]

    @api.model
    def _clinic_visit_attendees(self, patient, practitioner):
        """Who a clinic visit invites: the patient and the practitioner."""
        return patient | practitioner.partner_id

    @api.model
    def _clinic_visit_name(self, patient, service):
        return f"{patient.name} – {service.name}"

    # ------------------------------------------------------------------ create / write
    @api.model
    def _clinic_prepare_visit_vals(self, vals_list):
        """Fill what the front desk should not have to type on a new clinic visit: its name,
        its length from the service, the organizer (the booking practitioner, never a
        receptionist by default) and the attendees (patient and practitioner)."""
        Partner = self.env["res.partner"]
        Product = self.env["product.product"]
        Users = self.env["res.users"]
        for vals in vals_list:
            if not vals.get("clinic_patient_id"):
                continue
            patient = Partner.browse(vals["clinic_patient_id"])
            service = Product.browse(vals.get("clinic_service_id") or [])
            if not vals.get("name") and service:
                vals["name"] = self._clinic_visit_name(patient, service)
            minutes = service.clinic_visit_minutes
            if (
                minutes
                and vals.get("start")
                and not vals.get("allday")
                and not {"stop", "duration"} & set(vals)
            ):
                start = fields.Datetime.to_datetime(vals["start"])
                vals["stop"] = start + timedelta(minutes=minutes)
            if "user_id" not in vals:
                user_id = self.env.context.get("default_user_id", self.env.user.id)
                user = Users.browse(user_id)
                vals["user_id"] = user.id if user.clinic_practitioner else False
            practitioner = Users.browse(vals.get("user_id") or [])
            # refused before anything is written (the constraint then skips new visits)
            self._clinic_check_practitioner(practitioner, vals.get("name") or patient.name)
            wanted = self._clinic_visit_attendees(patient, practitioner)
            if "partner_ids" not in vals and "default_partner_ids" not in self.env.context:
                vals["partner_ids"] = [Command.set(wanted.ids)]
            else:
                # those the caller invites already are not invited twice (Odoo would make
                # each link a second attendee)
                commands = list(vals.get("partner_ids") or [])
                if commands and isinstance(commands[0], int):
                    commands = [Command.set(commands)]
                invited = set()
                for command in commands:
                    if command[0] == Command.SET:
                        invited = set(command[2])
                    elif command[0] == Command.LINK:
                        invited.add(command[1])
                    elif command[0] in (Command.UNLINK, Command.DELETE):
                        invited.discard(command[1])
                    elif command[0] == Command.CLEAR:
                        invited = set()
                vals["partner_ids"] = commands + [
                    Command.link(partner.id) for partner in wanted if partner.id not in invited
                ]
        return vals_list

    def _clinic_sync_attendees(self, previous):
        """After the patient or the practitioner of visits changed: the new ones are
        invited, the former ones (`previous`: {event id: partners}) no longer."""
        for event in self.filtered("clinic_patient_id"):
            wanted = self._clinic_visit_attendees(event.clinic_patient_id, event.user_id)
            gone = previous.get(event.id, self.env["res.partner"]) - wanted
            commands = [Command.unlink(partner.id) for partner in gone & event.partner_ids]
            commands += [Command.link(partner.id) for partner in wanted - event.partner_ids]
            if commands:
                event.partner_ids = commands

    @api.constrains("user_id", "clinic_patient_id")
    def _check_clinic_practitioner(self):
        if internal_value(self.env, "clinic_practitioner_checked"):
            return  # new visits: checked in `_clinic_prepare_visit_vals`, before the INSERT
        for event in self.filtered("clinic_patient_id"):
            if not event.user_id.clinic_practitioner:
                # the visit's name is read for the message only (it costs a privacy check)
                self._clinic_check_practitioner(event.user_id, event.display_name)

    @api.model
    def _clinic_check_practitioner(self, user, name):
        """A clinic visit's organizer is a practitioner: the use is credited to them."""
        if not user:
            raise ValidationError(
                self.env._(
                    "%(event)s has no practitioner: choose who sees the patient (the package "
                    "use is credited to them).",
                    event=name,
                )
            )
        if not user.clinic_practitioner:
            raise ValidationError(
                self.env._(
                    "%(user)s is not a practitioner and cannot be the organizer of %(event)s: "
                    "choose the practitioner who sees the patient (the package use is "
                    "credited to them). An administrator marks practitioners on the user's "
                    "Clinic tab.",
                    user=user.name,
                    event=name,
                )
            )

    # ------------------------------------------------------------------ attendance
    def _clinic_check_not_future(self, action):
        """A visit is counted (arrived, no-show) on or after its day, never before: its
        revenue is recognised at that date."""
        today = fields.Date.context_today(self)
        for event in self:
            if event._clinic_visit_date() > today:
                raise ValidationError(
                    self.env._(
                        "%(event)s is on %(date)s: it cannot be marked %(action)s before its "
                        "day. Move the visit to today if the patient came early.",
                        event=event.display_name,
                        date=format_date(self.env, event._clinic_visit_date()),
                        action=action,
                    )
                )
