"""Who pays for a visit: an insurance authorization counts it for its payer (primary before
secondary), a package pays the patient's share (its patient-pays amount: a copay package),
the rest is billed to the patient; the visit explains each party considered in
`clinic_coverage_trace`."""

from datetime import date, timedelta

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import freeze_time

from .common import attend
from .test_authorizations import TODAY, AuthorizationCase, at


@freeze_time(TODAY)
class TestCoverage(AuthorizationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # an insured patient who prepaid the copays of 4 visits: 15 each at the visit
        cls.copays = cls._clinic_package(
            "4 Physio Copays", 0.0, [(cls.physio, 4, 15.0)], clinic_validity_days=180
        )

    def _copay_package(self):
        return self._clinic_sell(self.copays).clinic_entitlement_ids

    def test_booking_and_the_package_field_read_one_pick(self):
        """Which packages can pay for a visit, and in which order, is one statement
        (`_clinic_pick_sql`): booking takes its first row, the visit's package field offers
        its rows. A package valid with several practitioners is usable with any of them;
        one valid with others only, or at another location, is not; the soonest-expiring
        first."""
        Entitlement = self.env["clinic.entitlement"]

        def sell(days, **values):
            package = self._copay_package()
            package.write({"date_expiry": date(2026, 3, 2) + timedelta(days=days), **values})
            return package

        team = sell(60, practitioner_ids=[Command.set((self.manager | self.practitioner).ids)])
        harbour = sell(30, location_ids=[Command.set(self.location_2.ids)])
        others = sell(10, practitioner_ids=[Command.set(self.manager.ids)])
        anywhere = sell(90)
        main_street = self._book(at(3, 4), clinic_location_id=self.location.id)
        self.assertEqual(main_street.clinic_entitlement_id, team)
        self.assertEqual(main_street.clinic_usage_id.state, "reserved")
        self.assertEqual(Entitlement._clinic_find_for_visit(main_street), team)
        self.assertEqual(
            Entitlement._clinic_usable_for_visit(main_street).ids, [team.id, anywhere.id]
        )
        at_harbour = self._book(at(3, 5), clinic_location_id=self.location_2.id)
        self.assertEqual(at_harbour.clinic_entitlement_id, harbour)
        self.assertEqual(
            Entitlement._clinic_usable_for_visit(at_harbour).ids,
            [harbour.id, team.id, anywhere.id],
        )
        # the packages of the other practitioner only are never offered nor picked
        self.assertNotIn(others, (main_street | at_harbour).clinic_usable_entitlement_ids)
        self.assertEqual(others.uses_reserved, 0)

    def test_package_and_primary_and_secondary_authorizations_on_one_visit(self):
        package = self._copay_package()
        primary = self._authorize(name="PRIM-1", allowed=12)
        secondary = self._authorize(
            name="SEC-1", payer_id=self.payer_2.id, priority="secondary", allowed=6
        )
        visit = self._book(at(3, 4))
        # the primary authorization counts the visit, the package pays the patient's share
        self.assertEqual(visit.clinic_authorization_id, primary)
        self.assertEqual(visit.clinic_entitlement_id, package)
        self.assertEqual((primary.scheduled, secondary.scheduled), (1, 0))
        self.assertEqual(package.uses_reserved, 1)
        self.assertFalse(visit.clinic_warning)
        trace = visit.clinic_coverage_trace.split("\n")
        self.assertEqual(len(trace), 4, trace)
        self.assertIn("Authorization PRIM-1 (Primary, Acme Health): counts 1 sessions", trace[0])
        self.assertIn("11 of 12 sessions left after this visit", trace[0])
        self.assertIn("Authorization SEC-1 (Secondary, Beta Mutual): not used", trace[1])
        self.assertIn(f"Package {package.name}: 3 of 4 left after this visit", trace[2])
        self.assertIn("pays the visit (the patient pays $\xa015.00)", trace[2])
        self.assertEqual(trace[3], "The patient is billed $\xa015.00 at arrival.")
        # arrival: both count it, the patient is invoiced the copay only
        attend(visit, "arrive")
        self.assertEqual((primary.used, primary.scheduled), (1, 0))
        self.assertEqual(package.uses_used, 1)
        self.assertEqual(visit.clinic_invoice_id.amount_total, 15.0)
        self.assertEqual(visit.clinic_invoice_id.partner_id, self.patient)
        # the usage report and the package statement show both
        self.env.flush_all()
        row = self.env["clinic.report.usage"].search([("usage_id", "=", visit.clinic_usage_id.id)])
        self.assertEqual((row.entitlement_id, row.authorization_id), (package, primary))
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("clinic_packages.action_report_entitlement_statement", package.ids)[
                0
            ]
            .decode()
        )
        self.assertIn("PRIM-1 (Acme Health)", html)
        # the primary used up: the next visit falls to the secondary
        primary.allowed = 1
        self._count_upcoming()
        second = self._book(at(3, 5))
        self.assertEqual(second.clinic_authorization_id, secondary)
        self.assertEqual(second.clinic_entitlement_id, package)
        trace = second.clinic_coverage_trace
        self.assertIn("Authorization PRIM-1 (Primary, Acme Health): not used", trace)
        self.assertIn("is exhausted", trace)
        self.assertIn("Authorization SEC-1 (Secondary, Beta Mutual): counts 1 sessions", trace)

    def test_visit_with_an_authorization_only(self):
        authorization = self._authorize(allowed=10)
        visit = self._book(at(3, 4))
        self.assertEqual(visit.clinic_authorization_id, authorization)
        self.assertFalse(visit.clinic_entitlement_id)
        trace = visit.clinic_coverage_trace.split("\n")
        self.assertEqual(len(trace), 2, trace)
        self.assertIn("9 of 10 sessions left after this visit", trace[0])
        self.assertEqual(trace[1], "The patient is billed $\xa0200.00 at arrival.")
        attend(visit, "arrive")
        self.assertEqual(authorization.used, 1)
        self.assertEqual(visit.clinic_invoice_id.amount_total, 200.0)

    def test_each_refusal_is_in_the_trace(self):
        expired = self._copay_package()
        expired.date_expiry = date(2026, 3, 3)
        used_up = self._copay_package()
        for day in range(2, 6):
            attend(self._book(at(3, day), clinic_entitlement_id=used_up.id))
        pending = self._authorize(name="PEND-1", pending=True)
        other_service = self._authorize(
            name="MASS-1", service_product_ids=[(6, 0, self.massage.ids)]
        )
        visit = self._book(at(3, 9))
        self.assertFalse(visit.clinic_entitlement_id)
        self.assertFalse(visit.clinic_authorization_id)
        trace = visit.clinic_coverage_trace
        self.assertIn(f"Package {expired.name}: not used. Package {expired.name} expires on", trace)
        self.assertIn(f"Package {used_up.name}: not used. Package {used_up.name} is used up", trace)
        self.assertIn(f"Authorization {pending.name} (Primary, Acme Health): not used.", trace)
        self.assertIn("is pending", trace)
        self.assertIn(
            f"Authorization {other_service.name} (Primary, Acme Health): not used.", trace
        )
        self.assertIn("does not cover [97110] Physio 45 min", trace)
        self.assertIn("The patient is billed $\xa0200.00 at arrival.", trace)

    def test_no_party_at_all(self):
        visit = self._book(at(3, 4), patient=self.patient_2)
        self.assertEqual(
            visit.clinic_coverage_trace.split("\n"),
            [
                "No package or authorization of the patient applies.",
                "The patient is billed $\xa0200.00 at arrival.",
            ],
        )

    def test_unlimited_service_books_beyond_its_quantity(self):
        """A membership period may give unlimited uses of a service: its visits are booked
        and counted beyond the line's quantity, the package is never used up."""
        package = self.env["clinic.entitlement"].create(
            {"partner_id": self.patient.id, "product_id": self.copays.id}
        )
        line = package.line_ids
        line.write({"quantity": 1, "unlimited": True})
        package._clinic_activate()
        visits = [self._book(at(3, day)) for day in (4, 5, 6)]
        self.assertEqual([visit.clinic_entitlement_id for visit in visits], [package] * 3)
        self.assertEqual((line.reserved, line.used, package.uses_reserved), (3, 0, 3))
        self.assertEqual(visits[0].clinic_package_info, f"{package.name}: unlimited uses")
        self.assertIn(
            f"Package {package.name}: unlimited uses: pays the visit",
            "".join(visits[0].clinic_coverage_trace.split("\n")[:1]),
        )
        for visit in visits:
            attend(visit, "arrive")
        self.assertEqual((line.used, line.reserved, package.state), (3, 0, "active"))
        # back to a limited service: 3 used of 1 is refused with a clear message
        with self.assertRaisesRegex(ValidationError, "cannot have 1 uses, 3 are already used"):
            line.write({"unlimited": False})
