from . import clinic_entitlement_refund
from . import clinic_credit_allocation
