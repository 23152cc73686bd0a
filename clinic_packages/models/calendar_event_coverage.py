"""Who pays for a visit, as the visit asks it: the patient's package
(`clinic.entitlement`, clinic_entitlement_coverage.py) and authorizations
(`clinic.authorization`, clinic_authorization_coverage.py) decide whether they cover it;
the visit picks them when booked, keeps the chosen ones, says in red what does not apply
(`clinic_warning`) and explains every party considered (`clinic_coverage_trace`)."""

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from .calendar_event import AUTHORIZATION_FIELDS, defer_sync, is_sync_deferred

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
    def _clinic_pick_for_vals(self, vals):
        """(package, its line of the service) that pays for a visit booked with `vals`."""
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
        return self.env["clinic.entitlement"]._clinic_pick(probe)
