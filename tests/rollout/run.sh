#!/bin/sh
# run.sh - the rollout suite on SQLite and on PostgreSQL (two replicas, a throwaway PostgreSQL from
# tests/pg/pg.sh) at the same time, to keep `make test` short; each run's output is printed when
# both have ended, and the status is 1 when either failed. Environment: B (build directory).
set -u
B=${B:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/gpupool-rollout-run.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
B=$B sh tests/rollout/test-rollout.sh >"$T/sqlite" 2>&1 &
sqlite=$!
B=$B tests/pg/pg.sh run sh tests/rollout/test-rollout.sh --pg >"$T/pg" 2>&1 &
pg=$!
wait $sqlite
rc_sqlite=$?
wait $pg
rc_pg=$?
cat "$T/sqlite" "$T/pg"
[ "$rc_sqlite" = 0 ] && [ "$rc_pg" = 0 ]
