# the mixins first: models inheriting them are built after them
from . import clinic_guard, clinic_reminder_mixin  # isort: skip
from . import (
    account_chart_template,
    account_move,
    account_move_line,
    account_payment,
    calendar_attendee,
    calendar_event,
    calendar_event_billing,
    calendar_event_coverage,
    calendar_event_front_desk,
    clinic_authorization,
    clinic_authorization_coverage,
    clinic_entitlement,
    clinic_entitlement_accounting,
    clinic_entitlement_booking,
    clinic_entitlement_breakage,
    clinic_entitlement_coverage,
    clinic_entitlement_coverage_caps,
    clinic_entitlement_import,
    clinic_entitlement_line,
    clinic_entitlement_transfer,
    clinic_entitlement_usage,
    clinic_location,
    clinic_package_line,
    product_product,
    product_template,
    res_company,
    res_config_settings,
    res_partner,
    res_users,
    sale_order,
    sale_order_line,
)

# imports clinic_entitlement_booking: after clinic.entitlement is defined
from . import calendar_event_portal  # isort: skip
