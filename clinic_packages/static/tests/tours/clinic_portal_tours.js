/** @odoo-module **/
/*
 * The patient in the portal: their packages, their upcoming visits with the package each
 * uses, and the statement of a package downloaded as a PDF. tests/test_portal_upcoming.py
 * builds the data and runs this tour as the patient.
 */

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("clinic_portal_upcoming_statement", {
    steps: () => [
        {
            content: "The portal home shows the packages card",
            trigger: "a[href='/my/packages']",
            run: "click",
        },
        {
            content: "The next visit is listed with its package",
            trigger: "tr.o_clinic_portal_upcoming:contains(Physio 45 min):contains(PKG/)",
        },
        {
            content: "The visit billed on its own says so",
            trigger: "tr.o_clinic_portal_upcoming:contains(Acupuncture):contains(No package)",
        },
        {
            content: "Download the statement of the package: a PDF",
            trigger: "a.o_clinic_package_statement_download",
            async run() {
                const link = document.querySelector("a.o_clinic_package_statement_download");
                const response = await fetch(link.href);
                const bytes = new Uint8Array(await response.arrayBuffer());
                const magic = String.fromCharCode(...bytes.slice(0, 4));
                if (response.headers.get("Content-Type") !== "application/pdf" || magic !== "%PDF") {
                    throw new Error(`The statement is not a PDF: ${response.status} ${magic}`);
                }
                document.body.dataset.clinicStatementBytes = String(bytes.length);
            },
        },
        {
            content: "The PDF was received",
            trigger: "body[data-clinic-statement-bytes]",
        },
    ],
});
