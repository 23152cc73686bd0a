from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    clinic_entitlement_ids = fields.One2many("clinic.entitlement", "partner_id", string="Packages")
    clinic_entitlement_count = fields.Integer(
        string="Packages Count", compute="_compute_clinic_entitlement_count"
    )
    clinic_authorization_ids = fields.One2many(
        "clinic.authorization", "partner_id", string="Authorizations"
    )
    clinic_authorization_count = fields.Integer(
        string="Authorizations Count", compute="_compute_clinic_authorization_count"
    )
    clinic_credit_amount = fields.Monetary(
        string="Credit to Apply",
        compute="_compute_clinic_credit_amount",
        currency_field="clinic_credit_currency_id",
        groups="account.group_account_invoice",
        help="What the patient paid and is not applied to an invoice yet (prepayments, "
        "overpayments, credit notes), in the current company: Apply Credit applies it.",
    )
    clinic_credit_currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_clinic_credit_amount",
        groups="account.group_account_invoice",
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

    @api.depends_context("company")
    def _compute_clinic_credit_amount(self):
        company = self.env.company
        Allocation = self.env["clinic.credit.allocation"]
        for partner in self:
            domain = Allocation._clinic_open_items_domain(partner, company)
            [[residual]] = self.env["account.move.line"]._read_group(
                domain + [("amount_residual", "<", 0)], aggregates=["amount_residual:sum"]
            )
            partner.clinic_credit_amount = -(residual or 0.0)
            partner.clinic_credit_currency_id = company.currency_id

    def action_clinic_allocate_credit(self):
        """Open the wizard that applies this patient's credits to their open invoices."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Apply Credit of %s", self.display_name),
            "res_model": "clinic.credit.allocation",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

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

    @api.depends("clinic_authorization_ids")
    def _compute_clinic_authorization_count(self):
        counts = dict(
            self.env["clinic.authorization"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.clinic_authorization_count = counts.get(partner._origin, 0)

    def action_view_clinic_authorizations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_packages.clinic_authorization_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        action["name"] = action["display_name"] = self.env._(
            "Authorizations of %s", self.display_name
        )
        return action
