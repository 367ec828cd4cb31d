#!/usr/bin/env bash
# Runs every test of the workspace: unit, property and end-to-end tests on
# SQLite and PostgreSQL. The end-to-end tests start and stop a throwaway
# PostgreSQL cluster themselves; this script only makes sure the server
# binaries are installed (Debian's `postgresql` package) and the Node tools
# the tests drive (tests/node: the graphql-http audit, graphql-js, playwright-core and
# axe-core for the browser suite in Debian's Chromium, installed here too) are
# installed from their lock file, and fails if it cannot. Extra arguments
# go to `cargo test`. Each suite's time is printed at the end.
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

# The browser tests drive Debian's Chromium (Playwright's own download
# does not work here).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "scripts/test.sh: installing Chromium (Debian package chromium)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  fi
  [ -x /usr/bin/chromium ] || { echo "scripts/test.sh: Chromium (/usr/bin/chromium) is required and could not be installed" >&2; exit 1; }
fi

started=$(date +%s)
if [ ! -f tests/node/node_modules/.package-lock.json ] || ! cmp -s tests/node/package-lock.json tests/node/node_modules/.lock-installed 2>/dev/null; then
  command -v npm >/dev/null || { echo "scripts/test.sh: Node.js with npm is required" >&2; exit 1; }
  echo "scripts/test.sh: installing the test tools (npm ci in tests/node)" >&2
  (cd tests/node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2 && cp package-lock.json node_modules/.lock-installed)
fi

# Run everything, then close with one plain line that totals every test
# binary's result ("N passed, N failed"), keeping cargo's exit status.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# Per suite: cargo prints "Running <binary>" before and "finished in Ns" in
# its result line. Budgets: the end-to-end suite 900 s, every other suite
# 120 s; a suite over its budget fails the run.
awk '/^ *Running / { name = $2; if (match($0, /deps\/[^)]*/)) { name = substr($0, RSTART + 5, RLENGTH - 5); sub(/-[0-9a-f]+$/, "", name) } }
     /^ *Doc-tests / { name = "doc-tests " $2 }
     /^test result:/ {
       for (i = 1; i <= NF; i++) if ($i == "in") { t = $(i+1); sub(/s$/, "", t) }
       budget = (name ~ /e2e/) ? 900 : 120
       over = (t + 0 > budget) ? "  OVER BUDGET" : ""
       printf "suite %-58s %8.1f s (budget %d s)%s\n", name, t, budget, over
       if (over != "") bad = 1
     }
     END { exit bad }' "$log" || { echo "scripts/test.sh: a suite went over its time budget" >&2; status=1; }
awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed\n", p, f }' "$log"
echo "total $(( $(date +%s) - started )) s (build included)"
exit "$status"
