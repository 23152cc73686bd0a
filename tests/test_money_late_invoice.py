"""A package's visits delivered before the package is invoiced: their value waits for the
invoice, so that no package ever owes a negative amount (no debit balance of its unearned
revenue), and billed = recognised + unearned + refunded + breakage at every step."""

from odoo.tests import freeze_time

from .test_money import TODAY, MoneyCase


@freeze_time(TODAY)
class TestLateInvoice(MoneyCase):
    def assertOwesNothingNegative(self, entitlement):
        money = self.assertInvariant(entitlement)
        self.assertGreaterEqual(money["unearned"], 0.0, f"negative liability: {money}")
        return money

    def test_visits_before_the_invoice_wait_for_it(self):
        order = self._clinic_sell(self.package_physio8)  # confirmed, not invoiced yet
        entitlement = order.clinic_entitlement_ids
        self.assertEqual(entitlement.state, "active")
        first = self._arrive(3)
        second = self._arrive(4)
        self.assertEqual(
            (first.clinic_entitlement_id, second.clinic_entitlement_id), (entitlement,) * 2
        )
        uses = first.clinic_usage_id | second.clinic_usage_id
        self.assertEqual(uses.mapped("state"), ["consumed", "consumed"])
        self.assertEqual(uses.mapped("recognition_waiting"), [True, True])
        self.assertFalse(uses.move_id)
        money = self.assertOwesNothingNegative(entitlement)
        self.assertEqual((money["billed"], money["recognised"], money["unearned"]), (0.0, 0.0, 0.0))
        # the invoice posts: the waiting visits are recognised, in their order
        invoice = order._create_invoices()
        invoice.action_post()
        self.assertEqual(uses.mapped("recognition_waiting"), [False, False])
        self.assertEqual(uses.mapped("amount"), [200.0, 200.0])
        self.assertEqual(uses.move_id.mapped("state"), ["posted", "posted"])
        for use in uses:
            self.assertEqual(
                self._items(use.move_id),
                {
                    (self.deferred, self.patient): 200.0,
                    (self.physio_income, self.practitioner.partner_id): -200.0,
                },
            )
        money = self.assertOwesNothingNegative(entitlement)
        self.assertEqual(
            (money["billed"], money["recognised"], money["unearned"]), (1600.0, 400.0, 1200.0)
        )
        # later visits are recognised at once; undoing one reverses its entry
        third = self._arrive(5)
        self.assertFalse(third.clinic_usage_id.recognition_waiting)
        self.assertEqual(third.clinic_usage_id.amount, 200.0)
        third.action_clinic_reset()
        money = self.assertOwesNothingNegative(entitlement)
        self.assertEqual((money["recognised"], money["unearned"]), (400.0, 1200.0))

    def test_undoing_a_waiting_visit_leaves_nothing_behind(self):
        order = self._clinic_sell(self.package_physio8)
        entitlement = order.clinic_entitlement_ids
        visit = self._arrive(3)
        visit.action_clinic_reset()
        self.assertEqual(visit.clinic_usage_id.state, "reserved")
        self.assertFalse(visit.clinic_usage_id.recognition_waiting)
        invoice = order._create_invoices()
        invoice.action_post()
        money = self.assertOwesNothingNegative(entitlement)
        self.assertEqual((money["recognised"], money["unearned"]), (0.0, 1600.0))
