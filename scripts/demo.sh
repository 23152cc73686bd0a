#!/usr/bin/env bash
# Sets everything up and serves the demo clinic on http://localhost:8069 (login admin / admin).
#   ODOO_SRC=/path/to/odoo-18.0 bash scripts/demo.sh     (ODOO_SRC needed on the first run only)
# CLINIC_DEMO_DB (default clinic_demo) names the database; CLINIC_HTTP_PORT the port.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_all
DB="${CLINIC_DEMO_DB:-clinic_demo}"
# the clinic, its online shop (website_sale, through the bridge) and Odoo's demo payment provider
DEMO_MODULES="clinic_packages,clinic_packages_website,payment_demo"
if db_exists "$DB"; then
    say "updating clinic_packages in the existing database $DB"
    odoo_bin -d "$DB" -i "$DEMO_MODULES" -u clinic_packages,clinic_packages_website \
        --stop-after-init --log-level=warn
else
    say "creating the database $DB with the demo clinic and its shop (a few minutes)"
    odoo_bin -d "$DB" -i "$DEMO_MODULES" --stop-after-init --log-level=warn
fi
say "Odoo serves the demo clinic on http://localhost:${CLINIC_HTTP_PORT:-8069}  (login admin / admin, Ctrl-C stops it)"
exec "$VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$ODOO_CONF" -d "$DB" --db-filter="^${DB}\$" "$@"
