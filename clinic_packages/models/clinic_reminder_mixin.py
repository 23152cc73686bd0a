from odoo import fields, models


class ClinicReminderMixin(models.AbstractModel):
    """Reminders scheduled as to-do activities, each one once per record: a reminder has
    keys (e.g. 'left:2', 'days:30') remembered in `reminders_sent` when it is scheduled."""

    _name = "clinic.reminder.mixin"
    _description = "Clinic Reminders Sent Once"

    reminders_sent = fields.Char(
        readonly=True,
        copy=False,
        help="Reminders already sent, e.g. 'left:2,days:30', so that each one is sent once.",
    )

    def _clinic_reminder_keys(self):
        self.ensure_one()
        return set(self.reminders_sent.split(",")) if self.reminders_sent else set()

    def _clinic_days_due(self, end, days, today):
        """For reminders `days` (numbers of days) before the date `end`: the days left until
        it and the keys of the reminders due today and not sent yet."""
        days_left = (end - today).days
        sent = self._clinic_reminder_keys()
        keys = [f"days:{d}" for d in sorted(days) if 0 <= days_left <= d]
        return days_left, [key for key in keys if key not in sent]

    def _clinic_remind(self, reminders, user, today):
        """Schedule a to-do for `user` for each of `reminders` [(keys, summary, note)] whose
        keys were not all sent yet, and remember their keys. Returns whether any was."""
        self.ensure_one()
        sent = self._clinic_reminder_keys()
        due = [(keys, summary, note) for keys, summary, note in reminders if set(keys) - sent]
        for keys, summary, note in due:
            sent.update(keys)
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=today,
                summary=summary,
                note=note,
                user_id=user.id,
            )
        if due:
            self.reminders_sent = ",".join(sorted(sent))
        return bool(due)

    def _clinic_forget_reminders(self, prefixes):
        """A new limit (amount, end or expiry date) starts the reminders of keys starting
        with `prefixes` afresh."""
        for record in self.filtered("reminders_sent"):
            keys = [key for key in record.reminders_sent.split(",") if not key.startswith(prefixes)]
            record.reminders_sent = ",".join(keys) or False
