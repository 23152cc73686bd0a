from odoo import fields, models


class AccountMove(models.Model):
    # memberships' own part of the package entries
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    clinic_move_kind = fields.Selection(
        selection_add=[("membership", "Membership renewal invoice")],
        ondelete={"membership": "set null"},
    )

    def _invoice_paid_hook(self):
        """A renewed membership period waiting for its payment starts when it is paid."""
        res = super()._invoice_paid_hook()
        periods = (
            self.filtered(
                lambda move: (
                    move.move_type == "out_invoice" and move.clinic_move_kind == "membership"
                )
            )
            .sudo()
            .clinic_entitlement_id.filtered(lambda e: e.state == "draft")
        )
        for period in periods:
            period._clinic_activate(date_start=period.date_start)
        return res
