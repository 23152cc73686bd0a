import { registry } from "@web/core/registry";

// A logged-in patient buys a published clinic package in the shop: product page, cart, billing
// address, then pays with the Demo provider (successful payment) and lands on the
// confirmation page.
registry.category("web_tour.tours").add("clinic_shop_buy_package", {
    url: "/shop",
    steps: () => [
        {
            content: "Open the package from the shop",
            trigger: ".oe_product_cart a:contains(/^8 Physio Sessions$/)",
            run: "click",
            expectUnloadPage: true,
        },
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
        {
            content: "The package is in the cart",
            trigger: "#cart_products a:contains(8 Physio Sessions)",
        },
        {
            content: "Proceed to checkout",
            trigger: "a[href^='/shop/checkout']",
            run: "click",
            expectUnloadPage: true,
        },
        // the patient has no billing address yet: the shop asks for one
        {
            content: "Billing address: country",
            trigger: "form.checkout_autoformat select[name=country_id]",
            run: "selectByLabel Belgium",
        },
        {
            content: "Billing address: phone",
            trigger: "form.checkout_autoformat input[name=phone]",
            run: "edit +32 2 555 01 23",
        },
        {
            content: "Billing address: street",
            trigger: "form.checkout_autoformat input[name=street]",
            run: "edit Rue Haute 12",
        },
        {
            content: "Billing address: city",
            trigger: "form.checkout_autoformat input[name=city]",
            run: "edit Brussels",
        },
        {
            content: "Billing address: zip",
            trigger: "form.checkout_autoformat input[name=zip]",
            run: "edit 1000",
        },
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
            content: "The order is confirmed and paid",
            trigger: ".oe_website_sale_tx_status:contains(Your payment has been successfully processed.)",
            timeout: 30000,
        },
    ],
});
