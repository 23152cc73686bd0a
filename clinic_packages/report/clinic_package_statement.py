from odoo import api, models

from ..models.clinic_guard import GROUP_USER, is_trusted


class ClinicStatementReport(models.AbstractModel):
    """The package statements are the clinic's documents: printed by its staff (Clinic
    Users), or by the portal for the patient (rendered as the superuser after the portal
    checked the patient). The report's `groups_id` only hides its menu entry: a report URL
    is checked here, so that every role gets the same answer for every package."""

    _name = "report.clinic_packages.report_entitlement_statement"
    _description = "Clinic: package statement, checked caller"
    _statement_model = "clinic.entitlement"

    @api.model
    def _get_report_values(self, docids, data=None):
        if not is_trusted(self.env):
            self.env["clinic.entitlement"]._clinic_check_group(
                GROUP_USER, self.env._("print a package statement")
            )
        model = self._statement_model
        return {"doc_ids": docids, "doc_model": model, "docs": self.env[model].browse(docids)}


class ClinicPatientStatementReport(models.AbstractModel):
    _name = "report.clinic_packages.report_package_statement"
    _inherit = "report.clinic_packages.report_entitlement_statement"
    _description = "Clinic: patient's package statement, checked caller"
    _statement_model = "res.partner"
