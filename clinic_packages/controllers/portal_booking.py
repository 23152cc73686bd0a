from collections import defaultdict
from datetime import timedelta
from urllib.parse import urlencode

import pytz

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

# the slots of one page of /my/packages/<id>/book, and how far ahead a patient may look
DAYS_SHOWN = 14
PAGES = 6


class ClinicPortalBooking(http.Controller):
    """`/my/packages/<id>/book`: a patient books a visit on their package (the services it
    covers, then the free times of the coming weeks by day, in the patient's time zone), and
    `/my/visits/<id>/cancel` cancels an upcoming visit. Everything goes through the package's
    and the visit's public methods (`clinic_booking_slots`, `clinic_book_slot`,
    `clinic_portal_cancel`), which check that the caller is the patient."""

    def _clinic_tz(self):
        user = request.env.user
        return user.tz or user.commercial_partner_id.tz or "UTC"

    def _clinic_own_package(self, entitlement_id):
        """The package, if the logged-in user may book on it; else None."""
        entitlement = request.env["clinic.entitlement"].browse(entitlement_id)
        try:
            if not entitlement.sudo().exists():
                return None
            entitlement._clinic_booking_patient()
        except (AccessError, MissingError):
            return None
        return entitlement

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
                    time=local.strftime("%H:%M"),
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
    def portal_clinic_book(self, entitlement_id, service_id=None, page=0, error=None, **kw):
        entitlement = self._clinic_own_package(entitlement_id)
        if entitlement is None:
            return request.redirect("/my/packages")
        package = entitlement.sudo()
        lines = package.line_ids.filtered(lambda line: line.remaining > 0)
        service = lines.service_product_id.filtered(lambda s: str(s.id) == str(service_id))
        if not service and len(lines) == 1:
            service = lines.service_product_id
        page = min(max(int(page or 0), 0), PAGES - 1)
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
        }
        if service:
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
        entitlement = self._clinic_own_package(entitlement_id)
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
            return self.portal_clinic_book(entitlement_id, service_id=service_id, error=message)
        return request.redirect(f"/my/packages?booked={event.id}")

    @http.route(
        ["/my/visits/<int:event_id>/cancel"],
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def portal_clinic_cancel(self, event_id, **kw):
        event = request.env["calendar.event"].browse(event_id)
        try:
            if not event.sudo().exists():
                raise MissingError(request.env._("This visit no longer exists."))
            attendance = event.clinic_portal_cancel()
        except (AccessError, MissingError):
            return request.redirect("/my/packages")
        except UserError as refusal:
            request.env.cr.rollback()
            return request.redirect("/my/packages?" + urlencode({"cancel_error": refusal.args[0]}))
        return request.redirect(f"/my/packages?cancelled={event_id}&attendance={attendance}")
