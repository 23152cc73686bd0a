"""How a package's money and counters are shown: the accountant sees the package's entries
without a clinic role, the refund wizard says which amounts include taxes and tells billed
from paid, a refunded or cancelled package has nothing left, a released use says why, and the
chatter shows formatted amounts. Each check runs as the least-privileged user who would look.

The portal page needs pytest-odoo's `--odoo-http`; without it that HttpCase is skipped.
"""

import re
from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, HttpCase, freeze_time, new_test_user
from odoo.tools.misc import format_amount

from .common import ClinicTestMixin
from .test_money import TODAY, MoneyCase, at
from .test_portal import PortalDataMixin

MONEY_FIELDS = ("move_ids", "breakage_ids")


class AccountantMixin:
    @classmethod
    def _clinic_setup_accountants(cls):
        # invoicing only (Odoo's "Invoicing" group: Community's billing role), and an auditor
        # with the read-only accounting features; neither has a clinic role
        cls.billing = new_test_user(
            cls.env, login="clinic_billing", groups="account.group_account_invoice"
        )
        cls.auditor = new_test_user(
            cls.env, login="clinic_auditor", groups="account.group_account_readonly"
        )


@freeze_time(TODAY)
class TestAccountantView(AccountantMixin, MoneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_accountants()

    def _form_arch(self, user):
        views = self.env["clinic.entitlement"].with_user(user).get_views([(False, "form")])
        return views["views"]["form"]["arch"]

    def test_money_tab_lists_entries_to_accounting_users_only(self):
        for user in (self.billing, self.auditor):
            arch = self._form_arch(user)
            for name in MONEY_FIELDS:
                self.assertIn(f'name="{name}"', arch, f"{user.login} sees {name}")
            self.assertIn('name="action_view_moves"', arch)
        # the front desk sees the untaxed summary, not the journal entries
        arch = self._form_arch(self.receptionist)
        self.assertIn('name="amount_billed"', arch)
        for name in (*MONEY_FIELDS, "action_view_moves"):
            self.assertNotIn(f'name="{name}"', arch)

    def test_billing_user_reads_a_package_and_its_entries(self):
        entitlement, invoice = self._sell_invoiced()
        event = self._arrive(2)
        recognition = event.clinic_usage_id.move_id
        self.assertTrue(recognition)
        as_billing = entitlement.with_user(self.billing)
        self.assertEqual(as_billing.move_ids, recognition)
        values = as_billing.read(
            ["amount_billed", "amount_billed_total", "amount_paid", "deferred_balance"]
        )[0]
        self.assertEqual(
            (
                values["amount_billed"],
                values["amount_billed_total"],
                values["amount_paid"],
                values["deferred_balance"],
            ),
            (1600.0, 1600.0, 1600.0, 1400.0),
        )
        self.assertEqual(
            as_billing.move_ids.read(["amount_total_signed"])[0]["amount_total_signed"], 200.0
        )
        action = as_billing.action_view_moves()
        self.assertEqual(
            self.env["account.move"].with_user(self.billing).search(action["domain"]), recognition
        )
        # the auditor too: entries and the package's lines and uses
        as_auditor = entitlement.with_user(self.auditor)
        self.assertEqual(as_auditor.move_ids, recognition)
        self.assertEqual(as_auditor.line_ids.used, 1)
        self.assertEqual(as_auditor.usage_ids.reason, "attended")
        self.assertTrue(invoice)

    def test_accounting_users_only_read_packages(self):
        entitlement, __ = self._sell_invoiced()
        with self.assertRaises(AccessError):
            entitlement.with_user(self.billing).write({"date_expiry": date(2027, 1, 1)})
        with self.assertRaises(AccessError):
            entitlement.with_user(self.auditor).action_refund()

    def test_packages_menu_in_invoicing(self):
        menu = self.env.ref("clinic_packages.menu_clinic_accounting_entitlements")
        for user in (self.billing, self.auditor):
            visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
            self.assertIn(menu.id, visible, user.login)
        visible = self.env["ir.ui.menu"].with_user(self.receptionist)._visible_menu_ids()
        self.assertNotIn(menu.id, visible)

    def test_demo_users_have_the_accounting_features(self):
        accountant = self.env.ref("clinic_packages.demo_accountant", raise_if_not_found=False)
        if not accountant:
            self.skipTest("database without demo data")
        for user in (accountant, self.env.ref("base.user_admin")):
            self.assertTrue(user.has_group("account.group_account_user"), user.login)
            self.assertIn('name="move_ids"', self._form_arch(user))
        self.assertFalse(accountant.has_group("clinic_packages.group_clinic_user"))


@freeze_time(TODAY)
class TestRefundWizardAmounts(MoneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tax = cls.env["account.tax"].create(
            {
                "name": "Clinic display tax 15%",
                "amount": 15.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
            }
        )
        cls.package_physio8.taxes_id = [Command.set(tax.ids)]

    def _wizard(self, entitlement):
        # refunding is the clinic manager's
        return Form(
            self.env["clinic.entitlement.refund"]
            .with_user(self.manager)
            .with_context(default_entitlement_id=entitlement.id)
        )

    def test_taxed_amounts_labelled_and_billed_told_from_paid(self):
        entitlement, invoice = self._sell_invoiced(paid=False)
        self.assertEqual(invoice.amount_total, 1840.0)
        self._arrive(2)
        wizard = self._wizard(entitlement)
        self.assertEqual(
            (
                wizard.billed_untaxed,
                wizard.collected_amount,
                wizard.paid_amount,
                wizard.suggested_amount,
                wizard.amount,
                wizard.amount_untaxed,
            ),
            (1600.0, 1840.0, 0.0, 1610.0, 1610.0, 1400.0),
        )
        # the same untaxed figure as the Money tab, and nothing called collected
        self.assertEqual(wizard.billed_untaxed, entitlement.amount_billed)
        Wizard = self.env["clinic.entitlement.refund"]
        labels = {
            name: Wizard._fields[name]._description_string(self.env)
            for name in ("billed_untaxed", "collected_amount", "paid_amount", "amount_untaxed")
        }
        self.assertEqual(
            labels,
            {
                "billed_untaxed": "Billed (untaxed)",
                "collected_amount": "Billed (taxes included)",
                "paid_amount": "Paid",
                "amount_untaxed": "Refund (untaxed)",
            },
        )
        arch = Wizard.with_user(self.manager).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn("Collected", arch)
        self.assertIn("Refund (taxes included)", arch)
        # a part paid: paid is what the payment brought, billed is unchanged
        self._pay(invoice, 1000.0)
        wizard = self._wizard(entitlement)
        self.assertEqual((wizard.collected_amount, wizard.paid_amount), (1840.0, 1000.0))
        self.assertEqual(
            (entitlement.amount_billed_total, entitlement.amount_paid), (1840.0, 1000.0)
        )

    def test_refund_untaxed_lands_on_the_money_tab(self):
        entitlement, __ = self._sell_invoiced()
        self._arrive(2)
        wizard = self._wizard(entitlement)
        wizard.amount = 1150.0
        self.assertEqual(wizard.amount_untaxed, 1000.0)
        record = wizard.save()
        action = record.action_confirm()
        credit_note = self.env["account.move"].browse(action["res_id"])
        self.assertEqual((credit_note.amount_total, credit_note.amount_untaxed), (1150.0, 1000.0))
        money = self.assertInvariant(entitlement)
        self.assertEqual(
            (money["billed"], money["recognised"], money["refunded"], money["breakage"]),
            (1600.0, 200.0, 1000.0, 400.0),
        )
        self.assertEqual(entitlement.amount_refunded, 1000.0)
        # the package's own credit note is not a payment of its invoice
        self.assertEqual(entitlement.amount_paid, 1840.0)

    def test_prepaid_package_billed_is_its_prepayment(self):
        package = self._clinic_package(
            "Prepaid 4 Physio", 800.0, [(self.physio, 4, 0.0)], clinic_billing_mode="prepaid_credit"
        )
        entitlement = self._clinic_sell(package).clinic_entitlement_ids
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.patient.id,
                "amount": 800.0,
                "journal_id": self.bank.id,
                "clinic_entitlement_id": entitlement.id,
            }
        )
        payment.action_post()
        wizard = self._wizard(entitlement)
        self.assertEqual(
            (wizard.billed_untaxed, wizard.collected_amount, wizard.paid_amount), (800.0,) * 3
        )
        self.assertEqual((wizard.amount, wizard.amount_untaxed), (800.0, 800.0))


@freeze_time(TODAY)
class TestNothingLeftWhenClosed(MoneyCase):
    def test_refunded_package_has_no_use_left(self):
        entitlement, __ = self._sell_invoiced()
        self._arrive(2)
        booked = self._clinic_book(at(9))
        self.assertEqual(entitlement.uses_remaining, 6)
        entitlement.with_user(self.manager)._clinic_refund(0.0)
        self.assertEqual(entitlement.state, "refunded")
        # delivered stays delivered; nothing is left, nothing booked
        self.assertEqual(
            (
                entitlement.uses_total,
                entitlement.uses_used,
                entitlement.uses_reserved,
                entitlement.uses_remaining,
            ),
            (8, 1, 0, 0),
        )
        self.assertEqual(entitlement.line_ids.remaining, 0)
        self.assertFalse(booked.clinic_entitlement_id)
        # as the front desk sees it, and on the sale order line
        as_desk = entitlement.with_user(self.receptionist)
        self.assertEqual(as_desk.read(["uses_remaining"])[0]["uses_remaining"], 0)
        self.assertEqual(entitlement.sale_line_id.clinic_uses_remaining, 0)
        # and the statement the patient gets
        html = (
            self.env["ir.actions.report"]
            .with_user(self.receptionist)
            ._render_qweb_html(
                "clinic_packages.action_report_entitlement_statement", entitlement.ids
            )[0]
            .decode()
        )
        self.assertRegex(html, r'name="remaining"[^>]*><strong>0</strong>')
        self.assertIn("Refunded", html)

    def test_cancelled_package_has_no_use_left(self):
        entitlement = self._clinic_sell(self.package_physio8).clinic_entitlement_ids
        self._clinic_book(at(9))
        self.assertEqual(entitlement.uses_remaining, 7)
        entitlement.with_user(self.manager).action_cancel()
        self.assertEqual((entitlement.uses_reserved, entitlement.uses_remaining), (0, 0))
        self.assertEqual(entitlement.line_ids.remaining, 0)

    def test_expired_package_still_counts_what_an_extension_gives_back(self):
        entitlement, __ = self._sell_invoiced()
        entitlement.date_expiry = date(2026, 3, 5)
        with freeze_time("2026-03-06"):
            self.env["clinic.entitlement"]._cron_expire()
        self.assertEqual(entitlement.state, "expired")
        self.assertEqual(entitlement.uses_remaining, 8)


@freeze_time(TODAY)
class TestReleaseReason(MoneyCase):
    def _booked(self, day=9):
        self._clinic_sell(self.package_physio8)
        event = self._clinic_book(at(day))
        self.assertEqual(event.clinic_usage_id.state, "reserved")
        return event, event.clinic_usage_id

    def test_visit_cancelled(self):
        event, usage = self._booked()
        event.with_user(self.receptionist).action_clinic_cancel()
        self.assertEqual((usage.state, usage.reason), ("released", "cancelled"))

    def test_no_show_charged_its_fee(self):
        event, usage = self._booked(day=2)
        event.with_user(self.receptionist).action_clinic_no_show(cover=False)
        self.assertEqual((usage.state, usage.reason), ("released", "no_show_fee"))

    def test_visit_archived_or_deleted(self):
        event, usage = self._booked()
        event.with_user(self.receptionist).action_archive()
        self.assertEqual((usage.state, usage.reason), ("released", "visit_removed"))
        event, usage = self._booked(day=10)
        event.with_user(self.receptionist).unlink()
        self.assertEqual((usage.state, usage.reason), ("released", "visit_removed"))

    def test_package_taken_off_the_visit(self):
        event, usage = self._booked()
        event.with_user(self.receptionist).clinic_entitlement_id = False
        self.assertEqual((usage.state, usage.reason), ("released", "moved"))

    def test_released_by_hand(self):
        entitlement = self._clinic_sell(self.package_physio8).clinic_entitlement_ids
        usage = (
            self.env["clinic.entitlement.usage"]
            .with_user(self.receptionist)
            .create(
                {"entitlement_id": entitlement.id, "entitlement_line_id": entitlement.line_ids.id}
            )
        )
        usage.action_release()
        self.assertEqual((usage.state, usage.reason), ("released", "manual_release"))

    def test_package_refunded(self):
        event, usage = self._booked()
        usage.entitlement_id.with_user(self.manager)._clinic_refund(0.0)
        self.assertEqual((usage.state, usage.reason), ("released", "package_closed"))
        self.assertFalse(event.clinic_entitlement_id)

    def test_counted_uses_keep_their_reason(self):
        event, usage = self._booked(day=2)
        event.with_user(self.receptionist).action_clinic_arrive()
        self.assertEqual((usage.state, usage.reason), ("consumed", "attended"))


@freeze_time(TODAY)
class TestChatterAmounts(MoneyCase):
    def test_refund_message_formats_the_amount(self):
        entitlement, __ = self._sell_invoiced()
        self._arrive(2)
        entitlement.with_user(self.manager)._clinic_refund(1400.0)
        formatted = format_amount(self.env, 1400.0, self.currency)
        # the chatter keeps the amount's no-break space as an HTML entity
        bodies = [
            str(body).replace("&nbsp;", "\xa0") for body in entitlement.message_ids.mapped("body")
        ]
        refund = next(body for body in bodies if "Refunded" in body)
        self.assertIn(formatted, refund)
        self.assertIn("taxes included", refund)
        self.assertNotIn("1400.0", refund)

    def test_refused_refund_names_formatted_amounts(self):
        entitlement, __ = self._sell_invoiced()
        billed = format_amount(self.env, 1600.0, self.currency)
        with self.assertRaisesRegex(UserError, re.escape(f"between 0 and {billed}")):
            entitlement.with_user(self.manager)._clinic_refund(1600.01)


class TestPortalNothingLeft(PortalDataMixin, ClinicTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()
        cls._clinic_setup_portal()  # Maria: a physio package with one visit delivered
        cls.maria_package._clinic_refund(0.0)

    def test_portal_shows_nothing_left(self):
        self.authenticate("maria_portal", "maria_portal")
        response = self.url_open("/my/packages")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.maria_package.name, response.text)
        self.assertIn("0 of 8", response.text)
        self.assertNotIn("7 of 8", response.text)
        self.assertIn("Refunded", response.text)
