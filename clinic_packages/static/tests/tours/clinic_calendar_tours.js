/** @odoo-module **/
/*
 * The front desk's calendar in a real browser: book from the calendar's quick-create, a
 * practitioner opens their own day, a visit deleted from the popover gives its use back,
 * and a no-show is charged from the day sheet. tests/test_tours_calendar.py builds the data
 * and checks the database after each tour.
 */

import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

function pick(name, text, choice = text) {
    return [
        {
            content: `Type "${text}" in ${name}`,
            trigger: `.modal .o_field_widget[name=${name}] input`,
            run: `edit ${text}`,
        },
        {
            content: `Choose "${choice}"`,
            trigger: `.modal .o_field_widget[name=${name}] .o-autocomplete--dropdown-item a:contains("${choice}")`,
            run: "click",
        },
    ];
}

function dayScale() {
    return [
        {
            content: "Open the scale menu",
            trigger: ".scale_button_selection",
            run: "click",
        },
        {
            content: "Show one day",
            trigger: ".o-dropdown-item.o_scale_button_day, .dropdown-item.o_scale_button_day",
            run: "click",
        },
        {
            content: "The day view is shown",
            trigger: ".fc-timeGridDay-view",
        },
    ];
}

// Book in one step from a free slot: patient, service, practitioner; the rest is filled.
tours.add("clinic_calendar_quick_create", {
    steps: () => [
        {
            content: "The appointments open on every clinic visit: Ben's visit is shown",
            trigger: ".o_calendar_view .fc-event:contains(James Carter)",
        },
        {
            content: "with a filter per practitioner",
            trigger: ".o_calendar_filter:contains(Practitioner) .o_calendar_filter_item:contains(Dr. Second)",
        },
        ...dayScale(),
        {
            content: "Click the free slot at 14:00",
            trigger: '.fc-timegrid-slot-lane[data-time="14:00:00"]',
            run: "click",
        },
        {
            content: "The booking dialog opens",
            trigger: ".modal .o_form_view .o_field_widget[name=clinic_patient_id]",
        },
        ...pick("clinic_patient_id", "Maria Lopez"),
        ...pick("clinic_service_id", "Physio", "Physio 45 min"),
        ...pick("user_id", "Dr. Pract", "Dr. Practitioner"),
        {
            content: "The length comes from the service",
            trigger: ".modal .o_field_widget[name=duration] input:value(00:45)",
        },
        {
            content: "The patient's package is chosen with what is left after this visit",
            trigger: ".modal .o_field_widget[name=clinic_package_info]:contains(7 of 8 left after this visit)",
        },
        {
            content: "Save",
            trigger: ".modal .o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "The visit is on the calendar, named after patient and service",
            trigger: ".o_calendar_view .fc-event:contains(Maria Lopez – Physio 45 min)",
        },
    ],
});

// A visit deleted from the calendar's popover gives its package use back.
tours.add("clinic_calendar_popover_delete", {
    steps: () => [
        {
            content: "Open the visit",
            trigger: ".o_calendar_view .fc-event:contains(Maria Lopez)",
            run: "click",
        },
        {
            content: "The popover offers to delete it",
            trigger: ".o_cw_popover .o_cw_popover_delete",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal button:contains(Delete)",
            run: "click",
        },
        {
            content: "The visit is gone",
            trigger: ".o_calendar_view:not(:has(.fc-event:contains(Maria Lopez)))",
        },
    ],
});

// A practitioner opens their own day: their visits only.
tours.add("clinic_my_day", {
    steps: () => [
        {
            content: "The day view",
            trigger: ".o_calendar_view .fc-timeGridDay-view",
        },
        {
            content: "shows the practitioner's visit",
            trigger: ".o_calendar_view .fc-event:contains(Maria Lopez)",
        },
        {
            content: "and not the other practitioner's",
            trigger: ".o_calendar_view:not(:has(.fc-event:contains(James Carter)))",
        },
        {
            content: "Open the visit",
            trigger: ".o_calendar_view .fc-event:contains(Maria Lopez)",
            run: "click",
        },
        {
            content: "The popover says who the patient is and what is left",
            trigger: ".o_cw_popover:contains(Maria Lopez):contains(7 of 8 left after this visit)",
        },
    ],
});

// The day sheet: today's visits by practitioner; a no-show is charged its fee.
tours.add("clinic_day_sheet_no_show_fee", {
    steps: () => [
        {
            content: "Today's visits grouped by practitioner, unfolded",
            trigger: ".o_list_view .o_group_header:contains(Dr. Practitioner) ~ .o_data_row",
        },
        {
            content: "Maria's visit is upcoming",
            trigger: ".o_data_row:contains(Maria Lopez) .o_field_widget[name=clinic_attendance]:contains(Upcoming)",
        },
        {
            content: "A late cancellation is one click away on the sheet too",
            trigger: ".o_data_row:contains(Maria Lopez) button[name=action_clinic_late_cancel]",
        },
        {
            content: "Charge the no-show fee",
            trigger: ".o_data_row:contains(Maria Lopez) button[name=action_clinic_no_show_fee]",
            run: "click",
        },
        {
            content: "The visit is a no-show that did not use the package",
            trigger: ".o_data_row:contains(Maria Lopez):contains(not used by this visit) .o_field_widget[name=clinic_attendance]:contains(No-show)",
        },
        {
            content: "Undo is offered",
            trigger: ".o_data_row:contains(Maria Lopez) button[name=action_clinic_reset]",
        },
    ],
});

// The day sheet of a clinic far from UTC: today's visits are those of the clinic's own day.
tours.add("clinic_day_sheet_local_day", {
    steps: () => [
        {
            content: "This morning's visit is on today's sheet",
            trigger: ".o_list_view .o_data_row:contains(Maria Lopez)",
        },
        {
            content: "tomorrow morning's is not",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(James Carter)))",
        },
    ],
});
