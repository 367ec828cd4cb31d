#!/usr/bin/env bash
# Instructions per request: the real server (`doorbraak serve` on a fresh
# SQLite file) under valgrind's callgrind, which counts the instructions
# every thread of the process executes. Unlike a rate or a CPU time, the
# count hardly moves with what else the shared machine is doing, so it is
# the figure to compare two builds by, or to find where a request's work
# goes. One client (scripts/instructions-client.py) warms up, then sends N
# bare requests (`{ __typename }`) and N transitions (pick up, release),
# with the counters zeroed before and dumped after each part. The kernel's
# work (system calls, scheduling) is not counted, and one client means one
# transition per commit: `doorbraak-bench` measures batching and the cost
# in time.
# Usage: scripts/instructions.sh [N, default 500] [server binary, default
#        target/release/doorbraak, built first]
# Leaves the callgrind files in target/instructions/ for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-500}"
bin="${2:-}"
command -v valgrind >/dev/null || { echo "valgrind is missing (Debian: apt-get install valgrind)" >&2; exit 1; }
if [ -z "$bin" ]; then
  cargo build --release -q -p doorbraak -p doorbraak-bench  # the same features as scripts/bench.sh, so neither rebuilds for the other
  bin=target/release/doorbraak
fi
out=target/instructions
rm -rf "$out"; mkdir -p "$out"
dir=$(mktemp -d /tmp/doorbraak-instructions.XXXXXX)
export DATABASE_URL="sqlite://$dir/db" DOORBRAAK_RATE_LIMIT=1000000000 DOORBRAAK_RATE_BURST=1000000000
"$bin" migrate >/dev/null 2>&1
prof=$("$bin" user create --name "Meet Professional" --role professional --area ZDO 2>/dev/null)
bureau=$("$bin" user create --name "Meet Bureau" --role programme-bureau --area ZDO 2>/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DOORBRAAK_ADDR="127.0.0.1:$port" valgrind --tool=callgrind \
  --callgrind-out-file="$out/callgrind.out" "$bin" serve >/dev/null 2>"$dir/log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 120); do
  curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.5
done
python3 scripts/instructions-client.py "$port" "$prof" "$bureau" "$n"
kill $server; wait $server 2>/dev/null || true
total() { awk '/^summary:/ { print $2 }' "$1"; }
bare=$(total "$out/callgrind.out.1")
moves=$(total "$out/callgrind.out.2")
awk -v b="$bare" -v t="$moves" -v n="$n" 'BEGIN {
  printf "instructions per bare request %.0f, per transition %.0f (one client, %d each); ratio %.2f\n", b / n, t / n, n, t / b }'
echo "files: $out/callgrind.out.1 (bare requests), $out/callgrind.out.2 (transitions)"
