from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .clinic_entitlement import CLOSED_STATES
from .clinic_entitlement_usage import RESERVED_FROM_PACKAGE
from .clinic_guard import GROUP_MANAGER, INT_MAX, is_trusted

# one booked use, as the atomic UPDATE of `_clinic_reserve_one` takes it: each counter it
# changes, with the SQL of its new value (`l`: the line, `e`: its package, `line`: the line's
# updated row). The other fields of their compute methods (`used`, `uses_total`, ...) a booked
# use leaves unchanged. The UPDATE is written from these, and so is what Odoo is kept from
# recounting after the use's INSERT (`_clinic_settle_reserved`).
RESERVE_LINE_SET = {
    "reserved": "l.reserved + 1",
    "remaining": "CASE WHEN l.unlimited THEN l.remaining ELSE l.remaining - 1 END",
}
# what the reservation statement returns of the package and its line (`package.<column>`)
RESERVE_RETURNED = ("id", "partner_id", "company_id", "line_id", "line_service_product_id")
RESERVE_PACKAGE_SET = {
    "uses_reserved": "e.uses_reserved + 1",
    "uses_remaining": "e.uses_remaining - (CASE WHEN line.unlimited THEN 0 ELSE 1 END)",
}


class ClinicEntitlementLine(models.Model):
    _name = "clinic.entitlement.line"
    _inherit = ["clinic.guard.mixin"]
    _description = "Patient Package Service"
    _order = "entitlement_id, sequence, id"
    # the counters are computed from the uses; a manager may change the uses bought and the
    # patient-pays amount of an open package
    _clinic_user_fields = frozenset({"sequence"})
    _clinic_manager_fields = frozenset({"quantity", "patient_pays"})

    entitlement_id = fields.Many2one(
        "clinic.entitlement", string="Package", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="entitlement_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="entitlement_id.currency_id")
    sequence = fields.Integer(default=10)
    service_product_id = fields.Many2one(
        "product.product",
        string="Service",
        required=True,
        ondelete="restrict",
        domain="[('type', '=', 'service'), ('clinic_package_ok', '=', False)]",
    )
    quantity = fields.Integer(string="Bought", required=True, default=1)
    # a membership period may give unlimited uses: the counters still count, nothing refuses
    unlimited = fields.Boolean(
        string="Unlimited uses",
        default=False,
        help="Any number of visits of this service: booking never finds it used up (its "
        "uses are still counted).",
    )
    patient_pays = fields.Monetary(string="Patient Pays per Use", currency_field="currency_id")
    usage_ids = fields.One2many("clinic.entitlement.usage", "entitlement_line_id", string="Uses")
    used_before = fields.Integer(
        string="Used Before Import",
        readonly=True,
        copy=False,
        help="Uses consumed in the system the package was imported from (part of Used).",
    )
    used = fields.Integer(compute="_compute_counters", store=True)
    reserved = fields.Integer(string="Booked", compute="_compute_counters", store=True)
    remaining = fields.Integer(string="Left", compute="_compute_counters", store=True)

    _sql_constraints = [
        # the last word on over-use, whatever the code path: the database refuses it
        (
            "counters_check",
            "CHECK(unlimited OR used + reserved <= quantity)",
            "A package cannot be over-used.",
        ),
        ("quantity_check", "CHECK(quantity > 0)", "A package service needs at least one use."),
        ("used_before_check", "CHECK(used_before >= 0)", "Uses before import cannot be negative."),
        (
            "service_uniq",
            "unique(entitlement_id, service_product_id)",
            "A package lists each service once.",
        ),
    ]

    @api.depends("quantity", "unlimited", "used_before", "usage_ids.state", "entitlement_id.state")
    def _compute_counters(self):
        # counted in SQL: the cost does not grow with the number of past visits
        counts = {
            (line.id, state): count
            for line, state, count in self.env["clinic.entitlement.usage"]._read_group(
                [("entitlement_line_id", "in", self._origin.ids)],
                ["entitlement_line_id", "state"],
                ["__count"],
            )
        }
        for line in self:
            line.used = line.used_before + counts.get((line._origin.id, "consumed"), 0)
            line.reserved = counts.get((line._origin.id, "reserved"), 0)
            # a refunded or cancelled package has nothing left: its uses were paid back
            # or never sold (the uses delivered stay counted); an unlimited service has no
            # number left (`unlimited` says it, `_clinic_left_text` shows it)
            line.remaining = (
                0
                if line.entitlement_id.state in CLOSED_STATES or line.unlimited
                else line.quantity - line.used - line.reserved
            )

    def write(self, vals):
        if not is_trusted(self.env) and {"quantity", "patient_pays"}.intersection(vals):
            for line in self:
                entitlement = line.entitlement_id
                if not entitlement.can_extend:
                    raise entitlement._clinic_state_error(self.env._("changed"))
        res = super().write(vals)
        if "quantity" in vals and not is_trusted(self.env):
            self._clinic_trusted()._clinic_quantity_changed()
            for line in self:
                line.entitlement_id.message_post(
                    body=self.env._(
                        "%(service)s: uses bought set to %(qty)s by %(user)s.",
                        service=line.service_product_id.display_name,
                        qty=line.quantity,
                        user=self.env.user.name,
                    )
                )
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_sold(self):
        if not is_trusted(self.env):
            raise UserError(
                self.env._(
                    "A package keeps the services it was sold with: change the uses bought "
                    "instead, or cancel or refund the package."
                )
            )

    @api.constrains("patient_pays")
    def _check_patient_pays(self):
        for line in self:
            if line.currency_id.compare_amounts(line.patient_pays, 0) < 0:
                raise ValidationError(
                    self.env._(
                        "Package %(name)s: the patient-pays amount of %(service)s cannot be "
                        "negative. Enter 0 when the package covers the visit.",
                        name=line.entitlement_id.name,
                        service=line.service_product_id.display_name,
                    )
                )

    @api.constrains("quantity", "unlimited")
    def _check_quantity(self):
        for line in self:
            if line.quantity < 1 or (
                not line.unlimited and line.quantity < line.used + line.reserved
            ):
                raise ValidationError(
                    self.env._(
                        "Package %(name)s: %(service)s cannot have %(qty)s uses, %(taken)s are "
                        "already used or booked.",
                        name=line.entitlement_id.name,
                        service=line.service_product_id.display_name,
                        qty=line.quantity,
                        taken=line.used + line.reserved,
                    )
                )

    def _clinic_is_used_up(self, wanted=1):
        """Whether this service has fewer than `wanted` uses left (never when unlimited)."""
        self.ensure_one()
        return not self.unlimited and self.remaining < wanted

    def _clinic_left_text(self):
        """What is left of this service, for people: "5 of 8" or "unlimited"."""
        self.ensure_one()
        if self.unlimited:
            return self.env._("unlimited")
        return self.env._("%(left)s of %(qty)s", left=max(self.remaining, 0), qty=self.quantity)

    def _clinic_used_up_error(self):
        self.ensure_one()
        return UserError(
            self.env._(
                "Package %(name)s has no %(service)s left (%(used)s used, %(booked)s booked of "
                "%(qty)s). Sell the patient a new package, or book the visit without one.",
                name=self.entitlement_id.name,
                service=self.service_product_id.display_name,
                used=self.used,
                booked=self.reserved,
                qty=self.quantity,
            )
        )

    def _clinic_quantity_changed(self):
        """The uses bought of these lines changed (the adjust wizard, a manager's edit): their
        packages' state follows (used up, or open again), and a package invoiced at sale
        left used up recognises what it still holds as breakage."""
        for entitlement in self.entitlement_id:
            entitlement._clinic_refresh_state()
            if (
                entitlement.state == "exhausted"
                and entitlement.billing_mode == "package_invoice"
                and not entitlement.uses_reserved
            ):
                entitlement._clinic_post_breakage(
                    self.env._("Uses removed from package %(name)s", name=entitlement.name)
                )

    def _clinic_adjust_uses(self, delta, reason):
        """Add (`delta` > 0) or remove (`delta` < 0) uses of this service, for `reason`
        (Clinic Manager). Adding uses adds no money: the package's unearned value is spread
        over more uses (a use never takes more than what is left). Removing leaves at least
        the uses used or booked; a package invoiced at sale left used up recognises what it
        still holds as breakage. The reason goes to the package's chatter."""
        self.ensure_one()
        entitlement = self.entitlement_id
        action = self.env._("adjust the uses of a package")
        entitlement._clinic_begin(GROUP_MANAGER, action)
        self = self._clinic_trusted()
        entitlement = self.entitlement_id
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Say why the uses are adjusted: the reason is required."))
        if not delta:
            raise UserError(self.env._("Enter a number of uses to add (+) or remove (-)."))
        if not entitlement.can_extend:
            raise entitlement._clinic_state_error(self.env._("adjusted"))
        if self.unlimited:
            raise UserError(
                self.env._(
                    "Package %(name)s: %(service)s has unlimited uses, nothing to add or remove.",
                    name=entitlement.name,
                    service=self.service_product_id.display_name,
                )
            )
        self._clinic_lock()
        before = self.quantity
        taken = self.used + self.reserved
        if before + delta > INT_MAX:
            raise UserError(
                self.env._(
                    "Package %(name)s: %(service)s cannot have %(qty)s uses. Enter a smaller "
                    "number to add.",
                    name=entitlement.name,
                    service=self.service_product_id.display_name,
                    qty=before + delta,
                )
            )
        if before + delta < max(taken, 1):
            raise UserError(
                self.env._(
                    "Package %(name)s: %(service)s has %(qty)s uses, %(taken)s used or booked; "
                    "at most %(most)s can be removed. Release booked visits first to remove "
                    "more, or refund the package.",
                    name=entitlement.name,
                    service=self.service_product_id.display_name,
                    qty=before,
                    taken=taken,
                    most=before - max(taken, 1),
                )
            )
        self.write({"quantity": before + delta})
        self._clinic_quantity_changed()
        # formatted outside the translated call: the .pot extractor cannot read f-strings there
        change = f"{delta:+d}"
        entitlement.message_post(
            body=self.env._(
                "%(service)s: %(change)s use(s) by %(user)s (%(before)s → %(after)s). "
                "Reason: %(reason)s",
                service=self.service_product_id.display_name,
                change=change,
                user=self.env.user.name,
                before=before,
                after=self.quantity,
                reason=reason,
            )
        )
        return True

    def _clinic_reserve_one(self, columns, values):
        """Take one use of this service for a booking, in one statement: the line's counters
        and its package's go up only while the package is active and the service has a use
        left (or is unlimited). The UPDATE locks the row until the end of the transaction,
        so a second booking of the last use waits, then finds none left (and the CHECK
        constraint stands behind it). Raises the used-up or state error when nothing was
        taken. `_clinic_settle_reserved` then keeps Odoo from recounting what it wrote.

        The booked use is inserted by the same statement
        (`clinic.entitlement.usage._clinic_create_reserved`): `columns` are its columns,
        those of RESERVED_FROM_PACKAGE taken from the reservation's row, the others from
        `values`, in order. Returns {name: value} of RESERVE_RETURNED (the package's id,
        owner and company, the line's id and service), the use's id (`usage_id`) and what
        Odoo is not to recount (`settled`, for `_clinic_settle_reserved`)."""
        self.ensure_one()
        Entitlement = self.env["clinic.entitlement"]
        # what is pending on the counters goes to the database first: the UPDATE adds to
        # them, and what it leaves exact is then taken out of Odoo's queue
        settled = self._clinic_reserve_settled()
        for model, names in settled.items():
            self.env[model].flush_model(names)
        self.flush_model(["quantity", "unlimited"])
        Entitlement.flush_model(["state"])
        code, order = self._clinic_reserve_statement(columns)
        given = [self.env.uid, self.id, *values]
        self.env.cr.execute(code, [given[index] for index in order])
        rows = self.env.cr.dictfetchall()
        self.invalidate_recordset(list(RESERVE_LINE_SET), flush=False)
        if not rows:
            entitlement = self.entitlement_id
            if entitlement.state != "active":
                raise UserError(
                    self.env._(
                        "Package %(name)s cannot be used: it is %(state)s.",
                        name=entitlement.name,
                        state=entitlement._clinic_state_label(),
                    )
                )
            raise self._clinic_used_up_error()
        row = rows[0]
        entitlement = Entitlement.browse(row["id"])
        entitlement.invalidate_recordset(list(RESERVE_PACKAGE_SET), flush=False)
        # what a use copies from them, known without reading
        cache = self.env.cache
        cache.insert_missing(self, self._fields["entitlement_id"], [row["id"]])
        cache.insert_missing(
            self, self._fields["service_product_id"], [row["line_service_product_id"]]
        )
        cache.insert_missing(entitlement, entitlement._fields["partner_id"], [row["partner_id"]])
        cache.insert_missing(entitlement, entitlement._fields["company_id"], [row["company_id"]])
        return dict(row, settled=settled)

    @api.model
    @tools.ormcache("columns")
    def _clinic_reserve_statement(self, columns):
        """The statement of `_clinic_reserve_one` for a use of `columns`, built once per
        columns: (SQL code, the position of each of its parameters in [user, line, the use's
        values in the order of its columns])."""
        # stand-ins for the values, to read where the statement takes each
        user, line, *values = stand_ins = [object() for _index in range(2 + len(columns))]
        terms = []
        given = iter(values)
        for name in columns:
            if name in RESERVED_FROM_PACKAGE:
                terms.append(SQL("package.%s", SQL.identifier(RESERVED_FROM_PACKAGE[name])))
            else:
                terms.append(SQL("%s", next(given)))
        line_set = SQL(", ").join(
            SQL("%s = %s", SQL.identifier(name), SQL(expression))
            for name, expression in RESERVE_LINE_SET.items()
        )
        package_set = SQL(", ").join(
            SQL("%s = %s", SQL.identifier(name), SQL(expression))
            for name, expression in RESERVE_PACKAGE_SET.items()
        )
        # the use is inserted from the package's updated row: no row, no use
        then = SQL(
            ", usage AS (INSERT INTO clinic_entitlement_usage (%s) SELECT %s FROM package "
            "RETURNING id) SELECT %s, usage.id AS usage_id FROM package, usage",
            SQL(", ").join(SQL.identifier(name) for name in columns),
            SQL(", ").join(terms),
            SQL(", ").join(SQL("package.%s", SQL.identifier(name)) for name in RESERVE_RETURNED),
        )
        query = SQL(
            """
            WITH line AS (
                UPDATE clinic_entitlement_line AS l
                   SET %(line_set)s,
                       write_uid = %(uid)s,
                       write_date = now() AT TIME ZONE 'UTC'
                 WHERE l.id = %(id)s
                   AND (l.unlimited OR l.used + l.reserved < l.quantity)
                   AND EXISTS (
                       SELECT FROM clinic_entitlement AS e
                        WHERE e.id = l.entitlement_id AND e.state = 'active'
                   )
             RETURNING l.id, l.entitlement_id, l.service_product_id, l.unlimited
            ), package AS (
                UPDATE clinic_entitlement AS e
                   SET %(package_set)s
                  FROM line
                 WHERE e.id = line.entitlement_id
             RETURNING e.id, e.partner_id, e.company_id, line.id AS line_id,
                       line.service_product_id AS line_service_product_id
            )
            %(then)s
            """,
            line_set=line_set,
            package_set=package_set,
            id=line,
            uid=user,
            then=then,
        )
        position = {id(stand_in): index for index, stand_in in enumerate(stand_ins)}
        return query.code, tuple(position[id(param)] for param in query.params)

    @api.model
    def _clinic_reserve_counters(self):
        """{model name: columns} `_clinic_reserve_one` sets."""
        return {
            self._name: tuple(RESERVE_LINE_SET),
            "clinic.entitlement": tuple(RESERVE_PACKAGE_SET),
        }

    @api.model
    def _clinic_reserve_settled(self):
        """{model name: field names} a booked use's INSERT would have Odoo recount and
        `_clinic_reserve_one` leaves exact (`clinic.atomic.counters`)."""
        return self.env["clinic.atomic.counters"]._clinic_settled(
            "clinic.entitlement.usage", self._clinic_reserve_counters()
        )

    def _clinic_settle_reserved(self, settled):
        """After the INSERT of the uses booked on these lines by `_clinic_reserve_one`: what
        the reservation wrote is not recounted by Odoo (`settled`: what it returned)."""
        self.env["clinic.atomic.counters"]._clinic_settle(
            settled,
            {self._name: self, "clinic.entitlement": self.entitlement_id},
        )

    def _clinic_lock(self):
        """Lock these lines until the end of the transaction, so that two bookings of the
        last use cannot both pass the check (the second waits, then sees the first)."""
        if self.ids:
            self.env.cr.execute(
                "SELECT id FROM clinic_entitlement_line WHERE id IN %s ORDER BY id FOR UPDATE",
                [tuple(self.ids)],
            )
            self.invalidate_recordset(["used", "reserved", "remaining"])
