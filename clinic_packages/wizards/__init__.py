from . import clinic_credit_allocation, clinic_entitlement_refund
