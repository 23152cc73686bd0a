"""Booking and arrival benchmark: clinic_packages against stock Odoo operations.

Run with ``bash bench/run.sh booking`` (see bench/README.md): ``odoo-bin shell`` executes this
file on the scratch database ``clinic_bench`` and provides ``env`` (superuser). The script
builds its own data, measures, prints a table and leaves the database as it found it (the
shell rolls the transaction back).

Every measured operation runs inside a savepoint that is rolled back afterwards, so each
repetition starts from the same data (the packages are never used up) with an empty record
cache, as a new request would. The timed span includes ``env.flush_all()`` and
``env.cr.flush()`` (pending writes, recomputations and precommit hooks such as mail tracking),
as ``assertQueryCount`` counts them; queries are counted with the cursor's ``sql_log_count``.

Environment variables: BENCH_REPEAT (timed repetitions, default 30), BENCH_WARMUP (untimed
runs first, default 3), BENCH_HISTORY (packages of the patient with history, default 50),
BENCH_VERBOSE=1 (also list the queries the clinic booking adds to the stock create).
"""

import gc
import os
import re
import statistics
import threading
import time
from collections import Counter
from datetime import datetime, time as dtime, timedelta

from odoo import Command, fields, release

REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
HISTORY_PACKAGES = int(os.environ.get("BENCH_HISTORY", "50"))
VERBOSE = os.environ.get("BENCH_VERBOSE") == "1"
PHYSIO_USES = 8
# history patient: this share of the packages is used up, the others have HALF_USED uses done
USED_UP_SHARE = 0.6
HALF_USED = 4


# ---------------------------------------------------------------------- measuring
class Result:
    def __init__(self, label, times, counts):
        self.label = label
        self.times = times
        self.counts = counts

    @property
    def ms(self):
        return statistics.median(self.times) * 1000.0

    @property
    def queries(self):
        return statistics.median(self.counts)

    @property
    def queries_text(self):
        low, high = min(self.counts), max(self.counts)
        return f"{low}" if low == high else f"{self.queries:g} ({low}-{high})"


def _fresh_request(env):
    """Empty record cache and transaction-level caches, as at the start of a request."""
    env.invalidate_all(flush=False)
    env.cr.clear()
    env.cr.postcommit.clear()
    env.cr.cache.clear()


def measure(env, label, operation, prepare=None, check=None):
    """Median wall time and SQL query count of `operation(prepared)`, flush included.

    `prepare()` (untimed) builds what the operation needs; `check(prepared, result)` (untimed)
    asserts the operation did what it should. Both run inside the rolled-back savepoint."""
    cr = env.cr
    times, counts = [], []
    for rep in range(WARMUP + REPEAT):
        cr.execute('SAVEPOINT "bench_op"')
        try:
            prepared = prepare() if prepare else None
            env.flush_all()
            cr.flush()
            _fresh_request(env)
            gc.collect()
            gc.disable()
            try:
                count0 = cr.sql_log_count
                start = time.perf_counter()
                result = operation(prepared)
                env.flush_all()
                cr.flush()
                elapsed = time.perf_counter() - start
                count = cr.sql_log_count - count0
            finally:
                gc.enable()
            if check and rep == 0:
                check(prepared, result)
        finally:
            cr.execute('ROLLBACK TO SAVEPOINT "bench_op"')
            _fresh_request(env)
        if rep >= WARMUP:
            times.append(elapsed)
            counts.append(count)
    return Result(label, times, counts)


def capture_queries(env, operation, prepare=None):
    """The SQL statements one run of `operation` sends (flush included), rolled back."""
    cr = env.cr
    seen = []

    def hook(cursor, query, params, start, delay):
        if cursor is cr:
            text = query.decode() if isinstance(query, bytes) else str(query)
            seen.append(" ".join(text.split()))

    cr.execute('SAVEPOINT "bench_capture"')
    thread = threading.current_thread()
    try:
        prepared = prepare() if prepare else None
        env.flush_all()
        cr.flush()
        _fresh_request(env)
        if not hasattr(thread, "query_hooks"):
            thread.query_hooks = []
        thread.query_hooks.append(hook)
        try:
            operation(prepared)
            env.flush_all()
            cr.flush()
        finally:
            thread.query_hooks.remove(hook)
    finally:
        cr.execute('ROLLBACK TO SAVEPOINT "bench_capture"')
        _fresh_request(env)
    return seen


def _query_shape(sql):
    """A statement without its literal values, to compare runs on different records."""
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+\b", "?", sql)
    return sql[:220]


def query_diff(base, other):
    """Statements (by shape) that `other` runs more often than `base`."""
    extra = Counter(map(_query_shape, other))
    extra.subtract(Counter(map(_query_shape, base)))
    return [(n, shape) for shape, n in extra.most_common() if n > 0]


# ---------------------------------------------------------------------- data
class BenchData:
    """Products, packages, users and patients the benchmark books and bills."""

    def __init__(self, env):
        self.env = env
        self.today = fields.Date.context_today(env["res.users"])
        # every visit of the benchmark is in two weeks, 09:00 UTC
        self.visit_start = datetime.combine(self.today + timedelta(days=14), dtime(9, 0))

    def build(self):
        env = self.env
        self._ensure_chart()
        company = env.company
        Users = env["res.users"].with_context(no_reset_password=True)
        self.practitioner = Users.create({
            "name": "Bench Practitioner",
            "login": "bench_practitioner",
            "tz": "UTC",
            "groups_id": [Command.set([env.ref("clinic_packages.group_clinic_user").id])],
        })
        self.frontdesk = Users.create({
            "name": "Bench Front Desk",
            "login": "bench_frontdesk",
            "tz": "UTC",
            "company_id": company.id,
            "company_ids": [Command.set(company.ids)],
            "groups_id": [Command.set([
                env.ref("clinic_packages.group_clinic_user").id,
                env.ref("sales_team.group_sale_salesman").id,
                env.ref("account.group_account_invoice").id,
            ])],
        })
        Product = env["product.product"]
        self.physio = Product.create({
            "name": "Physio 45 min", "type": "service", "list_price": 200.0,
            "taxes_id": [Command.clear()],
        })
        self.massage = Product.create({
            "name": "Massage 60 min", "type": "service", "list_price": 120.0,
            "taxes_id": [Command.clear()],
        })
        # no expiry: the history patient's visits of last year stay within validity
        self.package_physio = self._package("8 Physio Sessions", 1600.0, self.physio, 8, 0.0)
        self.package_massage = self._package("5 Massages", 500.0, self.massage, 5, 10.0)
        Partner = env["res.partner"]
        self.new_patient = Partner.create({"name": "Bench New Patient"})
        self.regular = Partner.create({"name": "Bench Regular Patient"})
        self.massage_patient = Partner.create({"name": "Bench Massage Patient"})
        self.new_ent = self._sell(self.new_patient, self.package_physio)
        self.massage_ent = self._sell(self.massage_patient, self.package_massage)
        self.regular_ents = self._sell(self.regular, self.package_physio, HISTORY_PACKAGES)
        self._build_history()
        env.flush_all()
        env.cr.flush()

    def _ensure_chart(self):
        env = self.env
        if not env.company.chart_template:
            env["account.chart.template"].try_loading(
                "generic_coa", company=env.company, install_demo=False
            )

    def _package(self, name, price, service, uses, pays):
        return self.env["product.product"].create({
            "name": name,
            "type": "service",
            "list_price": price,
            "taxes_id": [Command.clear()],
            "clinic_package_ok": True,
            "clinic_validity_days": 0,
            "clinic_package_line_ids": [Command.create({
                "service_product_id": service.id, "quantity": uses, "patient_pays": pays,
            })],
        })

    def _sell(self, patient, package, qty=1):
        order = self.env["sale.order"].create({
            "partner_id": patient.id,
            "order_line": [Command.create({"product_id": package.id, "product_uom_qty": qty})],
        })
        order.action_confirm()
        entitlements = order.clinic_entitlement_ids
        assert len(entitlements) == qty and set(entitlements.mapped("state")) == {"active"}, (
            f"selling {qty} x {package.name} gave {entitlements.mapped('state')}"
        )
        return entitlements

    def _build_history(self):
        """The regular patient's past: real visits booked on each package and arrived."""
        entitlements = self.regular_ents
        first_day = self.today - timedelta(days=400)
        entitlements.write({"date_start": first_day})
        used_up = round(len(entitlements) * USED_UP_SHARE)
        vals_list = []
        day = first_day
        for index, entitlement in enumerate(entitlements.sorted("id")):
            for _use in range(PHYSIO_USES if index < used_up else HALF_USED):
                start = datetime.combine(day, dtime(10, 0))
                vals_list.append(self.visit_vals(self.regular, start, entitlement=entitlement))
                day += timedelta(days=1)
        events = self.env["calendar.event"].create(vals_list)
        events.action_clinic_arrive()
        self.history_visits = len(events)
        self.history_used_up = used_up
        assert set(events.clinic_usage_id.mapped("state")) == {"consumed"}
        states = Counter(entitlements.mapped("state"))
        assert states["exhausted"] == used_up, states

    def visit_vals(self, patient, start, clinic=True, service=None, entitlement=None):
        """An appointment of 45 minutes with the practitioner, no attendee invitations.
        Without `clinic`: the same event as stock Odoo books it (no clinic fields)."""
        vals = {
            "name": f"Visit {patient.name}",
            "start": start,
            "stop": start + timedelta(minutes=45),
            "user_id": self.practitioner.id,
            "partner_ids": [Command.clear()],
        }
        if clinic:
            vals["clinic_patient_id"] = patient.id
            vals["clinic_service_id"] = (service or self.physio).id
            if entitlement:
                vals["clinic_entitlement_id"] = entitlement.id
        return vals


# ---------------------------------------------------------------------- operations
def run(env):
    data = BenchData(env)
    build_start = time.perf_counter()
    data.build()
    build_s = time.perf_counter() - build_start
    # the operations run as the front desk, in the same transaction
    uenv = env(user=data.frontdesk, context=dict(env.context, tz="UTC"))
    Event = uenv["calendar.event"]
    start = data.visit_start

    def book(patient):
        def operation(_prepared):
            return Event.create(data.visit_vals(patient, start))
        return operation

    def check_booked(entitlements):
        def check(_prepared, event):
            usage = event.clinic_usage_id
            assert event.clinic_entitlement_id in entitlements, "no package chosen"
            assert usage.state == "reserved", f"use is {usage.state}"
        return check

    def stock_create(_prepared):
        return Event.create(data.visit_vals(data.new_patient, start, clinic=False))

    def check_stock(_prepared, event):
        assert not event.clinic_entitlement_id and not event.clinic_usage_id

    def booked(patient, service):
        def prepare():
            return Event.create(data.visit_vals(patient, start, service=service))
        return prepare

    def arrive(event):
        event.action_clinic_arrive()
        return event

    def check_arrived(pays):
        def check(_prepared, event):
            assert event.clinic_attendance == "arrived"
            assert event.clinic_usage_id.state == "consumed"
            invoice = event.clinic_invoice_id
            if pays:
                assert invoice.state == "draft" and invoice.amount_total == pays, invoice
            else:
                assert not invoice, invoice
        return check

    def stock_invoice_paid(_prepared):
        move = uenv["account.move"].create({
            "move_type": "out_invoice",
            "partner_id": data.massage_patient.id,
            "invoice_line_ids": [Command.create({
                "product_id": data.massage.id, "quantity": 1, "price_unit": 10.0,
            })],
        })
        move.action_post()
        uenv["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({})._create_payments()
        return move

    def check_paid(_prepared, move):
        assert move.state == "posted" and move.payment_state in ("paid", "in_payment"), (
            move.state, move.payment_state,
        )

    book_new = book(data.new_patient)
    book_regular = book(data.regular)
    results = {
        "a": measure(env, "(a) book visit, package redeemed", book_new,
                     check=check_booked(data.new_ent)),
        "b": measure(env, "(b) stock calendar.event create", stock_create, check=check_stock),
        "c0": measure(env, "(c) arrival, patient pays 0", arrive,
                      prepare=booked(data.new_patient, data.physio), check=check_arrived(0.0)),
        "c10": measure(env, "(c) arrival, pays 10: draft invoice", arrive,
                       prepare=booked(data.massage_patient, data.massage),
                       check=check_arrived(10.0)),
        "d": measure(env, "(d) stock invoice+post+payment", stock_invoice_paid,
                     check=check_paid),
        "e1": measure(env, "(e) book, patient with 1 package", book_new,
                      check=check_booked(data.new_ent)),
        "e50": measure(env, f"(e) book, patient with {HISTORY_PACKAGES} packages",
                       book_regular, check=check_booked(data.regular_ents)),
    }
    report(env, data, results, build_s)

    extra_history = query_diff(
        capture_queries(env, book_new), capture_queries(env, book_regular)
    )
    if extra_history:
        print(f"\nQueries the booking of the patient with {HISTORY_PACKAGES} packages runs "
              "more often than the booking of the patient with 1 (count x statement):")
        for count, shape in extra_history:
            print(f"  {count:3d} x {shape}")
    if VERBOSE:
        print("\nQueries the clinic booking (a) adds to the stock create (b):")
        for count, shape in query_diff(
            capture_queries(env, stock_create), capture_queries(env, book_new)
        ):
            print(f"  {count:3d} x {shape}")


# ---------------------------------------------------------------------- report
def report(env, data, results, build_s):
    env.cr.execute("SHOW server_version")
    pg_version = env.cr.fetchone()[0]
    print()
    print(f"clinic_packages booking benchmark - Odoo {release.version}, PostgreSQL "
          f"{pg_version}, database {env.cr.dbname}")
    print(f"{REPEAT} timed repetitions after {WARMUP} warm-up runs; median wall time; SQL "
          "queries per operation (flush and precommit hooks included); operations run as a "
          "front-desk user (clinic user + billing), each in a rolled-back savepoint, record "
          "cache empty at start.")
    print(f"History patient: {HISTORY_PACKAGES} packages of {PHYSIO_USES} physio uses, "
          f"{data.history_used_up} used up, {data.history_visits} past visits arrived "
          f"(data built in {build_s:.1f} s).")
    print()
    r = results
    rows = [
        (r["a"], r["b"], 1.2, "time"),
        (r["b"], None, None, None),
        (r["c0"], r["d"], 0.5, "time"),
        (r["c10"], r["d"], 0.5, "time"),
        (r["d"], None, None, None),
        (r["e1"], None, None, None),
        (r["e50"], r["e1"], 1.2, "history"),
    ]
    header = (f"{'operation':<38} {'median ms':>9} {'queries':>10} {'ratio':>12} "
              f"{'target':>19} {'result':>6}")
    print(header)
    print("-" * len(header))
    misses = 0
    for res, ref, target, kind in rows:
        ratio_text = target_text = verdict = ""
        if ref is not None:
            ratio = res.ms / ref.ms
            ref_name = ref.label.split(")")[0] + ")"
            ratio_text = f"{ratio:.2f}x {ref_name}"
            passed = ratio <= target
            target_text = f"<= {target:.1f}x"
            if kind == "history":
                # booking cost must not depend on the patient's history
                target_text += ", same queries"
                passed = passed and res.queries <= ref.queries
            verdict = "PASS" if passed else "MISS"
            misses += not passed
        print(f"{res.label:<38} {res.ms:>9.1f} {res.queries_text:>10} {ratio_text:>12} "
              f"{target_text:>19} {verdict:>6}")
    print("-" * len(header))
    print(f"query ratios: (a)/(b) {r['a'].queries / r['b'].queries:.2f}x, "
          f"(c) pays 0/(d) {r['c0'].queries / r['d'].queries:.2f}x, "
          f"(c) pays 10/(d) {r['c10'].queries / r['d'].queries:.2f}x, "
          f"(e) {HISTORY_PACKAGES}/1 {r['e50'].queries:g} vs {r['e1'].queries:g} queries")
    print(f"{misses} target(s) missed." if misses else "All targets met.")


if "env" in globals():  # executed by `odoo-bin shell` (bench/run.sh)
    run(globals()["env"])
else:
    raise SystemExit("Run this benchmark with: bash bench/run.sh booking")
