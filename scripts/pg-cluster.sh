# Sourced by the benchmark scripts: starts a throwaway PostgreSQL cluster
# with default, durable settings, stopped and removed when the script exits.
# Usage: start_pg_cluster NAME [server options]
# Sets: pgbin, dir, port, url (user NAME, database postgres), as_pg, and
# a function stop_pg_cluster (already on the EXIT trap).
start_pg_cluster() {
  local name="$1"
  shift
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort | tail -n 1)
  [ -n "$pgbin" ] || { echo "PostgreSQL server binaries not found" >&2; exit 1; }
  dir=$(mktemp -d "/tmp/doorbraak-$name.XXXXXX")
  as_pg=()
  # initdb refuses to run as root.
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; chmod 755 "$dir"; as_pg=(runuser -u postgres --); fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -U "$name" --auth=trust >/dev/null
  trap stop_pg_cluster EXIT
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $*" start >/dev/null
  url="postgres://$name@127.0.0.1:$port/postgres"
}

stop_pg_cluster() {
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" stop -m fast >/dev/null 2>&1 || true
  rm -rf "$dir"
}
