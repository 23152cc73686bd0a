from odoo import api, models


class ClinicEntitlementBreakage(models.Model):
    """The shares of a grouped expiry entry split its unearned item between packages in the
    unearned revenue movements (`clinic.unearned.move`): the entry is posted before its
    shares are recorded, so its movements are rewritten when shares come or go."""

    _inherit = "clinic.entitlement.breakage"

    @api.model_create_multi
    def create(self, vals_list):
        shares = super().create(vals_list)
        self.env["clinic.unearned.move"].sudo()._clinic_refresh(shares.move_id)
        return shares

    def unlink(self):
        moves = self.move_id
        res = super().unlink()
        self.env["clinic.unearned.move"].sudo()._clinic_refresh(moves.exists())
        return res
