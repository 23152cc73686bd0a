import re

from odoo import fields, http
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager
from odoo.exceptions import AccessError, MissingError
from odoo.http import content_disposition, request

# past visits listed under the packages, most recent first; upcoming ones, soonest first
VISITS_SHOWN = 50
# the statement of chosen packages, one per patient (also printed from packages in the back office)
STATEMENT_REPORT = "clinic_packages.action_report_entitlement_statement"


class ClinicPortal(CustomerPortal):
    """`/my/packages`: the logged-in patient's packages, what is left of them, their upcoming
    and past visits. Records are searched as the user (the portal record rules keep each
    patient to their own), then read with sudo for display (products, practitioners).
    Appointments (calendar.event) are the one exception: portal users cannot read them, so
    they are searched with sudo, on a domain limited to the user's own commercial partner
    (`_clinic_upcoming_visits_domain`)."""

    def _clinic_packages_domain(self, partner):
        """The patient's packages and those a family member shares with them."""
        patient = partner.commercial_partner_id.ids
        return [
            "|",
            ("partner_id", "child_of", patient),
            ("shared_partner_ids", "child_of", patient),
            ("state", "!=", "cancelled"),
        ]

    def _clinic_own_packages_domain(self, partner):
        """The patient's own packages: what their statements show."""
        return [
            ("partner_id", "child_of", partner.commercial_partner_id.ids),
            ("state", "!=", "cancelled"),
        ]

    def _clinic_upcoming_visits_domain(self):
        """The booked visits still to come of the logged-in user's patient (their commercial
        partner and its contacts). Searched with sudo: it must stay limited to that patient."""
        patient = request.env.user.commercial_partner_id
        return [
            ("clinic_patient_id", "child_of", patient.ids),
            ("clinic_attendance", "=", "upcoming"),
            ("start", ">=", fields.Datetime.now()),
        ]

    def _clinic_upcoming_visits(self):
        """The logged-in patient's upcoming visits, soonest first, as sudo records for
        display (portal users have no access to calendar.event)."""
        Event = request.env["calendar.event"].sudo()
        if not request.env.user.commercial_partner_id:
            return Event.browse()
        return Event.search(
            self._clinic_upcoming_visits_domain(), order="start, id", limit=VISITS_SHOWN
        )

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "clinic_package_count" in counters:
            Entitlement = request.env["clinic.entitlement"]
            values["clinic_package_count"] = (
                Entitlement.search_count(self._clinic_packages_domain(request.env.user.partner_id))
                if Entitlement.has_access("read")
                else 0
            )
        return values

    def _prepare_clinic_packages_values(self, page=1):
        Entitlement = request.env["clinic.entitlement"]
        Usage = request.env["clinic.entitlement.usage"]
        partner = request.env.user.partner_id
        domain = self._clinic_packages_domain(partner)
        values = self._prepare_portal_layout_values()
        pager = portal_pager(
            url="/my/packages",
            total=Entitlement.search_count(domain),
            page=page,
            step=self._items_per_page,
        )
        entitlements = Entitlement.search(
            domain, limit=self._items_per_page, offset=pager["offset"]
        )
        # the uses of the patient's packages (by the family too) and their own uses of
        # packages shared with them
        visits = Usage.search(
            [
                "|",
                ("partner_id", "child_of", partner.commercial_partner_id.ids),
                ("patient_id", "child_of", partner.commercial_partner_id.ids),
                ("state", "=", "consumed"),
            ],
            order="date desc, id desc",
            limit=VISITS_SHOWN,
        )
        values.update(
            {
                "page_name": "clinic_packages",
                "default_url": "/my/packages",
                "pager": pager,
                "entitlements": entitlements.sudo(),
                "visits": visits.sudo(),
                "upcoming_visits": self._clinic_upcoming_visits(),
                "clinic_patient": partner.commercial_partner_id,
                # the patient's own timezone for the times of their visits
                "clinic_tz": request.env.user.tz or partner.commercial_partner_id.tz or "UTC",
            }
        )
        return values

    @http.route(
        ["/my/packages", "/my/packages/page/<int:page>"], type="http", auth="user", website=True
    )
    def portal_my_packages(self, page=1, **kw):
        values = self._prepare_clinic_packages_values(page=page)
        # why a cancellation was refused: the server's words, kept in the session for one
        # page (a query parameter cannot put text on the page)
        values["clinic_cancel_error"] = request.session.pop("clinic_cancel_error", None)
        return request.render("clinic_packages.portal_my_packages", values)

    @http.route(["/my/packages/statement"], type="http", auth="user", website=True)
    def portal_my_package_statement(self, report_type="pdf", download=False, **kw):
        """The statement of every package listed on /my/packages (PDF, or HTML with
        report_type=html). The packages are searched as the user: the portal record rules keep
        the patient to their own."""
        entitlements = request.env["clinic.entitlement"].search(
            self._clinic_own_packages_domain(request.env.user.partner_id)
        )
        if not entitlements:
            return request.redirect("/my/packages")
        return self._show_report(
            model=entitlements.sudo(),
            report_type=report_type,
            report_ref=STATEMENT_REPORT,
            download=download,
        )

    @http.route(
        ["/my/packages/<int:entitlement_id>/statement"], type="http", auth="user", website=True
    )
    def portal_my_package_statement_one(
        self, entitlement_id, report_type="pdf", download=False, **kw
    ):
        """The statement of one package; another patient's package (or none) goes back to
        /my/packages."""
        try:
            entitlement_sudo = self._document_check_access("clinic.entitlement", entitlement_id)
        except (AccessError, MissingError):
            return request.redirect("/my/packages")
        if entitlement_sudo.partner_id.commercial_partner_id != (
            request.env.user.commercial_partner_id
        ):
            # shared with the user: its statement (the family's uses) is the owner's
            return request.redirect("/my/packages")
        return self._show_report(
            model=entitlement_sudo,
            report_type=report_type,
            report_ref=STATEMENT_REPORT,
            download=download,
        )

    def _get_http_headers(self, model, report_type, report, download):
        # the portal names a PDF after model._get_report_base_filename(), which only portal
        # documents (portal.mixin) have: packages are not such documents
        if model._name != "clinic.entitlement" or report_type != "pdf":
            return super()._get_http_headers(model, report_type, report, download)
        subject = model.name if len(model) == 1 else model.partner_id[:1].name
        filename = "{}.pdf".format(re.sub(r"\W+", "_", f"Package Statement {subject or ''}"))
        return {
            "Content-Type": "application/pdf",
            "Content-Length": len(report),
            "Content-Disposition": content_disposition(
                filename, disposition_type="attachment" if download else "inline"
            ),
        }
