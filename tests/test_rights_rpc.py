"""Who may do what, tried as outside clients: XML-RPC and JSON-RPC calls through the real
HTTP server, as a Clinic User (front desk), a Sales user without clinic role, a portal
patient, a user of a second company and a Clinic Manager.

Every refused call must leave counters, states, prices, owners and journal entries as they
were; every bad input must get a clear message (an Odoo warning or access error, never a
server traceback) and write nothing.

Run with pytest-odoo's `--odoo-http` (scripts/test.sh does); without it HttpCase is skipped.
"""

import json
from datetime import date, datetime, time, timedelta

from odoo import Command
from odoo.tests import HttpCase, new_test_user

from .common import RPC_WARNING as WARNING
from .common import ClinicRpcMixin, ClinicTestMixin

# Odoo's XML-RPC fault codes: a warning (UserError, ValidationError), an access error; any
# other code carries a server traceback
# visits within the packages' validity (180 days from today)
DAY = date.today() + timedelta(days=14)
VISIT = datetime.combine(DAY, time(10, 0))


def at(days, hour=10, minute=0):
    """'YYYY-MM-DD HH:MM:SS' (UTC), `days` after VISIT, as an RPC client sends datetimes."""
    moment = datetime.combine(DAY + timedelta(days=days), time(hour, minute))
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class RightsCase(ClinicRpcMixin, ClinicTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()
        env = cls.env
        env.user.tz = "UTC"
        cls.salesman = new_test_user(
            env, login="sales_only", groups="sales_team.group_sale_salesman"
        )
        cls.company_b, cls.user_b = cls._clinic_other_company(
            "clinic_user_b",
            groups="clinic_packages.group_clinic_user,sales_team.group_sale_salesman",
        )
        cls.portal_patient = new_test_user(
            env, login="portal_maria", groups="base.group_portal", partner_id=cls.patient.id
        )
        cls.no_show_fee = env["product.product"].create(
            {"name": "No-show fee", "type": "service", "list_price": 40.0}
        )
        # a package sold, invoiced and paid: 8 physio visits
        order = cls.env["sale.order"].create(
            {
                "partner_id": cls.patient.id,
                "order_line": [Command.create({"product_id": cls.package_physio8.id})],
            }
        )
        order.action_confirm()
        invoice = order._create_invoices()
        invoice.action_post()
        cls.entitlement = order.clinic_entitlement_ids
        cls.line = cls.entitlement.line_ids
        # one visit booked, one arrived
        cls.booked = cls._visit(VISIT)
        cls.arrived = cls._visit(VISIT - timedelta(days=14))  # today: counted on its day
        cls.arrived.action_clinic_arrive()
        # a refunded package and a cancelled one
        cls.refunded = cls._sold(cls.package_physio8)
        cls.refunded._clinic_refund(0.0)
        cls.cancelled = cls._sold(cls.package_physio8)
        cls.cancelled.action_cancel()
        # an insurance authorization of 4 units a month
        cls.authorization = env["clinic.authorization"].create(
            {
                "name": "AUTH-1",
                "partner_id": cls.patient_2.id,
                "auth_type": "sessions",
                "date_start": str(DAY - timedelta(days=30)),
                "date_end": str(DAY + timedelta(days=300)),
                "allowed": 3,
            }
        )

    @classmethod
    def _visit(cls, start, patient=None, **values):
        return cls.env["calendar.event"].create(
            {
                "name": "Visit",
                "start": start,
                "stop": start + timedelta(minutes=45),
                "clinic_patient_id": (patient or cls.patient).id,
                "clinic_service_id": cls.physio.id,
                "user_id": cls.practitioner.id,
                "partner_ids": [Command.clear()],
                **values,
            }
        )

    @classmethod
    def _sold(cls, product):
        order = cls.env["sale.order"].create(
            {
                "partner_id": cls.patient.id,
                "order_line": [Command.create({"product_id": product.id})],
            }
        )
        order.action_confirm()
        return order.clinic_entitlement_ids

    def _payment(self, partner, amount, package=None):
        """A draft customer payment of `partner` into the bank (prepaying `package`)."""
        bank = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", self.company.id)], limit=1
        )
        return self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": amount,
                "journal_id": bank.id,
                "clinic_entitlement_id": package.id if package else False,
            }
        )

    def _open_credit(self, partner, amount):
        """The receivable item of a posted payment of `partner`: a credit to apply."""
        payment = self._payment(partner, amount)
        payment.action_post()
        return payment.move_id.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )

    # ------------------------------------------------------------------ clients
    def snapshot(self):
        """Counters, states, prices, owners and entries of everything the probes aim at."""
        self.env.invalidate_all()
        packages = self.entitlement | self.refunded | self.cancelled
        return {
            "packages": packages.read(
                ["state", "partner_id", "amount_total", "amount_untaxed", "date_expiry"]
            ),
            "lines": packages.line_ids.read(["quantity", "used", "reserved", "remaining"]),
            "uses": self.env["clinic.entitlement.usage"]
            .search([])
            .read(["state", "amount", "entitlement_line_id", "event_id", "move_id"]),
            "visits": self.env["calendar.event"]
            .search([("clinic_patient_id", "!=", False)])
            .read(["clinic_attendance", "clinic_entitlement_id", "clinic_usage_id"]),
            "authorization": self.authorization.read(["used", "scheduled", "state"]),
            "entries": self.env["account.move"].search_count([]),
            "items": self.env["account.move.line"].search_count([]),
        }


class TestFrontDeskCannotBypassActions(RightsCase):
    """A Clinic User books, arrives, cancels, extends and pauses through the actions; the
    counters, states, prices and owners behind them are not writable."""

    def test_package_counters_are_not_writable(self):
        user = self.receptionist
        for field, value in (("quantity", 50), ("used", 0), ("reserved", 0), ("remaining", 50)):
            with self.subTest(field=field):
                self.refused(
                    user, "clinic.entitlement.line", "write", self.line.ids, {field: value}
                )

    def test_package_state_price_and_owner_are_not_writable(self):
        user = self.receptionist
        for package, values in (
            (self.cancelled, {"state": "active"}),
            (self.refunded, {"state": "active"}),
            (self.entitlement, {"amount_untaxed": 1.0}),
            (self.entitlement, {"amount_total": 1.0}),
            (self.entitlement, {"partner_id": self.patient_2.id}),
            (
                self.entitlement,
                {"line_ids": [(0, 0, {"service_product_id": self.massage.id, "quantity": 40})]},
            ),
        ):
            with self.subTest(values=values):
                self.refused(user, "clinic.entitlement", "write", package.ids, values)
        # extending a refunded package is refused with its reason
        self.refused(
            user,
            "clinic.entitlement",
            "write",
            self.refunded.ids,
            {"date_expiry": "2040-01-01"},
            code=WARNING,
            match="cannot be extended",
        )

    def test_uses_are_not_writable_nor_creatable(self):
        user = self.receptionist
        use = self.arrived.clinic_usage_id
        other = self._sold(self.package_physio8)
        for values in (
            {"state": "released"},
            {"amount": 0.0},
            {"entitlement_line_id": other.line_ids.id},
            {"location_id": self.location_2.id},
        ):
            with self.subTest(values=values):
                self.refused(user, "clinic.entitlement.usage", "write", use.ids, values)
        self.refused(
            user,
            "clinic.entitlement.usage",
            "create",
            {
                "entitlement_id": self.entitlement.id,
                "entitlement_line_id": self.line.id,
                "state": "consumed",
                "reason": "manual",
            },
        )
        # no package out of thin air
        self.refused(
            user,
            "clinic.entitlement",
            "create",
            {"partner_id": self.patient.id, "product_id": self.package_physio8.id},
        )
        # a visit's use is counted from the visit, not by hand
        self.refused(
            user,
            "clinic.entitlement.usage",
            "action_consume",
            self.booked.clinic_usage_id.ids,
            code=WARNING,
            match="mark the visit arrived",
        )

    def test_visit_actions_fields_are_not_writable(self):
        user = self.receptionist
        for values in (
            {"clinic_attendance": "arrived"},
            {"clinic_usage_id": False},
            # nor are uses re-pointed through the visit's list of uses
            {"clinic_usage_ids": [(5, 0, 0)]},
            {"clinic_usage_ids": [(4, self.arrived.clinic_usage_id.id, 0)]},
            {"clinic_usage_ids": [(6, 0, self.arrived.clinic_usage_id.ids)]},
            {"clinic_invoice_id": False},
            {"clinic_company_id": self.company_b.id},
        ):
            with self.subTest(values=values):
                self.refused(user, "calendar.event", "write", self.booked.ids, values)
        self.refused(
            user,
            "calendar.event",
            "create",
            {
                "name": "Visit",
                "start": at(1, 10),
                "stop": at(1, 10, 45),
                "clinic_patient_id": self.patient.id,
                "clinic_service_id": self.physio.id,
                "clinic_attendance": "arrived",
            },
        )

    def test_authorization_counts_are_not_writable(self):
        for values in ({"used": 0}, {"scheduled": 0}, {"state": "active"}, {"remaining": 10}):
            with self.subTest(values=values):
                self.refused(
                    self.receptionist,
                    "clinic.authorization",
                    "write",
                    self.authorization.ids,
                    values,
                )

    def test_uses_and_services_are_not_deleted_directly(self):
        """Even a manager, who may delete records, frees no booked use and removes no
        service of a sold package by deleting it."""
        self.refused(
            self.manager,
            "clinic.entitlement.usage",
            "unlink",
            self.booked.clinic_usage_id.ids,
            code=WARNING,
            match="cancel its visit",
        )
        self.refused(
            self.manager,
            "clinic.entitlement.line",
            "unlink",
            self.line.ids,
            code=WARNING,
            match="keeps the services it was sold with",
        )

    def test_cancel_and_refund_are_for_managers(self):
        package = self._sold(self.package_physio8)
        self.refused(self.receptionist, "clinic.entitlement", "action_cancel", package.ids)
        self.refused(self.receptionist, "clinic.entitlement", "action_refund", package.ids)
        self.rpc(self.manager, "clinic.entitlement", "action_cancel", package.ids)
        self.assertEqual(package.state, "cancelled")

    def test_front_desk_actions_work_over_rpc(self):
        """What a Clinic User is meant to do works for one with no other group: book,
        arrive, undo (its visit invoice removed), no-show with fee, pause, extend."""
        self.company.clinic_no_show_product_id = self.no_show_fee
        self.line.patient_pays = 15.0  # the arrival bills a visit invoice
        desk = self.practitioner  # Clinic User only: no sales, no invoicing
        event_id = self.rpc(
            desk,
            "calendar.event",
            "create",
            {
                "name": "Visit",
                "start": at(-14, 10),
                "stop": at(-14, 10, 45),
                "clinic_patient_id": self.patient.id,
                "clinic_service_id": self.physio.id,
                "user_id": self.practitioner.id,
            },
        )
        event = self.env["calendar.event"].browse(event_id)
        self.assertEqual(event.clinic_entitlement_id, self.entitlement)
        self.assertEqual(event.clinic_usage_id.state, "reserved")
        self.rpc(desk, "calendar.event", "action_clinic_arrive", [event_id])
        self.env.invalidate_all()
        self.assertEqual(event.clinic_usage_id.state, "consumed")
        self.assertEqual(event.clinic_invoice_id.amount_total, 15.0)
        self.rpc(desk, "calendar.event", "action_clinic_reset", [event_id])
        self.env.invalidate_all()
        self.assertEqual(event.clinic_attendance, "upcoming")
        self.assertEqual(event.clinic_usage_id.state, "reserved")
        self.assertFalse(event.clinic_invoice_id)
        self.rpc(desk, "calendar.event", "action_clinic_no_show_fee", [event_id])
        self.env.invalidate_all()
        self.assertEqual(event.clinic_usage_id.state, "released")
        self.assertEqual(event.clinic_invoice_id.invoice_line_ids.product_id, self.no_show_fee)
        self.rpc(desk, "clinic.entitlement", "action_pause", self.entitlement.ids)
        self.rpc(desk, "clinic.entitlement", "action_resume", self.entitlement.ids)
        self.rpc(
            desk, "clinic.entitlement", "write", self.entitlement.ids, {"date_expiry": "2040-01-01"}
        )
        self.env.invalidate_all()
        self.assertEqual(self.entitlement.state, "active")
        self.assertEqual(str(self.entitlement.date_expiry), "2040-01-01")

    def test_internal_context_keys_are_not_honoured(self):
        """A client passing the addon's internal context keys gets no shortcut: the block
        on bookings without authorization still applies."""
        self.company.clinic_block_unauthorized = True
        self.company.clinic_count_upcoming = True
        for _i in range(3):
            self._visit(
                VISIT + timedelta(days=_i), patient=self.patient_2, clinic_entitlement_id=False
            )
        self.assertEqual(self.authorization.scheduled, 3)
        values = {
            "name": "Visit",
            "start": at(17, 10),
            "stop": at(17, 10, 45),
            "clinic_patient_id": self.patient_2.id,
            "clinic_service_id": self.physio.id,
            "clinic_entitlement_id": False,
            "user_id": self.practitioner.id,
        }
        for context in (
            {"clinic_defer_reservation": True},
            {"clinic_trusted": True},
            {"clinic_defer_reservation": True, "clinic_trusted": True},
        ):
            with self.subTest(context=context):
                self.refused(
                    self.receptionist,
                    "calendar.event",
                    "create",
                    values,
                    context=context,
                    code=WARNING,
                    match="cannot be booked",
                )

    def test_context_defaults_count_as_values(self):
        # a visit created with a default attendance starts upcoming all the same
        event_id = self.rpc(
            self.receptionist,
            "calendar.event",
            "create",
            {
                "name": "Visit",
                "start": at(9, 10),
                "stop": at(9, 10, 45),
                "clinic_patient_id": self.patient.id,
                "clinic_service_id": self.physio.id,
                "user_id": self.practitioner.id,
            },
            context={"default_clinic_attendance": "arrived", "default_clinic_usage_id": False},
        )
        event = self.env["calendar.event"].browse(event_id)
        self.assertEqual(event.clinic_attendance, "upcoming")
        self.assertEqual(event.clinic_usage_id.state, "reserved")
        # a Sales user's default patient is a patient all the same
        self.refused(
            self.salesman,
            "calendar.event",
            "create",
            {"name": "Visit", "start": at(10, 10), "stop": at(10, 10, 45)},
            context={
                "default_clinic_patient_id": self.patient.id,
                "default_clinic_service_id": self.physio.id,
            },
        )

        # a default for a counted field is dropped: the authorization starts afresh
        authorization_id = self.rpc(
            self.receptionist,
            "clinic.authorization",
            "create",
            {
                "name": "AUTH-2",
                "partner_id": self.patient.id,
                "date_end": str(DAY + timedelta(days=300)),
            },
            context={"default_reminders_sent": "left:2,days:30", "default_state": "expired"},
        )
        authorization = self.env["clinic.authorization"].browse(authorization_id)
        self.assertFalse(authorization.reminders_sent)
        self.assertEqual(authorization.state, "active")


class TestOtherRoles(RightsCase):
    def test_sales_user_without_clinic_role(self):
        """Sells and reads packages, but books, moves, counts and deletes no clinic visit."""
        user = self.salesman
        self.refused(
            user,
            "calendar.event",
            "create",
            {
                "name": "Visit",
                "start": at(2, 10),
                "stop": at(2, 10, 45),
                "clinic_patient_id": self.patient.id,
                "clinic_service_id": self.physio.id,
            },
        )
        self.refused(
            user, "calendar.event", "write", self.booked.ids, {"clinic_attendance": "arrived"}
        )
        self.refused(
            user,
            "calendar.event",
            "write",
            self.booked.ids,
            {"start": at(29), "stop": at(29, 10, 45)},
        )
        self.refused(user, "calendar.event", "unlink", self.booked.ids)
        self.refused(user, "calendar.event", "action_clinic_arrive", self.booked.ids)
        # a plain meeting is still theirs to create
        meeting = self.rpc(
            user,
            "calendar.event",
            "create",
            {"name": "Team meeting", "start": at(2, 12), "stop": at(2, 13)},
        )
        self.assertTrue(meeting)
        # and they read packages
        found = self.rpc(
            user,
            "clinic.entitlement",
            "search_read",
            [("id", "=", self.entitlement.id)],
            fields=["uses_remaining"],
        )
        self.assertEqual(found[0]["uses_remaining"], 6)

    def test_other_company_sees_and_changes_nothing(self):
        user = self.user_b
        visits = self.rpc(
            user,
            "calendar.event",
            "search_read",
            [("clinic_patient_id", "!=", False)],
            fields=["name"],
        )
        self.assertEqual(visits, [])
        self.refused(user, "calendar.event", "read", self.booked.ids, fields=["clinic_patient_id"])
        self.refused(user, "calendar.event", "action_clinic_arrive", self.booked.ids)
        self.refused(user, "clinic.entitlement", "read", self.entitlement.ids, fields=["name"])
        self.refused(user, "clinic.authorization", "read", self.authorization.ids, fields=["used"])

    def test_portal_patient_reads_own_only_and_writes_nothing(self):
        user = self.portal_patient
        own = self.rpc(user, "clinic.entitlement", "search_read", [], fields=["name"])
        self.assertEqual(
            {row["id"] for row in own}, set((self.entitlement | self.refunded | self.cancelled).ids)
        )
        self.refused(user, "clinic.entitlement.line", "write", self.line.ids, {"quantity": 50})
        self.refused(
            user, "clinic.entitlement", "write", self.entitlement.ids, {"date_expiry": "2040-01-01"}
        )
        self.refused(user, "calendar.event", "action_clinic_cancel", self.booked.ids)

    def test_patients_and_salespeople_stay_out_of_the_clinics_books(self):
        """A patient reads their package, not the clinic's accounting of it (their
        statement gives them the figures); neither they nor a salesperson follow its chatter,
        through which they could post on it."""
        user = self.portal_patient
        for name in ("amount_total", "deferred_balance", "unit_value", "sale_order_id"):
            with self.subTest(field=name):
                self.refused(user, "clinic.entitlement", "read", self.entitlement.ids, [name])
        self.refused(
            user, "clinic.entitlement.usage", "read", self.arrived.clinic_usage_id.ids, ["move_id"]
        )
        for who in (user, self.salesman):
            with self.subTest(user=who.login):
                self.refused(
                    who,
                    "clinic.entitlement",
                    "message_subscribe",
                    self.entitlement.ids,
                    partner_ids=who.partner_id.ids,
                )
        self.env.invalidate_all()
        self.assertNotIn(user.partner_id, self.entitlement.message_partner_ids)

    def test_json_rpc_is_held_to_the_same_rules(self):
        """The web client's own protocol: the same write, refused the same way."""
        self.authenticate(self.receptionist.login, self.receptionist.login)
        response = self.url_open(
            "/web/dataset/call_kw/clinic.entitlement.line/write",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": "clinic.entitlement.line",
                        "method": "write",
                        "args": [self.line.ids, {"quantity": 50}],
                        "kwargs": {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        error = response.json()["error"]["data"]
        self.assertEqual(error["name"], "odoo.exceptions.AccessError")
        self.assertIn("change only through the clinic's actions", error["message"])
        self.env.invalidate_all()
        self.assertEqual(self.line.quantity, 8)


class TestBadInput(RightsCase):
    """Each bad value gets a sentence saying what is wrong, and nothing is written."""

    def test_package_configuration(self):
        tmpl = self.package_physio8.product_tmpl_id
        self.refused(
            self.manager,
            "product.template",
            "write",
            tmpl.ids,
            {"clinic_package_line_ids": [(1, tmpl.clinic_package_line_ids.id, {"quantity": 2.5})]},
            code=WARNING,
            match="whole number",
        )
        self.refused(
            self.manager,
            "product.template",
            "write",
            self.physio.product_tmpl_id.ids,
            {"clinic_units": 0},
            code=WARNING,
            match="at least 1 unit",
        )
        self.refused(
            self.manager,
            "product.template",
            "write",
            tmpl.ids,
            {"clinic_validity_days": 2.0**40},
            code=WARNING,
            match="out of range",
        )

    def test_negative_package_sale(self):
        order = self.env["sale.order"].create({"partner_id": self.patient_2.id})
        self.refused(
            self.receptionist,
            "sale.order.line",
            "create",
            {"order_id": order.id, "product_id": self.package_physio8.id, "product_uom_qty": -1},
            code=WARNING,
            match="whole units",
        )

    def test_visit_values(self):
        base = {
            "name": "Visit",
            "start": at(3, 10),
            "stop": at(3, 10, 45),
            "clinic_patient_id": self.patient_2.id,
            "user_id": self.practitioner.id,
        }
        for values, match in (
            ({"clinic_service_id": self.package_physio8.id}, "is a package"),
            ({"clinic_service_id": self.physio.id, "clinic_units": -10}, "at least 1 unit"),
            ({"clinic_service_id": self.physio.id, "clinic_units": "ten"}, "whole number"),
            ({"clinic_service_id": 987654321}, "does not exist"),
            # the booking's look-up says the patient is missing: the same answer
            (
                {"clinic_service_id": self.physio.id, "clinic_patient_id": 987654321},
                "Patient (Calendar Event): record 987654321 does not exist",
            ),
        ):
            with self.subTest(values=values):
                self.refused(
                    self.receptionist,
                    "calendar.event",
                    "create",
                    dict(base, **values),
                    code=WARNING,
                    match=match,
                )

    def test_authorization_values(self):
        base = {
            "name": "AUTH-9",
            "partner_id": self.patient.id,
            "date_end": str(DAY + timedelta(days=300)),
        }
        for values, match in (
            ({"allowed": 3e9}, "out of range"),
            ({"allowed": "twelve"}, "whole number"),
            ({"date_end": f"{DAY.year + 1}-02-30"}, "is not a date"),
            ({"partner_id": 987654321}, "does not exist"),
            ({"allowed": -1}, "cannot be negative"),
        ):
            with self.subTest(values=values):
                self.refused(
                    self.receptionist,
                    "clinic.authorization",
                    "create",
                    dict(base, **values),
                    code=WARNING,
                    match=match,
                )

    def test_zero_unit_visit_cannot_slip_past_the_block(self):
        self.company.clinic_block_unauthorized = True
        self.company.clinic_count_upcoming = False  # the booked visit alone exhausts nothing
        units = self.env["clinic.authorization"].create(
            {
                "name": "AUTH-U",
                "partner_id": self.patient_2.id,
                "auth_type": "units",
                "date_start": str(DAY - timedelta(days=30)),
                "date_end": str(DAY + timedelta(days=300)),
                "allowed": 4,
            }
        )
        self.physio.clinic_units = 4
        self._visit(
            VISIT,
            patient=self.patient_2,
            clinic_entitlement_id=False,
            clinic_authorization_id=units.id,
        )
        self.assertEqual(units.state, "active")
        self.refused(
            self.receptionist,
            "calendar.event",
            "create",
            {
                "name": "Visit",
                "start": at(4, 10),
                "stop": at(4, 10, 45),
                "clinic_patient_id": self.patient_2.id,
                "clinic_service_id": self.physio.id,
                "clinic_authorization_id": units.id,
                "user_id": self.practitioner.id,
                "clinic_units": 0,
            },
            code=WARNING,
            match="at least 1 unit",
        )

    def test_credit_of_another_patient(self):
        """The allocation wizard applies the patient's own credits only."""
        credit_line = self._open_credit(self.patient_2, 100.0)
        invoice = self.entitlement.sale_line_id.invoice_lines.move_id
        wizard = self.rpc(
            self.manager,
            "clinic.credit.allocation",
            "create",
            {
                "partner_id": self.patient.id,
                "credit_ids": [
                    (5, 0, 0),
                    (0, 0, {"move_line_id": credit_line.id, "use": True}),
                ],
                "invoice_ids": [
                    (5, 0, 0),
                    (0, 0, {"invoice_id": invoice.id, "amount": 50.0}),
                ],
            },
        )
        self.refused(
            self.manager,
            "clinic.credit.allocation",
            "action_confirm",
            [wizard],
            code=WARNING,
            match="only the patient's own credits",
        )

    def test_front_desk_rules_hold_over_rpc(self):
        """The organizer of a clinic visit is a practitioner and nothing is counted before
        its day, whoever calls: the same refusals as in the form, nothing written."""
        desk = self.practitioner
        visit = {
            "start": at(1, 10),
            "stop": at(1, 10, 45),
            "clinic_patient_id": self.patient.id,
            "clinic_service_id": self.physio.id,
        }
        self.refused(
            desk,
            "calendar.event",
            "create",
            dict(visit, user_id=self.salesman.id),
            code=WARNING,
            match="is not a practitioner",
        )
        self.refused(
            desk,
            "calendar.event",
            "action_clinic_arrive",
            self.booked.ids,
            code=WARNING,
            match="before its day",
        )
        event_id = self.rpc(desk, "calendar.event", "create", visit)
        event = self.env["calendar.event"].browse(event_id)
        self.assertEqual(event.user_id, self.practitioner)
        self.assertEqual(event.partner_ids, self.patient | self.practitioner.partner_id)
        self.assertEqual(event.clinic_usage_id.user_id, self.practitioner)


class TestCountsAndEntriesFollowTheActions(RightsCase):
    """What a package counted and the entries it made change only with the clinic's
    actions: a use belongs to its own package, a manual use has a real day and a
    practitioner, a counted visit keeps what it was counted as, and the package's own
    entries are neither made, copied with its tags, nor reset by hand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env, login="clinic_accountant", groups="account.group_account_user"
        )
        cls.recognition = cls.arrived.clinic_usage_id.move_id
        cls.other = cls._sold(cls.package_physio8)

    def money(self, package):
        self.env.invalidate_all()
        return package._clinic_money()

    def test_a_use_counts_on_its_own_package(self):
        self.refused(
            self.receptionist,
            "clinic.entitlement.usage",
            "create",
            {"entitlement_id": self.other.id, "entitlement_line_id": self.line.id},
            code=WARNING,
            match=f"belongs to package {self.entitlement.name}",
        )

    def test_a_use_booked_by_hand_has_a_real_day_and_practitioner(self):
        desk = self.receptionist
        use = {"entitlement_id": self.entitlement.id, "entitlement_line_id": self.line.id}
        for date_text in ("2090-01-01", "1990-01-01"):
            with self.subTest(date=date_text):
                self.refused(
                    desk,
                    "clinic.entitlement.usage",
                    "create",
                    dict(use, date=date_text),
                    code=WARNING,
                    match="is dated within its validity",
                )
        self.refused(
            desk,
            "clinic.entitlement.usage",
            "create",
            dict(use, user_id=self.portal_patient.id),
            code=WARNING,
            match="is not a practitioner",
        )
        # a day to come is booked, and counted on that day only
        later = str(DAY)
        use_id = self.rpc(
            desk,
            "clinic.entitlement.usage",
            "create",
            dict(use, date=later, user_id=self.practitioner.id),
        )
        self.refused(
            desk,
            "clinic.entitlement.usage",
            "action_consume",
            [use_id],
            code=WARNING,
            match="it can be counted on that day, not before",
        )

    def test_a_counted_visit_keeps_what_it_was_counted_as(self):
        desk = self.receptionist
        for values in (
            {"clinic_patient_id": self.patient_2.id},
            {"clinic_service_id": self.massage.id},
            {"start": at(30, 9), "stop": at(30, 9, 45)},
            {"user_id": self.manager.id},
            {"active": False},
        ):
            with self.subTest(values=values):
                self.refused(
                    desk,
                    "calendar.event",
                    "write",
                    self.arrived.ids,
                    values,
                    code=WARNING,
                    match="cannot be changed: the visit was already counted",
                )
        # the same values are no change; the place may still be corrected
        self.rpc(
            desk,
            "calendar.event",
            "write",
            self.arrived.ids,
            {"clinic_patient_id": self.patient.id, "clinic_location_id": self.location.id},
        )
        self.assertEqual(self.arrived.clinic_usage_id.location_id, self.location)

    def test_package_entries_are_not_made_by_hand(self):
        accountant = self.accountant
        deferred, breakage = self.company._clinic_accounting()[:2]
        journal = self.recognition.journal_id
        item = {"account_id": deferred.id, "partner_id": self.patient.id}
        self.refused(
            accountant,
            "account.move",
            "create",
            {
                "journal_id": journal.id,
                "clinic_entitlement_id": self.entitlement.id,
                "clinic_move_kind": "refund",
                "line_ids": [
                    (0, 0, dict(item, debit=50.0)),
                    (0, 0, {"account_id": breakage.id, "credit": 50.0}),
                ],
            },
        )
        # a journal item tagged with the package, added to an entry of the accountant's own
        draft_id = self.rpc(accountant, "account.move", "create", {"journal_id": journal.id})
        self.refused(
            accountant,
            "account.move",
            "write",
            [draft_id],
            {
                "line_ids": [
                    (0, 0, dict(item, credit=50.0, clinic_entitlement_id=self.entitlement.id)),
                    (0, 0, {"account_id": breakage.id, "debit": 50.0}),
                ]
            },
        )

    def test_package_entries_are_copied_untagged_and_not_reset(self):
        accountant = self.accountant
        before = self.money(self.entitlement)
        self.refused(
            accountant,
            "account.move",
            "button_draft",
            self.recognition.ids,
            code=WARNING,
            match="is not reset to draft by hand",
        )
        # a duplicate of the visit's recognition is an entry of the accountant's own
        copy_id = self.rpc(accountant, "account.move", "copy", self.recognition.ids)[0]
        copy = self.env["account.move"].browse(copy_id)
        self.assertFalse(copy.clinic_entitlement_id or copy.clinic_move_kind)
        self.assertFalse(copy.line_ids.clinic_entitlement_id)
        self.rpc(accountant, "account.move", "action_post", [copy_id])
        self.assertEqual(self.money(self.entitlement), before)
        self.env.invalidate_all()
        self.assertEqual(self.line.used, 1)

    def test_a_prepayment_keeps_its_package_through_draft(self):
        package = self._sold(
            self._clinic_package(
                "Prepaid 2 Physio",
                400.0,
                [(self.physio, 2, 0.0)],
                clinic_billing_mode="prepaid_credit",
            )
        )
        other = self._sold(package.product_id)
        payment = self._payment(self.patient, 400.0, package)
        payment.action_post()
        manager = self.manager
        # (Odoo's action_draft returns nothing, which XML-RPC cannot carry: called directly)
        payment.with_user(manager).action_draft()
        self.refused(
            manager,
            "account.payment",
            "write",
            payment.ids,
            {"clinic_entitlement_id": other.id},
            match="is set by the clinic's actions",
        )
        self.env.invalidate_all()
        self.assertEqual(payment.clinic_entitlement_id, package)
        self.assertEqual(set(payment.move_id.line_ids.clinic_entitlement_id.ids), {package.id})


class TestWizardsAndTermsHold(RightsCase):
    """The package's money, terms and family, and the wizards' values, as a client sends
    them: a billed package is refunded rather than cancelled, its line's terms stay sane and
    follow the adjust rule, a family member removed gives back their visits, an
    authorization keeps the terms it counted under, and a wizard's bad value gets a
    message."""

    def _billed(self):
        """A package sold and invoiced (posted), nothing used."""
        package = self._sold(self.package_physio8)
        package.sale_order_id._create_invoices().action_post()
        return package

    def test_a_billed_package_is_refunded_not_cancelled(self):
        package = self._billed()
        self.refused(
            self.manager,
            "clinic.entitlement",
            "action_cancel",
            package.ids,
            code=WARNING,
            match="still holds",
        )

    def test_a_line_keeps_sane_terms_and_follows_the_adjust_rule(self):
        manager = self.manager
        self.refused(
            manager,
            "clinic.entitlement.line",
            "write",
            self.line.ids,
            {"patient_pays": -100.0},
            code=WARNING,
            match="cannot be negative",
        )
        # the manager removes every use not taken: the package is used up, and what it still
        # holds is breakage, as through the adjust wizard
        package = self._billed()
        self._visit(
            VISIT - timedelta(days=14), clinic_entitlement_id=package.id
        ).action_clinic_arrive()
        self.rpc(manager, "clinic.entitlement.line", "write", package.line_ids.ids, {"quantity": 1})
        self.env.invalidate_all()
        self.assertEqual(package.state, "exhausted")
        money = package._clinic_money()
        self.assertEqual(
            (money["unearned"], money["recognised"], money["breakage"]), (0.0, 200.0, 1400.0)
        )

    def test_a_family_member_removed_gives_back_their_visits(self):
        desk = self.receptionist
        self.rpc(
            desk,
            "clinic.entitlement",
            "write",
            self.entitlement.ids,
            {"shared_partner_ids": [(4, self.patient_2.id)]},
        )
        visit = self._visit(
            VISIT + timedelta(days=2),
            patient=self.patient_2,
            clinic_entitlement_id=self.entitlement.id,
        )
        use = visit.clinic_usage_id
        self.assertEqual((use.state, use.entitlement_id), ("reserved", self.entitlement))
        # the desk lets them follow the package (clinic staff may add followers)
        self.rpc(
            desk,
            "clinic.entitlement",
            "message_subscribe",
            self.entitlement.ids,
            partner_ids=self.patient_2.ids,
        )
        self.rpc(
            desk,
            "clinic.entitlement",
            "write",
            self.entitlement.ids,
            {"shared_partner_ids": [(3, self.patient_2.id)]},
        )
        self.env.invalidate_all()
        # no longer a member, no longer a follower
        self.assertNotIn(self.patient_2, self.entitlement.message_partner_ids)
        self.assertFalse(visit.clinic_entitlement_id)
        self.assertEqual(use.state, "released")
        self.assertIn("no longer shared", visit.clinic_coverage_note)

    def test_an_authorization_keeps_the_terms_it_counted_under(self):
        visit = self._visit(
            VISIT, patient=self.patient_2, clinic_authorization_id=self.authorization.id
        )
        self.assertEqual(self.authorization.scheduled, 1)
        for values in (
            {"auth_type": "units"},
            {"pending": True},
            {"date_end": str(VISIT.date() - timedelta(days=1))},
            {"service_product_ids": [(6, 0, self.massage.ids)]},
        ):
            with self.subTest(values=values):
                self.refused(
                    self.receptionist,
                    "clinic.authorization",
                    "write",
                    self.authorization.ids,
                    values,
                    code=WARNING,
                    match="already counts 1 visit(s)",
                )
        # terms that still cover the visit are changed freely
        self.rpc(
            self.receptionist,
            "clinic.authorization",
            "write",
            self.authorization.ids,
            {"date_end": str(VISIT.date() + timedelta(days=30)), "allowed": 5},
        )
        self.assertEqual(visit.clinic_authorization_id, self.authorization)

    def test_wizard_values_get_a_message(self):
        manager = self.manager
        for model, values in (
            (
                "clinic.entitlement.adjust",
                {"entitlement_id": self.entitlement.id, "delta": "abc", "reason": "x"},
            ),
            (
                "clinic.entitlement.adjust",
                {"entitlement_id": self.entitlement.id, "delta": 2.5, "reason": "x"},
            ),
            ("clinic.entitlement.refund", {"entitlement_id": self.entitlement.id, "amount": "abc"}),
            ("clinic.import", {"kind": "bogus", "filename": "x.csv"}),
        ):
            with self.subTest(model=model, values=values):
                self.refused(manager, model, "create", values, code=WARNING)
        adjust = self.rpc(
            manager,
            "clinic.entitlement.adjust",
            "create",
            {"entitlement_id": self.entitlement.id, "delta": 2**31 - 1, "reason": "x"},
        )
        self.refused(
            manager,
            "clinic.entitlement.adjust",
            "action_confirm",
            [adjust],
            code=WARNING,
            match="Enter a smaller number",
        )

    def test_each_credit_is_applied_once(self):
        item = self._open_credit(self.patient, 100.0)
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.patient.id,
                "invoice_line_ids": [(0, 0, {"product_id": self.physio.id, "price_unit": 300.0})],
            }
        )
        invoice.action_post()
        wizard = self.rpc(
            self.manager,
            "clinic.credit.allocation",
            "create",
            {
                "partner_id": self.patient.id,
                "credit_ids": [
                    (0, 0, {"move_line_id": item.id}),
                    (0, 0, {"move_line_id": item.id}),
                ],
                "invoice_ids": [(0, 0, {"invoice_id": invoice.id, "amount": 200.0})],
            },
        )
        self.refused(
            self.manager,
            "clinic.credit.allocation",
            "action_confirm",
            [wizard],
            code=WARNING,
            match="listed twice",
        )
        self.env.invalidate_all()
        self.assertEqual(invoice.amount_residual, 300.0)
