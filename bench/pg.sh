#!/usr/bin/env bash
# pg.sh - gpupoold on PostgreSQL next to SQLite (issue 6), in one run on one machine, wrk on loopback:
# durable PUTs (each creates a pool and its operation; a 2xx only after the commit is durable) and
# GETs of an agent pool, for
#   - SQLite (one gpupoold, the only way SQLite runs),
#   - PostgreSQL with one gpupoold,
#   - PostgreSQL with two gpupoold replicas on one database, each loaded by its own wrk with half the
#     connections (what a load balancer would do, without a balancer's own cost on these CPUs).
# PostgreSQL is Debian's package with its default settings (fsync and synchronous_commit on),
# started by tests/pg/pg.sh; nothing is tuned. Writes the figures with the machine and date into
# bench/RESULTS.md (section "gpupoold-pg"). Usage: bench/pg.sh [BUILD/gpupoold]
# Knobs: BENCH_DURATION (s per wrk run, default 10), BENCH_CONNECTIONS (GETs, default 32),
#        BENCH_PUT_CONNECTIONS (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/gpupoold}
[ -x "$bin" ] || { echo "bench: build $bin first (make)" >&2; exit 1; }
# One throwaway PostgreSQL for the whole run: the script runs again inside it.
[ -n "${GPT_PG_URL:-}" ] || exec tests/pg/pg.sh run "$0" "$@"

source bench/lib.sh
bench_packages wrk curl
dur=${BENCH_DURATION:-10}
conns=${BENCH_CONNECTIONS:-32}
put_conns=${BENCH_PUT_CONNECTIONS:-16}
work=$(mktemp -d /tmp/gpupoold-bench-pg-XXXXXX)
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_before=$(cut -d' ' -f1-3 /proc/loadavg) # other work on the machine shows here
sub=6f0d2b1c-3a4e-4b5f-9c6d-7e8f90a1b2c3
rgpath="/subscriptions/$sub/resourceGroups/bench/providers/Microsoft.ContainerService"
api=2026-08-02-preview
json='Content-Type: application/json'
pool_path="$rgpath/managedClusters/c1/agentPools/gpu1?api-version=$api"
puts_path="$rgpath/managedClusters/puts/agentPools"

# A cluster c1 with an H100 pool to GET, and an empty cluster for the creates.
prepare() {
  local base=$1
  curl -s -o /dev/null -X POST "$base/subscriptions/$sub/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/ManagedGPU/register?api-version=2021-07-01"
  for c in c1 puts; do
    curl -s -o /dev/null -X PUT -H "$json" "$base$rgpath/managedClusters/$c?api-version=$api" -d '{"location":"eastus"}'
    wait_succeeded "$base$rgpath/managedClusters/$c?api-version=$api"
  done
  curl -s -o /dev/null -X PUT -H "$json" "$base$pool_path" -d @examples/pool-h100-mig1g-managed.json
  wait_succeeded "$base$pool_path"
}

# spread OUT CONNS WRK-ARGS...: one wrk per replica of measure's $bases at once, with 2/n threads and
# CONNS/n connections each; @BASE@ and @TAG@ in the arguments become the replica's URL and pool name
# prefix; figures into $work/OUTi.txt (OUT empty: not kept).
spread() {
  local out=$1 c=$2 i a dest runs=()
  shift 2
  for i in "${!bases[@]}"; do
    local args=()
    for a in "$@"; do
      a=${a//@BASE@/${bases[i]}}
      args+=("${a//@TAG@/${tags[i]}}")
    done
    dest=/dev/null
    [ -n "$out" ] && dest="$work/$out$i.txt"
    wrk -t$((2 / n)) -c$((c / n)) "${args[@]}" >"$dest" 2>&1 &
    runs+=($!)
  done
  wait "${runs[@]}" # not a bare wait: gpupoold is a child too
}

# measure NAME BASE...: GETs, then creates, spread over the replicas at BASE...
measure() {
  local name=$1
  shift
  local bases=("$@") n=$# tags=(a b) # each wrk names its own pools
  prepare "${bases[0]}"
  # Warm-up, not measured: connections opened (a PostgreSQL connection is a backend process forked
  # on first use), statements prepared, views cached.
  spread "" "$conns" -d2s "@BASE@$pool_path"
  echo "bench: $name: GET agent pool" >&2
  spread "${name}_get" "$conns" --latency -d"${dur}s" "@BASE@$pool_path"
  echo "bench: $name: durable PUT" >&2
  spread "${name}_put" "$put_conns" --latency -d"${dur}s" -s bench/wrk/put-pools.lua @BASE@ -- "$puts_path" 2026-06-01 @TAG@
  local f
  for f in "$work/${name}"_*.txt; do
    if grep -q "Non-2xx" "$f"; then echo "bench: $f had errors:" >&2; cat "$f" >&2; exit 1; fi
  done
  wait_idle "${bases[0]}"
}
sum_rps() { local t=0 f; for f in "$work/$1"*.txt; do t=$((t + $(rps "$(basename "$f" .txt)"))); done; echo "$t"; }
max_p99() { for f in "$work/$1"*.txt; do p99 "$(basename "$f" .txt)"; echo; done | sort -g | tail -1; }
sum_requests() { local t=0 f; for f in "$work/$1"*.txt; do t=$((t + $(requests "$(basename "$f" .txt)"))); done; echo "$t"; }

# SQLite
start_gpupoold sqlite "sqlite:$work/sqlite/gpupool.db"
measure sqlite "http://127.0.0.1:$port"
stop_gpupoold "$gpid"

# PostgreSQL, one replica, then two on another database
psql -q "$GPT_PG_URL/postgres" -c "CREATE DATABASE bench1" -c "CREATE DATABASE bench2"
start_gpupoold pg1 "$GPT_PG_URL/bench1"
measure pg1 "http://127.0.0.1:$port"
stop_gpupoold "$gpid"
start_gpupoold pg2a "$GPT_PG_URL/bench2"
a_port=$port a_pid=$gpid
start_gpupoold pg2b "$GPT_PG_URL/bench2"
measure pg2 "http://127.0.0.1:$a_port" "http://127.0.0.1:$port"
stop_gpupoold "$a_pid"
stop_gpupoold "$gpid"
pg_settings=$(psql -At "$GPT_PG_URL/postgres" -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'max_connections', 'wal_level', 'full_page_writes')")
pg_version=$(psql -At "$GPT_PG_URL/postgres" -c "SHOW server_version" | awk '{print $1}')

row() { # label, figure prefix
  printf '| %s | %s req/s | %s ms | %s req/s | %s ms |' "$1" "$(sum_rps "$2_put")" "$(max_p99 "$2_put")" \
    "$(sum_rps "$2_get")" "$(max_p99 "$2_get")"
}
section=$(cat <<TXT
<!-- gpupoold-pg:begin -->
## gpupoold on PostgreSQL (issue 6): one and two replicas next to SQLite

\`bench/pg.sh\` — $(date -u +%Y-%m-%d), $(nproc) CPUs ($(cpu_model)), $(uname -r), wrk $(wrk -v 2>&1 | awk 'NR==1{print $2}'),
PostgreSQL $pg_version (Debian package, default settings: $pg_settings), libpq $(pkg-config --modversion libpq),
SQLite $(pkg-config --modversion sqlite3). Everything on this one machine over loopback: wrk, gpupoold (default
flags: 64 HTTP threads, at most 16 PostgreSQL connections per replica) and PostgreSQL share the same
$(nproc) CPUs. A 2 s GET warm-up per configuration, then ${dur} s per run; GETs at \`-c$conns\`, PUTs at \`-c$put_conns\` in all; with two replicas each gets
its own wrk with half the connections (\`-t1\`), rates are summed and the p99 is the worse of the two.
A PUT creates a T4 pool and its operation and is answered after the commit is durable (SQLite: WAL fsync of
the group; PostgreSQL: COMMIT with synchronous_commit on); the reconciler ends the operations as they come,
on the same CPUs.

| store | durable PUT | PUT p99 | GET agent pool | GET p99 |
|---|---|---|---|---|
$(row "SQLite, one gpupoold" sqlite)
$(row "PostgreSQL, one gpupoold" pg1)
$(row "PostgreSQL, two gpupoold replicas" pg2)

Pools created: SQLite $(sum_requests sqlite_put), PostgreSQL one replica $(sum_requests pg1_put), two replicas $(sum_requests pg2_put).
Load average (1, 5, 15 min) before the run, i.e. other work on this shared machine: $load_before (after it, with its own
load: $(cut -d' ' -f1-3 /proc/loadavg)).
<!-- gpupoold-pg:end -->
TXT
)
echo "$section"
write_section gpupoold-pg "$section"
