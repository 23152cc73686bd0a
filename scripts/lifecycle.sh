#!/usr/bin/env bash
# Install with demo data, upgrade (-u) and uninstall clinic_packages on a database that has
# data, checking that the upgrade keeps every entitlement, usage and line.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_all
DB="${CLINIC_LIFECYCLE_DB:-clinic_lifecycle}"
drop_db "$DB"
say "lifecycle: install with demo data on $DB"
# the shop's bridge too: its demo data (published packages) must survive the upgrade
odoo_bin -d "$DB" -i clinic_packages,clinic_packages_website --stop-after-init --log-level=warn
count() {
    db_sql "$DB" "SELECT (SELECT count(*) FROM clinic_entitlement) || '/' || (SELECT count(*) FROM clinic_entitlement_line) || '/' || (SELECT count(*) FROM clinic_entitlement_usage) || '/' || (SELECT count(*) FROM account_move_line)"
}
before="$(count)"
[ "${before%%/*}" -gt 0 ] || die "lifecycle: the demo clinic has no entitlement"
say "lifecycle: upgrade (entitlements/lines/usages/journal items: $before)"
odoo_bin -d "$DB" -u clinic_packages,clinic_packages_website --stop-after-init --log-level=warn
after="$(count)"
[ "$before" = "$after" ] || die "lifecycle: upgrade changed the data: $before -> $after"
say "lifecycle: uninstall"
echo "env['ir.module.module'].search([('name', '=', 'clinic_packages')]).button_immediate_uninstall(); env.cr.commit()" |
    odoo_shell -d "$DB" --log-level=warn >/dev/null
state="$(db_sql "$DB" "SELECT state FROM ir_module_module WHERE name='clinic_packages'")"
[ "$state" = uninstalled ] || die "lifecycle: clinic_packages is '$state' after uninstall"
left="$(db_sql "$DB" "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'clinic\_%'")"
[ "$left" = 0 ] || die "lifecycle: $left clinic_* tables remain after uninstall"
indexes="$(db_sql "$DB" "SELECT string_agg(indexname, ', ') FROM pg_indexes WHERE indexname LIKE '%clinic%'")"
[ -z "$indexes" ] || die "lifecycle: indexes remain after uninstall: $indexes"
drop_db "$DB"
say "lifecycle: install, upgrade ($after kept) and uninstall are clean"
