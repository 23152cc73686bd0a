from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .clinic_guard import check_retag, trusted


class AccountPayment(models.Model):
    _inherit = "account.payment"

    clinic_entitlement_id = fields.Many2one(
        "clinic.entitlement",
        string="Prepays Package",
        index="btree_not_null",
        copy=False,
        check_company=True,
        domain="[('partner_id', '=', partner_id), ('billing_mode', '=', 'prepaid_credit')]",
        help="This payment is the prepayment of that package: it stays the patient's "
        "unapplied credit and pays the package's visit invoices as they are posted.",
    )
    clinic_import_reference = fields.Char(
        string="Imported Credit Reference",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The prepaid balance's reference in the system it was imported from: importing "
        "a file again updates the payment with this reference.",
    )

    @api.constrains("clinic_entitlement_id", "partner_id", "payment_type")
    def _check_clinic_entitlement(self):
        for payment in self.filtered("clinic_entitlement_id"):
            entitlement = payment.clinic_entitlement_id
            if (
                entitlement.partner_id.commercial_partner_id
                != payment.partner_id.commercial_partner_id
            ):
                raise ValidationError(
                    self.env._(
                        "Payment %(payment)s is from %(partner)s, but package %(name)s belongs "
                        "to %(owner)s.",
                        payment=payment.display_name,
                        partner=payment.partner_id.display_name,
                        name=entitlement.name,
                        owner=entitlement.partner_id.display_name,
                    )
                )
            if entitlement.billing_mode != "prepaid_credit":
                raise ValidationError(
                    self.env._(
                        "Package %(name)s is invoiced at sale: pay its invoice instead of "
                        "registering a prepayment.",
                        name=entitlement.name,
                    )
                )

    def _prepare_move_line_default_vals(self, write_off_line_vals=None, force_balance=None):
        vals_list = super()._prepare_move_line_default_vals(
            write_off_line_vals=write_off_line_vals, force_balance=force_balance
        )
        if self.clinic_entitlement_id:
            for vals in vals_list:
                vals["clinic_entitlement_id"] = self.clinic_entitlement_id.id
        return vals_list

    def write(self, vals):
        # a prepayment once posted is the package's money, and its journal items say so:
        # it is not moved to another package, even reset to draft
        check_retag(
            self.filtered(lambda p: p.state != "draft" or p.move_id),
            vals,
            ("clinic_entitlement_id",),
        )
        return super().write(vals)

    def action_post(self):
        res = super().action_post()
        # the prepayment of a package waiting for its payment activates it
        trusted(self.clinic_entitlement_id).filtered(
            lambda e: e.state == "draft"
        )._clinic_activate()
        return res
