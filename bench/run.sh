#!/usr/bin/env bash
# Runs one benchmark on a fresh scratch database:
#   bash bench/run.sh NAME        runs bench/bench_NAME.py   (e.g. bash bench/run.sh booking)
# The database (CLINIC_BENCH_DB, default clinic_bench) is dropped and created with
# clinic_packages installed without demo data; the script is then executed by `odoo-bin shell`,
# which gives it `env` and rolls its transaction back at the end. Benchmarks report figures:
# a missed target does not fail the run (exit 0), only a broken benchmark does.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

NAME="${1:-}"
SCRIPT="$REPO_DIR/bench/bench_${NAME}.py"
if [ -z "$NAME" ] || [ ! -f "$SCRIPT" ]; then
    available="$(cd "$REPO_DIR/bench" && ls bench_*.py 2>/dev/null | sed 's/^bench_//; s/\.py$//' | tr '\n' ' ')"
    die "usage: bash bench/run.sh NAME   (available: ${available:-none})"
fi

setup_all
DB="${CLINIC_BENCH_DB:-clinic_bench}"
say "fresh database $DB with clinic_packages (no demo)"
drop_db "$DB"
odoo_bin -d "$DB" -i clinic_packages --without-demo=all --stop-after-init --log-level=warn

say "benchmark: $NAME"
# `shell` must come first on odoo-bin's command line (odoo_bin puts -c before it); bench/ on
# the Python path for the generators' shared module (sqlcopy.py)
PYTHONPATH="$REPO_DIR/bench${PYTHONPATH:+:$PYTHONPATH}" \
    "$VENV/bin/python" "$ODOO_SRC/odoo-bin" shell -c "$ODOO_CONF" -d "$DB" --log-level=warn \
    --no-http <"$SCRIPT"
