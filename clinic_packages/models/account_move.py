from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

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
