#!/usr/bin/env bash
# A streaming read replica of the local PostgreSQL 15 cluster `main` (127.0.0.1:5432), as
# Debian's cluster `15 replica` on 127.0.0.1:5433, for GRIDGOV_DATABASE_READ_URL and its
# tests (tests/test_replica.py). Run as root; safe to rerun: a replica already streaming
# from the primary is left alone, anything else on 5433 is rebuilt from a fresh
# pg_basebackup. Trust authentication on loopback, as on the primary: a CI or developer
# machine, not a production recipe (there, give the replication user a password).
set -euo pipefail

VERSION=15
PRIMARY_PORT=5432
REPLICA=replica
REPLICA_PORT=5433
PRIMARY_HBA=/etc/postgresql/$VERSION/main/pg_hba.conf
REPLICA_CONF=/etc/postgresql/$VERSION/$REPLICA
DATA=/var/lib/postgresql/$VERSION/$REPLICA
HBA_LINE="host replication all 127.0.0.1/32 trust"
# the primary keeps its WAL until the replica has it: without a slot, a primary busy
# copying databases (each CREATE DATABASE writes the copy to the WAL) recycles segments
# before a replica that was just copied, or fell behind, has read them. While the
# replica is down the slot holds WAL on the primary: pg_dropcluster it and drop the slot
# (pg_drop_replication_slot) when it is not wanted any more.
SLOT=gridgov_replica

as_postgres() { runuser -u postgres -- "$@"; }
sql() { as_postgres psql -h 127.0.0.1 -p "$1" -U postgres -XAtqc "$2" postgres; }

pg_isready -q -h 127.0.0.1 -p "$PRIMARY_PORT" || {
    echo "replica.sh: the primary does not answer on 127.0.0.1:$PRIMARY_PORT" >&2
    exit 1
}

# the primary lets pg_basebackup and the standby's WAL receiver in over loopback
if ! grep -qxF "$HBA_LINE" "$PRIMARY_HBA"; then
    echo "$HBA_LINE" >>"$PRIMARY_HBA"
    sql "$PRIMARY_PORT" "select pg_reload_conf()" >/dev/null
fi

# the replica answers, in recovery (a standby), and its WAL receiver streams
streaming() {
    pg_isready -q -h 127.0.0.1 -p "$REPLICA_PORT" &&
        [ "$(sql "$REPLICA_PORT" "select pg_is_in_recovery()" 2>/dev/null)" = t ] &&
        [ "$(sql "$REPLICA_PORT" "select count(*) from pg_stat_wal_receiver
                                   where status = 'streaming'" 2>/dev/null)" = 1 ]
}

# already a standby streaming from the primary: nothing to do
if streaming; then
    echo "replica.sh: $VERSION/$REPLICA already streaming on port $REPLICA_PORT"
    exit 0
fi

# the cluster's configuration (port, authentication like the primary's); its data
# directory is thrown away below and refilled from the primary
# (what pg_dropcluster or a failed run leaves of it is cleared first: the files this
# script added, a half-filled data directory)
if [ ! -f "$REPLICA_CONF/postgresql.conf" ]; then
    rm -rf "$REPLICA_CONF" "$DATA"
    pg_createcluster "$VERSION" "$REPLICA" -p "$REPLICA_PORT" >/dev/null
fi
mkdir -p "$REPLICA_CONF/conf.d"
# hot_standby_feedback: the primary's vacuum keeps the rows a query on the replica still
# reads, so that a long export is not cancelled by a replay conflict
cat >"$REPLICA_CONF/conf.d/90-replica.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $REPLICA_PORT
hot_standby = on
hot_standby_feedback = on
EOF
install -o postgres -g postgres -m 0640 "$PRIMARY_HBA" "$REPLICA_CONF/pg_hba.conf"

pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$REPLICA" stop -m fast >/dev/null 2>&1 || true
# a slot left by an earlier replica holds WAL from where that one stopped: start afresh
drop_slot() {
    for _ in $(seq 30); do
        [ "$(sql "$PRIMARY_PORT" "select count(*) from pg_replication_slots
                                  where slot_name = '$SLOT' and active")" = 0 ] && break
        sleep 1
    done
    sql "$PRIMARY_PORT" "select pg_drop_replication_slot(slot_name) from pg_replication_slots
                         where slot_name = '$SLOT'" >/dev/null
}
# -R writes standby.signal, primary_conninfo and primary_slot_name: the copy starts as a
# standby streaming from the primary; -X stream brings the WAL written during the copy
# along; -C -S makes the slot the standby then streams through. PostgreSQL 15 may
# invalidate a slot that a checkpoint forced at that moment (as each CREATE DATABASE
# of the tests does) finds just made: the copy fails, and is made again.
copied=""
for attempt in 1 2 3 4 5; do
    drop_slot
    rm -rf "$DATA"
    install -d -o postgres -g postgres -m 0700 "$DATA"
    if as_postgres pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DATA" \
        -R -X stream -C -S "$SLOT"; then
        copied=yes
        break
    fi
    echo "replica.sh: pg_basebackup failed (attempt $attempt of 5)" >&2
done
[ -n "$copied" ] || exit 1
pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$REPLICA" start

for _ in $(seq 60); do
    if streaming; then
        echo "replica.sh: $VERSION/$REPLICA streaming on port $REPLICA_PORT"
        exit 0
    fi
    sleep 1
done
echo "replica.sh: $VERSION/$REPLICA did not come up streaming on port $REPLICA_PORT" >&2
exit 1
