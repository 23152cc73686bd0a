#!/usr/bin/env bash
# A PostgreSQL 15 streaming replica of this machine's cluster, for Odoo 18's db_replica_host
# (see "Scaling a clinic group" in README.md and bench/README.md):
#
#   bash bench/replica.sh up          make the hot standby (port 5433) or check the one there
#   bash bench/replica.sh status      replication state, slot and lag
#   bash bench/replica.sh demo DB     on DB (clinic_packages installed): the scale benchmark's
#                                     replica round, Odoo with db_replica_host=127.0.0.1:5433
#   bash bench/replica.sh down        remove the standby, its replication slot and its role
#
# Debian's PostgreSQL tools (pg_createcluster, pg_ctlcluster, pg_basebackup); run as root (or
# with sudo). On the primary (127.0.0.1:5432) it only adds a replication role and a slot (and
# the pg_hba.conf replication line for 127.0.0.1 if missing, with a reload); it never
# restarts it: when wal_level or max_wal_senders do not allow a standby, it says what to change
# and stops. `demo` also creates the pg_stat_statements extension in DB (on the primary, so
# that the standby has it), to count the report queries the standby serves.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLINIC_HOME="${CLINIC_HOME:-$HOME/.local/share/clinic_packages}"
PG_VERSION="${PG_VERSION:-15}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
REPLICA_CLUSTER="${REPLICA_CLUSTER:-replica}"
REPLICA_PORT="${REPLICA_PORT:-5433}"
ROLE="${REPLICA_ROLE:-clinic_replicator}"
SLOT="${REPLICA_SLOT:-clinic_replica}"
# the replication role logs in from 127.0.0.1 only (pg_hba.conf); a local demonstration password
REPLICA_PASSWORD="${REPLICA_PASSWORD:-clinic-replica}"

say() { printf '\033[1m[replica]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[replica] %s\033[0m\n' "$*" >&2; exit 2; }

as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"
    elif [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"
    else sudo -u postgres "$@"; fi
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# one value from the primary / the standby (Unix socket, peer authentication)
psql_at() {  # psql_at PORT DB SQL
    as_postgres env PGOPTIONS="-c client_min_messages=warning" \
        psql -p "$1" -d "$2" -qtAX -v ON_ERROR_STOP=1 -c "$3"
}
primary() { psql_at "$PRIMARY_PORT" "${2:-postgres}" "$1"; }
standby() { psql_at "$REPLICA_PORT" "${2:-postgres}" "$1"; }

cluster_field() {  # cluster_field NAME COLUMN: a column of pg_lsclusters (6 = data directory)
    pg_lsclusters -h | awk -v v="$PG_VERSION" -v n="$1" -v c="$2" '$1 == v && $2 == n {print $c}'
}
replica_exists() { [ -n "$(cluster_field "$REPLICA_CLUSTER" 2)" ]; }
replica_streaming() {
    [[ "$(cluster_field "$REPLICA_CLUSTER" 4)" == online* ]] &&
        [ "$(standby "SELECT pg_is_in_recovery()" 2>/dev/null)" = t ] &&
        [ "$(standby "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" = streaming ]
}

check_primary() {
    pg_isready -q -p "$PRIMARY_PORT" -h 127.0.0.1 || die "no PostgreSQL on 127.0.0.1:$PRIMARY_PORT"
    [ "$(primary "SELECT pg_is_in_recovery()")" = f ] || die "127.0.0.1:$PRIMARY_PORT is itself a standby"
    local wal_level senders used
    wal_level="$(primary "SHOW wal_level")"
    senders="$(primary "SHOW max_wal_senders")"
    used="$(primary "SELECT count(*) FROM pg_stat_replication")"
    if [ "$wal_level" = minimal ] || [ "$senders" -le "$used" ]; then
        die "the primary needs wal_level = replica and a free WAL sender (now: wal_level=$wal_level, max_wal_senders=$senders, $used in use). Set them in postgresql.conf and restart it when nobody uses it; this script does not restart it."
    fi
    local hba
    hba="$(primary "SHOW hba_file")"
    if ! as_root grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+(all|'"$ROLE"')[[:space:]]+127\.0\.0\.1/32' "$hba"; then
        say "adding a replication line for 127.0.0.1 to $hba (reload, no restart)"
        echo "host    replication     $ROLE    127.0.0.1/32    scram-sha-256" | as_root tee -a "$hba" >/dev/null
        primary "SELECT pg_reload_conf()" >/dev/null
    fi
}

ensure_role() {
    if [ "$(primary "SELECT count(*) FROM pg_roles WHERE rolname = '$ROLE'")" = 0 ]; then
        say "creating the replication role $ROLE on the primary"
        primary "CREATE ROLE \"$ROLE\" WITH REPLICATION LOGIN PASSWORD '$REPLICA_PASSWORD'" >/dev/null
    else
        primary "ALTER ROLE \"$ROLE\" WITH REPLICATION LOGIN PASSWORD '$REPLICA_PASSWORD'" >/dev/null
    fi
}

drop_slot() {
    local active
    active="$(primary "SELECT active FROM pg_replication_slots WHERE slot_name = '$SLOT'")"
    if [ "$active" = t ]; then die "the slot $SLOT is in use by another standby"; fi
    if [ "$active" = f ]; then
        say "dropping the replication slot $SLOT on the primary"
        primary "SELECT pg_drop_replication_slot('$SLOT')" >/dev/null
    fi
}

drop_replica() {
    if replica_exists; then
        [ -f "/etc/postgresql/$PG_VERSION/$REPLICA_CLUSTER/conf.d/clinic_replica.conf" ] ||
            die "the cluster $PG_VERSION/$REPLICA_CLUSTER was not made by this script: set REPLICA_CLUSTER (and REPLICA_PORT) to another name"
        say "removing the cluster $PG_VERSION/$REPLICA_CLUSTER"
        as_root pg_dropcluster --stop "$PG_VERSION" "$REPLICA_CLUSTER"
    fi
    # pg_dropcluster leaves the file this script added, and pg_createcluster refuses an
    # existing configuration directory
    local etc="/etc/postgresql/$PG_VERSION/$REPLICA_CLUSTER"
    as_root rm -f "$etc/conf.d/clinic_replica.conf"
    if [ -d "$etc" ]; then as_root rmdir "$etc/conf.d" "$etc" 2>/dev/null || true; fi
}

cmd_up() {
    check_primary
    ensure_role
    if replica_exists && replica_streaming; then
        say "the standby $PG_VERSION/$REPLICA_CLUSTER (port $REPLICA_PORT) is up and streaming"
        cmd_status
        return
    fi
    drop_replica  # half-made or stopped: made again from a fresh base backup
    drop_slot
    say "creating the cluster $PG_VERSION/$REPLICA_CLUSTER on port $REPLICA_PORT"
    as_root pg_createcluster "$PG_VERSION" "$REPLICA_CLUSTER" --port "$REPLICA_PORT" >/dev/null
    local data conf primary_data
    data="$(cluster_field "$REPLICA_CLUSTER" 6)"
    primary_data="$(primary "SHOW data_directory")"
    [ -n "$data" ] && [ "$data" != "$primary_data" ] && [ "$(basename "$data")" = "$REPLICA_CLUSTER" ] ||
        die "unexpected data directory for the standby: '$data'"
    conf="/etc/postgresql/$PG_VERSION/$REPLICA_CLUSTER/conf.d/clinic_replica.conf"
    as_root tee "$conf" >/dev/null <<CONF
# written by bench/replica.sh: a hot standby that serves Odoo's read-only requests
hot_standby = on
# starting from the base backup, sync the data directory with one syncfs() instead of an
# fsync() per file (minutes on a busy disk)
recovery_init_sync_method = syncfs
max_connections = $(primary "SHOW max_connections")
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = top
CONF
    say "base backup of the primary into $data (pg_basebackup -R, slot $SLOT)"
    as_postgres find "$data" -mindepth 1 -delete
    as_postgres env PGPASSWORD="$REPLICA_PASSWORD" pg_basebackup \
        -d "host=127.0.0.1 port=$PRIMARY_PORT user=$ROLE" -D "$data" \
        -R -X stream -C -S "$SLOT" -c fast
    say "starting the standby"
    # pg_ctl waits 60 s by default; the first start of a copy of a busy cluster may take more
    as_root pg_ctlcluster "$PG_VERSION" "$REPLICA_CLUSTER" start -- -t 600
    for _ in $(seq 120); do replica_streaming && break; sleep 1; done
    replica_streaming || die "the standby does not stream: see /var/log/postgresql/postgresql-$PG_VERSION-$REPLICA_CLUSTER.log"
    say "the standby streams from the primary"
    cmd_status
}

cmd_status() {
    echo "primary 127.0.0.1:$PRIMARY_PORT, WAL senders:"
    primary "SELECT format('  %s %s: sent %s, replayed %s, replay lag %s', application_name,
                 state, sent_lsn, replay_lsn, coalesce(replay_lag::text, '0'))
               FROM pg_stat_replication"
    local slot
    slot="$(primary "SELECT format('active %s, WAL kept %s', active,
        pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)))
        FROM pg_replication_slots WHERE slot_name = '$SLOT'")"
    echo "  slot $SLOT: ${slot:-none}"
    if replica_exists && [[ "$(cluster_field "$REPLICA_CLUSTER" 4)" == online* ]]; then
        echo "standby 127.0.0.1:$REPLICA_PORT: $(standby "SELECT format('in recovery %s, receiver %s, replayed %s', pg_is_in_recovery(),
            (SELECT status FROM pg_stat_wal_receiver), pg_last_wal_replay_lsn())")"
    else
        echo "standby $PG_VERSION/$REPLICA_CLUSTER: not running"
    fi
}

cmd_demo() {
    local db="${1:-}"
    [ -n "$db" ] || die "usage: bash bench/replica.sh demo DB   (a database with clinic_packages)"
    replica_streaming || die "no standby: run 'bash bench/replica.sh up' first"
    [ "$(primary "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 1 ] ||
        die "no database $db on the primary"
    say "pg_stat_statements in $db (created on the primary, replayed by the standby)"
    primary "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" "$db" >/dev/null
    for _ in $(seq 30); do
        [ "$(standby "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'" "$db")" = 1 ] && break
        sleep 1
    done
    local odoo_src="${ODOO_SRC:-$(cat "$CLINIC_HOME/odoo_src" 2>/dev/null || true)}"
    local conf="${ODOO_CONF:-$CLINIC_HOME/odoo.conf}"
    [ -x "$odoo_src/odoo-bin" ] || die "Odoo 18.0 not found: set ODOO_SRC"
    [ -f "$conf" ] || die "no Odoo config $conf: set ODOO_CONF"
    say "the scale benchmark's replica round on $db (db_replica_host 127.0.0.1:$REPLICA_PORT)"
    BENCH_SCALE_WORKERS="${BENCH_SCALE_WORKERS-}" BENCH_SCALE_REPLICA="127.0.0.1:$REPLICA_PORT" \
        PYTHONPATH="$REPO_DIR/bench${PYTHONPATH:+:$PYTHONPATH}" \
        "${ODOO_PYTHON:-$CLINIC_HOME/venv/bin/python}" "$odoo_src/odoo-bin" shell -c "$conf" \
        -d "$db" --log-level=warn --no-http <"$REPO_DIR/bench/bench_scale.py"
}

cmd_down() {
    drop_replica
    drop_slot
    if [ "$(primary "SELECT count(*) FROM pg_roles WHERE rolname = '$ROLE'")" = 1 ]; then
        say "dropping the role $ROLE on the primary"
        primary "DROP ROLE \"$ROLE\"" >/dev/null
    fi
    say "no standby left; the primary has no slot or role of this script"
}

case "${1:-}" in
    up) cmd_up ;;
    status) cmd_status ;;
    demo) shift; cmd_demo "$@" ;;
    down) cmd_down ;;
    *) die "usage: bash bench/replica.sh up|status|demo DB|down" ;;
esac
