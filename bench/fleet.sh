#!/usr/bin/env bash
# fleet.sh - issue 11's scale figures: simulated node agents (bench/fleet/fleetsim.c: one process,
# epoll, each machine reporting and long-polling its plan as gpupool-agent run does) against
# gpupoold, on SQLite and on PostgreSQL with two replicas:
#   1. what one request costs gpupoold (CPU µs, from /proc): a report that changes nothing (a
#      heartbeat, coalesced), a report that changes something (a durable write), a long-poll
#      renewal (a 304 at its deadline and the next GET held); on PostgreSQL also PostgreSQL's CPU
#      and its transactions;
#   2. FLEET_MACHINES (100,000) machines reporting every FLEET_INTERVAL (60) s on one gpupoold with
#      SQLite, 1% of the reports changing something, sustained for FLEET_DURATION (120) s: report
#      latency, gpupoold's CPU; the same on PostgreSQL with two replicas (half the machines each);
#   3. FLEET_WAKE_MACHINES (10,000) agents long-polling one replica: its resident size, and how long
#      one pool change takes to reach all of them.
# This machine's open-file limit (20,000, which root here cannot raise) caps the connections one
# process holds, so in 2. FLEET_POLLERS (10,000) machines hold long-polls, waiting
# 60 * FLEET_POLLERS / FLEET_MACHINES s instead of 60: they renew as often as all machines waiting 60 s
# would (what costs CPU); what held long-polls cost in memory is 3.
# gpupoold runs with --threads FLEET_THREADS (16; see docs/decisions.md, Fleet integration); 2. is
# also run once with the default 64 on SQLite to show why.
# Writes bench/RESULTS.md (section "fleet") with the machine, the date and the load.
# Usage: bench/fleet.sh [BUILD/gpupoold [BUILD/bench-fleetsim]]   (make bench-fleet)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/gpupoold}
sim=${2:-build/bench-fleetsim}
[ -x "$bin" ] && [ -x "$sim" ] || { echo "bench: build $bin and $sim first (make bench-fleet)" >&2; exit 1; }
# One throwaway PostgreSQL for the whole run: the script runs again inside it.
[ -n "${GPT_PG_URL:-}" ] || exec tests/pg/pg.sh run "$0" "$@"

source bench/lib.sh
bench_packages curl
machines=${FLEET_MACHINES:-100000}
interval=${FLEET_INTERVAL:-60}
duration=${FLEET_DURATION:-120}
pollers=${FLEET_POLLERS:-10000}
wake_n=${FLEET_WAKE_MACHINES:-10000}
threads=${FLEET_THREADS:-16}
cost_s=${FLEET_COST_SECONDS:-30}
ulimit -n "$(ulimit -Hn)"
bench_fleet_setup fleet # $work, cleanup at exit, load_before, sub, api, json, rg, pool
pool_body='{"properties":{"vmSize":"Standard_NC64as_T4_v3","count":3,"nodeTaints":["sku=gpu:NoSchedule"]%s}}'
printf "$pool_body" ',"nodeLabels":{"wave":"2"}' >"$work/wake.json"

make_pool() { # make_pool BASE
  curl -s -o /dev/null -X PUT -H "$json" "$1$rg/managedClusters/c1?api-version=$api" -d '{"location":"eastus"}'
  wait_succeeded "$1$rg/managedClusters/c1?api-version=$api"
  curl -s -o /dev/null -X PUT -H "$json" "$1$pool?api-version=$api" -d "$(printf "$pool_body" "")"
  wait_succeeded "$1$pool?api-version=$api"
}
# result FILE KEY: a value of the sim's RESULT line
result() { sed -n 's/^RESULT //p' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
make_hook() { # make_hook DB FILE: a --measure-hook that appends "WHEN xacts rows wal-bytes epoch" to FILE
  cat >"$work/hook-$1.sh" <<EOF
#!/bin/sh
echo "\$1 \$(psql -At "$GPT_PG_URL/postgres" -c "SELECT xact_commit || ' ' || (tup_inserted + tup_updated + tup_deleted) || ' ' || (pg_current_wal_lsn() - '0/0'::pg_lsn) FROM pg_stat_database WHERE datname = '$1'") \$(date +%s.%N)" >>"$2"
EOF
  chmod +x "$work/hook-$1.sh"
  echo "$work/hook-$1.sh"
}
# pg_rates FILE: transactions (reads included), rows written and WAL bytes per second between the
# hook's start and end lines
pg_rates() {
  awk '$1 == "start" { x = $2; r = $3; w = $4; t = $5 }
       $1 == "end" { d = $5 - t; printf "%.0f %.0f %.0f\n", ($2 - x) / d, ($3 - r) / d, ($4 - w) / d }' "$1"
}

# run NAME DB SIM-ARGS...: a fresh gpupoold (or two: DB2 set) with a pool, then the simulator
run_sqlite() {
  local name=$1 gargs=$2
  shift 2
  # shellcheck disable=SC2086
  start_gpupoold "$name" "sqlite:$work/$name.db" $gargs
  make_pool "http://127.0.0.1:$port"
  "$sim" --port "$port" --pool "$pool" --watch-pid "$gpid" "$@" >"$work/$name.txt" 2>&1
  cat "$work/$name.txt" >&2
  stop_gpupoold "$gpid"
}
run_pg() { # run_pg NAME REPLICAS GARGS SIM-ARGS...
  local name=$1 n=$2 gargs=$3
  shift 3
  psql -q "$GPT_PG_URL/postgres" -c "CREATE DATABASE $name"
  local ports=() watch=() gpids=()
  for i in $(seq "$n"); do
    # shellcheck disable=SC2086
    start_gpupoold "$name$i" "$GPT_PG_URL/$name" $gargs
    ports+=(--port "$port")
    watch+=(--watch-pid "$gpid")
    gpids+=("$gpid")
  done
  make_pool "http://127.0.0.1:${ports[1]}"
  "$sim" "${ports[@]}" --pool "$pool" "${watch[@]}" --watch-comm postgres \
    --measure-hook "$(make_hook "$name" "$work/$name.pg")" "$@" >"$work/$name.txt" 2>&1
  cat "$work/$name.txt" >&2
  for p in "${gpids[@]}"; do stop_gpupoold "$p"; done
}
us() { awk -v c="$1" -v r="$2" 'BEGIN { printf "%.0f", c * 1e6 / r }'; }

# ---- 1. per-request costs ---------------------------------------------------------------------------
echo "bench: per-request costs (SQLite)" >&2
run_sqlite cost-hb "--threads $threads" --machines 20000 --interval 10 --warmup 15 --duration "$cost_s" --no-longpoll
run_sqlite cost-chg "--threads $threads" --machines 5000 --interval 10 --warmup 15 --duration "$cost_s" --no-longpoll \
  --change-percent 100
run_sqlite cost-poll "--threads $threads" --machines 10000 --interval 600 --wait 5 --warmup 10 --duration "$cost_s"
echo "bench: per-request costs (PostgreSQL, one replica)" >&2
run_pg costhb 1 "--threads $threads" --machines 20000 --interval 10 --warmup 15 --duration "$cost_s" --no-longpoll
run_pg costchg 1 "--threads $threads" --machines 5000 --interval 10 --warmup 15 --duration "$cost_s" --no-longpoll \
  --change-percent 100

# ---- 2. the fleet -------------------------------------------------------------------------------------
wait_s=$(awk -v p="$pollers" -v n="$machines" 'BEGIN { w = int(60 * p / n + 0.5); print (w < 1 ? 1 : w) }')
fleet_args=(--machines "$machines" --interval "$interval" --change-percent 1 --poll-machines "$pollers"
  --wait "$wait_s" --warmup $((interval + 10)))
echo "bench: $machines machines every $interval s (SQLite, --threads $threads)" >&2
run_sqlite fleet-sqlite "--threads $threads" "${fleet_args[@]}" --duration "$duration"
echo "bench: the same with the default 64 threads" >&2
run_sqlite fleet-sqlite64 "" "${fleet_args[@]}" --duration 60
echo "bench: $machines machines every $interval s (PostgreSQL, two replicas)" >&2
run_pg fleetpg 2 "--threads $threads" "${fleet_args[@]}" --duration "$duration"

# ---- 3. held long-polls and one change ------------------------------------------------------------------
echo "bench: $wake_n agents long-polling one replica (default flags)" >&2
run_sqlite wake "" --machines "$wake_n" --interval 60 --wait 60 --warmup 65 --duration 10 --wake-body "$work/wake.json"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- figures -----------------------------------------------------------------------------------------------
f() { result "$work/$1.txt" "$2"; }
hb_us=$(us "$(f cost-hb cores0)" "$(f cost-hb rate)")
chg_us=$(us "$(f cost-chg cores0)" "$(f cost-chg rate)")
poll_rate=$(awk -v a="$(f cost-poll polls304)" -v b="$(f cost-poll polls200)" -v s="$(f cost-poll seconds)" 'BEGIN { printf "%.1f", (a + b) / s }')
poll_us=$(us "$(f cost-poll cores0)" "$poll_rate")
pghb_us=$(us "$(f costhb cores0)" "$(f costhb rate)")
pghb_pg=$(us "$(f costhb commcores)" "$(f costhb rate)")
pgchg_us=$(us "$(f costchg cores0)" "$(f costchg rate)")
pgchg_pg=$(us "$(f costchg commcores)" "$(f costchg rate)")
read -r hb_x hb_rows hb_wal < <(pg_rates "$work/costhb.pg")
read -r chg_x chg_rows chg_wal < <(pg_rates "$work/costchg.pg")
read -r fl_x fl_rows fl_wal < <(pg_rates "$work/fleetpg.pg")
kb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1024 }'; }
pg_version=$(psql -At "$GPT_PG_URL/postgres" -c "SHOW server_version" | awk '{print $1}')
row() { # row NAME LABEL: a line of the fleet table
  local c1 c2
  c1=$(f "$1" cores0)
  c2=$(f "$1" cores1)
  printf '| %s | %s | %s/s | %s | %s / %s / %s ms | %s / %s | %s%s |\n' "$2" "$(f "$1" machines)" "$(f "$1" rate)" \
    "$(f "$1" changed)" "$(f "$1" p50)" "$(f "$1" p99)" "$(f "$1" max)" "$(f "$1" failed)" "$(f "$1" late)" \
    "$c1" "${c2:+ + $c2}"
}
section="<!-- fleet:begin -->
## fleet (issue 11): simulated node agents against gpupoold

\`bench/fleet.sh\` — $(date -u +%Y-%m-%d), $(nproc) CPUs ($(cpu_model)), $(uname -r), libmicrohttpd 0.9.75,
SQLite $(pkg-config --modversion sqlite3), PostgreSQL $pg_version (Debian's defaults, tests/pg/pg.sh). Everything on one machine over
loopback: gpupoold, PostgreSQL and the simulator (\`bench/fleet/fleetsim.c\`: one process, epoll,
machines spread over loopback addresses 127.1.x.y, 250 each), which takes CPU from the same 2 cores.
gpupoold with \`--threads $threads\` unless said. CPU is utime + stime from /proc over the measured window.
Load average before / after: $load_before / $load_after (the machine is shared with other work).

**What one request costs** (gpupoold CPU per request; each run 30 s after a warm-up):

| request | rate | gpupoold | PostgreSQL | store writes |
|---|---|---|---|---|
| report that changes nothing (heartbeat), SQLite | $(f cost-hb rate)/s | $hb_us µs | | coalesced: its row is stored with others, up to 2,000 a transaction, within 10 s |
| report that changes something, SQLite | $(f cost-chg rate)/s | $chg_us µs | | one transaction a report (group commits) |
| long-poll renewal (304 at the deadline, next GET held), SQLite | $poll_rate/s | $poll_us µs | | none |
| heartbeat, PostgreSQL (one replica) | $(f costhb rate)/s | $pghb_us µs | $pghb_pg µs | $hb_rows rows/s, $(kb "$hb_wal") KB/s of WAL ($hb_x transactions/s, reads included) |
| report that changes something, PostgreSQL | $(f costchg rate)/s | $pgchg_us µs | $pgchg_pg µs | $chg_rows rows/s, $(kb "$chg_wal") KB/s of WAL ($chg_x transactions/s, reads included) |

**The fleet**: every machine reports every ${interval} s (1% of reports change something: a durable
write), $pollers of them hold a long-poll that waits ${wait_s} s (renewing as often as all $machines
waiting 60 s would), measured for ${duration} s after a warm-up of one interval. Report latency is
from the moment a report was due to its whole answer; \"failed / late\": reports answered with an
error / still running when the next one was due (not sent).

| store | machines | reports | changed | report p50 / p99 / max | failed / late | gpupoold cores |
|---|---|---|---|---|---|---|
$(row fleet-sqlite "SQLite")
$(row fleet-sqlite64 "SQLite, default --threads 64 (60 s)")
$(row fleetpg "PostgreSQL, 2 replicas (cores: A + B)")

PostgreSQL during the two-replica run: $(f fleetpg commcores) cores, $fl_rows rows written/s, $(kb "$fl_wal") KB/s of WAL,
$fl_x transactions/s (reads included).
Resident size of gpupoold at the end: SQLite $(f fleet-sqlite rss0) MB; replicas $(f fleetpg rss0) MB and $(f fleetpg rss1) MB.

**$(f wake wakeheld) agents long-polling one replica** (default flags, SQLite; each also reporting every 60 s): resident
size $(f wake wakerss) MB while they are held (target < 200 MB). One pool change (a PUT, answered $(f wake putstatus))
reached $(f wake wakeanswered) of them with the new plan, counted from the PUT being sent: p50 $(f wake wakep50) ms,
p99 $(f wake wakep99) ms, last $(f wake wakemax) ms (target p99 < 1 s).
<!-- fleet:end -->"
write_section fleet "$section"
