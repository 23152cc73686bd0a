import { registry } from "@web/core/registry";
import { confirmThenCancelVisit } from "@clinic_packages_website/../tests/tours/clinic_shop_steps";

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
        ...confirmThenCancelVisit(),
    ],
});
