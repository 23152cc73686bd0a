from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from .clinic_guard import check_new_tags, check_retag, is_trusted, selection_label, trusted

# what ties an entry to a package (set by the clinic's actions only)
MOVE_TAGS = ("clinic_entitlement_id", "clinic_move_kind")
# entries the clinic's actions make and undo themselves (not the invoices it issues)
GENERATED_KINDS = ("recognition", "breakage", "refund", "opening", "transfer")


class AccountMove(models.Model):
    _inherit = "account.move"

    clinic_entitlement_id = fields.Many2one(
        "clinic.entitlement",
        string="Patient Package",
        index="btree_not_null",
        readonly=True,
        help="The package this entry belongs to: a visit invoice, a revenue recognition, a "
        "breakage or a refund.",
    )
    clinic_move_kind = fields.Selection(
        [
            ("visit", "Visit invoice"),
            ("recognition", "Revenue recognition"),
            ("breakage", "Breakage"),
            ("refund", "Package refund"),
            ("opening", "Opening balance (import)"),
            ("transfer", "Package transfer"),
        ],
        string="Package Entry",
        readonly=True,
    )

    clinic_package_ids = fields.Many2many(
        "clinic.entitlement",
        string="Packages",
        compute="_compute_clinic_package_ids",
        help="The packages this entry bills, credits, recognises or expires.",
    )
    clinic_package_count = fields.Integer(compute="_compute_clinic_package_ids")

    clinic_breakage_ids = fields.One2many(
        "clinic.entitlement.breakage",
        "move_id",
        string="Expired Packages",
        readonly=True,
        help="The packages a grouped expiry entry recognises as breakage, and how much each.",
    )

    @api.depends(
        "clinic_entitlement_id",
        "line_ids.clinic_entitlement_id",
        "invoice_line_ids.sale_line_ids.clinic_entitlement_ids",
    )
    def _compute_clinic_package_ids(self):
        for move in self:
            # a package invoice reaches its packages through its sale lines
            packages = (
                move.clinic_entitlement_id
                | move.line_ids.clinic_entitlement_id
                | move.invoice_line_ids.sale_line_ids.clinic_entitlement_ids
            )
            move.clinic_package_ids = packages
            move.clinic_package_count = len(packages)

    def action_clinic_view_packages(self):
        """The packages of this entry: the one, or their list."""
        self.ensure_one()
        packages = self.clinic_package_ids
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_packages.clinic_entitlement_action"
        )
        action["context"] = {"create": False}
        if len(packages) == 1:
            action.update(views=[(False, "form")], res_id=packages.id)
        else:
            action["domain"] = [("id", "in", packages.ids)]
        return action

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_new_tags(self, vals, MOVE_TAGS)
        return super().create(vals_list)

    def write(self, vals):
        check_retag(self, vals, MOVE_TAGS)
        return super().write(vals)

    def _reverse_moves(self, default_values_list=None, cancel=False):
        """A credit note mirrors its invoice, package tags included (a visit or membership
        invoice credited: the package's billing goes down with it). The package's own
        entries (GENERATED_KINDS) reversed by hand are entries of their own, untagged: the
        package's counters and money move only with its actions."""
        if is_trusted(self.env) or any(m.clinic_move_kind in GENERATED_KINDS for m in self):
            return super()._reverse_moves(default_values_list=default_values_list, cancel=cancel)
        reversed_moves = super(AccountMove, trusted(self))._reverse_moves(
            default_values_list=default_values_list, cancel=cancel
        )
        return reversed_moves.with_env(self.env)

    def copy_data(self, default=None):
        """A client's copy (a duplicate, the reversal of a package's own entry) is an entry
        of its own: it does not take the package's tags, which only the clinic's actions
        give."""
        vals_list = super().copy_data(default=default)
        if not is_trusted(self.env):
            for vals in vals_list:
                for name in MOVE_TAGS:
                    vals.pop(name, None)
                for command in vals.get("line_ids") or ():
                    if command[0] == Command.CREATE:
                        command[2].pop("clinic_entitlement_id", None)
        return vals_list

    def _invoice_paid_hook(self):
        """Packages activated on payment start when their invoice is paid."""
        res = super()._invoice_paid_hook()
        entitlements = (
            self.filtered(lambda move: move.move_type == "out_invoice")
            .invoice_line_ids.sale_line_ids.sudo()
            .clinic_entitlement_ids.filtered(
                lambda e: e.state == "draft" and e.activation == "on_payment"
            )
        )
        entitlements._clinic_activate()
        return res

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._clinic_record_unearned()
        # a package invoiced after some of its visits: their value is recognised now
        waiting = (
            posted.filtered(lambda move: move.move_type == "out_invoice")
            .invoice_line_ids.sale_line_ids.sudo()
            .clinic_entitlement_ids.usage_ids.filtered(
                lambda u: u.state == "consumed" and u.recognition_waiting
            )
        )
        for usage in waiting.sorted(lambda u: (u.date, u.id)):
            usage._clinic_recognise()
        to_allocate = posted.filtered(
            lambda move: (
                move.move_type == "out_invoice"
                and move.clinic_entitlement_id.billing_mode == "prepaid_credit"
                and move.company_id.clinic_auto_allocate
            )
        )
        for invoice in to_allocate:
            invoice.sudo()._clinic_allocate_prepayment()
        if not is_trusted(self.env):
            # a client's credit note takes back what a package billed
            posted.filtered(lambda move: move.move_type == "out_refund")._clinic_check_liabilities()
        return posted

    def button_draft(self):
        # the package's own entries are undone by its actions (undo the visit, extend the
        # package, ...), which reverse them: reset to draft, they could be edited or deleted
        # behind the package's counters
        if not is_trusted(self.env):
            for move in self.filtered(lambda m: m.clinic_move_kind in GENERATED_KINDS):
                raise UserError(
                    self.env._(
                        "%(entry)s is the %(kind)s of package %(name)s, made by the clinic's "
                        "actions: it is not reset to draft by hand. Undo what made it (the "
                        "visit's arrival, the expiry, the refund) from the package or the "
                        "visit, or reverse it with an entry of your own.",
                        entry=move.display_name,
                        kind=selection_label(move, "clinic_move_kind").lower(),
                        name=move.clinic_entitlement_id.name or "-",
                    )
                )
        # button_cancel resets a posted entry through here too
        was_posted = self.filtered(lambda move: move.state == "posted")
        res = super().button_draft()
        self.env["clinic.unearned.move"]._clinic_remove(was_posted)
        if not is_trusted(self.env):
            # an invoice reset (or cancelled) no longer bills its packages
            was_posted._clinic_check_liabilities()
        return res

    def _clinic_check_liabilities(self):
        """No package's liability goes negative: after these entries changed what their
        packages billed (a package invoice reset to draft or cancelled, a credit note), each
        package must still hold at least what its delivered visits did not earn, i.e. its
        unearned value stays 0 or more. Otherwise the change is refused (and undone)."""
        packages = self.sudo().clinic_package_ids
        if not packages:
            return
        money = packages._clinic_deferred_money()
        for package in packages:
            unearned = money[package.id]["unearned"]
            if package.currency_id.compare_amounts(unearned, 0) < 0:
                raise UserError(
                    self.env._(
                        "This would leave package %(name)s owing %(amount)s: its delivered "
                        "visits were recognised from what it billed. Post the corrected "
                        "invoice first (then credit this one), or undo those visits.",
                        name=package.name,
                        amount=format_amount(self.env, -unearned, package.currency_id),
                    )
                )

    def _clinic_record_unearned(self):
        """These entries were just posted: the movements of those that touch a company's
        unearned revenue account are recorded for the unearned revenue report (whoever posts
        them: sale, visit, refund, expiry, transfer, import or a manual entry)."""
        unearned = self.filtered(
            lambda move: any(
                line.account_id == move.company_id.clinic_deferred_account_id
                for line in move.line_ids
            )
        )
        if unearned:
            self.env["clinic.unearned.move"].sudo()._clinic_refresh(unearned, fresh=True)

    def _clinic_allocate_prepayment(self):
        """Pay this visit invoice from its package's prepayment, and from nothing else: the
        open receivable credit of the payments tagged with the package, oldest first."""
        self.ensure_one()
        receivable = self.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable" and not line.reconciled
        )
        if not receivable:
            return
        credits = self.env["account.move.line"].search(
            [
                ("payment_id.clinic_entitlement_id", "=", self.clinic_entitlement_id.id),
                ("account_id", "in", receivable.account_id.ids),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("balance", "<", 0),
            ],
            order="date, id",
        )
        for credit in credits:
            if self.payment_state in ("paid", "in_payment"):
                break
            self.js_assign_outstanding_line(credit.id)
