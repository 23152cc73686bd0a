from datetime import date

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from ..models.clinic_guard import internal_context


class ClinicCreditAllocation(models.TransientModel):
    """Apply a patient's outstanding credits (prepayments, credit notes) to chosen open
    invoices, for chosen amounts, through Odoo's own reconciliation. Each invoice opens with
    what the selected credits can pay, oldest invoice first; ticking or unticking a credit
    fills the amounts again."""

    _name = "clinic.credit.allocation"
    _inherit = ["clinic.input.mixin"]
    _description = "Apply Patient Credit to Invoices"

    partner_id = fields.Many2one("res.partner", string="Patient", required=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda s: s.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    credit_ids = fields.One2many(
        "clinic.credit.allocation.credit",
        "allocation_id",
        string="Credits",
        compute="_compute_lines",
        store=True,
        readonly=False,
    )
    invoice_ids = fields.One2many(
        "clinic.credit.allocation.invoice",
        "allocation_id",
        string="Invoices",
        compute="_compute_lines",
        store=True,
        readonly=False,
    )
    credit_total = fields.Monetary(compute="_compute_totals", string="Credit Available")
    amount_total = fields.Monetary(compute="_compute_totals", string="To Apply")

    @api.model
    def _clinic_open_items_domain(self, partner, company):
        """The open receivable items of `partner` (and its contacts) in `company`: with a
        negative residual, the credits the wizard applies; positive, what is due."""
        return [
            ("partner_id", "child_of", partner.commercial_partner_id.id),
            ("company_id", "=", company.id),
            ("account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
        ]

    @api.depends("partner_id", "company_id")
    def _compute_lines(self):
        Line = self.env["account.move.line"]
        for wizard in self:
            domain = self._clinic_open_items_domain(wizard.partner_id, wizard.company_id)
            credits = Line.search(domain + [("amount_residual", "<", 0)], order="date, id")
            invoices = Line.search(
                domain + [("amount_residual", ">", 0), ("move_id.move_type", "=", "out_invoice")],
                order="date_maturity, id",
            ).move_id.sorted(self._clinic_invoice_order)
            wizard.credit_ids = [fields.Command.clear()] + [
                fields.Command.create({"move_line_id": line.id}) for line in credits
            ]
            wizard.invoice_ids = [fields.Command.clear()] + [
                fields.Command.create({"invoice_id": invoice.id}) for invoice in invoices
            ]

    @api.depends("credit_ids.use", "credit_ids.amount_available", "invoice_ids.amount")
    def _compute_totals(self):
        for wizard in self:
            wizard.credit_total = sum(wizard.credit_ids.filtered("use").mapped("amount_available"))
            wizard.amount_total = sum(wizard.invoice_ids.mapped("amount"))

    @api.model
    def _clinic_invoice_order(self, invoice):
        """Sort key of the open invoices: the oldest first (the list and the pre-fill)."""
        return (
            invoice.invoice_date or invoice.date or date.min,
            invoice.invoice_date_due or invoice.date or date.min,
            invoice.id or 0,
        )

    def _clinic_prefill_amounts(self):
        """{invoice line: amount}: what the selected credits pay of each open invoice, oldest
        invoice first, each the smaller of the credit still available and its amount due."""
        self.ensure_one()
        currency = self.currency_id
        available = currency.round(sum(self.credit_ids.filtered("use").mapped("amount_available")))
        amounts = {}
        for line in self.invoice_ids.sorted(
            lambda item: self._clinic_invoice_order(item.invoice_id)
        ):
            amount = currency.round(max(min(available, line.residual), 0.0))
            amounts[line] = amount
            available = currency.round(available - amount)
        return amounts

    def _clinic_check_owner(self):
        """Credits and invoices are the patient's own, in the wizard's company: a client
        could send others' lines."""
        self.ensure_one()
        patient = self.partner_id.commercial_partner_id
        documents = [(line.move_line_id, line.move_line_id.move_id) for line in self.credit_ids]
        documents += [(line.invoice_id, line.invoice_id) for line in self.invoice_ids]
        for record, document in documents:
            if (
                record.partner_id.commercial_partner_id != patient
                or record.company_id != self.company_id
            ):
                raise UserError(
                    self.env._(
                        "%(document)s is not %(patient)s's (it is %(owner)s's, in "
                        "%(company)s): only the patient's own credits and invoices can be "
                        "applied. Open Apply Credit from the right patient.",
                        document=document.display_name,
                        patient=patient.display_name,
                        owner=record.partner_id.commercial_partner_id.display_name,
                        company=record.company_id.name,
                    )
                )
        # a client sends the lines: each credit once, and only an open credit
        credits = self.credit_ids.move_line_id
        if len(credits) != len(self.credit_ids) or len(self.invoice_ids.invoice_id) != len(
            self.invoice_ids
        ):
            raise UserError(
                self.env._(
                    "A credit or an invoice is listed twice: each is applied once. Open Apply "
                    "Credit again."
                )
            )
        domain = self._clinic_open_items_domain(self.partner_id, self.company_id)
        closed = credits - credits.filtered_domain(domain + [("amount_residual", "<", 0)])
        if closed:
            raise UserError(
                self.env._(
                    "%(item)s is not an open credit of %(patient)s (nothing left to apply). "
                    "Open Apply Credit again to see the credits left.",
                    item=closed[:1].move_id.display_name,
                    patient=patient.display_name,
                )
            )

    def action_confirm(self):
        self.ensure_one()
        self._clinic_check_owner()
        currency = self.currency_id
        for line in self.invoice_ids:
            if (
                currency.compare_amounts(line.amount, 0) < 0
                or currency.compare_amounts(line.amount, line.residual) > 0
            ):
                raise UserError(
                    self.env._(
                        "%(invoice)s: apply between 0 and its amount due, %(due)s (asked: "
                        "%(amount)s).",
                        invoice=line.invoice_id.name,
                        due=format_amount(self.env, line.residual, currency),
                        amount=format_amount(self.env, line.amount, currency),
                    )
                )
        if currency.compare_amounts(self.amount_total, self.credit_total) > 0:
            raise UserError(
                self.env._(
                    "%(partner)s has %(credit)s of credit selected, less than the %(amount)s "
                    "to apply. Select more credits or apply less.",
                    partner=self.partner_id.display_name,
                    credit=format_amount(self.env, self.credit_total, currency),
                    amount=format_amount(self.env, self.amount_total, currency),
                )
            )
        credits = self.credit_ids.filtered("use").move_line_id
        for line in self.invoice_ids.filtered(lambda item: not currency.is_zero(item.amount)):
            to_apply = line.amount
            receivable = line.invoice_id.line_ids.filtered(
                lambda aml: aml.account_type == "asset_receivable" and not aml.reconciled
            )
            for credit in credits.filtered(lambda aml: not aml.reconciled):
                if currency.is_zero(to_apply):
                    break
                applied = min(to_apply, -credit.amount_residual)
                (credit | receivable).with_context(
                    **internal_context(clinic_allocation_amount=applied)
                ).reconcile()
                to_apply = currency.round(to_apply - applied)
            if not currency.is_zero(to_apply):
                # the credits ran out before this invoice got what was asked: nothing is
                # applied rather than part of it
                raise UserError(
                    self.env._(
                        "%(invoice)s: the credits selected cover %(missing)s less than the "
                        "%(amount)s asked. Select more credits or apply less.",
                        invoice=line.invoice_id.name,
                        missing=format_amount(self.env, to_apply, currency),
                        amount=format_amount(self.env, line.amount, currency),
                    )
                )
        return {"type": "ir.actions.act_window_close"}


class ClinicCreditAllocationCredit(models.TransientModel):
    _name = "clinic.credit.allocation.credit"
    _inherit = ["clinic.input.mixin"]
    _description = "Credit to Apply"

    allocation_id = fields.Many2one("clinic.credit.allocation", required=True, ondelete="cascade")
    move_line_id = fields.Many2one("account.move.line", string="Credit", required=True)
    move_id = fields.Many2one(related="move_line_id.move_id", string="Document")
    date = fields.Date(related="move_line_id.date")
    entitlement_id = fields.Many2one(
        related="move_line_id.payment_id.clinic_entitlement_id", string="Prepays"
    )
    currency_id = fields.Many2one(related="move_line_id.company_currency_id")
    amount_available = fields.Monetary(
        compute="_compute_amount_available",
        string="Available",
        help="What is left of this credit to apply (a credit is a negative receivable).",
    )
    use = fields.Boolean(default=True)

    @api.depends("move_line_id.amount_residual")
    def _compute_amount_available(self):
        for line in self:
            line.amount_available = -line.move_line_id.amount_residual


class ClinicCreditAllocationInvoice(models.TransientModel):
    _name = "clinic.credit.allocation.invoice"
    _inherit = ["clinic.input.mixin"]
    _description = "Invoice to Pay from Credit"

    allocation_id = fields.Many2one("clinic.credit.allocation", required=True, ondelete="cascade")
    invoice_id = fields.Many2one("account.move", required=True)
    date = fields.Date(related="invoice_id.invoice_date")
    currency_id = fields.Many2one(related="invoice_id.company_currency_id")
    residual = fields.Monetary(related="invoice_id.amount_residual", string="Due")
    amount = fields.Monetary(
        string="Apply",
        compute="_compute_amount",
        store=True,
        readonly=False,
        help="Filled with what the selected credits pay of this invoice, oldest invoice "
        "first; change it to apply another amount.",
    )

    # Only the wizard's own choices refill the amounts: not the credits' and invoices'
    # residuals, which the reconciliation of action_confirm changes while it applies them.
    @api.depends(
        "invoice_id", "allocation_id.credit_ids.use", "allocation_id.credit_ids.move_line_id"
    )
    def _compute_amount(self):
        for wizard in self.allocation_id:
            amounts = wizard._clinic_prefill_amounts()
            for line in self.filtered(lambda item, wizard=wizard: item.allocation_id == wizard):
                line.amount = amounts.get(line, 0.0)
        for line in self.filtered(lambda item: not item.allocation_id):
            line.amount = 0.0
