"""Who sees and changes what: companies, Clinic User and Clinic Manager."""

from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, new_test_user

from .common import ClinicCase


class TestMultiCompany(ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b, cls.user_b = cls._clinic_other_company(
            "clinic_user_b",
            groups="clinic_packages.group_clinic_user,sales_team.group_sale_salesman",
        )
        cls.user_ab = new_test_user(
            cls.env,
            login="clinic_user_ab",
            groups="clinic_packages.group_clinic_user",
            company_id=cls.company.id,
            company_ids=[Command.set((cls.company | cls.company_b).ids)],
        )
        # company A: sold through a sale order, with one booked use
        cls.entitlement_a = cls.env["sale.order"].create(
            {
                "partner_id": cls.patient.id,
                "order_line": [Command.create({"product_id": cls.package_rehab.id})],
            }
        )
        cls.entitlement_a.action_confirm()
        cls.entitlement_a = cls.entitlement_a.clinic_entitlement_ids
        cls.usage_a = cls.env["clinic.entitlement.usage"].create(
            {"entitlement_id": cls.entitlement_a.id, "service_product_id": cls.physio.id}
        )
        # company B: a package of the same (shared) product
        cls.entitlement_b = (
            cls.env["clinic.entitlement"]
            .with_company(cls.company_b)
            .create(
                {
                    "partner_id": cls.patient.id,
                    "product_id": cls.package_physio8.id,
                    "company_id": cls.company_b.id,
                }
            )
        )
        cls.entitlement_b._clinic_activate()
        cls.usage_b = cls.env["clinic.entitlement.usage"].create(
            {"entitlement_id": cls.entitlement_b.id, "service_product_id": cls.physio.id}
        )

    def test_setup(self):
        self.assertEqual(self.entitlement_a.company_id, self.company)
        self.assertEqual(self.entitlement_b.company_id, self.company_b)
        self.assertEqual(self.entitlement_b.state, "active")
        self.assertEqual(self.entitlement_a.line_ids.company_id, self.company)
        self.assertEqual(self.usage_a.company_id, self.company)
        self.assertEqual(self.usage_b.company_id, self.company_b)

    def test_search_sees_own_company_only(self):
        domain = [("partner_id", "=", self.patient.id)]
        for model, record_a, record_b in (
            ("clinic.entitlement", self.entitlement_a, self.entitlement_b),
            ("clinic.entitlement.line", self.entitlement_a.line_ids, self.entitlement_b.line_ids),
            ("clinic.entitlement.usage", self.usage_a, self.usage_b),
        ):
            with self.subTest(model=model):
                Model = self.env[model].with_user(self.user_b)
                field = "entitlement_id.partner_id" if model.endswith(".line") else "partner_id"
                found = Model.search([(field, "=", self.patient.id)])
                self.assertEqual(found, record_b.with_user(self.user_b))
                self.assertFalse(found & record_a)
                self.assertEqual(Model.search_count([("id", "in", record_a.ids)]), 0)
                # the clinic user of company A sees company A's only
                found_a = (
                    self.env[model]
                    .with_user(self.receptionist)
                    .search([(field, "=", self.patient.id)])
                )
                self.assertEqual(found_a.ids, record_a.ids)
        self.assertEqual(
            self.env["clinic.entitlement"].with_user(self.user_b).search_count(domain), 1
        )

    def test_read_other_company_refused(self):
        for model, record, field in (
            ("clinic.entitlement", self.entitlement_a, "name"),
            ("clinic.entitlement.line", self.entitlement_a.line_ids[0], "quantity"),
            ("clinic.entitlement.usage", self.usage_a, "state"),
        ):
            with self.subTest(model=model), self.assertRaises(AccessError) as error:
                record.with_user(self.user_b).read([field])
            self.assertIn(model, str(error.exception))
        # its own company's records are readable
        self.assertEqual(
            self.entitlement_b.with_user(self.user_b).read(["name"])[0]["name"],
            self.entitlement_b.name,
        )
        self.assertEqual(self.usage_b.with_user(self.user_b).state, "reserved")

    def test_write_and_book_other_company_refused(self):
        with self.assertRaises(AccessError):
            self.entitlement_a.with_user(self.user_b).action_pause()
        self.assertEqual(self.entitlement_a.state, "active")
        with self.assertRaises(AccessError):
            self.env["clinic.entitlement.usage"].with_user(self.user_b).create(
                {"entitlement_id": self.entitlement_a.id, "service_product_id": self.physio.id}
            )
        self.assertEqual(self.entitlement_a.uses_reserved, 1)
        # booking on its own company's package works
        usage = (
            self.env["clinic.entitlement.usage"]
            .with_user(self.user_b)
            .create({"entitlement_id": self.entitlement_b.id, "service_product_id": self.physio.id})
        )
        self.assertEqual(usage.company_id, self.company_b)
        self.assertEqual(self.entitlement_b.uses_reserved, 2)

    def test_expiry_breakage_of_other_company_hidden(self):
        """A package's part of a grouped expiry entry (its breakage) is seen in the unearned
        revenue report of its own company only, and nobody writes the movements."""
        order = self.entitlement_a.sale_line_id.order_id
        order._create_invoices().action_post()
        self.usage_a.action_release()
        with freeze_time(self.entitlement_a.date_expiry + timedelta(days=1)):
            # what the expiry job does (company B has no chart: its package is left out)
            self.entitlement_a._clinic_expire()
        self.assertEqual(self.entitlement_a.state, "expired")
        groups = "clinic_packages.group_clinic_manager,account.group_account_readonly"
        manager_a = new_test_user(self.env, login="clinic_manager_a_report", groups=groups)
        manager_b = new_test_user(
            self.env,
            login="clinic_manager_b_report",
            groups=groups,
            company_id=self.company_b.id,
            company_ids=[Command.set(self.company_b.ids)],
        )
        domain = [("entitlement_id", "=", self.entitlement_a.id), ("kind", "=", "breakage")]
        Report = self.env["clinic.report.unearned"]
        rows = Report.with_user(manager_a).search(domain)
        self.assertAlmostEqual(sum(rows.mapped("amount")), -1500.0)
        self.assertFalse(Report.with_user(manager_b).search(domain))
        Move = self.env["clinic.unearned.move"]
        movements = Move.sudo().search([("entitlement_id", "=", self.entitlement_a.id)])
        self.assertAlmostEqual(sum(movements.mapped("amount")), 0.0)  # billed, then breakage
        for user in (self.receptionist, manager_a, manager_b, self.user_b):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                movements.with_user(user).write({"amount": 0.0})
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                movements.with_user(user).unlink()

    def test_active_companies_decide(self):
        """A user of both companies sees the packages of the companies selected."""
        Entitlement = self.env["clinic.entitlement"].with_user(self.user_ab)
        both = Entitlement.with_context(
            allowed_company_ids=[self.company.id, self.company_b.id]
        ).search([("partner_id", "=", self.patient.id)])
        self.assertEqual(both.ids, (self.entitlement_a | self.entitlement_b).sorted().ids)
        only_b = Entitlement.with_context(allowed_company_ids=[self.company_b.id]).search(
            [("partner_id", "=", self.patient.id)]
        )
        self.assertEqual(only_b.ids, self.entitlement_b.ids)

    def test_partner_count_follows_company(self):
        partner = self.patient.with_user(self.user_b)
        self.assertEqual(partner.clinic_entitlement_count, 1)
        partner = self.patient.with_user(self.receptionist)
        self.assertEqual(partner.clinic_entitlement_count, 1)


class TestGroups(ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a front desk user who may also edit products (Odoo's "Product Creation" right)
        cls.product_editor = new_test_user(
            cls.env,
            login="clinic_product_editor",
            groups="clinic_packages.group_clinic_user,sales_team.group_sale_salesman,"
            "product.group_product_manager",
        )

    def test_clinic_user_cannot_change_package(self):
        template = self.package_physio8.product_tmpl_id.with_user(self.receptionist)
        with self.assertRaises(AccessError):
            template.write({"clinic_validity_days": 30})
        with self.assertRaises(AccessError) as error:
            self.env["clinic.package.line"].with_user(self.receptionist).create(
                {
                    "package_tmpl_id": template.id,
                    "service_product_id": self.massage.id,
                    "quantity": 2,
                }
            )
        self.assertIn("clinic.package.line", str(error.exception))
        line = self.package_physio8.clinic_package_line_ids.with_user(self.receptionist)
        with self.assertRaises(AccessError):
            line.quantity = 20
        with self.assertRaises(AccessError):
            line.unlink()
        self.assertEqual(self.package_physio8.clinic_validity_days, 180)
        self.assertEqual(len(self.package_physio8.clinic_package_line_ids), 1)
        self.assertEqual(self.package_physio8.clinic_package_line_ids.quantity, 8)

    def test_product_editor_cannot_change_package(self):
        """Product rights are not enough: the package terms are the Clinic Manager's."""
        template = self.package_physio8.product_tmpl_id.with_user(self.product_editor)
        for vals in (
            {"clinic_validity_days": 30},
            {"clinic_activation": "on_payment"},
            {"clinic_package_ok": False},
            {
                "clinic_package_line_ids": [
                    Command.create({"service_product_id": self.massage.id, "quantity": 2})
                ]
            },
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError) as error:
                template.write(vals)
            self.assertIn("Clinic Manager", str(error.exception))
        with self.assertRaises(AccessError) as error:
            self.env["product.template"].with_user(self.product_editor).create(
                {
                    "name": "Home-made Package",
                    "type": "service",
                    "clinic_package_ok": True,
                    "clinic_package_line_ids": [
                        Command.create({"service_product_id": self.physio.id, "quantity": 3})
                    ],
                }
            )
        self.assertIn("Clinic Manager", str(error.exception))
        self.assertEqual(template.clinic_validity_days, 180)
        self.assertEqual(template.clinic_activation, "on_confirm")
        # other product fields stay theirs to edit, and plain products theirs to create
        template.write({"list_price": 1700.0, "description_sale": "Eight sessions"})
        self.assertEqual(template.list_price, 1700.0)
        product = (
            self.env["product.template"]
            .with_user(self.product_editor)
            .create({"name": "Knee Brace", "type": "consu", "list_price": 35.0})
        )
        self.assertFalse(product.clinic_package_ok)

    def test_clinic_user_sells_package(self):
        order = self._clinic_sell(self.package_rehab, user=self.receptionist, qty=2)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.user_id, self.receptionist)
        entitlements = order.clinic_entitlement_ids
        self.assertEqual(len(entitlements), 2)
        self.assertEqual(set(entitlements.mapped("state")), {"active"})
        self.assertEqual(entitlements.env.user, self.receptionist)
        self.assertEqual(entitlements[0].uses_remaining, 10)
        self.assertEqual(order.order_line.clinic_uses_remaining, 20)
        # and books a use on it
        usage = (
            self.env["clinic.entitlement.usage"]
            .with_user(self.receptionist)
            .create({"entitlement_id": entitlements[0].id, "service_product_id": self.physio.id})
        )
        self.assertEqual(usage.state, "reserved")
        self.assertEqual(entitlements[0].uses_reserved, 1)

    def test_clinic_user_without_sales_rights_cannot_sell(self):
        with self.assertRaises(AccessError):
            self._clinic_sell(self.package_physio8, user=self.practitioner)
        entitlement = self._clinic_sell(self.package_physio8).clinic_entitlement_ids
        # but sees the package
        self.assertEqual(entitlement.with_user(self.practitioner).uses_remaining, 8)

    def test_manager_configures_package(self):
        template = self.package_physio8.product_tmpl_id.with_user(self.manager)
        template.write({"clinic_validity_days": 365, "clinic_activation": "on_first_visit"})
        self.env["clinic.package.line"].with_user(self.manager).create(
            {"package_tmpl_id": template.id, "service_product_id": self.massage.id, "quantity": 2}
        )
        self.assertEqual(template.clinic_validity_days, 365)
        self.assertEqual(template.clinic_activation, "on_first_visit")
        self.assertEqual(template.clinic_package_use_count, 10)
        package = (
            self.env["product.product"]
            .with_user(self.manager)
            .create(
                {
                    "name": "3 Massages",
                    "type": "service",
                    "list_price": 330.0,
                    "clinic_package_ok": True,
                    "clinic_package_line_ids": [
                        Command.create({"service_product_id": self.massage.id, "quantity": 3})
                    ],
                }
            )
        )
        self.assertEqual(package.clinic_package_use_count, 3)
        order = self._clinic_sell(package, user=self.manager)
        self.assertEqual(order.clinic_entitlement_ids.uses_total, 3)

    def test_clinic_user_cannot_unlink_entitlement(self):
        entitlement = self._clinic_sell(self.package_physio8).clinic_entitlement_ids
        entitlement.action_cancel()
        with self.assertRaises(AccessError) as error:
            entitlement.with_user(self.receptionist).unlink()
        self.assertIn("clinic.entitlement", str(error.exception))
        self.assertTrue(entitlement.exists())
        with self.assertRaises(AccessError):
            entitlement.line_ids.with_user(self.receptionist).unlink()
        self.assertEqual(len(entitlement.line_ids), 1)

    def test_manager_unlinks_only_unused_cancelled(self):
        active = self._clinic_sell(self.package_physio8).clinic_entitlement_ids
        with self.assertRaises(UserError) as error:
            active.with_user(self.manager).unlink()
        self.assertIn(active.name, str(error.exception))
        self.assertTrue(active.exists())
        active.action_cancel()
        active.with_user(self.manager).unlink()
        self.assertFalse(active.exists())

    def test_clinic_user_cannot_configure_locations(self):
        with self.assertRaises(AccessError):
            self.env["clinic.location"].with_user(self.receptionist).create({"name": "Annex"})
        with self.assertRaises(AccessError):
            self.location.with_user(self.receptionist).name = "Renamed"
        self.assertEqual(self.location.name, "Main Street")
        location = self.env["clinic.location"].with_user(self.manager).create({"name": "Annex"})
        self.assertEqual(location.company_id, self.company)

    def test_clinic_manager_alone_configures_package(self):
        """The Clinic Manager group is enough to configure packages, with no other right."""
        head = new_test_user(
            self.env, login="clinic_head", groups="clinic_packages.group_clinic_manager"
        )
        template = self.package_physio8.product_tmpl_id.with_user(head)
        template.write({"clinic_validity_days": 90})
        self.env["clinic.package.line"].with_user(head).create(
            {"package_tmpl_id": template.id, "service_product_id": self.massage.id, "quantity": 1}
        )
        self.assertEqual(template.clinic_validity_days, 90)
        self.assertEqual(template.clinic_package_use_count, 9)
        package = (
            self.env["product.template"]
            .with_user(head)
            .create(
                {
                    "name": "2 Acupuncture",
                    "type": "service",
                    "clinic_package_ok": True,
                    "clinic_package_line_ids": [
                        Command.create({"service_product_id": self.acupuncture.id, "quantity": 2})
                    ],
                }
            )
        )
        self.assertEqual(package.clinic_package_use_count, 2)
