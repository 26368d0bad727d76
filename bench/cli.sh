#!/bin/sh
# cli.sh - benchmark of `gpupool nodepool show` as a whole process against a local gpupoold (issue 4):
# median wall time over 300 runs (hyperfine, installed from Debian if missing), target < 20 ms; and
# of a write, `gpupool nodepool update` waiting for its operation (issue 13: no 1 s wait any more),
# 50 runs against gpupoold's default Retry-After.
# Writes the figures, machine and date into bench/RESULTS.md (section "cli").
# Usage: bench/cli.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
B=${1:-build}
if ! command -v hyperfine >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq hyperfine >/dev/null
fi
T=$(mktemp -d)
"$B/gpupoold" --listen 127.0.0.1:0 --db "sqlite:$T/bench.db" >"$T/addr" 2>"$T/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
i=0; EP=
while [ -z "$EP" ] && [ $i -lt 100 ]; do sleep 0.05; EP=$(sed -n 's/^gpupoold listening on //p' "$T/addr"); i=$((i + 1)); done
export GPUPOOL_ENDPOINT="$EP"
"$B/gpupool" feature register --name ManagedGPU >/dev/null
"$B/gpupool" cluster create -g bench -n c1 >/dev/null
"$B/gpupool" nodepool add -g bench --cluster-name c1 -n gpu1 -s Standard_ND96isr_H100_v5 --mig-profile MIG1g \
  --enable-managed-gpu --node-taints sku=gpu:NoSchedule >/dev/null
load=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine -N --warmup 20 --runs 300 --export-json "$T/h.json" \
  "$B/gpupool nodepool show -g bench --cluster-name c1 -n gpu1" \
  "$B/gpupool nodepool show -g bench --cluster-name c1 -n gpu1 -o table" >"$T/hyperfine.txt"
hyperfine -N --warmup 5 --runs 50 --export-json "$T/w.json" \
  "$B/gpupool nodepool update -g bench --cluster-name c1 -n gpu1 -c 2 -o none" >>"$T/hyperfine.txt"
cat "$T/hyperfine.txt"
ms() { awk -v k="$1" -v n="$2" 'BEGIN{RS="\"command\""} NR==n+1 { if (match($0, "\"" k "\": *[0-9.e-]+")) { s=substr($0, RSTART, RLENGTH); sub(/.*: */, "", s); printf "%.2f", s*1000 } }' "${3:-$T/h.json}"; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
section=$(cat <<TXT
<!-- cli:begin -->
## cli (issues 4 and 13): \`gpupool nodepool show\` and a write, as whole processes

\`bench/cli.sh\` — $(date -u +%Y-%m-%d), $(nproc) CPUs ($cpu), $(uname -r). hyperfine, 20 warm-up runs
then 300 runs, each a new process (exec, libcurl, one GET over loopback to a local gpupoold with
SQLite, print); the pool is an ND96isr_H100_v5 MIG1g managed pool. Load average before: $load. The
write (issue 13) is a GET, a PUT with If-Match, polls of its operation (the first after 50 ms, never
sooner than Retry-After, which is 0 once the operation is due), the pool's GET and its plan's GET
(for the warnings); before issue 13 the CLI always waited the server's \`Retry-After: 1\`.

| command | median | mean | min | max | target |
|---|---|---|---|---|---|
| \`nodepool show\` (json) | $(ms median 1) ms | $(ms mean 1) ms | $(ms min 1) ms | $(ms max 1) ms | < 20 ms |
| \`nodepool show -o table\` | $(ms median 2) ms | $(ms mean 2) ms | $(ms min 2) ms | $(ms max 2) ms | < 20 ms |
| \`nodepool update -c 2\` (waits) | $(ms median 1 "$T/w.json") ms | $(ms mean 1 "$T/w.json") ms | $(ms min 1 "$T/w.json") ms | $(ms max 1 "$T/w.json") ms | (was > 1000 ms) |
<!-- cli:end -->
TXT
)
bench/write-section.sh cli "$section"
