/** @odoo-module **/
/*
 * The accountant in a real browser: from Invoicing, open a patient's package, read its
 * money (untaxed revenue, what was billed and paid) and its journal entries. The data is built by tests/test_tours_accountant.py.
 */

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("clinic_accountant_package_entries", {
    steps: () => [
        {
            content: "Invoicing lists the patients' packages",
            trigger: ".o_list_view .o_data_row td[name=product_id]:contains(8 Physio Sessions)",
            run: "click",
        },
        {
            content: "The package opens, read-only: no front-desk buttons",
            trigger: ".o_form_view:not(:has(button[name=action_pause])) .o_field_widget[name=partner_id]:contains(Maria Lopez)",
        },
        {
            content: "Open its Money tab",
            trigger: ".o_notebook .nav-link:contains(Money)",
            run: "click",
        },
        {
            content: "Revenue is untaxed: billed 1,600.00",
            trigger: ".o_notebook .o_field_widget[name=amount_billed]:contains(1,600.00)",
        },
        {
            content: "the patient was billed 1,840.00 with taxes",
            trigger: ".o_notebook .o_field_widget[name=amount_billed_total]:contains(1,840.00)",
        },
        {
            content: "and paid 1,840.00",
            trigger: ".o_notebook .o_field_widget[name=amount_paid]:contains(1,840.00)",
        },
        {
            content: "The package's journal entries are listed",
            trigger: ".o_field_widget[name=move_ids] .o_data_row:contains(Revenue recognition)",
        },
        {
            content: "Open them all from the Entries button",
            trigger: "button[name=action_view_moves]",
            run: "click",
        },
        {
            content: "The journal entries open: the recognition of the visit, 200.00",
            trigger: ".o_list_view .o_data_row:has(td[name=ref]:contains(Physio 45 min)) td[name=amount_total_signed]:contains(200.00)",
        },
    ],
});
