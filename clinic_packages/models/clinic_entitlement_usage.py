from collections import Counter

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import clean_context, format_date

from .clinic_guard import GROUP_USER, is_trusted

# what a use booked by `_clinic_create_reserved` takes from the reservation's row
# (`clinic.entitlement.line._clinic_reserve_one`, RESERVE_RETURNED): its package and service
# line, and what it copies of them (the package's owner and company, the line's service)
RESERVED_FROM_PACKAGE = {
    "entitlement_id": "id",
    "entitlement_line_id": "line_id",
    "partner_id": "partner_id",
    "company_id": "company_id",
    "service_product_id": "line_service_product_id",
}


class ClinicEntitlementUsage(models.Model):
    _name = "clinic.entitlement.usage"
    _inherit = ["clinic.guard.mixin"]
    _description = "Package Use"
    _order = "date desc, id desc"
    # a visit's use is booked, counted, released and undone by the visit's actions; the
    # front desk may also book a use by hand (no visit), then count or release it
    _clinic_user_create = True
    _clinic_create_fields = frozenset({"entitlement_id", "entitlement_line_id", "date", "user_id"})

    # -------------------------------------------------------------------------
    # FIELDS
    # -------------------------------------------------------------------------

    entitlement_id = fields.Many2one(
        "clinic.entitlement", string="Package", required=True, index=True, ondelete="restrict"
    )
    entitlement_line_id = fields.Many2one(
        "clinic.entitlement.line",
        string="Package Service",
        required=True,
        index=True,
        ondelete="restrict",
    )
    # precomputed: written by the INSERT of the use, not by an UPDATE after it
    partner_id = fields.Many2one(
        related="entitlement_id.partner_id", store=True, index=True, precompute=True
    )
    company_id = fields.Many2one(
        related="entitlement_id.company_id", store=True, index=True, precompute=True
    )
    currency_id = fields.Many2one(related="entitlement_id.currency_id")
    event_id = fields.Many2one(
        "calendar.event", string="Appointment", index="btree_not_null", ondelete="set null"
    )
    # who used it: the owner, or a family member the package is shared with
    patient_id = fields.Many2one(
        related="event_id.clinic_patient_id",
        store=True,
        precompute=True,
        string="Used By",
        index="btree_not_null",
    )
    service_product_id = fields.Many2one(
        related="entitlement_line_id.service_product_id",
        store=True,
        precompute=True,
        string="Service",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Practitioner",
        default=lambda self: self.env.user,
        help="Who delivered the visit (credited with its revenue).",
    )
    date = fields.Date(required=True, default=fields.Date.context_today)
    state = fields.Selection(
        [("reserved", "Booked"), ("consumed", "Used"), ("released", "Released")],
        required=True,
        default="reserved",
        index=True,
    )
    reason = fields.Selection(
        [
            # why a use was counted
            ("attended", "Attended"),
            ("no_show", "No-show"),
            ("late_cancel", "Late cancellation"),
            ("manual", "Recorded by hand"),
            # why a booked use was given back
            ("cancelled", "Visit cancelled"),
            ("no_show_fee", "No-show, fee charged"),
            ("visit_removed", "Visit deleted or archived"),
            ("moved", "Visit's package or service changed"),
            ("package_closed", "Package refunded or cancelled"),
            ("manual_release", "Released by hand"),
            ("released", "Released"),
        ],
        default="manual",
        required=True,
        help="Why the use was counted (used) or given back to its package (released).",
    )
    amount = fields.Monetary(
        string="Revenue Recognised",
        currency_field="currency_id",
        readonly=True,
        groups="base.group_user",
    )
    move_id = fields.Many2one(
        "account.move", string="Journal Entry", readonly=True, copy=False, groups="base.group_user"
    )
    recognition_waiting = fields.Boolean(
        string="Waiting for the Package Invoice",
        readonly=True,
        copy=False,
        help="Delivered before its package was invoiced: its value is recognised when the "
        "package invoice is posted, so that the package never owes a negative amount.",
    )

    # -------------------------------------------------------------------------
    # CRUD METHODS
    # -------------------------------------------------------------------------

    @api.model
    def _clinic_create_reserved(self, line, values):
        """A booked use of `line` (`values`: date, practitioner, visit, reason), inserted by
        the statement that takes its place (`clinic.entitlement.line._clinic_reserve_one`):
        one atomic UPDATE of the counters and the use's INSERT, rather than a lock, a
        recount and a counter write, whatever the package's history.

        The use gets what Odoo's create would give it: its defaults, the log columns, what
        it copies from its package and service line (from the reservation's row,
        RESERVED_FROM_PACKAGE) and from its visit (`_clinic_known_related`); then, as
        Odoo's create does after its INSERT, its values go to the cache, the relations
        that list uses and what depends on them are told (`modified`), its constraints are
        checked and the create access too. Stored fields it does not know are computed by
        Odoo as usual."""
        # the fields' own defaults only: a client's context defaults (`default_amount`,
        # `default_patient_id`, ...) reach no use
        self = self.with_context(clean_context(self.env.context))
        vals = self._add_missing_default_values(dict(values, state="reserved"))
        vals.update(self._clinic_known_related(vals))
        now = self.env.cr.now()
        vals.update(
            create_uid=self.env.uid, create_date=now, write_uid=self.env.uid, write_date=now
        )
        columns, given, later = [], [], []
        for name, field in self._fields.items():
            if not (field.store and field.column_type) or name == "id":
                continue
            if name in RESERVED_FROM_PACKAGE:
                columns.append(name)
            elif name in vals:
                columns.append(name)
                given.append(field.convert_to_column_insert(vals[name], self, vals))
            elif field.compute:
                later.append(field)
        row = line._clinic_reserve_one(tuple(columns), given)
        usage = self.browse(row["usage_id"])
        vals.update({name: row[source] for name, source in RESERVED_FROM_PACKAGE.items()})
        cache = self.env.cache
        for name, field in self._fields.items():
            if name in vals:
                value = field.convert_to_cache(vals[name], usage)
                cache.set(usage, field, value)
                if field.type == "many2one" and self.pool.field_inverses[field]:
                    # the package's, the line's and the visit's lists of uses, when read
                    field._update_inverses(usage, value)
            elif field.store and not field.compute and field.column_type:
                cache.set(usage, field, field.convert_to_cache(None, usage))
        given = [self._fields[name] for name in vals if self._fields[name].compute]
        with self.env.protecting(given, usage):
            usage.modified(list(self._fields), create=True)
        for field in later:
            self.env.add_to_compute(field, usage)
        usage._validate_fields(vals)
        usage.check_access("create")
        # the counters were taken with the place: no recount
        line._clinic_settle_reserved(row["settled"])
        return usage

    @api.model
    def _clinic_known_related(self, values):
        """The use's stored related fields of one step that `values` lets read from
        records in the cache (its visit's patient and location: the booking just wrote
        them), as Odoo would compute them through a new record."""
        known = {}
        for name, field in self._fields.items():
            path = field.related.split(".") if field.related else ()
            if not field.store or len(path) != 2 or name in values or name in RESERVED_FROM_PACKAGE:
                continue
            source, target = path
            if not values.get(source):
                continue
            # computed as Odoo computes a related field: as the superuser, in a business
            # action that has checked its caller
            record = self.env[self._fields[source].comodel_name].sudo().browse(values[source])
            known[name] = field.convert_to_write(record[target], self)
        return known

    @api.model_create_multi
    def create(self, vals_list):
        Line = self.env["clinic.entitlement.line"]
        for vals in vals_list:
            if not vals.get("entitlement_line_id") and vals.get("service_product_id"):
                entitlement = self.env["clinic.entitlement"].browse(vals["entitlement_id"])
                service = self.env["product.product"].browse(vals.pop("service_product_id"))
                line = entitlement._clinic_line_for(service)
                if not line:
                    raise UserError(
                        self.env._(
                            "Package %(name)s does not cover %(service)s. Choose a package "
                            "that includes it, or book the visit without a package.",
                            name=entitlement.name,
                            service=service.display_name,
                        )
                    )
                vals["entitlement_line_id"] = line.id
            vals.pop("service_product_id", None)
            if vals.get("entitlement_line_id"):
                line = Line.browse(vals["entitlement_line_id"])
                if not vals.get("entitlement_id"):
                    vals["entitlement_id"] = line.entitlement_id.id
                # before the line's capacity is asked: a use counts where its line is
                self._clinic_check_line_package(
                    self.env["clinic.entitlement"].browse(vals["entitlement_id"]), line
                )
            if not is_trusted(self.env):
                self._clinic_check_manual_values(vals)
        self._clinic_check_capacity(
            Counter(
                vals["entitlement_line_id"]
                for vals in vals_list
                if vals.get("state", "reserved") in ("reserved", "consumed")
            )
        )
        usages = super().create(vals_list)
        # trusted code (an import, a test) may create a use already delivered: it earns its value
        usages.filtered(lambda u: u.state == "consumed")._clinic_recognise()
        usages.entitlement_id._clinic_refresh_state()
        return usages

    @api.constrains("entitlement_id", "entitlement_line_id")
    def _check_line_of_package(self):
        for usage in self:
            self._clinic_check_line_package(usage.entitlement_id, usage.entitlement_line_id)

    @api.model
    def _clinic_check_line_package(self, entitlement, line):
        """A use is counted on a service line of its own package: the line's counters and
        the package's revenue must tell of the same use."""
        if line.entitlement_id != entitlement:
            raise ValidationError(
                self.env._(
                    "The service %(service)s chosen belongs to package %(line_package)s, not "
                    "to package %(name)s: choose a service of package %(name)s.",
                    service=line.service_product_id.display_name,
                    line_package=line.entitlement_id.name,
                    name=entitlement.name,
                )
            )

    @api.model
    def _clinic_check_manual_values(self, vals):
        """What the front desk gives a use it books by hand: a day within its package's
        validity (its revenue is recognised at that date), and the practitioner credited
        with it."""
        entitlement = self.env["clinic.entitlement"].browse(vals.get("entitlement_id"))
        if vals.get("date") and entitlement:
            day = fields.Date.to_date(vals["date"])
            start, expiry = entitlement.date_start, entitlement.date_expiry
            if (start and day < start) or (expiry and day > expiry):
                raise ValidationError(
                    self.env._(
                        "A use of package %(name)s is dated within its validity (%(start)s to "
                        "%(expiry)s), not on %(date)s.",
                        name=entitlement.name,
                        start=format_date(self.env, start) if start else "-",
                        expiry=format_date(self.env, expiry) if expiry else "-",
                        date=format_date(self.env, day),
                    )
                )
        if vals.get("user_id"):
            user = self.env["res.users"].sudo().browse(vals["user_id"]).exists()
            if not (user and user.clinic_practitioner and not user.share):
                raise ValidationError(
                    self.env._(
                        "%(user)s is not a practitioner: a use is credited to the practitioner "
                        "who saw the patient. Choose one (an administrator marks practitioners "
                        "on the user's Clinic tab).",
                        user=user.name or vals["user_id"],
                    )
                )

    @api.model
    def _clinic_check_capacity(self, wanted):
        """Refuse to take more uses than a package has left. `wanted` maps entitlement line
        ids to the number of uses asked for. The lines are locked first."""
        lines = self.env["clinic.entitlement.line"].browse(sorted(wanted))
        lines._clinic_lock()
        for line in lines:
            entitlement = line.entitlement_id
            if entitlement.state not in ("active",):
                raise UserError(
                    self.env._(
                        "Package %(name)s cannot be used: it is %(state)s.",
                        name=entitlement.name,
                        state=entitlement._clinic_state_label(),
                    )
                )
            if line._clinic_is_used_up(wanted[line.id]):
                raise line._clinic_used_up_error()

    def write(self, vals):
        """A use's state changes through `_action_consume`, `_action_unconsume` and
        `_action_release`, which post, reverse and refresh the package's state."""
        if vals.get("state") in ("reserved", "consumed"):
            # a released use taken back needs a free place again
            revived = self.filtered(lambda u: u.state == "released")
            if revived:
                self._clinic_check_capacity(Counter(revived.entitlement_line_id.ids))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_consumed(self):
        if any(usage.state == "consumed" for usage in self):
            raise UserError(
                self.env._(
                    "A delivered use cannot be deleted; undo the visit it belongs to instead."
                )
            )
        if not is_trusted(self.env) and any(usage.state == "reserved" for usage in self):
            # deleting a booked use would free it behind its visit's back
            raise UserError(
                self.env._(
                    "A booked use is not deleted: cancel its visit (or release a use booked by "
                    "hand) instead."
                )
            )

    # -------------------------------------------------------------------------
    # BUSINESS METHODS
    # -------------------------------------------------------------------------

    def _action_consume(self, values=None):
        """Deliver these uses: counted on their package, their value recognised (see
        `_clinic_recognise`). `values`: what the delivery also records (reason, practitioner,
        date)."""
        consumed = self.filtered(lambda u: u.state != "consumed")
        # a closed package's value already went to breakage or back to the patient:
        # counting a visit booked on it would recognise (or bill) that value twice
        for entitlement in consumed.entitlement_id.filtered(
            lambda e: e.state in ("expired", "refunded", "cancelled", "transferred")
        ):
            raise UserError(
                self.env._(
                    "Package %(name)s is %(state)s: a visit can no longer be counted on "
                    "it. Extend its expiry date (an expired package), or remove the "
                    "package from the visit.",
                    name=entitlement.name,
                    state=entitlement._clinic_state_label(),
                )
            )
        self.write({"state": "consumed", **(values or {})})
        consumed._clinic_recognise()
        self.entitlement_id._clinic_refresh_state()
        return True

    def _action_unconsume(self):
        """Undo delivered uses: booked again, their recognition entry reversed."""
        undone = self.filtered(lambda u: u.state == "consumed")
        undone.write({"state": "reserved"})
        for usage in undone:
            # the front desk undoes a visit without accounting rights
            move = usage.move_id.sudo()
            if move.clinic_move_kind == "recognition" and move.state == "posted":
                move._reverse_moves([{"ref": self.env._("Reversal: %s", move.ref)}], cancel=True)
            usage.write({"amount": 0.0, "move_id": False, "recognition_waiting": False})
        undone.entitlement_id._clinic_refresh_state()
        return True

    def _action_release(self, reason=None):
        """Give booked uses back to their package, saying why (`reason`, a value of the
        `reason` field; by default told from the use's visit, see `_clinic_release_reason`)."""
        released = self.filtered(lambda u: u.state == "reserved")
        if reason:
            released.write({"state": "released", "reason": reason})
        else:
            for usage in released:
                usage.write({"state": "released", "reason": usage._clinic_release_reason()})
        released.entitlement_id._clinic_refresh_state()
        return True

    def _clinic_release_reason(self):
        """Why this booked use is given back, as far as its visit tells: archived, moved to
        another package or service, cancelled or a no-show charged its fee (once the visit
        says so); else just released."""
        self.ensure_one()
        event = self.event_id
        if not event:
            return "released"
        if not event.active:
            return "visit_removed"
        if (
            event.clinic_entitlement_id != self.entitlement_id
            or event.clinic_service_id != self.service_product_id
        ):
            return "moved"
        return {
            "cancelled": "cancelled",
            "late_cancel": "cancelled",
            "no_show": "no_show_fee",
        }.get(event.clinic_attendance, "released")

    def _clinic_recognise(self):
        """A delivered use earns its value: Dr unearned revenue / Cr the service's income,
        credited to the practitioner. In prepaid mode the visit invoice does it."""
        for usage in self:
            entitlement = usage.entitlement_id
            amount = entitlement._clinic_use_value()
            values = {"amount": amount, "recognition_waiting": False}
            if (
                entitlement.billing_mode == "package_invoice"
                and usage.currency_id.compare_amounts(
                    amount, entitlement._clinic_deferred_money()[entitlement.id]["unearned"]
                )
                > 0
            ):
                # delivered before the package is invoiced (or beyond what was): its value
                # waits for the invoice instead of leaving the package owing a negative amount
                usage.write({"amount": 0.0, "recognition_waiting": True})
                continue
            if entitlement.billing_mode == "package_invoice" and not usage.currency_id.is_zero(
                amount
            ):
                deferred = entitlement.company_id._clinic_accounting()[0]
                service = usage.service_product_id.with_company(entitlement.company_id)
                income = service.product_tmpl_id._get_product_accounts()["income"]
                if not income:
                    raise UserError(
                        self.env._(
                            "%(service)s has no income account: set one on the product (or "
                            "its category) so that its visits can be recognised.",
                            service=service.display_name,
                        )
                    )
                practitioner = (usage.user_id or self.env.user).partner_id
                ref = self.env._(
                    "%(service)s on %(date)s, package %(name)s",
                    service=service.display_name,
                    date=usage.date,
                    name=entitlement.name,
                )
                values["move_id"] = entitlement._clinic_post_entry(
                    "recognition",
                    [(deferred, amount, entitlement.partner_id), (income, -amount, practitioner)],
                    ref,
                    date=usage.date,
                ).id
            usage.write(values)

    def _clinic_begin_manual(self, action):
        """A use recorded by hand (no visit): the front desk's action. A visit's use
        follows its visit's buttons."""
        if is_trusted(self.env):
            return self
        self._clinic_check_group(GROUP_USER, action)
        self.check_access("write")
        for usage in self.filtered("event_id"):
            raise UserError(
                self.env._(
                    "This use belongs to %(event)s: mark the visit arrived, no-show or "
                    "cancelled instead.",
                    event=usage.event_id.display_name,
                )
            )
        return self._clinic_trusted()

    # -------------------------------------------------------------------------
    # ACTIONS
    # -------------------------------------------------------------------------

    def action_consume(self):
        """Record a booked use as delivered (used)."""
        self = self._clinic_begin_manual(self.env._("count a use by hand"))
        today = fields.Date.context_today(self)
        for usage in self:
            if usage.state != "reserved":
                raise UserError(self.env._("Only a booked use can be marked as used."))
            if usage.date > today:
                # its revenue is recognised at its date, never ahead of it
                raise UserError(
                    self.env._(
                        "This use is dated %(date)s: it can be counted on that day, not before.",
                        date=format_date(self.env, usage.date),
                    )
                )
        self._action_consume()
        return True

    def action_release(self):
        self = self._clinic_begin_manual(self.env._("release a use by hand"))
        for usage in self:
            if usage.state != "reserved":
                raise UserError(
                    self.env._(
                        "Only a booked use can be released; a delivered use is undone "
                        "from its visit."
                    )
                )
        self._action_release("manual_release")
        return True
