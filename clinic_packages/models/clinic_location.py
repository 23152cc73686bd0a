from odoo import fields, models


class ClinicLocation(models.Model):
    _name = "clinic.location"
    _description = "Clinic Location"
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Address",
        check_company=True,
        help="The address patients come to.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )

    _sql_constraints = [
        (
            "name_company_uniq",
            "unique(name, company_id)",
            "A location with this name already exists in this company.",
        ),
    ]
