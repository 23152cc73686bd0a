from odoo.tools import SQL

from . import controllers, models, report, wizards

# Indexes that the addon's `init()` methods create on tables of other modules (for the
# portal's upcoming visits and the usage report). Uninstalling drops the addon's own tables
# and columns, with the indexes on them, but not these: the uninstall hook does.
FOREIGN_INDEXES = (
    "calendar_event_clinic_stop_index",
    "calendar_event_clinic_location_index",
)


def uninstall_hook(env):
    """Leave the tables of other modules as they were before the addon."""
    for name in FOREIGN_INDEXES:
        env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
