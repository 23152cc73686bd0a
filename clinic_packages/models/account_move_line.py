from odoo import api, fields, models

from .clinic_guard import check_new_tags, check_retag, internal_value, is_trusted


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    clinic_entitlement_id = fields.Many2one(
        "clinic.entitlement",
        string="Patient Package",
        index="btree_not_null",
        copy=True,
        help="The package whose money this journal item moves.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        if not is_trusted(self.env):
            for vals in vals_list:
                tag = vals.get("clinic_entitlement_id")
                # a prepayment's journal items carry its package, as the payment says
                payment = (
                    tag and self.env["account.move"].browse(vals.get("move_id")).origin_payment_id
                )
                if tag and payment.clinic_entitlement_id.id != tag:
                    check_new_tags(self, vals, ("clinic_entitlement_id",))
        return super().create(vals_list)

    def write(self, vals):
        check_retag(self, vals, ("clinic_entitlement_id",))
        return super().write(vals)

    def _prepare_reconciliation_single_partial(
        self, debit_values, credit_values, shadowed_aml_values=None
    ):
        """With `clinic_allocation_amount` in the context, reconcile at most that amount: the
        credit allocation wizard applies chosen amounts, not whole residuals."""
        cap = internal_value(self.env, "clinic_allocation_amount")
        if cap:
            for values, sign in ((debit_values, 1), (credit_values, -1)):
                aml = values["aml"]
                if (
                    aml.currency_id == aml.company_currency_id
                    and abs(values["amount_residual"]) > cap
                ):
                    values["amount_residual"] = sign * cap
                    values["amount_residual_currency"] = sign * cap
        return super()._prepare_reconciliation_single_partial(
            debit_values, credit_values, shadowed_aml_values=shadowed_aml_values
        )
