import { registry } from "@web/core/registry";

/*
 * From the shop to a booked visit, with no staff action: a visitor without an account buys a
 * package in /shop as a guest (Odoo's default "Customer Accounts: Optional"), pays with the
 * Demo provider, signs up from the order confirmation (Odoo's "Sign Up to follow your order",
 * auth_signup b2c: the account is made for the order's customer), opens My Packages, books a
 * visit on the new package (service, time, confirmation), finds it with the upcoming visits
 * and cancels it.
 *
 * At the README's screens it asks tests/test_shop.py for a screenshot: it logs
 * "clinic-screenshot NAME", the test captures the page and sets data-clinic-screenshot="NAME"
 * on <body>, and the tour goes on (as tests/test_tours.py TestScreens does).
 */

function screenshot(name, ready) {
    return [
        {
            content: `${name}: the screen is ready`,
            trigger: ready,
            async run() {
                document.activeElement?.blur();
                await new Promise((resolve) => setTimeout(resolve, 500));
                console.log(`clinic-screenshot ${name}`);
            },
        },
        {
            content: `${name}: the screenshot is taken`,
            trigger: `body[data-clinic-screenshot="${name}"]`,
            timeout: 20000,
        },
    ];
}

function fill(field, value) {
    return {
        content: `Billing address: ${field}`,
        trigger: `form.checkout_autoformat input[name=${field}]`,
        run: `edit ${value}`,
    };
}

registry.category("web_tour.tours").add("clinic_shop_new_patient", {
    url: "/shop",
    steps: () => [
        // the shop, as a visitor
        {
            content: "A visitor: not logged in",
            trigger: "a[href^='/web/login']",
        },
        {
            content: "Open the package from the shop",
            trigger: ".oe_product_cart a:contains(/^8 Physio Sessions$/)",
            run: "click",
            expectUnloadPage: true,
        },
        ...screenshot("shop_product", "#product_detail #add_to_cart"),
        {
            content: "Add the package to the cart",
            trigger: "#product_detail #add_to_cart",
            run: "click",
        },
        {
            content: "The cart holds one item: open it",
            trigger: "a[href='/shop/cart'] sup.my_cart_quantity:contains(/^1$/)",
            run: "click",
            expectUnloadPage: true,
        },
        ...screenshot("shop_cart", "#cart_products a:contains(8 Physio Sessions)"),
        {
            content: "Proceed to checkout",
            trigger: "a[href^='/shop/checkout']",
            run: "click",
            expectUnloadPage: true,
        },
        // a guest: the shop asks for a name, an e-mail and a billing address
        {
            content: "Billing address: country",
            trigger: "form.checkout_autoformat select[name=country_id]",
            run: "selectByLabel Belgium",
        },
        fill("name", "Lena Novak"),
        fill("email", "lena.novak@example.com"),
        fill("phone", "+32 470 12 34 56"),
        fill("street", "Rue Haute 12"),
        fill("city", "Brussels"),
        fill("zip", "1000"),
        {
            content: "Save the address and go on",
            trigger: "#save_address",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Choose the Demo payment method",
            trigger: "input[name='o_payment_radio'][data-payment-method-code='demo']",
            run: "click",
        },
        {
            content: "Demo: payment details",
            trigger: "input#customer_input",
            run: "edit 4242424242424242",
        },
        {
            content: "Demo: the payment succeeds",
            trigger: "select#simulated_payment_state",
            run: "select done",
        },
        {
            content: "Pay",
            trigger: "button[name='o_payment_submit_button']:enabled",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The order is paid",
            trigger: ".oe_website_sale_tx_status:contains(Your payment has been successfully processed.)",
            timeout: 30000,
        },
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
        {
            content: "Confirm the visit",
            trigger: ".o_clinic_confirm_card button.o_clinic_confirm",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The visit is booked",
            trigger: ".o_clinic_booked",
        },
        ...screenshot("portal_visit_booked", "tr.o_clinic_portal_upcoming"),
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
