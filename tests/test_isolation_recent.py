"""Rights and company isolation of the newest records, tried as outside clients over XML-RPC
through the real HTTP server: memberships (and the period fields of their packages) and the
stored movements of the unearned revenue account, with the report that reads them.

Each role is tried: a patient on the portal, a Clinic User at the front desk, a practitioner
(Clinic User), an accountant (Invoicing with read-only accounting, no clinic role), a Clinic
Manager, and users of a second company with its own chart of accounts. A refused call must
say so with an Odoo error (never a server traceback) and leave the memberships, their
periods, the journal and the movements as they were.

Run with pytest-odoo's `--odoo-http`; without it HttpCase is skipped.
"""

import xmlrpc.client

from odoo import Command
from odoo.tests import HttpCase, new_test_user

from .common import RPC_ACCESS_ERROR as ACCESS_ERROR
from .common import RPC_WARNING as WARNING
from .common import ClinicRpcMixin
from .test_membership import MembershipMixin

# a membership's stored fields a client could try to forge, with a forged value each (ids
# filled in by the test): only the renewal job and the business actions change them
MEMBERSHIP_FORGERIES = (
    ("state", "cancelled"),
    ("date_next", "2040-01-01"),
    ("date_start", "2020-01-01"),
    ("date_cancelled", "2020-01-01"),
    ("period", "week"),
    ("rollover", False),
    ("price_unit", 1.0),
    ("price_total", 1.0),
    ("name", "FORGED"),
)


class RecentRightsCase(ClinicRpcMixin, MembershipMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()
        cls._membership_setup()
        env = cls.env
        cls.portal = new_test_user(
            env, login="recent_portal", groups="base.group_portal", partner_id=cls.patient.id
        )
        cls.accountant = new_test_user(
            env,
            login="recent_accountant",
            groups="account.group_account_invoice,account.group_account_readonly",
        )
        # a second company with its own chart, its manager and a user of both companies
        cls.company_b = env["res.company"].create({"name": "Clinic B"})
        env["account.chart.template"].try_loading(
            "generic_coa", company=cls.company_b, install_demo=False
        )
        cls.manager_b = new_test_user(
            env,
            login="recent_manager_b",
            groups="clinic_packages.group_clinic_manager,sales_team.group_sale_manager,"
            "account.group_account_invoice,account.group_account_readonly",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.user_ab = new_test_user(
            env,
            login="recent_user_ab",
            groups="clinic_packages.group_clinic_user",
            company_id=cls.company.id,
            company_ids=[Command.set((cls.company | cls.company_b).ids)],
        )
        # a renewing membership in each company, sold, invoiced and its invoice posted
        cls.membership = cls._sell_membership(cls.company)
        cls.membership_b = cls._sell_membership(cls.company_b)
        cls.period = cls.membership.current_period_id
        cls.period_b = cls.membership_b.current_period_id

    @classmethod
    def _sell_membership(cls, company):
        env = cls.env(context=dict(cls.env.context, allowed_company_ids=company.ids))
        order = env["sale.order"].create(
            {
                "partner_id": cls.patient.id,
                "company_id": company.id,
                "order_line": [Command.create({"product_id": cls.monthly.id})],
            }
        )
        order.action_confirm()
        order._create_invoices().action_post()
        membership = env["clinic.membership"].search([("sale_order_id", "=", order.id)])
        assert len(membership) == 1 and membership.state == "active", membership
        return membership.with_env(cls.env)

    # ------------------------------------------------------------------ clients
    def snapshot(self):
        """States, dates, prices, owners and counts of both companies' memberships, their
        periods, the journal and the unearned revenue movements."""
        self.env.invalidate_all()
        memberships = self.env["clinic.membership"].search([])
        periods = memberships.period_ids
        return {
            "memberships": memberships.read(
                [name for name, __ in MEMBERSHIP_FORGERIES]
                + ["partner_id", "product_id", "company_id", "current_period_id", "tax_ids"]
            ),
            "periods": periods.read(
                [
                    "state",
                    "partner_id",
                    "company_id",
                    "membership_id",
                    "membership_period",
                    "rolled_value",
                    "date_start",
                    "date_expiry",
                    "amount_untaxed",
                    "amount_total",
                ]
            ),
            "lines": periods.line_ids.read(["quantity", "used", "reserved", "rolled_in"]),
            "entries": self.env["account.move"].search_count([]),
            "items": self.env["account.move.line"].search_count([]),
            "movements": self.env["clinic.unearned.move"]
            .sudo()
            .search_read([], ["move_line_id", "entitlement_id", "company_id", "amount"]),
        }

    def staff(self):
        """Every role of company A, the least privileged first."""
        return (self.portal, self.accountant, self.practitioner, self.receptionist, self.manager)


class TestMembershipRights(RecentRightsCase):
    def test_setup(self):
        self.assertRecordValues(
            self.membership | self.membership_b,
            [
                {"company_id": self.company.id, "state": "active", "price_unit": 120.0},
                {"company_id": self.company_b.id, "state": "active", "price_unit": 120.0},
            ],
        )
        self.assertEqual(self.period.membership_period, 1)
        self.assertNotEqual(
            self.company_b._clinic_accounting()[0], self.company._clinic_accounting()[0]
        )

    def test_stored_fields_are_not_writable(self):
        """State, next renewal, period, prices, patient, company and references change through
        the renewal job and the business actions only, whoever asks."""
        forgeries = MEMBERSHIP_FORGERIES + (
            ("partner_id", self.patient_2.id),
            ("company_id", self.company_b.id),
            ("product_id", self.monthly_no_rollover.id),
            ("current_period_id", self.period_b.id),
            ("sale_line_id", self.membership_b.sale_line_id.id),
            ("tax_ids", [(6, 0, [])]),
            ("period_ids", [(4, self.period_b.id)]),
        )
        for user in self.staff():
            for field, value in forgeries:
                with self.subTest(user=user.login, field=field):
                    self.refused(
                        user, "clinic.membership", "write", self.membership.ids, {field: value}
                    )

    def test_memberships_are_not_created_copied_or_deleted(self):
        values = {
            "name": "Forged",
            "partner_id": self.patient.id,
            "product_id": self.monthly.id,
            "company_id": self.company.id,
            "period": "month",
            "price_unit": 0.0,
            "current_period_id": self.period.id,
        }
        for user in self.staff():
            with self.subTest(user=user.login):
                self.refused(user, "clinic.membership", "create", values)
                self.refused(user, "clinic.membership", "copy", self.membership.id)
                self.refused(user, "clinic.membership", "unlink", self.membership.ids)
        # context defaults are values too
        self.refused(
            self.manager,
            "clinic.membership",
            "create",
            {"partner_id": self.patient.id, "product_id": self.monthly.id, "period": "month"},
            context={"default_state": "cancelled", "default_price_unit": 0.0},
        )

    def test_period_fields_of_a_package_are_not_writable(self):
        """The package that is a membership's period: its membership, number, rolled-over
        value, dates and price are the renewal's."""
        for user in self.staff():
            for field, value in (
                ("membership_id", self.membership_b.id),
                ("membership_id", False),
                ("membership_period", 7),
                ("rolled_value", 500.0),
                ("date_start", "2020-01-01"),
                ("amount_untaxed", 1.0),
                ("amount_total", 1.0),
                ("state", "expired"),
                ("partner_id", self.patient_2.id),
                ("company_id", self.company_b.id),
            ):
                with self.subTest(user=user.login, field=field):
                    self.refused(
                        user, "clinic.entitlement", "write", self.period.ids, {field: value}
                    )
            with self.subTest(user=user.login, line="rolled_in"):
                self.refused(
                    user,
                    "clinic.entitlement.line",
                    "write",
                    self.period.line_ids.ids,
                    {"rolled_in": 9},
                )

    def test_cancel_is_the_clinic_staffs(self):
        """The patient (on the portal) and the accountant cannot stop a membership; the front
        desk and the practitioner (Clinic Users) and the manager can, once."""
        for user in (self.portal, self.accountant):
            with self.subTest(user=user.login):
                self.refused(user, "clinic.membership", "action_cancel", self.membership.ids)
        # the accountant reads it (the invoices are theirs), the patient does not
        state = self.rpc(
            self.accountant, "clinic.membership", "read", self.membership.ids, ["state"]
        )
        self.assertEqual(state[0]["state"], "active")
        self.refused(self.portal, "clinic.membership", "read", self.membership.ids, ["state"])
        # the renewal job and its internals are not callable from outside
        for user in self.staff():
            for method in ("_cron_renew", "_clinic_renew", "_clinic_rollover"):
                with self.subTest(user=user.login, method=method):
                    message = self.refused(
                        user, "clinic.membership", method, self.membership.ids, code=ACCESS_ERROR
                    )
                    self.assertIn("cannot be called remotely", message)

        self.rpc(self.practitioner, "clinic.membership", "action_cancel", self.membership.ids)
        self.membership.invalidate_recordset()
        self.assertRecordValues(self.membership, [{"state": "cancelled", "date_next": False}])
        self.assertEqual(self.period.state, "active")  # the paid period runs to its end
        self.refused(
            self.manager,
            "clinic.membership",
            "action_cancel",
            self.membership.ids,
            code=WARNING,
            match="already cancelled",
        )

    def test_a_closed_period_is_not_reopened_by_hand(self):
        """A past period's uses rolled over or went to breakage when it closed: extending it
        would give them twice (and take its unearned revenue below zero)."""
        first = self.period
        self._renew(str(self.membership.date_next))
        self.assertEqual(first.state, "expired")
        message = self.refused(
            self.receptionist,
            "clinic.entitlement",
            "write",
            first.ids,
            {"date_expiry": "2040-01-01"},
            code=WARNING,
        )
        self.assertIn("cancel the membership", message)
        # the current period neither: its end is the next renewal's start
        self.refused(
            self.manager,
            "clinic.entitlement",
            "write",
            self.membership.current_period_id.ids,
            {"date_expiry": False},
            code=WARNING,
        )
        self.assertEqual(first.state, "expired")
        # nor are its uses adjusted: they rolled over or went to breakage
        self.refused(
            self.manager, "clinic.entitlement", "action_adjust_uses", first.ids, code=WARNING
        )


class TestMembershipCompanies(RecentRightsCase):
    def test_other_company_neither_reads_nor_acts(self):
        user = self.manager_b
        found = self.rpc(user, "clinic.membership", "search_read", [], fields=["company_id"])
        self.assertEqual([row["id"] for row in found], self.membership_b.ids)
        self.refused(user, "clinic.membership", "read", self.membership.ids, ["state"])
        self.refused(user, "clinic.membership", "action_cancel", self.membership.ids)
        self.refused(
            user, "clinic.membership", "write", self.membership.ids, {"state": "cancelled"}
        )
        self.refused(user, "clinic.entitlement", "read", self.period.ids, ["membership_id"])
        self.refused(user, "clinic.entitlement", "action_cancel", self.period.ids)
        # nor by naming company A in its context
        self.refused(
            user,
            "clinic.membership",
            "action_cancel",
            self.membership.ids,
            context={"allowed_company_ids": self.company.ids},
        )
        # its own company's membership is its to cancel
        self.rpc(user, "clinic.membership", "action_cancel", self.membership_b.ids)
        self.env.invalidate_all()
        self.assertEqual(
            (self.membership | self.membership_b).mapped("state"), ["active", "cancelled"]
        )

    def test_user_of_both_companies_acts_within_the_selected_ones(self):
        user = self.user_ab
        only_a = {"allowed_company_ids": self.company.ids}
        both = {"allowed_company_ids": (self.company | self.company_b).ids}
        found = self.rpc(user, "clinic.membership", "search_read", [], ["name"], context=only_a)
        self.assertEqual([row["id"] for row in found], self.membership.ids)
        found = self.rpc(user, "clinic.membership", "search_read", [], ["name"], context=both)
        self.assertEqual(
            sorted(row["id"] for row in found), sorted((self.membership | self.membership_b).ids)
        )
        self.refused(
            user, "clinic.membership", "action_cancel", self.membership_b.ids, context=only_a
        )
        self.rpc(user, "clinic.membership", "action_cancel", self.membership_b.ids, context=both)
        self.env.invalidate_all()
        self.assertEqual(self.membership_b.state, "cancelled")
        self.assertEqual(self.membership.state, "active")
        # a user of company A alone cannot select company B
        self.refused(
            self.receptionist,
            "clinic.membership",
            "search_read",
            [],
            ["name"],
            context={"allowed_company_ids": self.company_b.ids},
        )


class TestUnearnedMovements(RecentRightsCase):
    """The stored movements are written by posting entries only, and read through the
    unearned revenue report, each company its own."""

    def movements(self, company):
        return self.env["clinic.unearned.move"].sudo().search([("company_id", "=", company.id)])

    def test_nobody_writes_movements(self):
        rows = self.movements(self.company)
        self.assertTrue(rows)
        self.assertEqual(
            sum(rows.filtered(lambda row: row.entitlement_id == self.period).mapped("amount")),
            120.0,
        )
        row = rows[0]
        values = {
            "move_line_id": row.move_line_id.id,
            "move_id": row.move_id.id,
            "date": "2020-01-01",
            "company_id": self.company.id,
            "entitlement_id": self.period.id,
            "amount": 1000.0,
        }
        admin = self.env.ref("base.user_admin")
        for user in (*self.staff(), admin, self.manager_b):
            with self.subTest(user=user.login):
                self.refused(user, "clinic.unearned.move", "create", values)
                self.refused(user, "clinic.unearned.move", "write", rows.ids, {"amount": 0.0})
                self.refused(
                    user,
                    "clinic.unearned.move",
                    "write",
                    rows.ids,
                    {"entitlement_id": self.period_b.id},
                )
                self.refused(user, "clinic.unearned.move", "unlink", rows.ids)
                for method in ("_clinic_refresh", "_clinic_remove", "_clinic_backfill"):
                    self.refused(user, "clinic.unearned.move", method, rows.ids)

    def test_movements_are_seen_within_the_company_only(self):
        """Whoever may read the movements at all reads their own company's: nobody of the
        clinic's roles sees another company's."""
        own = {
            self.company: self.movements(self.company),
            self.company_b: self.movements(self.company_b),
        }
        self.assertTrue(own[self.company_b])
        admin_b = new_test_user(
            self.env,
            login="recent_admin_b",
            groups="base.group_system",
            company_id=self.company_b.id,
            company_ids=[Command.set(self.company_b.ids)],
        )
        for user, company in (
            *((user, self.company) for user in self.staff()),
            (self.manager_b, self.company_b),
            (admin_b, self.company_b),
        ):
            with self.subTest(user=user.login):
                try:
                    seen = self.rpc(user, "clinic.unearned.move", "search", [])
                except xmlrpc.client.Fault as fault:
                    self.assertEqual(fault.faultCode, ACCESS_ERROR, fault.faultString)
                    continue
                self.assertLessEqual(set(seen), set(own[company].ids))
                other = (self.movements(self.company) | self.movements(self.company_b)) - own[
                    company
                ]
                self.refused(user, "clinic.unearned.move", "read", other.ids[:1], ["amount"])
        # the patient sees no movement at all
        self.refused(self.portal, "clinic.unearned.move", "search", [])

    def test_report_is_read_per_company(self):
        report = "clinic.report.unearned"
        domain = [("entitlement_id", "in", (self.period | self.period_b).ids)]
        # the accountant and the manager of company A read A's value, B's is not there
        for user in (self.accountant, self.manager):
            with self.subTest(user=user.login):
                rows = self.rpc(user, report, "search_read", domain, ["entitlement_id", "amount"])
                self.assertEqual({row["entitlement_id"][0] for row in rows}, set(self.period.ids))
                self.assertEqual(sum(row["amount"] for row in rows), 120.0)
        rows = self.rpc(self.manager_b, report, "search_read", domain, ["entitlement_id"])
        self.assertEqual({row["entitlement_id"][0] for row in rows}, set(self.period_b.ids))
        # the front desk, the practitioner and the patient do not read it; nobody writes it
        for user in (self.portal, self.practitioner, self.receptionist):
            with self.subTest(user=user.login):
                self.refused(user, report, "search_read", domain, ["amount"])
        row_ids = self.rpc(self.manager, report, "search", domain)
        for user in (self.accountant, self.manager):
            with self.subTest(user=user.login):
                self.refused(user, report, "write", row_ids, {"amount": 0.0})
                self.refused(user, report, "unlink", row_ids)
