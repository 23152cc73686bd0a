from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .clinic_entitlement import OPEN_STATES
from .clinic_guard import trusted

# what a confirmed line's package price is made of
PRICE_FIELDS = {"price_unit", "discount", "tax_id", "product_uom_qty"}
# packages that take a new price of their line: not yet settled (closed, expired)
REPRICED_STATES = (*OPEN_STATES, "exhausted")


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    clinic_entitlement_ids = fields.One2many(
        "clinic.entitlement", "sale_line_id", string="Packages", readonly=True
    )
    clinic_package_ok = fields.Boolean(related="product_id.clinic_package_ok")
    clinic_uses_remaining = fields.Integer(
        string="Uses Left",
        compute="_compute_clinic_uses_remaining",
        help="Uses left on the packages this line sold (booked visits not counted as left).",
    )

    @api.depends("clinic_entitlement_ids.uses_remaining", "clinic_entitlement_ids.state")
    def _compute_clinic_uses_remaining(self):
        for line in self:
            line.clinic_uses_remaining = sum(
                line.clinic_entitlement_ids.filtered(
                    lambda e: e.state in ("draft", "active", "paused")
                ).mapped("uses_remaining")
            )

    def _compute_qty_to_invoice(self):
        """A prepaid-credit package is not invoiced itself: its visits are."""
        res = super()._compute_qty_to_invoice()
        for line in self:
            if line.product_id.clinic_package_ok and line.product_id.clinic_billing_mode == (
                "prepaid_credit"
            ):
                line.qty_to_invoice = 0.0
        return res

    @api.constrains("product_id", "product_uom_qty")
    def _check_clinic_package_qty(self):
        """A package is given back with the refund wizard, not with a negative quantity
        (which would credit the package's value with no package behind it). Whole units are
        checked when the packages are made (confirmation)."""
        for line in self.filtered(lambda sol: sol.product_id.clinic_package_ok):
            qty = line.product_uom_qty
            if qty < 0:
                raise ValidationError(
                    self.env._(
                        "%(package)s: a package is sold in whole units, 0 or more (not "
                        "%(qty)s). To give a package back, refund it from the package (Refund "
                        "button).",
                        package=line.product_id.display_name,
                        qty=qty,
                    )
                )

    def _clinic_prepare_entitlement(self):
        self.ensure_one()
        order = self.order_id
        vals = self.env["clinic.entitlement"]._prepare_from_product(self.product_id)
        vals.update(
            {
                "partner_id": order.partner_id.id,
                "sale_line_id": self.id,
                "company_id": order.company_id.id,
                **self._clinic_package_price(),
            }
        )
        return vals

    def _clinic_package_price(self):
        """The price of one package sold on this line (its value per use follows)."""
        self.ensure_one()
        quantity = self.product_uom_qty or 1.0
        currency = self.order_id.currency_id
        return {
            "amount_total": currency.round(self.price_total / quantity),
            "amount_untaxed": currency.round(self.price_subtotal / quantity),
        }

    def _clinic_sync_prices(self):
        """The price of a confirmed line changed (unit price, discount, taxes, quantity):
        its packages still open take the new price, so that each use is valued at what the
        line sells it for. A closed package keeps the price it was settled at."""
        for line in self.filtered(
            lambda sol: sol.product_id.clinic_package_ok and sol.order_id.state == "sale"
        ):
            packages = line.sudo().clinic_entitlement_ids.filtered(
                lambda e: e.state in REPRICED_STATES
            )
            price = line._clinic_package_price()
            for package in packages:
                if any(package[name] != value for name, value in price.items()):
                    trusted(package).write(price)

    def _clinic_sync_entitlements(self):
        """One package per unit sold on confirmed lines: create the missing ones, cancel the
        ones a reduced quantity no longer pays for (only if nothing was used)."""
        Entitlement = self.env["clinic.entitlement"].sudo()
        to_create, to_activate = [], Entitlement
        for line in self.filtered(
            lambda sol: sol.product_id.clinic_package_ok and sol.order_id.state == "sale"
        ):
            if not float(line.product_uom_qty).is_integer():
                raise UserError(
                    self.env._(
                        "%(package)s on %(order)s: a package is sold in whole units, not "
                        "%(qty)s. Enter a whole quantity.",
                        package=line.product_id.display_name,
                        order=line.order_id.name,
                        qty=line.product_uom_qty,
                    )
                )
            live = line.sudo().clinic_entitlement_ids.filtered(lambda e: e.state != "cancelled")
            missing = int(line.product_uom_qty) - len(live)
            if missing > 0:
                to_create += [line._clinic_prepare_entitlement() for _i in range(missing)]
            elif missing < 0:
                # unused packages go first (newest first): a package in use is kept
                extra = live.sorted(
                    lambda e: (any(u.state != "released" for u in e.usage_ids), -e.id)
                )[:-missing]
                extra._clinic_check_cancellable(line.order_id)
                extra.action_cancel()
        if to_create:
            created = Entitlement.create(to_create)
            # a membership product: each package sold is the first period of a membership
            created._clinic_start_membership()
            to_activate = created.filtered(lambda e: e.activation != "on_payment")
            to_activate._clinic_activate()
        return True

    def write(self, vals):
        res = super().write(vals)
        if PRICE_FIELDS.intersection(vals):
            self._clinic_sync_prices()
        if "product_uom_qty" in vals:
            self._clinic_sync_entitlements()
            # the packages of a line already invoiced changed: its posted invoices are split
            # between them again (a line's packages exist from its confirmation, before any
            # invoice, so only a change of quantity makes this necessary)
            invoices = (
                self.filtered(lambda line: line.state == "sale")
                .sudo()
                .invoice_lines.move_id.filtered(lambda move: move.state == "posted")
            )
            if invoices:
                self.env["clinic.unearned.move"].sudo()._clinic_refresh(invoices)
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_clinic_entitlements(self):
        entitlements = self.sudo().clinic_entitlement_ids
        entitlements._clinic_check_cancellable(self.order_id)
        entitlements.filtered(lambda e: e.state != "cancelled").action_cancel()
        entitlements.unlink()
