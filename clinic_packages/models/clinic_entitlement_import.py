"""The money of a package imported from another system (Clinic > Configuration > Import).

An imported package has no sale order and no invoice: what it holds came with an opening entry
of its import (Dr clearing account / Cr unearned revenue, one item per patient, the package's
part of it a `clinic.entitlement.opening` record), or, paid from prepaid credit, with its
imported credit. That opening value is what it was
billed, and each later use recognises what it still holds divided by the uses left.
"""

from odoo import models


class ClinicEntitlement(models.Model):
    # a separable concern in a file of its own, on purpose (account_move_line_tax_details.py)
    _inherit = "clinic.entitlement"  # pylint: disable=consider-merging-classes-inherited

    # -------------------------------------------------------------------------
    # BUSINESS METHODS
    # -------------------------------------------------------------------------

    def _clinic_deferred_money(self):
        """An imported package invoiced at sale was billed its opening value: its parts of
        the patients' unearned items of the posted opening entries of its imports
        (`clinic.entitlement.opening`), which the unearned revenue account also holds for
        it; an opening item tagged with the package itself (the shape of the first imports)
        is already in what the account holds for it. Two grouped queries, whatever the
        number of packages."""
        result = super()._clinic_deferred_money()
        imported = self.filtered(
            lambda e: e.imported and e.id and e.billing_mode == "package_invoice"
        )
        if imported:
            shares = dict(
                self.env["clinic.entitlement.opening"]
                .sudo()
                ._read_group(
                    [("entitlement_id", "in", imported.ids), ("move_id.state", "=", "posted")],
                    ["entitlement_id"],
                    ["amount:sum"],
                )
            )
            tagged = dict(
                self.env["account.move.line"]
                .sudo()
                ._read_group(
                    [
                        ("clinic_entitlement_id", "in", imported.ids),
                        ("parent_state", "=", "posted"),
                        ("move_id.clinic_move_kind", "=", "opening"),
                        ("account_id", "in", imported.company_id.clinic_deferred_account_id.ids),
                    ],
                    ["clinic_entitlement_id"],
                    ["balance:sum"],
                )
            )
            for entitlement in imported:
                money = result[entitlement.id]
                share = entitlement.currency_id.round(shares.get(entitlement, 0.0))
                money["billed"] = entitlement.currency_id.round(
                    money["billed"] + share - tagged.get(entitlement, 0.0)
                )
                money["unearned"] = entitlement.currency_id.round(money["unearned"] + share)
        return result

    def _clinic_opening_value(self):
        """What the import brought for this package: its opening entries (invoiced at sale)
        or its imported prepayments (prepaid credit), untaxed."""
        self.ensure_one()
        return self._clinic_money()["billed"]

    def _clinic_use_value(self):
        """An imported package: what it still holds divided by the uses left to deliver
        (the uses consumed before the import carry no value here), the last use taking the
        rest so that the uses add up to the opening value to the cent."""
        self.ensure_one()
        if not self.imported:
            return super()._clinic_use_value()
        [(count, recognised)] = self.env["clinic.entitlement.usage"]._read_group(
            [("entitlement_id", "=", self.id), ("state", "=", "consumed"), ("amount", "!=", 0)],
            aggregates=["__count", "amount:sum"],
        )
        held = self.currency_id.round(self._clinic_opening_value() - recognised)
        uses_left = self.uses_total - sum(self.line_ids.mapped("used_before")) - count
        if uses_left <= 1:
            return max(held, 0.0)
        return max(min(self.currency_id.round(held / uses_left), held), 0.0)

    def _clinic_collected_total(self):
        """An imported package invoiced at sale has no invoice: what it holds came with its
        opening entries, the most a refund gives back."""
        self.ensure_one()
        if self.imported and self.billing_mode == "package_invoice":
            return self._clinic_opening_value()
        return super()._clinic_collected_total()

    def _clinic_paid_total(self):
        """An imported package invoiced at sale was paid in the other system: its opening
        value."""
        self.ensure_one()
        if self.imported and self.billing_mode == "package_invoice":
            return self._clinic_opening_value()
        return super()._clinic_paid_total()

    def _clinic_entries(self):
        """With the opening entries that brought an imported package's value."""
        entries = super()._clinic_entries()
        if self.imported:
            entries |= (
                self.env["clinic.entitlement.opening"]
                .sudo()
                .search([("entitlement_id", "=", self.id)])
                .move_id
            )
            entries |= (
                self.env["account.move.line"]
                .sudo()
                .search(
                    [
                        ("clinic_entitlement_id", "=", self.id),
                        ("move_id.clinic_move_kind", "=", "opening"),
                    ]
                )
                .move_id
            )
        return entries
