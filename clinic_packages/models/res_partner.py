from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    clinic_entitlement_ids = fields.One2many("clinic.entitlement", "partner_id", string="Packages")
    clinic_entitlement_count = fields.Integer(
        string="Packages Count", compute="_compute_clinic_entitlement_count"
    )

    @api.depends("clinic_entitlement_ids")
    def _compute_clinic_entitlement_count(self):
        counts = dict(
            self.env["clinic.entitlement"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.clinic_entitlement_count = counts.get(partner._origin, 0)

    def action_view_clinic_entitlements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_packages.clinic_entitlement_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        # one patient's packages read best as cards, with what is left of each
        action["views"] = [(False, "kanban"), (False, "list"), (False, "form")]
        action["context"] = {"default_partner_id": self.id, "search_default_open": 1}
        # the web client titles the breadcrumb with display_name first
        action["name"] = action["display_name"] = self.env._("Packages of %s", self.display_name)
        return action
