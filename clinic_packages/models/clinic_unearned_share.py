from odoo import fields, models


class ClinicUnearnedShare(models.AbstractModel):
    """A package's part of a journal item on the unearned revenue account that several
    packages share: the item of a grouped entry (an expiry batch, an import's patient) is one
    item for many packages, the way Odoo groups deferral entries, and each package's part of
    it is one of these records.

    The models inheriting it (`clinic.entitlement.breakage`, `clinic.entitlement.opening`)
    only say what their entry is: the code that builds a grouped entry writes them before it
    posts it, and posting (`account.move._post`) splits the item into the unearned revenue
    movements (`clinic.unearned.move`) by them. The movements are what a package's money and
    the unearned revenue report read; these records are where the split is kept, so that an
    entry reset to draft and posted again, or a rebuilt table, is split the same way.
    """

    _name = "clinic.unearned.share"
    _description = "Package Share of an Unearned Revenue Item"
    _order = "id desc"
    _rec_name = "entitlement_id"

    # what one unit of `amount` is on the unearned revenue account, credit minus debit: +1
    # when the shares credit it (an opening value), -1 when they debit it (breakage)
    _clinic_unearned_sign = 1

    entitlement_id = fields.Many2one(
        "clinic.entitlement",
        string="Patient Package",
        required=True,
        index=True,
        ondelete="restrict",
        readonly=True,
    )
    move_id = fields.Many2one(
        "account.move",
        string="Entry",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    move_line_id = fields.Many2one(
        "account.move.line",
        string="Unearned Item",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
        help="The entry's item on the unearned revenue account that this amount is part of.",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(related="entitlement_id.partner_id", string="Patient")
    state = fields.Selection(related="move_id.state", string="Entry Status")
    amount = fields.Monetary(currency_field="currency_id", readonly=True)

    def _prepare_clinic_share_vals(self, item, shares):
        """Values of the shares `shares` {package: amount} of the journal item `item`."""
        return [
            {
                "entitlement_id": entitlement.id,
                "company_id": item.company_id.id,
                "move_id": item.move_id.id,
                "move_line_id": item.id,
                "amount": amount,
            }
            for entitlement, amount in shares.items()
        ]
