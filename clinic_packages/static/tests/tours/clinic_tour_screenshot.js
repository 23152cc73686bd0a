/** @odoo-module **/
/*
 * The steps of a README screenshot, shared by the back-office tours (tests/test_tours.py
 * TestScreens) and the shop's (clinic_packages_website): once the screen shows `ready`, the
 * tour logs "clinic-screenshot NAME"; the test captures the page and answers by setting
 * data-clinic-screenshot="NAME" on <body>, and the tour goes on.
 */

export function screenshotSteps(name, ready) {
    return [
        {
            content: `${name}: the screen is ready`,
            trigger: ready,
            async run() {
                // no pointer over a button, no caret blinking in a field
                document.activeElement?.blur();
                // let transitions (progress bars, dropdowns closing) end
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
