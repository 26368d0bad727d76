# lib.sh - what the gpupoold benchmarks share (sourced by bench/server.sh and bench/pg.sh, bash):
# Debian packages they need, starting gpupoold, waiting for its operations, wrk runs and their
# figures, the machine line, and replacing a section of bench/RESULTS.md.
# The caller sets $work (a temporary directory) and $bin (gpupoold), and kills "${pids[@]}" at exit.

pids=()

bench_packages() { # installs the Debian packages named that are missing
  local missing="" p sudo=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  echo "bench: installing$missing" >&2
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
}

# start_gpupoold NAME DB [ARGS...]: sets port and gpid (not in a subshell: it must stay our child).
start_gpupoold() {
  local name=$1 db=$2
  shift 2
  : >"$work/$name.out"
  "$bin" --listen 127.0.0.1:0 --db "$db" "$@" >"$work/$name.out" 2>>"$work/$name.log" &
  gpid=$!
  pids+=("$gpid")
  for _ in $(seq 200); do
    grep -q listening "$work/$name.out" 2>/dev/null && break
    sleep 0.05
  done
  port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/$name.out")
  [ -n "$port" ] || { echo "bench: gpupoold did not start:" >&2; tail -5 "$work/$name.log" >&2; exit 1; }
}
stop_gpupoold() { kill -TERM "$1"; wait "$1" 2>/dev/null || true; }

state() { curl -s "$1" | grep -o '"provisioningState":"[A-Za-z]*"' | head -1 | cut -d'"' -f4; }
wait_succeeded() {
  for _ in $(seq 600); do [ "$(state "$1")" = Succeeded ] && return 0; sleep 0.05; done
  echo "bench: $1 did not finish" >&2
  return 1
}
wait_idle() { # every operation of the store behind base URL $1 ended
  for _ in $(seq 3000); do
    curl -s "$1/metrics" | grep -q 'gpupoold_operations{status="InProgress"} 0' && return 0
    sleep 0.1
  done
  echo "bench: operations still running" >&2
  return 1
}

# run_wrk NAME WRK-ARGS...: wrk with latency figures into $work/NAME.txt; any non-2xx fails the run.
run_wrk() {
  local name=$1
  shift
  wrk --latency "$@" >"$work/$name.txt" 2>&1
  if grep -q "Non-2xx" "$work/$name.txt"; then
    echo "bench: $name had errors:" >&2
    cat "$work/$name.txt" >&2
    exit 1
  fi
}
rps() { awk '/^Requests\/sec:/ { printf "%d", $2 }' "$work/$1.txt"; }
p99() { # the 99th percentile latency in ms
  awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
       if (u == "us") v /= 1000; else if (u == "s") v *= 1000; printf "%.2f", v }' "$work/$1.txt"
}
requests() { awk '/requests in/ { print $1 }' "$work/$1.txt"; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", 100 * a / b }'; }
cpu_model() { grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'; }

# write_section NAME TEXT: TEXT (which starts with <!-- NAME:begin --> and ends with <!-- NAME:end -->)
# replaces that section of bench/RESULTS.md, or is appended (bench/write-section.sh does it).
write_section() { bench/write-section.sh "$@"; }

# bench_fleet_setup NAME: what the fleet simulator's benchmarks (fleet.sh, rollout.sh) share: $work
# (removed at exit, with every process in pids killed), a line naming a failing command, the load
# before, and the ids of the simulated pool: sub, api, json (the Content-Type header), rg, pool.
bench_fleet_setup() {
  work=$(mktemp -d "/tmp/gpupoold-bench-$1-XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  trap 'echo "bench: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  sub=3d2c1b0a-9f8e-4d7c-a6b5-c4d3e2f1a0b9
  api=2026-10-02-preview
  json='Content-Type: application/json'
  rg="/subscriptions/$sub/resourceGroups/fleet/providers/Microsoft.ContainerService"
  pool="$rg/managedClusters/c1/agentPools/gpu"
}
bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
