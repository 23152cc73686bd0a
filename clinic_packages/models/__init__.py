from . import (
    account_move,
    clinic_entitlement,
    clinic_entitlement_line,
    clinic_entitlement_usage,
    clinic_location,
    clinic_package_line,
    product_template,
    res_company,
    res_config_settings,
    res_partner,
    sale_order,
    sale_order_line,
)
from . import calendar_event
