"""Shared base for the suite: real Odoo, real PostgreSQL, data built by each test class.

The tests live outside the addon, where Odoo's MetaCase does not tag them: the attributes
set on ClinicCase let pytest-odoo run them as Odoo test cases.
"""

import base64
import json
import os
import threading
import time
import xmlrpc.client
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api, fields, sql_db
from odoo.exceptions import UserError
from odoo.service.model import retrying
from odoo.tests import TransactionCase, freeze_time, new_test_user
from odoo.tests.common import ChromeBrowser, get_db_name
from odoo.tools import config


def attend(event, action="arrive", **kwargs):
    """Mark `event` (arrived, no-show, ...) on its own day at the earliest: the front desk
    cannot count a visit before its day. The clock moves to the visit's start when it is
    later than now, as a test would wait for it."""
    with freeze_time(max(event.start, fields.Datetime.now())):
        return getattr(event, f"action_clinic_{action}")(**kwargs)


class ClinicTestMixin:
    test_tags = {"standard", "at_install"}
    test_module = "clinic_packages"
    test_class = None
    test_sequence = 0

    @classmethod
    def _clinic_setup_data(cls):
        env = cls.env
        cls.company = env.company
        cls.currency = cls.company.currency_id
        cls.manager = new_test_user(
            env,
            login="clinic_manager",
            name="Clinic Manager",
            groups="clinic_packages.group_clinic_manager,sales_team.group_sale_manager,"
            "account.group_account_invoice",
        )
        cls.receptionist = new_test_user(
            env,
            login="clinic_receptionist",
            name="Front Desk",
            groups="clinic_packages.group_clinic_user,sales_team.group_sale_salesman",
        )
        cls.practitioner = new_test_user(
            env,
            login="clinic_practitioner",
            name="Dr. Practitioner",
            groups="clinic_packages.group_clinic_user",
            clinic_practitioner=True,
        )
        cls.location = env["clinic.location"].create({"name": "Main Street"})
        cls.location_2 = env["clinic.location"].create({"name": "Harbour"})
        Product = env["product.product"]
        cls.physio = Product.create(
            {
                "name": "Physio 45 min",
                "default_code": "97110",
                "type": "service",
                "list_price": 200.0,
                "taxes_id": [Command.clear()],
            }
        )
        cls.massage = Product.create(
            {
                "name": "Massage 60 min",
                "default_code": "97124",
                "type": "service",
                "list_price": 120.0,
                "taxes_id": [Command.clear()],
            }
        )
        cls.acupuncture = Product.create(
            {
                "name": "Acupuncture",
                "type": "service",
                "list_price": 90.0,
                "taxes_id": [Command.clear()],
            }
        )
        cls.package_physio8 = cls._clinic_package(
            "8 Physio Sessions", 1600.0, [(cls.physio, 8, 0.0)], clinic_validity_days=180
        )
        cls.package_rehab = cls._clinic_package(
            "Rehab Bundle",
            1500.0,
            [(cls.physio, 6, 0.0), (cls.massage, 4, 10.0)],
            clinic_validity_days=365,
        )
        cls.patient = env["res.partner"].create(
            {"name": "Maria Lopez", "email": "maria@example.com"}
        )
        cls.patient_2 = env["res.partner"].create({"name": "James Carter"})

    @classmethod
    def _clinic_other_company(cls, login, groups="clinic_packages.group_clinic_user"):
        """A second company, "Clinic B", and a user of that company alone."""
        company = cls.env["res.company"].create({"name": "Clinic B"})
        user = new_test_user(
            cls.env,
            login=login,
            groups=groups,
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )
        return company, user

    @classmethod
    def _clinic_package(cls, name, price, lines, **values):
        return cls.env["product.product"].create(
            {
                "name": name,
                "type": "service",
                "list_price": price,
                "taxes_id": [Command.clear()],
                "clinic_package_ok": True,
                "clinic_package_line_ids": [
                    Command.create(
                        {"service_product_id": service.id, "quantity": qty, "patient_pays": pays}
                    )
                    for service, qty, pays in lines
                ],
                **values,
            }
        )

    def _clinic_book(self, start, service=None, patient=None, user=None, **values):
        """An appointment of 45 minutes at `start` (a datetime, UTC)."""
        vals = {
            "name": "Visit",
            "start": start,
            "stop": start + timedelta(minutes=45),
            "clinic_patient_id": (patient or self.patient).id,
            "clinic_service_id": (service or self.physio).id,
            "user_id": (user or self.practitioner).id,
            "partner_ids": [Command.clear()],
            **values,
        }
        return self.env["calendar.event"].create(vals)

    def _clinic_sell(self, product, partner=None, qty=1, confirm=True, user=None):
        """A sale order for `qty` of `product`, confirmed unless told otherwise."""
        env = self.env(user=user) if user else self.env
        order = env["sale.order"].create(
            {
                "partner_id": (partner or self.patient).id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": qty})],
            }
        )
        if confirm:
            order.action_confirm()
        return order

    def _clinic_manual_unearned_entry(self, amount, day, user=None):
        """A manual journal entry of `user` (or the test's user) on `day`: Cr the company's
        unearned revenue account `amount` / Dr an income account, posted. Its unearned item
        belongs to no package."""
        env = self.env(user=user) if user else self.env
        income = env["account.account"].search(
            [("company_ids", "in", self.company.ids), ("account_type", "=", "income")], limit=1
        )
        deferred = self.company.clinic_deferred_account_id
        entry = env["account.move"].create(
            {
                "move_type": "entry",
                "date": day,
                "line_ids": [
                    Command.create({"account_id": deferred.id, "debit": 0.0, "credit": amount}),
                    Command.create({"account_id": income.id, "debit": amount, "credit": 0.0}),
                ],
            }
        )
        entry.action_post()
        return entry


REPO_DIR = Path(__file__).resolve().parent.parent
# a tour logs this followed by a screenshot's name when its screen is ready
SCREENSHOT_SIGNAL = "clinic-screenshot "


# XML-RPC fault codes of Odoo's errors: UserError (and its kin), AccessError
RPC_WARNING, RPC_ACCESS_ERROR = 2, 4


class ClinicRpcMixin:
    """Calls through the real HTTP server's XML-RPC endpoint, as an outside client would
    (an HttpCase). `refused` needs the test's `snapshot()`: what the call must not change."""

    def rpc(self, user, model, method, *args, **kwargs):
        """One XML-RPC call as `user` (password = login, as new_test_user sets it)."""
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, user.id, user.login, model, method, list(args), kwargs
        )

    def refused(self, user, model, method, *args, code=RPC_ACCESS_ERROR, match=None, **kwargs):
        """The call is refused with an Odoo error (not a traceback) of `code`, its message
        containing `match`; nothing it tried is left in the database."""
        before = self.snapshot()
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc(user, model, method, *args, **kwargs)
        fault = caught.exception
        self.assertEqual(
            fault.faultCode, code, f"{model}.{method} as {user.login}: {fault.faultString}"
        )
        self.assertNotIn("Traceback", fault.faultString)
        if match:
            self.assertIn(match, fault.faultString)
        self.env.invalidate_all()
        self.assertEqual(self.snapshot(), before, f"{model}.{method} as {user.login} changed")
        return fault.faultString


class ClinicScreensMixin:
    """Screenshots taken by browser tours, for the README (`CLINIC_SCREENSHOTS_DIR`, relative
    to the repository) or under Odoo's screenshots folder."""

    def _screenshots_dir(self):
        wanted = os.environ.get("CLINIC_SCREENSHOTS_DIR")
        if wanted:
            return REPO_DIR / wanted
        return Path(config["screenshots"]) / get_db_name() / "clinic_screens"

    def _take_screens(self, tours):
        """Run `tours` ((url, tour name, login)); each logs the name of a screenshot when its
        screen is ready, and waits until the screenshot is saved."""
        folder = self._screenshots_dir()
        folder.mkdir(parents=True, exist_ok=True)
        taken = {}
        handle_console = ChromeBrowser._handle_console

        def save(browser, name, future):
            data = base64.b64decode(future.result()["data"])
            (folder / f"{name}.png").write_bytes(data)
            taken[name] = data
            browser._websocket_send(
                "Runtime.evaluate",
                params={
                    "expression": f"document.body.dataset.clinicScreenshot = {json.dumps(name)}"
                },
            )

        def console(browser, type, args=None, stackTrace=None, **kw):
            message = str(browser._from_remoteobject(args[0])) if args else ""
            if type == "log" and message.startswith(SCREENSHOT_SIGNAL):
                name = message[len(SCREENSHOT_SIGNAL) :]
                self.assertRegex(name, r"^[a-z_]+$")
                future = browser._websocket_send(
                    "Page.captureScreenshot", params={"format": "png"}, with_future=True
                )
                future.add_done_callback(lambda f: save(browser, name, f))
            return handle_console(browser, type, args=args, stackTrace=stackTrace, **kw)

        with patch.object(ChromeBrowser, "_handle_console", console):
            for url, tour, login in tours:
                self.start_tour(url, tour, login=login)
        return taken


class ClinicCase(ClinicTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clinic_setup_data()


class ClinicConcurrencyCase(ClinicTestMixin, TransactionCase):
    """Two front desks book at the same moment, each in its own database transaction, as two
    Odoo requests would. The data they race on is committed by the test and removed after."""

    def _committed(self, func):
        """Run func(env) in a transaction of its own, committed."""
        with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
            result = func(api.Environment(cr, SUPERUSER_ID, {"tz": "UTC"}))
            cr.commit()
            return result

    def _committed_practitioner(self):
        """A practitioner both desks can see (committed), archived after the test."""

        def create(env):
            login = f"race_practitioner_{threading.get_ident()}_{time.monotonic_ns()}"
            return new_test_user(env, login=login, clinic_practitioner=True).id

        user_id = self._committed(create)
        self.addCleanup(
            self._committed, lambda env: env["res.users"].browse(user_id).action_archive()
        )
        return user_id

    def _two_desks_book(self, values):
        """Desk 1 books `values` and keeps its transaction open for a second; desk 2 books
        the same meanwhile. Returns {desk: (booked|refused|crashed, event id or message)}."""
        if "user_id" not in values:
            values = dict(values, user_id=self._committed_practitioner())
        first_holds_lock = threading.Event()
        outcome = {}

        def book(name, hold):
            with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {"tz": "UTC"})

                def create():
                    event = env["calendar.event"].create(
                        dict(values, name=name, partner_ids=[Command.clear()])
                    )
                    env.flush_all()
                    if hold:  # keep the row lock while the other desk tries
                        first_holds_lock.set()
                        time.sleep(1.0)
                    return event.id

                if not hold:
                    first_holds_lock.wait(10)
                try:
                    outcome[name] = ("booked", retrying(create, env))
                except UserError as error:
                    cr.rollback()  # as a request does
                    outcome[name] = ("refused", error.args[0])
                except Exception as error:  # noqa: BLE001 - reported by the caller's assertions
                    outcome[name] = ("crashed", repr(error))

        desks = [
            threading.Thread(target=book, args=("desk 1", True)),
            threading.Thread(target=book, args=("desk 2", False)),
        ]
        for desk in desks:
            desk.start()
        for desk in desks:
            desk.join(60)
        return outcome
