"""Import benchmark: a clinic's export of 10,000 package rows through Clinic > Configuration >
Import (`clinic.import`), as a Clinic Manager.

Run with ``bash bench/run.sh import`` (see bench/README.md): ``odoo-bin shell`` executes this
file on a fresh scratch database and provides ``env`` (superuser); nothing is committed.

The script makes a package product per service count (1 to BENCH_IMPORT_SERVICES services),
BENCH_IMPORT_PATIENTS patients (default 2,000, half of them found by e-mail, half by name)
and a CSV file of BENCH_IMPORT_ROWS rows (default 10,000): packages of
BENCH_IMPORT_SERVICES rows each (default 1: 10,000 packages), some uses consumed before and
a value not yet delivered on each. It times ``action_import()`` (target: under 60 s), then
checks the outcome: one imported package per reference, one balanced opening entry whose
unearned revenue equals the file's, the uses before counted, and a second run of the same
file (a re-import) that changes nothing.
"""

import base64
import cProfile
import io
import os
import pstats
import time

from odoo import Command

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
SERVICES = int(os.environ.get("BENCH_IMPORT_SERVICES", "1"))
PATIENTS = int(os.environ.get("BENCH_IMPORT_PATIENTS", "2000"))
TARGET_S = 60.0
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


def run(env, content, clearing, manager):
    wizard = (
        env["clinic.import"]
        .with_user(manager)
        .create(
            {
                "kind": "packages",
                "file": base64.b64encode(content),
                "filename": "bench.csv",
                "clearing_account_id": clearing.id,
            }
        )
    )
    env.flush_all()
    profile = cProfile.Profile() if PROFILE else None
    started = time.perf_counter()
    if profile:
        profile.enable()
    wizard.action_import()
    env.flush_all()
    elapsed = time.perf_counter() - started
    if profile:
        profile.disable()
        pstats.Stats(profile).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            int(os.environ.get("BENCH_LINES", "45"))
        )
    return wizard, elapsed


def main(env):
    started = time.perf_counter()
    package, services, patients, clearing, manager = build(env)
    content, count, total = export_file(package, services, patients)
    log(
        f"data: {ROWS} rows, {count} packages of {SERVICES} service(s), {PATIENTS} patients, "
        f"{total:.2f} unearned ({time.perf_counter() - started:.1f} s to build)"
    )

    wizard, elapsed = run(env, content, clearing, manager)
    status = "OK" if elapsed < TARGET_S else "MISS"
    log(f"import of {ROWS} package rows: {elapsed:.1f} s (target < {TARGET_S:.0f} s) {status}")
    log(f"  {1000 * elapsed / ROWS:.2f} ms per row")
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
    used_before = sum(imported.line_ids.mapped("used_before"))
    assert used_before == sum(imported.line_ids.mapped("used")), "uses before are part of used"
    log(
        f"  checked: {len(imported)} packages, opening entry {opening.name} with "
        f"{len(opening.line_ids)} items, {unearned:.2f} unearned, {used_before} uses before"
    )

    wizard, elapsed = run(env, content, clearing, manager)
    assert wizard.state == "done", wizard.result[:2000]
    assert env["clinic.entitlement"].search_count([("imported", "=", True)]) == count
    assert env["account.move"].search_count([("clinic_move_kind", "=", "opening")]) == 1
    log(f"re-import of the same file (nothing changes): {elapsed:.1f} s")


main(env)  # noqa: F821 - `env` is given by odoo-bin shell
env.cr.rollback()  # noqa: F821
