from . import clinic_report_mixin  # isort: skip
from . import (
    clinic_package_statement,
    clinic_report_authorization,
    clinic_report_dashboard,
    clinic_report_package_sales,
    clinic_report_unapplied_credit,
    clinic_report_unearned,
    clinic_report_usage,
)
