"""Weekly and monthly caps of a package (Practice Better's "uses per week / month").

A package with `cap_per_week` / `cap_per_month` covers at most that many visits of a calendar
week (Monday to Sunday, in the user's timezone, as `_clinic_visit_date`) / month. The uses
counted are the package's booked and used ones of that window, the visit's own use aside.
`_clinic_check_covers` refuses a visit beyond a cap with the next week or month it fits in;
a series leaves such occurrences uncovered with that reason (`soft`); the automatic choice of a
package passes over a capped-out one.

Imported after `clinic_entitlement_coverage`: its `_clinic_pick` is extended here.
"""

from collections import Counter
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_date

from .clinic_guard import is_trusted

# a booking counts as one use of the cap in its window
CAP_STATES = ("reserved", "consumed")


def week_of(day):
    """Monday and Sunday of `day`'s calendar week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def month_of(day):
    """First and last day of `day`'s calendar month."""
    first = day.replace(day=1)
    return first, first + relativedelta(months=1, days=-1)


class ClinicEntitlement(models.Model):
    _inherit = "clinic.entitlement"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _clinic_pick(self, visit, rows=None):
        """Pass over packages whose week or month is full at the visit's date: the next
        usable one (or none) is chosen instead, by the same statement (`_clinic_pick_sql`)
        without the ones passed over. No extra query for packages without caps."""
        package, line = super()._clinic_pick(visit, rows=rows)
        skipped = []
        while package and package._clinic_cap_error(visit):
            skipped.append(package.id)
            rows = self._clinic_pick_rows(visit, skip=skipped)
            package, line = super()._clinic_pick(visit, rows=rows)
        return package.with_env(self.env), line.with_env(self.env)

    def _clinic_check_caps(self, visit):
        """Raise a UserError when `visit` would go beyond this package's weekly or monthly
        cap. In a booking (trusted), the package's lines are locked first, as for the uses
        left, so that two bookings of the last place of a week cannot both pass."""
        self.ensure_one()
        if not (self.cap_per_week or self.cap_per_month):
            return
        if is_trusted(self.env):
            self.line_ids._clinic_lock()
        error = self._clinic_cap_error(visit)
        if error:
            raise error

    def _clinic_cap_domain(self, visit, date_from, date_to):
        domain = [
            ("entitlement_id", "=", self.id),
            ("state", "in", CAP_STATES),
            ("date", ">=", date_from),
        ]
        if date_to:
            domain.append(("date", "<=", date_to))
        own_use = visit.clinic_usage_id._origin.id
        if own_use:
            domain.append(("id", "!=", own_use))
        own_visit = visit._origin.id
        if own_visit:
            domain += ["|", ("event_id", "=", False), ("event_id", "!=", own_visit)]
        return domain

    def _clinic_cap_counts(self, visit, date_from, date_to=None):
        """Uses of this package booked or used per day from `date_from` to `date_to`
        (the visit's own aside): one grouped query."""
        return Counter(
            dict(
                self.env["clinic.entitlement.usage"]._read_group(
                    self._clinic_cap_domain(visit, date_from, date_to), ["date:day"], ["__count"]
                )
            )
        )

    def _clinic_cap_error(self, visit):
        """The UserError of the first cap `visit` goes beyond, or None."""
        self.ensure_one()
        caps = [
            (cap, window)
            for cap, window in ((self.cap_per_week, week_of), (self.cap_per_month, month_of))
            if cap
        ]
        if not caps:
            return None
        visit_date = visit._clinic_visit_date()
        windows = [window(visit_date) for _cap, window in caps]
        counts = self._clinic_cap_counts(
            visit, min(w[0] for w in windows), max(w[1] for w in windows)
        )
        for (cap, window), (first, last) in zip(caps, windows, strict=True):
            taken = sum(count for day, count in counts.items() if first <= day <= last)
            if taken >= cap:
                return self._clinic_cap_exceeded(visit, cap, window, first, taken)
        return None

    def _clinic_cap_next_window(self, visit, cap, window, last):
        """First day of the next week / month after `last` with a place left under `cap`,
        or False when the package expires before it."""
        counts = self._clinic_cap_counts(visit, last + timedelta(days=1), self.date_expiry)
        taken = Counter()
        for day, count in counts.items():
            taken[window(day)[0]] += count
        first = window(last + timedelta(days=1))[0]
        while taken[first] >= cap:
            first = window(window(first)[1] + timedelta(days=1))[0]
        if self.date_expiry and first > self.date_expiry:
            return False
        return first

    def _clinic_cap_exceeded(self, visit, cap, window, first, taken):
        last = window(first)[1]
        following = self._clinic_cap_next_window(visit, cap, window, last)
        weekly = window is week_of

        def label(day):
            if weekly:
                return format_date(self.env, day)
            return format_date(self.env, day, date_format="MMMM y")

        if weekly:
            message = self.env._(
                "Package %(name)s allows %(cap)s use(s) per week: %(taken)s are already "
                "booked or used in the week of %(week)s.",
                name=self.name,
                cap=cap,
                taken=taken,
                week=label(first),
            )
        else:
            message = self.env._(
                "Package %(name)s allows %(cap)s use(s) per month: %(taken)s are already "
                "booked or used in %(month)s.",
                name=self.name,
                cap=cap,
                taken=taken,
                month=label(first),
            )
        if not following:
            way_out = self.env._(
                "It expires before another place is free: book the visit without the package."
            )
        elif weekly:
            way_out = self.env._(
                "Book it in the week of %(week)s, or without the package.",
                week=label(following),
            )
        else:
            way_out = self.env._(
                "Book it in %(month)s, or without the package.", month=label(following)
            )
        return UserError(f"{message} {way_out}")
