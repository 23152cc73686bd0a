"""Booking under load: the last use booked twice at once, and booking cost vs history."""

from datetime import date, datetime, timedelta

from odoo import Command

from .common import ClinicCase, ClinicConcurrencyCase, attend

VISIT = datetime(2030, 1, 7, 10, 0)


class TestBookingQueries(ClinicCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.tz = "UTC"
        cls.package_big = cls._clinic_package(
            "12 Physio", 2400.0, [(cls.physio, 12, 0.0)], clinic_validity_days=0
        )
        # a patient with one package, and one with 50 packages and 500 past visits
        cls.new_patient = cls.env["res.partner"].create({"name": "New Patient"})
        cls.regular = cls.env["res.partner"].create({"name": "Regular Patient"})
        cls.env["sale.order"].create(
            {
                "partner_id": cls.new_patient.id,
                "order_line": [Command.create({"product_id": cls.package_big.id})],
            }
        ).action_confirm()
        order = cls.env["sale.order"].create(
            {
                "partner_id": cls.regular.id,
                "order_line": [
                    Command.create({"product_id": cls.package_big.id, "product_uom_qty": 50})
                ],
            }
        )
        order.action_confirm()
        entitlements = order.clinic_entitlement_ids
        assert len(entitlements) == 50
        cls.env["clinic.entitlement.usage"].create(
            [
                {
                    "entitlement_id": entitlement.id,
                    "entitlement_line_id": entitlement.line_ids.id,
                    "state": "consumed",
                    "reason": "attended",
                    "date": date(2029, 1, 1) + timedelta(days=i),
                }
                for entitlement in entitlements
                for i in range(10)
            ]
        )
        assert (
            cls.env["clinic.entitlement.usage"].search_count([("partner_id", "=", cls.regular.id)])
            == 500
        )
        # an insured patient (a package and 3 authorizations) and one whose package makes
        # them pay 10 at each visit (the arrival drafts a visit invoice)
        cls.insured = cls.env["res.partner"].create({"name": "Insured Patient"})
        cls.copay = cls.env["res.partner"].create({"name": "Copay Patient"})
        package_copay = cls._clinic_package(
            "5 Copay Massages", 100.0, [(cls.massage, 5, 10.0)], clinic_validity_days=0
        )
        for patient, product in ((cls.insured, cls.package_big), (cls.copay, package_copay)):
            cls.env["sale.order"].create(
                {
                    "partner_id": patient.id,
                    "order_line": [Command.create({"product_id": product.id})],
                }
            ).action_confirm()
        payer = cls.env["res.partner"].create({"name": "Load Payer", "is_company": True})
        cls.env["clinic.authorization"].create(
            [
                {
                    "name": f"LOAD-{priority}-{index}",
                    "partner_id": cls.insured.id,
                    "payer_id": payer.id,
                    "priority": priority,
                    "date_start": date(2029, 1, 1),
                    "date_end": date(2031, 12, 31),
                    "allowed": 40,
                }
                for index, priority in enumerate(("primary", "primary", "secondary"))
            ]
        )

    def _book(self, patient, start, service=None):
        return self._clinic_book(
            start, patient=patient, service=service, partner_ids=[Command.clear()]
        )

    def _measure(self, patient, start):
        """Queries of one booking for `patient`, after a warm-up booking of the same patient
        so that every measure starts from the same caches."""
        self._book(patient, start - timedelta(days=7))
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        event = self._book(patient, start)
        self.env.flush_all()
        self.assertEqual(event.clinic_usage_id.state, "reserved")
        self.assertEqual(event.clinic_entitlement_id.partner_id, patient)
        return self.cr.sql_log_count - before

    def _stock_create(self, patient, start):
        """The same meeting as stock Odoo books it: organizer and patient invited."""
        return self.env["calendar.event"].create(
            {
                "name": "Visit",
                "start": start,
                "stop": start + timedelta(minutes=45),
                "user_id": self.practitioner.id,
                "partner_ids": [Command.set((patient | self.practitioner.partner_id).ids)],
            }
        )

    def _count(self, func, *args):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        func(*args)
        self.env.flush_all()
        return self.cr.sql_log_count - before

    def test_booking_costs_a_fixed_number_of_queries_over_a_stock_meeting(self):
        """A clinic booking (package found, use reserved, patient and practitioner invited)
        costs at most CLINIC_BOOKING_EXTRA queries more than the same stock meeting."""
        self._stock_create(self.new_patient, VISIT - timedelta(days=20))
        self._book(self.new_patient, VISIT - timedelta(days=21))
        stock = self._count(self._stock_create, self.new_patient, VISIT - timedelta(days=10))
        clinic = self._count(self._book, self.new_patient, VISIT - timedelta(days=11))
        self.assertLessEqual(clinic - stock, CLINIC_BOOKING_EXTRA, (clinic, stock))

    def test_booking_queries_do_not_grow_with_history(self):
        """As many queries to book for a patient with 1 package as for one with 50 packages
        and 500 past visits, and never more than BOOKING_QUERIES."""
        new = self._measure(self.new_patient, VISIT)
        regular = self._measure(self.regular, VISIT + timedelta(days=1))
        self.assertEqual(new, regular, "booking cost grows with the patient's history")
        for day, patient in enumerate((self.new_patient, self.regular), start=2):
            self._book(patient, VISIT - timedelta(days=7 + day))
            self.env.flush_all()
            self.env.invalidate_all()
            with self.assertQueryCount(__system__=BOOKING_QUERIES):
                self._book(patient, VISIT + timedelta(days=day))
                self.env.flush_all()

    def _warm(self, patient, start, service=None):
        """A booking and an arrival of `patient` first, so that every measure starts from
        the same caches (Odoo's registry and ormcaches), then an empty record cache."""
        visit = self._book(patient, start - timedelta(days=14), service=service)
        attend(visit, "arrive")
        self.env.flush_all()
        self.env.invalidate_all()

    def test_booking_with_authorizations_costs_a_fixed_number_of_queries(self):
        """Booking for a patient with a package and 3 authorizations: the authorization
        candidates in one query, the counts of the chosen one's visits, nothing per
        authorization or past visit."""
        self._warm(self.insured, VISIT)
        with self.assertQueryCount(__system__=BOOKING_AUTHORIZATION_QUERIES):
            visit = self._book(self.insured, VISIT)
            self.env.flush_all()
        self.assertEqual(visit.clinic_authorization_id.name, "LOAD-primary-0")
        self.assertEqual(visit.clinic_usage_id.state, "reserved")

    def test_a_booked_use_copies_what_odoo_computes(self):
        """What a booked use copies from its package, service and visit (the precomputed
        related fields, given by the booking from what it has read rather than computed
        again) is what Odoo computes for them: a family member's visit at a location."""
        member = self.env["res.partner"].create({"name": "Family Member"})
        location = self.env["clinic.location"].create({"name": "Annex"})
        package = self.env["clinic.entitlement"].search([("partner_id", "=", self.new_patient.id)])
        package.shared_partner_ids = [Command.link(member.id)]
        visit = self._clinic_book(VISIT, patient=member, clinic_location_id=location.id)
        self.env.flush_all()
        self.env.invalidate_all()
        use = visit.clinic_usage_id
        copied = [
            name
            for name, field in use._fields.items()
            if field.store and field.precompute and field.related
        ]
        self.assertLessEqual(
            {"partner_id", "company_id", "service_product_id", "patient_id", "location_id"},
            set(copied),
        )
        for name in copied:
            self.assertEqual(use[name], use.mapped(use._fields[name].related), name)
        self.assertRecordValues(
            use,
            [
                {
                    "entitlement_id": package.id,
                    "partner_id": self.new_patient.id,
                    "patient_id": member.id,
                    "location_id": location.id,
                    "service_product_id": self.physio.id,
                    "state": "reserved",
                }
            ],
        )
        # nothing was written back through the relations the use copies
        self.assertEqual(package.partner_id, self.new_patient)
        self.assertEqual(visit.clinic_patient_id, member)

    def test_context_defaults_reach_no_booked_use(self):
        """A client's context defaults (as a form or XML-RPC may send them) set nothing on
        the use a booking reserves: its patient and location are the visit's, its amount
        and entry empty."""
        other = self.env["res.partner"].create({"name": "Someone Else"})
        location = self.env["clinic.location"].create({"name": "Annex"})
        desk = self.env(
            user=self.receptionist,
            context={
                "default_patient_id": other.id,
                "default_location_id": location.id,
                "default_amount": 999.0,
                "default_recognition_waiting": True,
                "default_reason": "manual",
            },
        )
        visit = desk["calendar.event"].create(
            {
                "name": "Visit",
                "start": VISIT,
                "stop": VISIT + timedelta(minutes=45),
                "clinic_patient_id": self.new_patient.id,
                "clinic_service_id": self.physio.id,
                "user_id": self.practitioner.id,
            }
        )
        self.env.flush_all()
        self.env.invalidate_all()
        self.assertRecordValues(
            visit.clinic_usage_id,
            [
                {
                    "patient_id": self.new_patient.id,
                    "location_id": False,
                    "amount": 0.0,
                    "recognition_waiting": False,
                    "reason": "attended",
                    "state": "reserved",
                }
            ],
        )

    def test_the_look_up_built_once_follows_record_rules(self):
        """The booking look-up statement is built once per user and shape, then run with
        each visit's own values; a record rule added or removed afterwards applies to the
        next booking at once (the statement is cached with Odoo's rules)."""
        desk = self.env(user=self.receptionist)
        package = self.env["clinic.entitlement"].search([("partner_id", "=", self.new_patient.id)])

        def book(day):
            return desk["calendar.event"].create(
                {
                    "name": "Visit",
                    "start": VISIT + timedelta(days=day),
                    "stop": VISIT + timedelta(days=day, minutes=45),
                    "clinic_patient_id": self.new_patient.id,
                    "clinic_service_id": self.physio.id,
                    "user_id": self.practitioner.id,
                }
            )

        self.assertEqual(book(1).clinic_entitlement_id, package)
        self.assertEqual(book(2).clinic_entitlement_id, package)
        rule = self.env["ir.rule"].create(
            {
                "name": "Hide this patient's packages",
                "model_id": self.env["ir.model"]._get_id("clinic.entitlement"),
                "domain_force": f"[('partner_id', '!=', {self.new_patient.id})]",
                "groups": [Command.link(self.env.ref("clinic_packages.group_clinic_user").id)],
            }
        )
        hidden = book(3)
        self.assertFalse(hidden.clinic_entitlement_id)
        self.assertFalse(hidden.clinic_usage_id)
        rule.unlink()
        self.assertEqual(book(4).clinic_entitlement_id, package)
        self.assertEqual(package.line_ids.reserved, 3)

    def test_atomic_reservations_match_a_recount(self):
        """What a booking's atomic UPDATEs wrote, and Odoo was kept from recounting (the
        package service's and the package's counters, the authorization's booked count and
        what it has left), is what Odoo's own recount of the same fields gives."""
        self._warm(self.insured, VISIT)
        visit = self._book(self.insured, VISIT)
        self.env.flush_all()
        line = visit.clinic_usage_id.entitlement_line_id
        authorization = visit.clinic_authorization_id
        self.assertTrue(line and authorization)
        settled = dict(line._clinic_reserve_settled())
        for model, names in authorization._clinic_reserve_settled().items():
            settled[model] = settled.get(model, frozenset()) | names
        records = {
            line._name: line,
            line.entitlement_id._name: line.entitlement_id,
            authorization._name: authorization,
        }
        self.assertEqual(set(settled), set(records))
        self.assertIn("reserved", settled["clinic.entitlement.line"])
        self.assertIn("scheduled", settled["clinic.authorization"])
        self.env.invalidate_all()
        stored = {
            model: {name: records[model][name] for name in names}
            for model, names in settled.items()
        }
        self.env.invalidate_all()
        for model, names in settled.items():
            for name in names:
                self.env.add_to_compute(records[model]._fields[name], records[model])
            records[model]._recompute_recordset(list(names))
        recounted = {
            model: {name: records[model][name] for name in names}
            for model, names in settled.items()
        }
        self.assertEqual(recounted, stored)
        self.assertEqual(stored["clinic.entitlement.line"]["reserved"], 1)
        self.assertEqual(stored["clinic.authorization"]["scheduled"], 1)

    def test_arrival_costs_a_fixed_number_of_queries(self):
        """Arrival of a visit the package pays in full (no invoice), and of one whose package
        makes the patient pay 10 (a draft visit invoice)."""
        for patient, service, expected, pays in (
            (self.new_patient, None, ARRIVAL_QUERIES, 0.0),
            (self.copay, self.massage, ARRIVAL_INVOICE_QUERIES, 10.0),
        ):
            with self.subTest(patient=patient.name):
                self._warm(patient, VISIT, service=service)
                visit = self._book(patient, VISIT, service=service)
                self.env.flush_all()
                self.env.invalidate_all()
                with self.assertQueryCount(__system__=expected):
                    attend(visit, "arrive")
                    self.env.flush_all()
                self.assertEqual(visit.clinic_usage_id.state, "consumed")
                self.assertEqual(visit.clinic_invoice_id.amount_total or 0.0, pays)


class TestBookingConcurrency(ClinicConcurrencyCase):
    """Two front desks book the last use of a package at the same moment, each in its own
    database transaction, as two Odoo requests would: exactly one gets it."""

    def _make_data(self, env):
        service = env["product.product"].create({"name": "Race Physio", "type": "service"})
        package = env["product.product"].create(
            {
                "name": "Race Package",
                "type": "service",
                "list_price": 100.0,
                "clinic_package_ok": True,
                "clinic_package_line_ids": [Command.create({"service_product_id": service.id})],
            }
        )
        patient = env["res.partner"].create({"name": "Race Patient"})
        order = env["sale.order"].create(
            {
                "partner_id": patient.id,
                "order_line": [Command.create({"product_id": package.id})],
            }
        )
        order.action_confirm()
        return {
            "service": service.id,
            "package": package.id,
            "patient": patient.id,
            "order": order.id,
            "entitlement": order.clinic_entitlement_ids.id,
        }

    def _drop_data(self, env, ids):
        """Remove what the test committed, so later tests see a clean database."""
        env["calendar.event"].search([("clinic_patient_id", "=", ids["patient"])]).unlink()
        entitlement = env["clinic.entitlement"].browse(ids["entitlement"])
        entitlement.usage_ids.unlink()
        if entitlement.state != "cancelled":
            entitlement.action_cancel()
        entitlement.unlink()
        order = env["sale.order"].browse(ids["order"])
        order._action_cancel()
        order.unlink()
        # the products and the patient stay, archived (product unlink checks other modules' uses)
        env["product.product"].browse([ids["package"], ids["service"]]).action_archive()
        env["res.partner"].browse(ids["patient"]).action_archive()

    def test_last_use_booked_twice_at_once(self):
        ids = self._committed(self._make_data)
        self.addCleanup(self._committed, lambda env: self._drop_data(env, ids))
        outcome = self._two_desks_book(
            {
                "start": VISIT,
                "stop": VISIT + timedelta(minutes=45),
                "clinic_patient_id": ids["patient"],
                "clinic_service_id": ids["service"],
                "clinic_entitlement_id": ids["entitlement"],
            }
        )
        self.assertEqual(outcome["desk 1"][0], "booked", outcome)
        self.assertEqual(outcome["desk 2"][0], "refused", outcome)
        self.assertIn("has no Race Physio left (0 used, 1 booked of 1)", outcome["desk 2"][1])

        def counters(env):
            entitlement = env["clinic.entitlement"].browse(ids["entitlement"])
            usages = env["clinic.entitlement.usage"].search(
                [("entitlement_id", "=", entitlement.id), ("state", "!=", "released")]
            )
            return entitlement.uses_reserved, entitlement.uses_remaining, len(usages)

        self.assertEqual(self._committed(counters), (1, 0, 1))


# queries to book a visit with package redemption, whatever the patient's history, in this
# test's set-up (superuser, warm caches): the stock meeting with the same two attendees, plus
# one look-up (the service's product and template, the package candidate with its line, the
# authorization candidates: one query) and one reservation (one statement: the UPDATE of the
# line and package counters and the use's INSERT); measured: stock + 1 in this set-up (the
# look-up reads what the stock create would read of the company), + 2 in the benchmark
BOOKING_QUERIES = 33
CLINIC_BOOKING_EXTRA = 2
# with 3 authorizations: their candidates come with the same look-up (limits, counters, payer),
# the chosen one is taken by one atomic UPDATE (no recount): the booking + 1
BOOKING_AUTHORIZATION_QUERIES = 34
# arrivals: the use consumed and counted, the visit marked; with a draft visit invoice of 10
ARRIVAL_QUERIES = 21
ARRIVAL_INVOICE_QUERIES = 82
