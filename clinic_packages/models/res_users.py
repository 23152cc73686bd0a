from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResUsers(models.Model):
    _inherit = "res.users"

    clinic_practitioner = fields.Boolean(
        help="Sees patients: may be the organizer of clinic visits, whose package uses are "
        "credited to them. Their working hours decide when visits can be booked online.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        users = super().create(vals_list)
        users.filtered("clinic_practitioner")._clinic_ensure_resource()
        return users

    def write(self, vals):
        res = super().write(vals)
        if vals.get("clinic_practitioner"):
            self._clinic_ensure_resource()
        return res

    def _clinic_ensure_resource(self):
        """A practitioner has working hours: Odoo keeps them on the user's resource
        (`resource_calendar_id`). A user marked practitioner without one gets it, on the
        company's standard working hours. Only those who may edit users get here (Odoo's
        access rights on res.users)."""
        missing = self.filtered(lambda user: not user.resource_ids)
        if missing:
            self.env["resource.resource"].sudo().create(
                [
                    {
                        "name": user.name,
                        "user_id": user.id,
                        "company_id": user.company_id.id,
                        "calendar_id": user.company_id.resource_calendar_id.id,
                        "tz": user.tz or user.company_id.resource_calendar_id.tz or "UTC",
                    }
                    for user in missing
                ]
            )

    @api.constrains("clinic_practitioner", "share")
    def _check_clinic_practitioner(self):
        for user in self:
            if user.clinic_practitioner and user.share:
                raise ValidationError(
                    self.env._(
                        "%(user)s is a portal user: only internal users can be practitioners.",
                        user=user.name,
                    )
                )
