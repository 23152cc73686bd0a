"""Package money through Odoo accounting: journal items asserted, nothing created or lost."""

from datetime import date, datetime, timedelta

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, freeze_time

from .common import ClinicCase, attend

TODAY = "2026-03-02"


def at(day, hour=10):
    return datetime(2026, 3, day, hour, 0)


class MoneyCase(ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.tz = "UTC"
        cls.deferred, cls.breakage, cls.journal = cls.company._clinic_accounting()
        cls.receivable = cls.patient.property_account_receivable_id
        cls.physio_income = cls.physio.product_tmpl_id._get_product_accounts()["income"]
        cls.bank = cls.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", cls.company.id)], limit=1
        )

    def _pay(self, invoice, amount=None):
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": self.bank.id, **({"amount": amount} if amount else {})})
        )
        return wizard._create_payments()

    def _sell_invoiced(self, product=None, paid=True):
        order = self._clinic_sell(product or self.package_physio8)
        invoice = order._create_invoices()
        invoice.action_post()
        if paid:
            self._pay(invoice)
        return order.clinic_entitlement_ids, invoice

    def _items(self, move):
        """{(account, partner): balance} of a move's journal items."""
        result = {}
        for line in move.line_ids:
            key = (line.account_id, line.partner_id)
            result[key] = result.get(key, 0.0) + line.balance
        return result

    def _on_receivable(self, line):
        return line.account_id == self.receivable

    def assertInvariant(self, entitlement):
        money = entitlement._clinic_money()
        self.assertAlmostEqual(
            money["billed"],
            money["recognised"] + money["unearned"] + money["refunded"] + money["breakage"],
            places=2,
            msg=f"money created or lost: {money}",
        )
        for move in entitlement.move_ids.filtered(lambda m: m.state == "posted"):
            self.assertAlmostEqual(sum(move.line_ids.mapped("balance")), 0.0, places=2)
        return money

    def _arrive(self, day, service=None, entitlement=None):
        values = {"clinic_entitlement_id": entitlement.id} if entitlement else {}
        event = self._clinic_book(at(day), service=service, **values)
        attend(event, "arrive")
        return event


@freeze_time(TODAY)
class TestUnearnedRevenue(MoneyCase):
    def test_package_invoice_credits_unearned_revenue(self):
        entitlement, invoice = self._sell_invoiced(paid=False)
        self.assertEqual(
            self._items(invoice),
            {(self.deferred, self.patient): -1600.0, (self.receivable, self.patient): 1600.0},
        )
        self._pay(invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        money = self.assertInvariant(entitlement)
        self.assertEqual((money["billed"], money["unearned"]), (1600.0, 1600.0))

    def test_each_use_recognises_its_value(self):
        entitlement, __ = self._sell_invoiced()
        event = self._arrive(3)
        usage = event.clinic_usage_id
        self.assertEqual(usage.amount, 200.0)
        self.assertEqual(usage.move_id.state, "posted")
        self.assertEqual(usage.move_id.journal_id, self.journal)
        self.assertEqual(
            self._items(usage.move_id),
            {
                (self.deferred, self.patient): 200.0,
                (self.physio_income, self.practitioner.partner_id): -200.0,
            },
        )
        money = self.assertInvariant(entitlement)
        self.assertEqual((money["recognised"], money["unearned"]), (200.0, 1400.0))
        # a covered no-show is recognised like an arrival
        no_show = self._clinic_book(at(4))
        attend(no_show, "no_show", cover=True)
        self.assertEqual(no_show.clinic_usage_id.move_id.amount_total, 200.0)
        self.assertEqual(self.assertInvariant(entitlement)["recognised"], 400.0)

    def test_reset_reverses_the_recognition(self):
        entitlement, __ = self._sell_invoiced()
        event = self._arrive(3)
        move = event.clinic_usage_id.move_id
        event.action_clinic_reset()
        reversal = move.reversal_move_ids
        self.assertEqual(reversal.state, "posted")
        self.assertEqual(
            self._items(reversal),
            {
                (self.deferred, self.patient): -200.0,
                (self.physio_income, self.practitioner.partner_id): 200.0,
            },
        )
        self.assertFalse(event.clinic_usage_id.move_id)
        self.assertEqual(event.clinic_usage_id.amount, 0.0)
        money = self.assertInvariant(entitlement)
        self.assertEqual((money["recognised"], money["unearned"]), (0.0, 1600.0))

    def test_last_use_takes_the_rounding_remainder(self):
        package = self._clinic_package("3 Physio", 100.0, [(self.physio, 3, 0.0)])
        entitlement, __ = self._sell_invoiced(package)
        amounts = [self._arrive(day).clinic_usage_id.amount for day in (3, 4, 5)]
        self.assertEqual(amounts, [33.33, 33.33, 33.34])
        money = self.assertInvariant(entitlement)
        self.assertEqual((money["recognised"], money["unearned"]), (100.0, 0.0))
        self.assertEqual(entitlement.state, "exhausted")

    def test_unearned_account_agrees_with_packages(self):
        first, __ = self._sell_invoiced()
        second, __ = self._sell_invoiced(self.package_rehab)
        self._arrive(3, entitlement=first)
        self._arrive(4, service=self.massage, entitlement=second)
        ledger = -sum(
            self.env["account.move.line"]
            .search([("account_id", "=", self.deferred.id), ("parent_state", "=", "posted")])
            .mapped("balance")
        )
        self.assertAlmostEqual(ledger, first.deferred_balance + second.deferred_balance, 2)
        self.assertEqual(first.deferred_balance, 1400.0)
        self.assertEqual(second.deferred_balance, 1350.0)  # 1500 / 10 uses


@freeze_time(TODAY)
class TestEntriesShowTheirPackages(MoneyCase):
    def test_invoice_and_recognition_open_their_packages(self):
        """The accountant opens a package invoice's packages (through its sale line) and a
        recognition entry's package from the entry."""
        order = self._clinic_sell(self.package_physio8, qty=2)
        invoice = order._create_invoices()
        invoice.action_post()
        accountant = self.env(user=self.manager)["account.move"]
        packages = order.clinic_entitlement_ids
        invoice = accountant.browse(invoice.id)
        self.assertEqual((invoice.clinic_package_ids, invoice.clinic_package_count), (packages, 2))
        self.assertEqual(
            invoice.action_clinic_view_packages()["domain"], [("id", "in", packages.ids)]
        )
        recognition = self._clinic_book(at(3), patient=self.patient)
        attend(recognition, "arrive")
        entry = accountant.browse(recognition.clinic_usage_id.move_id.id)
        action = entry.action_clinic_view_packages()
        self.assertEqual(action["res_id"], recognition.clinic_entitlement_id.id)


@freeze_time(TODAY)
class TestExpiry(MoneyCase):
    def test_expiry_posts_breakage_and_extension_reverses_it(self):
        entitlement, __ = self._sell_invoiced()
        self._arrive(3)
        entitlement.date_expiry = date(2026, 3, 10)
        with freeze_time("2026-03-11"):
            self.env["clinic.entitlement"]._cron_expire()
        self.assertEqual(entitlement.state, "expired")
        # one grouped entry for the day's batch, itemised per package
        share = entitlement.breakage_ids
        breakage = share.move_id
        self.assertEqual((breakage.state, breakage.clinic_move_kind), ("posted", "breakage"))
        self.assertEqual(breakage.date, date(2026, 3, 11))
        nobody = self.env["res.partner"]
        self.assertEqual(
            self._items(breakage),
            {(self.deferred, nobody): 1400.0, (self.breakage, nobody): -1400.0},
        )
        self.assertEqual((share.amount, share.move_line_id.account_id), (1400.0, self.deferred))
        self.assertEqual(breakage.clinic_breakage_ids, share)
        self.assertEqual(share.company_id, entitlement.company_id)
        self.assertIn(breakage, entitlement._clinic_entries())
        self.assertEqual(entitlement.move_count, len(entitlement._clinic_entries()))
        money = self.assertInvariant(entitlement)
        self.assertEqual((money["breakage"], money["unearned"]), (1400.0, 0.0))
        with freeze_time("2026-03-12"):
            entitlement.date_expiry = date(2026, 6, 30)
        self.assertEqual(entitlement.state, "active")
        reversal = share.reversal_move_id
        self.assertEqual((reversal.state, reversal.clinic_entitlement_id), ("posted", entitlement))
        self.assertEqual(
            self._items(reversal),
            {(self.deferred, self.patient): -1400.0, (self.breakage, self.patient): 1400.0},
        )
        self.assertEqual(breakage.state, "posted")  # the other packages of the batch keep theirs
        money = self.assertInvariant(entitlement)
        self.assertEqual((money["breakage"], money["unearned"]), (0.0, 1400.0))
        # usable again
        self._arrive(12)
        self.assertEqual(entitlement.uses_used, 2)

    def test_grouped_expiry_several_packages_and_expiring_twice(self):
        first, __ = self._sell_invoiced()
        second, __ = self._sell_invoiced(self.package_rehab)
        unused, __ = self._sell_invoiced()
        used_up, __ = self._sell_invoiced()
        self._arrive(3, entitlement=first)
        self._arrive(4, service=self.massage, entitlement=second)
        for day in range(5, 13):
            self._arrive(day, entitlement=used_up)
        self.assertEqual(used_up.state, "exhausted")
        packages = first | second | unused
        packages.date_expiry = date(2026, 3, 20)
        with freeze_time("2026-03-21"):
            expired = self.env["clinic.entitlement"]._cron_expire()
        self.assertEqual(expired, packages)
        self.assertEqual(set(packages.mapped("state")), {"expired"})
        entry = packages.breakage_ids.move_id
        self.assertEqual(len(entry), 1)
        shares = {share.entitlement_id: share.amount for share in entry.clinic_breakage_ids}
        self.assertEqual(shares, {first: 1400.0, second: 1350.0, unused: 1600.0})
        self.assertEqual(self._items(entry)[(self.deferred, self.env["res.partner"])], 4350.0)
        for package in packages:
            money = self.assertInvariant(package)
            self.assertEqual(money["unearned"], 0.0)
        # the unearned report splits the grouped item between the packages
        report = self.env["clinic.report.unearned"].search([("move_id", "=", entry.id)])
        self.assertEqual(
            {row.entitlement_id: row.amount for row in report},
            {first: -1400.0, second: -1350.0, unused: -1600.0},
        )
        # extended, used, expired again, extended again: each expiry given back once
        with freeze_time("2026-03-22"):
            first.date_expiry = date(2026, 4, 10)
        self._arrive(23, entitlement=first)
        with freeze_time("2026-04-11"):
            self.env["clinic.entitlement"]._cron_expire()
            self.assertEqual(sorted(first.breakage_ids.mapped("amount")), [1200.0, 1400.0])
            first.date_expiry = date(2026, 5, 10)
        self.assertEqual(first.state, "active")
        self.assertEqual(len(first.breakage_ids.reversal_move_id), 2)
        money = self.assertInvariant(first)
        self.assertEqual((money["breakage"], money["unearned"]), (0.0, 1200.0))
        unearned = self.env["clinic.report.unearned"]._read_group(
            [("entitlement_id", "in", (first | second | unused).ids)], [], ["amount:sum"]
        )[0][0]
        self.assertAlmostEqual(unearned, 1200.0, 2)

    def test_expiry_queries_do_not_grow_with_the_batch(self):
        """The job reads the money of a batch in grouped queries and posts one entry per
        batch: expiring 8 packages takes the queries of expiring 2 (after a first run that
        fills the caches every run has)."""

        def measure(packages, day):
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            with freeze_time(day):
                expired = self.env["clinic.entitlement"]._cron_expire()
                self.env.flush_all()
            self.assertEqual(expired, packages)
            return self.cr.sql_log_count - before

        counts = []
        for qty, expiry in ((1, date(2026, 3, 3)), (2, date(2026, 3, 5)), (8, date(2026, 3, 7))):
            order = self._clinic_sell(self.package_physio8, qty=qty)
            order._create_invoices().action_post()
            packages = order.clinic_entitlement_ids
            packages.write({"date_expiry": expiry})
            counts.append(measure(packages, expiry + timedelta(days=1)))
            self.assertEqual(len(packages.breakage_ids.move_id), 1)
            self.assertEqual(set(packages.breakage_ids.mapped("amount")), {1600.0})
        self.assertEqual(counts[1], counts[2], f"queries for 1, 2 and 8 packages: {counts}")

    def test_cron_works_in_batches(self):
        entitlements = self._clinic_sell(self.package_physio8, qty=5).clinic_entitlement_ids
        entitlements.write({"date_expiry": date(2026, 3, 5)})
        with freeze_time("2026-03-06"):
            first = self.env["clinic.entitlement"]._cron_expire(batch_size=3)
            second = self.env["clinic.entitlement"]._cron_expire(batch_size=3)
        self.assertEqual((len(first), len(second)), (3, 2))
        self.assertEqual(set(entitlements.mapped("state")), {"expired"})


@freeze_time(TODAY)
class TestRefund(MoneyCase):
    def _refund(self, entitlement, amount=None):
        wizard = Form(
            self.env["clinic.entitlement.refund"].with_context(
                default_entitlement_id=entitlement.id
            )
        )
        suggested = wizard.suggested_amount
        if amount is not None:
            wizard.amount = amount
        record = wizard.save()
        action = record.action_confirm()
        document = (
            self.env[action["res_model"]].browse(action["res_id"]) if action.get("res_id") else None
        )
        return suggested, document

    def test_accountant_scenario(self):
        """$1,600 for 8, paid; 3 visits; refund $900 (suggested $1,000); the refund payment
        registered: partner ledger 0, income 600 + 100 breakage, unearned 0."""
        entitlement, invoice = self._sell_invoiced()
        for day in (3, 4, 5):
            self._arrive(day)
        suggested, credit_note = self._refund(entitlement, 900.0)
        self.assertEqual(suggested, 1000.0)
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.reversed_entry_id, invoice)
        self.assertEqual(
            self._items(credit_note),
            {(self.deferred, self.patient): 900.0, (self.receivable, self.patient): -900.0},
        )
        self.assertEqual(entitlement.state, "refunded")
        self._pay(credit_note)
        partner_balance = sum(
            self.env["account.move.line"]
            .search(
                [
                    ("partner_id", "=", self.patient.id),
                    ("account_id", "=", self.receivable.id),
                    ("parent_state", "=", "posted"),
                ]
            )
            .mapped("balance")
        )
        self.assertAlmostEqual(partner_balance, 0.0, 2)
        money = self.assertInvariant(entitlement)
        self.assertEqual(
            (money["recognised"], money["breakage"], money["unearned"], money["refunded"]),
            (600.0, 100.0, 0.0, 900.0),
        )
        with self.assertRaisesRegex(UserError, "was refunded and can no longer be used"):
            self._clinic_book(at(9), clinic_entitlement_id=entitlement.id)

    def test_refund_zero_and_all(self):
        zero, __ = self._sell_invoiced()
        self._arrive(3, entitlement=zero)
        __, document = self._refund(zero, 0.0)
        self.assertFalse(document)
        money = self.assertInvariant(zero)
        self.assertEqual((money["breakage"], money["unearned"]), (1400.0, 0.0))
        everything, __ = self._sell_invoiced()
        self._arrive(4, entitlement=everything)
        __, credit_note = self._refund(everything, 1600.0)
        self.assertEqual(credit_note.amount_total, 1600.0)
        money = self.assertInvariant(everything)
        # refunding beyond what was unearned takes the difference back from breakage
        self.assertEqual(
            (money["refunded"], money["breakage"], money["unearned"]), (1600.0, -200.0, 0.0)
        )

    def test_refund_above_collected_refused(self):
        entitlement, __ = self._sell_invoiced()
        with self.assertRaisesRegex(UserError, r"between 0 and \$\s1,600\.00"):
            self._refund(entitlement, 1600.01)
        with self.assertRaisesRegex(UserError, "between 0 and"):
            self._refund(entitlement, -1.0)
        self.assertEqual(entitlement.state, "active")
        self.assertFalse(entitlement.move_ids)

    def test_refund_of_unpaid_invoice_reduces_what_is_owed(self):
        entitlement, invoice = self._sell_invoiced(paid=False)
        self._refund(entitlement, 1600.0)
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertInvariant(entitlement)

    def test_refund_with_tax(self):
        tax = self.env["account.tax"].create(
            {
                "name": "Clinic test tax 15%",
                "amount": 15.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
            }
        )
        self.package_physio8.taxes_id = [Command.set(tax.ids)]
        entitlement, invoice = self._sell_invoiced()
        self.assertEqual(invoice.amount_total, 1840.0)
        self.assertEqual(entitlement.amount_total, 1840.0)
        self._arrive(3)
        suggested, credit_note = self._refund(entitlement)
        self.assertEqual(suggested, 1610.0)  # 1840 / 8 x 7, taxes included
        self.assertEqual(credit_note.amount_total, 1610.0)
        self.assertEqual(credit_note.amount_untaxed, 1400.0)
        self.assertEqual(credit_note.amount_tax, 210.0)
        money = self.assertInvariant(entitlement)
        self.assertEqual(
            (money["billed"], money["recognised"], money["refunded"], money["breakage"]),
            (1600.0, 200.0, 1400.0, 0.0),
        )


@freeze_time(TODAY)
class TestPrepaidCredit(MoneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.package_prepaid = cls._clinic_package(
            "Prepaid 8 Physio", 1600.0, [(cls.physio, 8, 0.0)], clinic_billing_mode="prepaid_credit"
        )

    def _prepay(self, entitlement, amount):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": entitlement.partner_id.id,
                "amount": amount,
                "journal_id": self.bank.id,
                "clinic_entitlement_id": entitlement.id,
            }
        )
        payment.action_post()
        return payment

    def test_prepayment_is_chosen_on_the_payment_form(self):
        """The accountant registers a prepayment from Payments, choosing its package on the
        form; once posted, the package is no longer editable there."""
        entitlement = self._clinic_sell(self.package_prepaid).clinic_entitlement_ids
        Payment = self.env(user=self.manager)["account.payment"]
        with Form(Payment.with_context(default_payment_type="inbound")) as form:
            form.partner_id = self.patient
            form.amount = 400.0
            form.journal_id = self.bank
            form.clinic_entitlement_id = entitlement
        payment = form.record
        payment.action_post()
        self.assertEqual(payment.move_id.line_ids.clinic_entitlement_id, entitlement)
        with Form(payment) as form:
            self.assertTrue(form._get_modifier("clinic_entitlement_id", "readonly"))

    def test_sale_line_has_nothing_to_invoice(self):
        order = self._clinic_sell(self.package_prepaid)
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)

    def test_visits_paid_from_the_prepayment_only(self):
        order = self._clinic_sell(self.package_prepaid)
        entitlement = order.clinic_entitlement_ids
        other_credit = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.patient.id,
                "amount": 1000.0,
                "journal_id": self.bank.id,
            }
        )
        other_credit.action_post()
        prepayment = self._prepay(entitlement, 500.0)
        invoices = self.env["account.move"]
        for day in (3, 4, 5):
            event = self._arrive(day)
            invoices |= event.clinic_invoice_id
            event.clinic_invoice_id.action_post()
        self.assertEqual(invoices.mapped("amount_total"), [200.0, 200.0, 200.0])
        self.assertEqual(invoices.mapped("amount_residual"), [0.0, 0.0, 100.0])
        self.assertEqual(invoices[2].payment_state, "partial")
        other_line = other_credit.move_id.line_ids.filtered(
            lambda line: line.account_id == self.receivable
        )
        self.assertEqual(other_line.amount_residual, -1000.0, "other credits are left alone")
        prepaid_line = prepayment.move_id.line_ids.filtered(
            lambda line: line.account_id == self.receivable
        )
        self.assertTrue(prepaid_line.reconciled)
        money = self.assertInvariant(entitlement)
        self.assertEqual((money["billed"], money["recognised"]), (500.0, 600.0))

    def test_auto_allocation_off(self):
        self.company.clinic_auto_allocate = False
        entitlement = self._clinic_sell(self.package_prepaid).clinic_entitlement_ids
        self._prepay(entitlement, 1600.0)
        event = self._arrive(3)
        event.clinic_invoice_id.action_post()
        self.assertEqual(event.clinic_invoice_id.amount_residual, 200.0)

    def test_prepaid_refund_and_expiry(self):
        entitlement = self._clinic_sell(self.package_prepaid).clinic_entitlement_ids
        prepayment = self._prepay(entitlement, 1600.0)
        for day in (3, 4):
            self._arrive(day).clinic_invoice_id.action_post()
        __, payment = TestRefund._refund(self, entitlement, 1000.0)
        self.assertEqual(payment._name, "account.payment")
        self.assertEqual(payment.payment_type, "outbound")
        prepaid_line = prepayment.move_id.line_ids.filtered(
            lambda line: line.account_id == self.receivable
        )
        self.assertTrue(prepaid_line.reconciled, "refund + visits + breakage use up the prepayment")
        money = self.assertInvariant(entitlement)
        self.assertEqual(
            (
                money["billed"],
                money["recognised"],
                money["refunded"],
                money["breakage"],
                money["unearned"],
            ),
            (1600.0, 400.0, 1000.0, 200.0, 0.0),
        )
        # expiry of another prepaid package
        other = self._clinic_sell(self.package_prepaid).clinic_entitlement_ids
        self._prepay(other, 1600.0)
        other.date_expiry = date(2026, 3, 5)
        with freeze_time("2026-03-06"):
            self.env["clinic.entitlement"]._cron_expire()
        money = self.assertInvariant(other)
        self.assertEqual((money["breakage"], money["unearned"]), (1600.0, 0.0))


@freeze_time(TODAY)
class TestCreditAllocation(MoneyCase):
    def _invoice(self, amount):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.patient.id,
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": self.physio.id, "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _credit(self, amount):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.patient.id,
                "amount": amount,
                "journal_id": self.bank.id,
            }
        )
        payment.action_post()
        return payment.move_id.line_ids.filtered(self._on_receivable)

    def _wizard(self):
        action = self.patient.action_clinic_allocate_credit()
        return self.env["clinic.credit.allocation"].with_context(action["context"]).create({})

    def test_two_credits_three_invoices(self):
        credit_1, credit_2 = self._credit(300.0), self._credit(200.0)
        invoices = self._invoice(100.0) | self._invoice(250.0) | self._invoice(300.0)
        wizard = self._wizard()
        self.assertEqual(wizard.credit_ids.move_line_id, credit_1 | credit_2)
        self.assertEqual(wizard.invoice_ids.invoice_id, invoices)
        self.assertEqual(wizard.credit_total, 500.0)
        for line, amount in zip(wizard.invoice_ids, (100.0, 250.0, 100.0), strict=True):
            line.amount = amount
        wizard.action_confirm()
        self.assertEqual(invoices.mapped("amount_residual"), [0.0, 0.0, 200.0])
        self.assertEqual(invoices.mapped("payment_state"), ["paid", "paid", "partial"])
        self.assertEqual((credit_1.amount_residual, credit_2.amount_residual), (0.0, -50.0))
        for move in invoices | credit_1.move_id | credit_2.move_id:
            self.assertAlmostEqual(sum(move.line_ids.mapped("balance")), 0.0, 2)

    def test_only_selected_credits_and_valid_amounts(self):
        credit_1, credit_2 = self._credit(300.0), self._credit(200.0)
        invoice = self._invoice(250.0)
        wizard = self._wizard()
        wizard.credit_ids.filtered(lambda c: c.move_line_id == credit_1).use = False
        wizard.invoice_ids.amount = 250.0
        with self.assertRaisesRegex(
            UserError, r"\$\s200\.00 of credit selected, less than the \$\s250\.00"
        ):
            wizard.action_confirm()
        wizard.invoice_ids.amount = 260.0
        with self.assertRaisesRegex(UserError, "apply between 0 and its amount due"):
            wizard.action_confirm()
        self.assertEqual(invoice.amount_residual, 250.0)
        wizard.invoice_ids.amount = 150.0
        wizard.action_confirm()
        self.assertEqual(invoice.amount_residual, 100.0)
        self.assertEqual((credit_1.amount_residual, credit_2.amount_residual), (-300.0, -50.0))


@freeze_time(TODAY)
class TestOrderSide(MoneyCase):
    def test_refund_from_the_order_and_prepayment_shown(self):
        order = self._clinic_sell(self.package_physio8)
        action = order.action_clinic_refund()
        self.assertEqual(action["res_model"], "clinic.entitlement.refund")
        self.assertEqual(
            action["context"]["default_entitlement_id"], order.clinic_entitlement_ids.id
        )
        two = self._clinic_sell(self.package_physio8, qty=2)
        self.assertEqual(two.action_clinic_refund()["res_model"], "clinic.entitlement")
        prepaid = self._clinic_package(
            "Prepaid 2", 400.0, [(self.physio, 2, 0.0)], clinic_billing_mode="prepaid_credit"
        )
        order = self._clinic_sell(prepaid)
        action = order.clinic_entitlement_ids.action_register_prepayment()
        payment = (
            self.env["account.payment"]
            .with_context(action["context"])
            .create(
                {
                    "journal_id": self.bank.id,
                }
            )
        )
        payment.action_post()
        self.assertEqual(payment.clinic_entitlement_id, order.clinic_entitlement_ids)
        self.assertEqual(order.clinic_prepaid_amount, 400.0)
        with self.assertRaisesRegex(UserError, "invoiced at sale: register the payment"):
            self._clinic_sell(
                self.package_physio8
            ).clinic_entitlement_ids.action_register_prepayment()
