"""Package configuration: what makes a product a valid package of visits."""

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import Form

from .common import ClinicCase


class TestPackageConfig(ClinicCase):
    def _new_package(self, lines, name="Test Package", **values):
        return self._clinic_package(name, 500.0, lines, **values)

    def assertMessageNames(self, error, *words):
        message = str(error.exception)
        for word in words:
            self.assertIn(word, message)

    # ------------------------------------------------------------------ valid configurations
    def test_valid_configuration(self):
        package = self._new_package(
            [(self.physio, 3, 0.0), (self.massage, 2, 15.0)],
            clinic_validity_days=90,
            clinic_activation="on_payment",
        )
        template = package.product_tmpl_id
        self.assertTrue(template.clinic_package_ok)
        self.assertEqual(template.type, "service")
        self.assertEqual(len(template.clinic_package_line_ids), 2)
        self.assertEqual(
            template.clinic_package_line_ids.mapped("service_product_id"),
            self.physio | self.massage,
        )
        massage_line = template.clinic_package_line_ids.filtered(
            lambda line: line.service_product_id == self.massage
        )
        self.assertEqual(massage_line.quantity, 2)
        self.assertEqual(massage_line.patient_pays, 15.0)
        self.assertEqual(template.clinic_validity_days, 90)
        self.assertEqual(template.clinic_activation, "on_payment")
        self.assertEqual(template.clinic_billing_mode, "package_invoice")

    def test_validity_zero_is_allowed(self):
        package = self._new_package([(self.physio, 1, 0.0)], clinic_validity_days=0)
        self.assertEqual(package.clinic_validity_days, 0)

    def test_defaults_of_a_plain_product(self):
        template = self.physio.product_tmpl_id
        self.assertFalse(template.clinic_package_ok)
        self.assertFalse(template.clinic_package_line_ids)
        self.assertEqual(template.clinic_package_use_count, 0)
        self.assertEqual(template.clinic_activation, "on_confirm")
        self.assertEqual(template.clinic_units, 1)

    def test_use_count(self):
        self.assertEqual(self.package_physio8.clinic_package_use_count, 8)
        self.assertEqual(self.package_rehab.clinic_package_use_count, 10)
        template = self.package_rehab.product_tmpl_id
        template.write(
            {
                "clinic_package_line_ids": [
                    Command.create({"service_product_id": self.acupuncture.id, "quantity": 3})
                ]
            }
        )
        self.assertEqual(template.clinic_package_use_count, 13)
        physio_line = template.clinic_package_line_ids.filtered(
            lambda line: line.service_product_id == self.physio
        )
        physio_line.quantity = 1
        self.assertEqual(template.clinic_package_use_count, 8)

    def test_manager_configures_package_in_form(self):
        Template = self.env["product.template"].with_user(self.manager)
        with Form(Template.with_context(default_clinic_package_ok=True)) as form:
            form.name = "5 Acupuncture"
            form.list_price = 400.0
            form.clinic_validity_days = 60
            with form.clinic_package_line_ids.new() as line:
                line.service_product_id = self.acupuncture
                line.quantity = 5
        template = form.record
        self.assertTrue(template.clinic_package_ok)
        self.assertEqual(template.type, "service")
        self.assertEqual(template.clinic_package_use_count, 5)
        self.assertEqual(template.clinic_validity_days, 60)

    # ------------------------------------------------------------------ invalid configurations
    def test_package_without_lines(self):
        with self.assertRaises(ValidationError) as error:
            self._new_package([], name="Empty Package")
        self.assertMessageNames(error, "Empty Package", "no services")

    def test_removing_all_lines_refused(self):
        template = self.package_physio8.product_tmpl_id
        with self.assertRaises(ValidationError) as error:
            template.write(
                {
                    "clinic_package_line_ids": [
                        Command.delete(line.id) for line in template.clinic_package_line_ids
                    ]
                }
            )
        self.assertMessageNames(error, "8 Physio Sessions", "no services")
        self.assertEqual(len(template.clinic_package_line_ids), 1)

    def test_zero_quantity(self):
        with self.assertRaises(ValidationError) as error:
            self._new_package([(self.physio, 0, 0.0)], name="Zero Package")
        self.assertMessageNames(error, "Zero Package", "Physio 45 min", "at least 1")

    def test_negative_quantity(self):
        with self.assertRaises(ValidationError) as error:
            self._new_package([(self.physio, -2, 0.0)], name="Negative Package")
        self.assertMessageNames(error, "Negative Package", "Physio 45 min", "-2")

    def test_quantity_set_to_zero_later(self):
        line = self.package_physio8.clinic_package_line_ids
        with self.assertRaises(ValidationError) as error:
            line.quantity = 0
        self.assertMessageNames(error, "8 Physio Sessions", "Physio 45 min", "at least 1")
        self.assertEqual(line.quantity, 8)

    def test_negative_patient_pays(self):
        with self.assertRaises(ValidationError) as error:
            self._new_package([(self.massage, 4, -5.0)], name="Paying Back Package")
        self.assertMessageNames(error, "Paying Back Package", "Massage 60 min", "negative")

    def test_duplicate_service_lines(self):
        with self.assertRaises(ValidationError) as error:
            self._new_package(
                [(self.physio, 2, 0.0), (self.massage, 1, 0.0), (self.physio, 3, 0.0)],
                name="Twin Package",
            )
        self.assertMessageNames(error, "Twin Package", "Physio 45 min", "twice")

    def test_duplicate_service_added_later(self):
        template = self.package_rehab.product_tmpl_id
        with self.assertRaises(ValidationError) as error:
            template.write(
                {
                    "clinic_package_line_ids": [
                        Command.create({"service_product_id": self.massage.id, "quantity": 1})
                    ]
                }
            )
        self.assertMessageNames(error, "Rehab Bundle", "Massage 60 min", "twice")
        self.assertEqual(len(template.clinic_package_line_ids), 2)

    def test_package_inside_package(self):
        with self.assertRaises(ValidationError) as error:
            self._new_package([(self.package_physio8, 1, 0.0)], name="Nested Package")
        self.assertMessageNames(error, "Nested Package", "8 Physio Sessions", "itself a package")

    def test_contained_service_cannot_become_package(self):
        """Massage is in the Rehab Bundle: making it a package would nest packages."""
        with self.assertRaises(ValidationError) as error:
            self.massage.product_tmpl_id.write(
                {
                    "clinic_package_ok": True,
                    "clinic_package_line_ids": [
                        Command.create({"service_product_id": self.physio.id, "quantity": 2})
                    ],
                }
            )
        self.assertMessageNames(error, "Massage 60 min", "Rehab Bundle")
        self.assertFalse(self.massage.clinic_package_ok)

    def test_non_service_package(self):
        with self.assertRaises(ValidationError) as error:
            self._new_package([(self.physio, 2, 0.0)], name="Boxed Package", type="consu")
        self.assertMessageNames(error, "Boxed Package", "service product")

    def test_package_changed_to_goods_refused(self):
        with self.assertRaises(ValidationError) as error:
            self.package_physio8.type = "consu"
        self.assertMessageNames(error, "8 Physio Sessions", "service product")
        self.assertEqual(self.package_physio8.type, "service")

    def test_goods_in_package_refused(self):
        towel = self.env["product.product"].create({"name": "Towel", "type": "consu"})
        with self.assertRaises(ValidationError) as error:
            self._new_package([(towel, 1, 0.0)], name="Towel Package")
        self.assertMessageNames(error, "Towel Package", "Towel", "not a service")

    def test_contained_service_cannot_become_goods(self):
        with self.assertRaises(ValidationError) as error:
            self.physio.type = "consu"
        self.assertMessageNames(error, "Physio 45 min", "8 Physio Sessions")
        self.assertEqual(self.physio.type, "service")

    def test_negative_validity(self):
        with self.assertRaises(ValidationError) as error:
            self._new_package([(self.physio, 2, 0.0)], name="Past Package", clinic_validity_days=-1)
        self.assertMessageNames(error, "Past Package", "validity cannot be negative")

    def test_negative_units(self):
        with self.assertRaises(ValidationError) as error:
            self.physio.clinic_units = -1
        self.assertMessageNames(error, "Physio 45 min", "negative")

    def test_plain_product_needs_no_lines(self):
        product = self.env["product.product"].create({"name": "Gift Card", "type": "consu"})
        self.assertFalse(product.clinic_package_ok)
        self.assertEqual(product.clinic_package_use_count, 0)


class TestVariantWrite(ClinicCase):
    def test_variant_becomes_a_package_in_one_write(self):
        """XML-RPC clients write product.product: the package fields arrive together."""
        product = self.env["product.product"].create(
            {
                "name": "10 Physio",
                "type": "service",
                "list_price": 1900.0,
            }
        )
        product.write(
            {
                "clinic_package_ok": True,
                "clinic_validity_days": 90,
                "clinic_package_line_ids": [
                    Command.create({"service_product_id": self.physio.id, "quantity": 10})
                ],
            }
        )
        self.assertTrue(product.clinic_package_ok)
        self.assertEqual(product.clinic_package_use_count, 10)
        self.assertEqual(product.clinic_validity_days, 90)
        with self.assertRaisesRegex(ValidationError, "has no services"):
            self.env["product.product"].create({"name": "Empty", "type": "service"}).write(
                {"clinic_package_ok": True}
            )
