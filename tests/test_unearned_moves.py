"""The unearned revenue movements (`clinic.unearned.move`) that the posting code records for
the unearned revenue report: after each business step they agree with the general ledger,
item by item and package by package, and an existing database gets them back from its
journal items."""

from datetime import date

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, freeze_time, new_test_user

from .common import attend
from .test_money import TODAY, MoneyCase, at


@freeze_time(TODAY)
class TestUnearnedMoves(MoneyCase):
    def _moves(self, domain=None):
        return self.env["clinic.unearned.move"].search(domain or [])

    def assertAgreesWithLedger(self, packages=None):
        """Every posted item of the unearned account is recorded for its whole amount, no
        item of an entry not posted is, and each package's movements add up to what its own
        ledger says it holds."""
        self.env.flush_all()
        items = self.env["account.move.line"].search(
            [("account_id", "=", self.deferred.id), ("parent_state", "=", "posted")]
        )
        moves = self._moves()
        self.assertEqual(moves.move_line_id, items, "one or more movements per posted item")
        self.assertEqual(set(moves.move_id.mapped("state")) - {"posted"}, set())
        for item in items:
            recorded = sum(moves.filtered(lambda m, i=item: m.move_line_id == i).mapped("amount"))
            self.assertAlmostEqual(recorded, -item.balance, places=2, msg=item.move_id.name)
        self.assertAlmostEqual(sum(moves.mapped("amount")), -sum(items.mapped("balance")), places=2)
        for package in packages or self.env["clinic.entitlement"]:
            recorded = sum(
                moves.filtered(lambda m, p=package: m.entitlement_id == p).mapped("amount")
            )
            self.assertAlmostEqual(
                recorded, package._clinic_money()["unearned"], places=2, msg=package.name
            )
        return moves

    def _arrive_on(self, day, entitlement):
        event = self._clinic_book(at(day), clinic_entitlement_id=entitlement.id)
        attend(event, "arrive")
        return event

    def _expire_two_grouped(self, arrive=True):
        """Two packages sold and invoiced (the first used once unless not `arrive`), expired
        together on 2026-03-21 by the daily job: one grouped expiry entry."""
        first, __ = self._sell_invoiced()
        second, __ = self._sell_invoiced(self.package_rehab)
        if arrive:
            self._arrive_on(3, first)
        (first | second).date_expiry = date(2026, 3, 20)
        with freeze_time("2026-03-21"):
            self.env["clinic.entitlement"]._cron_expire()
        return first, second

    def test_sale_and_uses(self):
        order = self._clinic_sell(self.package_physio8, qty=2, user=self.receptionist)
        invoice = order._create_invoices()
        invoice.action_post()
        first, second = order.clinic_entitlement_ids.sorted("id")
        moves = self.assertAgreesWithLedger(first | second)
        # the invoice line, split between the two packages of its sale line
        self.assertEqual(
            {(m.entitlement_id, m.kind, m.amount, m.partner_id) for m in moves},
            {
                (first, "invoice", 1600.0, self.patient),
                (second, "invoice", 1600.0, self.patient),
            },
        )
        event = self._arrive_on(3, first)
        recognition = event.clinic_usage_id.move_id
        moves = self.assertAgreesWithLedger(first | second)
        recorded = moves.filtered(lambda m: m.move_id == recognition)
        self.assertRecordValues(
            recorded,
            [
                {
                    "entitlement_id": first.id,
                    "product_id": self.package_physio8.id,
                    "kind": "recognition",
                    "amount": -200.0,
                    "date": date(2026, 3, 3),
                    "company_id": self.company.id,
                }
            ],
        )

    def test_quantity_raised_after_the_invoice(self):
        """A package added to an invoiced sale line takes its part of the posted invoice: the
        two packages are billed alike once the extra unit is invoiced too."""
        order = self._clinic_sell(self.package_physio8, user=self.receptionist)
        order._create_invoices().action_post()
        order.with_user(self.receptionist).order_line.product_uom_qty = 2
        first, second = order.clinic_entitlement_ids.sorted("id")
        self.assertEqual(
            {m.entitlement_id: m.amount for m in self.assertAgreesWithLedger(first | second)},
            {first: 800.0, second: 800.0},
        )
        order._create_invoices().action_post()
        self.assertAgreesWithLedger(first | second)
        for package in first | second:
            self.assertEqual(package._clinic_money()["billed"], 1600.0, package.name)

    def test_one_split_for_refunds_and_movements(self):
        """A sale line's invoice is split between its packages by one rule: what a refund may
        give back of each package (taxes included) is its part of the movements, and the
        parts add up to the invoice to the cent (89.99 for three: 29.99, 30.00, 30.00)."""
        order = self._clinic_sell(self.package_physio8, qty=3, confirm=False)
        order.order_line.write({"price_unit": 33.33, "discount": 10.0})
        order.action_confirm()
        invoice = order._create_invoices()
        invoice.action_post()
        self.assertEqual(invoice.amount_total, 89.99)
        packages = order.clinic_entitlement_ids.sorted("id")
        self.assertAgreesWithLedger(packages)
        collected = [p._clinic_collected_total() for p in packages]
        self.assertEqual(collected, [29.99, 30.0, 30.0])
        self.assertEqual([p._clinic_money()["billed"] for p in packages], collected)
        self.assertAlmostEqual(sum(collected), invoice.amount_total, places=2)
        # a refund above a package's part is refused, its part is accepted
        wizard = Form(
            self.env["clinic.entitlement.refund"]
            .with_user(self.manager)
            .with_context(default_entitlement_id=packages[0].id)
        )
        wizard.amount = 30.0
        with self.assertRaisesRegex(UserError, "between 0 and"):
            wizard.save().action_confirm()

    def test_a_billed_package_is_not_cancelled_by_an_order_change(self):
        """Lowering the quantity of an invoiced line, or cancelling its order, would leave the
        invoice's value on a cancelled package: refused until the invoice is credited."""
        order = self._clinic_sell(self.package_physio8, qty=2, user=self.receptionist)
        order = order.with_env(self.env)
        invoice = order._create_invoices()
        invoice.action_post()
        packages = order.clinic_entitlement_ids
        with self.assertRaisesRegex(UserError, "still holds .*1,600.00.* Refund the package"):
            order.with_user(self.receptionist).order_line.product_uom_qty = 1
        with self.assertRaisesRegex(UserError, "still holds"):
            order.with_context(disable_cancel_warning=True).action_cancel()
        self.assertEqual(set(packages.mapped("state")), {"active"})
        self.assertEqual(order.state, "sale")
        # the invoice credited in full: nothing is held any more, the order may be cancelled
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "sold by mistake"})
        )
        reversal.refund_moves()
        order.invoice_ids.filtered(lambda m: m.state == "draft").action_post()
        order.with_context(disable_cancel_warning=True).action_cancel()
        self.assertEqual(set(packages.mapped("state")), {"cancelled"})
        self.assertAgreesWithLedger(packages)
        for package in packages:
            self.assertEqual(package._clinic_money()["unearned"], 0.0)

    def test_refund(self):
        entitlement, __ = self._sell_invoiced()
        self._arrive_on(3, entitlement)
        wizard = Form(
            self.env["clinic.entitlement.refund"]
            .with_user(self.manager)
            .with_context(default_entitlement_id=entitlement.id)
        )
        wizard.amount = 900.0
        wizard.save().action_confirm()
        moves = self.assertAgreesWithLedger(entitlement)
        by_kind = {}
        for move in moves:
            by_kind[move.kind] = by_kind.get(move.kind, 0.0) + move.amount
        # 1,600 billed, 200 recognised, 900 refunded, the 500 left given up to breakage
        self.assertEqual(
            by_kind,
            {"invoice": 1600.0, "recognition": -200.0, "refund": -900.0, "breakage": -500.0},
        )

    def test_grouped_breakage_and_extension(self):
        first, second = self._expire_two_grouped()
        entry = (first | second).breakage_ids.move_id
        self.assertEqual(len(entry), 1)
        moves = self.assertAgreesWithLedger(first | second)
        # the grouped item, split between its packages by their shares
        self.assertEqual(
            {m.entitlement_id: m.amount for m in moves if m.move_id == entry},
            {first: -1400.0, second: -1500.0},
        )
        with freeze_time("2026-03-22"):
            first.date_expiry = date(2026, 4, 30)
        self.assertEqual(first.state, "active")
        self.assertAgreesWithLedger(first | second)
        self.assertAlmostEqual(
            sum(self._moves([("entitlement_id", "=", first.id)]).mapped("amount")), 1400.0, 2
        )

    def test_grouped_entry_reset_and_posted_again_keeps_its_split(self):
        """The shares of a grouped expiry entry outlive its movements: reset to draft, the
        entry gives the packages their value back; posted again, it takes the same parts."""
        first, second = self._expire_two_grouped(arrive=False)
        entry = self.env(user=self.manager)["account.move"].browse(
            (first | second).breakage_ids.move_id.id
        )
        split = {m.entitlement_id: m.amount for m in self._moves([("move_id", "=", entry.id)])}
        self.assertEqual(split, {first: -1600.0, second: -1500.0})
        # the accountant does not reset the packages' own entry: extending a package does
        with self.assertRaisesRegex(UserError, "is not reset to draft by hand"):
            entry.button_draft()
        self.assertEqual(entry.state, "posted")
        self.assertEqual(len(self._moves([("move_id", "=", entry.id)])), 2)
        # an administrator's script may (the superuser): the movements follow the ledger
        entry = entry.sudo()
        entry.button_draft()
        self.assertFalse(self._moves([("move_id", "=", entry.id)]))
        self.assertAgreesWithLedger(first | second)
        self.assertEqual(
            (first._clinic_money()["breakage"], second._clinic_money()["unearned"]), (0.0, 1500.0)
        )
        entry.action_post()
        moves = self.assertAgreesWithLedger(first | second)
        self.assertEqual({m.entitlement_id: m.amount for m in moves if m.move_id == entry}, split)
        self.assertTrue(all(moves.filtered(lambda m: m.move_id == entry).mapped("shared")))
        self.assertEqual(first._clinic_money()["breakage"], 1600.0)

    def test_money_of_packages_is_one_query(self):
        """What a batch of packages was billed and still holds is one grouped query on the
        movements, whatever the number of packages and of their entries."""
        order = self._clinic_sell(self.package_physio8, qty=3)
        order._create_invoices().action_post()
        packages = order.clinic_entitlement_ids
        self._arrive_on(3, packages[0])
        packages[1].date_expiry = date(2026, 3, 20)
        with freeze_time("2026-03-21"):
            self.env["clinic.entitlement"]._cron_expire()
        self.env.flush_all()
        packages.mapped("billing_mode")
        packages.currency_id.mapped("rounding")
        with self.assertQueryCount(1):
            money = packages._clinic_deferred_money()
        self.assertEqual(
            [money[p.id] for p in packages],
            [
                {"billed": 1600.0, "unearned": 1400.0, "grouped": 0.0},
                {"billed": 1600.0, "unearned": 0.0, "grouped": 1600.0},
                {"billed": 1600.0, "unearned": 1600.0, "grouped": 0.0},
            ],
        )

    def test_transfer(self):
        entitlement, __ = self._sell_invoiced()
        self._arrive_on(3, entitlement)
        wizard = (
            self.env["clinic.entitlement.transfer"]
            .with_user(self.manager)
            .create({"entitlement_id": entitlement.id, "partner_id": self.patient_2.id})
        )
        new = self.env["clinic.entitlement"].browse(wizard.action_confirm()["res_id"])
        moves = self.assertAgreesWithLedger(entitlement | new)
        transfer = moves.filtered(lambda m: m.kind == "transfer")
        self.assertEqual(
            {(m.entitlement_id, m.partner_id, m.amount) for m in transfer},
            {(entitlement, self.patient, -1400.0), (new, self.patient_2, 1400.0)},
        )

    def test_reset_to_draft_cancel_and_post_again(self):
        entitlement, invoice = self._sell_invoiced(paid=False)
        recognition = self._arrive_on(3, entitlement).clinic_usage_id.move_id
        self.assertEqual(len(self._moves([("move_id", "=", recognition.id)])), 1)
        accountant = self.env(user=self.manager)
        # the visit's recognition is undone with the visit, not reset by hand
        with self.assertRaisesRegex(UserError, "is not reset to draft by hand"):
            accountant["account.move"].browse(recognition.id).button_draft()
        self.assertEqual(recognition.state, "posted")
        # the superuser (an administrator's script) may: the movements follow the ledger
        recognition.sudo().button_draft()
        self.assertFalse(self._moves([("move_id", "=", recognition.id)]))
        self.assertAgreesWithLedger(entitlement)
        recognition.sudo().action_post()
        self.assertEqual(len(self._moves([("move_id", "=", recognition.id)])), 1)
        # the package invoice is not cancelled (nor reset, nor fully credited) while a
        # delivered visit was recognised from it: the package would owe 200
        with self.assertRaises(UserError) as caught:
            accountant["account.move"].browse(invoice.id).button_cancel()
        self.assertIn(f"would leave package {entitlement.name} owing", str(caught.exception))
        invoice.invalidate_recordset()
        self.assertEqual(invoice.state, "posted")
        reversal = (
            self.env["account.move.reversal"]
            .with_user(self.manager)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id})
        )
        reversal.refund_moves()
        credit_note = invoice.reversal_move_ids
        with self.assertRaises(UserError) as caught:
            credit_note.with_user(self.manager).action_post()
        self.assertIn("owing", str(caught.exception))
        credit_note.invalidate_recordset()
        self.assertEqual(credit_note.state, "draft")
        self.assertAgreesWithLedger(entitlement)
        self.assertEqual(sum(self._moves().mapped("amount")), 1400.0)
        # with no visit recognised from it, the invoice is cancelled as Odoo allows
        other, other_invoice = self._sell_invoiced(paid=False)
        accountant["account.move"].browse(other_invoice.id).button_cancel()
        self.assertEqual(other_invoice.state, "cancel")
        self.assertAgreesWithLedger(other)

    def test_entry_without_package(self):
        """A manual entry on the unearned account has no package and is recorded anyway."""
        entry = self._clinic_manual_unearned_entry(75.0, date(2026, 3, 2), user=self.manager)
        moves = self.assertAgreesWithLedger()
        self.assertRecordValues(
            moves, [{"move_id": entry.id, "entitlement_id": False, "kind": "other", "amount": 75.0}]
        )

    def test_unearned_account_changed(self):
        """A company that changes its unearned revenue account gets its movements rebuilt
        from the new account's items (the old account's are no longer unearned revenue), the
        grouped items split by their shares again when it changes back; only who may write
        the company can change it."""
        first, second = self._expire_two_grouped()
        recorded = sorted((m.move_line_id.id, m.entitlement_id.id, m.amount) for m in self._moves())
        other = self.deferred.copy({"code": "289999", "name": "Other unearned revenue"})
        with self.assertRaises(AccessError):
            self.company.with_user(self.manager).write({"clinic_deferred_account_id": other.id})
        admin = new_test_user(self.env, login="clinic_settings", groups="base.group_erp_manager")
        self.company.with_user(admin).write({"clinic_deferred_account_id": other.id})
        self.assertFalse(self._moves(), "no posted item is on the new account")
        entry = self._clinic_manual_unearned_entry(75.0, date(2026, 3, 22), user=self.manager)
        self.assertEqual(entry.line_ids.account_id & other, other)
        self.assertRecordValues(self._moves(), [{"move_id": entry.id, "amount": 75.0}])
        self.company.with_user(admin).write({"clinic_deferred_account_id": self.deferred.id})
        self.assertEqual(
            sorted((m.move_line_id.id, m.entitlement_id.id, m.amount) for m in self._moves()),
            recorded,
        )
        self.assertAgreesWithLedger(first | second)

    def test_backfill_of_an_existing_database(self):
        """A database upgraded to the version with the table gets it filled from its posted
        journal items, as the posting code would have."""
        first, __ = self._sell_invoiced()
        self._sell_invoiced(self.package_rehab)
        self._arrive_on(3, first)
        first.date_expiry = date(2026, 3, 10)
        with freeze_time("2026-03-11"):
            self.env["clinic.entitlement"]._cron_expire()

        def rows():
            return sorted(
                (m.move_line_id.id, m.entitlement_id.id, m.kind, m.amount, m.date)
                for m in self._moves()
            )

        recorded = rows()
        self.env.cr.execute("DELETE FROM clinic_unearned_move")
        self.env["clinic.unearned.move"].invalidate_model()
        self.env["clinic.unearned.move"]._clinic_backfill()
        self.assertEqual(rows(), recorded)
        # a table that is filled already is left alone
        self.env["clinic.unearned.move"]._clinic_backfill()
        self.assertEqual(rows(), recorded)
        self.assertAgreesWithLedger()
