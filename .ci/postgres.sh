#!/usr/bin/env bash
# A throwaway PostgreSQL for the storage tests, on 127.0.0.1 with its cluster in a temp directory.
#
#   eval "$(bash .ci/postgres.sh)"        # installs if needed, starts, prints the exports below
#   ... python -m pytest ...              # tests read LOGISTICS_TEST_POSTGRES_URL
#   bash .ci/postgres.sh stop             # stops it and removes the cluster
#
# stdout carries only the `export` lines; progress goes to stderr.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

as_owner() {  # PostgreSQL refuses to run as root: use the package's `postgres` user then
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-start}" = "stop" ]; then
  : "${LOGISTICS_TEST_POSTGRES_DIR:?not set: nothing to stop}"
  as_owner "$PG_BIN/pg_ctl" -D "$LOGISTICS_TEST_POSTGRES_DIR/data" -m fast -w stop >&2 || true
  rm -rf "$LOGISTICS_TEST_POSTGRES_DIR"
  exit 0
fi

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(pg_bin)" ]; then
  log "installing the Debian package postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
PG_BIN="$(pg_bin)"
[ -x "$PG_BIN/initdb" ] || { log "no initdb in $PG_BIN"; exit 1; }

dir="$(mktemp -d /tmp/logistics-pg.XXXXXX)"
[ "$(id -u)" = "0" ] && chown postgres: "$dir"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

log "cluster in $dir, port $port"
as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off" start >&2 \
  || { cat "$dir/server.log" >&2; exit 1; }
as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres logistics_test >&2

echo "export PG_BIN=$PG_BIN"
echo "export LOGISTICS_TEST_POSTGRES_DIR=$dir"
echo "export LOGISTICS_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/logistics_test"
