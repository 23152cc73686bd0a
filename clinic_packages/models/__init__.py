# the mixin first: models inheriting it are built after it
from . import clinic_reminder_mixin  # isort: skip
from . import (
    account_move,
    account_move_line,
    account_payment,
    calendar_event,
    clinic_authorization,
    clinic_entitlement,
    clinic_entitlement_breakage,
    clinic_entitlement_line,
    clinic_entitlement_usage,
    clinic_location,
    clinic_package_line,
    product_product,
    product_template,
    res_company,
    res_config_settings,
    res_partner,
    sale_order,
    sale_order_line,
)
