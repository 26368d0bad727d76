#!/usr/bin/env bash
# pg.sh - a throwaway PostgreSQL for gpupoold's tests and benchmarks: Debian's postgresql package,
# initdb in a temporary directory as the postgres user (PostgreSQL refuses to run as root; as any
# other user it runs as that user), a free loopback port, trust authentication on 127.0.0.1 only,
# started with pg_ctl -w and always stopped and removed at the end, failure or not.
#
#   tests/pg/pg.sh run CMD [ARGS...]  start one, run CMD with GPT_PG_URL (postgresql://postgres@127.0.0.1:PORT,
#                                     no database: add /NAME) and GPT_PG_DIR set, stop it, exit with CMD's status
#   tests/pg/pg.sh stop [MODE] | start  inside `run` ($GPT_PG_DIR): stop it (pg_ctl mode fast, or immediate:
#                                     like a crash, the next start replays the WAL) or start it again
#
# Settings are PostgreSQL's defaults (fsync and synchronous_commit on) apart from the address and
# port; PG_SETTINGS adds lines to postgresql.conf (the benchmark records what it adds).
set -euo pipefail

bindir() {
  local d
  d=$(pg_config --bindir 2>/dev/null || true)
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  fi
  [ -n "$d" ] && [ -x "$d/initdb" ] || { echo "pg.sh: no PostgreSQL server found (Debian package postgresql)" >&2; exit 1; }
  echo "$d"
}

as_pg() { # runs a server program as the postgres user when we are root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_stop() {
  local dir=$1 mode=${2:-fast}
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_pg "$(bindir)/pg_ctl" -D "$dir/data" -m "$mode" -w -t 60 stop >>"$dir/ctl.log" 2>&1 || true
}

pg_start() {
  local dir=$1
  as_pg "$(bindir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >>"$dir/ctl.log" 2>&1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "${1:-}" in
stop) pg_stop "${GPT_PG_DIR:?pg.sh stop runs inside pg.sh run}" "${2:-fast}"; exit 0 ;;
start) pg_start "${GPT_PG_DIR:?pg.sh start runs inside pg.sh run}"; exit 0 ;;
run) shift ;;
*) echo "usage: tests/pg/pg.sh run CMD [ARGS...] | stop [fast|immediate] | start" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || { echo "pg.sh run: no command" >&2; exit 2; }

bin=$(bindir)
dir=$(mktemp -d "${TMPDIR:-/tmp}/gpupool-pg-XXXXXX")
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres: "$dir"
cleanup() {
  pg_stop "$dir"
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
started=""
for _ in 1 2 3 4 5 6 7 8; do
  port=$(shuf -i 20000-60000 -n 1)
  port_free "$port" || continue
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $port"
    echo "unix_socket_directories = '$dir'"
    printf '%s\n' "${PG_SETTINGS:-}"
  } >"$dir/data/postgresql.auto.conf"
  if pg_start "$dir"; then started=1; break; fi
done
[ -n "$started" ] || { echo "pg.sh: PostgreSQL did not start:" >&2; tail -20 "$dir/server.log" "$dir/ctl.log" >&2 || true; exit 1; }

export GPT_PG_URL="postgresql://postgres@127.0.0.1:$port" GPT_PG_DIR="$dir"
echo "pg.sh: PostgreSQL $("$bin/postgres" -V | awk '{print $3}') on 127.0.0.1:$port ($dir)" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
