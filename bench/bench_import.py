"""Import benchmark: a clinic's export of 10,000 package rows through Clinic > Configuration >
Import (`clinic.import`), as a Clinic Manager.

Run with ``bash bench/run.sh import`` (see bench/README.md): ``odoo-bin shell`` executes this
file on a fresh scratch database and provides ``env`` (superuser); nothing is committed.

The script makes a package product per service count (1 to BENCH_IMPORT_SERVICES services),
BENCH_IMPORT_PATIENTS patients (default 2,000, half of them found by e-mail, half by name)
and a CSV file of BENCH_IMPORT_ROWS rows (default 10,000): packages of
BENCH_IMPORT_SERVICES rows each (default 1: 10,000 packages), some uses consumed before and
a value not yet delivered on each. It times ``action_import()`` (target: under 60 s) and its
phases (reading and checking the file: patients, products and references resolved once per
file; creating the packages; the opening entry), counts its SQL statements by kind, then
checks the outcome: one imported package per reference, one balanced opening entry whose
unearned revenue equals the file's (one item per patient on each side), each package's
unearned equal to its row's, the uses before counted, and a second run of the same file (a
re-import) that changes nothing. Last, it imports BENCH_IMPORT_CREDITS prepaid balances
(default 200) as a credits file, timed on its own.

The machine is shared: besides the wall-clock figure it prints the process's CPU time (the
Python side; PostgreSQL's share is the difference, roughly).
"""

import base64
import cProfile
import io
import os
import pstats
import re
import time
from collections import Counter

from odoo import Command
from odoo.sql_db import Cursor

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
SERVICES = int(os.environ.get("BENCH_IMPORT_SERVICES", "1"))
PATIENTS = int(os.environ.get("BENCH_IMPORT_PATIENTS", "2000"))
CREDITS = int(os.environ.get("BENCH_IMPORT_CREDITS", "200"))
TARGET_S = 60.0
# the wizard's steps timed on their own (the rest of the import is reading the file), and
# two steps inside the opening entry: (model, method): label
PHASES = {
    ("clinic.import", "_clinic_check_packages"): "check rows (patients, products, references)",
    ("clinic.import", "_clinic_create_imported_packages"): "create packages and their lines",
    ("clinic.import", "_clinic_post_opening_entry"): "opening entry (create + post), of which",
    ("clinic.entitlement.opening", "create"): "  - its itemisation per package",
    ("account.move", "_post"): "  - posting it",
    ("clinic.import", "_clinic_apply_credits"): "create and post the credits' payments",
}
PROFILE = os.environ.get("BENCH_PROFILE") == "1"  # print a cProfile of the import


def log(message):
    print(message, flush=True)  # noqa: T201 - a benchmark reports on stdout


def build(env):
    if not env.company.chart_template:
        env["account.chart.template"].try_loading(
            "generic_coa", company=env.company, install_demo=False
        )
    env.company._clinic_accounting()  # the unearned account and the package journal
    Product = env["product.product"]
    services = Product.create(
        [
            {"name": f"Bench service {i}", "default_code": f"BS{i}", "type": "service"}
            for i in range(SERVICES)
        ]
    )
    package = Product.create(
        {
            "name": "Bench package",
            "default_code": "BENCHPKG",
            "type": "service",
            "list_price": 1000.0,
            "clinic_package_ok": True,
            "clinic_package_line_ids": [
                Command.create({"service_product_id": service.id, "quantity": 10})
                for service in services
            ],
        }
    )
    patients = env["res.partner"].create(
        [{"name": f"Bench Patient {i}", "email": f"bench{i}@example.com"} for i in range(PATIENTS)]
    )
    clearing = env["account.account"].create(
        {
            "name": "Migration clearing (bench)",
            "code": "499990",
            "account_type": "equity",
            "company_ids": [Command.set(env.company.ids)],
        }
    )
    manager = env["res.users"].create(
        {
            "name": "Bench Clinic Manager",
            "login": "bench_import_manager",
            "groups_id": [
                Command.link(env.ref("clinic_packages.group_clinic_manager").id),
                Command.link(env.ref("base.group_user").id),
            ],
        }
    )
    return package, services, patients, clearing, manager


def export_file(package, services, patients):
    """The CSV an old system would export, and the unearned revenue it holds."""
    out = io.StringIO()
    out.write(
        "reference,patient,patient_email,package,service,quantity,used,start,expiry,unearned\n"
    )
    total = 0.0
    packages = ROWS // SERVICES
    for number in range(packages):
        patient = patients[number % len(patients)]
        # half the rows name the patient by e-mail, half by name
        name, email = ("", patient.email) if number % 2 else (patient.name, "")
        expiry = "2099-12-31" if number % 3 else ""
        for index, service in enumerate(services):
            used = (number + index) % 10
            unearned = (10 - used) * 12.5
            total += unearned
            out.write(
                f"OLD-{number},{name},{email},{package.default_code},{service.default_code},"
                f"10,{used},2024-01-01,{expiry},{unearned:.2f}\n"
            )
    return out.getvalue().encode(), packages, round(total, 2)


def credits_file(patients):
    """A credits export: a prepaid balance for the first CREDITS patients."""
    out = io.StringIO()
    out.write("reference,patient,patient_email,amount,date,package_reference\n")
    for number, patient in enumerate(patients[:CREDITS]):
        out.write(f"CREDIT-{number},,{patient.email},{25 + number % 7 * 5:.2f},2024-06-01,\n")
    return out.getvalue().encode()


class Timings:
    """Wall and CPU time spent in the PHASES and SQL statements by kind, while active."""

    def __init__(self, env):
        self.env = env
        self.seconds = Counter()
        self.cpu = Counter()
        self.queries = Counter()
        self.sql_seconds = 0.0
        self.slowest = []  # (seconds, statement kind) of the statements over a second
        self.saved = {}

    def __enter__(self):
        for key in PHASES:
            model_class = type(self.env[key[0]])
            self.saved[key] = model_class.__dict__.get(key[1])
            setattr(model_class, key[1], self._timed(key, getattr(model_class, key[1])))
        execute = self.saved["execute"] = Cursor.execute
        queries = self.queries
        timings = self

        def counted(cursor, query, params=None, log_exceptions=True):
            text = query.code if hasattr(query, "code") else str(query)
            match = re.match(r"\s*(\w+)(?:\s+(?:INTO|FROM)?\s*\"?(\w+))?", text)
            kind = " ".join(filter(None, match.groups())) if match else "?"
            queries[kind] += 1
            started = time.perf_counter()
            try:
                return execute(cursor, query, params, log_exceptions)
            finally:
                seconds = time.perf_counter() - started
                timings.sql_seconds += seconds
                if seconds > 1.0:
                    timings.slowest.append((seconds, " ".join(text.split())[:160]))

        Cursor.execute = counted
        return self

    def __exit__(self, *exc):
        for key in PHASES:
            model_class = type(self.env[key[0]])
            if self.saved[key] is None:
                delattr(model_class, key[1])
            else:
                setattr(model_class, key[1], self.saved[key])
        Cursor.execute = self.saved["execute"]

    def _timed(self, key, original):
        seconds, cpu = self.seconds, self.cpu
        running = set()

        def timed(*args, **kwargs):
            if key in running:  # a recursive call: counted once
                return original(*args, **kwargs)
            running.add(key)
            started, started_cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[key] += time.perf_counter() - started
                cpu[key] += time.process_time() - started_cpu
                running.discard(key)

        return timed


def run(env, content, clearing, manager, kind="packages"):
    wizard = (
        env["clinic.import"]
        .with_user(manager)
        .create(
            {
                "kind": kind,
                "file": base64.b64encode(content),
                "filename": f"bench-{kind}.csv",
                "clearing_account_id": clearing.id,
            }
        )
    )
    env.flush_all()
    profile = cProfile.Profile() if PROFILE else None
    timings = Timings(env)
    with timings:
        started, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        wizard.action_import()
        env.flush_all()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if profile:
            profile.disable()
    if profile:
        pstats.Stats(profile).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            int(os.environ.get("BENCH_LINES", "45"))
        )
    return wizard, elapsed, cpu, timings


def report(elapsed, cpu, timings):
    """The breakdown: each phase's wall and CPU time, the SQL statements by kind."""
    accounted = accounted_cpu = 0.0
    log(f"    {'phase':<52} {'wall':>8} {'CPU':>8}")
    for key, label in PHASES.items():
        if key in timings.seconds:
            if not label.startswith(" "):
                accounted += timings.seconds[key]
                accounted_cpu += timings.cpu[key]
            log(f"    {label:<52} {timings.seconds[key]:6.1f} s {timings.cpu[key]:6.1f} s")
    log(
        f"    {'read the file, write the result, flush':<52} {elapsed - accounted:6.1f} s "
        f"{cpu - accounted_cpu:6.1f} s"
    )
    log(
        f"    {'total':<52} {elapsed:6.1f} s {cpu:6.1f} s  (CPU: this process; the rest is "
        "waiting for PostgreSQL and for a core)"
    )
    total = sum(timings.queries.values())
    common = ", ".join(f"{kind} {count}" for kind, count in timings.queries.most_common(8))
    log(f"    SQL statements: {total} in {timings.sql_seconds:.1f} s ({common})")
    for seconds, text in sorted(timings.slowest, reverse=True)[:5]:
        log(f"      {seconds:5.1f} s: {text}")


def main(env):
    started = time.perf_counter()
    package, services, patients, clearing, manager = build(env)
    content, count, total = export_file(package, services, patients)
    log(
        f"data: {ROWS} rows, {count} packages of {SERVICES} service(s), {PATIENTS} patients, "
        f"{total:.2f} unearned ({time.perf_counter() - started:.1f} s to build)"
    )

    wizard, elapsed, cpu, timings = run(env, content, clearing, manager)
    status = "OK" if elapsed < TARGET_S else "MISS"
    log(f"import of {ROWS} package rows: {elapsed:.1f} s (target < {TARGET_S:.0f} s) {status}")
    log(f"  {1000 * elapsed / ROWS:.2f} ms per row; breakdown:")
    report(elapsed, cpu, timings)
    assert wizard.state == "done", wizard.result[:2000]

    imported = env["clinic.entitlement"].search([("imported", "=", True)])
    assert len(imported) == count, (len(imported), count)
    opening = env["account.move"].search([("clinic_move_kind", "=", "opening")])
    assert len(opening) == 1 and opening.state == "posted", opening
    deferred = env.company.clinic_deferred_account_id
    unearned = -sum(
        opening.line_ids.filtered(lambda line: line.account_id == deferred).mapped("balance")
    )
    assert round(unearned, 2) == total, (unearned, total)
    assert round(sum(opening.line_ids.mapped("balance")), 2) == 0.0
    per_patient = Counter((line.account_id, line.partner_id) for line in opening.line_ids)
    assert max(per_patient.values()) == 1, "one item per patient and account"
    deferred_money = imported._clinic_deferred_money()
    file_values = Counter()  # a package's rows (one per service) add up
    for reference, value in re.findall(rb"^(OLD-\d+),.*,([\d.]+)$", content, re.M):
        file_values[reference.decode()] += float(value)
    for entitlement in imported:
        expected = round(file_values[entitlement.import_reference], 2)
        money = deferred_money[entitlement.id]
        assert round(money["unearned"], 2) == expected, (entitlement.name, money, expected)
        assert round(money["billed"], 2) == expected, (entitlement.name, money, expected)
    used_before = sum(imported.line_ids.mapped("used_before"))
    assert used_before == sum(imported.line_ids.mapped("used")), "uses before are part of used"
    log(
        f"  checked: {len(imported)} packages, opening entry {opening.name} with "
        f"{len(opening.line_ids)} items, {unearned:.2f} unearned, {used_before} uses before"
    )

    wizard, elapsed, cpu, timings = run(env, content, clearing, manager)
    assert wizard.state == "done", wizard.result[:2000]
    assert env["clinic.entitlement"].search_count([("imported", "=", True)]) == count
    assert env["account.move"].search_count([("clinic_move_kind", "=", "opening")]) == 1
    log(f"re-import of the same file (nothing changes): {elapsed:.1f} s")
    report(elapsed, cpu, timings)

    if CREDITS:
        wizard, elapsed, cpu, timings = run(
            env, credits_file(patients), clearing, manager, kind="credits"
        )
        assert wizard.state == "done", wizard.result[:2000]
        payments = env["account.payment"].search([("clinic_import_reference", "!=", False)])
        assert len(payments) == CREDITS and set(payments.mapped("state")) <= {"in_process", "paid"}
        log(f"import of {CREDITS} credits (prepaid balances): {elapsed:.1f} s")
        report(elapsed, cpu, timings)


main(env)  # noqa: F821 - `env` is given by odoo-bin shell
env.cr.rollback()  # noqa: F821
