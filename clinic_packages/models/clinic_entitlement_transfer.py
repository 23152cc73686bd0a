"""A package's remaining uses given to another patient (README, "Sharing and transfer").

The uses not delivered become a new package of the other patient, on the same terms; the
unearned value moves with one entry of the package journal (Dr unearned, the old package and
patient / Cr unearned, the new package and patient). The original keeps its history and is
`transferred`: it covers nothing more. Its upcoming visits move to the new package (the new
owner's) or are released.
"""

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_amount

from .clinic_guard import GROUP_MANAGER


class ClinicEntitlement(models.Model):
    _inherit = "clinic.entitlement"  # pylint: disable=consider-merging-classes-inherited

    # -------------------------------------------------------------------------
    # BUSINESS METHODS
    # -------------------------------------------------------------------------

    def _clinic_check_transferable(self):
        """Raise a UserError saying why this package cannot be transferred, if it cannot."""
        self.ensure_one()
        name = self.name
        reasons = {
            "refunded": self.env._("Package %s was refunded: nothing is left to transfer.", name),
            "cancelled": self.env._("Package %s was cancelled: nothing is left to transfer.", name),
            "expired": self.env._(
                "Package %s has expired: extend its expiry date first if the clinic agrees.", name
            ),
            "transferred": self.env._("Package %s was already transferred.", name),
            "draft": self.env._(
                "Package %s is not active yet: it can be transferred once its invoice is paid.",
                name,
            ),
            "exhausted": self.env._("Package %s is used up: nothing is left to transfer.", name),
        }
        if self.state in reasons:
            raise UserError(reasons[self.state])
        today = fields.Date.context_today(self)
        if self.date_expiry and self.date_expiry < today:
            raise UserError(reasons["expired"])
        if self.billing_mode != "package_invoice":
            raise UserError(
                self.env._(
                    "Package %s is paid by a prepayment: refund what is left of it and sell "
                    "the other patient a package instead.",
                    name,
                )
            )
        if not self.can_transfer:
            raise self._clinic_state_error(self.env._("transferred"))
        if self.currency_id.compare_amounts(self.amount_untaxed, 0) > 0 and (
            self.currency_id.compare_amounts(self._clinic_money()["billed"], 0) <= 0
        ):
            raise UserError(
                self.env._(
                    "Package %s is not invoiced yet: post its invoice before transferring it, "
                    "so that its value can move with it.",
                    name,
                )
            )

    def _prepare_transfer_vals(self, partner, value):
        """Values of the package of `partner` that receives the uses of this one not
        delivered (booked ones included), on the same terms, worth `value` (untaxed)."""
        self.ensure_one()
        lines = [
            fields.Command.create(
                {
                    "service_product_id": line.service_product_id.id,
                    "quantity": line.quantity - line.used,
                    "patient_pays": line.patient_pays,
                    "sequence": line.sequence,
                }
            )
            for line in self.line_ids
            if line.quantity - line.used > 0
        ]
        ratio = self.amount_total / self.amount_untaxed if self.amount_untaxed else 1.0
        return {
            "partner_id": partner.id,
            "product_id": self.product_id.id,
            "company_id": self.company_id.id,
            "state": "active",
            "activation": self.activation,
            "billing_mode": self.billing_mode,
            "count_no_show": self.count_no_show,
            "count_late_cancel": self.count_late_cancel,
            "practitioner_ids": [fields.Command.set(self.practitioner_ids.ids)],
            "location_ids": [fields.Command.set(self.location_ids.ids)],
            "date_start": self.date_start or fields.Date.context_today(self),
            "date_expiry": self.date_expiry,
            "amount_untaxed": value,
            "amount_total": self.currency_id.round(value * ratio),
            "transferred_from_id": self.id,
            "line_ids": lines,
        }

    def _prepare_transfer_entry_vals(self, new, value):
        """The entry moving `value` of unearned revenue from this package to `new`: Dr on
        this package and its patient, Cr on `new` and its patient."""
        self.ensure_one()
        deferred = self.company_id._clinic_accounting()[0]
        ref = self.env._(
            "Transfer of package %(name)s to %(new)s (%(patient)s)",
            name=self.name,
            new=new.name,
            patient=new.partner_id.display_name,
        )
        vals = self._prepare_clinic_entry_vals(
            "transfer",
            [(deferred, value, self.partner_id), (deferred, -value, new.partner_id)],
            ref,
        )
        # the credit is the new package's: its ledger (and what it was billed) shows it
        vals["line_ids"][1][2]["clinic_entitlement_id"] = new.id
        return vals

    def _clinic_transfer(self, partner, move_visits=True):
        """Give the uses of this package not delivered to `partner`: a new package, the
        unearned value moved by an entry, this one `transferred`. Upcoming visits of
        `partner` move to the new package with `move_visits`; the others are released.
        Returns the new package."""
        self.ensure_one()
        self = self._clinic_begin(GROUP_MANAGER, self.env._("transfer a package"))
        self._clinic_check_transferable()
        if partner == self.partner_id:
            raise UserError(
                self.env._(
                    "Package %(name)s already belongs to %(patient)s: choose another patient.",
                    name=self.name,
                    patient=partner.display_name,
                )
            )
        value = max(self._clinic_money()["unearned"], 0.0)
        new = self.create(self._prepare_transfer_vals(partner, value))
        if not self.currency_id.is_zero(value):
            move = (
                self.env["account.move"]
                .sudo()
                .with_company(self.company_id)
                .create(self._prepare_transfer_entry_vals(new, value))
            )
            move.action_post()
        # the visits booked on it: the new owner's move with the uses, the others are freed
        upcoming = self._clinic_upcoming_visits()
        moved = upcoming.filtered(lambda e: move_visits and e.clinic_patient_id == partner)
        if moved:
            moved.write({"clinic_entitlement_id": new.id})
        if upcoming - moved:
            (upcoming - moved).write(
                {
                    "clinic_entitlement_id": False,
                    "clinic_coverage_note": self.env._(
                        "Package %(name)s was transferred to %(patient)s: this visit is no "
                        "longer covered.",
                        name=self.name,
                        patient=partner.display_name,
                    ),
                }
            )
        self.usage_ids.filtered(lambda u: u.state == "reserved")._action_release("package_closed")
        self.write({"state": "transferred", "transferred_to_id": new.id})
        amount = format_amount(self.env, value, self.currency_id)
        self.message_post(
            body=self.env._(
                "Transferred to %(patient)s as package %(new)s: %(uses)s use(s) and "
                "%(amount)s of unearned value (%(moved)s upcoming visit(s) moved, "
                "%(released)s released). This package can no longer be used.",
                patient=partner.display_name,
                new=new.name,
                uses=new.uses_total,
                amount=amount,
                moved=len(moved),
                released=len(upcoming - moved),
            )
        )
        new.message_post(
            body=self.env._(
                "Transferred from %(patient)s's package %(old)s: %(uses)s use(s) and "
                "%(amount)s of unearned value.",
                patient=self.partner_id.display_name,
                old=self.name,
                uses=new.uses_total,
                amount=amount,
            )
        )
        return new
