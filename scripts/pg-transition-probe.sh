#!/usr/bin/env bash
# Where PostgreSQL's time per transition goes, part by part, on the real
# schema: a throwaway cluster (durable default settings) is migrated and
# filled by a one-second run of the benchmark, then pgbench runs the
# transition's statement growing one part at a time, 16 clients, each on
# its own case:
#   raw      the benchmark's raw ceiling (BEGIN, UPDATE, INSERT, END)
#   single   the same writes as one statement (a data-modifying CTE)
#   holder   and the holder changes, with its row in case_holders
#   webhook  and the outbox's webhook INSERT ... SELECT
#   read     and the case row read first, in its own round trip
#   notify   and a NOTIFY after each transition
#   window   the read, then the change feed's window read of 256 events
# Usage: scripts/pg-transition-probe.sh [seconds per run, default 6] [rounds, default 2]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-6}"
rounds="${2:-2}"
cargo build --release -q -p doorbraak -p doorbraak-bench
. scripts/pg-cluster.sh
start_pg_cluster probe -c max_connections=200
target/release/doorbraak-bench --seconds 1 --clients 16 --database-url "$url" \
  --pgbench "$pgbin/pgbench" >/dev/null
actor=$("$pgbin/psql" -At "$url" -c "SELECT id FROM users WHERE role = 'PROGRAMME_BUREAU' ORDER BY id LIMIT 1")
first=$("$pgbin/psql" -At "$url" -c "SELECT min(id) - 1 FROM cases")

head="\\set cid :client_id + $first + 1"
event="INSERT INTO case_events (case_id, sequence, action, from_state, to_state, actor_id, actor_role, note, at, effect, meeting_id) SELECT id, version, 'PICK_UP', 'AT_PROGRAMME_BUREAU', 'AT_PROGRAMME_BUREAU', $actor, 'PROGRAMME_BUREAU', NULL, 0, '{\"level\": \"PROGRAMME_BUREAU\", \"assignee\": null, \"deadline\": 1797169558238}', NULL FROM moved"
webhook="INSERT INTO outbox (channel, subscription_id, case_id, kind, payload, created_at, next_attempt_at, attempts) SELECT 'webhook', id, :cid, 'PICK_UP', '{}', 0, 0, 0 FROM webhook_subscriptions WHERE active AND (focus_areas = '' OR strpos(' ' || focus_areas || ' ', ' ZDO ') > 0) AND ministries = '' AND EXISTS (SELECT 1 FROM moved)"
plain="UPDATE cases SET version = version + 1, updated_at = 0 WHERE id = :cid AND version >= 0 RETURNING id, version"
holder="UPDATE cases SET assignee_id = CASE WHEN assignee_id IS NULL THEN $actor END, version = version + 1, updated_at = 0 WHERE id = :cid AND version >= 0 RETURNING id, version"
read_case="SELECT * FROM cases WHERE id = :cid LIMIT 1;"
holders="gone AS (DELETE FROM case_holders WHERE case_id = :cid AND EXISTS (SELECT 1 FROM moved) RETURNING case_id), took AS (INSERT INTO case_holders (case_id, assignee_id) SELECT id, $actor FROM moved WHERE NOT EXISTS (SELECT 1 FROM gone))"
full="WITH moved AS ($holder), w0 AS ($event), $holders, w1 AS ($webhook) SELECT id FROM moved;"

printf '%s\nBEGIN;\nUPDATE cases SET version = version + 1, updated_at = 0 WHERE id = :cid AND version >= 0 RETURNING version \\gset\nINSERT INTO case_events (case_id, sequence, action, from_state, to_state, actor_id, actor_role, note, at, effect) VALUES (:cid, :version, '"'PICK_UP'"', '"'AT_PROGRAMME_BUREAU'"', '"'AT_PROGRAMME_BUREAU'"', %s, '"'PROGRAMME_BUREAU'"', NULL, 0, '"'{}'"');\nEND;\n' "$head" "$actor" >"$dir/raw.sql"
printf '%s\nWITH moved AS (%s), w0 AS (%s) SELECT id FROM moved;\n' "$head" "$plain" "$event" >"$dir/single.sql"
printf '%s\nWITH moved AS (%s), w0 AS (%s), %s SELECT id FROM moved;\n' "$head" "$holder" "$event" "$holders" >"$dir/holder.sql"
printf '%s\n%s\n' "$head" "$full" >"$dir/webhook.sql"
printf '%s\n%s\n%s\n' "$head" "$read_case" "$full" >"$dir/read.sql"
printf '%s\n%s\n%s\nSELECT pg_notify('"'probe'"', '"''"');\n' "$head" "$read_case" "$full" >"$dir/notify.sql"
printf '%s\n%s\n%s\nSELECT id, case_id, at FROM case_events ORDER BY id DESC LIMIT 256;\n' "$head" "$read_case" "$full" >"$dir/window.sql"

for round in $(seq 1 "$rounds"); do
  for v in raw single holder webhook read notify window; do
    tps=$("$pgbin/pgbench" -n -M prepared -c 16 -j 2 -T "$secs" -f "$dir/$v.sql" "$url" 2>&1 \
      | sed -n 's/^tps = \([0-9]*\).*/\1/p')
    [ -n "$tps" ] || { echo "pgbench failed on $v" >&2; exit 1; }
    printf 'round %s  %-8s %6s tx/s\n' "$round" "$v" "$tps"
  done
done
