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
        is paid (an invoice of several periods: each of its lines is one); those that ended
        meanwhile give their value to breakage."""
        res = super()._invoice_paid_hook()
        renewals = self.filtered(
            lambda move: move.move_type == "out_invoice" and move.clinic_move_kind == "membership"
        ).sudo()
        periods = (
            renewals.clinic_entitlement_id | renewals.invoice_line_ids.clinic_entitlement_id
        ).filtered("membership_id")
        for period in periods.filtered(lambda e: e.state == "draft"):
            period._clinic_activate(date_start=period.date_start)
        # paid after its end, a period that never became usable: its value is breakage
        periods._clinic_break_paid_late()
        return res
