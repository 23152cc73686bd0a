from . import portal, portal_booking
