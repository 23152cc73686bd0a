from odoo import models


class CalendarAttendee(models.Model):
    _inherit = "calendar.attendee"

    def _send_invitation_emails(self):
        """The patient and the practitioner of a clinic visit get Odoo's invitation, queued
        (sent by the mail queue) rather than sent while the front desk waits."""
        clinic = self.filtered(lambda attendee: attendee.event_id.clinic_patient_id)
        if clinic:
            clinic._send_mail_to_attendees(
                self.env.ref("calendar.calendar_template_meeting_invitation", False),
                force_send=False,
            )
        others = self - clinic
        # Odoo's sending looks its template up even for no attendee: one query saved per visit
        return super(CalendarAttendee, others)._send_invitation_emails() if others else None
