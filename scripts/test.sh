#!/usr/bin/env bash
# Runs every test of the workspace: unit, property and end-to-end tests on
# SQLite and PostgreSQL. The end-to-end tests start and stop a throwaway
# PostgreSQL cluster themselves; this script only makes sure the server
# binaries are installed (Debian's `postgresql` package) and fails if it
# cannot. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

have_pg() {
  [ -n "${DOORBRAAK_PG_BIN:-}" ] && [ -x "${DOORBRAAK_PG_BIN}/initdb" ] && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

if ! have_pg; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "scripts/test.sh: installing PostgreSQL (Debian package postgresql)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  have_pg || { echo "scripts/test.sh: PostgreSQL server binaries are required and could not be installed" >&2; exit 1; }
fi

# Run everything, then close with one plain line that totals every test
# binary's result ("N passed, N failed"), keeping cargo's exit status.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
