#!/usr/bin/env bash
# The transition benchmark: the real server (`doorbraak serve`, its own
# process) against the raw database limit and the bare-request floor,
# measured in the same run, on SQLite (NORMAL and FULL) and on a throwaway
# PostgreSQL cluster (default, durable settings: synchronous_commit on).
# Usage: scripts/bench.sh [seconds per loop, default 5] [clients, default 1,16]
#                        [which: all (default), sqlite or postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
clients="${2:-1,16}"
which="${3:-all}"
case "$which" in all|sqlite|postgres) ;; *) echo "which: all, sqlite or postgres" >&2; exit 2;; esac
cargo build --release -q -p doorbraak -p doorbraak-bench
bench=(target/release/doorbraak-bench --seconds "$secs" --clients "$clients")

if [ "$which" != postgres ]; then
  echo "== SQLite (synchronous=NORMAL, the default)"
  "${bench[@]}"
  echo
  echo "== SQLite (synchronous=FULL)"
  "${bench[@]}" --sqlite-synchronous full
  echo
fi
[ "$which" != sqlite ] || exit 0

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort | tail -n 1)
[ -n "$pgbin" ] || { echo "PostgreSQL server binaries not found" >&2; exit 1; }
dir=$(mktemp -d /tmp/doorbraak-bench-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; as_pg=(runuser -u postgres --); fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -U doorbraak --auth=trust >/dev/null
stop() { "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" stop -m fast >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap stop EXIT
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
echo "== PostgreSQL"
"${bench[@]}" --pgbench "$pgbin/pgbench" --database-url "postgres://doorbraak@127.0.0.1:$port/postgres"
