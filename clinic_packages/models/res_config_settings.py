from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    clinic_count_upcoming = fields.Boolean(
        related="company_id.clinic_count_upcoming", readonly=False
    )
    clinic_block_unauthorized = fields.Boolean(
        related="company_id.clinic_block_unauthorized", readonly=False
    )
    clinic_auto_allocate = fields.Boolean(related="company_id.clinic_auto_allocate", readonly=False)
    clinic_no_show_product_id = fields.Many2one(
        related="company_id.clinic_no_show_product_id", readonly=False
    )
    clinic_cancel_window_hours = fields.Integer(
        related="company_id.clinic_cancel_window_hours", readonly=False
    )
    clinic_alert_remaining = fields.Integer(
        related="company_id.clinic_alert_remaining", readonly=False
    )
    clinic_alert_days = fields.Char(related="company_id.clinic_alert_days", readonly=False)
    clinic_deferred_account_id = fields.Many2one(
        related="company_id.clinic_deferred_account_id", readonly=False
    )
    clinic_breakage_account_id = fields.Many2one(
        related="company_id.clinic_breakage_account_id", readonly=False
    )
    clinic_journal_id = fields.Many2one(related="company_id.clinic_journal_id", readonly=False)
    clinic_membership_block_unpaid = fields.Boolean(
        related="company_id.clinic_membership_block_unpaid", readonly=False
    )
