#!/usr/bin/env bash
# What a NOTIFY in every transaction costs PostgreSQL: pgbench on a
# throwaway cluster (durable default settings) runs the raw transition
# (a version-guarded UPDATE and an INSERT) with and without
# `pg_notify(...)` in the same transaction, and with the notification sent
# by every tenth transaction only, and sent after the commit on its own
# (a transaction with nothing but the NOTIFY writes no commit record to
# wait for). "indexed" is the plain transaction on a table where the
# updated column is in ten indexes, as a transition's holder and state
# are: what a non-HOT update costs.
# Usage: scripts/pg-notify-probe.sh [seconds per run, default 10] [clients, default 16]
set -euo pipefail
secs="${1:-10}"
clients="${2:-16}"
. "$(dirname "$0")/pg-cluster.sh"
start_pg_cluster probe
"$pgbin/psql" -q "$url" <<'SQL'
CREATE TABLE cases (id bigint PRIMARY KEY, version bigint NOT NULL, updated_at bigint NOT NULL);
CREATE TABLE case_events (id bigserial PRIMARY KEY, case_id bigint NOT NULL, sequence bigint NOT NULL, action text NOT NULL, at bigint NOT NULL);
INSERT INTO cases SELECT g, 0, 0 FROM generate_series(1, 1000) g;
-- For comparison: the same update of a column that ten indexes cover, as
-- a transition's change of holder or state is (no HOT update possible).
CREATE TABLE wide (id bigint PRIMARY KEY, version bigint NOT NULL, holder bigint NOT NULL,
  c1 bigint, c2 bigint, c3 bigint, c4 bigint, c5 bigint, c6 bigint, c7 bigint, c8 bigint, c9 bigint);
INSERT INTO wide SELECT g, 0, 0, g, g, g, g, g, g, g, g, g FROM generate_series(1, 1000) g;
CREATE INDEX ON wide (holder, id);
CREATE INDEX ON wide (c1, holder); CREATE INDEX ON wide (c2, holder); CREATE INDEX ON wide (c3, holder);
CREATE INDEX ON wide (c4, id); CREATE INDEX ON wide (c5, id); CREATE INDEX ON wide (c6, id);
CREATE INDEX ON wide (c7, id); CREATE INDEX ON wide (c8, id); CREATE INDEX ON wide (c9);
SQL
body='\set cid :client_id + 1
BEGIN;
UPDATE cases SET version = version + 1, updated_at = 0 WHERE id = :cid RETURNING version \gset
INSERT INTO case_events (case_id, sequence, action, at) VALUES (:cid, :version, '"'PICK_UP'"', 0);'
printf '%s\nEND;\n' "$body" >"$dir/plain.sql"
printf '%s\nSELECT pg_notify('"'probe'"', '"''"');\nEND;\n' "$body" >"$dir/notify.sql"
printf '%s\nEND;\nSELECT pg_notify('"'probe'"', '"''"');\n' "$body" >"$dir/after.sql"
printf '%s\n\\set n random(1, 10)\nSELECT pg_notify('"'probe'"', '"''"') WHERE :n = 1;\nEND;\n' "$body" >"$dir/tenth.sql"
cat >"$dir/indexed.sql" <<'SQL'
\set cid :client_id + 1
BEGIN;
UPDATE wide SET version = version + 1, holder = 1 - holder WHERE id = :cid RETURNING version \gset
INSERT INTO case_events (case_id, sequence, action, at) VALUES (:cid, :version, 'PICK_UP', 0);
END;
SQL
# A listener, as the server keeps one: NOTIFY without one is cheaper.
# It idles in a session of its own (no open transaction holding back vacuum).
(echo "LISTEN probe;"; sleep 100000) | "$pgbin/psql" -q "$url" >/dev/null 2>&1 &
listener=$!
trap 'kill $listener 2>/dev/null || true; stop_pg_cluster' EXIT
sleep 1
for s in plain notify tenth after indexed plain notify tenth after indexed; do
  tps=$("$pgbin/pgbench" -n -M prepared -c "$clients" -j 2 -T "$secs" -f "$dir/$s.sql" "$url" 2>/dev/null | awk '/^tps/ { print $3 }')
  printf '%-7s %s clients  %8.0f tx/s\n' "$s" "$clients" "$tps"
done
