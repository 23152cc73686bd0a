"""A package's money: its journal entries, what the ledger says it holds, breakage and the
refund documents (README, "Money, in Odoo accounting")."""

from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_amount

# the kinds of unearned revenue movements that bill a package (invoiced at sale): its sale
# line's invoices and credit notes, its renewal invoices, the value a transfer or rollover
# moved to (or away from) it, an import's opening value
BILLED_KINDS = ("invoice", "credit_note", "membership", "transfer", "opening")


class ClinicEntitlement(models.Model):
    # a separable concern in a file of its own, on purpose (account_move_line_tax_details.py)
    _inherit = "clinic.entitlement"  # pylint: disable=consider-merging-classes-inherited

    # -------------------------------------------------------------------------
    # FIELDS
    # -------------------------------------------------------------------------

    move_ids = fields.One2many(
        "account.move",
        "clinic_entitlement_id",
        string="Journal Entries",
        readonly=True,
        groups="base.group_user",
    )
    breakage_ids = fields.One2many(
        "clinic.entitlement.breakage",
        "entitlement_id",
        string="Expiry Breakage",
        readonly=True,
        help="The package's share of the grouped entries of the daily expiry job.",
        groups="base.group_user",
    )
    payment_ids = fields.One2many(
        "account.payment",
        "clinic_entitlement_id",
        string="Prepayments",
        readonly=True,
        groups="base.group_user",
    )
    move_count = fields.Integer(
        string="Entries", compute="_compute_move_count", groups="base.group_user"
    )
    amount_billed = fields.Monetary(
        string="Billed (untaxed)",
        currency_field="currency_id",
        compute="_compute_money",
        help="Untaxed: the package's share of its posted invoice (prepaid credit: its "
        "prepayments). Billed is not paid: see Paid.",
        groups="base.group_user",
    )
    amount_billed_total = fields.Monetary(
        string="Billed (taxes included)",
        currency_field="currency_id",
        compute="_compute_patient_money",
        help="What the patient was charged for this package, taxes included: its share of "
        "its posted invoice (prepaid credit: its prepayments). The most a refund gives back.",
        groups="base.group_user",
    )
    amount_paid = fields.Monetary(
        string="Paid",
        currency_field="currency_id",
        compute="_compute_patient_money",
        help="What the patient has paid for this package so far, taxes included: its share "
        "of the payments reconciled with its invoice (a credit note is not a payment; "
        "prepaid credit: its prepayments).",
        groups="base.group_user",
    )
    amount_recognised = fields.Monetary(
        string="Recognised",
        currency_field="currency_id",
        compute="_compute_money",
        groups="base.group_user",
    )
    amount_refunded = fields.Monetary(
        string="Refunded",
        currency_field="currency_id",
        compute="_compute_money",
        groups="base.group_user",
    )
    amount_breakage = fields.Monetary(
        string="Breakage",
        currency_field="currency_id",
        compute="_compute_money",
        groups="base.group_user",
    )
    deferred_balance = fields.Monetary(
        string="Unearned",
        currency_field="currency_id",
        compute="_compute_money",
        help="Collected and not yet recognised, refunded or broken: what the clinic still "
        "owes the patient in visits.",
        groups="base.group_user",
    )

    # -------------------------------------------------------------------------
    # COMPUTE METHODS
    # -------------------------------------------------------------------------

    @api.depends("move_ids", "breakage_ids")
    def _compute_move_count(self):
        for entitlement in self:
            entitlement.move_count = len(entitlement._clinic_entries())

    @api.depends(
        "move_ids.state",
        "breakage_ids.state",
        "payment_ids.state",
        "usage_ids.amount",
        "sale_line_id.invoice_lines",
    )
    def _compute_money(self):
        for entitlement in self:
            money = entitlement._clinic_money()
            entitlement.amount_billed = money["billed"]
            entitlement.amount_recognised = money["recognised"]
            entitlement.amount_refunded = money["refunded"]
            entitlement.amount_breakage = money["breakage"]
            entitlement.deferred_balance = money["unearned"]

    @api.depends(
        "move_ids.state",
        "payment_ids.state",
        "sale_line_id.invoice_lines",
        "sale_line_id.clinic_entitlement_ids",
    )
    def _compute_patient_money(self):
        for entitlement in self:
            if not entitlement.id:
                entitlement.amount_billed_total = entitlement.amount_paid = 0.0
                continue
            entitlement.amount_billed_total = entitlement._clinic_collected_total()
            entitlement.amount_paid = entitlement._clinic_paid_total()

    # -------------------------------------------------------------------------
    # BUSINESS METHODS
    # -------------------------------------------------------------------------

    # what the ledger says ----------------------------------------------------
    def _clinic_entries(self):
        """The package's own journal entries, those it has items in without being their
        package (a renewal invoice of several periods, a grouped rollover, an opening entry),
        and the grouped entries it has a share of (expiry, import)."""
        self.ensure_one()
        entries = self.sudo().move_ids
        if self.id:
            entries |= (
                self.env["account.move.line"]
                .sudo()
                .search([("clinic_entitlement_id", "=", self.id)])
                .move_id
            )
            for name in self.env["clinic.unearned.move"]._clinic_share_models():
                entries |= self.env[name].sudo().search([("entitlement_id", "=", self.id)]).move_id
        return entries

    def _clinic_ledger(self):
        """Posted journal items of this package's own entries, by kind and account."""
        self.ensure_one()
        lines = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("clinic_entitlement_id", "=", self.id),
                    ("parent_state", "=", "posted"),
                ]
            )
        )
        return lines

    def _clinic_money(self):
        """The package's money, untaxed, from the ledger: billed = recognised + unearned +
        refunded + breakage, where unearned is what the ledger still holds for it."""
        self.ensure_one()
        currency = self.currency_id
        lines = self._clinic_ledger() if self.id else self.env["account.move.line"]
        deferred = self.company_id.clinic_deferred_account_id
        breakage_account = self.company_id.clinic_breakage_account_id

        def total(kind, account=None, exclude=None, sign=-1):
            selected = lines.filtered(
                lambda line: (
                    line.move_id.clinic_move_kind == kind
                    and (account is None or line.account_id == account)
                    and (exclude is None or line.account_id != exclude)
                )
            )
            return currency.round(sign * sum(selected.mapped("balance")))

        # billed and held on the unearned account, its shares of grouped expiry entries
        deferred_money = self._clinic_deferred_money()[self.id]
        breakage = total("breakage", breakage_account) + deferred_money["grouped"]
        if self.billing_mode == "package_invoice":
            billed, unearned = deferred_money["billed"], deferred_money["unearned"]
            recognised = total("recognition", exclude=deferred)
            refunded = total("refund", deferred, sign=1)
        else:
            payments = self.sudo().payment_ids.filtered(lambda p: p.state in ("in_process", "paid"))
            inbound = payments.filtered(lambda p: p.payment_type == "inbound")
            billed = currency.round(sum(inbound.mapped("amount_company_currency_signed")))
            refunded = currency.round(
                -sum((payments - inbound).mapped("amount_company_currency_signed"))
            )
            recognised = total("visit")
            unearned = currency.round(billed - recognised - refunded - breakage)
        return {
            "billed": billed,
            "recognised": recognised,
            "refunded": refunded,
            "breakage": breakage,
            "unearned": unearned,
        }

    def _clinic_deferred_money(self):
        """{id: {billed, unearned, grouped}} in one grouped query on the unearned revenue
        movements (`clinic.unearned.move`), whatever the number of packages: for a package
        invoiced at sale, what was billed to it on the unearned revenue account (its part of
        its sale line's invoices and credit notes, its renewal invoices, the value transfers
        and rollovers gave it or took, its imports' opening values) and what that account
        still holds for it (unearned); for any package, its parts of posted grouped expiry
        entries (grouped). `_clinic_money()` reads it for one package, the expiry job and an
        import for a batch."""
        saved = self.filtered("id")  # a package being created has no ledger yet
        rows = []
        if saved:
            rows = (
                self.env["clinic.unearned.move"]
                .sudo()
                ._read_group(
                    [("entitlement_id", "in", saved.ids)],
                    ["entitlement_id", "kind", "shared"],
                    ["amount:sum"],
                )
            )
        sums = defaultdict(lambda: {"billed": 0.0, "unearned": 0.0, "grouped": 0.0})
        for entitlement, kind, shared, amount in rows:
            money = sums[entitlement.id]
            money["unearned"] += amount
            if kind in BILLED_KINDS:
                money["billed"] += amount
            elif kind == "breakage" and shared:
                money["grouped"] -= amount
        result = {}
        for entitlement in self:
            money, round_ = sums[entitlement.id], entitlement.currency_id.round
            invoiced = entitlement.billing_mode == "package_invoice"
            result[entitlement.id] = {
                "billed": round_(money["billed"]) if invoiced else 0.0,
                "unearned": round_(money["unearned"]) if invoiced else 0.0,
                "grouped": round_(money["grouped"]),
            }
        return result

    def _clinic_use_value(self):
        """Untaxed value of the next use: price / uses, the last use taking what is left so
        that the uses add up to the price to the cent."""
        self.ensure_one()
        if self.membership_id and self.uses_unlimited:
            # an unlimited membership period earns its value at its end, not per use
            return 0.0
        # summed in SQL: one query, whatever the number of uses already delivered
        [(count, recognised)] = self.env["clinic.entitlement.usage"]._read_group(
            [("entitlement_id", "=", self.id), ("state", "=", "consumed"), ("amount", "!=", 0)],
            aggregates=["__count", "amount:sum"],
        )
        left = self.currency_id.round(self.amount_untaxed - recognised)
        if count + 1 >= self.uses_total:
            return max(left, 0.0)
        return max(min(self.unit_value, left), 0.0)

    def _clinic_unbilled_value(self):
        """Prepaid credit mode: the value of the uses delivered whose visit invoice is still a
        draft: the prepayment pays them when they are posted (as far as it goes)."""
        self.ensure_one()
        if self.billing_mode != "prepaid_credit":
            return 0.0
        usages = self.usage_ids.filtered(
            lambda u: u.state == "consumed" and u.move_id.state == "draft"
        )
        return self.currency_id.round(sum(usages.mapped("amount")))

    # journal entries ---------------------------------------------------------
    def _prepare_clinic_entry_vals(self, kind, lines, ref, date=None, company=None):
        """Values of an entry of the package journal. `lines`: (account, amount, partner), a
        positive amount is a debit, a partner None for none. On one package the entry and its
        items are that package's; on none (the grouped expiry entry, itemised by its
        `clinic.entitlement.breakage` records) the entry is `company`'s."""
        if self:
            self.ensure_one()
        company = company or self.company_id
        journal = company._clinic_accounting()[2]
        package = {"clinic_entitlement_id": self.id} if self else {}
        line_vals_list = []
        for account, amount, partner in lines:
            line_vals = {
                "account_id": account.id,
                "debit": max(amount, 0.0),
                "credit": max(-amount, 0.0),
            }
            if partner is not None:
                line_vals["partner_id"] = partner.id
            line_vals_list.append(dict(line_vals, name=ref, **package))
        return {
            "move_type": "entry",
            "journal_id": journal.id,
            "date": date or fields.Date.context_today(self),
            "ref": ref,
            **package,
            "clinic_move_kind": kind,
            "line_ids": [fields.Command.create(vals) for vals in line_vals_list],
        }

    def _clinic_post_entry(self, kind, lines, ref, date=None):
        """Post a journal entry of this package. `lines`: (account, amount, partner), a
        positive amount is a debit."""
        self.ensure_one()
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(self.company_id)
            .create(self._prepare_clinic_entry_vals(kind, lines, ref, date=date))
        )
        move.action_post()
        return move

    def _clinic_receivable_account(self):
        self.ensure_one()
        return self.partner_id.with_company(self.company_id).property_account_receivable_id

    def _clinic_reconcile_with_prepayment(self, move):
        """Reconcile the receivable items of `move` with this package's open prepayment."""
        self.ensure_one()
        receivable = self._clinic_receivable_account()
        own = move.line_ids.filtered(lambda line: line.account_id == receivable)
        credits = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("payment_id.clinic_entitlement_id", "=", self.id),
                    ("account_id", "=", receivable.id),
                    ("parent_state", "=", "posted"),
                    ("reconciled", "=", False),
                ]
            )
        )
        if own and credits:
            (own | credits).reconcile()

    # breakage ----------------------------------------------------------------
    def _clinic_post_breakage(self, ref, allow_negative=False):
        """Recognise what the package still holds as breakage income (with
        `allow_negative`, also take back what a refund paid beyond it)."""
        for entitlement in self:
            amount = entitlement._clinic_money()["unearned"]
            # what the prepayment still owes delivered visits not invoiced yet stays for them
            amount -= min(entitlement._clinic_unbilled_value(), max(amount, 0.0))
            if entitlement.currency_id.is_zero(amount) or (amount < 0 and not allow_negative):
                continue
            deferred, breakage, __ = entitlement.company_id._clinic_accounting()
            patient = entitlement.partner_id
            if entitlement.billing_mode == "prepaid_credit":
                # the unapplied prepayment is forfeited: it leaves the patient's credit
                move = entitlement._clinic_post_entry(
                    "breakage",
                    [
                        (entitlement._clinic_receivable_account(), amount, patient),
                        (breakage, -amount, patient),
                    ],
                    ref,
                )
                entitlement._clinic_reconcile_with_prepayment(move)
            else:
                entitlement._clinic_post_entry(
                    "breakage", [(deferred, amount, patient), (breakage, -amount, patient)], ref
                )

    def _clinic_post_grouped_breakage(self):
        """Recognise what these packages (invoiced at sale, of one company) still hold as
        breakage in one entry, itemised per package in `clinic.entitlement.breakage`."""
        if not self:
            return self.env["account.move"]
        company = self.company_id.ensure_one()
        money = self._clinic_deferred_money()
        shares = {
            e: money[e.id]["unearned"]
            for e in self
            if company.currency_id.compare_amounts(money[e.id]["unearned"], 0) > 0
        }
        if not shares:
            return self.env["account.move"]
        today = fields.Date.context_today(self)
        ref = self.env._(
            "Expiry of %(count)s package(s) on %(date)s", count=len(shares), date=today
        )
        return self._clinic_post_shared_breakage(company, shares, ref)

    @api.model
    def _clinic_post_shared_breakage(self, company, shares, ref):
        """Post one breakage entry of `company` for `shares` {package: amount}: Dr unearned /
        Cr breakage for their total, itemised per package in `clinic.entitlement.breakage`
        (written before posting, which splits the item into the packages' movements)."""
        deferred, breakage, __ = company._clinic_accounting()
        total = company.currency_id.round(sum(shares.values()))
        today = fields.Date.context_today(self)
        # the entry of no single package: its items carry neither package nor partner
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            .create(
                self.browse()._prepare_clinic_entry_vals(
                    "breakage",
                    [(deferred, total, None), (breakage, -total, None)],
                    ref,
                    date=today,
                    company=company,
                )
            )
        )
        item = move.line_ids.filtered(lambda line: line.account_id == deferred)
        # the shares first: posting splits the item into the packages' unearned movements
        Breakage = self.env["clinic.entitlement.breakage"].sudo()
        Breakage.create(Breakage._prepare_clinic_share_vals(item, shares))
        move.action_post()
        return move

    def _clinic_reverse_breakage(self):
        """An expired package extended: its breakage entries are reversed, and its share of
        grouped expiry entries is given back by an entry of its own."""
        shares = self.sudo().breakage_ids
        moves = self.sudo().move_ids.filtered(
            lambda m: (
                m.clinic_move_kind == "breakage"
                and m.state == "posted"
                and not m.reversed_entry_id
                and not m.reversal_move_ids
                and m not in shares.reversal_move_id
            )
        )
        if moves:
            moves.line_ids.remove_move_reconcile()
            moves._reverse_moves(
                [{"ref": self.env._("Reversal: %s", move.ref)} for move in moves], cancel=True
            )
        for share in shares.filtered(lambda b: b.state == "posted" and not b.reversal_move_id):
            entitlement = share.entitlement_id
            deferred, breakage, __ = entitlement.company_id._clinic_accounting()
            patient = entitlement.partner_id
            share.reversal_move_id = entitlement._clinic_post_entry(
                "breakage",
                [(breakage, share.amount, patient), (deferred, -share.amount, patient)],
                self.env._(
                    "Reversal of the expiry of package %(name)s (%(entry)s)",
                    name=entitlement.name,
                    entry=share.move_id.name,
                ),
            )

    # memberships --------------------------------------------------------------
    @api.model
    def _clinic_analytic_distribution(self, company, account, partner, product=None, cache=None):
        """The analytic distribution Odoo would give a journal item of `company` on `account`
        for `partner` (and `product`): its distribution models' answer, looked up once per
        (company, account, partner, product) in `cache`. Given with the items of a batch,
        Odoo does not look it up again item by item."""
        product = product or self.env["product.product"]
        cache = {} if cache is None else cache
        key = (company, account, partner, product)
        if key not in cache:
            cache[key] = (
                self.env["account.analytic.distribution.model"]._get_distribution(
                    {
                        "product_id": product.id,
                        "product_categ_id": product.categ_id.id,
                        "partner_id": partner.id,
                        "partner_category_id": partner.category_id.ids,
                        "account_prefix": account.code,
                        "company_id": company.id,
                    }
                )
                or False
            )
        return cache[key]

    def _clinic_post_grouped_rollover(self, targets):
        """Move the value of the uses these ending membership periods roll over to their next
        periods, in one entry per company: `targets` {ending period: (next period, value)}.
        Each pair of items is Dr unearned (ending period) / Cr unearned (next period), the
        patient as partner, so that each period's ledger says what it gave and received."""
        moves = self.env["account.move"]
        for company in self.company_id:
            pairs = [
                (ending, period, value)
                for ending, (period, value) in targets.items()
                if ending.company_id == company and company.currency_id.compare_amounts(value, 0)
            ]
            if not pairs:
                continue
            deferred, __, journal = company._clinic_accounting()
            today = fields.Date.context_today(self)
            ref = self.env._(
                "Membership rollover of %(count)s period(s) on %(date)s",
                count=len(pairs),
                date=today,
            )
            line_vals, analytic = [], {}
            for ending, period, value in pairs:
                patient = ending.partner_id
                distribution = self._clinic_analytic_distribution(
                    company, deferred, patient, cache=analytic
                )
                # the balance given: no debit/credit inverse computed item by item
                line_vals += [
                    {
                        "account_id": deferred.id,
                        "balance": value,
                        "partner_id": patient.id,
                        "analytic_distribution": distribution,
                        "clinic_entitlement_id": ending.id,
                        "name": self.env._("Rolled over to %(period)s", period=period.name),
                    },
                    {
                        "account_id": deferred.id,
                        "balance": -value,
                        "partner_id": patient.id,
                        "analytic_distribution": distribution,
                        "clinic_entitlement_id": period.id,
                        "name": self.env._("Rolled over from %(period)s", period=ending.name),
                    },
                ]
            move = (
                self.env["account.move"]
                .sudo()
                .with_company(company)
                .create(
                    {
                        "move_type": "entry",
                        "journal_id": journal.id,
                        "date": today,
                        "ref": ref,
                        "clinic_move_kind": "transfer",
                        "line_ids": [fields.Command.create(vals) for vals in line_vals],
                    }
                )
            )
            move.action_post()
            moves |= move
        return moves

    def _clinic_recognise_period(self):
        """An unlimited membership period ends: the value it still holds was earned over the
        period (any number of visits could use it), so it is revenue of the first unlimited
        service, not breakage."""
        for period in self:
            amount = period._clinic_money()["unearned"]
            if period.currency_id.compare_amounts(amount, 0) <= 0:
                continue
            deferred = period.company_id._clinic_accounting()[0]
            service = period.line_ids.filtered("unlimited")[:1].service_product_id
            income = service.with_company(
                period.company_id
            ).product_tmpl_id._get_product_accounts()["income"]
            if not income:
                raise UserError(
                    self.env._(
                        "%(service)s has no income account: set one on the product (or its "
                        "category) so that membership %(name)s can earn its period.",
                        service=service.display_name,
                        name=period.membership_id.name,
                    )
                )
            period._clinic_post_entry(
                "recognition",
                [(deferred, amount, period.partner_id), (income, -amount, period.partner_id)],
                self.env._(
                    "Unlimited period %(name)s (%(start)s to %(end)s) earned",
                    name=period.name,
                    start=period.date_start,
                    end=period.date_expiry,
                ),
                date=period.date_expiry,
            )

    # refund documents --------------------------------------------------------
    def _clinic_collected_total(self):
        """What the patient was billed for this package, taxes included (paid or not; prepaid
        credit: the prepayments): the most a refund can give back."""
        self.ensure_one()
        if self.billing_mode == "prepaid_credit":
            return self._clinic_money()["billed"]
        lines = self._clinic_invoice_lines()
        parts = self.env["clinic.unearned.move"]._clinic_package_parts(self, lines)
        return self.currency_id.round(
            sum(
                parts.get(line.id, 0.0) * (-1 if line.move_id.move_type == "out_refund" else 1)
                for line in lines
            )
        )

    def _clinic_invoice_lines(self):
        """The posted lines of the package's sale line on invoices and credit notes other than
        the package's own (a refund's credit note is the package's); a renewed membership
        period: its line of its posted renewal invoice (which may bill other periods of the
        patient too)."""
        self.ensure_one()
        if self.membership_id and not self.sale_line_id:
            return (
                self.env["account.move.line"]
                .sudo()
                .search(
                    [
                        ("clinic_entitlement_id", "=", self.id),
                        ("move_id.clinic_move_kind", "=", "membership"),
                        ("parent_state", "=", "posted"),
                        ("display_type", "=", "product"),
                    ]
                )
            )
        return self.sale_line_id.sudo().invoice_lines.filtered(
            lambda line: line.parent_state == "posted" and not line.move_id.clinic_entitlement_id
        )

    def _clinic_package_taxes(self):
        """The taxes the package was billed with."""
        self.ensure_one()
        if self.membership_id and not self.sale_line_id:
            return self.membership_id.sudo().tax_ids
        return self.sale_line_id.sudo().tax_id

    def _clinic_paid_total(self):
        """What the patient paid for this package, taxes included: its share of the payments
        reconciled with its invoices (credit notes settling them are not payments; prepaid
        credit: the prepayments)."""
        self.ensure_one()
        if self.billing_mode == "prepaid_credit":
            return self._clinic_money()["billed"]
        lines = self._clinic_invoice_lines()
        parts = self.env["clinic.unearned.move"]._clinic_package_parts(self, lines)
        paid = 0.0
        for invoice in lines.move_id.filtered(lambda m: m.move_type == "out_invoice"):
            if invoice.currency_id.is_zero(invoice.amount_total):
                continue
            partials = invoice._get_reconciled_invoices_partials()[0]
            received = sum(
                amount
                for __, amount, counterpart in partials
                if counterpart.move_id.move_type not in ("out_refund", "out_invoice")
            )
            own = sum(parts.get(line.id, 0.0) for line in lines & invoice.invoice_line_ids)
            paid += received * own / invoice.amount_total
        return self.currency_id.round(paid)

    def _clinic_check_refund_amount(self, amount):
        self.ensure_one()
        billed = self._clinic_collected_total()
        if (
            self.currency_id.compare_amounts(amount, 0.0) < 0
            or self.currency_id.compare_amounts(amount, billed) > 0
        ):
            raise UserError(
                self.env._(
                    "Package %(name)s: a refund must be between 0 and %(billed)s, what was "
                    "billed for it, taxes included (asked: %(amount)s).",
                    name=self.name,
                    billed=format_amount(self.env, billed, self.currency_id),
                    amount=format_amount(self.env, amount, self.currency_id),
                )
            )

    def _clinic_refund_price(self, amount):
        """The unit price of the credit note refunding `amount` (taxes included): the amount
        itself under taxes included in the price, else its untaxed share."""
        self.ensure_one()
        taxes = self._clinic_package_taxes()
        if taxes and all(taxes.mapped("price_include")):
            return amount
        if self.amount_total:
            return self.currency_id.round(amount * self.amount_untaxed / self.amount_total)
        return amount

    def _clinic_refund_untaxed(self, amount):
        """The untaxed part of a refund of `amount` (taxes included): what the package's
        Refunded (untaxed) grows by. A prepayment paid back carries no tax."""
        self.ensure_one()
        if self.billing_mode == "prepaid_credit":
            return amount
        taxes = self._clinic_package_taxes()
        price = self._clinic_refund_price(amount)
        if not taxes:
            return price
        return taxes.compute_all(
            price, currency=self.currency_id, product=self.product_id, partner=self.partner_id
        )["total_excluded"]

    def _prepare_refund_credit_note_vals(self, amount, invoice):
        """Values of the credit note refunding `amount` (taxes included) against the package
        invoice `invoice`: the package's taxes, its untaxed share of the amount."""
        self.ensure_one()
        taxes = self._clinic_package_taxes()
        price = self._clinic_refund_price(amount)
        return {
            "move_type": "out_refund",
            "partner_id": (invoice.partner_id or self.partner_id).id,
            "reversed_entry_id": invoice.id,
            "invoice_origin": self.name,
            "ref": self.env._("Refund of package %(name)s", name=self.name),
            "clinic_entitlement_id": self.id,
            "clinic_move_kind": "refund",
            "invoice_line_ids": [
                fields.Command.create(
                    {
                        "product_id": self.product_id.id,
                        "name": self.env._(
                            "Refund: %(package)s (%(name)s)",
                            package=self.product_id.display_name,
                            name=self.name,
                        ),
                        "quantity": 1,
                        "price_unit": price,
                        "tax_ids": [fields.Command.set(taxes.ids)],
                        "clinic_entitlement_id": self.id,
                    }
                )
            ],
        }

    def _clinic_refund_invoice(self, amount):
        invoice = (
            self._clinic_invoice_lines()
            .move_id.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
            .sorted("id")[-1:]
        )
        credit_note = (
            self.env["account.move"]
            .sudo()
            .with_company(self.company_id)
            .create(self._prepare_refund_credit_note_vals(amount, invoice))
        )
        credit_note.action_post()
        if invoice and invoice.payment_state not in ("paid", "in_payment", "reversed"):
            # an unpaid package invoice: the credit note reduces what is owed
            # (unless posting already matched it with the invoice it reverses)
            receivable = credit_note.line_ids.filtered(
                lambda line: line.account_type == "asset_receivable" and not line.reconciled
            )
            if receivable:
                invoice.js_assign_outstanding_line(receivable.id)
        return credit_note

    def _prepare_refund_payment_vals(self, amount, prepayment):
        """Values of the outbound payment giving `amount` of the prepayment `prepayment`
        back to the patient (in its journal)."""
        self.ensure_one()
        return {
            "payment_type": "outbound",
            "partner_type": "customer",
            "partner_id": self.partner_id.id,
            "amount": amount,
            "journal_id": prepayment.journal_id.id,
            "memo": self.env._("Refund of package %(name)s", name=self.name),
            "clinic_entitlement_id": self.id,
        }

    def _clinic_refund_prepayment(self, amount):
        prepayment = self.sudo().payment_ids.filtered(
            lambda p: p.payment_type == "inbound" and p.state in ("in_process", "paid")
        )[:1]
        payment = (
            self.env["account.payment"]
            .sudo()
            .with_company(self.company_id)
            .create(self._prepare_refund_payment_vals(amount, prepayment))
        )
        payment.action_post()
        self._clinic_reconcile_with_prepayment(payment.move_id)
        return payment

    # -------------------------------------------------------------------------
    # ACTIONS
    # -------------------------------------------------------------------------

    def action_register_prepayment(self):
        """Register the patient's prepayment of this package (prepaid credit mode)."""
        self.ensure_one()
        if self.billing_mode != "prepaid_credit":
            raise UserError(
                self.env._(
                    "Package %(name)s is invoiced at sale: register the payment on its invoice.",
                    name=self.name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Prepayment of %s", self.name),
            "res_model": "account.payment",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_payment_type": "inbound",
                "default_partner_type": "customer",
                "default_partner_id": self.partner_id.id,
                "default_amount": self.amount_total,
                "default_clinic_entitlement_id": self.id,
                "default_memo": self.name,
            },
        }

    def action_view_moves(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_journal_line")
        action.update(
            domain=[("id", "in", self._clinic_entries().ids)],
            context={"create": False},
            name=self.env._("Entries of %s", self.name),
        )
        return action
