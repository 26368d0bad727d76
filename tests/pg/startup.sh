#!/usr/bin/env bash
# startup.sh - gpupoold's start on PostgreSQL (inside tests/pg/pg.sh run):
#   - libpq URL forms: postgres:// and postgresql://, a password, query parameters, a schema chosen
#     with options=-csearch_path; the log shows the store without the password;
#   - three replicas started at once on an empty database all come up and the schema is migrated
#     once (schema_migrations has one row per version);
#   - refused with exit 1 and a reason, password never echoed: an invalid URL, an unknown parameter,
#     an unreachable server, a database written by a newer gpupoold.
# Usage: tests/pg/startup.sh BUILD/gpupoold
set -u
bin=${1:?usage: tests/pg/startup.sh BUILD/gpupoold}
: "${GPT_PG_URL:?run me inside tests/pg/pg.sh run}"
port=${GPT_PG_URL##*:}
work=$(mktemp -d)
failures=0
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  psql -q "$GPT_PG_URL/postgres" -c "DROP DATABASE IF EXISTS gpt_startup WITH (FORCE)" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL startup: $*" >&2; failures=$((failures + 1)); }
sql() { psql -At "$GPT_PG_URL/gpt_startup" -c "$1"; }

# start NAME URL: gpupoold in the background; sets pid and its port in NAME.port (empty: did not start)
start() {
  "$bin" --listen 127.0.0.1:0 --db "$2" >"$work/$1.out" 2>"$work/$1.err" &
  pid=$!
  pids+=("$pid")
}
# listening NAME: waits for the listening line (up to 10 s); true when it came
listening() {
  for _ in $(seq 200); do
    grep -q "listening on" "$work/$1.out" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
stop() { kill -TERM "$1"; wait "$1"; }
# refused NAME URL WHAT: gpupoold must exit 1 at once, saying WHAT, without the password
refused() {
  timeout 20 "$bin" --listen 127.0.0.1:0 --db "$2" >"$work/$1.out" 2>"$work/$1.err"
  local rc=$?
  [ "$rc" = 1 ] || fail "$1: exit status $rc, expected 1"
  grep -q "$3" "$work/$1.err" || fail "$1: stderr does not say '$3': $(cat "$work/$1.err")"
  ! grep -q sekret "$work/$1.err" "$work/$1.out" || fail "$1: the password was printed"
}

# The test server trusts 127.0.0.1, so a password in the URL is parsed and must stay out of the logs,
# but is not checked.
psql -q "$GPT_PG_URL/postgres" -c "CREATE DATABASE gpt_startup" ||
  { echo "FAIL startup: cannot prepare the database" >&2; exit 1; }

# Three replicas at once on the empty database, through three URL forms.
start r1 "postgresql://postgres:sekret@127.0.0.1:$port/gpt_startup?sslmode=disable&application_name=replica1"
p1=$pid
start r2 "postgres://postgres@127.0.0.1:$port/gpt_startup?connect_timeout=3"
p2=$pid
start r3 "postgresql://postgres@127.0.0.1:$port/gpt_startup"
p3=$pid
for r in r1 r2 r3; do listening $r || fail "$r did not start: $(cat "$work/$r.err")"; done
[ "$(sql "SELECT count(*) || '/' || max(version) FROM schema_migrations")" = "4/4" ] ||
  fail "schema_migrations after three concurrent starts: $(sql "SELECT version, name FROM schema_migrations")"
grep -q "store postgresql://postgres@127.0.0.1:$port/gpt_startup" "$work/r1.err" ||
  fail "the log does not name the store: $(head -2 "$work/r1.err")"
! grep -q sekret "$work/r1.err" "$work/r1.out" || fail "the log shows the password"
# They serve one store: a cluster created through one is listed through another.
r1_port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/r1.out")
r3_port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/r3.out")
rg=/subscriptions/2d4f6a8c-0e1b-4c3d-8e5f-7a9b0c1d2e3f/resourceGroups/s/providers/Microsoft.ContainerService
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
  "http://127.0.0.1:$r1_port$rg/managedClusters/c1?api-version=2026-06-01" -d '{"location":"eastus"}')
[ "$code" = 201 ] || fail "cluster create through replica 1: $code"
curl -s "http://127.0.0.1:$r3_port$rg/managedClusters?api-version=2026-06-01" | grep -q '"name":"c1"' ||
  fail "replica 3 does not list the cluster created through replica 1"
for p in "$p1" "$p2" "$p3"; do stop "$p" || fail "a replica did not stop cleanly"; done
pids=()

# A schema of its own through libpq's options parameter.
sql "CREATE SCHEMA other" >/dev/null
start schema "postgresql://postgres@127.0.0.1:$port/gpt_startup?options=-csearch_path%3Dother"
listening schema || fail "start with search_path=other: $(cat "$work/schema.err")"
stop "$pid" || fail "the search_path replica did not stop cleanly"
pids=()
[ "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'other' AND tablename IN ('clusters', 'pools', 'plans', 'operations', 'features', 'schema_migrations')")" = 6 ] ||
  fail "search_path=other did not get its own tables"

refused bad-url "postgresql://postgres:sekret@[::1/gpt_startup" "URL is not valid"
refused bad-param "postgresql://postgres:sekret@127.0.0.1:$port/gpt_startup?no_such_parameter=1" "URL is not valid"
refused unreachable "postgresql://postgres:sekret@127.0.0.1:1/gpt_startup" "cannot connect to PostgreSQL"
sql "INSERT INTO schema_migrations(version, name) VALUES (99, 'from the future')" >/dev/null
refused newer "postgresql://postgres:sekret@127.0.0.1:$port/gpt_startup" "newer gpupoold"

[ "$failures" = 0 ] && echo "startup: ok (URL forms, concurrent migration, refusals)"
exit $((failures > 0))
