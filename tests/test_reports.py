"""Clinic reporting: the SQL-view reports against hand-computed figures, the unearned report
against the general ledger, the dashboard, and the package statement (rendered as HTML)."""

from collections import deque
from datetime import date, datetime

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import freeze_time, new_test_user
from odoo.tools import SQL

from .common import ClinicCase, attend
from .test_money import TODAY, MoneyCase, at


@freeze_time(TODAY)
class ReportCase(MoneyCase):
    """A small clinic, as of 2026-03-02 (all amounts untaxed):

    A  Maria, "8 Physio Sessions" 1,600, sold by the front desk, invoiced and paid; visits on
       the 3rd (Dr. Practitioner, Main Street), 4th (Dr. Second, Harbour) and a covered no-show
       on the 5th (Dr. Practitioner, Main Street): 3 used, 600 recognised, 1,000 unearned.
    B  James, 2 x "Rehab Bundle" 1,500 (10 uses) on one line: 3,000 invoiced, split 1,500 each;
       B1 used once for a massage on the 6th (Dr. Second, Main Street): 150 recognised.
    C  James, 3 x "3 Physio" 100 on one line, but only 1 invoiced: 100 split 33.34 / 33.33 /
       33.33; C1 expires on the 20th.
    D  Maria, "Single Massage" 120, invoiced and paid, expired on the 11th: 120 of breakage.
    E  Maria, "Prepaid 8 Physio" 1,600, prepaid in full; one visit on the 7th (Dr.
       Practitioner, Main Street) invoiced 200 and paid from the prepayment: 1,400 unapplied.
    Other credit: James paid 1,000 on 2025-12-01 (91 days old) and has a credit note of 50 of
    2026-02-01 (29 days old), both unapplied.
    """

    def setUp(self):
        super().setUp()
        env = self.env
        self.practitioner_2 = new_test_user(
            env,
            login="clinic_practitioner_2",
            name="Dr. Second",
            groups="clinic_packages.group_clinic_user",
            clinic_practitioner=True,
        )
        self.package_trio = self._clinic_package("3 Physio", 100.0, [(self.physio, 3, 0.0)])
        self.package_single = self._clinic_package(
            "Single Massage", 120.0, [(self.massage, 1, 0.0)], clinic_validity_days=90
        )
        self.package_prepaid = self._clinic_package(
            "Prepaid 8 Physio",
            1600.0,
            [(self.physio, 8, 0.0)],
            clinic_billing_mode="prepaid_credit",
        )
        # A: sold by the front desk
        order_a = self._clinic_sell(self.package_physio8, user=self.receptionist).with_env(env)
        self.invoice_a = order_a._create_invoices()
        self.invoice_a.action_post()
        self._pay(self.invoice_a)
        self.ent_a = order_a.clinic_entitlement_ids
        self._visit(3, self.ent_a)
        self._visit(4, self.ent_a, user=self.practitioner_2, location=self.location_2)
        self._visit(5, self.ent_a, no_show=True)
        # B: two bundles on one line
        order_b = self._clinic_sell(self.package_rehab, partner=self.patient_2, qty=2)
        invoice_b = order_b._create_invoices()
        invoice_b.action_post()
        self._pay(invoice_b)
        self.ent_b1, self.ent_b2 = order_b.clinic_entitlement_ids.sorted("id")
        self._visit(6, self.ent_b1, service=self.massage, user=self.practitioner_2)
        # C: three sold, one invoiced
        order_c = self._clinic_sell(self.package_trio, partner=self.patient_2, qty=3)
        invoice_c = order_c._create_invoices()
        invoice_c.invoice_line_ids.quantity = 1
        invoice_c.action_post()
        self.ent_c = order_c.clinic_entitlement_ids.sorted("id")
        self.ent_c[0].date_expiry = date(2026, 3, 20)
        # D: expired on the 11th
        self.ent_d, __ = self._sell_invoiced(self.package_single)
        self.ent_d.date_expiry = date(2026, 3, 10)
        with freeze_time("2026-03-11"):
            env["clinic.entitlement"]._cron_expire()
        # E: prepaid, one visit paid from the prepayment
        self.ent_e = self._clinic_sell(self.package_prepaid).clinic_entitlement_ids
        self.prepayment = self._prepayment(self.patient, 1600.0, self.ent_e)
        self._visit(7, self.ent_e).clinic_invoice_id.action_post()
        # James's other credits
        self.old_payment = self._prepayment(self.patient_2, 1000.0, date=date(2025, 12, 1))
        self.credit_note = env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.patient_2.id,
                "invoice_date": date(2026, 2, 1),
                "date": date(2026, 2, 1),
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": self.massage.id, "price_unit": 50.0, "tax_ids": []}
                    )
                ],
            }
        )
        self.credit_note.action_post()

    def _visit(self, day, entitlement, service=None, user=None, location=None, no_show=False):
        event = self._clinic_book(
            at(day),
            service=service,
            patient=entitlement.partner_id,
            user=user,
            clinic_entitlement_id=entitlement.id,
            clinic_location_id=(location or self.location).id,
        )
        if no_show:
            attend(event, "no_show", cover=True)
        else:
            attend(event, "arrive")
        return event

    def _prepayment(self, partner, amount, entitlement=None, **values):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": amount,
                "journal_id": self.bank.id,
                "clinic_entitlement_id": entitlement.id if entitlement else False,
                **values,
            }
        )
        payment.action_post()
        return payment

    def _rows(self, model, domain=None):
        return self.env[model].search(domain or [])

    def _sums(self, model, groupby, measures, domain=None):
        """{group value: (measure sums...)} of a read_group, keys as ids / values."""
        result = {}
        for group in self.env[model].read_group(domain or [], measures, [groupby], lazy=False):
            key = group[groupby]
            key = key[0] if isinstance(key, tuple) else key
            result[key] = tuple(group[m.split(":")[0]] for m in measures)
        return result


class TestPackageSalesReport(ReportCase):
    def test_one_row_per_package_with_its_figures(self):
        Report = self.env["clinic.report.package.sales"]
        self.assertEqual(Report.search_count([]), 8)  # A, B1, B2, C1-3, D, E
        row = Report.search([("entitlement_id", "=", self.ent_a.id)])
        self.assertRecordValues(
            row,
            [
                {
                    "date": datetime(2026, 3, 2),
                    "product_id": self.package_physio8.id,
                    "partner_id": self.patient.id,
                    "user_id": self.receptionist.id,
                    "company_id": self.company.id,
                    "amount_total": 1600.0,
                    "uses_total": 8,
                    "uses_used": 3,
                    "uses_reserved": 0,
                    "uses_remaining": 5,
                    "is_expired": False,
                    "date_expiry": date(2026, 8, 29),
                    "date_last_visit": date(2026, 3, 5),
                    "state": "active",
                }
            ],
        )
        expired = Report.search([("is_expired", "=", True)])
        self.assertEqual(expired.entitlement_id, self.ent_d)
        self.assertRecordValues(
            expired, [{"state": "expired", "uses_remaining": 1, "date_last_visit": False}]
        )
        unused = Report.search([("entitlement_id", "=", self.ent_b2.id)])
        self.assertEqual((unused.user_id, unused.date_last_visit), (self.env.user, False))
        self.assertEqual(
            Report.search([("entitlement_id", "=", self.ent_e.id)]).date_last_visit,
            date(2026, 3, 7),
        )

    def test_grouped_by_package(self):
        sums = self._sums(
            "clinic.report.package.sales",
            "product_id",
            [
                "nbr:sum",
                "amount_total:sum",
                "uses_total:sum",
                "uses_used:sum",
                "uses_remaining:sum",
            ],
        )
        self.assertEqual(
            sums,
            {
                self.package_physio8.id: (1, 1600.0, 8, 3, 5),
                self.package_rehab.id: (2, 3000.0, 20, 1, 19),
                self.package_trio.id: (3, 300.0, 9, 0, 9),
                self.package_single.id: (1, 120.0, 1, 0, 1),
                self.package_prepaid.id: (1, 1600.0, 8, 1, 7),
            },
        )
        by_seller = self._sums("clinic.report.package.sales", "user_id", ["nbr:sum"])
        self.assertEqual(by_seller, {self.receptionist.id: (1,), self.env.user.id: (7,)})


class TestUsageReport(ReportCase):
    def test_consumed_uses_with_their_revenue(self):
        Report = self.env["clinic.report.usage"]
        self.assertEqual(Report.search_count([]), 5)
        self.assertEqual(
            self._sums("clinic.report.usage", "user_id", ["nbr:sum", "amount:sum"]),
            {self.practitioner.id: (3, 600.0), self.practitioner_2.id: (2, 350.0)},
        )
        self.assertEqual(
            self._sums("clinic.report.usage", "location_id", ["nbr:sum", "amount:sum"]),
            {self.location.id: (4, 750.0), self.location_2.id: (1, 200.0)},
        )
        self.assertEqual(
            self._sums("clinic.report.usage", "service_product_id", ["nbr:sum", "amount:sum"]),
            {self.physio.id: (4, 800.0), self.massage.id: (1, 150.0)},
        )
        self.assertEqual(
            self._sums("clinic.report.usage", "reason", ["nbr:sum"]),
            {"attended": (4,), "no_show": (1,)},
        )
        by_day = self._sums("clinic.report.usage", "date:day", ["nbr:sum", "amount:sum"])
        self.assertEqual(len(by_day), 5)
        no_show = Report.search([("reason", "=", "no_show")])
        self.assertRecordValues(
            no_show,
            [
                {
                    "date": date(2026, 3, 5),
                    "entitlement_id": self.ent_a.id,
                    "product_id": self.package_physio8.id,
                    "partner_id": self.patient.id,
                    "amount": 200.0,
                }
            ],
        )

    def test_booked_and_released_uses_are_not_counted(self):
        booked = self._clinic_book(at(9), clinic_entitlement_id=self.ent_a.id)
        self.assertEqual(booked.clinic_usage_id.state, "reserved")
        booked.action_clinic_cancel()
        self.assertEqual(self.env["clinic.report.usage"].search_count([]), 5)


@freeze_time(TODAY)
class TestUsageLocation(ClinicCase):
    """A use keeps its visit's location (`location_id`), so that the usage report groups the
    uses by location without reading their appointments."""

    def setUp(self):
        super().setUp()
        self.entitlement = self._clinic_sell(self.package_physio8).clinic_entitlement_ids
        self.desk = self.env(user=self.receptionist)

    def _book(self, day, location):
        return self._clinic_book(
            at(day),
            clinic_entitlement_id=self.entitlement.id,
            clinic_location_id=location.id if location else False,
        ).with_env(self.desk)

    def _by_location(self):
        """{location id: uses delivered} of the report, as the front desk reads it."""
        return {
            (group["location_id"] or [False])[0]: group["nbr"]
            for group in self.desk["clinic.report.usage"].read_group(
                [], ["nbr:sum"], ["location_id"], lazy=False
            )
        }

    def test_use_follows_its_visit_location(self):
        visit = self._book(3, self.location)
        use = visit.clinic_usage_id
        self.assertRecordValues(use, [{"state": "reserved", "location_id": self.location.id}])
        # the front desk moves the booked visit, then the arrived one, then clears it
        visit.write({"clinic_location_id": self.location_2.id})
        self.assertEqual(visit.clinic_usage_id, use)
        self.assertEqual(use.location_id, self.location_2)
        attend(visit, "arrive")
        self.assertRecordValues(use, [{"state": "consumed", "location_id": self.location_2.id}])
        self.assertEqual(self._by_location(), {self.location_2.id: 1})
        visit.write({"clinic_location_id": self.location.id})
        self.assertEqual(use.location_id, self.location)
        self.assertEqual(self._by_location(), {self.location.id: 1})
        visit.write({"clinic_location_id": False})
        self.assertFalse(use.location_id)
        self.assertEqual(self._by_location(), {False: 1})
        # what the database holds, not only the cache
        self.env.flush_all()
        self.env.cr.execute(
            SQL("SELECT location_id FROM clinic_entitlement_usage WHERE id = %s", use.id)
        )
        self.assertEqual(self.env.cr.fetchone()[0], None)

    def test_use_location_is_not_set_by_clients(self):
        use = self._book(3, self.location).clinic_usage_id
        with self.assertRaises(AccessError):
            use.write({"location_id": self.location_2.id})
        with self.assertRaises(AccessError):
            self.desk["clinic.entitlement.usage"].create(
                {
                    "entitlement_id": self.entitlement.id,
                    "entitlement_line_id": self.entitlement.line_ids.id,
                    "location_id": self.location_2.id,
                }
            )
        self.env.invalidate_all()
        self.assertEqual(use.location_id, self.location)
        self.assertEqual(self.entitlement.line_ids.reserved, 1)

    def test_upgrade_fills_the_location_in_sql(self):
        """The upgrade that adds the column fills it from the appointments in one UPDATE
        (Odoo's own for a stored related of one step); the ORM is left nothing to compute
        use by use."""
        Usage = self.env["clinic.entitlement.usage"]
        first = self._book(3, self.location).clinic_usage_id
        second = self._book(4, self.location_2).clinic_usage_id
        nowhere = self._book(5, None).clinic_usage_id
        by_hand = Usage.create(
            {
                "entitlement_id": self.entitlement.id,
                "entitlement_line_id": self.entitlement.line_ids.id,
            }
        )
        self.env.flush_all()
        self.env.cr.execute(SQL("ALTER TABLE clinic_entitlement_usage DROP COLUMN location_id"))
        self.env.invalidate_all()
        # the model's part of `-u clinic_packages` (Registry.init_models): the table, then
        # the queued SQL that fills new columns, stopped before the ORM's flush
        registry = self.registry
        registry._post_init_queue, registry._foreign_keys, registry._is_install = deque(), {}, False
        try:
            Usage._auto_init()
            self.assertFalse(self.env.transaction.tocompute.get(Usage._fields["location_id"]))
            while registry._post_init_queue:
                registry._post_init_queue.popleft()()
        finally:
            del registry._post_init_queue, registry._foreign_keys, registry._is_install
        self.env.cr.execute(
            SQL(
                "SELECT id, location_id FROM clinic_entitlement_usage WHERE id IN %s",
                tuple((first | second | nowhere | by_hand).ids),
            )
        )
        self.assertEqual(
            dict(self.env.cr.fetchall()),
            {
                first.id: self.location.id,
                second.id: self.location_2.id,
                nowhere.id: None,
                by_hand.id: None,
            },
        )


class TestUnappliedCreditReport(ReportCase):
    def test_open_credits_with_age_and_package(self):
        Report = self.env["clinic.report.unapplied.credit"]
        rows = Report.search([], order="date")
        self.assertRecordValues(
            rows,
            [
                {
                    "partner_id": self.patient_2.id,
                    "payment_id": self.old_payment.id,
                    "origin": "payment",
                    "entitlement_id": False,
                    "amount_original": 1000.0,
                    "amount_residual": 1000.0,
                    "age_days": 91,
                    "age_bucket": "91_plus",
                },
                {
                    "partner_id": self.patient_2.id,
                    "payment_id": False,
                    "origin": "credit_note",
                    "entitlement_id": False,
                    "amount_original": 50.0,
                    "amount_residual": 50.0,
                    "age_days": 29,
                    "age_bucket": "0_30",
                },
                {
                    "partner_id": self.patient.id,
                    "payment_id": self.prepayment.id,
                    "origin": "payment",
                    "entitlement_id": self.ent_e.id,
                    "amount_original": 1600.0,
                    "amount_residual": 1400.0,
                    "age_days": 0,
                    "age_bucket": "0_30",
                },
            ],
        )
        self.assertEqual(rows[2].product_id, self.package_prepaid)
        self.assertEqual(rows[1].move_id, self.credit_note)
        self.assertEqual(
            self._sums("clinic.report.unapplied.credit", "partner_id", ["amount_residual:sum"]),
            {self.patient.id: (1400.0,), self.patient_2.id: (1050.0,)},
        )
        # applying the old payment to an invoice takes it off the report
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.patient_2.id,
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": self.massage.id, "price_unit": 1000.0, "tax_ids": []}
                    )
                ],
            }
        )
        invoice.action_post()
        credit_line = self.old_payment.move_id.line_ids.filtered(
            lambda line: line.account_id == self.receivable
        )
        invoice.js_assign_outstanding_line(credit_line.id)
        self.assertEqual(Report.search([]).mapped("origin"), ["credit_note", "payment"])


class TestUnearnedReport(ReportCase):
    def _ledger(self, day=None):
        domain = [("account_id", "=", self.deferred.id), ("parent_state", "=", "posted")]
        if day:
            domain.append(("date", "<=", day))
        return -sum(self.env["account.move.line"].search(domain).mapped("balance"))

    def _report(self, day=None, groupby="entitlement_id"):
        domain = [("date", "<=", day)] if day else []
        return self._sums("clinic.report.unearned", groupby, ["amount:sum"], domain)

    def test_total_agrees_with_the_general_ledger(self):
        for day in (None, date(2026, 3, 2), date(2026, 3, 4), date(2026, 3, 10), date(2026, 3, 11)):
            with self.subTest(day=day):
                total = sum(amount for (amount,) in self._report(day).values())
                self.assertAlmostEqual(total, self._ledger(day), places=2)
        # hand-computed: A 1000 + B 3000 - 150 + C 100 + D 0
        self.assertAlmostEqual(self._ledger(), 3950.0, places=2)

    def test_balance_per_package_at_a_date(self):
        a, b1, b2, d = self.ent_a.id, self.ent_b1.id, self.ent_b2.id, self.ent_d.id
        c1, c2, c3 = self.ent_c.ids
        on_sale_day = self._report(date(2026, 3, 2))
        self.assertEqual(
            on_sale_day,
            {
                a: (1600.0,),
                b1: (1500.0,),
                b2: (1500.0,),
                c1: (33.34,),
                c2: (33.33,),
                c3: (33.33,),
                d: (120.0,),
            },
        )
        after_visits = self._report(date(2026, 3, 10))
        self.assertEqual(
            (after_visits[a], after_visits[b1], after_visits[d]), ((1000.0,), (1350.0,), (120.0,))
        )
        today = self._report()
        self.assertEqual(
            (today[a], today[b1], today[b2], today[d]), ((1000.0,), (1350.0,), (1500.0,), (0.0,))
        )
        # the report agrees with each package's own ledger figure
        for entitlement in self.ent_a | self.ent_b1 | self.ent_b2 | self.ent_d:
            self.assertAlmostEqual(today[entitlement.id][0], entitlement.deferred_balance, places=2)
        self.assertNotIn(self.ent_e.id, today, "a prepaid package holds unapplied credit instead")
        by_patient = self._report(groupby="partner_id")
        self.assertEqual(by_patient, {self.patient.id: (1000.0,), self.patient_2.id: (2950.0,)})
        by_kind = self._report(groupby="kind")
        self.assertEqual(
            by_kind,
            {"invoice": (4820.0,), "recognition": (-750.0,), "breakage": (-120.0,)},
        )

    def test_items_without_package_are_kept(self):
        """A manual entry on the unearned account has no package, and still counts."""
        self._clinic_manual_unearned_entry(75.0, date(2026, 3, 2), user=self.manager)
        by_package = self._report()
        self.assertEqual(by_package[False], (75.0,))
        self.assertAlmostEqual(sum(a for (a,) in by_package.values()), self._ledger(), places=2)


class TestDashboard(ReportCase):
    def test_landing_numbers(self):
        row = self.env["clinic.report.dashboard"].search([("company_id", "=", self.company.id)])
        self.assertRecordValues(
            row,
            [
                {
                    # A, B1, B2, C1-3, E (D expired)
                    "active_count": 7,
                    "uses_month": 5,
                    "expiring_count": 1,  # C1, on the 20th
                    "unearned_balance": 3950.0,
                }
            ],
        )
        action = row.action_open_expiring()
        expiring = self.env["clinic.entitlement"].with_context(action["context"])
        self.assertEqual(action["res_model"], "clinic.entitlement")
        self.assertEqual(action["context"], {"search_default_expiring_soon": 1})
        self.assertEqual(
            expiring.search(
                action["domain"] + [("state", "=", "active"), ("date_expiry", "<=", "2026-04-01")]
            ),
            self.ent_c[0],
        )
        uses = row.action_open_uses()
        self.assertEqual(self.env["clinic.report.usage"].search_count(uses["domain"]), 5)
        with freeze_time("2026-04-02"):
            row.invalidate_recordset()
            april = self.env["clinic.report.dashboard"].search(
                [("company_id", "=", self.company.id)]
            )
            self.assertEqual((april.uses_month, april.expiring_count), (0, 1))


class TestPackageStatement(ReportCase):
    def _html(self, report, records):
        html, kind = self.env["ir.actions.report"]._render_qweb_html(report, records.ids)
        self.assertEqual(kind, "html")
        return html.decode()

    def test_patient_statement(self):
        html = self._html("clinic_packages.action_report_package_statement", self.patient)
        self.assertIn("Package Statement", html)
        self.assertIn("Maria Lopez", html)
        for entitlement in self.ent_a | self.ent_d | self.ent_e:
            self.assertIn(entitlement.name, html)
        self.assertNotIn(self.ent_b1.name, html)
        row_a = html[html.index(f'data-entitlement="{self.ent_a.name}"') :]
        row_a = row_a[: row_a.index("</tr>")]
        for text in (
            "8 Physio Sessions",
            ">8<",
            ">3<",
            ">5<",
            "08/29/2026",
            "1,600.00",
            "600.00",
            "1,000.00",
        ):
            self.assertIn(text, row_a)
        # the visits paid by the packages
        self.assertIn("Dr. Second", html)
        self.assertIn("No-show", html)
        # totals: collected 1,600 + 120 + 1,600, used value 600 + 0 + 200,
        # unearned 1,000 + 0 + 1,400
        self.assertIn("3,320.00", html)
        self.assertIn("2,400.00", html)

    def test_statement_from_packages(self):
        html = self._html(
            "clinic_packages.action_report_entitlement_statement", self.ent_a | self.ent_b1
        )
        self.assertEqual(html.count('class="page o_clinic_package_statement"'), 2)
        self.assertIn("Maria Lopez", html)
        self.assertIn("James Carter", html)
        self.assertIn(self.ent_b1.name, html)
        self.assertNotIn(self.ent_b2.name, html)
        self.assertIn("Massage 60 min", html)  # the bundle's services, one line each

    def test_clinic_user_can_print(self):
        report = self.env.ref("clinic_packages.action_report_package_statement")
        html, __ = report.with_user(self.receptionist)._render_qweb_html(report, self.patient.ids)
        self.assertIn(self.ent_a.name, html.decode())


class TestAuthorizationReport(ClinicCase):
    @freeze_time(TODAY)
    def test_utilization_per_authorization(self):
        self.env.user.tz = "UTC"
        self.env.company.clinic_count_upcoming = False  # remaining = approved - kept
        payer = self.env["res.partner"].create({"name": "Acme Health", "is_company": True})
        patient = self.env["res.partner"].create({"name": "Ana Silva"})
        Authorization = self.env["clinic.authorization"]
        first = Authorization.create(
            {
                "name": "AUTH-1",
                "partner_id": patient.id,
                "payer_id": payer.id,
                "date_start": date(2026, 3, 1),
                "date_end": date(2026, 5, 31),
                "allowed": 10,
            }
        )
        second = Authorization.create(
            {
                "name": "AUTH-2",
                "partner_id": self.patient_2.id,
                "payer_id": payer.id,
                "date_start": date(2026, 3, 1),
                "date_end": date(2026, 5, 31),
                "allowed": 4,
            }
        )
        attend(self._clinic_book(at(3), patient=patient))
        self._clinic_book(at(4), patient=patient)
        for day in (3, 4):
            attend(self._clinic_book(at(day), patient=self.patient_2))
        Report = self.env["clinic.report.authorization"]
        self.assertRecordValues(
            Report.search([], order="name"),
            [
                {
                    "authorization_id": first.id,
                    "partner_id": patient.id,
                    "payer_id": payer.id,
                    "allowed": 10,
                    "used": 1,
                    "scheduled": 1,
                    "remaining": 9,
                    "utilization": 10.0,
                    "state": "active",
                },
                {
                    "authorization_id": second.id,
                    "partner_id": self.patient_2.id,
                    "payer_id": payer.id,
                    "allowed": 4,
                    "used": 2,
                    "scheduled": 0,
                    "remaining": 2,
                    "utilization": 50.0,
                    "state": "active",
                },
            ],
        )
        (group,) = Report.read_group(
            [], ["allowed:sum", "used:sum", "scheduled:sum", "utilization:avg"], ["payer_id"]
        )
        self.assertEqual(
            (group["allowed"], group["used"], group["scheduled"], group["utilization"]),
            (14, 3, 1, 30.0),
        )


class TestReportCompanies(ClinicCase):
    def test_other_company_rows_are_hidden(self):
        company_b, user_b = self._clinic_other_company("clinic_report_user_b")
        entitlement = self._clinic_sell(self.package_physio8).clinic_entitlement_ids
        Report = self.env["clinic.report.package.sales"]
        self.assertEqual(Report.search([]).entitlement_id, entitlement)
        self.assertFalse(Report.with_user(user_b).search([]))
        dashboard = self.env["clinic.report.dashboard"].with_user(user_b).search([])
        self.assertEqual(dashboard.company_id, company_b)
        self.assertEqual(dashboard.active_count, 0)
