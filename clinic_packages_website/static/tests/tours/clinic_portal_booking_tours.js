import { registry } from "@web/core/registry";

// A patient with a package paid online books a visit from My Packages (the first free time,
// confirmed), finds it listed with their upcoming visits, and cancels it.
registry.category("web_tour.tours").add("clinic_portal_book_and_cancel", {
    url: "/my/packages",
    steps: () => [
        {
            content: "Book a visit on the package",
            trigger: "a.o_clinic_book_visit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Choose the first free time",
            trigger: "button.o_clinic_slot",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Confirm it",
            trigger: ".o_clinic_confirm_card button.o_clinic_confirm",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The visit is booked",
            trigger: ".o_clinic_booked",
        },
        {
            content: "It is listed with the upcoming visits",
            trigger: "tr.o_clinic_portal_upcoming",
        },
        {
            content: "Cancel it",
            trigger: "tr.o_clinic_portal_upcoming button.o_clinic_cancel_visit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The visit is cancelled and no longer listed",
            trigger: ".o_clinic_cancelled",
        },
        {
            trigger: "body:not(:has(tr.o_clinic_portal_upcoming))",
        },
    ],
});
