"""Package money under random front-desk histories (hypothesis), on real Odoo.

Each example is a random sequence of operations - sell (four kinds of package: plain,
taxed, prepaid credit, no-shows excluded), sell now and invoice later, book, arrive, no-show
(covered or charged), cancel (late or not), undo, post the visit invoice, expire, extend,
advance the clock (the daily expiry job runs), pause, resume, cancel the package, refund (0,
suggested, half, all collected, and amounts out of range), transfer a package to the other
patient (its upcoming visits moved or released), sell a membership (monthly with rollover,
weekly without), renew it (the renewal job at its period's end), cancel it, and writes a
client could send
over RPC as a Clinic User (counters, states, prices, uses, a visit's attendance: all
refused) - run in a savepoint of its own, rolled back afterwards, so that examples are
independent. After every step:

- for each package, billed = recognised + unearned + refunded + breakage (untaxed, from the
  ledger through ``_clinic_money()``), and what the ledger says agrees with the uses;
- every posted journal entry balances;
- no package service has negative uses left, and its counters match its uses;
- the balance of the unearned revenue account equals the sum of the unearned amounts of the
  packages invoiced at sale; a prepaid package's unapplied prepayment is what it still holds;
- a package invoiced at sale holds nothing once used up, expired or refunded; a prepaid one,
  once expired or refunded, only the value of its delivered visits whose invoice is still a
  draft (its prepayment pays them when they are posted).

Every history ends with the draft visit invoices posted and the daily job run long after
every package's expiry. Hypothesis is derandomized (the same histories on every run) and does
not shrink a failure (the whole history and the failing step are shown): 25 histories take
about a minute; ``CLINIC_PROPERTY_EXAMPLES=300`` explores more, and
``--hypothesis-show-statistics`` counts the operations done and refused.

An operation that the data makes invalid (arriving twice, booking a used-up or expired
package, refunding more than collected, ...) must raise a UserError or ValidationError and
leave the database as it was; one that is valid must not raise.
"""

import os
from datetime import date, datetime, time, timedelta

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import event as statistic
from hypothesis import strategies as st

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, freeze_time

from .common import ClinicTestMixin, attend

T0 = date(2026, 3, 2)
MAX_EXAMPLES = int(os.environ.get("CLINIC_PROPERTY_EXAMPLES", "25"))
MIN_STEPS = 6  # after the first sales and bookings
MAX_STEPS = 12

KINDS = ("plain", "taxed", "prepaid", "strict")
# how a package is paid at sale: invoice paid or not; prepayment full, half or none
PAYMENTS = ("full", "half", "none")
REFUNDS = ("zero", "suggested", "half", "all", "over", "negative")

ref = st.integers(min_value=0, max_value=7)  # a package or visit, modulo how many exist
SELL = st.tuples(
    st.just("sell"),
    st.sampled_from(KINDS),
    st.sampled_from((1, 1, 1, 2)),
    st.sampled_from(PAYMENTS),
    st.booleans(),  # the second patient
)
BOOK = st.tuples(
    st.just("book"),
    st.one_of(st.none(), ref),  # None: the booking picks the package
    st.integers(min_value=0, max_value=12),  # days ahead
    st.sampled_from(("physio", "physio", "massage")),
    st.sampled_from((False, False, False, True)),  # booked for the other patient
)
# (strategy, weight): visits are counted more often than packages are edited
WEIGHTED = [
    (st.tuples(st.just("arrive"), ref), 6),
    (BOOK, 3),
    (st.tuples(st.just("no_show"), ref, st.booleans()), 2),
    (st.tuples(st.just("cancel"), ref, st.booleans()), 2),
    (st.tuples(st.just("reset"), ref), 2),
    (st.tuples(st.just("post_invoice"), ref), 2),
    (st.tuples(st.just("refund"), ref, st.sampled_from(REFUNDS)), 2),
    (st.tuples(st.just("advance"), st.integers(min_value=1, max_value=20)), 2),
    (st.tuples(st.just("expire"), ref, st.booleans()), 2),
    (st.tuples(st.just("extend"), ref, st.one_of(st.none(), st.integers(0, 30))), 1),
    (SELL, 1),
    (st.tuples(st.just("cancel_package"), ref), 1),
    (st.tuples(st.just("pause"), ref), 1),
    (st.tuples(st.just("resume"), ref), 1),
    (st.tuples(st.just("tamper"), ref, st.sampled_from(tuple(range(8)))), 2),
    # sold now, invoiced later: visits delivered meanwhile wait for the invoice
    (st.tuples(st.just("sell_late"), st.sampled_from(("plain", "taxed", "strict"))), 1),
    (st.tuples(st.just("invoice_late"), ref), 2),
    # a package's remaining uses and value move to the other patient
    (st.tuples(st.just("transfer"), ref, st.booleans()), 1),
    # memberships: every period a package of its own, with its invoice, rollover, breakage
    (st.tuples(st.just("sell_membership"), st.booleans(), st.booleans()), 1),
    (st.tuples(st.just("renew"), ref), 2),
    (st.tuples(st.just("cancel_membership"), ref), 1),
]
OPERATIONS = st.one_of([strategy for strategy, weight in WEIGHTED for _i in range(weight)])
# every history ends with the visit invoices posted, and the daily job long after every
# package's expiry
FINALLY = [("post_invoices",), ("advance", 400)]
# a history: packages sold, visits booked, then anything (more sales and bookings included)
HISTORIES = st.tuples(
    st.lists(SELL, min_size=1, max_size=3),
    st.lists(BOOK, min_size=2, max_size=5),
    st.lists(OPERATIONS, min_size=MIN_STEPS, max_size=MAX_STEPS),
)


class TestMoneyProperties(ClinicTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()
        cls.env.user.tz = "UTC"
        cls.deferred = cls.company._clinic_accounting()[0]
        cls.bank = cls.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", cls.company.id)], limit=1
        )
        # a sales tax of the chart, with its tax account (a tax without one would be booked
        # on the unearned revenue account)
        tax = cls.company.account_sale_tax_id.copy(
            {
                "name": "Clinic property tax 15%",
                "amount": 15.0,
                "price_include_override": "tax_excluded",
            }
        )
        assert tax.invoice_repartition_line_ids.account_id, "the sales tax has no tax account"
        cls.kinds = {
            # 100 / 3 uses: the last use takes the rounding remainder
            "plain": cls._clinic_package(
                "3 Physio", 100.0, [(cls.physio, 3, 0.0)], clinic_validity_days=30
            ),
            # taxes excluded, two services, a patient-pays amount, late cancellations count
            "taxed": cls._clinic_package(
                "Taxed Rehab",
                400.0,
                [(cls.physio, 2, 0.0), (cls.massage, 2, 15.0)],
                clinic_validity_days=45,
                clinic_count_late_cancel=True,
                taxes_id=[Command.set(tax.ids)],
            ),
            "prepaid": cls._clinic_package(
                "Prepaid 4 Physio",
                400.0,
                [(cls.physio, 4, 0.0)],
                clinic_validity_days=30,
                clinic_billing_mode="prepaid_credit",
            ),
            # never expires (until its date is edited), no-shows may not use it
            "strict": cls._clinic_package(
                "2 Physio, no no-shows", 90.0, [(cls.physio, 2, 0.0)], clinic_count_no_show=False
            ),
        }
        cls.services = {"physio": cls.physio, "massage": cls.massage}
        cls.memberships = {
            # 100 / 4 uses a month, the unused ones roll over once
            True: cls._clinic_package(
                "Monthly Physio Membership",
                100.0,
                [(cls.physio, 4, 0.0)],
                clinic_membership=True,
                clinic_period="month",
                clinic_rollover=True,
            ),
            # 100 / 3 uses a week, the unused ones go to breakage
            False: cls._clinic_package(
                "Weekly Physio Membership",
                100.0,
                [(cls.physio, 3, 0.0)],
                clinic_membership=True,
                clinic_period="week",
            ),
        }

    # ------------------------------------------------------------------ the property
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        # no shrinking: a failing example is shown whole (with the step that broke), rather
        # than after many minutes of replaying shorter histories on real Odoo
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(HISTORIES)
    # a visit booked before its package expired is counted after the daily job: refused (its
    # value went to breakage) until the expiry is extended
    @example(
        (
            [("sell", "plain", 1, "full", False)],
            [("book", 0, 0, "physio", False), ("book", None, 0, "physio", False)],
            [("expire", 0, False), ("arrive", 0), ("extend", 0, 10), ("arrive", 0)],
        )
    )
    # prepaid: visits paid from the prepayment, then half of it refunded
    @example(
        (
            [("sell", "prepaid", 1, "half", False), ("sell", "prepaid", 1, "full", False)],
            [("book", 1, 1, "physio", False), ("book", 1, 2, "physio", False)],
            [
                ("arrive", 0),
                ("no_show", 1, True),
                ("post_invoice", 0),
                ("reset", 0),
                ("refund", 1, "half"),
                ("refund", 0, "all"),
            ],
        )
    )
    # memberships: a use, renewals with and without rollover, a transfer of a period, a
    # cancellation, a refund of a renewed period
    @example(
        (
            [("sell", "plain", 1, "full", False)],
            [("book", 0, 0, "physio", False)],
            [
                ("sell_membership", True, True),
                ("book", 1, 1, "physio", False),
                ("arrive", 1),
                ("renew", 0),
                ("sell_membership", False, False),
                ("renew", 1),
                ("transfer", 3, True),
                ("renew", 0),
                ("cancel_membership", 1),
                ("refund", 2, "all"),
                ("renew", 1),
            ],
        )
    )
    # taxes, two packages on one order line, a counted late cancellation undone, refunds
    @example(
        (
            [("sell", "taxed", 2, "none", False)],
            [("book", 1, 1, "massage", False), ("book", 0, 3, "physio", False)],
            [
                ("cancel", 0, True),
                ("reset", 0),
                ("arrive", 1),
                ("refund", 0, "suggested"),
                ("refund", 1, "over"),
                ("refund", 1, "zero"),
            ],
        )
    )
    # sold, two visits delivered before the invoice, then invoiced, then one more visit
    @example(
        (
            [("sell_late", "plain")],
            [("book", 0, 0, "physio", False), ("book", 0, 1, "physio", False)],
            [
                ("arrive", 0),
                ("arrive", 1),
                ("invoice_late", 0),
                ("book", 0, 2, "physio", False),
                ("arrive", 2),
                ("refund", 0, "suggested"),
            ],
        )
    )
    def test_money_is_never_created_or_lost(self, history):
        sales, bookings, operations = history
        savepoint = self.env.cr.savepoint()
        try:
            with freeze_time(T0) as clock:
                self._start(clock)
                for step, operation in enumerate([*sales, *bookings, *operations, *FINALLY]):
                    self._step(step, operation)
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all(flush=False)

    def _start(self, clock):
        self.clock = clock
        self.today = T0
        self.entitlements = self.env["clinic.entitlement"]
        self.events = self.env["calendar.event"]
        self.late_orders = self.env["sale.order"]  # sold, not invoiced yet
        self.sold_memberships = self.env["clinic.membership"]
        self.env.flush_all()
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM account_move")
        self.first_move_id = self.env.cr.fetchone()[0] + 1
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM account_partial_reconcile")
        self.first_partial_id = self.env.cr.fetchone()[0] + 1
        self.deferred_before = self._deferred_ledger()

    def _step(self, step, operation):
        name, *args = operation
        expected, action = getattr(self, f"_op_{name}")(*args)
        if action is None:  # nothing to act on (no package or visit yet)
            return
        label = f"step {step} {operation} on {self.today}"
        before = self._snapshot()
        try:
            with self.env.cr.savepoint():
                action()
                self.env.flush_all()
        except (UserError, ValidationError) as error:
            self.assertIsNot(expected, True, f"{label}: refused unexpectedly: {error}")
            self.env.invalidate_all(flush=False)
            self.assertEqual(self._snapshot(), before, f"{label}: refused but changed data")
            statistic(f"{name}: refused")
        else:
            self.assertIsNot(expected, False, f"{label}: should have been refused")
            statistic(f"{name}: done")
        # the periods a renewal (or the expiry job) opened, the packages a transfer made
        self.entitlements |= (
            self.sold_memberships.period_ids | self.entitlements.transferred_to_id
        ).sorted("id")
        self._check_invariants(label)

    # ------------------------------------------------------------------ picking records
    def _entitlement(self, index):
        return self.entitlements[index % len(self.entitlements)] if self.entitlements else None

    def _event(self, index):
        return self.events[index % len(self.events)] if self.events else None

    def _collected(self, entitlement):
        return entitlement._clinic_collected_total()

    def _visit_date(self, event):
        return event._clinic_visit_date()

    def _covered_use_reserved(self, event):
        """The visit's package use is booked on its package: consuming it needs no check."""
        usage = event.clinic_usage_id
        return usage.state == "reserved" and usage.entitlement_id == event.clinic_entitlement_id

    def _consume_expected(self, event):
        """Whether counting this upcoming covered visit must work (None: may be refused)."""
        entitlement = event.clinic_entitlement_id
        if not entitlement:
            return True
        if not self._covered_use_reserved(event):
            return None  # booked again first: refused when the package no longer allows it
        # an expired package's value went to breakage: extend the package first
        return entitlement.state != "expired"

    # ------------------------------------------------------------------ operations
    # Each returns (expected, action): expected True (must work), False (must be refused) or
    # None (either), from the data before the step; action None when there is nothing to do.
    def _op_sell(self, kind, qty, payment, other_patient):
        patient = self.patient_2 if other_patient else self.patient

        def sell():
            order = self._clinic_sell(self.kinds[kind], partner=patient, qty=qty)
            entitlements = order.clinic_entitlement_ids
            self.assertEqual(len(entitlements), qty)
            if kind == "prepaid":
                for entitlement in entitlements:
                    if payment != "none":
                        amount = entitlement.amount_total / (2 if payment == "half" else 1)
                        self._payment(patient, amount, clinic_entitlement_id=entitlement.id)
            else:
                invoice = order._create_invoices()
                invoice.action_post()
                if payment == "full":
                    self.env["account.payment.register"].with_context(
                        active_model="account.move", active_ids=invoice.ids
                    ).create({"journal_id": self.bank.id})._create_payments()
                elif payment == "half":
                    self._payment(patient, invoice.amount_total / 2)  # unapplied credit
            self.entitlements |= entitlements

        return True, sell

    def _op_sell_late(self, kind):
        def sell():
            order = self._clinic_sell(self.kinds[kind])
            self.late_orders |= order
            self.entitlements |= order.clinic_entitlement_ids

        return True, sell

    def _op_invoice_late(self, index):
        """The package invoice of an order sold earlier is posted: the visits delivered
        meanwhile are recognised now. (An order whose packages ended is not invoiced.)"""
        if not self.late_orders:
            return True, None
        order = self.late_orders[index % len(self.late_orders)]
        if any(
            e.state not in ("active", "paused", "exhausted") for e in order.clinic_entitlement_ids
        ):
            return True, None

        def invoice():
            order._create_invoices().action_post()
            self.late_orders -= order

        return True, invoice

    def _op_transfer(self, index, move_visits):
        entitlement = self._entitlement(index)
        if not entitlement:
            return True, None
        owner = entitlement.partner_id
        other = self.patient if owner == self.patient_2 else self.patient_2

        def transfer():
            wizard = self.env["clinic.entitlement.transfer"].create(
                {
                    "entitlement_id": entitlement.id,
                    "partner_id": other.id,
                    "move_visits": move_visits,
                }
            )
            wizard.action_confirm()
            self.assertEqual(entitlement.state, "transferred")

        # refused for packages that are over, prepaid, not invoiced yet or used up
        return (None if entitlement.can_transfer else False), transfer

    def _op_sell_membership(self, rollover, paid):
        def sell():
            order = self._clinic_sell(self.memberships[rollover])
            invoice = order._create_invoices()
            invoice.action_post()
            if paid:
                self.env["account.payment.register"].with_context(
                    active_model="account.move", active_ids=invoice.ids
                ).create({"journal_id": self.bank.id})._create_payments()
            membership = order.clinic_entitlement_ids.membership_id
            self.assertEqual(membership.current_period_id.state, "active")
            self.sold_memberships |= membership
            self.entitlements |= order.clinic_entitlement_ids

        return True, sell

    def _op_renew(self, index):
        """The clock moves to the end of a membership's period (if it is later) and the
        renewal job runs, then the expiry job."""
        if not self.sold_memberships:
            return True, None
        membership = self.sold_memberships[index % len(self.sold_memberships)]

        def renew():
            due = membership.date_next
            if due and due > self.today:
                self._move_clock((due - self.today).days)
            periods = membership.period_ids
            self.env["clinic.membership"]._cron_renew()
            self.env["clinic.entitlement"]._cron_expire()
            if membership.state == "active" and due:
                self.assertGreater(len(membership.period_ids), len(periods))

        return True, renew

    def _op_cancel_membership(self, index):
        if not self.sold_memberships:
            return True, None
        membership = self.sold_memberships[index % len(self.sold_memberships)]
        return membership.state == "active", membership.action_cancel

    def _payment(self, patient, amount, **values):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": patient.id,
                "amount": amount,
                "journal_id": self.bank.id,
                **values,
            }
        )
        payment.action_post()
        return payment

    def _op_book(self, index, days, service_key, other_patient):
        service = self.services[service_key]
        start = datetime.combine(self.today + timedelta(days=days), time(10, 0))
        entitlement = self._entitlement(index) if index is not None else None
        values = {}
        if index is not None:
            if not entitlement:
                return True, None
            values["clinic_entitlement_id"] = entitlement.id
            owner = entitlement.partner_id
            other = self.patient if owner == self.patient_2 else self.patient_2
            patient = other if other_patient else owner
            line = entitlement._clinic_line_for(service)
            expected = (
                patient == owner
                and entitlement.state == "active"
                and (not entitlement.date_expiry or start.date() <= entitlement.date_expiry)
                and bool(line)
                and line.remaining > 0
            )
        else:
            # the patient of the last package sold (or the other one)
            owner = self.entitlements[-1:].partner_id or self.patient
            other = self.patient if owner == self.patient_2 else self.patient_2
            patient = other if other_patient else owner
            expected = True

        def book():
            event = self._clinic_book(start, service=service, patient=patient, **values)
            if entitlement:
                self.assertEqual(event.clinic_usage_id.state, "reserved")
                self.assertEqual(event.clinic_usage_id.entitlement_id, entitlement)
            self.events |= event

        return expected, book

    def _op_arrive(self, index):
        event = self._event(index)
        if not event:
            return True, None

        def arrive():
            attend(event, "arrive")

        if event.clinic_attendance != "upcoming":
            return False, arrive
        return self._consume_expected(event), arrive

    def _op_no_show(self, index, cover):
        event = self._event(index)
        if not event:
            return True, None

        def no_show():
            attend(event, "no_show", cover=cover)

        entitlement = event.clinic_entitlement_id
        if event.clinic_attendance != "upcoming":
            return False, no_show
        if not cover:
            return True, no_show
        if entitlement and not entitlement.count_no_show:
            return False, no_show
        return self._consume_expected(event), no_show

    def _op_cancel(self, index, late):
        event = self._event(index)
        if not event:
            return True, None

        def cancel():
            event.action_clinic_cancel(late=late)

        entitlement = event.clinic_entitlement_id
        if event.clinic_attendance != "upcoming":
            return False, cancel
        if late and entitlement and entitlement.count_late_cancel:
            return self._consume_expected(event), cancel
        return True, cancel

    def _op_reset(self, index):
        event = self._event(index)
        if not event:
            return True, None
        entitlement = event.clinic_entitlement_id
        usage = event.clinic_usage_id
        if event.clinic_attendance == "upcoming" or event.clinic_invoice_id.state == "posted":
            expected = False
        elif not entitlement or (
            usage.state == "consumed"
            and entitlement.state in ("active", "exhausted")
            and (not entitlement.date_expiry or self._visit_date(event) <= entitlement.date_expiry)
        ):
            expected = True
        else:
            expected = None  # its use is booked again: refused if the package no longer allows
        return expected, event.action_clinic_reset

    def _op_post_invoice(self, index):
        event = self._event(index)
        if not event or event.clinic_invoice_id.state != "draft":
            return True, None
        return True, event.clinic_invoice_id.action_post

    def _op_post_invoices(self):
        invoices = self.events.clinic_invoice_id.filtered(lambda m: m.state == "draft")
        return True, (invoices.action_post if invoices else None)

    def _op_expire(self, index, backdate):
        """The package expires: with `backdate`, its expiry date is set to yesterday (refused
        when it started today); else to today, and the clock moves to tomorrow. The daily job
        runs."""
        entitlement = self._entitlement(index)
        if not entitlement:
            return True, None
        yesterday = self.today - timedelta(days=1)

        def expire():
            entitlement.date_expiry = yesterday if backdate else self.today
            if not backdate:
                self._move_clock(1)
            self.env["clinic.entitlement"]._cron_expire()

        start = entitlement.date_start
        return not (backdate and start and yesterday < start), expire

    def _move_clock(self, days):
        self.today += timedelta(days=days)
        self.clock.move_to(self.today)

    def _op_extend(self, index, days):
        entitlement = self._entitlement(index)
        if not entitlement:
            return True, None

        def extend():
            entitlement.date_expiry = (
                self.today + timedelta(days=days) if days is not None else False
            )

        return True, extend

    def _op_advance(self, days):
        def advance():
            self._move_clock(days)
            self.env["clinic.entitlement"]._cron_expire()

        return True, advance

    def _op_refund(self, index, how):
        entitlement = self._entitlement(index)
        if not entitlement:
            return True, None
        collected = self._collected(entitlement)
        amounts = {
            "zero": 0.0,
            "half": self.currency.round(collected / 2),
            "all": collected,
            "over": collected + 0.01,
            "negative": -1.0,
        }
        values = {"entitlement_id": entitlement.id}
        if how != "suggested":
            values["amount"] = amounts[how]

        def refund():
            wizard = self.env["clinic.entitlement.refund"].create(values)
            wizard.action_confirm()
            self.assertEqual(entitlement.state, "refunded")

        refundable = entitlement.state in ("draft", "active", "paused", "exhausted", "expired")
        return refundable and how not in ("over", "negative"), refund

    def _op_cancel_package(self, index):
        entitlement = self._entitlement(index)
        if not entitlement:
            return True, None
        consumed = entitlement.usage_ids.filtered(lambda u: u.state == "consumed")
        # a package holding money is refunded, not cancelled
        expected = (
            entitlement.state not in ("refunded", "cancelled")
            and not consumed
            and not entitlement._clinic_held_unearned()
        )
        return expected, entitlement.action_cancel

    def _op_pause(self, index):
        entitlement = self._entitlement(index)
        if not entitlement:
            return True, None
        return entitlement.state == "active", entitlement.action_pause

    def _op_resume(self, index):
        entitlement = self._entitlement(index)
        if not entitlement:
            return True, None
        return entitlement.state == "paused", entitlement.action_resume

    def _op_tamper(self, index, kind):
        """A write a Clinic User's client could send (over XML-RPC it reaches the same
        `write`): always refused, nothing changed."""
        entitlement = self._entitlement(index)
        if not entitlement:
            return True, None
        desk = self.receptionist
        line = entitlement.line_ids[:1].with_user(desk)
        package = entitlement.with_user(desk)
        use = entitlement.usage_ids[:1].with_user(desk)
        event = self._event(index)
        writes = [
            lambda: line.write({"quantity": line.quantity + 5}),
            lambda: line.write({"used": 0, "reserved": 0}),
            lambda: package.write({"state": "active"}),
            lambda: package.write({"amount_untaxed": 1.0, "amount_total": 1.0}),
            lambda: package.write({"partner_id": self.patient_2.id}),
            lambda: use.write({"state": "released"}) if use else package.write({"state": "x"}),
            lambda: use.write({"amount": 999.0}) if use else line.write({"remaining": 9}),
            lambda: (
                event.with_user(desk).write({"clinic_attendance": "arrived"})
                if event
                else line.write({"quantity": 99})
            ),
        ]
        return False, writes[kind]

    # ------------------------------------------------------------------ checks
    def _deferred_ledger(self):
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT COALESCE(SUM(balance), 0) FROM account_move_line
             WHERE account_id = %s AND parent_state = 'posted'
            """,
            [self.deferred.id],
        )
        return float(self.env.cr.fetchone()[0])

    def _snapshot(self):
        """What an operation may change, read from the database."""
        self.env.flush_all()
        cr = self.env.cr
        ents = tuple(self.entitlements.ids) or (0,)
        result = {}
        for key, query, params in (
            (
                "entitlements",
                "SELECT id, state, date_start, date_expiry, date_paused FROM clinic_entitlement"
                " WHERE id IN %s ORDER BY id",
                [ents],
            ),
            (
                "lines",
                "SELECT id, used, reserved FROM clinic_entitlement_line"
                " WHERE entitlement_id IN %s ORDER BY id",
                [ents],
            ),
            (
                "uses",
                "SELECT id, state, reason, amount, move_id, event_id FROM clinic_entitlement_usage"
                " WHERE entitlement_id IN %s ORDER BY id",
                [ents],
            ),
            (
                "visits",
                "SELECT id, clinic_attendance, clinic_entitlement_id, clinic_usage_id,"
                " clinic_invoice_id, active FROM calendar_event WHERE id IN %s ORDER BY id",
                [tuple(self.events.ids) or (0,)],
            ),
            (
                "moves",
                "SELECT id, state, payment_state FROM account_move WHERE id >= %s ORDER BY id",
                [self.first_move_id],
            ),
            (
                "reconciliations",
                "SELECT id, amount FROM account_partial_reconcile WHERE id >= %s ORDER BY id",
                [self.first_partial_id],
            ),
        ):
            cr.execute(query, params)
            result[key] = cr.fetchall()
        result["money"] = [e._clinic_money() for e in self.entitlements]
        return result

    def _check_invariants(self, label):
        self.env.invalidate_all()
        round_ = self.currency.round
        invoiced_unearned = 0.0
        batch = self.entitlements._clinic_deferred_money()  # as the expiry job reads a batch
        for entitlement in self.entitlements:
            money = entitlement._clinic_money()
            where = f"{label}: {entitlement.name} ({entitlement.product_id.name}, "
            where += f"{entitlement.state}) {money}"
            self.assertAlmostEqual(
                money["billed"],
                money["recognised"] + money["unearned"] + money["refunded"] + money["breakage"],
                places=2,
                msg=f"{where}: money created or lost",
            )
            for line in entitlement.line_ids:
                usages = line.usage_ids
                used = len(usages.filtered(lambda u: u.state == "consumed"))
                reserved = len(usages.filtered(lambda u: u.state == "reserved"))
                self.assertEqual((line.used, line.reserved), (used, reserved), where)
                self.assertGreaterEqual(line.remaining, 0, f"{where}: negative uses left")
                # a refunded, cancelled or transferred package has nothing left
                left = (
                    0
                    if entitlement.state in ("refunded", "cancelled", "transferred")
                    else line.quantity
                )
                self.assertEqual(line.remaining, max(left - used - reserved, 0), where)
            self.assertGreaterEqual(entitlement.uses_remaining, 0, where)
            consumed = entitlement.usage_ids.filtered(lambda u: u.state == "consumed")
            if entitlement.billing_mode == "package_invoice":
                invoiced_unearned += money["unearned"]
                # what the expiry job reads for a whole batch says the same
                self.assertAlmostEqual(
                    batch[entitlement.id]["unearned"],
                    money["unearned"],
                    2,
                    where,
                )
                # invoiced at sale: the ledger recognised exactly the uses delivered
                self.assertAlmostEqual(
                    money["recognised"], round_(sum(consumed.mapped("amount"))), 2, where
                )
                # what it was sold for, less the value it gave to another package (a
                # transfer, a membership's rollover); a renewed period: its invoice plus the
                # value rolled over into it
                given = sum(
                    entitlement._clinic_ledger()
                    .filtered(
                        lambda line: (
                            line.move_id.clinic_move_kind == "transfer"
                            and line.account_id == self.deferred
                            and line.balance > 0
                        )
                    )
                    .mapped("balance")
                )
                billed = (
                    0.0
                    if entitlement.sale_order_id in self.late_orders
                    else round_(entitlement.amount_untaxed - given)
                )
                self.assertAlmostEqual(money["billed"], billed, 2, where)
                self.assertGreaterEqual(round_(money["unearned"]), 0.0, where)
                if entitlement.state in ("exhausted", "expired", "refunded"):
                    self.assertAlmostEqual(
                        money["unearned"], 0.0, 2, f"{where}: a closed package holds money"
                    )
            else:
                # the unapplied prepayment is what the package still holds
                prepayment_lines = entitlement.payment_ids.filtered(
                    lambda p: p.payment_type == "inbound" and p.state in ("in_process", "paid")
                ).move_id.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
                unapplied = round_(-sum(prepayment_lines.mapped("amount_residual")))
                self.assertAlmostEqual(
                    unapplied, max(money["unearned"], 0.0), 2, f"{where}: unapplied credit"
                )
                # delivered visits whose invoice is still a draft: the prepayment owes them
                unbilled = round_(
                    sum(consumed.filtered(lambda u: u.move_id.state == "draft").mapped("amount"))
                )
                if entitlement.state in ("expired", "refunded"):
                    # closed: what is left pays (part of) them, nothing more; when something
                    # was forfeited, all of them (or the visits took more than was paid, or
                    # the refund gave back more than was left: unearned < 0)
                    if self.currency.compare_amounts(money["breakage"], 0.0) > 0:
                        self.assertAlmostEqual(money["unearned"], unbilled, 2, where)
                    else:
                        self.assertLessEqual(round_(money["unearned"] - unbilled), 0.0, where)
        # every posted entry balances
        self.env.cr.execute(
            """
            SELECT move_id, SUM(debit), SUM(credit) FROM account_move_line
             WHERE parent_state = 'posted' AND move_id >= %s
          GROUP BY move_id HAVING ROUND(SUM(debit) - SUM(credit), 2) != 0
            """,
            [self.first_move_id],
        )
        self.assertEqual(self.env.cr.fetchall(), [], f"{label}: unbalanced entries")
        # the unearned revenue account holds what the packages invoiced at sale still hold
        ledger = -(self._deferred_ledger() - self.deferred_before)
        self.assertAlmostEqual(
            ledger, invoiced_unearned, 2, f"{label}: unearned account vs packages"
        )
