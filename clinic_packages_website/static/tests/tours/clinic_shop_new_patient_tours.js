import { registry } from "@web/core/registry";
import {
    billingAddress,
    buyFromShop,
    confirmThenCancelVisit,
    payWithDemo,
    screenshot,
} from "@clinic_packages_website/../tests/tours/clinic_shop_steps";

/*
 * From the shop to a booked visit, with no staff action: a visitor without an account buys a
 * package in /shop as a guest (Odoo's default "Customer Accounts: Optional"), pays with the
 * Demo provider, signs up from the order confirmation (Odoo's "Sign Up to follow your order",
 * auth_signup b2c: the account is made for the order's customer), opens My Packages, books a
 * visit on the new package (service, time, confirmation), finds it with the upcoming visits
 * and cancels it. At the README's screens it asks tests/test_shop.py for a screenshot.
 */
registry.category("web_tour.tours").add("clinic_shop_new_patient", {
    url: "/shop",
    steps: () => [
        // the shop, as a visitor
        {
            content: "A visitor: not logged in",
            trigger: "a[href^='/web/login']",
        },
        ...buyFromShop("8 Physio Sessions", { product: "shop_product", cart: "shop_cart" }),
        // a guest: the shop asks for a name, an e-mail and a billing address
        ...billingAddress("Belgium", {
            name: "Lena Novak",
            email: "lena.novak@example.com",
            phone: "+32 470 12 34 56",
            street: "Rue Haute 12",
            city: "Brussels",
            zip: "1000",
        }),
        ...payWithDemo(),
        // an account for the order's customer
        {
            content: "Sign up to follow the order",
            trigger: "a.btn[href*='/web/signup']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The account is for the e-mail given at checkout",
            trigger: "form.oe_signup_form input[name=login][readonly]:value(lena.novak@example.com)",
        },
        {
            content: "Choose a password",
            trigger: "form.oe_signup_form input[name=password]",
            run: "edit Lena-Physio-2026",
        },
        {
            content: "Confirm the password",
            trigger: "form.oe_signup_form input[name=confirm_password]",
            run: "edit Lena-Physio-2026",
        },
        {
            content: "Sign up",
            trigger: "form.oe_signup_form button[type=submit]",
            run: "click",
            expectUnloadPage: true,
        },
        // logged in: My Account, then My Packages
        {
            content: "Logged in: open My Packages",
            trigger: "a[href='/my/packages'][title=Packages]",
            run: "click",
            expectUnloadPage: true,
        },
        ...screenshot(
            "portal_my_packages",
            "tr.o_clinic_portal_package:contains(8 Physio Sessions) a.o_clinic_book_visit"
        ),
        {
            content: "Book a visit on the new package",
            trigger: "tr.o_clinic_portal_package:contains(8 Physio Sessions) a.o_clinic_book_visit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Choose the service",
            trigger: "a.o_clinic_book_service:contains(Physio)",
            run: "click",
            expectUnloadPage: true,
        },
        ...screenshot("portal_book_slots", ".o_clinic_day button.o_clinic_slot"),
        {
            // a day after tomorrow: more than the clinic's 24 hours ahead, cancelled on time
            content: "Choose a time",
            trigger: ".o_clinic_day:eq(2) button.o_clinic_slot:eq(0)",
            run: "click",
            expectUnloadPage: true,
        },
        ...screenshot("portal_book_confirm", ".o_clinic_confirm_card button.o_clinic_confirm"),
        ...confirmThenCancelVisit({ booked: "portal_visit_booked" }),
    ],
});
