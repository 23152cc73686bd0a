"""Importing insurance authorizations with the sessions or units already kept.

The visits kept in the other system count as kept (`used_before`). TheraNest's conversion
rules complete what is missing: start = the import date, end = 12 months after it, services =
all (an empty list here); an authorization they complete is flagged `converted`.
"""

from dateutil.relativedelta import relativedelta

from odoo import fields, models

from ..models.clinic_authorization import AUTH_TYPE_SELECTION, FREQUENCY_SELECTION
from .clinic_import_reader import CellError, parse_bool, parse_date, parse_integer, parse_text

# months an authorization without an end date lasts from the import (TheraNest)
CONVERTED_MONTHS = 12


class ClinicImport(models.TransientModel):
    # one kind of import per file, on purpose (as clinic_entitlement_accounting.py)
    _inherit = "clinic.import"  # pylint: disable=consider-merging-classes-inherited

    # -------------------------------------------------------------------------
    # CHECK
    # -------------------------------------------------------------------------

    def _clinic_check_authorizations(self, rows, errors):
        env = self.env
        find_patient = self._clinic_patient_finder(rows)
        find_service = self._clinic_product_finder(
            [("type", "=", "service"), ("clinic_package_ok", "=", False)], env._("service")
        )
        payer_names = {parse_text(row.get("payer")) for __, row in rows} - {""}
        payers = (
            env["res.partner"]
            .search([("name", "in", list(payer_names))] + self._clinic_company_domain())
            .grouped("name")
        )

        def find_payer(row):
            name = parse_text(row.get("payer"))
            if not name:
                return env["res.partner"]
            found = payers.get(name, env["res.partner"])
            if len(found) != 1:
                raise CellError(
                    env._(
                        "%(count)s contacts are called %(name)r: the payer must match one "
                        "contact by its exact name (create the insurer in Contacts first)",
                        count=len(found) or env._("no"),
                        name=name,
                    )
                )
            return found

        def find_services(row):
            names = [part.strip() for part in parse_text(row.get("services")).split(";")]
            services = env["product.product"]
            for name in filter(None, names):
                services |= find_service(name)
            return services

        parsers = {
            "patient": find_patient,
            "payer": find_payer,
            "number": lambda row: parse_text(row.get("number")),
            "type": lambda row: self._clinic_choice(row, "type", AUTH_TYPE_SELECTION, "sessions"),
            "start": lambda row: parse_date(env, row.get("start")),
            "end": lambda row: parse_date(env, row.get("end")),
            "services": find_services,
            "allowed": lambda row: parse_integer(env, row.get("allowed"), 0),
            "used": lambda row: parse_integer(env, row.get("used"), 0),
            "frequency": lambda row: self._clinic_choice(
                row, "frequency", FREQUENCY_SELECTION, "period"
            ),
            "limit": lambda row: parse_integer(env, row.get("limit"), 0),
            "pending": lambda row: parse_bool(env, row.get("pending")),
        }
        found = env["clinic.authorization"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("import_reference", "in", [self._clinic_reference(r) for __, r in rows]),
            ]
        )
        existing = {authorization.import_reference: authorization for authorization in found}
        plans, seen = [], {}
        for line, row in rows:
            reference, values, problems = self._clinic_parse_record_row(line, row, parsers, seen)
            plan = (
                None
                if problems
                else self._clinic_plan_authorization(
                    reference, values, existing.get(reference), problems
                )
            )
            if problems:
                errors.add(line, reference, "; ".join(problems))
                continue
            plans.append(plan)
        new = sum(1 for plan in plans if not plan["authorization"])
        converted = sum(1 for plan in plans if plan["vals"].get("converted"))
        summary = env._(
            "%(new)s new authorization(s), %(updated)s updated, from %(rows)s row(s); "
            "%(converted)s completed by the conversion rules (flagged Converted: review their "
            "dates and services).",
            new=new,
            updated=len(plans) - new,
            rows=len(rows),
            converted=converted,
        )
        return {"authorizations": plans, "summary": summary}

    def _clinic_choice(self, row, column, selection, default):
        """The key of `selection` a cell names, by key or label, case-insensitive."""
        text = parse_text(row.get(column)).lower()
        if not text:
            return default
        for key, label in selection:
            if text in (key, label.lower(), key.rstrip("s")):
                return key
        raise CellError(
            self.env._(
                "%(text)r is not one of %(choices)s",
                text=text,
                choices=", ".join(key for key, __ in selection),
            )
        )

    def _clinic_plan_authorization(self, reference, values, authorization, problems):
        """{authorization, vals} for one row; TheraNest's rules fill in what is missing (for
        an authorization imported before, its values stay instead)."""
        env = self.env
        today = fields.Date.context_today(self)
        converted = False
        start, end, services = values["start"], values["end"], values["services"]
        if not start:
            start = authorization.date_start if authorization else today
            converted = True
        if not end:
            end = (
                authorization.date_end
                if authorization
                else today + relativedelta(months=CONVERTED_MONTHS)
            )
            converted = True
        if not services:
            services = authorization.service_product_ids if authorization else services
            converted = True
        if not values["number"]:
            problems.append(env._("the authorization number is missing"))
        if end and start and end < start:
            problems.append(env._("end %(end)s is before start %(start)s", end=end, start=start))
        allowed, used, limit = values["allowed"], values["used"], values["limit"]
        for label, number in (("allowed", allowed), ("used", used), ("limit", limit)):
            if number < 0:
                problems.append(
                    env._("%(column)s cannot be negative (got %(n)s)", column=label, n=number)
                )
        if allowed and used > allowed:
            problems.append(
                env._(
                    "used (%(used)s) is more than allowed (%(allowed)s)", used=used, allowed=allowed
                )
            )
        if values["frequency"] != "period" and limit <= 0:
            problems.append(
                env._(
                    "a %s frequency needs a limit (sessions or units per period)",
                    values["frequency"],
                )
            )
        if (
            authorization
            and authorization.partner_id != values["patient"]
            and (authorization.event_ids)
        ):
            problems.append(
                env._(
                    "authorization %(name)s imported with this reference already counts visits "
                    "of %(patient)s: an import does not move it to another patient",
                    name=authorization.name,
                    patient=authorization.partner_id.display_name,
                )
            )
        vals = {
            "name": values["number"],
            "partner_id": values["patient"].id,
            "payer_id": values["payer"].id,
            "company_id": self.company_id.id,
            "auth_type": values["type"],
            "date_start": start,
            "date_end": end,
            "service_product_ids": [fields.Command.set(services.ids)],
            "allowed": allowed,
            "used_before": used,
            "frequency": values["frequency"],
            "frequency_limit": limit if values["frequency"] != "period" else 0,
            "pending": values["pending"],
            "imported": True,
            "import_reference": reference,
            "converted": converted or (authorization.converted if authorization else False),
        }
        return {"authorization": authorization, "vals": vals}

    # -------------------------------------------------------------------------
    # APPLY
    # -------------------------------------------------------------------------

    def _clinic_apply_authorizations(self, plan):
        Authorization = self.env["clinic.authorization"].with_context(
            tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True
        )
        plans = plan["authorizations"]
        Authorization.create([p["vals"] for p in plans if not p["authorization"]])
        for p in plans:
            if p["authorization"]:
                p["authorization"].with_context(tracking_disable=True).write(p["vals"])
        return plan["summary"]
