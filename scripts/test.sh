#!/usr/bin/env bash
# Runs the lint step and the whole test suite against a fresh database with clinic_packages
# installed (no demo data), then checks install / upgrade / uninstall on a database with data.
#   ODOO_SRC=/path/to/odoo-18.0 bash scripts/test.sh [pytest args]   (ODOO_SRC on the first run only)
# CLINIC_SKIP_LIFECYCLE=1 skips the install/upgrade/uninstall check (quicker local runs).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_all
cd "$REPO_DIR"

say "lint: ruff"
"$VENV/bin/ruff" check clinic_packages tests bench
say "lint: pylint-odoo"
"$VENV/bin/pylint" --rcfile=.pylintrc clinic_packages

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

if [ -z "${CLINIC_SKIP_LIFECYCLE:-}" ]; then
    bash "$REPO_DIR/scripts/lifecycle.sh"
fi
say "all green"
