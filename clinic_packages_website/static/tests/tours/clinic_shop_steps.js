/**
 * Step builders shared by the shop and portal tours: buying a package through /shop (product
 * page, cart, billing address, the Demo provider) and the README's screenshots.
 *
 * Tours import them as `@clinic_packages_website/../tests/tours/clinic_shop_steps`.
 */

import { screenshotSteps } from "@clinic_packages/../tests/tours/clinic_tour_screenshot";

// a README screenshot once `ready` is on the page (taken by tests/test_shop.py)
export const screenshot = screenshotSteps;

/**
 * From the shop's list to the checkout: open `product`, add it to the cart, open the cart
 * (one item), proceed to checkout. `screens`: the names of the screenshots of the product
 * page and of the cart, if wanted.
 */
export function buyFromShop(product, screens = {}) {
    const addToCart = "#product_detail #add_to_cart";
    const inCart = `#cart_products a:contains(${product})`;
    return [
        {
            content: "Open the package from the shop",
            trigger: `.oe_product_cart a:contains(/^${product}$/)`,
            run: "click",
            expectUnloadPage: true,
        },
        ...(screens.product ? screenshot(screens.product, addToCart) : []),
        {
            content: "Add the package to the cart",
            trigger: addToCart,
            run: "click",
        },
        {
            content: "The cart holds one item: open it",
            trigger: "a[href='/shop/cart'] sup.my_cart_quantity:contains(/^1$/)",
            run: "click",
            expectUnloadPage: true,
        },
        ...(screens.cart
            ? screenshot(screens.cart, inCart)
            : [{ content: "The package is in the cart", trigger: inCart }]),
        {
            content: "Proceed to checkout",
            trigger: "a[href^='/shop/checkout']",
            run: "click",
            expectUnloadPage: true,
        },
    ];
}

/**
 * The billing address the shop asks for: `country` (its label), then each input of `fields`
 * ({name: value}, in order), then save and go on to the payment.
 */
export function billingAddress(country, fields) {
    return [
        {
            content: "Billing address: country",
            trigger: "form.checkout_autoformat select[name=country_id]",
            run: `selectByLabel ${country}`,
        },
        ...Object.entries(fields).map(([name, value]) => ({
            content: `Billing address: ${name}`,
            trigger: `form.checkout_autoformat input[name=${name}]`,
            run: `edit ${value}`,
        })),
        {
            content: "Save the address and go on",
            trigger: "#save_address",
            run: "click",
            expectUnloadPage: true,
        },
    ];
}

/** Pay with the Demo provider, the payment succeeding, and land on the paid order. */
export function payWithDemo() {
    return [
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
            trigger:
                ".oe_website_sale_tx_status:contains(Your payment has been successfully processed.)",
            timeout: 30000,
        },
    ];
}

/**
 * On the booking page, a time chosen: confirm the visit, find it with the upcoming visits,
 * cancel it and see it gone. `screens.booked`: the screenshot of the booked visit, if wanted.
 */
export function confirmThenCancelVisit(screens = {}) {
    const upcoming = "tr.o_clinic_portal_upcoming";
    return [
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
        ...(screens.booked
            ? screenshot(screens.booked, upcoming)
            : [{ content: "It is listed with the upcoming visits", trigger: upcoming }]),
        {
            content: "Cancel it",
            trigger: `${upcoming} button.o_clinic_cancel_visit`,
            run: "click",
        },
        {
            content: "Asked once more, with what happens to the package",
            trigger: ".modal.show:contains(Cancel this visit?):contains(goes back to your package)",
        },
        {
            content: "Confirm the cancellation",
            trigger: ".modal.show button.o_clinic_cancel_confirm",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The visit is cancelled and no longer listed",
            trigger: ".o_clinic_cancelled",
        },
        {
            trigger: `body:not(:has(${upcoming}))`,
        },
    ];
}
