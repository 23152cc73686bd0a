import { registry } from "@web/core/registry";
import {
    billingAddress,
    buyFromShop,
    payWithDemo,
} from "@clinic_packages_website/../tests/tours/clinic_shop_steps";

// A logged-in patient buys a published clinic package in the shop: product page, cart, billing
// address, then pays with the Demo provider (successful payment) and lands on the
// confirmation page, which offers to book the first visit on the package.
registry.category("web_tour.tours").add("clinic_shop_buy_package", {
    url: "/shop",
    steps: () => [
        ...buyFromShop("8 Physio Sessions"),
        // the patient has no billing address yet: the shop asks for one
        ...billingAddress("Belgium", {
            phone: "+32 2 555 01 23",
            street: "Rue Haute 12",
            city: "Brussels",
            zip: "1000",
        }),
        ...payWithDemo(),
        {
            content: "The paid package is ready: its first visit is booked from here",
            trigger: ".o_clinic_shop_ready:contains(8 Physio Sessions) a.o_clinic_shop_book[href$='/book']",
        },
    ],
});
