# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Clinic Packages",
    "version": "18.0.1.0.0",
    "summary": "Prepaid visit packages, insurance authorizations and patient credit "
    "for clinics, on Odoo's own sales, calendar and accounting",
    "category": "Services/Clinic",
    "author": "clinic_packages developers",
    "website": "https://github.com/clinic-packages/clinic_packages",
    "license": "LGPL-3",
    "depends": ["account", "sale_management", "calendar", "mail"],
    "data": [
        "security/clinic_security.xml",
        "security/ir.model.access.csv",
        "data/ir_sequence_data.xml",
        "data/ir_cron_data.xml",
        "views/clinic_location_views.xml",
        "views/clinic_entitlement_usage_views.xml",
        "views/clinic_entitlement_views.xml",
        "views/product_template_views.xml",
        "views/sale_order_views.xml",
        "views/res_partner_views.xml",
        "views/calendar_event_views.xml",
        "views/res_config_settings_views.xml",
        "views/clinic_entitlement_refund_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/clinic_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "clinic_packages/static/tests/tours/**/*",
        ],
    },
    "post_init_hook": "post_init_hook",
    "application": True,
}
