"""Importing patients' live packages: one row per service of a package, the rows sharing a
`reference` forming one package (README, "Switching from another system").

Each package becomes a `clinic.entitlement` as if sold here (no sale order), `imported`, its
services' uses consumed before the import in `used_before`. One opening entry per import,
Dr clearing account / Cr unearned revenue, brings the value not yet delivered: an item per
patient on each side, the patient's unearned item itemised per package by
`clinic.entitlement.opening` shares (posting splits the item by them into the packages'
unearned revenue movements, which the package's money and the unearned revenue report
read). Thousands of rows: everything is created in batches, with one query per file
for each lookup (bench/bench_import.py).
"""

from collections import defaultdict

from odoo import fields, models
from odoo.tools import SQL

from ..models.clinic_entitlement import CLOSED_STATES
from .clinic_import_reader import parse_amount, parse_date, parse_integer, parse_text


class ClinicImport(models.TransientModel):
    # one kind of import per file, on purpose (as clinic_entitlement_accounting.py)
    _inherit = "clinic.import"  # pylint: disable=consider-merging-classes-inherited

    # -------------------------------------------------------------------------
    # CHECK
    # -------------------------------------------------------------------------

    def _clinic_check_packages(self, rows, errors):
        """{packages: [plan per package], summary}: each package's rows checked and grouped,
        matched with the package imported before with its reference (if any)."""
        env = self.env
        today = fields.Date.context_today(self)
        find_patient = self._clinic_patient_finder(rows)
        find_package = self._clinic_product_finder(
            [("clinic_package_ok", "=", True)], env._("package")
        )
        find_service = self._clinic_product_finder(
            [("type", "=", "service"), ("clinic_package_ok", "=", False)], env._("service")
        )
        parsers = {
            "patient": find_patient,
            "package": lambda row: find_package(parse_text(row.get("package"))),
            "service": lambda row: find_service(parse_text(row.get("service"))),
            "quantity": lambda row: parse_integer(env, row.get("quantity")),
            "used": lambda row: parse_integer(env, row.get("used"), 0),
            "unearned": lambda row: parse_amount(env, row.get("unearned"), 0.0),
            "start": lambda row: parse_date(env, row.get("start")),
            "expiry": lambda row: parse_date(env, row.get("expiry")),
        }
        packages = {}
        for line, row in rows:
            reference = self._clinic_reference(row)
            values, problems = self._clinic_parse_row(row, parsers)
            if not reference:
                problems.append(env._("the reference is missing"))
            quantity, used = values["quantity"], values["used"]
            if quantity is not None and quantity <= 0:
                problems.append(env._("quantity must be at least 1 (got %s)", quantity))
            if used is not None and used < 0:
                problems.append(env._("used cannot be negative (got %s)", used))
            elif quantity is not None and used is not None and used > quantity:
                problems.append(
                    env._(
                        "used (%(used)s) is more than quantity (%(qty)s)", used=used, qty=quantity
                    )
                )
            if values["unearned"] is not None and values["unearned"] < 0:
                problems.append(env._("unearned cannot be negative (got %s)", values["unearned"]))
            start, expiry = values["start"], values["expiry"]
            if expiry and start and expiry < start:
                problems.append(
                    env._("expiry %(expiry)s is before start %(start)s", expiry=expiry, start=start)
                )
            elif expiry and expiry < today:
                problems.append(
                    env._(
                        "the package already expired on %s: leave finished packages out of the "
                        "file, or give their new expiry date",
                        expiry,
                    )
                )
            package = packages.get(reference)
            if package and not problems:
                problems.extend(self._clinic_check_package_row(package, values))
            if problems:
                errors.add(line, reference, "; ".join(dict.fromkeys(problems)))
                continue
            if package is None:
                package = packages[reference] = {
                    "reference": reference,
                    "line": line,
                    "partner": values["patient"],
                    "product": values["package"],
                    "start": start,
                    "expiry": expiry,
                    "services": {},
                    "unearned": 0.0,
                }
            package["services"][values["service"]] = (quantity, used)
            package["unearned"] += values["unearned"]
        self._clinic_match_packages(packages, errors)
        if not errors and any(p["delta"] for p in packages.values()):
            self._clinic_check_clearing_account(
                errors, env._("the packages hold value not yet delivered")
            )
        new = [p for p in packages.values() if not p["entitlement"]]
        updated = [p for p in packages.values() if p["entitlement"] and p["changed"]]
        value = self.company_id.currency_id.round(sum(p["delta"] for p in packages.values()))
        summary = env._(
            "%(new)s new package(s), %(updated)s updated, %(same)s unchanged, from %(rows)s "
            "row(s); opening entry: %(value)s %(currency)s of unearned revenue.",
            new=len(new),
            updated=len(updated),
            same=len(packages) - len(new) - len(updated),
            rows=len(rows),
            value=value,
            currency=self.company_id.currency_id.name,
        )
        return {"packages": list(packages.values()), "summary": summary}

    def _clinic_check_package_row(self, package, values):
        """Problems of a further row of `package`: it must describe the same package."""
        env = self.env
        problems = []
        for key, plan_key, label in (
            ("patient", "partner", env._("patient")),
            ("package", "product", env._("package")),
            ("start", "start", env._("start")),
            ("expiry", "expiry", env._("expiry")),
        ):
            if values[key] != package[plan_key]:
                problems.append(
                    env._(
                        "%(what)s differs from line %(line)s, the first row of this package",
                        what=label,
                        line=package["line"],
                    )
                )
        if values["service"] in package["services"]:
            problems.append(
                env._(
                    "%(service)s is already listed for this package (line %(line)s and "
                    "following): one row per service",
                    service=values["service"].display_name,
                    line=package["line"],
                )
            )
        return problems

    def _clinic_match_packages(self, packages, errors):
        """Set on each package plan the package imported before with its reference (or
        none), whether the import changes it and `delta`, what its opening value changes by;
        a package the file cannot update is a bad row."""
        env = self.env
        currency = self.company_id.currency_id
        found = env["clinic.entitlement"].search(
            [("company_id", "=", self.company_id.id), ("import_reference", "in", list(packages))]
        )
        existing = {entitlement.import_reference: entitlement for entitlement in found}
        # what the ledger holds for them, in a few queries whatever their number
        money = found._clinic_deferred_money()
        for reference, package in packages.items():
            entitlement = existing.get(reference, env["clinic.entitlement"])
            package["entitlement"] = entitlement
            prepaid = package["product"].clinic_billing_mode == "prepaid_credit"
            uses_left = sum(qty - used for qty, used in package["services"].values())
            problems = []
            if prepaid and not currency.is_zero(package["unearned"]):
                problems.append(
                    env._(
                        "%(package)s is paid from prepaid credit: leave unearned empty and "
                        "import the patient's balance as a credit with package_reference "
                        "%(reference)s",
                        package=package["product"].display_name,
                        reference=reference,
                    )
                )
            if not uses_left and not currency.is_zero(package["unearned"]):
                problems.append(
                    env._(
                        "no use is left but %(value)s is unearned: a used-up package holds nothing",
                        value=package["unearned"],
                    )
                )
            package["delta"] = 0.0 if prepaid else currency.round(package["unearned"])
            package["changed"] = True
            if entitlement:
                problems.extend(
                    self._clinic_check_package_update(package, entitlement, money[entitlement.id])
                )
            if problems:
                errors.add(package["line"], reference, "; ".join(problems))

    def _clinic_check_package_update(self, package, entitlement, money):
        """Problems of updating `entitlement` with `package` (`money`: what the ledger holds
        for it, from `_clinic_deferred_money`); sets the plan's delta and changed."""
        env = self.env
        currency = self.company_id.currency_id
        problems = []
        if entitlement.state in CLOSED_STATES + ("expired",):
            return [
                env._(
                    "package %(name)s imported with this reference is %(state)s: an import no "
                    "longer changes it (leave it out of the file)",
                    name=entitlement.name,
                    state=entitlement._clinic_state_label(),
                )
            ]
        if entitlement.partner_id != package["partner"]:
            problems.append(
                env._(
                    "package %(name)s imported with this reference belongs to %(owner)s: an "
                    "import does not move a package to another patient",
                    name=entitlement.name,
                    owner=entitlement.partner_id.display_name,
                )
            )
        if entitlement.product_id != package["product"]:
            problems.append(
                env._(
                    "package %(name)s imported with this reference is a %(product)s",
                    name=entitlement.name,
                    product=entitlement.product_id.display_name,
                )
            )
        changed = (entitlement.date_start, entitlement.date_expiry) != (
            package["start"] or entitlement.date_start,
            package["expiry"] or False,
        )
        for service, (quantity, used) in package["services"].items():
            line = entitlement._clinic_line_for(service)
            here = line.used - line.used_before + line.reserved if line else 0
            if used + here > quantity:
                problems.append(
                    env._(
                        "%(service)s: %(qty)s uses cannot hold %(used)s used before and "
                        "%(here)s used or booked here since the import",
                        service=service.display_name,
                        qty=quantity,
                        used=used,
                        here=here,
                    )
                )
            changed = changed or not line or (line.quantity, line.used_before) != (quantity, used)
        if entitlement.billing_mode == "package_invoice":
            package["delta"] = currency.round(package["unearned"] - money["billed"])
            if currency.compare_amounts(money["unearned"] + package["delta"], 0.0) < 0:
                problems.append(
                    env._(
                        "unearned %(value)s is less than what package %(name)s already "
                        "recognised since the import (%(done)s)",
                        value=package["unearned"],
                        name=entitlement.name,
                        done=currency.round(money["billed"] - money["unearned"]),
                    )
                )
        package["changed"] = changed or not currency.is_zero(package["delta"])
        return problems

    # -------------------------------------------------------------------------
    # APPLY
    # -------------------------------------------------------------------------

    def _clinic_apply_packages(self, plan):
        env = self.env
        today = fields.Date.context_today(self)
        Entitlement = env["clinic.entitlement"].with_context(
            tracking_disable=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            mail_notrack=True,
        )
        packages = plan["packages"]
        for package in packages:
            if package["entitlement"] and package["changed"]:
                self._clinic_update_imported_package(package)
        new = [package for package in packages if not package["entitlement"]]
        if new:
            self._clinic_create_imported_packages(Entitlement, new, today)
        move = self._clinic_post_opening_entry(packages)
        lines = [plan["summary"]]
        if move:
            lines.append(self.env._("Opening entry: %s.", move.name))
        return "\n".join(lines)

    def _clinic_create_imported_packages(self, Entitlement, new, today):
        """Create the packages `new` (plans) in one batch: their names drawn from the
        package sequence at once, their money written afterwards in one UPDATE per
        distinct amount (a monetary value given to `create` costs a currency look-up per
        record: thousands for an import)."""
        names = self._clinic_package_names(len(new))
        terms = {}
        vals_list = []
        for package, name in zip(new, names, strict=True):
            product = package["product"]
            if product not in terms:
                terms[product] = self._clinic_imported_terms(product)
            vals = self._prepare_imported_package_vals(package, today, terms[product])
            if name:
                vals["name"] = name
            vals_list.append(vals)
        created = Entitlement.create(vals_list)
        by_price = defaultdict(list)
        by_pays = defaultdict(list)
        for package, entitlement in zip(new, created, strict=True):
            package["entitlement"] = entitlement
            by_price[self._clinic_imported_price(package)].append(entitlement.id)
            pays = terms[package["product"]][1]
            for line in entitlement.line_ids:
                by_pays[pays.get(line.service_product_id, 0.0)].append(line.id)
        for price, ids in by_price.items():
            Entitlement.browse(ids).write({"amount_untaxed": price, "amount_total": price})
        for pays, ids in by_pays.items():
            created.line_ids.browse(ids).write({"patient_pays": pays})
        created._clinic_refresh_state()

    def _clinic_package_names(self, count):
        """`count` names from the package sequence (the one `create` would use), in one
        query for a standard sequence without date ranges instead of one per package; None
        each without a sequence (`create` names them)."""
        sequence = (
            self.env["ir.sequence"]
            .sudo()
            .search(
                [
                    ("code", "=", "clinic.entitlement"),
                    ("company_id", "in", [self.company_id.id, False]),
                ],
                order="company_id",
                limit=1,
            )
        )
        if not sequence:
            return [None] * count
        if sequence.implementation != "standard" or sequence.use_date_range:
            return [sequence.next_by_id() for __ in range(count)]
        # the PostgreSQL sequence of a standard ir.sequence is ir_sequence_<id, 3 digits>
        self.env.cr.execute(
            SQL(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                f"ir_sequence_{sequence.id:03d}",
                count,
            )
        )
        return [
            sequence.get_next_char(number)
            for number in sorted(r[0] for r in self.env.cr.fetchall())
        ]

    def _clinic_imported_terms(self, product):
        """(values every package of `product` copies, {service: patient pays per use})."""
        vals = self.env["clinic.entitlement"]._prepare_from_product(product)
        vals.pop("line_ids")
        for key in ("practitioner_ids", "location_ids"):
            if not vals[key][0][2]:
                del vals[key]  # none: nothing to link, per package
        pays = {
            line.service_product_id: line.patient_pays
            for line in product.product_tmpl_id.clinic_package_line_ids
        }
        return vals, pays

    def _clinic_imported_price(self, package):
        """The package's price, which the other system sold: its value not yet delivered
        at the same value per use for every use bought."""
        total = sum(qty for qty, __ in package["services"].values())
        left = sum(qty - used for qty, used in package["services"].values())
        value = package["unearned"]
        return self.company_id.currency_id.round(value * total / left) if left else 0.0

    def _prepare_imported_package_vals(self, package, today, terms):
        """Values of the package `package` of the file: as if sold here (`terms`: what it
        copies from its product), its services and uses (with those used before) from the
        file; its price and what the patient pays per use are written after the create."""
        vals = dict(terms[0])
        vals.update(
            {
                "partner_id": package["partner"].id,
                "company_id": self.company_id.id,
                "state": "active",
                "date_start": package["start"] or today,
                "date_expiry": package["expiry"] or False,
                "imported": True,
                "import_reference": package["reference"],
                "line_ids": [
                    fields.Command.create(
                        {
                            "service_product_id": service.id,
                            "quantity": quantity,
                            "used_before": used,
                            "sequence": sequence,
                        }
                    )
                    for sequence, (service, (quantity, used)) in enumerate(
                        package["services"].items(), start=1
                    )
                ],
            }
        )
        return vals

    def _clinic_update_imported_package(self, package):
        """Bring a package imported before in line with the file: its dates, its services'
        uses bought and used before (services not in the file stay as they are)."""
        entitlement = package["entitlement"]
        commands = []
        for service, (quantity, used) in package["services"].items():
            line = entitlement._clinic_line_for(service)
            if line:
                commands.append(
                    fields.Command.update(line.id, {"quantity": quantity, "used_before": used})
                )
            else:
                commands.append(
                    fields.Command.create(
                        {
                            "service_product_id": service.id,
                            "quantity": quantity,
                            "used_before": used,
                        }
                    )
                )
        vals = {"date_expiry": package["expiry"] or False, "line_ids": commands}
        if package["start"]:
            vals["date_start"] = package["start"]
        if entitlement.billing_mode == "package_invoice":
            price = self._clinic_imported_price(package)
            vals.update(amount_untaxed=price, amount_total=price)
        entitlement.write(vals)
        entitlement._clinic_refresh_state()

    def _clinic_post_opening_entry(self, packages):
        """One entry for the import, one item per patient on each side: Cr unearned revenue,
        Dr the clearing account, for what the import changes in the value not yet delivered
        of the patient's packages (a re-import that lowers it reverses the sides). Each
        package's part of its patient's unearned item is a `clinic.entitlement.opening`
        record, written before the entry is posted so that posting reads it."""
        moving = [p for p in packages if p["delta"]]
        if not moving:
            return self.env["account.move"]
        company = self.company_id
        currency = company.currency_id
        deferred = company._clinic_accounting()[0]
        per_patient = defaultdict(list)
        for package in moving:
            per_patient[package["partner"]].append(package)
        lines = []
        for partner, own in per_patient.items():
            amount = currency.round(sum(package["delta"] for package in own))
            # the patient's unearned item carries the shares, even when they cancel out
            lines.append((deferred, -amount, partner))
            if not currency.is_zero(amount):
                lines.append((self.clearing_account_id, amount, partner))
        ref = self.env._(
            "Opening balance: %(count)s imported package(s) (%(file)s)",
            count=len(moving),
            file=self.filename or self.env._("import"),
        )
        vals = (
            self.env["clinic.entitlement"]
            .browse()
            ._prepare_clinic_entry_vals(
                "opening", lines, ref, date=fields.Date.context_today(self), company=company
            )
        )
        for command in vals["line_ids"]:
            line_vals = command[2]
            # the items' values given, not computed one by one: in the company's currency,
            # no taxes, no analytic distribution (balance sheet)
            balance = line_vals.pop("debit") - line_vals.pop("credit")
            line_vals.update(
                balance=balance,
                amount_currency=balance,
                currency_id=currency.id,
                tax_ids=[fields.Command.clear()],
                analytic_distribution=False,
                display_type="product",
            )
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            # a balanced entry without taxes, its items given in full: no dynamic lines
            # (taxes, terms, rounding) to synchronise, no analytic lines yet
            .with_context(skip_invoice_sync=True, skip_analytic_sync=True)
            .create(vals)
        )
        unearned = {line.partner_id: line for line in move.line_ids if line.account_id == deferred}
        Opening = self.env["clinic.entitlement.opening"].sudo()
        Opening.create(
            [
                vals
                for partner, own in per_patient.items()
                for vals in Opening._prepare_clinic_share_vals(
                    unearned[partner], {package["entitlement"]: package["delta"] for package in own}
                )
            ]
        )
        move.with_context(skip_invoice_sync=False, skip_analytic_sync=False).action_post()
        return move
