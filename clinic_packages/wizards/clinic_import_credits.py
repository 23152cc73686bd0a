"""Importing patients' prepaid balances: each becomes a posted customer payment, Dr the
clearing account / Cr the patient's receivable, so that it is the patient's outstanding
credit in Odoo's own accounting; tagged with its package when `package_reference` names a
package imported before (a package paid from prepaid credit: the credit pays its visits).
"""

from odoo import fields, models

from .clinic_import_reader import CellError, parse_amount, parse_date, parse_text


class ClinicImport(models.TransientModel):
    # one kind of import per file, on purpose (as clinic_entitlement_accounting.py)
    _inherit = "clinic.import"  # pylint: disable=consider-merging-classes-inherited

    # -------------------------------------------------------------------------
    # CHECK
    # -------------------------------------------------------------------------

    def _clinic_check_credits(self, rows, errors):
        env = self.env
        company = self.company_id
        currency = company.currency_id
        today = fields.Date.context_today(self)
        find_patient = self._clinic_patient_finder(rows)
        package_refs = {parse_text(row.get("package_reference")) for __, row in rows} - {""}
        packages = {
            entitlement.import_reference: entitlement
            for entitlement in env["clinic.entitlement"].search(
                [("company_id", "=", company.id), ("import_reference", "in", list(package_refs))]
            )
        }
        references = [self._clinic_reference(row) for __, row in rows]
        existing = {
            payment.clinic_import_reference: payment
            for payment in env["account.payment"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("clinic_import_reference", "in", references),
                    ("state", "!=", "canceled"),
                ]
            )
        }

        def find_package(row):
            reference = parse_text(row.get("package_reference"))
            if not reference:
                return env["clinic.entitlement"]
            package = packages.get(reference)
            if not package:
                raise CellError(
                    env._(
                        "no package was imported with reference %r: import the packages first",
                        reference,
                    )
                )
            return package

        parsers = {
            "patient": find_patient,
            "amount": lambda row: parse_amount(env, row.get("amount")),
            "date": lambda row: parse_date(env, row.get("date")) or today,
            "package_reference": find_package,
        }
        plans, seen = [], {}
        for line, row in rows:
            reference, values, problems = self._clinic_parse_record_row(line, row, parsers, seen)
            amount, package, patient = (
                values["amount"],
                values["package_reference"],
                values["patient"],
            )
            if amount is not None and currency.compare_amounts(amount, 0.0) <= 0:
                problems.append(env._("the amount must be more than 0 (got %s)", amount))
            if package and patient and package.partner_id != patient:
                problems.append(
                    env._(
                        "package %(name)s belongs to %(owner)s, not to this patient",
                        name=package.name,
                        owner=package.partner_id.display_name,
                    )
                )
            if package and package.billing_mode != "prepaid_credit":
                problems.append(
                    env._(
                        "package %(name)s is invoiced at sale: its value not yet delivered came "
                        "with the package import (its unearned column); a credit is tagged only "
                        "with a package paid from prepaid credit",
                        name=package.name,
                    )
                )
            payment = existing.get(reference)
            if payment and not problems:
                problems.extend(self._clinic_check_credit_update(payment, values))
            if problems:
                errors.add(line, reference, "; ".join(problems))
                continue
            plans.append({"reference": reference, "payment": payment, **values})
        if plans:
            self._clinic_check_clearing_account(errors, env._("the credits are paid into it"))
        if not self._clinic_credit_journal():
            errors.add(
                1, "", env._("%s has no bank or cash journal to record payments in", company.name)
            )
        new = [plan for plan in plans if not plan["payment"]]
        changed = [plan for plan in plans if plan["payment"] and plan["changed"]]
        summary = env._(
            "%(new)s new credit(s), %(updated)s updated, %(same)s unchanged, from %(rows)s "
            "row(s): %(total)s %(currency)s of prepaid balances.",
            new=len(new),
            updated=len(changed),
            same=len(plans) - len(new) - len(changed),
            rows=len(rows),
            total=currency.round(sum(plan["amount"] for plan in plans)),
            currency=currency.name,
        )
        return {"credits": plans, "summary": summary}

    def _clinic_check_credit_update(self, payment, values):
        """Problems of updating the credit imported before `payment` with `values`; marks
        whether it changes."""
        env = self.env
        currency = self.company_id.currency_id
        changed = (
            payment.partner_id != values["patient"]
            or currency.compare_amounts(payment.amount, values["amount"]) != 0
            or payment.date != values["date"]
            or payment.clinic_entitlement_id != values["package_reference"]
        )
        values["changed"] = changed
        if changed and payment.move_id.line_ids.filtered(
            lambda line: (
                line.account_type == "asset_receivable"
                and (line.matched_debit_ids or line.matched_credit_ids)
            )
        ):
            return [
                env._(
                    "credit %(payment)s imported with this reference was already applied to "
                    "invoices: an import no longer changes it",
                    payment=payment.name,
                )
            ]
        return []

    def _clinic_credit_journal(self):
        return (
            self.env["account.journal"]
            .sudo()
            .search(
                [("company_id", "=", self.company_id.id), ("type", "in", ("bank", "cash"))],
                order="type, sequence, id",
                limit=1,
            )
        )

    # -------------------------------------------------------------------------
    # APPLY
    # -------------------------------------------------------------------------

    def _prepare_imported_credit_vals(self, plan, journal):
        return {
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": plan["patient"].id,
            "amount": plan["amount"],
            "date": plan["date"],
            "journal_id": journal.id,
            "company_id": self.company_id.id,
            "memo": self.env._("Prepaid balance %s (imported)", plan["reference"]),
            "clinic_import_reference": plan["reference"],
            "clinic_entitlement_id": plan["package_reference"].id,
        }

    def _clinic_post_imported_credits(self, payments):
        """Post the credits: the money came before the import, so the payment debits the
        clearing account instead of the journal's outstanding receipts account."""
        payments.write({"outstanding_account_id": self.clearing_account_id.id})
        payments.action_post()

    def _clinic_apply_credits(self, plan):
        # the manager's import (checked) records payments: accounting documents
        # no chatter per payment (creation message, followers, tracking): an import makes
        # thousands, its result says what it did
        Payment = (
            self.env["account.payment"]
            .sudo()
            .with_company(self.company_id)
            .with_context(
                tracking_disable=True,
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
                mail_notrack=True,
            )
        )
        journal = self._clinic_credit_journal()
        plans = plan["credits"]
        # a credit whose amount, date, patient or package changed (not applied to anything
        # yet) is replaced: the old payment is cancelled, for the record
        replaced = Payment.browse([p["payment"].id for p in plans if p["payment"] and p["changed"]])
        replaced.action_draft()
        replaced.action_cancel()
        new = Payment.create(
            [
                self._prepare_imported_credit_vals(p, journal)
                for p in plans
                if not p["payment"] or p["changed"]
            ]
        )
        self._clinic_post_imported_credits(new)
        # a prepaid package's price: what its imported credits bring, per use left
        packages = (
            new.clinic_entitlement_id
            | Payment.browse([p["payment"].id for p in plans if p["payment"]]).clinic_entitlement_id
        )
        for package in packages.filtered("imported"):
            total = package.uses_total
            left = total - sum(package.line_ids.mapped("used_before"))
            value = package._clinic_money()["billed"]
            price = package.currency_id.round(value * total / left) if left else value
            package.write({"amount_untaxed": price, "amount_total": price})
        return plan["summary"]
