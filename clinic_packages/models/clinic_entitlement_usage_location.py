from odoo import fields, models


class ClinicEntitlementUsageLocation(models.Model):
    """Where a use was delivered, kept on the use itself: the usage report groups the uses by
    location without joining every use to its appointment."""

    _inherit = "clinic.entitlement.usage"

    # A stored related of one step over a stored many2one: the booking writes it with the
    # use's INSERT (precomputed from the visit in cache); the ORM carries a change of the
    # visit's location to its uses; and the upgrade that adds the column fills it for the
    # existing uses with one UPDATE ... FROM calendar_event (Odoo's `update_db_related`),
    # not by computing them one by one.
    location_id = fields.Many2one(
        related="event_id.clinic_location_id",
        store=True,
        precompute=True,
        string="Location",
        help="Where the visit of this use takes place, as its appointment says.",
    )
