# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Clinic Packages: Online Shop",
    "version": "18.0.1.0.0",
    "summary": "Sell clinic packages in Odoo's shop: patients buy and pay online, the package "
    "activates, and they book their visits on it from the portal",
    "category": "Services/Clinic",
    "author": "clinic_packages developers",
    "website": "https://github.com/clinic-packages/clinic_packages",
    "license": "LGPL-3",
    "depends": ["clinic_packages", "website_sale"],
    "data": [
        "views/website_sale_templates.xml",
    ],
    "demo": [
        "demo/clinic_website_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "clinic_packages_website/static/tests/tours/**/*",
        ],
    },
    "auto_install": True,
}
