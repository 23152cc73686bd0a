from odoo import models
from odoo.tools import str2bool


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _check_amount_and_confirm_order(self):
        """A package bought online is activated on payment by its paid invoice, as at the
        front desk (`account.move._invoice_paid_hook`): an order with a package paid online is
        invoiced as soon as its payment is done, even when the shop does not invoice
        automatically (Sales setting "Automatic Invoice"). Odoo then posts the invoice and
        reconciles it with the payment (`account_payment`), which activates the package and
        books its price as unearned revenue."""
        confirmed = super()._check_amount_and_confirm_order()
        if not str2bool(self.env["ir.config_parameter"].sudo().get_param("sale.automatic_invoice")):
            self.filtered(
                lambda tx: (
                    tx.state == "done"
                    and tx.operation != "validation"
                    and not tx.invoice_ids
                    and tx.sale_order_ids.order_line.filtered("clinic_package_ok")
                )
            )._invoice_sale_orders()
        return confirmed
