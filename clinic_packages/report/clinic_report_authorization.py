from odoo import api, fields, models
from odoo.tools import SQL


class ClinicReportAuthorization(models.Model):
    """One row per insurance authorization: approved, used, scheduled, remaining and
    utilization, by patient, payer and period (TheraNest's authorization utilization)."""

    _name = "clinic.report.authorization"
    _inherit = ["clinic.report.mixin"]
    _description = "Authorization Utilization"
    _auto = False
    _rec_name = "name"
    _order = "date_start desc, id desc"
    _depends = {
        "clinic.authorization": [
            "name",
            "partner_id",
            "payer_id",
            "company_id",
            "auth_type",
            "priority",
            "date_start",
            "date_end",
            "state",
            "allowed",
            "used",
            "scheduled",
            "remaining",
            "utilization",
        ],
    }

    authorization_id = fields.Many2one("clinic.authorization", readonly=True)
    name = fields.Char(string="Authorization Number", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Patient", readonly=True)
    payer_id = fields.Many2one("res.partner", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    auth_type = fields.Selection(selection="_selection_auth_type", string="Type", readonly=True)
    priority = fields.Selection(selection="_selection_priority", readonly=True)
    state = fields.Selection(selection="_selection_state", string="Status", readonly=True)
    date_start = fields.Date(string="Start", readonly=True)
    date_end = fields.Date(string="End", readonly=True)
    allowed = fields.Integer(string="Approved", readonly=True)
    used = fields.Integer(readonly=True, help="Sessions or units of kept visits.")
    scheduled = fields.Integer(readonly=True, help="Sessions or units of upcoming visits.")
    remaining = fields.Integer(readonly=True)
    utilization = fields.Float(
        string="Utilization (%)",
        aggregator="avg",
        digits=(16, 1),
        readonly=True,
        help="Used as a percentage of approved (grouped: the average of the authorizations).",
    )
    nbr = fields.Integer(string="# Authorizations", readonly=True)

    def _authorization_selection(self, name):
        return self.env["clinic.authorization"]._fields[name].selection

    @api.model
    def _selection_auth_type(self):
        return self._authorization_selection("auth_type")

    @api.model
    def _selection_priority(self):
        return self._authorization_selection("priority")

    @api.model
    def _selection_state(self):
        return self._authorization_selection("state")

    def _select(self):
        """The columns: the authorization's (`a`) own stored figures."""
        return SQL(
            """
            a.id AS id,
            a.id AS authorization_id,
            a.name AS name,
            a.partner_id AS partner_id,
            a.payer_id AS payer_id,
            a.company_id AS company_id,
            a.auth_type AS auth_type,
            a.priority AS priority,
            a.state AS state,
            a.date_start AS date_start,
            a.date_end AS date_end,
            COALESCE(a.allowed, 0) AS allowed,
            COALESCE(a.used, 0) AS used,
            COALESCE(a.scheduled, 0) AS scheduled,
            COALESCE(a.remaining, 0) AS remaining,
            COALESCE(a.utilization, 0.0) AS utilization,
            1 AS nbr
            """
        )

    def _from(self):
        return SQL("clinic_authorization a")

    def action_open_authorization(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "clinic.authorization",
            "res_id": self.authorization_id.id,
            "views": [(False, "form")],
        }
