/** @odoo-module **/
/*
 * The front desk in a real browser: sell a package, book a visit on it, record the arrival,
 * and be refused a visit past the last use. The data (patients, services, packages, users)
 * is built by tests/test_tours.py, which runs these tours and checks the database after them.
 */

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const tours = registry.category("web_tour.tours");

/** Type `text` in the many2one field `name` and pick the suggestion containing `choice`. */
function pickMany2one(name, text, choice = text) {
    return [
        {
            content: `Type "${text}" in ${name}`,
            trigger: `.o_field_widget[name=${name}] input`,
            run: `edit ${text}`,
        },
        {
            content: `Choose "${choice}"`,
            trigger: `.o_field_widget[name=${name}] .o-autocomplete--dropdown-item a:contains("${choice}")`,
            run: "click",
        },
    ];
}

/** From the appointments (calendar view), a new visit form through the list view. */
function newVisitSteps() {
    return [
        {
            content: "The appointments open on the calendar",
            trigger: ".o_calendar_view",
        },
        {
            content: "Switch to the list of appointments",
            trigger: ".o_switch_view.o_list",
            run: "click",
        },
        {
            content: "Create an appointment",
            trigger: ".o_list_view .o_list_button_add",
            run: "click",
        },
        {
            content: "Subject of the visit",
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: "edit Physio follow-up",
        },
    ];
}

// a. Sell a package on a quotation, confirm it, and find it on the patient.
tours.add("clinic_sell_package", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("clinic_packages.menu_clinic_root", "Open the Clinic app"),
        {
            content: "Open the Packages menu",
            trigger: '.o_main_navbar [data-menu-xmlid="clinic_packages.menu_clinic_packages"]',
            run: "click",
        },
        {
            content: "Go to the quotations",
            trigger: '.o-dropdown-item[data-menu-xmlid="clinic_packages.menu_clinic_sell"]',
            run: "click",
        },
        {
            content: "New quotation",
            trigger: ".o_list_button_add",
            run: "click",
        },
        ...pickMany2one("partner_id", "Maria Lopez"),
        {
            content: "Add a line",
            trigger: ".o_field_x2many_list_row_add a:contains(Add a product)",
            run: "click",
        },
        ...pickMany2one("product_template_id", "8 Physio", "8 Physio Sessions"),
        {
            content: "The package is priced",
            trigger: '.o_data_row td[name=price_subtotal]:contains("1,600.00")',
        },
        {
            content: "Confirm the quotation",
            trigger: ".o_statusbar_buttons button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The order is confirmed",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Sales Order)",
        },
        {
            content: "The order shows the package it sold",
            trigger: ".oe_stat_button[name=action_view_clinic_entitlements]:contains(Packages):contains(1)",
        },
        {
            content: "The line shows the uses left",
            trigger: ".o_data_row td[name=clinic_uses_remaining]:contains(8)",
        },
        {
            content: "Open the patient",
            trigger: ".o_field_widget[name=partner_id] a.o_form_uri",
            run: "click",
        },
        {
            content: "The patient's form",
            trigger: ".o_form_view .o_field_widget[name=name]:contains(Maria Lopez), .o_form_view .o_field_widget[name=name] input:value(Maria Lopez)",
        },
        stepUtils.autoExpandMoreButtons(),
        {
            content: "Open the patient's packages",
            trigger: ".oe_stat_button[name=action_view_clinic_entitlements]:contains(Packages)",
            run: "click",
        },
        {
            content: "The package is there with its uses left",
            trigger: ".o_kanban_record:contains(8 Physio Sessions):contains(8 left)",
        },
        {
            content: "Open it",
            trigger: ".o_kanban_record:contains(8 Physio Sessions)",
            run: "click",
        },
        {
            content: "Its form says all 8 uses are left",
            trigger: ".o_form_view .o_field_widget[name=uses_remaining]:contains(8)",
        },
        {
            content: "It is active",
            trigger: ".o_statusbar_status button.o_arrow_button_current[data-value=active]",
        },
    ],
});

// b. Book a visit for the patient: the package is chosen for them; then they arrive.
tours.add("clinic_book_visit", {
    url: "/odoo/action-clinic_packages.clinic_visit_action",
    steps: () => [
        ...newVisitSteps(),
        ...pickMany2one("clinic_patient_id", "Maria Lopez"),
        ...pickMany2one("clinic_service_id", "Physio", "Physio 45 min"),
        ...pickMany2one("user_id", "Dr. Pract", "Dr. Practitioner"),
        {
            content: "The patient's package is chosen",
            trigger: ".o_field_widget[name=clinic_entitlement_id] input:value(/^PKG\\//)",
        },
        {
            content: "and says what is left after this visit",
            trigger: ".o_field_widget[name=clinic_package_info]:contains(7 of 8 left after this visit)",
        },
        {
            content: "No warning",
            trigger: ".o_form_view:not(:has(.o_field_widget[name=clinic_warning]))",
        },
        ...stepUtils.saveForm(),
        {
            content: "Saved, the visit holds one use of the package",
            trigger: ".o_field_widget[name=clinic_package_info]:contains(7 of 8 left after this visit)",
        },
        {
            content: "The patient arrives",
            trigger: ".o_statusbar_buttons button[name=action_clinic_arrive]",
            run: "click",
        },
        {
            content: "The visit is marked arrived",
            trigger: ".o_statusbar_status button.o_arrow_button_current[data-value=arrived]",
        },
        {
            content: "Undo is offered",
            trigger: ".o_statusbar_buttons button[name=action_clinic_reset]",
        },
        {
            content: "Open the package",
            trigger: ".o_field_widget[name=clinic_entitlement_id] a.o_form_uri",
            run: "click",
        },
        {
            content: "The package counts one use",
            trigger: ".oe_stat_button[name=action_view_usages]:contains(Used):contains(1)",
        },
        {
            content: "and 7 left",
            trigger: ".o_form_view .o_field_widget[name=uses_remaining]:contains(7)",
        },
        {
            content: "The service line too",
            trigger: ".o_field_widget[name=line_ids] .o_data_row:contains(Physio 45 min) td[name=used]:contains(1)",
        },
    ],
});

// c. A used-up package is not offered, and the form says why.
tours.add("clinic_book_past_last_use", {
    url: "/odoo/action-clinic_packages.clinic_visit_action",
    steps: () => [
        ...newVisitSteps(),
        ...pickMany2one("clinic_patient_id", "James Carter"),
        ...pickMany2one("clinic_service_id", "Massage", "Massage 60 min"),
        {
            content: "No package is chosen: its only use is booked already",
            trigger: ".o_field_widget[name=clinic_entitlement_id] input:value(/^$/)",
        },
        {
            content: "The red warning says the package is used up",
            trigger: '.alert-danger .o_field_widget[name=clinic_warning]:contains("Massage 60 min left (0 used, 1 booked of 1)")',
        },
        {
            content: "Look for the used-up package",
            trigger: ".o_field_widget[name=clinic_entitlement_id] input",
            run: "edit PKG",
        },
        {
            content: "It is not offered: only packages that can pay for the visit are",
            trigger: ".o_field_widget[name=clinic_entitlement_id]:not(:has(.o-autocomplete--dropdown-item a:contains(PKG/)))",
        },
        {
            content: "Discard the visit",
            trigger: ".o_form_button_cancel",
            run: "click",
        },
        {
            content: "Back to the list, nothing booked",
            trigger: ".o_list_view",
        },
    ],
});

// The patient packages list: the filters and groupings the front desk uses.
tours.add("clinic_package_filters", {
    url: "/odoo/action-clinic_packages.clinic_entitlement_action",
    steps: () => [
        {
            content: "Open packages are listed",
            trigger: ".o_list_view .o_data_row:contains(Rehab Bundle)",
        },
        {
            content: "Used-up packages are not",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Single Massage)))",
        },
        {
            content: "Open the search options",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Add the used-up packages",
            trigger: ".o_filter_menu .o-dropdown-item:contains(Used Up)",
            run: "click",
        },
        {
            content: "They are listed too",
            trigger: ".o_list_view .o_data_row:contains(Single Massage)",
        },
        {
            content: "Only those expiring within 30 days",
            trigger: ".o_filter_menu .o-dropdown-item:contains(Expiring in 30 Days)",
            run: "click",
        },
        {
            content: "The package expiring in two weeks remains, alone",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Rehab Bundle))):not(:has(.o_data_row:contains(Single Massage))) .o_data_row:contains(8 Physio Sessions)",
        },
        {
            content: "Group by package",
            trigger: ".o_group_by_menu .o-dropdown-item:contains(Package)",
            run: "click",
        },
        {
            content: "One group per package",
            trigger: ".o_list_view .o_group_header:contains(8 Physio Sessions)",
        },
    ],
});

// d. Refund a package through the wizard: a credit note against the package invoice.
tours.add("clinic_refund_package", {
    steps: () => [
        {
            content: "The package is active",
            trigger: ".o_statusbar_status button.o_arrow_button_current[data-value=active]",
        },
        {
            content: "Refund it",
            trigger: ".o_statusbar_buttons button[name=action_refund]",
            run: "click",
        },
        {
            content: "The wizard suggests the price of the uses not delivered",
            trigger: '.modal .o_field_widget[name=suggested_amount]:contains("1,400.00")',
        },
        {
            content: "Refund less than suggested",
            trigger: ".modal .o_field_widget[name=amount] input",
            run: "edit 1000",
        },
        {
            content: "Confirm the refund",
            trigger: ".modal .modal-footer button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The credit note opens, posted",
            trigger: ".o_form_view:has(.o_statusbar_status button.o_arrow_button_current[data-value=posted]) .o_field_widget[name=move_type]:contains(Credit Note), .o_form_view:has(.o_statusbar_status button.o_arrow_button_current[data-value=posted]) span:contains(Credit Note)",
        },
        {
            content: "for the amount refunded",
            trigger: '.o_form_view .o_field_widget[name=tax_totals]:contains("1,000.00")',
        },
        {
            content: "Back to the package",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(PKG/)",
            run: "click",
        },
        {
            content: "It is refunded",
            trigger: ".o_form_view .ribbon span:contains(Refunded)",
        },
        {
            content: "and can no longer be refunded again",
            trigger: ".o_form_view:not(:has(.o_statusbar_buttons button[name=action_refund]))",
        },
    ],
});
