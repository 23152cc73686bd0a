"""Apply Credit opens ready to confirm: each open invoice is pre-filled with what the selected
credits pay of it, oldest invoice first, credits are shown as positive amounts, and unticking a
credit fills the amounts again. Run through the form (odoo.tests.Form), as a user with Odoo's
invoicing role, the one the patient's Apply Credit button asks for."""

from odoo import Command
from odoo.tests import Form, freeze_time

from .test_money import MoneyCase

TODAY = "2026-03-02"


@freeze_time(TODAY)
class TestCreditAllocationPrefill(MoneyCase):
    def _invoice(self, amount, invoice_date):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.patient.id,
                "invoice_date": invoice_date,
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": self.physio.id, "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _credit(self, amount, day):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.patient.id,
                "amount": amount,
                "date": day,
                "journal_id": self.bank.id,
            }
        )
        payment.action_post()
        return payment.move_id.line_ids.filtered(self._on_receivable)

    def _form(self):
        """The wizard as the patient's Apply Credit button opens it, for the manager (who has
        account.group_account_invoice)."""
        action = self.patient.with_user(self.manager).action_clinic_allocate_credit()
        Wizard = self.env["clinic.credit.allocation"].with_user(self.manager)
        return Form(Wizard.with_context(action["context"]))

    def _amounts(self, form):
        """{invoice: amount to apply} of the form's invoice lines."""
        return {
            form.invoice_ids.edit(index).invoice_id: form.invoice_ids.edit(index).amount
            for index in range(len(form.invoice_ids))
        }

    def _partials(self, invoice):
        """{credit journal item: amount} of the partial reconciliations of an invoice."""
        receivable = invoice.line_ids.filtered(self._on_receivable)
        return {partial.credit_move_id: partial.amount for partial in receivable.matched_credit_ids}

    def setUp(self):
        super().setUp()
        # two credits, 300 then 200 (500 in all), and three open invoices: the newest first,
        # to check that the pre-fill goes by invoice date, not by creation
        self.credit_1 = self._credit(300.0, "2026-02-01")
        self.credit_2 = self._credit(200.0, "2026-02-05")
        self.invoice_new = self._invoice(300.0, "2026-02-20")
        self.invoice_old = self._invoice(100.0, "2026-02-10")
        self.invoice_mid = self._invoice(250.0, "2026-02-15")

    def test_setup(self):
        self.assertTrue(self.manager.has_group("account.group_account_invoice"))
        self.assertEqual(
            (self.credit_1 | self.credit_2).mapped("amount_residual"), [-300.0, -200.0]
        )
        invoices = self.invoice_old | self.invoice_mid | self.invoice_new
        self.assertEqual(invoices.mapped("amount_residual"), [100.0, 250.0, 300.0])

    def test_prefilled_oldest_first_with_positive_credit(self):
        form = self._form()
        self.assertEqual(form.partner_id, self.patient)
        # credits: positive amounts, each and in total
        self.assertEqual(len(form.credit_ids), 2)
        available = [form.credit_ids.edit(index).amount_available for index in range(2)]
        self.assertEqual(available, [300.0, 200.0])
        self.assertEqual(form.credit_total, 500.0)
        # invoices: the oldest first, each the smaller of the credit left and its amount due
        self.assertEqual(
            [form.invoice_ids.edit(index).invoice_id for index in range(3)],
            [self.invoice_old, self.invoice_mid, self.invoice_new],
        )
        self.assertEqual(
            self._amounts(form),
            {self.invoice_old: 100.0, self.invoice_mid: 250.0, self.invoice_new: 150.0},
        )
        self.assertEqual(form.amount_total, 500.0)

    def test_more_credit_than_due(self):
        """Credit left over: every invoice is pre-filled with its whole amount due."""
        self._credit(400.0, "2026-02-25")
        form = self._form()
        self.assertEqual(form.credit_total, 900.0)
        self.assertEqual(
            self._amounts(form),
            {self.invoice_old: 100.0, self.invoice_mid: 250.0, self.invoice_new: 300.0},
        )
        self.assertEqual(form.amount_total, 650.0)

    def test_unticking_a_credit_lowers_the_prefill(self):
        form = self._form()
        with form.credit_ids.edit(0) as credit:  # the 300.00
            self.assertEqual(credit.amount_available, 300.0)
            credit.use = False
        self.assertEqual(form.credit_total, 200.0)
        self.assertEqual(
            self._amounts(form),
            {self.invoice_old: 100.0, self.invoice_mid: 100.0, self.invoice_new: 0.0},
        )
        self.assertEqual(form.amount_total, 200.0)
        with form.credit_ids.edit(1) as credit:  # the 200.00 too: nothing to apply
            credit.use = False
        self.assertEqual(form.credit_total, 0.0)
        self.assertEqual(set(self._amounts(form).values()), {0.0})
        with form.credit_ids.edit(0) as credit:  # the 300.00 back
            credit.use = True
        self.assertEqual(
            self._amounts(form),
            {self.invoice_old: 100.0, self.invoice_mid: 200.0, self.invoice_new: 0.0},
        )

    def test_confirm_applies_the_prefilled_amounts(self):
        form = self._form()
        wizard = form.save()
        self.assertEqual(
            {line.invoice_id: line.amount for line in wizard.invoice_ids},
            {self.invoice_old: 100.0, self.invoice_mid: 250.0, self.invoice_new: 150.0},
        )
        wizard.action_confirm()
        self.assertEqual(
            (self.invoice_old | self.invoice_mid | self.invoice_new).mapped("amount_residual"),
            [0.0, 0.0, 150.0],
        )
        self.assertEqual(
            (self.invoice_old | self.invoice_mid | self.invoice_new).mapped("payment_state"),
            ["paid", "paid", "partial"],
        )
        # the credits used from the top: the 300.00 pays the two oldest invoices (100 + 200 of
        # the 250), the 200.00 the rest of it (50) and 150 of the newest
        self.assertEqual(self._partials(self.invoice_old), {self.credit_1: 100.0})
        self.assertEqual(
            self._partials(self.invoice_mid), {self.credit_1: 200.0, self.credit_2: 50.0}
        )
        self.assertEqual(self._partials(self.invoice_new), {self.credit_2: 150.0})
        self.assertEqual((self.credit_1.amount_residual, self.credit_2.amount_residual), (0, 0))
        self.assertTrue(self.credit_1.reconciled and self.credit_2.reconciled)
        for move in (
            self.invoice_old | self.invoice_mid | self.invoice_new | self.credit_1.move_id
        ) | self.credit_2.move_id:
            self.assertAlmostEqual(sum(move.line_ids.mapped("balance")), 0.0, 2)

    def test_confirm_after_unticking_and_editing(self):
        """Unticked credits stay untouched; an amount changed by hand is applied as typed."""
        form = self._form()
        with form.credit_ids.edit(1) as credit:  # the 200.00 stays
            credit.use = False
        self.assertEqual(
            self._amounts(form),
            {self.invoice_old: 100.0, self.invoice_mid: 200.0, self.invoice_new: 0.0},
        )
        with form.invoice_ids.edit(1) as line:
            line.amount = 120.0
        self.assertEqual(form.amount_total, 220.0)
        wizard = form.save()
        self.assertEqual(
            [line.amount for line in wizard.invoice_ids], [100.0, 120.0, 0.0], "as on the form"
        )
        wizard.action_confirm()
        self.assertEqual(
            (self.invoice_old | self.invoice_mid | self.invoice_new).mapped("amount_residual"),
            [0.0, 130.0, 300.0],
        )
        self.assertEqual(self._partials(self.invoice_old), {self.credit_1: 100.0})
        self.assertEqual(self._partials(self.invoice_mid), {self.credit_1: 120.0})
        self.assertEqual(self._partials(self.invoice_new), {})
        self.assertEqual(self.credit_1.amount_residual, -80.0)
        self.assertEqual(self.credit_2.amount_residual, -200.0)

    def test_the_patient_form_shows_the_credit_to_apply(self):
        """The patient's button says how much credit Apply Credit would apply (the wizard's
        own credits), and is hidden with none left."""
        patient = self.patient.with_user(self.manager)
        self.assertEqual(patient.clinic_credit_amount, 500.0)
        with self._form() as form:
            self.assertEqual(form.credit_total, 500.0)
        form.record.action_confirm()
        patient.invalidate_recordset()
        self.assertEqual(patient.clinic_credit_amount, 0.0)
        arch = patient.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("not clinic_credit_amount", arch)
