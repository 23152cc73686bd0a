"""Family sharing and transfer of packages (issue 16).

Sharing: a family member's visits use a package shared with them after their own packages;
other patients cannot; the owner sees who used what (back office and portal); the member's
portal lists the package as shared with them and books a slot on it.

Transfer: the uses not delivered become a package of the other patient with their unearned
value (one balanced entry, Dr / Cr unearned, the two patients as partners); the money
invariant holds for both packages; the original keeps its history and covers nothing more;
upcoming visits move or are released; refused for refunded, cancelled or expired packages
and for a Clinic User.
"""

from datetime import datetime, timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, freeze_time, new_test_user

from .common import ClinicCase, ClinicTestMixin, attend
from .test_booking_slots import BRUSSELS, MONDAY, hours_calendar, practitioner_works


class ShareMixin(ClinicTestMixin):
    @classmethod
    def _share_setup(cls):
        cls.env.user.tz = "UTC"
        cls.sofia = cls.env["res.partner"].create({"name": "Sofia Lopez"})
        cls.package_physio1 = cls._clinic_package("1 Physio", 100.0, [(cls.physio, 1, 0.0)])
        cls.bank = cls.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", cls.company.id)], limit=1
        )

    def _sell_paid(self, product, partner):
        order = self._clinic_sell(product, partner)
        invoice = order._create_invoices()
        invoice.action_post()
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"journal_id": self.bank.id})._create_payments()
        return order.clinic_entitlement_ids

    def _at(self, days, hour=10):
        base = datetime.combine(fields.Date.today(), datetime.min.time())
        return base + timedelta(days=days, hours=hour)

    def _assert_money(self, package):
        money = package._clinic_money()
        self.assertAlmostEqual(
            money["billed"],
            money["recognised"] + money["unearned"] + money["refunded"] + money["breakage"],
            places=2,
            msg=f"{package.name}: money created or lost {money}",
        )
        # the batch read of the expiry job says the same
        self.assertAlmostEqual(
            package._clinic_deferred_money()[package.id]["unearned"], money["unearned"], 2
        )
        return money


class TestSharing(ShareMixin, ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._share_setup()

    def setUp(self):
        super().setUp()
        self.family = self._sell_paid(self.package_physio8, self.patient)
        # a Clinic User shares it from the package form
        self.family.with_user(self.receptionist).write(
            {"shared_partner_ids": [Command.link(self.sofia.id)]}
        )

    def _book_as_desk(self, days, patient):
        return self._clinic_book(self._at(days), patient=patient).with_user(self.receptionist)

    def test_member_uses_own_package_first(self):
        own = self._sell_paid(self.package_physio1, self.sofia)
        first = self._clinic_book(self._at(1), patient=self.sofia)
        self.assertEqual(first.clinic_entitlement_id, own, "her own package first")
        second = self._clinic_book(self._at(2), patient=self.sofia)
        self.assertEqual(second.clinic_entitlement_id, self.family, "then the shared one")
        # the field offers her own first too
        third = self._clinic_book(self._at(3), patient=self.sofia, clinic_entitlement_id=False)
        offered = self.env["clinic.entitlement"]._clinic_usable_for_visit(third)
        self.assertEqual(offered, self.family, "her own is fully booked")
        first.clinic_entitlement_id = False
        offered = self.env["clinic.entitlement"]._clinic_usable_for_visit(third)
        self.assertEqual(offered.ids, (own | self.family).ids)

    def test_owner_still_uses_it_and_sees_who(self):
        mine = self._clinic_book(self._at(1), patient=self.patient)
        hers = self._clinic_book(self._at(2), patient=self.sofia)
        self.assertEqual((mine | hers).clinic_entitlement_id, self.family)
        attend(mine.with_user(self.receptionist))
        attend(hers.with_user(self.receptionist))
        usages = self.family.usage_ids.filtered(lambda u: u.state == "consumed")
        self.assertEqual(usages.patient_id, self.patient | self.sofia)
        self.assertEqual(self.family.uses_used, 2)
        self._assert_money(self.family)

    def test_other_patients_cannot_use_it(self):
        james = self._clinic_book(self._at(1), patient=self.patient_2)
        self.assertFalse(james.clinic_entitlement_id)
        with self.assertRaisesRegex(UserError, "not shared with"):
            james.with_user(self.receptionist).clinic_entitlement_id = self.family
        # unshared: Sofia's next visit is not covered by it any more
        self.family.with_user(self.receptionist).shared_partner_ids = [Command.clear()]
        self.assertFalse(self._clinic_book(self._at(2), patient=self.sofia).clinic_entitlement_id)

    def test_finding_a_package_takes_two_queries_at_most(self):
        visit = self._clinic_book(self._at(1), patient=self.sofia, clinic_entitlement_id=False)
        Entitlement = self.env["clinic.entitlement"]
        Entitlement._clinic_find_for_visit(visit)  # the visit's own fields read once
        with self.assertQueryCount(2):
            self.assertEqual(Entitlement._clinic_find_for_visit(visit), self.family)


class TestSharingPortal(ShareMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()
        cls._share_setup()
        env = cls.env
        cls.maria_user = new_test_user(
            env,
            login="share_maria",
            name="Maria Lopez",
            groups="base.group_portal",
            partner_id=cls.patient.id,
        )
        cls.sofia_user = new_test_user(
            env,
            login="share_sofia",
            name="Sofia Lopez",
            groups="base.group_portal",
            partner_id=cls.sofia.id,
        )
        cls.james_user = new_test_user(
            env,
            login="share_james",
            name="James Carter",
            groups="base.group_portal",
            partner_id=cls.patient_2.id,
        )
        cls.family = cls.env["clinic.entitlement"].create(
            {
                "partner_id": cls.patient.id,
                "product_id": cls.package_physio8.id,
                "practitioner_ids": [Command.set(cls.practitioner.ids)],
                "location_ids": [Command.set(cls.location.ids)],
                "shared_partner_ids": [Command.set(cls.sofia.ids)],
            }
        )
        cls.family._clinic_activate()
        cls.family.date_start = fields.Date.today() - timedelta(days=10)

    def test_portal_rules(self):
        Entitlement = self.env["clinic.entitlement"]
        self.assertEqual(Entitlement.with_user(self.sofia_user).search([]), self.family)
        self.assertFalse(Entitlement.with_user(self.james_user).search([]))
        with self.assertRaises(AccessError):
            self.family.with_user(self.sofia_user).write({"shared_partner_ids": [Command.clear()]})

    def test_portal_lists_family_uses(self):
        start = datetime.now().replace(microsecond=0) - timedelta(days=3)
        visit = self._clinic_book(start, patient=self.sofia, clinic_location_id=self.location.id)
        self.assertEqual(visit.clinic_entitlement_id, self.family)
        attend(visit)
        # the owner sees the family's uses, with who
        self.authenticate("share_maria", "share_maria")
        page = self.url_open("/my/packages").text
        self.assertIn(self.family.name, page)
        self.assertIn("Sofia Lopez", page)
        self.assertNotIn("Shared with you", page)
        # the member sees it as shared with her, and her own use
        self.authenticate("share_sofia", "share_sofia")
        page = self.url_open("/my/packages").text
        self.assertIn(self.family.name, page)
        self.assertIn("Shared with you by", page)
        self.assertIn("Maria Lopez", page)
        self.assertIn("Past visits", page)
        # the statement of the package stays the owner's
        statement = self.url_open(
            f"/my/packages/{self.family.id}/statement?report_type=html", allow_redirects=False
        )
        self.assertIn(statement.status_code, (301, 302, 303))
        # another patient sees nothing of it
        self.authenticate("share_james", "share_james")
        self.assertNotIn(self.family.name, self.url_open("/my/packages").text)

    def test_member_books_a_slot(self):
        self.physio.product_tmpl_id.clinic_visit_minutes = 45
        practitioner_works(self.practitioner, hours_calendar(self.env, "Hours", BRUSSELS), BRUSSELS)
        with freeze_time(MONDAY):
            self.family.date_start = fields.Date.today()
            package = self.family.with_user(self.sofia_user).with_context(tz=BRUSSELS)
            slots = package.clinic_booking_slots(
                self.physio.id, "2026-03-16 00:00:00", "2026-03-17 00:00:00"
            )
            self.assertTrue(slots)
            slot = slots[0]
            event = package.clinic_book_slot(
                self.physio.id, slot["start"], slot["user_id"], slot["location_id"]
            )
            event = event.sudo()
            self.assertEqual(event.clinic_patient_id, self.sofia)
            self.assertEqual(event.clinic_entitlement_id, self.family)
            self.assertEqual(self.family.uses_reserved, 1)
            # James cannot book on it
            with self.assertRaises(AccessError):
                self.family.with_user(self.james_user).clinic_booking_slots(
                    self.physio.id, "2026-03-16 00:00:00", "2026-03-17 00:00:00"
                )


class TestTransfer(ShareMixin, ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._share_setup()
        cls.deferred = cls.company._clinic_accounting()[0]

    def setUp(self):
        super().setUp()
        self.package = self._sell_paid(self.package_physio8, self.patient)
        self.package.shared_partner_ids = [Command.link(self.sofia.id)]
        self.done = self._clinic_book(self._at(1), patient=self.patient)
        attend(self.done)
        self.mine = self._clinic_book(self._at(5), patient=self.patient)
        self.hers = self._clinic_book(self._at(6), patient=self.sofia)
        self.assertEqual((self.mine | self.hers).clinic_entitlement_id, self.package)

    def _transfer(self, package=None, partner=None, user=None, **values):
        wizard = (
            self.env["clinic.entitlement.transfer"]
            .with_user(user or self.manager)
            .create(
                {
                    "entitlement_id": (package or self.package).id,
                    "partner_id": (partner or self.sofia).id,
                    **values,
                }
            )
        )
        action = wizard.action_confirm()
        return self.env["clinic.entitlement"].browse(action["res_id"])

    def test_transfer_moves_uses_value_and_visits(self):
        new = self._transfer()
        old = self.package
        self.assertEqual(old.state, "transferred")
        self.assertEqual(old.transferred_to_id, new)
        self.assertEqual(new.transferred_from_id, old)
        self.assertEqual(new.partner_id, self.sofia)
        self.assertEqual(new.state, "active")
        self.assertEqual(new.product_id, old.product_id)
        self.assertEqual(new.date_expiry, old.date_expiry)
        # 8 uses, 1 delivered: 7 move (the booked ones with them), 1400 of 1600 unearned
        self.assertEqual(new.uses_total, 7)
        self.assertAlmostEqual(new.amount_untaxed, 1400.0)
        self.assertAlmostEqual(new.unit_value, 200.0)
        # the history stays on the original, which covers nothing more
        self.assertEqual(old.uses_used, 1)
        self.assertEqual(self.done.clinic_usage_id.entitlement_id, old)
        self.assertEqual(old.uses_remaining, 0)
        self.assertFalse(self.env["clinic.entitlement"]._clinic_usable_for_visit(self.mine))
        with self.assertRaisesRegex(UserError, "transferred"):
            old._clinic_check_covers(self.mine)
        # Sofia's visit moved with the uses; Maria's was released
        self.assertEqual(self.hers.clinic_entitlement_id, new)
        self.assertEqual(self.hers.clinic_usage_id.entitlement_id, new)
        self.assertEqual(new.uses_reserved, 1)
        self.assertFalse(self.mine.clinic_entitlement_id)
        self.assertIn("transferred", self.mine.clinic_coverage_note)
        self.assertEqual(old.uses_reserved, 0)
        # one balanced entry: Dr unearned (old package, Maria) / Cr unearned (new, Sofia)
        move = old.move_ids.filtered(lambda m: m.clinic_move_kind == "transfer")
        self.assertEqual(len(move), 1)
        self.assertEqual(move.state, "posted")
        debit = move.line_ids.filtered(lambda line: line.debit)
        credit = move.line_ids.filtered(lambda line: line.credit)
        self.assertEqual((debit.account_id, credit.account_id), (self.deferred, self.deferred))
        self.assertAlmostEqual(debit.debit, 1400.0)
        self.assertAlmostEqual(credit.credit, 1400.0)
        self.assertEqual((debit.partner_id, credit.partner_id), (self.patient, self.sofia))
        self.assertEqual((debit.clinic_entitlement_id, credit.clinic_entitlement_id), (old, new))
        # the money invariant holds for both
        old_money = self._assert_money(old)
        self.assertAlmostEqual(old_money["billed"], 200.0)
        self.assertAlmostEqual(old_money["recognised"], 200.0)
        self.assertAlmostEqual(old_money["unearned"], 0.0)
        new_money = self._assert_money(new)
        self.assertAlmostEqual(new_money["billed"], 1400.0)
        self.assertAlmostEqual(new_money["unearned"], 1400.0)
        # Sofia's visit is delivered on the new package: its value is recognised
        attend(self.hers)
        new_money = self._assert_money(new)
        self.assertAlmostEqual(new_money["recognised"], 200.0)
        self.assertAlmostEqual(new_money["unearned"], 1200.0)
        # chatter on both
        self.assertIn(new.name, old.message_ids[:1].body)
        self.assertIn(old.name, new.message_ids.mapped("body")[0])
        # the new package expires like any other: what it holds goes to breakage
        new._clinic_expire()
        money = self._assert_money(new)
        self.assertAlmostEqual(money["breakage"], 1200.0)
        self.assertAlmostEqual(money["unearned"], 0.0)

    def test_transfer_without_moving_visits(self):
        new = self._transfer(move_visits=False)
        self.assertFalse((self.mine | self.hers).clinic_entitlement_id)
        self.assertEqual(new.uses_reserved, 0)
        self.assertEqual(new.uses_remaining, 7)

    def test_refused_states(self):
        refunded = self._sell_paid(self.package_physio1, self.patient)
        refunded.with_user(self.manager)._clinic_refund(0.0)
        cancelled = self._clinic_sell(self.package_physio1).clinic_entitlement_ids
        cancelled.with_user(self.manager).action_cancel()
        expired = self._sell_paid(self.package_physio1, self.patient)
        expired._clinic_expire()
        for package, reason in (
            (refunded, "refunded"),
            (cancelled, "cancelled"),
            (expired, "expired"),
        ):
            with self.assertRaisesRegex(UserError, reason):
                self._transfer(package)
            with self.assertRaisesRegex(UserError, reason):
                package.with_user(self.manager).action_transfer()
        self._transfer()
        with self.assertRaisesRegex(UserError, "already transferred"):
            self._transfer(partner=self.patient_2)
        # to its own owner
        other = self._sell_paid(self.package_physio1, self.patient)
        with self.assertRaisesRegex(UserError, "already belongs"):
            self._transfer(other, partner=self.patient)

    def test_clinic_user_may_not_transfer(self):
        with self.assertRaises(AccessError):
            self.package.with_user(self.receptionist).action_transfer()
        with self.assertRaises(AccessError):
            self.package.with_user(self.receptionist)._clinic_transfer(self.sofia)
        with self.assertRaises(AccessError):
            self._transfer(user=self.receptionist)
        self.assertEqual(self.package.state, "active")
        self.assertEqual(self.package.shared_partner_ids, self.sofia)
