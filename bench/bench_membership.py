"""Membership benchmark: the daily renewal job over 10,000 memberships whose period ended.

Run on your own database (the script builds its own data and commits it):
``PYTHONPATH=bench odoo-bin shell -c <conf> -d <db> --no-http < bench/bench_membership.py``
(``odoo-bin shell`` provides ``env``, superuser).

BENCH_MEMBERSHIP_COUNT memberships (default 10,000; BENCH_MEMBERSHIP_PER_PATIENT per patient,
default 50), half monthly with rollover, half without, are made through the ORM: each first
period is a package created with its membership, the way selling one makes it, its month
ended yesterday a month ago. A first run of the job (not timed: the set-up) renews them all
into a second period with its posted invoice; that period ends yesterday, holding its
invoice's 120 of unearned revenue.

The timed run is the job as Odoo's cron runner runs it (``ir.cron._run_job``, shared with the
expiry benchmark in ``cronrun.py``): a progress record, the cron's server action
(``model._cron_renew()``, one batch of 500), a commit, and again while the job reports
memberships remaining. An interrupted run resumes where it stopped: a renewed membership is
no longer due. It prints the total time (target: under 60 s for 10,000), the time per
membership, the batches and queries, and checks the outcome: every membership has a third
period billed by a posted invoice line (one invoice per patient and day, a line per
membership), the rollover memberships carried their 4 uses and 120 into it, the others gave
120 to breakage, every entry balances and the unearned revenue account holds exactly what
the open periods hold. Then stock Odoo creates and posts the same invoices (same number,
same lines) in the same run: the ratio is the job's time to theirs.

Environment variables: BENCH_MEMBERSHIP_COUNT (default 10000), BENCH_MEMBERSHIP_PER_PATIENT
(default 50; 1: every membership its own patient and invoice), BENCH_PROFILE=1 (print a
cProfile of the timed run, by cumulative and by own time; BENCH_PROFILE_LINES lines each,
default 40; BENCH_PROFILE_CALLERS: comma-separated functions whose callers it lists too).
"""

import cProfile
import os
import pstats
import time

import cronrun
from dateutil.relativedelta import relativedelta
from sqlcopy import log

from odoo import Command, fields

COUNT = int(os.environ.get("BENCH_MEMBERSHIP_COUNT", "10000"))
PER_PATIENT = int(os.environ.get("BENCH_MEMBERSHIP_PER_PATIENT", "50"))
PRICE = 120.0
USES = 4
TARGET_S = 60.0
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
PROFILE_LINES = int(os.environ.get("BENCH_PROFILE_LINES", "40"))
# functions (pstats patterns, comma-separated) whose callers the profile also lists
PROFILE_CALLERS = os.environ.get("BENCH_PROFILE_CALLERS", "")


def build(env):
    started = time.perf_counter()
    if not env.company.chart_template:
        env["account.chart.template"].try_loading(
            "generic_coa", company=env.company, install_demo=False
        )
    company = env.company
    Product = env["product.product"]
    service = Product.create(
        {"name": "Bench Pilates", "type": "service", "taxes_id": [Command.clear()]}
    )
    products = [
        Product.create(
            {
                "name": f"Bench Monthly Pilates ({'rollover' if rollover else 'no rollover'})",
                "type": "service",
                "list_price": PRICE,
                "taxes_id": [Command.clear()],
                "clinic_package_ok": True,
                "clinic_membership": True,
                "clinic_period": "month",
                "clinic_rollover": rollover,
                "clinic_package_line_ids": [
                    Command.create({"service_product_id": service.id, "quantity": USES})
                ],
            }
        )
        for rollover in (True, False)
    ]
    patients = env["res.partner"].create(
        [{"name": f"Bench Member {i}"} for i in range(COUNT // PER_PATIENT + 1)]
    )
    today = fields.Date.context_today(env["res.users"])
    anchor = today - relativedelta(months=1)
    Entitlement = env["clinic.entitlement"]
    Membership = env["clinic.membership"]
    for offset in range(0, COUNT, 1000):
        size = min(1000, COUNT - offset)
        products_of = [products[(offset + i) % 2] for i in range(size)]
        periods = Entitlement.create(
            [
                {
                    "product_id": product.id,
                    "partner_id": patients[(offset + i) // PER_PATIENT].id,
                    "company_id": company.id,
                    "membership_period": 1,
                    "date_start": anchor,
                    "date_expiry": anchor + relativedelta(months=1, days=-1),
                    "amount_untaxed": PRICE,
                    "amount_total": PRICE,
                }
                for i, product in enumerate(products_of)
            ]
        )
        periods.write({"state": "active"})
        memberships = Membership.create(
            [
                {
                    "name": f"BENCH/{offset + i:05d}",
                    "partner_id": period.partner_id.id,
                    "product_id": period.product_id.id,
                    "company_id": company.id,
                    "period": "month",
                    # rollover from the second period on (the first holds no money)
                    "rollover": False,
                    "price_unit": PRICE,
                    "price_total": PRICE,
                    "date_start": anchor,
                    "date_next": anchor + relativedelta(months=1),
                    "current_period_id": period.id,
                }
                for i, period in enumerate(periods)
            ]
        )
        for membership, period in zip(memberships, periods, strict=True):
            period.membership_id = membership
        env.cr.commit()
        env.invalidate_all()
    log(f"{COUNT} memberships (ORM) in {time.perf_counter() - started:.0f} s")
    return products


def run_cron(env):
    """The renewal job as Odoo's cron runner runs it (`cronrun.run_cron`). Per batch:
    (seconds, queries, done)."""
    return cronrun.run_cron(env, "clinic_packages.ir_cron_clinic_membership_renew")


def check(env, products):
    cr = env.cr
    env.invalidate_all()
    memberships = env["clinic.membership"].search([("name", "=like", "BENCH/%")])
    counts = {m.period_count for m in memberships}
    assert counts == {3}, f"periods per membership: {counts}"
    thirds = memberships.current_period_id
    rolled = thirds.filtered(lambda p: p.membership_id.rollover)
    assert set(rolled.mapped("uses_total")) == {2 * USES}, set(rolled.mapped("uses_total"))
    assert set(rolled.mapped("rolled_value")) == {PRICE}
    assert set((thirds - rolled).mapped("uses_total")) == {USES}
    billed = env["account.move.line"].search_count(
        [
            ("move_id.clinic_move_kind", "=", "membership"),
            ("parent_state", "=", "posted"),
            ("display_type", "=", "product"),
        ]
    )
    assert billed == 2 * COUNT, f"{billed} renewal invoice lines"
    unbilled = thirds[:200].filtered(lambda p: not p._clinic_invoice_lines())
    assert not unbilled, f"{len(unbilled)} third periods (of 200) without their invoice line"
    seconds = memberships.period_ids.filtered(lambda p: p.membership_period == 2)
    assert set(seconds.mapped("state")) == {"expired"}, set(seconds.mapped("state"))
    broken = sum((seconds - rolled.membership_id.period_ids).breakage_ids.mapped("amount"))
    assert round(broken, 2) == PRICE * (COUNT // 2), broken
    unbalanced = env["account.move.line"].read_group(
        [("move_id.clinic_move_kind", "in", ("membership", "transfer", "breakage"))],
        ["balance:sum"],
        ["move_id"],
        lazy=False,
    )
    assert all(abs(g["balance"]) < 0.005 for g in unbalanced), "an entry does not balance"
    deferred = env.company.clinic_deferred_account_id
    cr.execute(
        "SELECT -COALESCE(SUM(balance), 0) FROM account_move_line l "
        "JOIN account_move m ON m.id = l.move_id WHERE l.account_id = %s "
        "AND m.state = 'posted' AND l.clinic_entitlement_id IS NOT NULL",
        [deferred.id],
    )
    ledger = cr.fetchone()[0]
    shares = sum(memberships.period_ids.breakage_ids.mapped("amount"))
    held = round(float(ledger) - shares, 2)
    expected = PRICE * COUNT + PRICE * (COUNT // 2)  # third periods + rolled value
    assert held == expected, (held, expected)
    log(f"checked: {COUNT} memberships with 3 periods, unearned revenue {held:,.2f} as expected")


def stock_invoices(env, products):
    """The stock Odoo operation the job cannot avoid: customer invoices of the same product
    and price, the same number and lines as the job makes (one per patient in a batch, a
    line per membership), created and posted in batches of 500 memberships, committed per
    batch. Returns (seconds, CPU seconds, invoices)."""
    partners = env["res.partner"].search([("name", "=like", "Bench Member %")], order="id")
    journal = env["account.journal"].search(
        [("type", "=", "sale"), ("company_id", "=", env.company.id)], limit=1
    )
    line = Command.create({"product_id": products[0].id, "quantity": 1, "price_unit": PRICE})
    started, cpu_started, invoices = time.perf_counter(), time.process_time(), 0
    for offset in range(0, COUNT, 500):
        lines = {}
        for i in range(offset, min(offset + 500, COUNT)):
            lines.setdefault(partners[i // PER_PATIENT].id, []).append(line)
        moves = (
            env["account.move"]
            .with_context(tracking_disable=True, mail_create_nolog=True)
            .create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner_id,
                        "journal_id": journal.id,
                        "invoice_line_ids": partner_lines,
                    }
                    for partner_id, partner_lines in lines.items()
                ]
            )
        )
        moves._post(soft=False)
        invoices += len(moves)
        env.cr.commit()
        env.invalidate_all()
    return time.perf_counter() - started, time.process_time() - cpu_started, invoices


def main(env):
    products = build(env)
    log("set-up: renewing the first periods (not timed)")
    started = time.perf_counter()
    setup = run_cron(env)
    setup_s = time.perf_counter() - started
    log(f"set-up renewal: {sum(b[2] for b in setup)} memberships in {setup_s:.1f} s")
    # the second periods ended yesterday: move the memberships' calendar back a month
    env.cr.execute(
        "UPDATE clinic_membership SET date_start = date_start - interval '1 month', "
        "date_next = date_next - interval '1 month' WHERE name LIKE 'BENCH/%%'"
    )
    env.cr.execute(
        "UPDATE clinic_membership SET rollover = true WHERE product_id = %s", [products[0].id]
    )
    env.cr.execute(
        "UPDATE clinic_entitlement e SET date_start = (e.date_start - interval '1 month')::date, "
        "date_expiry = (e.date_expiry - interval '1 month')::date FROM clinic_membership m "
        "WHERE e.membership_id = m.id AND m.name LIKE 'BENCH/%%'"
    )
    env.cr.commit()
    env.invalidate_all()
    log("timed: the renewal job over the second periods")
    profiler = cProfile.Profile() if PROFILE else None
    if profiler:
        profiler.enable()
    started, cpu_started = time.perf_counter(), time.process_time()
    batches = run_cron(env)
    total_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    if profiler:
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
        stats.sort_stats("tottime").print_stats(PROFILE_LINES)
        for pattern in filter(None, PROFILE_CALLERS.split(",")):
            stats.print_callers(pattern)
    done = sum(b[2] for b in batches)
    queries = sum(b[1] for b in batches)
    log(
        f"renewal job: {done} memberships in {total_s:.1f} s "
        f"({1000 * total_s / max(done, 1):.2f} ms each; target {TARGET_S:.0f} s for 10,000), "
        f"{len(batches)} batches (one commit each), {queries} queries "
        f"({queries / max(done, 1):.1f} per membership); CPU of the Odoo process {cpu_s:.1f} s "
        f"({1000 * cpu_s / max(done, 1):.2f} ms each; the rest is PostgreSQL and waiting for "
        f"a core)"
    )
    check(env, products)
    invoices = len(
        env["account.move.line"]
        .search(
            [
                ("clinic_entitlement_id.membership_period", "=", 3),
                ("move_id.clinic_move_kind", "=", "membership"),
            ]
        )
        .move_id
    )
    log(f"the job's invoices: {invoices} ({PER_PATIENT} memberships per patient)")
    log(f"stock Odoo: the same {invoices} customer invoices created and posted, batches of 500")
    stock_s, stock_cpu_s, stock_count = stock_invoices(env, products)
    assert stock_count == invoices, (stock_count, invoices)
    projected = total_s * 10000 / max(done, 1)
    log(
        f"stock invoices: {stock_s:.1f} s ({1000 * stock_s / COUNT:.2f} ms per membership; "
        f"CPU {stock_cpu_s:.1f} s); renewal job / stock invoices = {total_s / stock_s:.2f} "
        f"(CPU {cpu_s / stock_cpu_s:.2f}); renewal projected for 10,000: "
        f"{projected:.0f} s ({'OK' if projected <= TARGET_S else 'MISS'} against "
        f"{TARGET_S:.0f} s)"
    )


main(env)  # noqa: F821 - provided by odoo-bin shell
