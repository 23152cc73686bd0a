from . import (
    clinic_credit_allocation,
    clinic_entitlement_refund,
    clinic_import,
    clinic_import_authorizations,
    clinic_import_credits,
    clinic_import_packages,
)
