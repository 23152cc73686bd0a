from odoo import api, fields, models
from odoo.tools import SQL


class ClinicReportUnearned(models.Model):
    """The movements of the unearned revenue account, each attributed to a package.

    One row per journal item posted on a company's unearned revenue account: an item of a
    package's own entries (recognition, breakage, refund, transfer) belongs to its package;
    a package invoice (or credit note) line belongs to the packages of its sale line, split
    equally between them (the first one takes the rounding remainder); the item of a grouped
    expiry entry is split between its packages by their `clinic.entitlement.breakage`
    amounts; any other item stays without package. The rows therefore add up to the general
    ledger balance of the account, and a filter on the date (date <= D) gives the unearned
    balance at D, per package or patient.
    Prepaid-credit packages hold their unearned money as unapplied credit, not here.

    The rows are the movements `clinic.unearned.move` that the posting code records (the
    split is made once, when an entry is posted), so that reading the report is a sum over one
    narrow indexed table.
    """

    _name = "clinic.report.unearned"
    _inherit = ["clinic.report.mixin"]
    _description = "Unearned Package Revenue"
    _auto = False
    _rec_name = "move_id"
    _order = "date, id"
    _depends = {
        "clinic.unearned.move": [
            "move_line_id",
            "move_id",
            "date",
            "entitlement_id",
            "product_id",
            "partner_id",
            "company_id",
            "currency_id",
            "account_id",
            "kind",
            "amount",
        ]
    }

    move_line_id = fields.Many2one("account.move.line", string="Journal Item", readonly=True)
    move_id = fields.Many2one("account.move", string="Entry", readonly=True)
    date = fields.Date(readonly=True)
    entitlement_id = fields.Many2one("clinic.entitlement", string="Patient Package", readonly=True)
    product_id = fields.Many2one("product.product", string="Package", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Patient", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    account_id = fields.Many2one("account.account", readonly=True)
    kind = fields.Selection(
        selection="_selection_kind",
        string="Movement",
        readonly=True,
    )
    amount = fields.Monetary(
        string="Unearned",
        readonly=True,
        help="Credit minus debit on the unearned revenue account: what the movement adds to "
        "the revenue still owed in visits.",
    )

    @api.model
    def _selection_kind(self):
        return self.env["clinic.unearned.move"]._fields["kind"].selection

    def _select(self):
        """The columns: the movements recorded by the posting code (`u`)."""
        return SQL(
            """
            u.id AS id,
            u.move_line_id AS move_line_id,
            u.move_id AS move_id,
            u.date AS date,
            u.entitlement_id AS entitlement_id,
            u.product_id AS product_id,
            u.partner_id AS partner_id,
            u.company_id AS company_id,
            u.currency_id AS currency_id,
            u.account_id AS account_id,
            u.kind AS kind,
            u.amount AS amount
            """
        )

    def _from(self):
        return SQL("clinic_unearned_move u")
