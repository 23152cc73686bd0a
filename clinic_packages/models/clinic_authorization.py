from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools.misc import format_date

from .clinic_guard import is_trusted

AUTH_TYPE_SELECTION = [("sessions", "Sessions"), ("units", "Units")]
FREQUENCY_SELECTION = [
    ("period", "Whole Period"),
    ("day", "Per Day"),
    ("week", "Per Week"),
    ("month", "Per Month"),
]
# visits counted on an authorization: kept (arrived) and upcoming (booked, not yet kept);
# no-shows and cancellations are never billed to a payer, so they never count
COUNTED_ATTENDANCES = ("arrived", "upcoming")

# the terms under which an authorization counted its visits
TERMS_OF_VISITS = {"auth_type", "date_start", "date_end", "service_product_ids", "pending"}


class ClinicAuthorization(models.Model):
    _name = "clinic.authorization"
    _description = "Insurance Authorization"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "clinic.reminder.mixin",
        "clinic.guard.mixin",
    ]
    _order = "date_end desc nulls first, id desc"
    _check_company_auto = True
    # the front desk enters what the payer approved; what was used, booked and the status
    # are counted from the visits
    _clinic_user_create = True
    _clinic_create_fields = frozenset({"company_id"})
    _clinic_user_fields = frozenset(
        {
            "name",
            "partner_id",
            "payer_id",
            "auth_type",
            "date_start",
            "date_end",
            "service_product_ids",
            "allowed",
            "frequency",
            "frequency_limit",
            "pending",
            "inactive",
            "priority",
            "note",
        }
    )

    name = fields.Char(string="Authorization Number", required=True, index="trigram", tracking=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Patient",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    payer_id = fields.Many2one(
        "res.partner",
        index="btree_not_null",
        tracking=True,
        check_company=True,
        help="The insurer that approved the visits. Archiving the payer makes its "
        "authorizations inactive.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    auth_type = fields.Selection(
        AUTH_TYPE_SELECTION,
        string="Type",
        required=True,
        default="sessions",
        tracking=True,
        help="Sessions: each visit counts 1. Units: each visit counts its units (from the "
        "service's units per visit, or its duration).",
    )
    date_start = fields.Date(
        string="Start", required=True, default=fields.Date.context_today, tracking=True
    )
    date_end = fields.Date(string="End", tracking=True)
    service_product_ids = fields.Many2many(
        "product.product",
        "clinic_authorization_service_rel",
        "authorization_id",
        "product_id",
        string="Procedure Codes",
        domain="[('type', '=', 'service'), ('clinic_package_ok', '=', False)]",
        help="The services this authorization covers. Empty: all services.",
    )
    allowed = fields.Integer(
        string="Approved",
        tracking=True,
        help="Sessions or units the payer approved for the whole period. 0: no limit on the "
        "number (an end date is then required).",
    )
    frequency = fields.Selection(
        FREQUENCY_SELECTION,
        required=True,
        default="period",
        help="A further limit per calendar day, week (Monday to Sunday) or month.",
    )
    frequency_limit = fields.Integer(
        string="Limit per Day/Week/Month",
        help="Sessions or units allowed in each day, week or month of the period.",
    )
    pending = fields.Boolean(
        tracking=True,
        help="Not approved yet: a pending authorization is never applied to a visit.",
    )
    inactive = fields.Boolean(
        string="Marked Inactive",
        tracking=True,
        help="The patient's insurance no longer applies: the authorization is kept for the "
        "record and covers no more visits.",
    )
    priority = fields.Selection(
        [("primary", "Primary"), ("secondary", "Secondary")],
        required=True,
        default="primary",
        help="Bookings use an applicable primary authorization before a secondary one.",
    )
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("active", "Active"),
            ("inactive", "Inactive"),
            ("expired", "Expired"),
            ("exhausted", "Exhausted"),
        ],
        string="Status",
        compute="_compute_state",
        store=True,
        index=True,
        tracking=True,
    )
    event_ids = fields.One2many("calendar.event", "clinic_authorization_id", string="Visits")
    used = fields.Integer(
        compute="_compute_counters",
        store=True,
        help="Sessions or units of kept (arrived) visits.",
    )
    scheduled = fields.Integer(
        compute="_compute_counters",
        store=True,
        help="Sessions or units of upcoming visits.",
    )
    remaining = fields.Integer(
        compute="_compute_remaining",
        store=True,
        help="Approved minus used (minus scheduled when the company counts kept and upcoming "
        "visits). Negative: visits were booked beyond the authorization.",
    )
    utilization = fields.Float(
        string="Utilization (%)",
        compute="_compute_remaining",
        store=True,
        aggregator="avg",
        digits=(16, 1),
        help="Used as a percentage of approved.",
    )
    note = fields.Text(string="Notes")
    # brought from another system by Clinic > Configuration > Import (clinic.import)
    used_before = fields.Integer(
        string="Kept Before Import",
        readonly=True,
        copy=False,
        help="Sessions or units kept in the system the authorization was imported from: "
        "counted as kept (part of Used).",
    )
    imported = fields.Boolean(readonly=True, copy=False)
    converted = fields.Boolean(
        readonly=True,
        copy=False,
        help="Imported with missing data completed by the conversion rules: start = the "
        "import date, end = 12 months later, services = all. Review its dates and services.",
    )
    import_reference = fields.Char(
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The authorization's reference in the system it was imported from: importing a "
        "file again updates the authorization with this reference.",
    )

    _sql_constraints = [
        ("allowed_check", "CHECK(allowed >= 0)", "The approved amount cannot be negative."),
        (
            "frequency_limit_check",
            "CHECK(frequency_limit >= 0)",
            "The limit per day, week or month cannot be negative.",
        ),
        (
            "used_before_check",
            "CHECK(used_before >= 0)",
            "What was kept before the import cannot be negative.",
        ),
        (
            "import_reference_uniq",
            "unique(company_id, import_reference)",
            "Another authorization was imported with this reference.",
        ),
    ]

    # ------------------------------------------------------------------ computes
    @api.depends(
        "auth_type",
        "used_before",
        "event_ids.clinic_attendance",
        "event_ids.clinic_units",
        "event_ids.active",
    )
    def _compute_counters(self):
        # summed in SQL: the cost does not grow with the number of past visits
        amounts = self._clinic_amounts()
        for authorization in self:
            kept, upcoming = amounts.get(authorization._origin.id, (0, 0))
            authorization.used = kept
            authorization.scheduled = upcoming

    @api.depends("allowed", "used", "scheduled", "company_id.clinic_count_upcoming")
    def _compute_remaining(self):
        for authorization in self:
            allowed = authorization.allowed
            counted = authorization._clinic_counted(authorization.used, authorization.scheduled)
            authorization.remaining = allowed - counted if allowed else 0
            authorization.utilization = 100.0 * authorization.used / allowed if allowed else 0.0

    @api.depends(
        "pending",
        "inactive",
        "payer_id.active",
        "date_end",
        "allowed",
        "remaining",
    )
    def _compute_state(self):
        # time-dependent: `_cron_reminders` recomputes it every day for the end dates passed
        today = fields.Date.context_today(self)
        for authorization in self:
            if authorization._clinic_inactive_reason():
                state = "inactive"
            elif authorization.date_end and authorization.date_end < today:
                state = "expired"
            elif authorization.pending:
                state = "pending"
            elif authorization.allowed and authorization.remaining <= 0:
                state = "exhausted"
            else:
                state = "active"
            authorization.state = state

    @api.depends("name", "payer_id")
    def _compute_display_name(self):
        for authorization in self:
            authorization.display_name = (
                f"{authorization.name} ({authorization.payer_id.name})"
                if authorization.payer_id
                else authorization.name
            )

    # ------------------------------------------------------------------ constraints
    @api.constrains("date_start", "date_end", "allowed", "frequency", "frequency_limit")
    def _check_limits(self):
        for authorization in self:
            name = authorization.name
            if not authorization.date_end and not authorization.allowed:
                raise ValidationError(
                    self.env._(
                        "Authorization %(name)s needs an end date or a number of approved "
                        "%(unit)s (or both).",
                        name=name,
                        unit=authorization._clinic_unit_label(),
                    )
                )
            if authorization.date_end and authorization.date_end < authorization.date_start:
                raise ValidationError(
                    self.env._(
                        "Authorization %(name)s cannot end on %(end)s, before it starts on "
                        "%(start)s.",
                        name=name,
                        end=format_date(self.env, authorization.date_end),
                        start=format_date(self.env, authorization.date_start),
                    )
                )
            if authorization.frequency != "period" and authorization.frequency_limit <= 0:
                raise ValidationError(
                    self.env._(
                        "Authorization %(name)s: enter how many %(unit)s are allowed %(per)s, "
                        "or choose the whole period as frequency.",
                        name=name,
                        unit=authorization._clinic_unit_label(),
                        per=authorization._clinic_frequency_label(),
                    )
                )

    # ------------------------------------------------------------------ create / write
    def write(self, vals):
        if "partner_id" in vals and not is_trusted(self.env):
            for authorization in self:
                if authorization.event_ids and authorization.partner_id.id != vals["partner_id"]:
                    raise UserError(
                        self.env._(
                            "Authorization %(name)s already counts visits of %(patient)s: it "
                            "cannot move to another patient. Enter a new authorization for "
                            "them instead.",
                            name=authorization.name,
                            patient=authorization.partner_id.display_name,
                        )
                    )
        if not is_trusted(self.env) and TERMS_OF_VISITS.intersection(vals):
            self._clinic_check_terms_keep_visits(vals)
        res = super().write(vals)
        # a new approved amount or end date starts the matching reminders afresh
        prefixes = tuple(
            prefix
            for field, prefix in (("allowed", "left:"), ("date_end", "days:"))
            if field in vals
        )
        if prefixes and "reminders_sent" not in vals:
            self._clinic_trusted()._clinic_forget_reminders(prefixes)
        return res

    def _clinic_check_terms_keep_visits(self, vals):
        """What an authorization already counts (its kept and booked visits) was counted
        under its terms: its unit, dates, services and approval. New terms must still cover
        those visits; otherwise the visits are moved or cancelled first (or a new
        authorization entered for the new terms)."""
        for authorization in self.filtered("event_ids"):
            visits = authorization.event_ids.filtered(
                lambda e: e.clinic_attendance not in ("cancelled",)
            )
            if not visits:
                continue
            # the terms as they would be: a draft of the authorization with the new values
            new = authorization.new(
                {name: authorization[name] for name in TERMS_OF_VISITS}, origin=authorization
            )
            new.update({name: vals[name] for name in TERMS_OF_VISITS.intersection(vals)})
            problem = None
            if new.auth_type != authorization.auth_type:
                problem = self.env._(
                    "its type (visits are counted in %s)", authorization._clinic_unit_label()
                )
            elif new.pending and not authorization.pending:
                problem = self.env._("pending (it was approved: visits count on it)")
            else:
                for visit in visits:
                    day = visit._clinic_visit_date()
                    if (new.date_start and day < new.date_start) or (
                        new.date_end and day > new.date_end
                    ):
                        problem = self.env._("dates that leave out the visit of %s", day)
                        break
                    if new.service_product_ids and (
                        visit.clinic_service_id not in new.service_product_ids
                    ):
                        problem = self.env._(
                            "services that leave out %s", visit.clinic_service_id.display_name
                        )
                        break
            if problem:
                raise UserError(
                    self.env._(
                        "Authorization %(name)s already counts %(count)s visit(s): it cannot "
                        "be given %(problem)s. Move or cancel those visits first, or enter a "
                        "new authorization for the new terms.",
                        name=authorization.name,
                        count=len(visits),
                        problem=problem,
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        for authorization in self:
            if authorization.used or authorization.scheduled:
                raise UserError(
                    self.env._(
                        "Authorization %(name)s cannot be deleted: %(used)s %(unit)s were kept "
                        "and %(scheduled)s are booked on it. Mark it inactive instead, so that "
                        "its history is kept.",
                        name=authorization.name,
                        used=authorization.used,
                        scheduled=authorization.scheduled,
                        unit=authorization._clinic_unit_label(),
                    )
                )

    # ------------------------------------------------------------------ counting
    def _clinic_amounts(self, domain=(), before_import=True):
        """{authorization id: (kept, upcoming)} of these authorizations, summed over their
        visits matching `domain`: a visit counts 1 on a sessions authorization and its units
        on a units one. One query, whatever the number of visits. `before_import`: what was
        kept before an import counts as kept (over the whole period: not in a day, week or
        month window, whose visits it does not date)."""
        types = {authorization._origin.id: authorization.auth_type for authorization in self}
        groups = (
            self.env["calendar.event"]
            .sudo()
            ._read_group(
                expression.AND(
                    [
                        [
                            ("clinic_authorization_id", "in", self._origin.ids),
                            ("clinic_attendance", "in", COUNTED_ATTENDANCES),
                        ],
                        list(domain),
                    ]
                ),
                ["clinic_authorization_id", "clinic_attendance"],
                ["__count", "clinic_units:sum"],
            )
        )
        amounts = {}
        for authorization, attendance, count, units in groups:
            kept, upcoming = amounts.get(authorization.id, (0, 0))
            amount = (units or 0) if types.get(authorization.id) == "units" else count
            if attendance == "arrived":
                kept += amount
            else:
                upcoming += amount
            amounts[authorization.id] = (kept, upcoming)
        if before_import:
            for authorization in self.filtered("used_before"):
                kept, upcoming = amounts.get(authorization._origin.id, (0, 0))
                amounts[authorization._origin.id] = (kept + authorization.used_before, upcoming)
        return amounts

    def _clinic_counted(self, kept, upcoming):
        """What counts against the limits: kept visits, plus the upcoming ones when the
        company counts kept and upcoming visits."""
        self.ensure_one()
        return kept + upcoming if self.company_id.clinic_count_upcoming else kept

    def _clinic_amount_of(self, event):
        """Sessions or units `event` takes from this authorization."""
        self.ensure_one()
        return 1 if self.auth_type == "sessions" else event.clinic_units

    def _clinic_window(self, day):
        """First and last day of the frequency window holding `day` (calendar day, ISO
        week Monday to Sunday, calendar month)."""
        self.ensure_one()
        if self.frequency == "day":
            return day, day
        if self.frequency == "week":
            first = day - timedelta(days=day.weekday())
            return first, first + timedelta(days=6)
        if self.frequency == "month":
            first = day.replace(day=1)
            following = (first + timedelta(days=32)).replace(day=1)
            return first, following - timedelta(days=1)
        return self.date_start, self.date_end

    def _clinic_window_label(self, day):
        self.ensure_one()
        first, last = self._clinic_window(day)
        if self.frequency == "day":
            return self.env._("on %s", first)
        if self.frequency == "week":
            return self.env._("in the week of %(first)s to %(last)s", first=first, last=last)
        return self.env._("in %s", format_date(self.env, first, date_format="MMMM y"))

    def _clinic_frequency_label(self):
        """'per day', 'per week', 'per month' or 'over the whole period'."""
        self.ensure_one()
        return {
            "period": self.env._("over the whole period"),
            "day": self.env._("per day"),
            "week": self.env._("per week"),
            "month": self.env._("per month"),
        }[self.frequency]

    def _clinic_unit_label(self):
        self.ensure_one()
        return self.env._("units") if self.auth_type == "units" else self.env._("sessions")

    def _clinic_how_counted(self):
        self.ensure_one()
        if self.company_id.clinic_count_upcoming:
            return self.env._("kept or booked")
        return self.env._("kept")

    def _clinic_inactive_reason(self):
        """Why the authorization covers no more visits, or False."""
        self.ensure_one()
        if self.inactive:
            return self.env._("it was marked inactive")
        if self.payer_id and not self.payer_id.active:
            return self.env._("its payer %s is archived", self.payer_id.name)
        return False

    def _clinic_lock(self):
        """Lock these authorizations until the end of the transaction, so that two bookings
        of the last session or unit cannot both pass the check: the second waits, then
        fails to serialize (the first updated the row's counters) and is retried, seeing
        the first booking."""
        if self.ids:
            self.env.cr.execute(
                "SELECT id FROM clinic_authorization WHERE id IN %s ORDER BY id FOR UPDATE",
                [tuple(self.ids)],
            )
            self.invalidate_recordset(["used", "scheduled", "remaining", "state"])

    # ------------------------------------------------------------------ reminders
    def _clinic_refresh_state(self):
        """Recompute the status of these authorizations (it depends on today's date)."""
        self.env.add_to_compute(self._fields["state"], self)
        self._recompute_recordset(["state"])

    @api.model
    def _cron_reminders(self):
        """Daily: expire authorizations past their end date, then remind the patient's
        responsible user when an authorization reaches the company's threshold of sessions
        or units left, or is the configured number of days from its end. Each reminder is
        sent once per authorization."""
        today = fields.Date.context_today(self)
        self.search(
            [("state", "not in", ("expired", "inactive")), ("date_end", "<", today)]
        )._clinic_refresh_state()
        open_states = ("active", "exhausted")
        companies = self._read_group([("state", "in", open_states)], ["company_id"])
        for (company,) in companies:
            days = company._clinic_alert_day_list()
            threshold = company.clinic_alert_remaining
            conditions = [[("allowed", ">", 0), ("remaining", "<=", threshold)]]
            if days:
                conditions.append(
                    [
                        ("date_end", "!=", False),
                        ("date_end", "<=", today + timedelta(days=max(days))),
                    ]
                )
            authorizations = self.search(
                expression.AND(
                    [
                        [
                            ("company_id", "=", company.id),
                            ("state", "in", open_states),
                        ],
                        expression.OR(conditions),
                    ]
                )
            )
            for authorization in authorizations:
                authorization._clinic_send_reminders(threshold, days, today)

    def _clinic_send_reminders(self, threshold, days, today):
        self.ensure_one()
        reminders = []
        if self.allowed and self.remaining <= threshold:
            reminders.append(
                (
                    [f"left:{threshold}"],
                    self.env._("Authorization %s is running out", self.name),
                    self.env._(
                        "Authorization %(name)s of %(patient)s has %(left)s of %(allowed)s "
                        "%(unit)s left (%(used)s used, %(scheduled)s booked). Ask the payer "
                        "for more if the treatment continues.",
                        name=self.name,
                        patient=self.partner_id.name,
                        left=max(self.remaining, 0),
                        allowed=self.allowed,
                        unit=self._clinic_unit_label(),
                        used=self.used,
                        scheduled=self.scheduled,
                    ),
                )
            )
        if self.date_end:
            days_left, due = self._clinic_days_due(self.date_end, days, today)
            if due:
                reminders.append(
                    (
                        due,
                        self.env._("Authorization %s ends soon", self.name),
                        self.env._(
                            "Authorization %(name)s of %(patient)s ends on %(end)s, in "
                            "%(days)s day(s). Ask the payer to renew it if the treatment "
                            "continues.",
                            name=self.name,
                            patient=self.partner_id.name,
                            end=format_date(self.env, self.date_end),
                            days=days_left,
                        ),
                    )
                )
        return self._clinic_remind(reminders, self.partner_id.user_id or self.create_uid, today)

    # ------------------------------------------------------------------ actions
    def action_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_packages.clinic_visit_action"
        )
        action.update(
            {
                "name": self.env._("Visits of %s", self.name),
                "view_mode": "list,calendar,form",
                "views": [(False, "list"), (False, "calendar"), (False, "form")],
                "domain": [("clinic_authorization_id", "=", self.id)],
                "context": {
                    "default_clinic_patient_id": self.partner_id.id,
                    "default_clinic_authorization_id": self.id,
                },
            }
        )
        return action
