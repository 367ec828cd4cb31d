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

. scripts/pg-cluster.sh
start_pg_cluster doorbraak -c max_connections=200
echo "== PostgreSQL"
"${bench[@]}" --pgbench "$pgbin/pgbench" --database-url "$url"
