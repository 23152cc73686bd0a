/** @odoo-module **/
/*
 * Screens for the README, taken in headless Chromium by tests/test_tours.py (TestScreens).
 * Each tour opens one screen, waits until it shows what it should, then asks the test for a
 * screenshot: it logs "clinic-screenshot NAME", the test captures the page and answers by
 * setting data-clinic-screenshot="NAME" on <body>, and the tour goes on.
 */

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";
import { screenshotSteps } from "@clinic_packages/../tests/tours/clinic_tour_screenshot";

const tours = registry.category("web_tour.tours");

// the Package tab of a package product (Clinic > Configuration > Packages)
tours.add("clinic_screen_product", {
    steps: () => [
        {
            content: "Open the Package tab",
            trigger: ".o_notebook a.nav-link[name=clinic_package]",
            run: "click",
        },
        ...screenshotSteps(
            "product_package_tab",
            ".o_field_widget[name=clinic_package_line_ids] .o_data_row:contains(Massage 60 min)"
        ),
    ],
});

// one patient's package: status, uses left, services with their counters
tours.add("clinic_screen_entitlement", {
    steps: () => [
        ...screenshotSteps(
            "entitlement_form",
            ".o_form_view .o_field_widget[name=line_ids] .o_data_row:contains(Massage 60 min)"
        ),
    ],
});

// a patient's packages, from the "Packages" smart button of the patient
tours.add("clinic_screen_patient_packages", {
    steps: () => [
        stepUtils.autoExpandMoreButtons(),
        {
            content: "Open the patient's packages",
            trigger: ".oe_stat_button[name=action_view_clinic_entitlements]",
            run: "click",
        },
        ...screenshotSteps(
            "patient_packages",
            ".o_kanban_view .o_kanban_record:contains(Rehab Bundle) .o_progressbar"
        ),
    ],
});

// an appointment covered by a package, with the red warning of a broken limit
tours.add("clinic_screen_appointment", {
    steps: () => [
        ...screenshotSteps(
            "appointment_form",
            ".o_form_view:has(.alert-danger .o_field_widget[name=clinic_warning]):has(.o_field_widget[name=clinic_authorization_info]:contains(left after this visit)) .o_field_widget[name=clinic_package_info]:contains(left after this visit)"
        ),
    ],
});

// the manager's landing screen: the Clinic app opens on the dashboard
tours.add("clinic_screen_dashboard", {
    steps: () => [
        ...screenshotSteps(
            "dashboard",
            ".o_kanban_view.o_clinic_dashboard .o_kanban_record:contains(Harbour Physio Clinic)"
        ),
    ],
});

// the front desk's week: every clinic visit, coloured and filtered by practitioner
tours.add("clinic_screen_calendar", {
    steps: () => [
        ...screenshotSteps(
            "appointments_calendar",
            ".o_calendar_view:has(.o_calendar_filter:contains(Practitioner) .o_calendar_filter_item:contains(Dr. Second)) .fc-event:contains(Omar Haddad)"
        ),
    ],
});

// today's visits by practitioner, with the attendance buttons
tours.add("clinic_screen_day_sheet", {
    steps: () => [
        ...screenshotSteps(
            "day_sheet",
            ".o_list_view .o_group_header:contains(Dr. Second) ~ .o_data_row:contains(Omar Haddad), .o_list_view .o_group_header:contains(Dr. Practitioner)"
        ),
    ],
});
