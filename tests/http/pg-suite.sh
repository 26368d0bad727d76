#!/bin/sh
# pg-suite.sh - gpupoold's HTTP suites on PostgreSQL. Runs inside tests/pg/pg.sh run (one PostgreSQL
# for all of them; every test server gets a new database there): start-up (URL forms, migrations,
# refusals), the whole scenario suite, the durability and race tests as on SQLite, two replicas on
# one database, PostgreSQL restarted under load, long-polls woken across replicas.
# Usage: tests/pg/pg.sh run tests/http/pg-suite.sh BUILD
set -eu
B=${1:-build}
: "${GPT_PG_URL:?run me inside tests/pg/pg.sh run}"
echo "== gpupoold start-up (postgresql)"
tests/pg/startup.sh "$B/gpupoold"
echo "== http scenarios (postgresql)"
"$B/tests/http-runner" --server "$B/gpupoold" --pg "$GPT_PG_URL" tests/http/*.json
echo "== http durability (postgresql)"
"$B/tests/http-durability" --server "$B/gpupoold" --pg "$GPT_PG_URL"
echo "== http race (postgresql)"
"$B/tests/http-race" --server "$B/gpupoold" --pg "$GPT_PG_URL"
echo "== http heartbeats, one and two replicas (postgresql)"
"$B/tests/http-heartbeats" --server "$B/gpupoold" --pg "$GPT_PG_URL"
echo "== http store upgrade: migrations 2 to 4 on databases of migrations 1 to 3 (postgresql)"
"$B/tests/http-upgrade" --server "$B/gpupoold" --pg "$GPT_PG_URL"
echo "== http what-if writes nothing (postgresql)"
"$B/tests/http-whatif_store" --server "$B/gpupoold" --pg "$GPT_PG_URL"
echo "== http rollout: the replica carrying it killed, the other takes over (postgresql)"
"$B/tests/http-rollout_restart" --server "$B/gpupoold" --pg "$GPT_PG_URL"
echo "== http replicas (postgresql)"
"$B/tests/http-replicas" --server "$B/gpupoold" --pg "$GPT_PG_URL"
echo "== http PostgreSQL restart (postgresql)"
"$B/tests/http-pg_restart" --server "$B/gpupoold" --pg "$GPT_PG_URL" --pg-ctl tests/pg/pg.sh
echo "== long-polls across replicas (postgresql)"
"$B/tests/hardening-longpoll" --server "$B/gpupoold" --pg "$GPT_PG_URL"
echo "== machine targets moved by another replica wake the machine's long-poll (postgresql)"
"$B/tests/fleet-targets" --server "$B/gpupoold" --pg "$GPT_PG_URL"
echo "== fleet: agents on two replicas (postgresql)"
B="$B" tests/fleet/test-fleet.sh --pg
