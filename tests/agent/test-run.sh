#!/bin/sh
# test-run.sh - `gpupool-agent run`, the node daemon, as real processes (`make test-agent-run`, part of
# `make test` and `make asan`).
#
# The agent runs on the fake NVML (tests/agent/fake_nvml.c; health events are appended to its events
# file while the agent runs) against tests/agent/fleetserver.c, a stand-in for gpupoold that records
# every report and serves the machine's plan with ETag / If-None-Match / long-poll. The drain,
# uncordon, taint and node-status commands, and systemctl and nvidia-smi for apply --execute, are
# scripts that append their arguments to a calls file. Nothing here needs a GPU, a cluster or root
# beyond what the sandbox gives; every wait polls for its condition with a generous deadline.
#
# Environment: B (build directory, default build).
set -u
B=${B:-build}
ROOT=$(pwd)
AGENT="$ROOT/$B/gpupool-agent"
GPUPOOL="$ROOT/$B/gpupool"
TT="$ROOT/$B/tests/agent/agent-testtool"
FLEET="$ROOT/$B/tests/agent/fleetserver"
FAKE="$ROOT/$B/tests/agent/libfake-nvml.so"
GPUS="$ROOT/tests/agent/gpus"
CHECKS_NAME=agent-run
. "$ROOT/tests/lib/checks.sh" # $T, ok/no counters, cleanup at exit
SERVER_PID=
AGENT_PID=
cleanup() {
  [ -n "$AGENT_PID" ] && kill -KILL "$AGENT_PID" 2>/dev/null
  [ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$T"
}

export GPUPOOL_NVML_LIBRARY="$FAKE"
unset GPUPOOL_TOKEN 2>/dev/null || true
SUB=/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/gpu/machines

pass() { ok; }
fail() {
  no "$@"
  if [ -n "${LOG:-}" ] && [ -f "$LOG" ]; then tail -15 "$LOG" | sed 's/^/  agent: /'; fi
}
eq() { if [ "$1" = "$2" ]; then pass; else fail "$3: got '$1', want '$2'"; fi; }
has() { if grep -qF -- "$2" "$1" 2>/dev/null; then pass; else fail "$(basename "$1") lacks: $2"; fi; }
hasnt() { if grep -qF -- "$2" "$1" 2>/dev/null; then fail "$(basename "$1") has: $2"; else pass; fi; }
# val FILE PATH: a value of a JSON file ('|'-separated path)
val() { "$TT" get "$1" "$2" 2>/dev/null || echo "<absent>"; }
count() { if [ -f "$1" ]; then grep -c -- "$2" "$1"; else echo 0; fi; }
# last-put.json as written by the stand-in; puts.jsonl has one report a line
last_put() { cp "$SRV/last-put.json" "$T/last.json" 2>/dev/null; }

# start_server DIR [PORT]: the stand-in; sets PORT, EP
start_server() {
  rm -f "$1/port"
  "$FLEET" "$1" ${2:-} 2>>"$1/server.err" &
  SERVER_PID=$!
  if wait_for 20 "test -s '$1/port'"; then PORT=$(cat "$1/port"); EP="http://127.0.0.1:$PORT"; pass; else
    fail "stand-in server did not start"; fi
}
stop_server() {
  kill -KILL "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

# recording commands: each appends its name and arguments to $1/calls
make_commands() {
  d=$1
  mkdir -p "$d/bin"
  for c in drain uncordon taint systemctl nvidia-smi; do
    cat >"$d/bin/$c" <<EOF
#!/bin/sh
echo "$c \$*" >>"$d/calls"
case "$c" in
  drain) touch "$d/cordoned"; [ -f "$d/slow-drain" ] && sleep 60 ;;
  uncordon) rm -f "$d/cordoned" ;;
esac
exit 0
EOF
  done
  cat >"$d/bin/status" <<EOF
#!/bin/sh
echo "status \$*" >>"$d/calls"
u=false
[ -f "$d/cordoned" ] && u=true
echo '{"kind":"Node","spec":{"unschedulable":'\$u'},"status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],"nodeInfo":{"kubeletVersion":"v1.35.0"}}}'
EOF
  chmod +x "$d/bin/"*
}

# start_agent DIR NODE GPUS ARGS...: the daemon in the background (AGENT_PID), log in DIR/log
start_agent() {
  d=$1
  node=$2
  gpus=$3
  shift 3
  LOG="$d/log"
  touch "$d/events"
  PATH="$d/bin:$PATH" GPUPOOL_FAKE_NVML="$GPUS/$gpus" GPUPOOL_FAKE_NVML_EVENTS="$d/events" \
    GPUPOOL_BOOT_ID_FILE="$d/boot_id" "$AGENT" run --endpoint "$EP" --machine "$SUB/$node" --state-dir "$d/state" \
    --vm-size Standard_NC64as_T4_v3 --drain-command "$d/bin/drain" --uncordon-command "$d/bin/uncordon" \
    --taint-command "$d/bin/taint" --node-status-command "$d/bin/status" --health-interval 200ms "$@" \
    >>"$LOG" 2>&1 &
  AGENT_PID=$!
}
# stop_agent: SIGTERM, then the exit status must be 0 within 20 s
stop_agent() {
  kill -TERM "$AGENT_PID" 2>/dev/null
  if wait_for 20 "! kill -0 $AGENT_PID"; then pass; else fail "the agent did not stop within 20 s of SIGTERM"; fi
  wait "$AGENT_PID"
  eq "$?" 0 "exit status after SIGTERM"
  AGENT_PID=
  if grep -q '"event":"stop","message":"stopped"' "$LOG"; then pass; else has "$LOG" "stop: stopped"; fi
}

# plans made by the core; generation bumped by editing the number
"$GPUPOOL" plan -f "$ROOT/tests/agent/pools/nc64-t4-managed.json" --feature ManagedGPU >"$T/plan1.json" || fail "gpupool plan"
sed 's/^  "generation": 1,/  "generation": 2,/' "$T/plan1.json" >"$T/plan2.json"
# the per-machine plan carries the rollout's drain timeout (5 minutes)
sed 's/^  "generation": 1,/  "generation": 1, "rollout": {"drainTimeoutInMinutes": 5},/' "$T/plan1.json" >"$T/plan1r.json"
sed 's/^  "generation": 1,/  "generation": 2, "rollout": {"drainTimeoutInMinutes": 5},/' "$T/plan1.json" >"$T/plan2r.json"
grep -q '"generation": 2' "$T/plan2.json" && grep -q drainTimeoutInMinutes "$T/plan1r.json" && pass || fail "plan variants"
# serve: an atomic replacement, as a plan change
serve() { cp "$1" "$SRV/plan.tmp" && mv "$SRV/plan.tmp" "$SRV/plan.json"; }

# ---- command line ----------------------------------------------------------------------------------
echo "-- run: command line"
"$AGENT" run --help >"$T/out" 2>&1
eq "$?" 0 "run --help"
has "$T/out" "Usage: gpupool-agent run --endpoint URL --machine RESOURCE_ID"
"$AGENT" run --endpoint http://127.0.0.1:9 >"$T/out" 2>&1
eq "$?" 2 "run without --machine"
"$AGENT" run --endpoint http://127.0.0.1:9 --machine "${SUB%/machines}" >"$T/out" 2>&1
eq "$?" 2 "run with a pool id"
has "$T/out" "must be a machine's resource id"
"$AGENT" run --endpoint http://127.0.0.1:9 --machine "$SUB/Node_1" >"$T/out" 2>&1
eq "$?" 2 "a machine name that is no node name"
has "$T/out" "give --node-name"
"$AGENT" run --endpoint http://127.0.0.1:9 --machine "$SUB/n1" --interval 0s >"$T/out" 2>&1
eq "$?" 2 "--interval 0s"
"$AGENT" run --endpoint ftp://x --machine "$SUB/n1" >"$T/out" 2>&1
eq "$?" 2 "ftp endpoint"
mkdir -p "$T/ro" && touch "$T/ro/file"
"$AGENT" run --endpoint http://127.0.0.1:9 --machine "$SUB/n1" --state-dir "$T/ro/file/state" >"$T/out" 2>&1
eq "$?" 1 "a state directory that cannot be made"
has "$T/out" "cannot use the state directory"

# `gpupool-agent xid`: the same judgement, for an operator reading dmesg
"$AGENT" xid 13 79 48 4242 >"$T/out" 2>&1
eq "$?" 0 "xid"
has "$T/out" "79    Fatal          Failed    RESTART_BM           ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS"
has "$T/out" "13    Application    Healthy   RESTART_APP"
has "$T/out" "4242  ResetRequired  Degraded  -                    (not in the catalog)"
"$AGENT" xid -o json 48 >"$T/out"
eq "$(val "$T/out" '0|class')" ResetRequired "xid 48 class (catalog WORKFLOW_XID_48: a reset clears it)"
eq "$(val "$T/out" '0|gpuHealth')" Degraded "xid 48 GPU health"
"$AGENT" xid -o json >"$T/out"
eq "$(val "$T/out" '0|xid')" 8 "xid without arguments: the whole catalog, in Xid order"
"$AGENT" xid 12x >"$T/out" 2>&1
eq "$?" 2 "xid with a bad number"

# ---- health, dry run --------------------------------------------------------------------------------
echo "-- run: registration, health events, dry run (no --execute)"
SRV="$T/srv1"
mkdir -p "$SRV"
cp "$T/plan1r.json" "$SRV/plan.json"
start_server "$SRV"
D="$T/dry"
mkdir -p "$D"
make_commands "$D"
echo boot-1 >"$D/boot_id"
# a long interval: every report after the first one comes from a health change, not the heartbeat
start_agent "$D" node-1 t4x4.json --interval 30s --root "$D/root" --token s3cret
wait_for 30 "test -s '$SRV/last-put.json'" && pass || fail "no registration report"
last_put
eq "$(val "$T/last.json" 'properties|hardware|vmSize')" Standard_NC64as_T4_v3 "hardware.vmSize"
eq "$(val "$T/last.json" 'properties|operatingSystem|osType')" Linux "osType"
[ "$(val "$T/last.json" 'properties|operatingSystem|osSKU')" != "<absent>" ] && pass || fail "osSKU missing"
eq "$(val "$T/last.json" 'properties|kubernetes|nodeName')" node-1 "nodeName (the machine's name)"
eq "$(val "$T/last.json" 'properties|kubernetes|ready')" true "ready from the node status command"
eq "$(val "$T/last.json" 'properties|kubernetes|unschedulable')" false "unschedulable"
eq "$(val "$T/last.json" 'properties|kubernetes|kubeletVersion')" v1.35.0 "kubeletVersion"
eq "$(val "$T/last.json" 'properties|status|agentVersion')" 0.1.0 "agentVersion"
eq "$(val "$T/last.json" 'properties|status|reportIntervalSeconds')" 30 "reportIntervalSeconds"
eq "$(val "$T/last.json" 'properties|status|appliedGeneration')" 0 "appliedGeneration before any apply"
eq "$(val "$T/last.json" 'properties|status|gpus|3|index')" 3 "four GPUs"
eq "$(val "$T/last.json" 'properties|status|gpus|4')" "<absent>" "four GPUs, no more"
eq "$(val "$T/last.json" 'properties|status|gpus|0|model')" T4-16GB "catalog model"
eq "$(val "$T/last.json" 'properties|status|gpus|0|uuid')" GPU-7e4a1c20-0b5d-4f3e-8a11-000000000000 "uuid"
eq "$(val "$T/last.json" 'properties|status|gpus|0|migMode')" null "migMode of a T4"
eq "$(val "$T/last.json" 'properties|status|gpus|0|instances')" "[]" "instances"
eq "$(val "$T/last.json" 'properties|status|gpus|0|health')" Healthy "GPU health"
eq "$(val "$T/last.json" 'properties|status|gpus|0|reasons')" "[]" "GPU reasons"
eq "$(val "$T/last.json" 'properties|status|findings')" "[]" "findings: the T4 node conforms to the plan"
eq "$(val "$T/last.json" 'properties|status|health')" '{"state":"Healthy","events":[]}' "status.health"
for owned in state targetGeneration lastSeen; do
  eq "$(val "$T/last.json" "properties|status|$owned")" "<absent>" "server-owned status.$owned not sent"
done
has "$SRV/requests.log" "PUT $SUB/node-1 api-version=2026-10-02-preview waitSeconds=- if-none-match=- authorization=Bearer s3cret"
# the plan: long-poll with the ETag once the plan is known
wait_for 30 "grep -q 'if-none-match=\"' '$SRV/requests.log'" && pass || fail "no long-poll with If-None-Match"
has "$SRV/requests.log" "GET $SUB/node-1/plan api-version=2026-10-02-preview waitSeconds=60 if-none-match=-"
wait_for 30 "grep -q 'dry-run: generation 1 would be applied' '$LOG'" && pass || fail "dry run of generation 1 not logged"
has "$LOG" "class Reboot: components[nvidia-driver] is added; the node would be drained first"
has "$LOG" "would run: $D/bin/drain --timeout=300s node-1"
has "$LOG" "dry-run: run systemctl daemon-reload"
has "$LOG" "dry-run: write $D/root/etc/gpupool/bootstrap.env"

# An Application-class Xid changes no health and sends no report of its own.
puts=$(count "$SRV/puts.jsonl" .)
echo "xid 0 13" >>"$D/events"
wait_for 30 "grep -q 'xid: GPU 0: Xid 13 (Application)' '$LOG'" && pass || fail "Xid 13 not seen"
sleep 1
eq "$(count "$SRV/puts.jsonl" .)" "$puts" "no report for an Application-class Xid"
hasnt "$LOG" "health: node Degraded"
# Uncorrectable ECC errors: Degraded, reported at once, with the Xid 13 event (class Application)
echo "ecc 2 3" >>"$D/events"
wait_for 30 "tail -n 1 '$SRV/puts.jsonl' | grep -q '\"state\":\"Degraded\"'" && pass || fail "ECC errors not reported as Degraded"
last_put
eq "$(val "$T/last.json" 'properties|status|gpus|2|health')" Degraded "GPU 2 Degraded (ECC)"
eq "$(val "$T/last.json" 'properties|status|gpus|2|reasons|0')" "3 uncorrectable ECC errors since the last GPU reset" "ECC reason"
eq "$(val "$T/last.json" 'properties|status|gpus|0|health')" Healthy "GPU 0 unchanged by Xid 13"
eq "$(val "$T/last.json" 'properties|status|health|events|0|xid')" 13 "Xid 13 recorded"
eq "$(val "$T/last.json" 'properties|status|health|events|0|class')" Application "Xid 13 class"
eq "$(val "$T/last.json" 'properties|status|health|events|1|class')" ResetRequired "ECC event class"
# Row remapping pending: Degraded with its reason
echo "remap 3 1 0" >>"$D/events"
wait_for 30 "tail -n 1 '$SRV/puts.jsonl' | grep -q 'row remapping pending'" && pass || fail "remap pending not reported"
last_put
eq "$(val "$T/last.json" 'properties|status|gpus|3|health')" Degraded "GPU 3 Degraded (row remapping pending)"
eq "$(val "$T/last.json" 'properties|status|health|state')" Degraded "node Degraded"
# Thermal slowdown: Degraded while it lasts; the power cap alone is normal
echo "clocks 0 0x4" >>"$D/events"
sleep 1
last_put
eq "$(val "$T/last.json" 'properties|status|gpus|0|health')" Healthy "SW power cap is no health issue"
echo "clocks 0 0x40" >>"$D/events"
wait_for 30 "tail -n 1 '$SRV/puts.jsonl' | grep -q 'HW thermal slowdown'" && pass || fail "thermal slowdown not reported"
echo "clocks 0 0" >>"$D/events"
wait_for 30 "last_put && test \"\$(val '$T/last.json' 'properties|status|gpus|0|health')\" = Healthy" && pass ||
  fail "GPU 0 not Healthy again when the slowdown ended"
# Xid 79: GPU 1 Failed, node Failed, reported within 2 s; without --execute no taint
start=$(now_ms)
echo "xid 1 79" >>"$D/events"
if wait_for 30 "tail -n 1 '$SRV/puts.jsonl' | grep -q '\"health\":{\"state\":\"Failed\"'"; then
  took=$(($(now_ms) - start))
  if [ "$took" -le 2000 ]; then pass; else fail "Xid 79 reported after $took ms (want at most 2000)"; fi
else
  fail "Xid 79 not reported"
fi
last_put
eq "$(val "$T/last.json" 'properties|status|gpus|1|health')" Failed "GPU 1 Failed"
case "$(val "$T/last.json" 'properties|status|gpus|1|reasons|0')" in
  "Xid 79 ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS"*) pass ;;
  *) fail "GPU 1 reason: $(val "$T/last.json" 'properties|status|gpus|1|reasons|0')" ;;
esac
grep -q '"gpu":1,"xid":79,"class":"Fatal"' "$T/last.json" && pass || fail "Xid 79 event"
has "$LOG" "would run $D/bin/taint node-1 gpupool.io/gpu-unhealthy=79:NoSchedule"
# A GPU that falls off the bus: Failed "GPU lost" (every NVML call on it answers GPU_IS_LOST)
echo "lost 3" >>"$D/events"
wait_for 30 "tail -n 1 '$SRV/puts.jsonl' | grep -q 'GPU lost'" && pass || fail "lost GPU not reported"
last_put
eq "$(val "$T/last.json" 'properties|status|gpus|3|health')" Failed "GPU 3 Failed (lost)"
eq "$(val "$T/last.json" 'properties|status|gpus|3|uuid')" GPU-7e4a1c20-0b5d-4f3e-8a11-000000000003 "a lost GPU keeps its uuid"
# A plan change reaches the agent through the long-poll (the interval is 30 s), not applied in a dry run
serve "$T/plan2r.json"
start=$(now_ms)
wait_for 30 "grep -q 'plan: generation 2' '$LOG'" && pass || fail "plan generation 2 not picked up"
took=$(($(now_ms) - start))
if [ "$took" -lt 15000 ]; then pass; else fail "the plan change took $took ms: no long-poll wake-up"; fi
wait_for 30 "grep -q 'dry-run: generation 2 would be applied' '$LOG'" && pass || fail "dry run of generation 2"
# nothing was applied, so the change is still from nothing: the driver would be installed
has "$LOG" "dry-run: generation 2 would be applied (without --execute nothing is changed): class Reboot: components[nvidia-driver] is added"
eq "$(val "$D/state/state.json" appliedGeneration)" 0 "a dry run applies nothing"
# the first GET, the held one that the change answered, the next held one (and one more per minute of
# test at most, when a hold times out)
gets=$(grep -c '^GET' "$SRV/requests.log")
if [ "$gets" -ge 3 ] && [ "$gets" -le 5 ]; then pass; else fail "$gets plan GETs in the dry-run section"; fi
eq "$(grep -c '^GET.*if-none-match=-' "$SRV/requests.log")" 1 "only the first GET has no If-None-Match"
if [ -e "$D/root" ]; then fail "a dry run wrote under --root"; else pass; fi
eq "$(grep -v '^status node-1$' "$D/calls" | wc -l)" 0 "a dry run runs no command but the node status"
# an Xid the catalog does not list: ResetRequired, the GPU Degraded
echo "xid 2 4242" >>"$D/events"
wait_for 30 "tail -n 1 '$SRV/puts.jsonl' | grep -q 'Xid 4242: not in the Xid catalog'" && pass || fail "unknown Xid not reported"
grep -q '"gpu":2,"xid":4242,"class":"ResetRequired"' "$SRV/last-put.json" && pass || fail "unknown Xid class"
# the report just answered may still be being written (a temporary file, then renamed): wait for it
state_files() { ls "$D/state" | tr '\n' ' '; }
wait_for 5 'test "$(state_files)" = "health.json last-report.json plan.json state.json "'
eq "$(state_files)" "health.json last-report.json plan.json state.json " "state directory files"
stop_agent
stop_server

# ---- --execute -------------------------------------------------------------------------------------
echo "-- run: --execute (drain, apply, check, uncordon, taint), restart, reboot"
SRV="$T/srv2"
mkdir -p "$SRV"
cp "$T/plan1r.json" "$SRV/plan.json"
start_server "$SRV"
D="$T/exec"
mkdir -p "$D"
make_commands "$D"
echo boot-1 >"$D/boot_id"
start_agent "$D" node-2 t4x4.json --interval 2s --execute --root "$D/root"
wait_for 60 "grep -q 'generation 1 applied' '$LOG'" && pass || fail "generation 1 not applied"
# drain first (the driver is installed), systemctl from the apply, then uncordon: in that order
grep -n '' "$D/calls" | grep -v ':status ' >"$T/order"
eq "$(sed -n 1p "$T/order" | cut -d: -f2-)" "drain --timeout=300s node-2" "drain first, with the plan's drain timeout"
eq "$(sed -n '$p' "$T/order" | cut -d: -f2-)" "uncordon node-2" "uncordon last"
has "$D/calls" "systemctl daemon-reload"
has "$D/calls" "systemctl restart nvidia-device-plugin.service nvidia-dcgm.service dcgm-exporter.service"
has "$D/root/etc/gpupool/bootstrap.env" "GPUPOOL_COMPONENTS="
has "$D/root/etc/systemd/system/nvidia-device-plugin.service.d/10-gpupool.conf" "ExecStart="
wait_for 30 "last_put && test \"\$(val '$T/last.json' 'properties|status|appliedGeneration')\" = 1" && pass ||
  fail "appliedGeneration 1 not reported"
eq "$(val "$T/last.json" 'properties|kubernetes|unschedulable')" false "uncordoned"
cmp -s "$D/state/applied-plan.json" "$SRV/plan.json" && pass || fail "applied-plan.json is not the applied plan"
# the same plan content under a new generation: applied (class None), no drain, no command at all
calls=$(grep -vc '^status' "$D/calls")
serve "$T/plan2r.json"
wait_for 60 "grep -q 'generation 2 applied' '$LOG'" && pass || fail "generation 2 not applied"
eq "$(grep -vc '^status' "$D/calls")" "$calls" "no drain, systemctl or nvidia-smi when nothing on the node changes"
has "$LOG" "generation 2: class None: nothing on the node changes; no drain"
wait_for 30 "last_put && test \"\$(val '$T/last.json' 'properties|status|appliedGeneration')\" = 2" && pass ||
  fail "appliedGeneration 2 not reported"
eq "$(val "$D/state/state.json" appliedGeneration)" 2 "state.json appliedGeneration"
# Xid 79 with --execute: the node is tainted
echo "xid 1 79" >>"$D/events"
wait_for 30 "grep -q 'taint node-2 gpupool.io/gpu-unhealthy=79:NoSchedule' '$D/calls'" && pass || fail "no taint on Xid 79"
wait_for 30 "grep -q 'node node-2 tainted' '$LOG'" && pass || fail "taint not recorded"
wait_for 30 "tail -n 1 '$SRV/puts.jsonl' | grep -q '\"health\":{\"state\":\"Failed\"'" && pass || fail "Failed not reported"
stop_agent
# Restart: resumes from the state directory; nothing applied again, Failed kept (same boot), taint not repeated
calls=$(grep -vc '^status' "$D/calls")
puts=$(count "$SRV/puts.jsonl" .)
start_agent "$D" node-2 t4x4.json --interval 2s --execute --root "$D/root"
wait_for 30 "test \$(count '$SRV/puts.jsonl' .) -gt $puts" && pass || fail "no report after the restart"
has "$LOG" "resuming with plan generation 2, applied 2"
last_put
eq "$(val "$T/last.json" 'properties|status|appliedGeneration')" 2 "appliedGeneration after restart"
eq "$(val "$T/last.json" 'properties|status|health|state')" Failed "Failed survives a restart of the agent"
eq "$(val "$T/last.json" 'properties|status|gpus|1|health')" Failed "GPU 1 still Failed"
grep -q '"xid":79' "$T/last.json" && pass || fail "events kept across the restart"
sleep 2
eq "$(grep -vc '^status' "$D/calls")" "$calls" "no drain, apply or taint again after a restart"
eq "$(grep -c '^GET.*if-none-match=-' "$SRV/requests.log")" 1 "after a restart the plan is asked with the saved ETag"
stop_agent
# Reboot (a new boot id): Failed clears, the stale taint is removed
echo boot-2 >"$D/boot_id"
puts=$(count "$SRV/puts.jsonl" .)
start_agent "$D" node-2 t4x4.json --interval 2s --execute --root "$D/root"
wait_for 30 "grep -q 'taint node-2 gpupool.io/gpu-unhealthy:NoSchedule-' '$D/calls'" && pass || fail "stale taint not removed"
wait_for 30 "test \$(count '$SRV/puts.jsonl' .) -gt $puts" && pass || fail "no report after the reboot"
last_put
eq "$(val "$T/last.json" 'properties|status|health|state')" Healthy "a reboot clears Failed"
has "$LOG" "the node rebooted since the last run"
stop_agent

# GPUs missing against the plan (4 x T4), one of the two lost at discovery (GPU_IS_LOST from NVML)
D="$T/missing"
mkdir -p "$D"
make_commands "$D"
echo boot-1 >"$D/boot_id"
start_agent "$D" node-5 t4x2-gpu-lost.json --interval 1s
wait_for 30 "tail -n 1 '$SRV/puts.jsonl' | grep -q 'GPUs missing'" && pass || fail "missing GPUs not reported"
last_put
eq "$(val "$T/last.json" 'properties|status|health|state')" Failed "GPUs missing: node Failed"
eq "$(val "$T/last.json" 'properties|status|gpus|1|health')" Failed "a GPU lost at discovery is Failed"
eq "$(val "$T/last.json" 'properties|status|gpus|1|uuid')" null "a GPU lost at discovery has no uuid"
eq "$(val "$T/last.json" 'properties|status|gpus|0|health')" Healthy "the other T4 is Healthy"
grep -q '"gpu":null,"xid":null,"class":"Fatal","message":"2 GPUs missing: the plan' "$T/last.json" && pass ||
  fail "missing GPUs event"
# findings against the plan (nothing applied yet: the plan the node is to run), as {code, severity, expected, found,
# message (the check's action)}
eq "$(val "$T/last.json" 'properties|status|findings|0|code')" gpu-count "gpu-count finding"
eq "$(val "$T/last.json" 'properties|status|findings|0|severity')" error "gpu-count severity"
eq "$(val "$T/last.json" 'properties|status|findings|0|expected')" 4 "gpu-count expected"
eq "$(val "$T/last.json" 'properties|status|findings|0|found')" 1 "gpu-count found"
case "$(val "$T/last.json" 'properties|status|findings|0|message')" in
  "VM size Standard_NC64as_T4_v3 has 4 GPUs but the node sees 1."*) pass ;;
  *) fail "gpu-count message: $(val "$T/last.json" 'properties|status|findings|0|message')" ;;
esac
wait_for 30 "grep -q 'would run $D/bin/taint node-5 gpupool.io/gpu-unhealthy=gpu-lost:NoSchedule' '$LOG'" && pass ||
  fail "dry-run taint for a lost GPU"
stop_agent

# A drain that takes long is ended by SIGTERM: the node is uncordoned, nothing is applied
D="$T/abandon"
mkdir -p "$D"
make_commands "$D"
touch "$D/slow-drain"
echo boot-1 >"$D/boot_id"
start_agent "$D" node-3 t4x4.json --interval 2s --execute --root "$D/root" --log-format json
wait_for 30 "grep -q '^drain' '$D/calls'" && pass || fail "the drain did not start"
stop_agent
# --log-format json: every line one JSON object with time, level, event and message
n=0
bad=0
while IFS= read -r line; do
  printf '%s\n' "$line" >"$T/line.json"
  for k in time level event message; do "$TT" get "$T/line.json" "$k" >/dev/null 2>&1 || bad=$((bad + 1)); done
  n=$((n + 1))
done <"$LOG"
[ "$n" -ge 5 ] && [ "$bad" = 0 ] && pass || fail "JSON log: $bad missing fields in $n lines"
has "$D/calls" "uncordon node-3"
eq "$(val "$D/state/state.json" appliedGeneration)" 0 "an abandoned step applies nothing"
if [ -e "$D/root/etc/gpupool/bootstrap.env" ]; then fail "files written after an abandoned drain"; else pass; fi
stop_server

# A plan for another machine (8 H100s) on this 4-T4 node with --execute: refused before any drain,
# nothing applied, the findings logged
"$GPUPOOL" plan -f "$ROOT/tests/agent/pools/nd96-h100-mig1g-managed.json" --feature ManagedGPU >"$T/nd96.json" ||
  fail "gpupool plan nd96"
SRV="$T/srv4"
mkdir -p "$SRV"
cp "$T/nd96.json" "$SRV/plan.json"
start_server "$SRV"
D="$T/refuse"
mkdir -p "$D"
make_commands "$D"
echo boot-1 >"$D/boot_id"
start_agent "$D" node-6 t4x4.json --interval 2s --execute --root "$D/root"
wait_for 60 "grep -q 'generation 1 refused, the node cannot take it: GPU count: expected 8, found 4' '$LOG'" && pass ||
  fail "the 8-GPU plan was not refused"
has "$LOG" "generation 1 not applied; trying again"
# (the health watcher taints it: the plan's 8 GPUs are missing; that is health's, not apply's)
eq "$(grep -Ec '^(drain|uncordon|systemctl|nvidia-smi) ' "$D/calls")" 0 "a refused plan: no drain, no systemctl, no nvidia-smi"
eq "$(val "$D/state/state.json" appliedGeneration)" 0 "a refused plan is not applied"
if [ -e "$D/root" ]; then fail "files written for a refused plan"; else pass; fi
stop_agent
stop_server

# ---- the server away and back; a server that does not hold ------------------------------------------
echo "-- run: backoff while gpupoold is away, reconnect, no busy loop"
SRV="$T/srv3"
mkdir -p "$SRV"
cp "$T/plan1r.json" "$SRV/plan.json"
echo nohold >"$SRV/mode"
start_server "$SRV"
D="$T/away"
mkdir -p "$D"
make_commands "$D"
echo boot-1 >"$D/boot_id"
start_agent "$D" node-4 t4x4.json --interval 2s
wait_for 30 "grep -q 'if-none-match=\"' '$SRV/requests.log'" && pass || fail "no conditional GET"
# a server that answers 304 at once: asked again after an interval, not in a loop
gets=$(grep -c '^GET' "$SRV/requests.log")
sleep 6
gets=$(($(grep -c '^GET' "$SRV/requests.log") - gets))
if [ "$gets" -ge 1 ] && [ "$gets" -le 5 ]; then pass; else fail "$gets plan GETs in 6 s against a server that does not hold"; fi
# a server that ignores If-None-Match (200 with the same plan every time): no loop either
echo ignore-inm >"$SRV/mode"
gets=$(grep -c '^GET' "$SRV/requests.log")
sleep 6
gets=$(($(grep -c '^GET' "$SRV/requests.log") - gets))
if [ "$gets" -ge 1 ] && [ "$gets" -le 5 ]; then pass; else fail "$gets plan GETs in 6 s against a server that ignores If-None-Match"; fi
rm -f "$SRV/mode"
stop_server
sleep 4
echo "xid 0 79" >>"$D/events"
wait_for 30 "grep -q 'health: node Failed' '$LOG'" && pass || fail "health change while away not seen"
wait_for 30 "test \$(grep -c 'report: .*retrying in' '$LOG') -ge 3" && pass || fail "no retries while the server is away"
# the delays grow (1 s doubling, jittered within [d/2, d]) and stay under the cap
grep -o 'report: .*retrying in [0-9.]* s' "$LOG" | sed 's/.*retrying in \([0-9.]*\) s/\1/' >"$T/delays"
first=$(sed -n 1p "$T/delays")
third=$(sed -n 3p "$T/delays")
awk -v a="$first" -v b="$third" 'BEGIN { exit !(a <= 1.0 && b >= 2.0 && b <= 4.0) }' && pass ||
  fail "backoff delays $(tr '\n' ' ' <"$T/delays")"
attempts=$(grep -c 'report: .*retrying in' "$LOG")
[ "$attempts" -le 8 ] && pass || fail "$attempts report attempts while away: not backing off"
puts=$(count "$SRV/puts.jsonl" .)
seen=$(wc -l <"$SRV/requests.log")
start_server "$SRV" "$PORT"
wait_for 90 "test \$(count '$SRV/puts.jsonl' .) -gt $puts" && pass || fail "no report after the server came back"
# (the stand-in counts the report before the agent logs that it got the answer)
wait_for 30 "grep -q 'gpupoold is back after' '$LOG'" && pass || fail "log lacks: gpupoold is back after"
last_put
eq "$(val "$T/last.json" 'properties|status|health|state')" Failed "the health change made while away is reported"
grep -q '"gpu":0,"xid":79,"class":"Fatal"' "$T/last.json" && pass || fail "the Xid event made while away is reported"
wait_for 90 "tail -n +$((seen + 1)) '$SRV/requests.log' | grep -q '^GET.*if-none-match=\"'" && pass ||
  fail "the long-poll did not resume with the remembered ETag"
stop_agent
stop_server

echo "agent run: $passed checks passed, $failed failed"
[ "$failed" = 0 ]
