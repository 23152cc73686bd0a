from collections import defaultdict
from datetime import timedelta

import pytz

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request
from odoo.tools.misc import format_date, format_time

from ..models.clinic_entitlement_booking import booking_moment

# the slots of one page of /my/packages/<id>/book, and how far ahead a patient may look
DAYS_SHOWN = 14
PAGES = 6
# what the booking page reads from its URL
BOOK_PARAMS = ("service_id", "page", "start", "user_id", "location_id")
# a day as the patient reads it, in their language ("Monday 7 December 2026"; LDML)
DAY_FORMAT = "EEEE d MMMM y"


def patient_time(local):
    """A local time as the patient reads it, in their language (9:00 AM, 09:00, ...)."""
    return format_time(request.env, local.time(), time_format="short")


def patient_day(day):
    return format_date(request.env, day, date_format=DAY_FORMAT)


class ClinicPortalBooking(http.Controller):
    """`/my/packages/<id>/book`: a patient books a visit on their package (the services it
    covers, then the free times of the coming weeks by day, in the patient's time zone), and
    `/my/visits/<id>/cancel` cancels an upcoming visit. Everything goes through the package's
    and the visit's public methods (`clinic_booking_slots`, `clinic_book_slot`,
    `clinic_portal_cancel`), which check that the caller is the patient."""

    def _clinic_tz(self):
        user = request.env.user
        return user.tz or user.commercial_partner_id.tz or "UTC"

    def _clinic_own_record(self, model, record_id):
        """The `model` record of `record_id` if the logged-in user is its patient, else None
        (the routes then go back to My Packages, as Odoo's portal does for a document that is
        not the user's). A package is the patient's when they may book on it
        (`clinic.entitlement._clinic_booking_patient`), a visit when it is theirs
        (`calendar.event._clinic_check_own_visit`): the models decide, not the routes."""
        checks = {
            "clinic.entitlement": "_clinic_booking_patient",
            "calendar.event": "_clinic_check_own_visit",
        }
        record = request.env[model].browse(record_id)
        try:
            if not record.sudo().exists():
                return None
            getattr(record, checks[model])()
        except (AccessError, MissingError):
            return None
        return record

    def _clinic_choice(self, package, start, user_id, location_id, tz_name):
        """The time the patient chose, to confirm: `start` (UTC string), its local date and
        time, the practitioner and location records, if they are among the package's; else
        None. Whether the time is still free is checked when the visit is booked."""
        try:
            moment = booking_moment(request.env, start, "start")
            user_id, location_id = int(user_id or 0), int(location_id or 0)
        except (UserError, ValueError):
            return None
        user = package._clinic_booking_practitioners().filtered(lambda u: u.id == user_id)
        locations = package._clinic_booking_locations()
        location = locations.filtered(lambda loc: loc.id == location_id)
        if not moment or not user or bool(locations) != bool(location):
            return None
        local = pytz.utc.localize(moment).astimezone(pytz.timezone(tz_name))
        return {
            "start": fields.Datetime.to_string(moment),
            "date": local.date(),
            "time": patient_time(local),
            "user": user,
            "location": location,
        }

    def _clinic_days(self, slots, tz_name):
        """The slots grouped by day in the patient's time zone: [(date, [slot, ...]), ...],
        each slot with its local `time`, its practitioner and location records."""
        tz = pytz.timezone(tz_name)
        env = request.env
        users = env["res.users"].sudo().browse({slot["user_id"] for slot in slots})
        locations = (
            env["clinic.location"]
            .sudo()
            .browse({slot["location_id"] for slot in slots if slot["location_id"]})
        )
        users.fetch(["name"])
        locations.fetch(["name"])
        days = defaultdict(list)
        for slot in slots:
            local = pytz.utc.localize(fields.Datetime.to_datetime(slot["start"])).astimezone(tz)
            days[local.date()].append(
                dict(
                    slot,
                    time=patient_time(local),
                    user=users.browse(slot["user_id"]),
                    location=locations.browse(slot["location_id"] or []),
                )
            )
        return sorted(days.items())

    @http.route(
        ["/my/packages/<int:entitlement_id>/book"],
        type="http",
        auth="user",
        website=True,
        methods=["GET"],
    )
    def portal_clinic_book(self, entitlement_id, **params):
        """The services of the package, then the free times of the chosen service; with a
        time chosen (`start`, `user_id`, `location_id`, as the slot buttons send them), the
        visit to confirm (the confirmation posts it). What the page says went wrong is the
        server's: a query parameter cannot put text in it."""
        return self._clinic_book_page(
            entitlement_id, **{name: params.get(name) for name in BOOK_PARAMS}
        )

    def _clinic_book_page(
        self,
        entitlement_id,
        service_id=None,
        page=0,
        start=None,
        user_id=None,
        location_id=None,
        error=None,
    ):
        entitlement = self._clinic_own_record("clinic.entitlement", entitlement_id)
        if entitlement is None:
            return request.redirect("/my/packages")
        package = entitlement.sudo()
        lines = package.line_ids.filtered(lambda line: line.unlimited or line.remaining > 0)
        service = lines.service_product_id.filtered(lambda s: str(s.id) == str(service_id))
        if not service and len(lines) == 1:
            service = lines.service_product_id
        try:
            page = min(max(int(page or 0), 0), PAGES - 1)
        except ValueError:
            page = 0
        tz_name = self._clinic_tz()
        values = {
            "page_name": "clinic_packages_book",
            "entitlement": package,
            "lines": lines,
            "service": service,
            "days": [],
            "page": page,
            "pages": PAGES,
            "error": error,
            "clinic_tz": tz_name,
            "clinic_day": patient_day,
            "choice": None,
        }
        if service and start and not error:
            values["choice"] = self._clinic_choice(package, start, user_id, location_id, tz_name)
            if values["choice"] is None:
                values["error"] = request.env._(
                    "This time could not be read: choose one of the times offered."
                )
        if service and not values["choice"]:
            begin = fields.Datetime.now() + timedelta(days=DAYS_SHOWN * page)
            try:
                slots = entitlement.with_context(tz=tz_name).clinic_booking_slots(
                    service.id, begin, begin + timedelta(days=DAYS_SHOWN)
                )
            except UserError as refusal:
                values["error"] = refusal.args[0]
            else:
                values["days"] = self._clinic_days(slots, tz_name)
        return request.render("clinic_packages.portal_clinic_book", values)

    @http.route(
        ["/my/packages/<int:entitlement_id>/book"],
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def portal_clinic_book_post(
        self, entitlement_id, service_id=None, start=None, user_id=None, location_id=None, **kw
    ):
        entitlement = self._clinic_own_record("clinic.entitlement", entitlement_id)
        if entitlement is None:
            return request.redirect("/my/packages")
        try:
            event = entitlement.with_context(tz=self._clinic_tz()).clinic_book_slot(
                int(service_id or 0), start, int(user_id or 0), int(location_id or 0) or False
            )
        except (UserError, ValueError) as refusal:
            message = (
                refusal.args[0]
                if isinstance(refusal, UserError)
                else request.env._("This time could not be read: choose one of the times offered.")
            )
            request.env.cr.rollback()
            return self._clinic_book_page(entitlement_id, service_id=service_id, error=message)
        return request.redirect(f"/my/packages?booked={event.id}")

    @http.route(
        ["/my/visits/<int:event_id>/cancel"],
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def portal_clinic_cancel(self, event_id, **kw):
        event = self._clinic_own_record("calendar.event", event_id)
        if event is None:
            return request.redirect("/my/packages")
        try:
            attendance = event.clinic_portal_cancel()
        except UserError as refusal:
            request.env.cr.rollback()
            # shown once by My Packages: the page shows the server's words, never the URL's
            request.session["clinic_cancel_error"] = refusal.args[0]
            return request.redirect("/my/packages")
        return request.redirect(f"/my/packages?cancelled={event_id}&attendance={attendance}")
