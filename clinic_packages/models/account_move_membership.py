from odoo import fields, models


class AccountMove(models.Model):
    # memberships' own part of the package entries
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    clinic_move_kind = fields.Selection(
        selection_add=[("membership", "Membership renewal invoice")],
        ondelete={"membership": "set null"},
    )

    def _invoice_paid_hook(self):
        """Renewed membership periods waiting for their payment start when their invoice
        is paid (an invoice of several periods: each of its lines is one)."""
        res = super()._invoice_paid_hook()
        renewals = self.filtered(
            lambda move: move.move_type == "out_invoice" and move.clinic_move_kind == "membership"
        ).sudo()
        periods = (
            renewals.clinic_entitlement_id | renewals.invoice_line_ids.clinic_entitlement_id
        ).filtered(lambda e: e.membership_id and e.state == "draft")
        for period in periods:
            period._clinic_activate(date_start=period.date_start)
        return res
