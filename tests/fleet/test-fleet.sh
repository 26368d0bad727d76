#!/bin/sh
# test-fleet.sh - the fleet end to end (issue 11): real `gpupool-agent run` daemons on the fake NVML
# (tests/agent/fake_nvml.c; GPU events appended to each agent's events file) against a real gpupoold,
# with drain/uncordon/taint/node-status commands that record their calls. No GPU, no cluster.
#
#   tests/fleet/test-fleet.sh              SQLite, one gpupoold (make test-fleet)
#   tests/fleet/test-fleet.sh --pg         PostgreSQL, two replicas A and B on one database, inside
#                                          tests/pg/pg.sh run (the PostgreSQL suite, tests/http/pg-suite.sh)
#   tests/fleet/test-fleet.sh --tls        https with bearer tokens (--auth tokens, certificates and
#                                          tokens made by tests/security/sectool): an agent token
#                                          scoped to one machine
#
# What each part proves is said above it. Every wait polls for its condition with a deadline; the
# one bound the issue sets (an Xid 79 shows as an Unhealthy machine within 2 s) is measured from the
# moment the event is injected. Environment: B (build directory, default build).
set -u
B=${B:-build}
ROOT=$(pwd)
MODE=sqlite
case "${1:-}" in
--pg) MODE=pg ;;
--tls) MODE=tls ;;
"") ;;
*) echo "usage: tests/fleet/test-fleet.sh [--pg | --tls]" >&2; exit 2 ;;
esac
SECTOOL=$ROOT/$B/tests/security/sectool
CHECKS_NAME=fleet-$MODE
. "$ROOT/tests/lib/agents.sh" # $T, checks (checks.sh), the binaries and the pool's ids; start_srv/kill_srv, start_agent/stop_agent (recording commands), api, mfield, cli, eq

nodes() { # nodes EP FIELD: properties.status.nodes.FIELD of the pool
  api "$1" "$POOL" "$T/pool.json" >/dev/null
  val "$T/pool.json" "properties|status|nodes|$2"
}
# nodes_eq EP FIELD WANT: the count is WANT within 10 s (a replica keeps a pool's counts for 1 s unless
# it wrote a machine of the pool itself, so on PostgreSQL the other replica's writes show within that)
nodes_eq() {
  wait_for 10 "test \"\$(nodes $1 $2)\" = '$3'" && ok || no "nodes.$2 through $1: $(nodes "$1" "$2"), want $3"
}
metric() { # metric EP TEXT: the line of /metrics that contains TEXT (fixed string)
  curl -s $CURL_CA ${CURL_AUTH:+-H "$CURL_AUTH"} "$1/metrics" | grep -F -- "$2"
}
gauge() { # gauge EP NAME: the value of an unlabelled gauge
  curl -s $CURL_CA ${CURL_AUTH:+-H "$CURL_AUTH"} "$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
# the number of reports gpupoold accepted from a machine (its request log lines)
puts_of() { cat "$T"/*.log 2>/dev/null | grep -c "PUT $MACHINES/$1?api-version=$API 20[01]"; }

T4=$ROOT/tests/agent/gpus/t4x4.json

# ---------------------------------------------------------------------------------------------------
# The servers: SQLite (one), PostgreSQL (replicas A and B on a fresh database), or https with tokens.
case $MODE in
sqlite)
  DBURL=sqlite:$T/gpupool.db
  start_srv A --db "$DBURL"
  B_EP=$A_EP
  ;;
pg)
  : "${GPT_PG_URL:?--pg runs inside tests/pg/pg.sh run}"
  DB="fleet_$$"
  psql -q "$GPT_PG_URL/postgres" -c "CREATE DATABASE $DB" >/dev/null || { no "CREATE DATABASE $DB"; exit 1; }
  DBURL=$GPT_PG_URL/$DB
  start_srv A --db "$DBURL"
  start_srv B --db "$DBURL"
  ;;
tls)
  [ -x "$SECTOOL" ] || { echo "test-fleet: $SECTOOL is not built" >&2; exit 1; }
  sed "s|@RG@|$RG|g" tests/fleet/principals.txt >"$T/principals.txt"
  "$SECTOOL" setup "$T" "$T/principals.txt" >/dev/null || exit 1
  . "$T/vars"
  start_srv A --db "sqlite:$T/gpupool.db" --tls-cert "$T/server.pem" --tls-key "$T/server.key" --auth tokens \
    --tokens-file "$T/tokens"
  B_EP=$A_EP
  CURL_CA="--cacert $T/ca.pem"
  CURL_AUTH="Authorization: Bearer $tok_admin"
  export GPUPOOL_TOKEN=$tok_admin GPUPOOL_CACERT=$T/ca.pem
  ;;
esac
if [ "$B_EP" = "$A_EP" ]; then echo "== fleet ($MODE): gpupoold at $A_EP"; else echo "== fleet ($MODE): replicas A $A_EP, B $B_EP"; fi

# A pool of 4 x T4 nodes, Managed, count 3 (two agents: one node missing). Made through A.
expect 0 "feature register" cli "$A_EP" feature register -n ManagedGPU
expect 0 "cluster create" cli "$A_EP" cluster create -g rg1 -n c1 -k 1.35
expect 0 "nodepool add" cli "$A_EP" nodepool add -g rg1 --cluster-name c1 -n gpu -s Standard_NC64as_T4_v3 -c 3 \
  --enable-managed-gpu --node-taints sku=gpu:NoSchedule

if [ "$MODE" = tls ]; then
  # ---- an Agent token scoped to one machine ------------------------------------------------------
  # Its own machine and plan work (the daemon registers, reports and long-polls); another machine of
  # the pool, another pool's machine and plan, the pool's plan and the machine list are refused.
  expect 0 "another pool" cli "$A_EP" nodepool add -g rg1 --cluster-name c1 -n other -s Standard_NC64as_T4_v3 -c 1
  unset GPUPOOL_TOKEN
  start_agent n1 "$A_EP" "$MACHINES/node-1" "$T4" --interval 30s --token "$tok_agent_node1" --cacert "$T/ca.pem"
  wait_for 30 "grep -q 'report: HTTP 201' '$T/n1/log'" && ok || no "the machine-scoped agent did not register"
  wait_for 30 "grep -q 'plan: generation 1' '$T/n1/log'" && ok || no "the machine-scoped agent got no plan"
  wait_for 30 "test \"\$(gauge $A_EP gpupoold_long_polls)\" = 1" && ok ||
    no "its plan long-poll is not held"
  AGENT_AUTH="Authorization: Bearer $tok_agent_node1"
  code() { curl -s -o "$T/body" -w '%{http_code}' --cacert "$T/ca.pem" -H "$AGENT_AUTH" "$@"; }
  eq "$(code "$A_EP$MACHINES/node-1?api-version=$API")" 200 "agent token: GET its machine"
  eq "$(code "$A_EP$MACHINES/node-1/plan?api-version=$API")" 200 "agent token: GET its plan"
  eq "$(code "$A_EP$MACHINES/node-2?api-version=$API")" 403 "agent token: GET another machine of its pool"
  eq "$(code -X PUT -H 'Content-Type: application/json' -d @"$T/n1/state/last-report.json" \
    "$A_EP$MACHINES/node-2?api-version=$API")" 403 "agent token: PUT another machine of its pool"
  eq "$(code "$A_EP$RG/agentPools/other/machines/node-1/plan?api-version=$API")" 403 \
    "agent token: GET another pool's machine plan"
  eq "$(code "$A_EP$RG/agentPools/other/plan?api-version=$API")" 403 "agent token: GET another pool's plan"
  eq "$(code "$A_EP$POOL/plan?api-version=$API")" 403 "agent token: GET its own pool's plan (machine scope)"
  eq "$(code "$A_EP$MACHINES?api-version=$API")" 403 "agent token: list the machines"
  eq "$(code -X DELETE "$A_EP$MACHINES/node-1?api-version=$API")" 403 "agent token: DELETE its machine"
  # the same token in a daemon for another pool's machine: both channels refused, nothing registered
  start_agent x1 "$A_EP" "$RG/agentPools/other/machines/node-1" "$T4" --interval 30s --token "$tok_agent_node1" \
    --cacert "$T/ca.pem"
  wait_for 30 "grep -q 'report: .*HTTP 403 AuthorizationFailed' '$T/x1/log'" && ok ||
    no "another pool's machine: the report was not refused"
  wait_for 30 "grep -q 'plan: .*HTTP 403 AuthorizationFailed' '$T/x1/log'" && ok ||
    no "another pool's machine: the plan was not refused"
  eq "$(api "$A_EP" "$RG/agentPools/other/machines/node-1")" 404 "nothing registered in the other pool"
  eq "$(mstate "$A_EP" node-1)" Applying "its own machine is registered (dry run: Applying)"
  # a pool change reaches it through the long-poll over https (the interval is 30 s)
  start=$(now_ms)
  expect 0 "nodepool update (labels)" cli "$A_EP" nodepool update -g rg1 --cluster-name c1 -n gpu --labels team=ml \
    --token="$tok_admin" --no-wait # node-1 (a dry run) never applies: the rollout waits for it
  wait_for 30 "grep -q 'plan: generation 2' '$T/n1/log'" && ok || no "no wake-up over https"
  took=$(($(now_ms) - start))
  [ "$took" -lt 15000 ] && ok || no "the plan change took $took ms over https"
  if grep -qF -e "$tok_agent_node1" "$T/A.log" "$T/n1/log" "$T/x1/log"; then no "a token reached a log"; else ok; fi
  stop_agent n1
  stop_agent x1
  kill_srv A TERM
  echo "fleet ($MODE): $passed checks passed, $failed failed"
  [ "$failed" = 0 ]
  exit
fi

# ---- registration, reports, dry run and --execute --------------------------------------------------
# node-1: a dry run (the default) through A; node-2: --execute through B, whose drain, apply and
# uncordon are recorded and whose files go under a temporary root. The report interval is 30 s, so
# everything that happens sooner is the long-poll's or the health path's doing.
start_agent n1 "$A_EP" "$MACHINES/node-1" "$T4" --interval 30s
start_agent n2 "$B_EP" "$MACHINES/node-2" "$T4" --interval 30s --execute
wait_for 30 "test \"\$(mstate $A_EP node-1)\" = Applying" && ok || no "node-1 not registered as Applying"
wait_for 60 "grep -q 'generation 1 applied' '$T/n2/log'" && ok || no "node-2: generation 1 not applied"
wait_for 30 "test \"\$(mstate $A_EP node-2)\" = Conformant" && ok || no "node-2 not Conformant after its apply"
expect 0 "machine list" cli "$B_EP" machine list -g rg1 --cluster-name c1 --nodepool-name gpu -o table
contains "$T/out" "node-1" "machine list shows node-1"
contains "$T/out" "node-2" "machine list shows node-2"
grep -q '^node-1 *Applying *4/4 *0/1 ' "$T/out" && ok || no "machine list row of node-1: $(grep node-1 "$T/out")"
grep -q '^node-2 *Conformant *4/4 *1/1 ' "$T/out" && ok || no "machine list row of node-2: $(grep node-2 "$T/out")"
# the report as the agent sent it, as the server keeps it
eq "$(mfield "$A_EP" node-1 'properties|hardware|vmSize')" Standard_NC64as_T4_v3 "node-1 vmSize"
eq "$(mfield "$A_EP" node-1 'properties|status|gpus|3|model')" T4-16GB "node-1 GPU model"
eq "$(mfield "$A_EP" node-1 'properties|status|health|state')" Healthy "node-1 health"
eq "$(mfield "$A_EP" node-1 'properties|kubernetes|kubeletVersion')" v1.35.0 "node-1 kubeletVersion"
case "$(mfield "$A_EP" node-1 'properties|operatingSystem|osSKU')" in
"<absent>" | Ubuntu | AzureLinux | CBLMariner) ok ;; # null (unknown) is not kept
*) no "osSKU is neither an AKS SKU nor unknown: $(mfield "$A_EP" node-1 'properties|operatingSystem|osSKU')" ;;
esac
# dry run: nothing executed, appliedGeneration stays 0
wait_for 30 "grep -q 'dry-run: generation 1 would be applied' '$T/n1/log'" && ok || no "node-1: no dry run logged"
if [ -s "$T/n1/calls" ] || [ -e "$T/n1/root" ]; then no "the dry run ran a command or wrote under its root"; else ok; fi
eq "$(mfield "$A_EP" node-1 'properties|status|appliedGeneration')" 0 "node-1 (dry run) appliedGeneration"
# --execute: drain (the driver is installed), the apply's systemctl, uncordon, in that order
eq "$(sed -n 1p "$T/n2/calls")" "drain --timeout=1800s node-2" "node-2 drained first (the plan's 30 min)"
contains "$T/n2/calls" "systemctl restart nvidia-device-plugin.service" "node-2: the apply restarted its services"
eq "$(tail -n 1 "$T/n2/calls")" "uncordon node-2" "node-2 uncordoned last"
[ -s "$T/n2/root/etc/gpupool/bootstrap.env" ] && ok || no "node-2: apply wrote nothing under its root"
eq "$(mfield "$B_EP" node-2 'properties|status|appliedGeneration')" 1 "node-2 appliedGeneration"
# the pool counts them: 3 wanted, 2 registered
nodes_eq "$B_EP" total 2
nodes_eq "$B_EP" conformant 1
nodes_eq "$B_EP" applying 1
nodes_eq "$B_EP" missing 1
# both agents' plan requests are held (the facility's gauge; on PostgreSQL one per replica)
held_total() {
  a=$(gauge "$A_EP" gpupoold_long_polls)
  b=0
  [ "$B_EP" = "$A_EP" ] || b=$(gauge "$B_EP" gpupoold_long_polls)
  echo $((${a:-0} + ${b:-0}))
}
wait_for 30 "test \$(held_total) = 2" && ok || no "the agents' long-polls are not held ($(held_total))"

# ---- a pool change wakes the agents ----------------------------------------------------------------
# A label change through A: a new generation, rolled out. node-2 (it applied generation 1: a label is
# InPlace) and node-1 (it applied nothing: a batch of its own, maxUnavailable 1) get it at once.
# node-2's long-poll (held on B on PostgreSQL) answers at once; node-2 applies it without a drain
# (labels need no idle GPUs), node-1 shows it in a dry run. node-1 never applies, so the rollout
# waits for it (--no-wait) until it is aborted below.
start=$(now_ms)
expect 0 "nodepool update (labels)" cli "$A_EP" nodepool update -g rg1 --cluster-name c1 -n gpu --labels team=ml \
  --no-wait
wait_for 30 "grep -q 'plan: generation 2' '$T/n2/log'" && ok || no "node-2 did not get generation 2"
took=$(($(now_ms) - start))
[ "$took" -lt 10000 ] && ok || no "node-2 got the change after $took ms: no long-poll wake-up"
wait_for 30 "grep -q 'plan: generation 2' '$T/n1/log'" && ok || no "node-1 did not get generation 2"
wait_for 60 "test \"\$(mfield $A_EP node-2 'properties|status|appliedGeneration')\" = 2" && ok ||
  no "node-2 did not report generation 2 applied"
eq "$(mstate "$A_EP" node-2)" Conformant "node-2 Conformant at generation 2"
contains "$T/n2/log" "generation 2: class InPlace: nodeLabels[team] is added; no drain" "node-2: no drain for labels"
eq "$(grep -c '^drain' "$T/n2/calls")" 1 "node-2 drained once in all"
eq "$(mstate "$B_EP" node-1)" Applying "node-1 (dry run) still Applying"
eq "$(mfield "$B_EP" node-1 'properties|status|targetGeneration')" 2 "node-1 targetGeneration"
wait_for 30 "grep -q 'dry-run: generation 2 would be applied' '$T/n1/log'" && ok || no "node-1: no dry run of 2"
pfield() { # pfield EP PATH: a field of the pool
  api "$1" "$POOL" "$T/pool.json" >/dev/null
  val "$T/pool.json" "$2"
}
eq "$(pfield "$A_EP" 'properties|status|rollout|state')" Progressing "the rollout waits for node-1"
wait_for 10 "test \"\$(pfield $A_EP 'properties|status|rollout|updated')\" = 1" && ok ||
  no "the rollout does not count node-2 back at generation 2"
eq "$(curl -s -o "$T/body" -w '%{http_code}' -X POST $CURL_CA ${CURL_AUTH:+-H "$CURL_AUTH"} \
  "$A_EP$POOL/abort?api-version=$API")" 202 "abort the rollout"
eq "$(pfield "$B_EP" 'properties|status|rollout|state')" Aborted "the rollout Aborted"
eq "$(pfield "$B_EP" 'properties|provisioningState')" Canceled "the pool Canceled"

# ---- GPU health ------------------------------------------------------------------------------------
# An Application-class Xid (13) changes nothing: no report of its own, the machine as it was.
n1_puts=$(puts_of node-1)
n1_etag=$(mfield "$A_EP" node-1 'properties|eTag')
echo "xid 0 13" >>"$T/n1/events"
wait_for 30 "grep -q 'xid: GPU 0: Xid 13 (Application)' '$T/n1/log'" && ok || no "node-1 did not see Xid 13"
sleep 1
eq "$(puts_of node-1)" "$n1_puts" "no report for an Application-class Xid"
eq "$(mfield "$A_EP" node-1 'properties|eTag')" "$n1_etag" "node-1 unchanged by Xid 13"
eq "$(mstate "$A_EP" node-1)" Applying "node-1 still Applying after Xid 13"
nodes_eq "$A_EP" unhealthy 0
# Xid 79 on node-2 (reporting through B): Unhealthy within 2 s as A sees it, in the pool's counts and
# in /metrics; with --execute the node is tainted.
start=$(now_ms)
echo "xid 1 79" >>"$T/n2/events"
if wait_for 10 "test \"\$(mstate $A_EP node-2)\" = Unhealthy"; then
  took=$(($(now_ms) - start))
  [ "$took" -le 2000 ] && ok || no "node-2 Unhealthy $took ms after Xid 79 (want at most 2000)"
  echo "fleet ($MODE): Xid 79 injected -> machine Unhealthy in $took ms"
else
  no "node-2 not Unhealthy after Xid 79"
fi
eq "$(mfield "$A_EP" node-2 'properties|status|gpus|1|health')" Failed "node-2 GPU 1 Failed"
nodes_eq "$A_EP" unhealthy 1
nodes_eq "$A_EP" conformant 0
metric "$B_EP" "gpupoold_machines{pool=\"$POOL\",state=\"Unhealthy\"} 1" >/dev/null && ok ||
  no "/metrics: no gpupoold_machines{…,state=\"Unhealthy\"} 1"
metric "$B_EP" "gpupoold_machines{pool=\"$POOL\",state=\"Applying\"} 1" >/dev/null && ok ||
  no "/metrics: node-1 not counted Applying"
# A report 30 s from the next one closes its connection after the answer instead of leaving it
# idle on gpupoold for its header timeout (10 s): open now are the two held long-polls and this
# scrape.
if [ "$B_EP" = "$A_EP" ]; then
  wait_for 3 "test \"\$(gauge $A_EP gpupoold_connections)\" = 3" && ok ||
    no "connections open after the reports: $(gauge "$A_EP" gpupoold_connections), want 3 (2 long-polls, 1 scrape)"
fi
wait_for 30 "grep -q 'taint node-2 gpupool.io/gpu-unhealthy=79:NoSchedule' '$T/n2/calls'" && ok ||
  no "node-2 not tainted"
expect 0 "nodepool show -o table" cli "$A_EP" nodepool show -g rg1 --cluster-name c1 -n gpu -o table
grep -Eq '^2 +0 +1 +0 +1 +0 +1$' "$T/out" && ok || no "nodepool show nodes line: $(tail -n 1 "$T/out")"

# ---- gpupoold SIGKILLed under running agents --------------------------------------------------------
# The agents back off and come back by themselves; nothing is lost: the machines, their state, a
# health change made while node-2's server was away (ECC errors on its GPU 2), and the plan
# long-polls, which a pool change after the restart answers at once. On PostgreSQL replica B
# (node-2's) is the one killed; A serves on meanwhile.
victim=A
[ "$MODE" = pg ] && victim=B
eval "victim_ep=\$${victim}_EP"
kill_srv "$victim" KILL
echo "ecc 2 3" >>"$T/n2/events"
sleep 3
start_srv "$victim" --db "$DBURL"
wait_for 90 "test \"\$(mfield $A_EP node-2 'properties|status|gpus|2|health')\" = Degraded" && ok ||
  no "node-2's health change made while its gpupoold was away was not reported"
eq "$(mstate "$victim_ep" node-2)" Unhealthy "node-2 still Unhealthy after the restart"
eq "$(mstate "$victim_ep" node-1)" Applying "node-1 still Applying after the restart"
eq "$(mfield "$victim_ep" node-2 'properties|status|appliedGeneration')" 2 "node-2's applied generation kept"
nodes_eq "$victim_ep" total 2
wait_for 120 "test \$(held_total) = 2" && ok || no "the long-polls did not resume after the restart ($(held_total))"
start=$(now_ms)
expect 0 "nodepool update after the restart" cli "$A_EP" nodepool update -g rg1 --cluster-name c1 -n gpu --labels team=ai --no-wait
wait_for 30 "grep -q 'plan: generation 3' '$T/n2/log'" && ok || no "node-2 did not get generation 3"
wait_for 30 "grep -q 'plan: generation 3' '$T/n1/log'" && ok || no "node-1 did not get generation 3"
took=$(($(now_ms) - start))
[ "$took" -lt 10000 ] && ok || no "generation 3 reached the agents after $took ms: the long-poll did not resume"
eq "$(grep -c 'report: .*retrying in' "$T/n2/log" | awk '{print ($1 >= 1) ? "yes" : "no"}')" yes \
  "node-2 retried its report while gpupoold was away"

stop_agent n1
stop_agent n2

# ---- every report the agent makes is one the server takes --------------------------------------------
# Each fake GPU machine of the agent's tests (MIG layouts, a lost GPU, no driver, no GPU, an old
# driver) and the real H100 capture: a daemon reports it once, and gpupoold must accept it (201).
if [ "$MODE" = sqlite ]; then
  i=0
  for g in "$ROOT"/tests/agent/gpus/*.json "$ROOT"/tests/fixtures/nvidia-h100-80gb-hbm3/nvml.json; do
    i=$((i + 1))
    start_agent "r$i" "$A_EP" "$MACHINES/shape-$i" "$g" --interval 30s
    echo "$g" >"$T/r$i/gpus"
  done
  for k in $(seq 1 $i); do
    g=$(cat "$T/r$k/gpus")
    if wait_for 30 "grep -q 'report: HTTP 201' '$T/r$k/log'"; then ok; else
      no "the report of $(basename "$g") was not accepted: $(grep 'report:' "$T/r$k/log" | tail -n 1)"
    fi
    eval "kill -TERM \$r${k}_APID"
  done
  wait_for 30 "test \"\$(nodes $A_EP total)\" = $((i + 2))" && ok || no "not every shape is a machine of the pool"
fi

# ---- the read-only daemon run for a real GPU machine, on the fake NVML ----------------------------------
# tests/fixtures/real-h100/run-daemon-on-device.sh, as a session with a GPU would run it (there from
# the agent bundle): its own gpupoold, the daemon without --execute, a pool change through the
# long-poll, the reports recorded.
if [ "$MODE" = sqlite ]; then
  GPUPOOL_AGENT=$AGENT GPUPOOLD=$GPUPOOLD GPUPOOL=$GPUPOOL GPUPOOL_FAKE_NVML=$ROOT/tests/fixtures/nvidia-h100-80gb-hbm3/nvml.json \
    DAEMON_SECONDS=6 OUT=$T/device expect 0 "run-daemon-on-device.sh on the fake NVML" \
    sh "$ROOT/tests/fixtures/real-h100/run-daemon-on-device.sh"
  contains "$T/device/summary.txt" "result: as expected" "the device script's summary"
  [ -s "$T/device/last-report.json" ] && [ -s "$T/device/reports.jsonl" ] && ok || no "the device script recorded no reports"
fi

kill_srv A TERM
[ "$MODE" = pg ] && kill_srv B TERM
echo "fleet ($MODE): $passed checks passed, $failed failed"
[ "$failed" = 0 ]
