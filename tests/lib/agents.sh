# agents.sh - what the end-to-end suites with real node agents share (sourced, not run; it sources
# tests/lib/checks.sh itself): gpupoold replicas started and killed by name, real `gpupool-agent run` daemons on the fake
# NVML with drain/uncordon/taint/systemctl/nvidia-smi/node-status commands that record their calls,
# and reads of the ARM API. Used by tests/fleet/test-fleet.sh and tests/rollout/test-rollout.sh.
#
# The caller sets ROOT, B (build directory) and CHECKS_NAME, and optionally CURL_CA, CURL_AUTH (https,
# tokens) and
# AGENT_SYSTEMCTL_DELAY (seconds each recorded systemctl call takes: a slow apply, so that a test
# sees machines in the middle of their step).
#
# It sets GPUPOOLD, GPUPOOL, AGENT, TT (agent-testtool) and exports GPUPOOL_NVML_LIBRARY (the fake
# NVML), all checked to be built; SUB, RG (the cluster's id), POOL (pool gpu), MACHINES, API; PIDS
# (every process started here, killed at exit), $T and the checks of checks.sh.
#
#   start_srv NAME ARGS...    gpupoold NAME on 127.0.0.1 (port 0 the first time, the same port after);
#                             sets NAME_PID, NAME_EP, NAME_PORT
#   kill_srv NAME SIGNAL      signals it and waits for it
#   start_agent NAME EP MACHINE_ID GPUS ARGS...   a daemon (pid in NAME_APID), files under $T/NAME:
#                             calls (one line a recorded call), times (the same, each line prefixed
#                             with the wall clock in ms), events (fake NVML events), log; a file
#                             hook-CMD there (e.g. hook-systemctl) is a shell script that the next
#                             recorded call of CMD runs once, then removes (something that happens
#                             in the middle of a node's step)
#   stop_agent NAME           SIGTERM; it must exit 0 within 20 s
#   api EP PATH [OUT]         GET PATH?api-version, the body into OUT ($T/body), the status on stdout
#   val FILE PATH             a field of a JSON file (agent-testtool get; | separated)
#   mfield EP NAME PATH, mstate EP NAME   a machine's field, its status.state
#   cli EP ARGS...            gpupool against EP (stdout in $T/out, stderr in $T/err)
#   eq GOT WANT WHAT          a check that GOT is WANT
GPUPOOLD=$ROOT/$B/gpupoold
GPUPOOL=$ROOT/$B/gpupool
AGENT=$ROOT/$B/gpupool-agent
TT=$ROOT/$B/tests/agent/agent-testtool
export GPUPOOL_NVML_LIBRARY="$ROOT/$B/tests/agent/libfake-nvml.so"
for f in "$GPUPOOLD" "$GPUPOOL" "$AGENT" "$TT" "$GPUPOOL_NVML_LIBRARY"; do
  [ -e "$f" ] || { echo "$CHECKS_NAME: $f is not built" >&2; exit 1; }
done
unset GPUPOOL_TOKEN GPUPOOL_CACERT 2>/dev/null || true
. "$ROOT/tests/lib/checks.sh" # $T, ok / no / expect / contains, wait_for, now_ms
PIDS=""
cleanup() {
  for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$T"
}
SUB=00000000-0000-0000-0000-000000000000
RG=/subscriptions/$SUB/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1
POOL=$RG/agentPools/gpu
MACHINES=$POOL/machines
API=2026-10-02-preview
CURL_CA=${CURL_CA:-}
CURL_AUTH=${CURL_AUTH:-}

eq() { if [ "$1" = "$2" ]; then ok; else no "$3: got '$1', want '$2'"; fi; }
val() { "$TT" get "$1" "$2" 2>/dev/null || echo "<absent>"; }
api() {
  curl -s -o "${3:-$T/body}" -w '%{http_code}' $CURL_CA ${CURL_AUTH:+-H "$CURL_AUTH"} "$1$2?api-version=$API"
}
mfield() {
  api "$1" "$MACHINES/$2" "$T/m-$2.json" >/dev/null
  val "$T/m-$2.json" "$3"
}
mstate() { mfield "$1" "$2" 'properties|status|state'; }
cli() {
  ep=$1
  shift
  GPUPOOL_ENDPOINT=$ep "$GPUPOOL" "$@" >"$T/out" 2>"$T/err"
}

start_srv() {
  name=$1
  shift
  eval "port=\${${name}_PORT:-0}"
  : >"$T/$name.out"
  "$GPUPOOLD" --listen "127.0.0.1:$port" "$@" >"$T/$name.out" 2>>"$T/$name.log" &
  pid=$!
  PIDS="$PIDS $pid"
  if ! wait_for 30 "grep -q 'listening on' '$T/$name.out'"; then
    no "gpupoold $name did not start"
    tail -20 "$T/$name.log"
    exit 1
  fi
  ep=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$T/$name.out" | head -1)
  eval "${name}_PID=$pid ${name}_EP=$ep ${name}_PORT=${ep##*:}"
}
kill_srv() {
  eval "pid=\$${1}_PID"
  kill -"$2" "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

# recording node commands: each appends its name and arguments to DIR/calls (and, with the time, to
# DIR/times)
make_commands() {
  d=$1
  mkdir -p "$d/bin"
  for c in drain uncordon taint systemctl nvidia-smi; do
    delay=0
    [ "$c" = systemctl ] && delay=${AGENT_SYSTEMCTL_DELAY:-0}
    cat >"$d/bin/$c" <<EOS
#!/bin/sh
echo "$c \$*" >>"$d/calls"
echo "\$((\$(date +%s%N) / 1000000)) $c \$*" >>"$d/times"
case "$c" in drain) touch "$d/cordoned" ;; uncordon) rm -f "$d/cordoned" ;; esac
if [ -f "$d/hook-$c" ]; then mv "$d/hook-$c" "$d/hook-$c.ran" && sh "$d/hook-$c.ran"; fi
[ "$delay" = 0 ] || sleep "$delay"
exit 0
EOS
  done
  cat >"$d/bin/status" <<EOS
#!/bin/sh
u=false
[ -f "$d/cordoned" ] && u=true
echo '{"kind":"Node","spec":{"unschedulable":'\$u'},"status":{"conditions":[{"type":"Ready","status":"True"}],"nodeInfo":{"kubeletVersion":"v1.35.0"}}}'
EOS
  chmod +x "$d/bin/"*
}

start_agent() {
  n=$1 ep=$2 id=$3 gpus=$4
  shift 4
  d=$T/$n
  mkdir -p "$d"
  [ -d "$d/bin" ] || make_commands "$d"
  touch "$d/events"
  [ -f "$d/boot_id" ] || echo "boot-1" >"$d/boot_id"
  PATH="$d/bin:$PATH" GPUPOOL_FAKE_NVML="$gpus" GPUPOOL_FAKE_NVML_EVENTS="$d/events" GPUPOOL_BOOT_ID_FILE="$d/boot_id" \
    "$AGENT" run --endpoint "$ep" --machine "$id" --state-dir "$d/state" --root "$d/root" \
    --vm-size Standard_NC64as_T4_v3 --drain-command "$d/bin/drain" --uncordon-command "$d/bin/uncordon" \
    --taint-command "$d/bin/taint" --node-status-command "$d/bin/status" --health-interval 200ms "$@" \
    >>"$d/log" 2>&1 &
  eval "${n}_APID=$!"
  PIDS="$PIDS $!"
}
stop_agent() {
  eval "pid=\$${1}_APID"
  kill -TERM "$pid" 2>/dev/null
  if wait_for 20 "! kill -0 $pid"; then ok; else no "agent $1 did not stop within 20 s of SIGTERM"; fi
  wait "$pid"
  eq "$?" 0 "agent $1: exit status after SIGTERM"
}
