"""Memberships: a package renewed every period until cancelled.

Each period is a package of its own with its own invoice: the renewal job invoices it, gives
its uses (plus the uses rolled over, once, with their value), and closes the period that
ended (breakage of what it still holds; an unlimited period's value is revenue). Cancelling
stops the next renewal; an unpaid period waits for its payment when the company says so.
Every period keeps billed = recognised + unearned + refunded + breakage, read from the ledger.
"""

import xmlrpc.client
from datetime import date, datetime

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, freeze_time, new_test_user

from .common import RPC_ACCESS_ERROR as ACCESS_ERROR
from .common import ClinicCase, ClinicRpcMixin, ClinicTestMixin, attend


class MembershipMixin(ClinicTestMixin):
    @classmethod
    def _membership_setup(cls):
        cls.env.user.tz = "UTC"
        cls.deferred, cls.breakage_account, __ = cls.company._clinic_accounting()
        cls.bank = cls.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", cls.company.id)], limit=1
        )
        cls.pilates = cls.env["product.product"].create(
            {
                "name": "Pilates Class",
                "type": "service",
                "list_price": 35.0,
                "taxes_id": [Command.clear()],
            }
        )
        cls.monthly = cls._clinic_package(
            "Monthly Pilates: 4 classes, rollover",
            120.0,
            [(cls.pilates, 4, 0.0)],
            clinic_membership=True,
            clinic_period="month",
            clinic_rollover=True,
        )
        cls.monthly_no_rollover = cls._clinic_package(
            "Monthly Pilates: 4 classes",
            120.0,
            [(cls.pilates, 4, 0.0)],
            clinic_membership=True,
            clinic_period="month",
        )
        cls.weekly_unlimited = cls.env["product.product"].create(
            {
                "name": "Weekly Pilates: unlimited",
                "type": "service",
                "list_price": 45.0,
                "taxes_id": [Command.clear()],
                "clinic_package_ok": True,
                "clinic_membership": True,
                "clinic_period": "week",
                "clinic_package_line_ids": [
                    Command.create(
                        {"service_product_id": cls.pilates.id, "quantity": 1, "unlimited": True}
                    )
                ],
            }
        )

    def _sell(self, product, day="2026-01-05"):
        """Sold on `day` by the front desk, invoiced and the invoice posted (not paid)."""
        with freeze_time(day):
            order = self._clinic_sell(product, user=self.receptionist)
            invoice = order._create_invoices()
            invoice.action_post()
        membership = self.env["clinic.membership"].search([("sale_order_id", "=", order.id)])
        self.assertEqual(len(membership), 1)
        return membership

    def _renew(self, day):
        with freeze_time(day):
            return self.env["clinic.membership"]._cron_renew()

    def _visit(self, day, hour=10):
        event = self._clinic_book(datetime.fromisoformat(f"{day} {hour:02d}:00"), self.pilates)
        attend(event)
        return event

    def _pay(self, invoice):
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": self.bank.id})
            ._create_payments()
        )

    def _money(self, period):
        money = period._clinic_money()
        self.assertAlmostEqual(
            money["billed"],
            money["recognised"] + money["unearned"] + money["refunded"] + money["breakage"],
            places=2,
            msg=f"billed = recognised + unearned + refunded + breakage on {period.name}",
        )
        self.assertGreaterEqual(money["unearned"], 0.0, period.name)
        return money

    def _unearned_balance(self, membership):
        """What the unearned revenue account holds for the membership's periods."""
        lines = self.env["account.move.line"].search(
            [
                ("account_id", "=", self.deferred.id),
                ("parent_state", "=", "posted"),
                "|",
                ("clinic_entitlement_id", "in", membership.period_ids.ids),
                ("sale_line_ids", "=", membership.sale_line_id.id),
            ]
        )
        shares = sum(membership.period_ids.breakage_ids.mapped("amount"))
        return -sum(lines.mapped("balance")) - shares


class TestMembershipRenewal(MembershipMixin, ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._membership_setup()

    def test_selling_starts_the_first_period(self):
        membership = self._sell(self.monthly)
        period = membership.current_period_id
        self.assertRecordValues(
            membership,
            [
                {
                    "state": "active",
                    "period": "month",
                    "rollover": True,
                    "price_unit": 120.0,
                    "date_start": date(2026, 1, 5),
                    "date_next": date(2026, 2, 5),
                    "period_count": 1,
                }
            ],
        )
        self.assertRecordValues(
            period,
            [
                {
                    "state": "active",
                    "membership_period": 1,
                    "date_start": date(2026, 1, 5),
                    "date_expiry": date(2026, 2, 4),
                    "uses_total": 4,
                }
            ],
        )
        self.assertEqual(self._money(period)["billed"], 120.0)
        # not due before its period ends
        self.assertFalse(self._renew("2026-02-04"))

    def test_three_periods_with_rollover(self):
        membership = self._sell(self.monthly)
        first = membership.current_period_id
        self._visit("2026-01-10")  # 1 of 4: 3 roll over, worth 3 x 30
        self._renew("2026-02-05")
        second = membership.current_period_id
        self.assertNotEqual(second, first)
        self.assertRecordValues(
            first, [{"state": "expired", "uses_used": 1, "amount_breakage": 0.0}]
        )
        self.assertEqual(self._money(first)["billed"], 30.0)  # 120 billed, 90 rolled over
        self.assertEqual(self._money(first)["recognised"], 30.0)
        self.assertRecordValues(
            second,
            [
                {
                    "state": "active",  # the company does not wait for payments
                    "membership_period": 2,
                    "date_start": date(2026, 2, 5),
                    "date_expiry": date(2026, 3, 4),
                    "uses_total": 7,
                    "rolled_value": 90.0,
                    "amount_untaxed": 210.0,
                    "unit_value": 30.0,
                }
            ],
        )
        self.assertEqual(second.line_ids.rolled_in, 3)
        money = self._money(second)
        self.assertEqual((money["billed"], money["unearned"]), (210.0, 210.0))
        # its invoice: 120 to the patient, credited to unearned revenue
        invoice = second.move_ids.filtered(lambda m: m.clinic_move_kind == "membership")
        self.assertRecordValues(
            invoice,
            [
                {
                    "move_type": "out_invoice",
                    "state": "posted",
                    "partner_id": self.patient.id,
                    "amount_total": 120.0,
                    "invoice_date": date(2026, 2, 5),
                    "payment_state": "not_paid",
                }
            ],
        )
        self.assertEqual(
            invoice.line_ids.filtered(lambda line: line.account_id == self.deferred).balance,
            -120.0,
        )
        # the rollover entry moved 90 of unearned revenue from the first period to the second
        rollover = (
            self.env["account.move.line"]
            .search([("clinic_entitlement_id", "in", (first | second).ids)])
            .move_id.filtered(lambda m: m.clinic_move_kind == "transfer")
        )
        self.assertEqual(len(rollover), 1)
        self.assertEqual(
            sorted(
                (line.clinic_entitlement_id.name, line.balance, line.partner_id.name)
                for line in rollover.line_ids
            ),
            sorted([(first.name, 90.0, "Maria Lopez"), (second.name, -90.0, "Maria Lopez")]),
        )
        self.assertTrue(all(line.account_id == self.deferred for line in rollover.line_ids))

        # second period: 2 visits use the rolled-over uses first; 1 of them is left, unused:
        # it does not roll again (30 to breakage), the 4 uses of the period roll over (120)
        self._visit("2026-02-10")
        self._visit("2026-02-12")
        self._renew("2026-03-05")
        third = membership.current_period_id
        self.assertEqual(second.state, "expired")
        money = self._money(second)
        self.assertEqual(
            (money["billed"], money["recognised"], money["breakage"], money["unearned"]),
            (90.0, 60.0, 30.0, 0.0),
        )
        self.assertEqual(second.breakage_ids.amount, 30.0)
        breakage_move = second.breakage_ids.move_id
        self.assertEqual(
            breakage_move.line_ids.filtered(
                lambda line: line.account_id == self.breakage_account
            ).balance,
            -30.0,
        )
        self.assertRecordValues(
            third,
            [
                {
                    "membership_period": 3,
                    "date_start": date(2026, 3, 5),
                    "date_expiry": date(2026, 4, 4),
                    "uses_total": 8,
                    "rolled_value": 120.0,
                }
            ],
        )
        self.assertEqual(third.line_ids.rolled_in, 4)
        self.assertEqual(self._money(third)["billed"], 240.0)
        self.assertEqual(membership.period_count, 3)
        self.assertEqual(membership.date_next, date(2026, 4, 5))
        # the ledger holds exactly what the periods say they hold
        self.assertAlmostEqual(
            self._unearned_balance(membership),
            sum(self._money(p)["unearned"] for p in membership.period_ids),
        )
        # three invoices to the patient, 120 each
        invoices = self.env["account.move"].search(
            [("partner_id", "=", self.patient.id), ("move_type", "=", "out_invoice")]
        )
        self.assertEqual(invoices.mapped("amount_total"), [120.0] * 3)

    def test_three_periods_without_rollover(self):
        membership = self._sell(self.monthly_no_rollover)
        first = membership.current_period_id
        self._visit("2026-01-10")
        self._renew("2026-02-05")
        second = membership.current_period_id
        money = self._money(first)
        self.assertEqual(
            (money["billed"], money["recognised"], money["breakage"], money["unearned"]),
            (120.0, 30.0, 90.0, 0.0),
        )
        self.assertEqual(first.breakage_ids.amount, 90.0)
        self.assertRecordValues(second, [{"uses_total": 4, "rolled_value": 0.0}])
        self.assertEqual(second.line_ids.rolled_in, 0)
        self._renew("2026-03-05")
        third = membership.current_period_id
        money = self._money(second)
        self.assertEqual((money["billed"], money["breakage"]), (120.0, 120.0))
        self.assertEqual(third.uses_total, 4)
        self.assertEqual(self._money(third)["unearned"], 120.0)
        self.assertEqual(membership.period_count, 3)

    def test_late_job_catches_up_period_by_period(self):
        membership = self._sell(self.monthly_no_rollover)
        # the job did not run for two months: each call renews one period
        renewed = self._renew("2026-03-06")
        self.assertEqual(len(renewed), 1)
        self._renew("2026-03-06")
        self.assertEqual(membership.period_count, 3)
        self.assertEqual(membership.current_period_id.date_start, date(2026, 3, 5))
        self.assertFalse(self._renew("2026-03-06"))

    def test_expiry_job_renews_instead_of_forfeiting(self):
        """Whichever daily job runs first, the period rolls over before it expires."""
        membership = self._sell(self.monthly)
        first = membership.current_period_id
        with freeze_time("2026-02-05"):
            self.env["clinic.entitlement"]._cron_expire()
        self.assertEqual(first.state, "expired")
        self.assertEqual(first.amount_breakage, 0.0)
        self.assertEqual(membership.period_count, 2)
        self.assertEqual(membership.current_period_id.rolled_value, 120.0)
        self.assertFalse(self._renew("2026-02-05"))

    def test_cancel_stops_renewal(self):
        membership = self._sell(self.monthly)
        period = membership.current_period_id
        with freeze_time("2026-01-20"):
            membership.with_user(self.receptionist).action_cancel()
        self.assertRecordValues(
            membership,
            [{"state": "cancelled", "date_next": False, "date_cancelled": date(2026, 1, 20)}],
        )
        self.assertEqual(period.state, "active")  # the period runs to its end
        with self.assertRaisesRegex(UserError, "already cancelled"):
            membership.with_user(self.receptionist).action_cancel()
        self.assertFalse(self._renew("2026-02-05"))
        # at its end it expires like any package: its 4 unused uses to breakage
        with freeze_time("2026-02-05"):
            self.env["clinic.entitlement"]._cron_expire()
        self.assertEqual(period.state, "expired")
        money = self._money(period)
        self.assertEqual((money["breakage"], money["unearned"]), (120.0, 0.0))
        self.assertEqual(membership.period_count, 1)

    def test_cancelled_order_cancels_the_membership(self):
        with freeze_time("2026-01-05"):
            order = self._clinic_sell(self.monthly)
            membership = order.clinic_entitlement_ids.membership_id
            order._action_cancel()
        self.assertRecordValues(
            membership,
            [{"state": "cancelled", "date_next": False, "date_cancelled": date(2026, 1, 5)}],
        )
        self.assertFalse(self._renew("2026-02-05"))

    def test_refunding_the_current_period_cancels_the_membership(self):
        """The current period was invoiced: a manager cannot cancel it (its money would stay
        on the unearned account), but refunds it; the membership then stops renewing, with
        the day it was refunded, as when it is cancelled itself."""
        membership = self._sell(self.monthly_no_rollover)
        self._renew("2026-02-05")
        second = membership.current_period_id
        with freeze_time("2026-02-07"):
            with self.assertRaises(AccessError):
                second.with_user(self.receptionist).action_cancel()
            with self.assertRaisesRegex(UserError, "still holds .* of unearned revenue"):
                second.with_user(self.manager).action_cancel()
            self.assertEqual(second.state, "active")
            self.assertEqual(membership.state, "active")
            second.with_user(self.manager)._clinic_refund(second.amount_total)
        self.assertEqual(second.state, "refunded")
        self.assertRecordValues(
            membership,
            [{"state": "cancelled", "date_next": False, "date_cancelled": date(2026, 2, 7)}],
        )
        self.assertFalse(self._renew("2026-03-05"))
        self.assertEqual(membership.period_count, 2)

    def test_unlimited_period_earns_its_value_at_its_end(self):
        membership = self._sell(self.weekly_unlimited, day="2026-01-05")
        first = membership.current_period_id
        self.assertTrue(first.uses_unlimited)
        self.assertEqual(first.date_expiry, date(2026, 1, 11))
        for day in range(5, 11):  # six classes in one week
            event = self._visit(f"2026-01-{day:02d}")
            self.assertEqual(event.clinic_entitlement_id, first)
        self.assertEqual(first.uses_used, 6)
        self.assertEqual(first.state, "active")
        self.assertEqual(first.usage_ids.mapped("amount"), [0.0] * 6)
        self._renew("2026-01-12")
        money = self._money(first)
        self.assertEqual(
            (money["billed"], money["recognised"], money["breakage"], money["unearned"]),
            (45.0, 45.0, 0.0, 0.0),
        )
        earned = first.move_ids.filtered(lambda m: m.clinic_move_kind == "recognition")
        self.assertEqual(earned.date, date(2026, 1, 11))
        income = self.pilates.product_tmpl_id._get_product_accounts()["income"]
        self.assertEqual(
            earned.line_ids.filtered(lambda line: line.account_id == income).balance, -45.0
        )
        second = membership.current_period_id
        self.assertRecordValues(
            second, [{"date_start": date(2026, 1, 12), "rolled_value": 0.0, "state": "active"}]
        )
        self.assertEqual(self._money(second)["billed"], 45.0)

    def test_unpaid_period_waits_for_payment(self):
        self.company.clinic_membership_block_unpaid = True
        membership = self._sell(self.monthly_no_rollover)
        self._renew("2026-02-05")
        second = membership.current_period_id
        self.assertEqual(second.state, "draft")
        # booking in the unpaid period: the membership does not cover it
        with freeze_time("2026-02-06"):
            event = self._clinic_book(datetime(2026, 2, 7, 10), self.pilates)
        self.assertFalse(event.clinic_entitlement_id)
        invoice = second.move_ids.filtered(lambda m: m.clinic_move_kind == "membership")
        with freeze_time("2026-02-08"):
            self._pay(invoice)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertRecordValues(
            second,
            [
                {
                    "state": "active",
                    "date_start": date(2026, 2, 5),
                    "date_expiry": date(2026, 3, 4),
                }
            ],
        )
        with freeze_time("2026-02-08"):
            event = self._clinic_book(datetime(2026, 2, 9, 10), self.pilates)
        self.assertEqual(event.clinic_entitlement_id, second)
        # an unpaid period at its end: never usable, nothing rolls over, billed value broken
        self._renew("2026-03-05")
        self.assertEqual(second.state, "expired")
        self.assertEqual(self._money(second)["unearned"], 0.0)

    def test_unpaid_period_that_never_started(self):
        """The company waits for payments and a renewal invoice is still open at the end of
        its period: the period was never usable, so it gives nothing to breakage; its value
        stays unearned while the invoice is open, goes to zero when the invoice is credited,
        and to breakage only when the invoice is paid after the period's end."""
        self.company.clinic_membership_block_unpaid = True
        membership = self._sell(self.monthly)
        self._renew("2026-02-05")
        second = membership.current_period_id
        self.assertEqual(second.state, "draft")
        # it received the 4 unused uses of the first period, worth 120, on top of its own
        self.assertEqual((second.rolled_value, self._money(second)["billed"]), (120.0, 240.0))
        self._renew("2026-03-05")
        third = membership.current_period_id
        self.assertEqual(second.state, "expired")
        self.assertEqual(third.rolled_value, 0.0)  # nothing rolls over from it
        # the uses rolled into it roll only once: their 120 to breakage; its own invoice's
        # 120 stays unearned while the invoice is open
        self.assertEqual(second.breakage_ids.amount, 120.0)
        money = self._money(second)
        self.assertEqual(
            (money["billed"], money["unearned"], money["breakage"]), (240.0, 120.0, 120.0)
        )
        self.assertAlmostEqual(
            self._unearned_balance(membership),
            sum(self._money(p)["unearned"] for p in membership.period_ids),
        )

        # its invoice credited: nothing left, nothing broken
        invoice = second.move_ids.filtered(lambda m: m.clinic_move_kind == "membership")
        with freeze_time("2026-03-10"):
            reversal = (
                self.env["account.move.reversal"]
                .with_user(self.manager)
                .with_context(active_model="account.move", active_ids=invoice.ids)
                .create({"journal_id": invoice.journal_id.id, "reason": "never came"})
            )
            reversal.refund_moves()
        credit_note = invoice.reversal_move_ids
        credit_note.with_user(self.manager).action_post()
        self.assertEqual(invoice.payment_state, "reversed")
        self.assertEqual(
            credit_note.line_ids.filtered(lambda line: line.account_id == self.deferred).balance,
            120.0,
        )
        movements = self.env["clinic.unearned.move"].search(
            [("entitlement_id", "=", second.id), ("move_id", "in", (invoice | credit_note).ids)]
        )
        self.assertEqual(sorted(movements.mapped("amount")), [-120.0, 120.0])
        money = self._money(second)
        self.assertEqual(
            (money["billed"], money["unearned"], money["breakage"]), (120.0, 0.0, 120.0)
        )
        self.assertEqual(len(second.breakage_ids), 1)  # nothing more broken

        # the next one ends unpaid too, and is paid after its end: its value is breakage
        self._renew("2026-04-05")
        self.assertEqual((third.state, self._money(third)["unearned"]), ("expired", 120.0))
        third_invoice = third.move_ids.filtered(lambda m: m.clinic_move_kind == "membership")
        with freeze_time("2026-04-10"):
            self._pay(third_invoice)
        self.assertEqual(third_invoice.payment_state, "paid")
        self.assertEqual(third.state, "expired")  # paid late: not usable any more
        money = self._money(third)
        self.assertEqual(
            (money["billed"], money["unearned"], money["breakage"]), (120.0, 0.0, 120.0)
        )
        self.assertEqual(third.breakage_ids.amount, 120.0)
        self.assertEqual(
            third.breakage_ids.move_id.line_ids.filtered(
                lambda line: line.account_id == self.breakage_account
            ).balance,
            -120.0,
        )
        self.assertAlmostEqual(
            self._unearned_balance(membership),
            sum(self._money(p)["unearned"] for p in membership.period_ids),
        )
        # the fourth period, paid in time, starts as usual
        fourth = membership.current_period_id
        fourth_invoice = fourth.move_ids.filtered(lambda m: m.clinic_move_kind == "membership")
        with freeze_time("2026-04-10"):
            self._pay(fourth_invoice)
        self.assertEqual(fourth.state, "active")
        self.assertFalse(fourth.breakage_ids)

    def test_renewal_invoice_line_as_odoo_computes_it(self):
        """The renewal gives its invoice lines every value Odoo would compute (so that it
        computes none line by line): the same values as an invoice line Odoo completes
        itself, the company's analytic distribution model included."""
        plan = self.env["account.analytic.plan"].create({"name": "Clinic Lines"})
        analytic = self.env["account.analytic.account"].create(
            {"name": "Pilates Memberships", "plan_id": plan.id, "company_id": self.company.id}
        )
        self.env["account.analytic.distribution.model"].create(
            {
                "product_id": self.monthly_no_rollover.id,
                "company_id": self.company.id,
                "analytic_distribution": {str(analytic.id): 100},
            }
        )
        membership = self._sell(self.monthly_no_rollover)
        self._renew("2026-02-05")
        line = membership.current_period_id._clinic_invoice_lines()
        self.assertEqual(len(line), 1)
        with freeze_time("2026-02-05"):
            odoo_line = (
                self.env["account.move"]
                .create(
                    {
                        "move_type": "out_invoice",
                        "partner_id": self.patient.id,
                        "invoice_date": date(2026, 2, 5),
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": self.monthly_no_rollover.id,
                                    "quantity": 1,
                                    "price_unit": 120.0,
                                    "account_id": self.deferred.id,
                                }
                            )
                        ],
                    }
                )
                .invoice_line_ids
            )
        fields_ = [
            "display_type",
            "partner_id",
            "product_uom_id",
            "discount",
            "analytic_distribution",
            "currency_id",
            "account_id",
            "tax_ids",
            "price_subtotal",
            "price_total",
            "balance",
            "journal_id",
        ]
        self.assertEqual(line.analytic_distribution, {str(analytic.id): 100})
        self.assertEqual(line.read(fields_)[0] | {"id": 0}, odoo_line.read(fields_)[0] | {"id": 0})

    def test_unpaid_period_is_usable_without_the_setting(self):
        membership = self._sell(self.monthly_no_rollover)
        self._renew("2026-02-05")
        second = membership.current_period_id
        self.assertEqual(second.state, "active")
        with freeze_time("2026-02-06"):
            event = self._clinic_book(datetime(2026, 2, 7, 10), self.pilates)
        self.assertEqual(event.clinic_entitlement_id, second)

    def test_refund_of_a_renewed_period(self):
        membership = self._sell(self.monthly_no_rollover)
        self._renew("2026-02-05")
        second = membership.current_period_id
        self.assertEqual(second.amount_billed_total, 120.0)
        with freeze_time("2026-02-06"):
            credit_note = second.with_user(self.manager)._clinic_refund(120.0)
        self.assertEqual(credit_note.amount_total, 120.0)
        self.assertEqual(
            credit_note.reversed_entry_id,
            second.move_ids.filtered(lambda m: m.clinic_move_kind == "membership"),
        )
        money = self._money(second)
        self.assertEqual((money["billed"], money["refunded"], money["unearned"]), (120.0, 120.0, 0))

    def test_memberships_renewing_together_share_one_invoice(self):
        """A patient renewing two memberships the same day gets one invoice, a line per
        period; each period keeps its own money, is paid by that invoice and is refunded on
        its own."""
        self.company.clinic_membership_block_unpaid = True
        monthly = self._sell(self.monthly)
        plain = self._sell(self.monthly_no_rollover)
        other = self.env["res.partner"].create({"name": "Other Member"})
        with freeze_time("2026-01-05"):
            lone = self._clinic_sell(
                self.monthly_no_rollover, user=self.receptionist, partner=other
            )
            lone._create_invoices().action_post()
        renewed = self._renew("2026-02-05")
        self.assertEqual(len(renewed), 3)
        second, second_plain = monthly.current_period_id, plain.current_period_id
        invoice = self.env["account.move"].search(
            [("clinic_move_kind", "=", "membership"), ("partner_id", "=", self.patient.id)]
        )
        self.assertEqual(len(invoice), 1)
        self.assertRecordValues(
            invoice,
            [{"amount_total": 240.0, "invoice_date": date(2026, 2, 5), "state": "posted"}],
        )
        self.assertFalse(invoice.clinic_entitlement_id)
        self.assertEqual(
            sorted(
                (line.clinic_entitlement_id.id, line.balance, line.account_id.id)
                for line in invoice.invoice_line_ids
            ),
            sorted(
                [(second.id, -120.0, self.deferred.id), (second_plain.id, -120.0, self.deferred.id)]
            ),
        )
        self.assertIn(invoice, second._clinic_entries())
        # the other patient's period: an invoice of its own, tagged with its package
        lone_period = (
            self.env["clinic.membership"].search([("partner_id", "=", other.id)]).current_period_id
        )
        lone_invoice = lone_period.move_ids.filtered(lambda m: m.clinic_move_kind == "membership")
        self.assertEqual((len(lone_invoice), lone_invoice.amount_total), (1, 120.0))
        # billed: its line of the invoice, plus the 4 unused uses rolled over (rollover only)
        for period, billed in ((second, 240.0), (second_plain, 120.0)):
            money = self._money(period)
            self.assertEqual((money["billed"], money["unearned"]), (billed, billed))
            self.assertEqual(period.state, "draft")
            self.assertEqual(period.amount_billed_total, 120.0)
        # paying the one invoice starts both periods
        with freeze_time("2026-02-06"):
            self._pay(invoice)
        self.assertEqual((second | second_plain).mapped("state"), ["active", "active"])
        # (the shared invoice is not one of the periods' own entries: read again)
        (second | second_plain).invalidate_recordset(["amount_paid"])
        self.assertEqual((second.amount_paid, second_plain.amount_paid), (120.0, 120.0))
        # refunding one period credits its share of the shared invoice only
        with freeze_time("2026-02-07"):
            credit_note = second_plain.with_user(self.manager)._clinic_refund(120.0)
        self.assertEqual(credit_note.reversed_entry_id, invoice)
        self.assertEqual(credit_note.amount_total, 120.0)
        money = self._money(second_plain)
        self.assertEqual((money["refunded"], money["unearned"]), (120.0, 0.0))
        self.assertEqual(self._money(second)["unearned"], 240.0)
        self.assertAlmostEqual(
            self._unearned_balance(monthly),
            sum(self._money(p)["unearned"] for p in monthly.period_ids),
        )

    def test_rights(self):
        membership = self._sell(self.monthly)
        salesman = new_test_user(
            self.env, login="membership_salesman", groups="sales_team.group_sale_salesman"
        )
        with self.assertRaises(AccessError):
            membership.with_user(salesman).action_cancel()
        for values in ({"state": "cancelled"}, {"date_next": "2030-01-01"}, {"price_unit": 1}):
            with self.assertRaises(AccessError):
                membership.with_user(self.receptionist).write(values)
        with self.assertRaises(AccessError):
            self.env["clinic.membership"].with_user(self.manager).create(
                {
                    "name": "Forged",
                    "partner_id": self.patient.id,
                    "product_id": self.monthly.id,
                    "company_id": self.company.id,
                    "period": "month",
                }
            )
        # membership terms are a manager's
        with self.assertRaises(AccessError):
            self.monthly.product_tmpl_id.with_user(self.receptionist).write(
                {"clinic_rollover": False}
            )
        self.monthly.product_tmpl_id.with_user(self.manager).write({"clinic_rollover": False})
        self.assertEqual(membership.state, "active")

    def test_membership_product_rules(self):
        with self.assertRaisesRegex(ValidationError, "Invoice the package at sale"):
            self._clinic_package(
                "Prepaid membership",
                100.0,
                [(self.pilates, 4, 0.0)],
                clinic_membership=True,
                clinic_billing_mode="prepaid_credit",
            )
        with self.assertRaisesRegex(ValidationError, "only a membership can give unlimited"):
            self.env["product.product"].create(
                {
                    "name": "Unlimited package",
                    "type": "service",
                    "clinic_package_ok": True,
                    "clinic_package_line_ids": [
                        Command.create(
                            {
                                "service_product_id": self.pilates.id,
                                "quantity": 1,
                                "unlimited": True,
                            }
                        )
                    ],
                }
            )
        with self.assertRaisesRegex(ValidationError, "activation"):
            self._clinic_package(
                "First visit membership",
                100.0,
                [(self.pilates, 4, 0.0)],
                clinic_membership=True,
                clinic_activation="on_first_visit",
            )


class TestMembershipRpc(ClinicRpcMixin, MembershipMixin, HttpCase):
    """A patient logged in to the portal cannot renew or cancel a membership over XML-RPC,
    and sees the current period on My Packages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()
        cls._membership_setup()
        cls.patient_user = new_test_user(
            cls.env,
            login="membership_patient",
            groups="base.group_portal",
            partner_id=cls.patient.id,
        )

    def test_patient_cannot_renew_or_cancel(self):
        membership = self._sell(self.monthly)
        for method, args in (
            ("action_cancel", ([membership.id],)),
            ("write", ([membership.id], {"state": "cancelled"})),
            ("read", ([membership.id], ["state"])),
        ):
            with self.assertRaises(xmlrpc.client.Fault) as caught:
                self.rpc(self.patient_user, "clinic.membership", method, *args)
            self.assertEqual(caught.exception.faultCode, ACCESS_ERROR, method)
        for method in ("_cron_renew", "_clinic_renew"):
            with self.assertRaises(xmlrpc.client.Fault) as caught:
                self.rpc(self.patient_user, "clinic.membership", method, [membership.id])
            self.assertIn("cannot be called remotely", caught.exception.faultString)
        self.assertEqual(membership.state, "active")
        self.assertEqual(membership.period_count, 1)
        # the front desk may cancel it over RPC
        self.rpc(self.receptionist, "clinic.membership", "action_cancel", [membership.id])
        membership.invalidate_recordset()
        self.assertEqual(membership.state, "cancelled")

    def test_portal_shows_the_current_period(self):
        membership = self._sell(self.monthly, day=date.today().isoformat())
        self.authenticate(self.patient_user.login, self.patient_user.login)
        page = self.url_open("/my/packages").text
        self.assertIn("o_clinic_portal_membership", page)
        self.assertIn("Membership, period", page)
        self.assertIn(membership.current_period_id.name, page)
