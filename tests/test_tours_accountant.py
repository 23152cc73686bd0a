"""The accountant in a real browser: a tour (clinic_packages/static/tests/tours/
clinic_accountant_tours.js) opens a package from Invoicing, reads its money and opens its
journal entries, as a user with Odoo's Invoicing rights and no clinic role.

Run with pytest-odoo's `--odoo-http`; without it HttpCase is skipped.
"""

from datetime import datetime, timedelta

from odoo import Command
from odoo.tests import HttpCase, new_test_user

from .common import ClinicTestMixin


class TestAccountantTours(ClinicTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()
        cls.accountant = new_test_user(
            cls.env,
            login="clinic_tour_accountant",
            name="Clinic Accountant",
            groups="account.group_account_invoice",
        )
        tax = cls.env["account.tax"].create(
            {
                "name": "Clinic tour tax 15%",
                "amount": 15.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
            }
        )
        cls.package_physio8.taxes_id = [Command.set(tax.ids)]

    def test_accountant_opens_a_package_s_entries(self):
        order = self._clinic_sell(self.package_physio8)
        invoice = order._create_invoices()
        invoice.action_post()
        bank = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", self.company.id)], limit=1
        )
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"journal_id": bank.id})._create_payments()
        visit = self._clinic_book(datetime.now().replace(microsecond=0) - timedelta(hours=2))
        visit.action_clinic_arrive()
        entitlement = order.clinic_entitlement_ids
        self.assertTrue(visit.clinic_usage_id.move_id)
        self.assertFalse(self.accountant.has_group("clinic_packages.group_clinic_user"))
        menu = self.env.ref("clinic_packages.menu_clinic_accounting_entitlements")
        self.start_tour(
            f"/odoo/action-clinic_packages.clinic_entitlement_action?menu_id={menu.id}",
            "clinic_accountant_package_entries",
            login=self.accountant.login,
        )
        # reading is all the tour did
        self.assertEqual(entitlement.state, "active")
        self.assertEqual(entitlement.move_ids, visit.clinic_usage_id.move_id)
