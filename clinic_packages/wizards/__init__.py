from . import (
    clinic_credit_allocation,
    clinic_entitlement_adjust,
    clinic_entitlement_refund,
    clinic_entitlement_transfer,
    clinic_import,
    clinic_import_authorizations,
    clinic_import_credits,
    clinic_import_packages,
)
