"""The patient's side of a clinic visit: cancelling an upcoming visit from the portal, on
time or, inside the clinic's cancellation window, as a late cancellation (counted on the
package when the package counts those). Patients have no right on calendar visits: the
caller is checked in Python (the visit is theirs), then the front desk's own action runs
trusted."""

from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.sql import create_index

from .clinic_entitlement_booking import own_patient


class CalendarEvent(models.Model):
    _inherit = "calendar.event"  # pylint: disable=consider-merging-classes-inherited

    def init(self):
        res = super().init()
        # the busy times of practitioners (online booking) are read from the events still
        # to come: an index on their end keeps that read independent of the history
        create_index(self.env.cr, "calendar_event_clinic_stop_index", self._table, ["stop"])
        return res

    def _clinic_check_own_visit(self):
        """The logged-in user is the visit's patient (or acts for them, as the portal's
        record rules allow); else AccessError. Returns the visit with sudo."""
        self.ensure_one()
        visit = self.sudo()
        if not visit.clinic_patient_id or not own_patient(self.env, visit.clinic_patient_id):
            raise AccessError(self.env._("Only the patient of a visit can cancel it."))
        return visit

    def _clinic_portal_cancel_is_late(self):
        """Whether cancelling the visit now falls inside the company's cancellation window."""
        self.ensure_one()
        visit = self.sudo()
        hours = visit._clinic_company().clinic_cancel_window_hours
        return bool(hours) and visit.start - fields.Datetime.now() < timedelta(hours=hours)

    def clinic_portal_cancel(self):
        """The patient cancels their upcoming visit: released, or a late cancellation inside
        the company's cancellation window (`clinic_cancel_window_hours`), which uses a visit
        of the package when the package counts late cancellations. Returns the visit's
        attendance afterwards ("cancelled" or "late_cancel")."""
        visit = self._clinic_check_own_visit()
        if visit.clinic_attendance != "upcoming" or visit.start <= fields.Datetime.now():
            raise UserError(
                self.env._(
                    "%(event)s can no longer be cancelled: it is not an upcoming visit. "
                    "Call the clinic.",
                    event=visit.name,
                )
            )
        late = visit._clinic_portal_cancel_is_late()
        visit.with_company(visit._clinic_company()).action_clinic_cancel(late=late)
        return visit.clinic_attendance
