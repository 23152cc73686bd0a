"""Scale-out benchmark: front desks booking and marking visits arrived over XML-RPC against
Odoo's prefork server with 1, 2 and 4 workers, and the clinic reports read from a PostgreSQL
streaming replica through Odoo 18's ``db_replica_host``.

Run with ``bash bench/run.sh scale`` (see bench/README.md): ``odoo-bin shell`` executes this
file on a scratch database and provides ``env`` (superuser). The script builds its data
through the ORM and commits it, then for each worker count starts ``odoo-bin --workers W`` on
that database (its own HTTP port, no cron), and runs BENCH_SCALE_CLIENTS front-desk clients at
once, each a thread with its own ``xmlrpc.client`` connection, logged in as a Clinic User
(not an administrator): each books a visit of today on a package (``calendar.event.create``
with the patient, service, package and practitioner) and marks it arrived
(``action_clinic_arrive``), again and again for BENCH_SCALE_SECONDS.

Every round gets fresh packages: a pool of large ones the clients share, and BENCH_SCALE_SCARCE
packages with one use left, on which every client tries to book first (all at the same
moment) and then every SCARCE_EVERY-th time: they contend on the last use. After each round
the database is checked in SQL: the over-count (uses consumed + booked beyond a package's
quantity, counted from the uses themselves, not from the stored counters) must be 0, the stored
counters must match the uses, every booking a client was told about must exist with its use,
every arrival must have consumed it, and every refusal must be an Odoo warning on a package
that is indeed used up. A broken check exits 1; throughput is a figure, not a target.

With BENCH_SCALE_REPLICA=host:port (a hot standby of the database's cluster, e.g. the one
``bash bench/replica.sh up`` makes), a last round starts the server with ``db_replica_host`` /
``db_replica_port`` and, besides the front desks, BENCH_SCALE_REPORT_CLIENTS report readers
that log in to the web client's session as a clinic manager and call what the report views
call through ``/web/dataset/call_kw`` (``read_group``, ``web_read_group``,
``web_search_read``: read-only methods, which Odoo 18 routes to the replica). The round prints
the clinic report queries the replica ran (its ``pg_stat_statements``, which needs the
extension created in the database on the primary: ``bench/replica.sh demo`` does it) and the
transactions and inserts the primary committed meanwhile.

Environment variables: BENCH_SCALE_WORKERS (default "1,2,4"), BENCH_SCALE_CLIENTS (default
8), BENCH_SCALE_SECONDS (per round, default 20), BENCH_SCALE_SCARCE (default 4),
BENCH_SCALE_PORT (HTTP port of the server started, default the config's http_port; the port
above it is its gevent port), BENCH_SCALE_REPLICA, BENCH_SCALE_REPLICA_WORKERS (default 2),
BENCH_SCALE_REPORT_CLIENTS (default 2).
"""

import http.cookiejar
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import xmlrpc.client
from datetime import datetime, timedelta
from datetime import time as dtime

import psycopg2

import odoo
from odoo import Command, fields
from odoo.tools import config

WORKERS = [int(w) for w in os.environ.get("BENCH_SCALE_WORKERS", "1,2,4").split(",") if w]
CLIENTS = int(os.environ.get("BENCH_SCALE_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_SCALE_SECONDS", "20"))
SCARCE = int(os.environ.get("BENCH_SCALE_SCARCE", "4"))
PORT = int(os.environ.get("BENCH_SCALE_PORT") or config["http_port"])
REPLICA = os.environ.get("BENCH_SCALE_REPLICA", "")
REPLICA_WORKERS = int(os.environ.get("BENCH_SCALE_REPLICA_WORKERS", "2"))
REPORT_CLIENTS = int(os.environ.get("BENCH_SCALE_REPORT_CLIENTS", "2"))
# every SCARCE_EVERY-th booking of a client aims at a package with its last use left
SCARCE_EVERY = 4
SCARCE_USES, SCARCE_LEFT = 8, 1
AMPLE_USES = 500
DESKS = 4
PRACTITIONERS = 4
# the benchmark's users exist in its scratch database only
PASSWORD = "scale-bench-desk"
# Odoo's XML-RPC fault code of a UserError / ValidationError (a refusal with a message)
WARNING = 2
ODOO_BIN = os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), "odoo-bin")


# ---------------------------------------------------------------------- data
class ScaleData:
    """Users, products and, per round, the packages the clients book on."""

    def __init__(self, env):
        self.env = env
        self.db = env.cr.dbname
        self.today = fields.Date.context_today(env["res.users"])

    def build(self):
        env = self.env
        if not env.company.chart_template:
            env["account.chart.template"].try_loading(
                "generic_coa", company=env.company, install_demo=False
            )
        user_group = env.ref("clinic_packages.group_clinic_user")
        self.practitioners = [
            self._user(f"scale_practitioner_{i}", f"Scale Practitioner {i}", user_group.ids, True)
            for i in range(1, PRACTITIONERS + 1)
        ]
        # front desks: Clinic User only, the least a desk needs to book and mark arrivals
        self.desks = [
            self._user(f"scale_desk_{i}", f"Scale Front Desk {i}", user_group.ids)
            for i in range(1, DESKS + 1)
        ]
        report_groups = [
            env.ref("clinic_packages.group_clinic_manager").id,
            env.ref("sales_team.group_sale_manager").id,
            env.ref("account.group_account_readonly").id,
        ]
        self.reporter = self._user("scale_reports", "Scale Reports", report_groups)
        Product = env["product.product"]
        self.service = Product.search([("default_code", "=", "SCALE-PHYSIO")], limit=1)
        if not self.service:
            self.service = Product.create(
                {
                    "name": "Scale Physio 30 min",
                    "default_code": "SCALE-PHYSIO",
                    "type": "service",
                    "list_price": 100.0,
                    "taxes_id": [Command.clear()],
                }
            )
        self.ample_product = self._package("SCALE-AMPLE", f"{AMPLE_USES} Physio", AMPLE_USES)
        self.scarce_product = self._package("SCALE-SCARCE", f"{SCARCE_USES} Physio", SCARCE_USES)
        env.cr.commit()

    def _user(self, login, name, group_ids, practitioner=False):
        Users = self.env["res.users"].with_context(no_reset_password=True)
        values = {
            "name": name,
            "login": login,
            "password": PASSWORD,
            "tz": "UTC",
            "clinic_practitioner": practitioner,
            "company_id": self.env.company.id,
            "company_ids": [Command.set(self.env.company.ids)],
            "groups_id": [Command.set(group_ids)],
        }
        # a database the benchmark ran on before keeps its users
        return Users.search([("login", "=", login)]) or Users.create(values)

    def _package(self, code, name, uses):
        Product = self.env["product.product"]
        product = Product.search([("default_code", "=", code)], limit=1)
        return product or Product.create(
            {
                "name": name,
                "default_code": code,
                "type": "service",
                "list_price": 10.0 * uses,
                "taxes_id": [Command.clear()],
                "clinic_package_ok": True,
                "clinic_validity_days": 0,
                "clinic_package_line_ids": [
                    Command.create(
                        {"service_product_id": self.service.id, "quantity": uses, "patient_pays": 0}
                    )
                ],
            }
        )

    def new_round(self, tag):
        """Fresh packages for one round, committed: 2 per client of AMPLE_USES uses, shared
        by all clients, and SCARCE packages of SCARCE_USES uses of which all but SCARCE_LEFT
        were used by past visits (booked and arrived through the normal path)."""
        env = self.env
        ample = [
            self._sell(f"Scale {tag} Patient {i}", self.ample_product) for i in range(2 * CLIENTS)
        ]
        scarce = [
            self._sell(f"Scale {tag} Last-use Patient {i}", self.scarce_product)
            for i in range(SCARCE)
        ]
        start = datetime.combine(self.today, dtime(7, 0))
        past = env["calendar.event"].create(
            [
                self.visit_vals(f"Scale {tag} past", package, start, self.practitioners[0].id)
                for package in scarce
                for _ in range(SCARCE_USES - SCARCE_LEFT)
            ]
        )
        past.action_clinic_arrive()
        env.cr.commit()
        return Round(
            tag,
            ample=[(p.id, p.partner_id.id) for p in ample],
            scarce=[(p.id, p.partner_id.id) for p in scarce],
            service=self.service.id,
            practitioners=[u.id for u in self.practitioners],
            today=self.today,
        )

    def _sell(self, patient_name, product):
        patient = self.env["res.partner"].create({"name": patient_name})
        order = self.env["sale.order"].create(
            {"partner_id": patient.id, "order_line": [Command.create({"product_id": product.id})]}
        )
        order.action_confirm()
        package = order.clinic_entitlement_ids
        assert len(package) == 1 and package.state == "active", package.mapped("state")
        return package

    def visit_vals(self, name, package, start, practitioner_id):
        return {
            "name": name,
            "start": start,
            "stop": start + timedelta(minutes=30),
            "clinic_patient_id": package.partner_id.id,
            "clinic_service_id": self.service.id,
            "clinic_entitlement_id": package.id,
            "user_id": practitioner_id,
        }


class Round:
    """What the clients of one round need, as plain values (the threads never touch `env`)."""

    def __init__(self, tag, ample, scarce, service, practitioners, today):
        self.tag = tag
        self.ample = ample
        self.scarce = scarce
        self.service = service
        self.practitioners = practitioners
        self.today = today
        self.visit_name = f"Scale {tag} desk"

    @property
    def package_ids(self):
        return [package for package, _patient in self.ample + self.scarce]


# ---------------------------------------------------------------------- server
def port_free(port, wait=30):
    """The port can be listened on (as Odoo does, SO_REUSEADDR: connections of the previous
    round's server may linger in TIME_WAIT), within `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
        time.sleep(1)


class Server:
    """`odoo-bin --workers W` on the scratch database, in its own process group, stopped
    (that group only) on exit."""

    def __init__(self, db, workers, replica=None):
        self.db = db
        self.workers = workers
        self.replica = replica
        self.url = f"http://127.0.0.1:{PORT}"
        self.proc = None
        handle, self.log = tempfile.mkstemp(prefix=f"clinic_scale_w{workers}_", suffix=".log")
        os.close(handle)

    def __enter__(self):
        for port in (PORT, PORT + 1):
            if not port_free(port):
                raise SystemExit(f"port {port} is in use: set BENCH_SCALE_PORT to a free port")
        cmd = [sys.executable, ODOO_BIN, "-c", config.rcfile, "-d", self.db]
        cmd += ["--db-filter", f"^{self.db}$", "--workers", str(self.workers)]
        cmd += ["--http-interface", "127.0.0.1", "--http-port", str(PORT)]
        cmd += ["--gevent-port", str(PORT + 1), "--max-cron-threads", "0"]
        cmd += ["--limit-time-real", "600", "--log-level", "warn", "--logfile", self.log]
        if self.replica:
            host, port = self.replica.rsplit(":", 1)
            cmd += ["--db_replica_host", host, "--db_replica_port", port]
        with open(self.log, "ab") as output:  # what is printed before logging starts
            self.proc = subprocess.Popen(
                cmd, start_new_session=True, stdin=subprocess.DEVNULL, stdout=output, stderr=output
            )
        common = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/common")
        deadline = time.monotonic() + 180
        while True:
            try:
                common.version()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise SystemExit(f"the Odoo server did not start: see {self.log}") from None
                time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def log_count(self, text):
        with open(self.log, encoding="utf-8", errors="replace") as log:
            return sum(text in line for line in log)


# ---------------------------------------------------------------------- clients
class Clock:
    """The round's start and end, set once every client is connected."""

    start = stop = 0.0

    def begin(self):
        self.start = time.monotonic()
        self.stop = self.start + SECONDS


class DeskClient(threading.Thread):
    """A front desk: books a visit of today on a package, marks it arrived, again."""

    def __init__(self, index, server, round_, desk, barrier, clock):
        super().__init__(name=f"desk-{index}", daemon=True)
        self.index = index
        self.server = server
        self.round = round_
        self.uid = desk
        self.barrier = barrier
        self.clock = clock
        self.rng = random.Random(index)
        self.booked = []  # (package id, event id)
        self.arrived = 0
        self.refused = []  # (package id, message)
        self.errors = []

    def call(self, model, method, *args, **kwargs):
        return self.proxy.execute_kw(
            self.server.db, self.uid, PASSWORD, model, method, list(args), kwargs
        )

    def run(self):
        self.proxy = xmlrpc.client.ServerProxy(f"{self.server.url}/xmlrpc/2/object")
        try:
            for _ in range(3):  # logged in (the credential check is cached per worker)
                self.call("res.users", "read", [self.uid], fields=["name"])
        except Exception as exc:  # noqa: BLE001 - reported as a broken run
            self.errors.append(f"warm-up: {exc}")
        self.barrier.wait()
        attempt = 0
        while time.monotonic() < self.clock.stop:
            if attempt == 0:  # all at once, at least two desks on each last use
                package, patient = self.round.scarce[self.index % len(self.round.scarce)]
            elif attempt % SCARCE_EVERY == 0:
                package, patient = self.rng.choice(self.round.scarce)
            else:
                package, patient = self.rng.choice(self.round.ample)
            attempt += 1
            start = datetime.combine(self.round.today, dtime(8, 0)) + timedelta(
                minutes=15 * self.rng.randrange(40)
            )
            vals = {
                "name": self.round.visit_name,
                "start": start.strftime("%Y-%m-%d %H:%M:%S"),
                "stop": (start + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S"),
                "clinic_patient_id": patient,
                "clinic_service_id": self.round.service,
                "clinic_entitlement_id": package,
                "user_id": self.rng.choice(self.round.practitioners),
            }
            try:
                event = self.call("calendar.event", "create", vals)
            except xmlrpc.client.Fault as fault:
                if fault.faultCode == WARNING:
                    self.refused.append((package, fault.faultString))
                else:
                    self.errors.append(f"booking: {fault.faultString[-300:]}")
                continue
            except (OSError, xmlrpc.client.ProtocolError) as exc:
                self.errors.append(f"booking: {exc}")
                continue
            self.booked.append((package, event))
            try:
                self.call("calendar.event", "action_clinic_arrive", [event])
                self.arrived += 1
            except (xmlrpc.client.Fault, OSError, xmlrpc.client.ProtocolError) as exc:
                self.errors.append(f"arrival: {str(exc)[-300:]}")


# what the report views call: pivot / graph (`read_group`, lazy=False), grouped list
# (`web_read_group`), list (`web_search_read`); all `@api.readonly` in Odoo 18
REPORT_CALLS = [
    (
        "clinic.report.usage",
        "read_group",
        [[], ["nbr:sum", "amount:sum"], ["location_id", "date:month"]],
        {"lazy": False},
    ),
    ("clinic.report.usage", "web_read_group", [[], ["nbr:sum"], ["user_id"]], {"lazy": False}),
    (
        "clinic.report.usage",
        "web_search_read",
        [[], {"date": {}, "user_id": {"fields": {"display_name": {}}}, "nbr": {}}],
        {"limit": 80},
    ),
    (
        "clinic.report.package.sales",
        "read_group",
        [[], ["nbr:sum", "uses_used:sum", "uses_remaining:sum"], ["date:month"]],
        {"lazy": False},
    ),
    ("clinic.report.unearned", "read_group", [[], ["amount:sum"], ["product_id"]], {"lazy": False}),
    (
        "clinic.report.dashboard",
        "web_search_read",
        [[], {"active_count": {}, "uses_month": {}, "unearned_balance": {}}],
        {},
    ),
]


class ReportClient(threading.Thread):
    """A manager with the reports open: the web client's JSON-RPC calls, in a session."""

    def __init__(self, index, server, login, barrier, clock):
        super().__init__(name=f"reports-{index}", daemon=True)
        self.index = index
        self.server = server
        self.login = login
        self.barrier = barrier
        self.clock = clock
        self.calls = 0
        self.errors = []
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def json(self, path, params):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode()
        request = urllib.request.Request(
            self.server.url + path, body, {"Content-Type": "application/json"}
        )
        with self.opener.open(request, timeout=600) as response:
            reply = json.load(response)
        if "error" in reply:
            raise RuntimeError(reply["error"].get("data", {}).get("message") or reply["error"])
        return reply["result"]

    def run(self):
        try:
            self.json(
                "/web/session/authenticate",
                {"db": self.server.db, "login": self.login, "password": PASSWORD},
            )
        except Exception as exc:  # noqa: BLE001 - reported as a broken run
            self.errors.append(f"login: {exc}")
        self.barrier.wait()
        turn = self.index
        while time.monotonic() < self.clock.stop and not self.errors:
            model, method, args, kwargs = REPORT_CALLS[turn % len(REPORT_CALLS)]
            turn += 1
            try:
                self.json(
                    f"/web/dataset/call_kw/{model}/{method}",
                    {"model": model, "method": method, "args": args, "kwargs": kwargs},
                )
                self.calls += 1
            except Exception as exc:  # noqa: BLE001 - reported as a broken run
                self.errors.append(f"{model}.{method}: {exc}")


# ---------------------------------------------------------------------- checks
def check_round(env, round_, desks):
    """The round's outcome in SQL (a fresh snapshot): over-count, counters, bookings,
    arrivals, refusals. Returns (figures, problems)."""
    cr = env.cr
    cr.rollback()
    cr.execute(
        """
        SELECT l.entitlement_id, l.quantity, l.used, l.reserved,
               coalesce(l.used_before, 0) + count(u.id) FILTER (WHERE u.state = 'consumed'),
               count(u.id) FILTER (WHERE u.state = 'reserved')
          FROM clinic_entitlement_line l
          LEFT JOIN clinic_entitlement_usage u ON u.entitlement_line_id = l.id
         WHERE l.entitlement_id = ANY(%s)
         GROUP BY l.id
        """,
        [round_.package_ids],
    )
    over_count = drift = 0
    full = set()
    for package, quantity, used, reserved, counted_used, counted_reserved in cr.fetchall():
        over_count += max(0, counted_used + counted_reserved - quantity)
        drift += (used, reserved) != (counted_used, counted_reserved)
        if counted_used + counted_reserved >= quantity:
            full.add(package)
    cr.execute(
        """
        SELECT e.id, e.clinic_entitlement_id, e.clinic_attendance, u.state, u.entitlement_id
          FROM calendar_event e
          LEFT JOIN clinic_entitlement_usage u ON u.id = e.clinic_usage_id
         WHERE e.name = %s
        """,
        [round_.visit_name],
    )
    visits = {row[0]: row[1:] for row in cr.fetchall()}
    booked = [b for desk in desks for b in desk.booked]
    arrived = sum(desk.arrived for desk in desks)
    refused = [r for desk in desks for r in desk.refused]
    errors = [e for desk in desks for e in desk.errors]
    problems = []
    if over_count:
        problems.append(f"over-count {over_count}: uses beyond a package's quantity")
    if drift:
        problems.append(f"{drift} package line(s) whose stored counters differ from the uses")
    lost = [
        event
        for package, event in booked
        if visits.get(event, (None,))[0] != package or visits[event][3] != package
    ]
    if lost or len(visits) != len(booked):
        problems.append(
            f"{len(booked)} bookings acknowledged, {len(visits)} visits in the database, "
            f"{len(lost)} without their package use"
        )
    consumed = sum(
        1
        for _pkg, attendance, state, _u in visits.values()
        if (attendance, state) == ("arrived", "consumed")
    )
    if consumed != arrived:
        problems.append(f"{arrived} arrivals acknowledged, {consumed} visits arrived and consumed")
    wrong = [message for package, message in refused if package not in full]
    if wrong:
        problems.append(f"{len(wrong)} refusal(s) on a package with uses left: {wrong[0][:200]}")
    if errors:
        problems.append(f"{len(errors)} error(s), first: {errors[0]}")
    scarce_ids = {package for package, _patient in round_.scarce}
    scarce_booked = sum(1 for package, _event in booked if package in scarce_ids)
    scarce_tried = scarce_booked + sum(1 for package, _m in refused if package in scarce_ids)
    figures = {
        "booked": len(booked),
        "arrived": arrived,
        "refused": len(refused),
        "refused_ok": len(refused) - len(wrong),
        "scarce_tried": scarce_tried,
        "scarce_booked": scarce_booked,
        "errors": len(errors),
        "over_count": over_count,
        "drift": drift,
    }
    return figures, problems


# ---------------------------------------------------------------------- replica
class ReplicaStats:
    """Counters of the standby (pg_stat_statements, pg_stat_database) and of the primary."""

    def __init__(self, env, replica):
        host, port = replica.rsplit(":", 1)
        self.env = env
        self.db = env.cr.dbname
        self.cnx = psycopg2.connect(
            host=host,
            port=int(port),
            dbname=self.db,
            user=config["db_user"],
            password=config["db_password"],
        )
        self.cnx.autocommit = True

    def replica(self):
        with self.cnx.cursor() as cr:
            cr.execute("SELECT pg_is_in_recovery()")
            if not cr.fetchone()[0]:
                raise SystemExit("BENCH_SCALE_REPLICA is not a standby (pg_is_in_recovery false)")
            cr.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
            if not cr.fetchone():
                raise SystemExit(
                    "pg_stat_statements is not in the database: bash bench/replica.sh demo DB "
                    "creates it (on the primary, as the superuser)"
                )
            cr.execute(
                """
                SELECT coalesce(sum(s.calls) FILTER (WHERE s.query LIKE '%%clinic_report_%%'), 0),
                       coalesce(sum(s.calls) FILTER (
                           WHERE left(ltrim(lower(s.query)), 6) IN ('insert', 'update', 'delete')
                       ), 0),
                       (SELECT xact_commit FROM pg_stat_database WHERE datname = %s)
                  FROM pg_stat_statements s
                  JOIN pg_database d ON d.oid = s.dbid
                 WHERE d.datname = %s
                """,
                [self.db, self.db],
            )
            reports, writes, commits = cr.fetchone()
            cr.execute("SELECT pg_last_wal_replay_lsn()")
            replayed = cr.fetchone()[0]
        return {"reports": int(reports), "writes": int(writes), "commits": commits, "lsn": replayed}

    def primary(self):
        cr = self.env.cr
        cr.rollback()
        cr.execute(
            "SELECT xact_commit, tup_inserted, tup_updated FROM pg_stat_database"
            " WHERE datname = %s",
            [self.db],
        )
        commits, inserted, updated = cr.fetchone()
        cr.execute("SELECT pg_current_wal_lsn()")
        lsn = cr.fetchone()[0]
        cr.rollback()
        return {"commits": commits, "inserted": inserted, "updated": updated, "lsn": lsn}

    def lag_bytes(self):
        """WAL the standby has not replayed yet (bytes)."""
        primary = self.primary()["lsn"]
        with self.cnx.cursor() as cr:
            cr.execute("SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn())", [primary])
            return max(0, int(cr.fetchone()[0]))


# ---------------------------------------------------------------------- rounds
def run_round(env, data, workers, replica=None):
    round_ = data.new_round(f"W{workers}{'R' if replica else ''} {time.time_ns()}")
    stats = ReplicaStats(env, replica) if replica else None
    with Server(data.db, workers, replica) as server:
        readers = REPORT_CLIENTS if replica else 0
        clock = Clock()
        barrier = threading.Barrier(CLIENTS + readers, action=clock.begin)
        desks = [
            DeskClient(i, server, round_, data.desks[i % DESKS].id, barrier, clock)
            for i in range(CLIENTS)
        ]
        reporters = [
            ReportClient(i, server, data.reporter.login, barrier, clock) for i in range(readers)
        ]
        before = (stats.replica(), stats.primary()) if stats else None
        for client in desks + reporters:
            client.start()
        for client in desks + reporters:
            client.join()
        elapsed = time.monotonic() - clock.start
        fallbacks = server.log_count("retrying with a read/write cursor")
        # two desks updating one package line: PostgreSQL refuses the second (repeatable
        # read), Odoo replays its request (logged as a bad query, then retried)
        retried = server.log_count("could not serialize access")
    figures, problems = check_round(env, round_, desks)
    figures.update(workers=workers, seconds=elapsed, retried=retried)
    if stats:
        time.sleep(1)  # the standby's statistics of the last requests
        after = (stats.replica(), stats.primary())
        calls = sum(r.calls for r in reporters)
        report_errors = [e for r in reporters for e in r.errors]
        figures["replica"] = {
            "report_calls": calls,
            "report_queries": after[0]["reports"] - before[0]["reports"],
            "replica_writes": after[0]["writes"] - before[0]["writes"],
            "replica_commits": after[0]["commits"] - before[0]["commits"],
            "lag": stats.lag_bytes(),
            "primary_commits": after[1]["commits"] - before[1]["commits"],
            "primary_inserted": after[1]["inserted"] - before[1]["inserted"],
            "fallbacks": fallbacks,
        }
        if report_errors:
            problems.append(f"{len(report_errors)} report error(s), first: {report_errors[0]}")
        if calls and figures["replica"]["report_queries"] < calls:
            problems.append(
                f"{calls} report requests, only {figures['replica']['report_queries']} report "
                "queries on the replica: they did not go there"
            )
        if fallbacks:
            problems.append(f"{fallbacks} read-only request(s) retried on the primary")
    if problems:
        problems.append(f"the server's log: {server.log}")
    else:
        os.unlink(server.log)
    return figures, problems


def run(env):
    if not WORKERS and not REPLICA:
        raise SystemExit("nothing to run: set BENCH_SCALE_WORKERS or BENCH_SCALE_REPLICA")
    data = ScaleData(env)
    data.build()
    load = os.getloadavg()
    print(
        f"scale-out benchmark on {data.db}: Odoo {odoo.release.version}, {os.cpu_count()} CPUs, "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    print(
        f"{CLIENTS} XML-RPC front desks (Clinic Users) for {SECONDS:g} s per round; each books "
        f"a visit of today and marks it arrived; every {SCARCE_EVERY}th booking aims at one of "
        f"{SCARCE} packages with {SCARCE_LEFT} use left"
    )
    header = (
        f"{'workers':>7} {'seconds':>7} {'bookings':>8} {'book/s':>7} {'arrive/s':>8} "
        f"{'last-use tries':>14} {'won':>4} {'refused':>7} {'correct':>7} {'retried':>7} "
        f"{'errors':>6} {'over-count':>10} {'drift':>5}"
    )
    rounds = [(w, None) for w in WORKERS] + ([(REPLICA_WORKERS, REPLICA)] if REPLICA else [])
    results, broken = [], []
    for workers, replica in rounds:
        figures, problems = run_round(env, data, workers, replica)
        results.append(figures)
        broken += [f"workers={workers}: {p}" for p in problems]
        print(f"  round with {workers} worker(s){' and the replica' if replica else ''} done")
    print("-" * len(header))
    print(header)
    print("-" * len(header))
    for f in results:
        label = f"{f['workers']}{'+R' if 'replica' in f else ''}"
        print(
            f"{label:>7} {f['seconds']:>7.1f} {f['booked']:>8} {f['booked'] / f['seconds']:>7.2f} "
            f"{f['arrived'] / f['seconds']:>8.2f} {f['scarce_tried']:>14} "
            f"{f['scarce_booked']:>4} {f['refused']:>7} {f['refused_ok']:>7} {f['retried']:>7} "
            f"{f['errors']:>6} {f['over_count']:>10} {f['drift']:>5}"
        )
    print("-" * len(header))
    base = results[0]["booked"] / results[0]["seconds"] if results[0]["booked"] else 0
    if base:
        ratios = ", ".join(
            f"{f['workers']}{'+R' if 'replica' in f else ''}: "
            f"{f['booked'] / f['seconds'] / base:.2f}x"
            for f in results
        )
        print(f"bookings/s relative to {results[0]['workers']} worker(s): {ratios}")
    for f in results:
        r = f.get("replica")
        if r:
            print(
                f"replica round ({f['workers']} workers, db_replica_host {REPLICA}, "
                f"{REPORT_CLIENTS} report readers): {r['report_calls']} report requests through "
                f"/web/dataset/call_kw; the replica ran {r['report_queries']} clinic report "
                f"queries (pg_stat_statements), {r['replica_writes']} writes, "
                f"{r['replica_commits']} transactions; WAL not yet replayed at the end: "
                f"{r['lag']} bytes"
            )
            print(
                f"primary meanwhile: {f['booked']} bookings and {f['arrived']} arrivals, "
                f"{r['primary_commits']} transactions committed, {r['primary_inserted']} rows "
                f"inserted; read-only requests retried on the primary: {r['fallbacks']}"
            )
    if broken:
        print("BROKEN:")
        for problem in broken:
            print(f"  {problem}")
        raise SystemExit(1)
    print(
        "All checks passed: over-count 0, counters match the uses, every acknowledged "
        "booking and arrival is in the database, every refusal was on a used-up package."
    )


if "env" in globals():  # executed by `odoo-bin shell` (bench/run.sh)
    run(globals()["env"])
else:
    raise SystemExit("Run this benchmark with: bash bench/run.sh scale")
