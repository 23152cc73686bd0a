#!/usr/bin/env bash
# Runs the lint step and the whole test suite against a fresh database with clinic_packages
# installed (no demo data), then checks install / upgrade / uninstall on a database with data.
#   ODOO_SRC=/path/to/odoo-18.0 bash scripts/test.sh [pytest args]   (ODOO_SRC on the first run only)
# CLINIC_SKIP_LIFECYCLE=1 skips the install/upgrade/uninstall check (quicker local runs).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_all
cd "$REPO_DIR"

say "lint: ruff"
"$VENV/bin/ruff" check clinic_packages clinic_packages_website tests bench
say "lint: pylint-odoo"
"$VENV/bin/pylint" --rcfile=.pylintrc clinic_packages clinic_packages_website

DB="${CLINIC_TEST_DB:-clinic_test}"
say "fresh database $DB with clinic_packages (no demo)"
drop_db "$DB"
odoo_bin -d "$DB" -i clinic_packages --without-demo=all --stop-after-init --log-level=warn

say "pytest-odoo suite"
set +e
# --odoo-http: the browser tours (HttpCase) run too; a failing tour leaves its screenshots here
SHOTS="$(mktemp -d "${TMPDIR:-/tmp}/clinic-tours.XXXXXX")"
say "failing tours save screenshots under $SHOTS"
run_pytest --odoo-database "$DB" --odoo-http --odoo-extra "screenshots=$SHOTS" tests "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then die "pytest collected no test: that is a failure here."; fi
[ "$rc" = 0 ] || exit "$rc"

# the online shop (bridge addon): website_sale changes the portal, pricelists and website of
# a database, so its tests run on a database of their own, not on the suite's
SHOP_DB="${CLINIC_TEST_SHOP_DB:-${DB}_shop}"
say "fresh database $SHOP_DB with clinic_packages, clinic_packages_website, payment_demo (no demo)"
drop_db "$SHOP_DB"
odoo_bin -d "$SHOP_DB" -i clinic_packages,clinic_packages_website,payment_demo --without-demo=all \
    --stop-after-init --log-level=warn
say "pytest-odoo: the shop"
run_pytest --odoo-database "$SHOP_DB" --odoo-http --odoo-extra "screenshots=$SHOTS" tests/test_shop.py

if [ -z "${CLINIC_SKIP_LIFECYCLE:-}" ]; then
    bash "$REPO_DIR/scripts/lifecycle.sh"
fi
say "all green"
