from . import clinic_entitlement_refund
