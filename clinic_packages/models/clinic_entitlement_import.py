"""The money of a package imported from another system (Clinic > Configuration > Import).

An imported package has no sale order and no invoice: what it holds came with an opening entry
of its import (Dr clearing account / Cr unearned revenue, one item per patient, the package's
part of it a `clinic.entitlement.opening` share), or, paid from prepaid credit, with its
imported credit. That opening value is what it was billed (its `opening` unearned revenue
movements, read with the rest of its money by `_clinic_deferred_money`), and each later use
recognises what it still holds divided by the uses left.
"""

from odoo import models


class ClinicEntitlement(models.Model):
    # a separable concern in a file of its own, on purpose (account_move_line_tax_details.py)
    _inherit = "clinic.entitlement"  # pylint: disable=consider-merging-classes-inherited

    # -------------------------------------------------------------------------
    # BUSINESS METHODS
    # -------------------------------------------------------------------------

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
