#!/usr/bin/env bash
# Shared set-up for scripts/demo.sh and scripts/test.sh.
#
# It finds Odoo 18.0 (ODOO_SRC given once, remembered afterwards; or an `odoo` package that is
# already importable), makes sure PostgreSQL runs with a login role for Odoo, builds a Python
# environment with Odoo's requirements and the test tools, and writes an Odoo config file.
# Everything it creates lives in $CLINIC_HOME (default ~/.local/share/clinic_packages), never in
# the project tree.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLINIC_HOME="${CLINIC_HOME:-$HOME/.local/share/clinic_packages}"
VENV="$CLINIC_HOME/venv"
ODOO_CONF="$CLINIC_HOME/odoo.conf"
PYTHON="${PYTHON:-python3}"
DB_USER="${CLINIC_DB_USER:-odoo}"
DB_PASSWORD="${CLINIC_DB_PASSWORD:-odoo}"
DB_HOST="${CLINIC_DB_HOST:-127.0.0.1}"
DB_PORT="${CLINIC_DB_PORT:-5432}"
mkdir -p "$CLINIC_HOME"

say() { printf '\033[1m[clinic]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[clinic] %s\033[0m\n' "$*" >&2; exit 2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "'$*' needs root: run it as root, or install sudo."; fi
}

is_odoo18() {  # is_odoo18 DIR: DIR is an Odoo 18.0 source tree
    [ -f "$1/odoo/release.py" ] && [ -x "$1/odoo-bin" ] && [ -d "$1/addons/sale_management" ] &&
        grep -q "^version_info = (18, 0," "$1/odoo/release.py"
}

odoo_help() {
    cat >&2 <<'TXT'
[clinic] Odoo 18.0 (community) was not found. This project needs its source tree once:

    git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git /opt/odoo-18.0
    ODOO_SRC=/opt/odoo-18.0 bash scripts/demo.sh      # or scripts/test.sh

(any Odoo 18.0 community tree works: a release tarball from the Odoo download page, or a
checkout you already have). The path is remembered in ~/.local/share/clinic_packages/odoo_src,
so later runs need no ODOO_SRC. An `odoo` 18.0 package already importable by python3 is used
as well.
TXT
    exit 2
}

find_odoo() {
    local saved="$CLINIC_HOME/odoo_src" src=""
    if [ -n "${ODOO_SRC:-}" ]; then
        src="$(cd "$ODOO_SRC" 2>/dev/null && pwd)" || die "ODOO_SRC=$ODOO_SRC does not exist."
        is_odoo18 "$src" || die "ODOO_SRC=$ODOO_SRC is not an Odoo 18.0 source tree (odoo-bin, odoo/release.py with version 18.0, addons/)."
        echo "$src" >"$saved"
    elif [ -f "$saved" ] && is_odoo18 "$(cat "$saved")"; then
        src="$(cat "$saved")"
    else
        local pkg
        pkg="$("$PYTHON" -c 'import odoo, os, odoo.release as r; assert r.version_info[:2] == (18, 0); print(os.path.dirname(os.path.dirname(odoo.__file__)))' 2>/dev/null)" || true
        if [ -n "$pkg" ] && is_odoo18 "$pkg"; then src="$pkg"; echo "$src" >"$saved"; else odoo_help; fi
    fi
    ODOO_SRC="$src"
    export ODOO_SRC
}

ensure_system() {
    local missing=()
    command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
    [ -f /usr/include/ldap.h ] || missing+=(libldap2-dev)
    [ -f /usr/include/sasl/sasl.h ] || missing+=(libsasl2-dev)
    command -v pg_config >/dev/null || missing+=(libpq-dev)
    command -v gcc >/dev/null || missing+=(build-essential)
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
    # the browser tours (tests/test_tours.py) drive; Odoo finds it on PATH
    command -v chromium >/dev/null || missing+=(chromium)
    # PDF reports (the package statement); Odoo finds it on PATH
    command -v wkhtmltopdf >/dev/null || missing+=(wkhtmltopdf)
    if [ ${#missing[@]} -gt 0 ]; then
        command -v apt-get >/dev/null || die "Install these (Debian names): ${missing[*]}"
        say "installing system packages: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    "$PYTHON" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 12)))' ||
        die "Odoo 18.0 needs Python 3.10 to 3.12; set PYTHON=/path/to/python3.11"
}

ensure_postgres() {
    if ! pg_isready -q -h "$DB_HOST" -p "$DB_PORT"; then
        say "starting PostgreSQL"
        local cluster
        cluster="$(pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2; exit}')"
        if [ -z "$cluster" ]; then as_root pg_createcluster 15 main >/dev/null; cluster="15 main"; fi
        # shellcheck disable=SC2086
        as_root pg_ctlcluster $cluster start
        for _ in $(seq 30); do pg_isready -q -h "$DB_HOST" -p "$DB_PORT" && break; sleep 1; done
        pg_isready -q -h "$DB_HOST" -p "$DB_PORT" || die "PostgreSQL did not start (see /var/log/postgresql/)."
    fi
    # Odoo refuses to run as the postgres superuser: it gets a login role that may create databases.
    as_root su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'\"" | grep -q 1 ||
        as_root su postgres -c "psql -qc \"CREATE ROLE \\\"$DB_USER\\\" LOGIN CREATEDB PASSWORD '$DB_PASSWORD'\""
}

ensure_venv() {
    local stamp="$VENV/.clinic-stamp" want cons="$CLINIC_HOME/pip-constraints.txt"
    mkdir -p "$CLINIC_HOME"
    # cbor2 (an Odoo requirement) does not build with newer setuptools; that setuptools'
    # pkg_resources does not find distributions whose metadata folder has a normalised name
    # (zope_interface-7+, zope_event-5.1+), and Odoo's prefork server checks gevent's
    # requirements with it: without these pins its gevent process (live notifications of
    # the web client) dies at start under --workers
    printf '%s\n' 'setuptools<70' 'zope.interface<7' 'zope.event<5.1' >"$cons"
    want="$(cat "$ODOO_SRC/requirements.txt" "$REPO_DIR/scripts/requirements-dev.txt" "$cons" | sha1sum | cut -c1-40) $ODOO_SRC"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
    say "building the Python environment in $VENV (first run only: a few minutes)"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    PIP_CONSTRAINT="$cons" "$VENV/bin/pip" install -q --disable-pip-version-check \
        -r "$ODOO_SRC/requirements.txt" -r "$REPO_DIR/scripts/requirements-dev.txt"
    echo "$want" >"$stamp"
}

write_config() {
    mkdir -p "$CLINIC_HOME/data"
    cat >"$ODOO_CONF" <<CONF
[options]
addons_path = $ODOO_SRC/odoo/addons,$ODOO_SRC/addons,$REPO_DIR
data_dir = $CLINIC_HOME/data
db_host = $DB_HOST
db_port = $DB_PORT
db_user = $DB_USER
db_password = $DB_PASSWORD
admin_passwd = admin
http_interface = 127.0.0.1
http_port = ${CLINIC_HTTP_PORT:-8069}
CONF
}

# pytest-odoo imports odoo: the source tree goes on the path, nothing is installed into it
run_pytest() { PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/pytest" --odoo-config "$ODOO_CONF" -p no:cacheprovider "$@"; }

odoo_bin() { "$VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$ODOO_CONF" "$@"; }
odoo_shell() { "$VENV/bin/python" "$ODOO_SRC/odoo-bin" shell -c "$ODOO_CONF" --no-http "$@"; }

db_exists() {
    PGPASSWORD="$DB_PASSWORD" psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d postgres -qtAc \
        "SELECT 1 FROM pg_database WHERE datname='$1'" | grep -q 1
}

drop_db() { PGPASSWORD="$DB_PASSWORD" dropdb --if-exists -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" "$1"; }

db_sql() {  # db_sql DB SQL: one value
    PGPASSWORD="$DB_PASSWORD" psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$1" -qtAc "$2"
}

setup_all() {
    ensure_system
    find_odoo
    ensure_postgres
    ensure_venv
    write_config
}
