"""Clinic > Configuration > Import: live packages, insurance authorizations and prepaid
balances brought from another system (README, "Switching from another system").

The file is read and every row checked first; a file with any bad row imports nothing and
`result` lists each bad row with its line number, reference and reason. `dry_run` stops there.
Otherwise the records are created (or, for a reference imported before, updated) in one
savepoint: either all of them are written, or none. Each kind has its own file:
clinic_import_packages.py, clinic_import_authorizations.py, clinic_import_credits.py.
"""

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import email_normalize

from ..models.clinic_guard import GROUP_MANAGER, selection_label, trusted
from .clinic_import_reader import CellError, parse_text, read_table

# per kind: (columns every file has, columns it may have); a patient is named by `patient`
# or `patient_email` (or both)
COLUMNS = {
    "packages": (
        ("reference", "package", "service", "quantity", "used", "unearned"),
        ("patient", "patient_email", "start", "expiry"),
    ),
    "authorizations": (
        ("reference", "number"),
        (
            "patient",
            "patient_email",
            "payer",
            "type",
            "start",
            "end",
            "services",
            "allowed",
            "used",
            "frequency",
            "limit",
            "pending",
        ),
    ),
    "credits": (
        ("reference", "amount"),
        ("patient", "patient_email", "date", "package_reference"),
    ),
}
# a row's problems beyond this many are not all listed (the file has a systematic error)
MAX_LISTED = 500

# account types that cannot balance an import's opening entries: a patient's or a supplier's
# open items, money in the bank, nothing on the balance sheet
NOT_CLEARING = (
    "asset_receivable",
    "liability_payable",
    "asset_cash",
    "liability_credit_card",
    "off_balance",
)


class ImportErrors:
    """The bad rows of a file: {line: (reference, [reasons])}; line 1 is the header (and
    problems of the whole file)."""

    def __init__(self):
        self.rows = {}

    def add(self, line, reference, reason):
        self.rows.setdefault(line, (reference, []))[1].append(reason)

    def __bool__(self):
        return bool(self.rows)

    def __len__(self):
        return len(self.rows)

    def report(self, env):
        lines = []
        for number in sorted(self.rows)[:MAX_LISTED]:
            reference, reasons = self.rows[number]
            lines.append(
                env._(
                    "Line %(line)s (%(reference)s): %(reasons)s.",
                    line=number,
                    reference=reference or "-",
                    reasons="; ".join(reasons),
                )
            )
        if len(self.rows) > MAX_LISTED:
            lines.append(
                env._("... and %(count)s more bad rows.", count=len(self.rows) - MAX_LISTED)
            )
        return "\n".join(lines)


class ClinicImport(models.TransientModel):
    _name = "clinic.import"
    _inherit = ["clinic.input.mixin"]
    _description = "Import from Another System"
    _check_company_auto = True

    # -------------------------------------------------------------------------
    # FIELDS
    # -------------------------------------------------------------------------

    kind = fields.Selection(
        [
            ("packages", "Patient packages"),
            ("authorizations", "Insurance authorizations"),
            ("credits", "Prepaid balances (credits)"),
        ],
        string="Import",
        required=True,
        default="packages",
    )
    file = fields.Binary(attachment=False, help="CSV (UTF-8) or XLSX.")
    filename = fields.Char()
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, readonly=True
    )
    clearing_account_id = fields.Many2one(
        "account.account",
        check_company=True,
        domain=f"[('deprecated', '=', False), ('account_type', 'not in', {NOT_CLEARING!r})]",
        help="Balances the opening entries: the unearned revenue of imported packages is "
        "credited and the imported prepaid balances debited to this account (your old "
        "system's migration or suspense account), which the accountant clears against the "
        "opening balances.",
    )
    dry_run = fields.Boolean(
        string="Check Only",
        help="Check every row and report what the import would do, without writing anything.",
    )
    state = fields.Selection(
        [("draft", "New"), ("checked", "Checked"), ("failed", "Refused"), ("done", "Imported")],
        default="draft",
        readonly=True,
    )
    result = fields.Text(readonly=True)

    # -------------------------------------------------------------------------
    # ACTIONS
    # -------------------------------------------------------------------------

    def action_import(self):
        """Check the file; unless it has a bad row or this is a dry run, import it. The
        outcome is in `result` (and the wizard shows it)."""
        self.ensure_one()
        self._clinic_check_rights()
        wizard = trusted(self.with_company(self.company_id))
        state, result = wizard._clinic_run()
        self.write({"state": state, "result": result})
        return self._clinic_reopen()

    def action_download_template(self):
        """The empty file of this kind, with its columns and an example row."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/clinic_packages/static/import_templates/{self.kind}.csv",
            "target": "download",
        }

    def action_reset(self):
        """Back to the form, to choose another file."""
        self.ensure_one()
        self.write({"state": "draft", "result": False})
        return self._clinic_reopen()

    # -------------------------------------------------------------------------
    # BUSINESS METHODS
    # -------------------------------------------------------------------------

    def _clinic_check_rights(self):
        """Importing creates packages, entries and payments: a Clinic Manager's action, of
        one of their companies."""
        self.env["clinic.entitlement"]._clinic_check_group(
            GROUP_MANAGER, self.env._("import packages, authorizations or credits")
        )
        self.check_access("write")
        if self.company_id not in self.env.user.company_ids:
            raise AccessError(
                self.env._(
                    "%(user)s may not import into %(company)s.",
                    user=self.env.user.name,
                    company=self.company_id.name,
                )
            )

    def _clinic_run(self):
        """(state, result) of checking, then importing, the file."""
        header, rows = read_table(self.env, self.file, self.filename)
        errors = ImportErrors()
        self._clinic_check_columns(header, errors)
        if errors:
            return "failed", self._clinic_refused(errors, rows)
        plan = getattr(self, f"_clinic_check_{self.kind}")(rows, errors)
        if errors:
            return "failed", self._clinic_refused(errors, rows)
        if self.dry_run:
            return "checked", self.env._(
                "Check only: the file can be imported, nothing was written.\n%(summary)s",
                summary=plan["summary"],
            )
        try:
            with self.env.cr.savepoint():
                done = getattr(self, f"_clinic_apply_{self.kind}")(plan)
        except (ValidationError, UserError) as error:
            return "failed", self.env._("Nothing was imported: %(reason)s", reason=error.args[0])
        except psycopg2.Error as error:
            # a rule of the database the checks above did not foresee: no traceback either
            return "failed", self.env._(
                "Nothing was imported: the database refused it (%(reason)s).",
                reason=(error.pgerror or str(error)).strip().splitlines()[0],
            )
        return "done", done

    def _clinic_refused(self, errors, rows):
        return self.env._(
            "Nothing was imported: %(bad)s of %(count)s rows need correcting. Correct them "
            "and import the whole file again.\n%(rows)s",
            bad=len(errors),
            count=len(rows),
            rows=errors.report(self.env),
        )

    def _clinic_check_columns(self, header, errors):
        required, optional = COLUMNS[self.kind]
        present = [column for column in header if column]
        missing = [column for column in required if column not in present]
        if "patient" in optional and not {"patient", "patient_email"} & set(present):
            missing.append("patient / patient_email")
        unknown = [column for column in present if column not in required + optional]
        duplicated = sorted({column for column in present if present.count(column) > 1})
        if missing:
            errors.add(
                1, "", self.env._("missing column(s): %(columns)s", columns=", ".join(missing))
            )
        if unknown:
            errors.add(
                1,
                "",
                self.env._(
                    "unknown column(s): %(columns)s (the %(kind)s template has: %(expected)s)",
                    columns=", ".join(unknown),
                    kind=self.kind,
                    expected=", ".join(required + optional),
                ),
            )
        if duplicated:
            errors.add(
                1,
                "",
                self.env._("column(s) given twice: %(columns)s", columns=", ".join(duplicated)),
            )

    def _clinic_check_clearing_account(self, errors, why):
        """The clearing account is needed (`why`): chosen, of this company."""
        account = self.clearing_account_id
        if not account:
            errors.add(1, "", self.env._("choose a clearing account: %s", why))
        elif account.account_type in NOT_CLEARING or account.deprecated:
            # a receivable would make a paid package a debt of the patient, a bank account a
            # payment nobody received: the view offers none of them, a client may still send it
            errors.add(
                1,
                "",
                self.env._(
                    "the clearing account cannot be %(account)s (%(type)s): choose an account "
                    "that only balances the opening entries (an equity or suspense account)",
                    account=account.display_name,
                    type=selection_label(account, "account_type"),
                ),
            )
        elif account == self.company_id.clinic_deferred_account_id:
            errors.add(
                1,
                "",
                self.env._(
                    "the clearing account cannot be the unearned revenue account %s itself",
                    account.display_name,
                ),
            )

    def _clinic_reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Import"),
        }

    # lookups shared by the kinds -------------------------------------------
    def _clinic_company_domain(self):
        return ["|", ("company_id", "=", False), ("company_id", "=", self.company_id.id)]

    def _clinic_patient_finder(self, rows):
        """A function row -> res.partner finding the patient of a row by its e-mail, else
        its exact name (raising CellError when none or several match). Two queries for the
        whole file."""
        Partner = self.env["res.partner"]
        emails = {email_normalize(parse_text(r.get("patient_email"))) for __, r in rows} - {
            False,
            None,
        }
        names = {parse_text(r.get("patient")) for __, r in rows} - {""}
        by_email, by_name = {}, {}
        if emails:
            by_email = Partner.search(
                [("email_normalized", "in", list(emails))] + self._clinic_company_domain()
            ).grouped("email_normalized")
        if names:
            by_name = Partner.search(
                [("name", "in", list(names))] + self._clinic_company_domain()
            ).grouped("name")

        def find(row):
            raw_email = parse_text(row.get("patient_email"))
            name = parse_text(row.get("patient"))
            email = email_normalize(raw_email) if raw_email else False
            if raw_email and not email:
                raise CellError(self.env._("%r is not an e-mail address", raw_email))
            if not email and not name:
                raise CellError(self.env._("the patient is missing (patient or patient_email)"))
            found = by_email.get(email, Partner) if email else Partner
            if len(found) > 1 and name:
                found = found.filtered(lambda p: p.name == name) or found
            if not found and name:
                found = by_name.get(name, Partner)
            if len(found) > 1:
                raise CellError(
                    self.env._(
                        "%(count)s contacts match patient %(who)s: give the patient's e-mail, "
                        "or make the contacts' names or e-mails distinct",
                        count=len(found),
                        who=email or name,
                    )
                )
            if not found:
                raise CellError(
                    self.env._(
                        "no contact matches patient %(who)s: create the patient in Contacts "
                        "first (or correct the name or e-mail)",
                        who=" / ".join(filter(None, (name, raw_email))),
                    )
                )
            return found

        return find

    def _clinic_product_finder(self, domain, what):
        """A function text -> product.product finding a product of `domain` by its internal
        reference, else its exact name. `what` names it in messages."""
        Product = self.env["product.product"]
        products = Product.search(domain + self._clinic_company_domain())
        by_code = products.filtered("default_code").grouped("default_code")
        by_name = products.grouped("name")

        def find(text):
            if not text:
                raise CellError(self.env._("the %s is missing", what))
            found = by_code.get(text) or by_name.get(text) or Product
            if len(found) > 1:
                raise CellError(
                    self.env._(
                        "%(count)s %(what)s products are called %(text)r: use the internal "
                        "reference",
                        count=len(found),
                        what=what,
                        text=text,
                    )
                )
            if not found:
                raise CellError(
                    self.env._(
                        "no %(what)s has the internal reference or name %(text)r",
                        what=what,
                        text=text,
                    )
                )
            return found

        return find

    @api.model
    def _clinic_reference(self, row):
        return parse_text(row.get("reference"))

    @api.model
    def _clinic_parse_record_row(self, line, row, parsers, seen):
        """(reference, values, problems) of a row of a file with one row per record: its
        reference is required and unique in the file (`seen`: {reference: first line})."""
        reference = self._clinic_reference(row)
        values, problems = self._clinic_parse_row(row, parsers)
        if not reference:
            problems.append(self.env._("the reference is missing"))
        elif reference in seen:
            problems.append(
                self.env._(
                    "reference %(ref)s is also on line %(line)s",
                    ref=reference,
                    line=seen[reference],
                )
            )
        seen.setdefault(reference, line)
        return reference, values, problems

    @api.model
    def _clinic_parse_row(self, row, parsers):
        """({column: value}, [problems]) of `row`: each parser reads its value from the
        row; a cell it cannot read is a problem (its value None)."""
        values, problems = {}, []
        for column, parse in parsers.items():
            try:
                values[column] = parse(row)
            except CellError as error:
                values[column] = None
                problems.append(f"{column}: {error}")
        return values, problems
