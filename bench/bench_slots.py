"""Online booking benchmark: the free slots of a package's practitioners on a large clinic.

Run with ``bash bench/run.sh slots`` (see bench/README.md): ``odoo-bin shell`` executes this
file on a fresh scratch database and provides ``env`` (superuser).

A package valid with 3 practitioners (of 10), Monday to Friday 8:00-12:00 and 13:00-17:00 in
Europe/Brussels, 45-minute visits; its patient, a portal user, asks
``clinic_booking_slots`` for the coming 4 weeks. Measured twice: on a clinic without history,
then after BENCH_VISITS visits (default 200,000, the reports benchmark's volume) of
BENCH_PATIENTS patients (default 10,000) were added with SQL: past visits over three years,
arrived or cancelled, and upcoming ones over the next 4 weeks (every practitioner booked one
morning hour a day), each with its two attendees (patient and practitioner), as Odoo's calendar
keeps them. Reported: the median time (BENCH_REPEAT runs after BENCH_WARMUP, each with an
empty record cache) and the number of queries, which must not grow with the history.
Target: under TARGET_MS (150 ms) with the history.
"""

import gc
import os
import statistics
import time
from datetime import datetime, timedelta

from odoo import Command, fields

VISITS = int(os.environ.get("BENCH_VISITS", "200000"))
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "10000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
PRACTITIONERS = 10
TARGET_MS = float(os.environ.get("BENCH_TARGET_MS", "150"))
TZ = "Europe/Brussels"


def log(message):
    print(f"[bench slots] {message}", flush=True)


def build(env):
    clinic_user = env.ref("clinic_packages.group_clinic_user")
    calendar = env["resource.calendar"].create(
        {
            "name": "Bench clinic hours",
            "tz": TZ,
            "attendance_ids": [
                Command.create(
                    {
                        "name": f"{day} {start}",
                        "dayofweek": str(day),
                        "hour_from": start,
                        "hour_to": stop,
                        "day_period": "morning" if start < 12 else "afternoon",
                    }
                )
                for day in range(5)
                for start, stop in ((8, 12), (13, 17))
            ],
        }
    )
    Users = env["res.users"].with_context(no_reset_password=True, tracking_disable=True)
    practitioners = Users.create(
        [
            {
                "name": f"Dr. Slots {n:02d}",
                "login": f"bench_slots_practitioner_{n:02d}",
                "tz": TZ,
                "groups_id": [Command.set(clinic_user.ids)],
                "clinic_practitioner": True,
            }
            for n in range(PRACTITIONERS)
        ]
    )
    practitioners.resource_ids.write({"calendar_id": calendar.id, "tz": TZ})
    service = env["product.product"].create(
        {"name": "Physio 45 min", "type": "service", "clinic_visit_minutes": 45}
    )
    product = env["product.product"].create(
        {
            "name": "10 Physio",
            "type": "service",
            "clinic_package_ok": True,
            "clinic_package_line_ids": [
                Command.create({"service_product_id": service.id, "quantity": 10})
            ],
        }
    )
    patient = env["res.partner"].create({"name": "Bench Booking Patient"})
    portal = Users.create(
        {
            "name": patient.name,
            "login": "bench_slots_patient",
            "partner_id": patient.id,
            "tz": TZ,
            "groups_id": [Command.set(env.ref("base.group_portal").ids)],
        }
    )
    package = env["clinic.entitlement"].create(
        {
            "partner_id": patient.id,
            "product_id": product.id,
            "practitioner_ids": [Command.set(practitioners[:3].ids)],
        }
    )
    package._clinic_activate()
    env["clinic.location"].create([{"name": n} for n in ("Main Street", "Harbour")])
    env.flush_all()
    return practitioners, service, package, portal


def add_history(env, practitioners, service):
    """BENCH_VISITS visits of BENCH_PATIENTS patients, with their attendees, in SQL."""
    cr = env.cr
    started = time.perf_counter()
    patients = (
        env["res.partner"]
        .with_context(tracking_disable=True)
        .create([{"name": f"Bench Patient {n}"} for n in range(PATIENTS)])
        .ids
    )
    now = fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
    # 95% in the past three years (arrived, some cancelled), 5% in the next four weeks
    future = VISITS // 20
    cr.execute(
        """
        CREATE TEMP TABLE bench_visit AS
        SELECT n,
               (%(patients)s::int[])[1 + n %% %(np)s] AS patient_id,
               (%(users)s::int[])[1 + n %% %(nu)s] AS user_id,
               (%(partners)s::int[])[1 + n %% %(nu)s] AS user_partner_id,
               CASE WHEN n <= %(future)s
                    THEN date_trunc('day', %(now)s::timestamp) + (1 + n %% 28) * interval '1 day'
                         + (7 + (n / 28) %% 9) * interval '1 hour'
                    ELSE %(now)s::timestamp - (n %% 1095 + 1) * interval '1 day'
                         + (n %% 9) * interval '1 hour' END AS start,
               CASE WHEN n <= %(future)s THEN 'upcoming'
                    WHEN n %% 11 = 0 THEN 'cancelled' ELSE 'arrived' END AS attendance
          FROM generate_series(1, %(visits)s) n
        """,
        {
            "patients": patients,
            "np": len(patients),
            "users": practitioners.ids,
            "partners": practitioners.partner_id.ids,
            "nu": len(practitioners),
            "future": future,
            "now": now,
            "visits": VISITS,
        },
    )
    cr.execute(
        """
        ALTER TABLE bench_visit ADD COLUMN event_id int;
        UPDATE bench_visit SET event_id = nextval('calendar_event_id_seq');
        INSERT INTO calendar_event (id, name, user_id, start, stop, duration, allday, active,
                                    show_as, privacy, clinic_patient_id, clinic_service_id,
                                    clinic_attendance, clinic_units, create_date, write_date)
        SELECT event_id, 'Visit', user_id, start, start + interval '45 minutes', 0.75, false,
               true, 'busy', 'public', patient_id, %s, attendance, 1,
               now() at time zone 'UTC', now() at time zone 'UTC'
          FROM bench_visit;
        INSERT INTO calendar_attendee (event_id, partner_id, state, common_name, access_token)
        SELECT event_id, patient_id, 'accepted', 'Patient', md5(event_id::text || 'p')
          FROM bench_visit
         UNION ALL
        SELECT event_id, user_partner_id, 'accepted', 'Practitioner', md5(event_id::text || 'u')
          FROM bench_visit;
        INSERT INTO calendar_event_res_partner_rel (calendar_event_id, res_partner_id)
        SELECT event_id, patient_id FROM bench_visit
         UNION ALL
        SELECT event_id, user_partner_id FROM bench_visit;
        DROP TABLE bench_visit;
        """,
        [service.id],
    )
    env.invalidate_all()
    env.cr.commit()
    cr._cnx.autocommit = True
    try:
        for table in ("calendar_event", "calendar_attendee", "calendar_event_res_partner_rel"):
            cr.execute(f'VACUUM (ANALYZE) "{table}"')
    finally:
        cr._cnx.autocommit = False
    log(
        f"{VISITS} visits ({future} upcoming) of {PATIENTS} patients in "
        f"{time.perf_counter() - started:.0f} s"
    )


def measure(env, package, portal, service):
    uenv = env(user=portal, context=dict(env.context, tz=TZ))
    begin = fields.Datetime.now()
    end = begin + timedelta(weeks=4)
    times, queries, count = [], set(), 0
    for rep in range(WARMUP + REPEAT):
        env.invalidate_all()
        env.cr.cache.clear()
        gc.collect()
        gc.disable()
        try:
            before = env.cr.sql_log_count
            started = time.perf_counter()
            slots = (
                uenv["clinic.entitlement"]
                .browse(package.id)
                .clinic_booking_slots(service.id, begin, end)
            )
            elapsed = time.perf_counter() - started
            queries.add(env.cr.sql_log_count - before)
        finally:
            gc.enable()
        count = len(slots)
        if rep >= WARMUP:
            times.append(elapsed * 1000.0)
    quartiles = statistics.quantiles(times, n=4)
    return statistics.median(times), quartiles, max(queries), count


def run(env):
    started = datetime.now()
    practitioners, service, package, portal = build(env)
    env.cr.commit()
    rows = [("no history", *measure(env, package, portal, service))]
    add_history(env, practitioners, service)
    rows.append((f"{VISITS} visits", *measure(env, package, portal, service)))
    header = (
        f"{'slots, 3 practitioners x 4 weeks':<34} {'median ms':>9} {'p25-p75 ms':>13} "
        f"{'queries':>7} {'slots':>6} {'target':>9} {'result':>6}"
    )
    print(header)
    print("-" * len(header))
    for label, median, quartiles, queries, count in rows:
        verdict = "PASS" if median <= TARGET_MS else "MISS"
        print(
            f"{label:<34} {median:>9.1f} {quartiles[0]:>6.1f}-{quartiles[2]:<6.1f} {queries:>7} "
            f"{count:>6} {'<= ' + str(int(TARGET_MS)) + ' ms':>9} {verdict:>6}"
        )
    print("-" * len(header))
    same = rows[0][3] == rows[1][3]
    print(
        f"queries {'independent of' if same else 'GROW with'} the history "
        f"({rows[0][3]} -> {rows[1][3]}); run {datetime.now() - started}"
    )
    if not same:
        raise SystemExit(1)


if "env" in globals():  # executed by `odoo-bin shell` (bench/run.sh)
    run(globals()["env"])
else:
    raise SystemExit("Run this benchmark with: bash bench/run.sh slots")
