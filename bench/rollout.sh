#!/usr/bin/env bash
# rollout.sh - issue 12's scale figure: one rollout across ROLLOUT_MACHINES (10,000) simulated node
# agents (bench/fleet/fleetsim.c --rollout-body) on one gpupoold with SQLite, upgradeSettings
# maxUnavailable "10%": the time from the pool's PUT to its status.rollout saying Completed when
# every simulated node applies its plan the moment it gets it (reporting that generation applied, a
# Conformant node), the batches as the pool's updated count showed them (read every 50 ms), and
# gpupoold's CPU (utime + stime from /proc) from the PUT to Completed.
# The change is Unmanaged -> Managed (components added: the Restart class), so every machine is
# moved in batches; nothing on the simulated nodes takes time, so what is measured is gpupoold's
# part: moving targets, waking long-polls, taking reports, deciding the next batch.
# Writes bench/RESULTS.md (section "rollout") with the machine, the date and the load.
# Usage: bench/rollout.sh [BUILD/gpupoold [BUILD/bench-fleetsim]]   (make bench-rollout)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/gpupoold}
sim=${2:-build/bench-fleetsim}
[ -x "$bin" ] && [ -x "$sim" ] || { echo "bench: build $bin and $sim first (make bench-rollout)" >&2; exit 1; }
source bench/lib.sh
bench_packages curl
machines=${ROLLOUT_MACHINES:-10000}
max_unavailable=${ROLLOUT_MAX_UNAVAILABLE:-10%}
ulimit -n "$(ulimit -Hn)"
bench_fleet_setup rollout # $work, cleanup at exit, load_before, sub, api, json, rg, pool
# (count is at most 1000: machines beyond it are simply registered, as in bench/fleet.sh)
pool_body='{"properties":{"vmSize":"Standard_NC64as_T4_v3","count":1000,"nodeTaints":["sku=gpu:NoSchedule"],"upgradeSettings":{"maxUnavailable":"%s"},"gpuProfile":{"driver":"Install","nvidia":{"managementMode":"%s"}}}}'
# shellcheck disable=SC2059
printf "$pool_body" "$max_unavailable" Managed >"$work/rollout.json"

start_gpupoold rollout "sqlite:$work/rollout.db"
base="http://127.0.0.1:$port"
curl -s -o /dev/null -X POST "$base/subscriptions/$sub/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/ManagedGPU/register?api-version=2021-07-01"
curl -s -o /dev/null -X PUT -H "$json" "$base$rg/managedClusters/c1?api-version=$api" -d '{"location":"eastus"}'
wait_succeeded "$base$rg/managedClusters/c1?api-version=$api"
# shellcheck disable=SC2059
curl -s -o /dev/null -X PUT -H "$json" "$base$pool?api-version=$api" -d "$(printf "$pool_body" "$max_unavailable" Unmanaged)"
wait_succeeded "$base$pool?api-version=$api"
echo "bench: one rollout across $machines machines, maxUnavailable $max_unavailable (SQLite)" >&2
# every machine registers, then reports every 60 s and long-polls (waits of 20 s, all held after the
# 25 s warm-up); then the rollout
"$sim" --port "$port" --pool "$pool" --watch-pid "$gpid" --machines "$machines" --interval 60 --wait 20 \
  --warmup 25 --duration 5 --rollout-body "$work/rollout.json" >"$work/rollout.txt" 2>&1 || true
cat "$work/rollout.txt" >&2
stop_gpupoold "$gpid"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

f() { sed -n 's/^RESULT //p' "$work/rollout.txt" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
[ "$(f rolloutstate)" = Completed ] || { echo "bench: the rollout did not complete ($(f rolloutstate))" >&2; exit 1; }
timeline=$(sed -n 's/^rollout: \([0-9.]*\) s: [A-Za-z]*, \([0-9]*\) updated.*/\2 at \1 s/p' "$work/rollout.txt" | paste -sd ';' - | sed 's/;/; /g')
section="<!-- rollout:begin -->
## rollout (issue 12): one rollout across simulated node agents

\`bench/rollout.sh\` (\`make bench-rollout\`) — $(date -u +%Y-%m-%d), $(nproc) CPUs ($(cpu_model)), $(uname -r),
SQLite $(pkg-config --modversion sqlite3). gpupoold (default flags) and the simulator
(\`bench/fleet/fleetsim.c --rollout-body\`) on one machine over loopback, sharing its cores.
Load average before / after: $load_before / $load_after (the machine is shared with other work).

$(f machines) machines registered, each reporting every 60 s and holding a plan long-poll; one PUT
changes the pool from Unmanaged to Managed (components added: class Restart) with
\`upgradeSettings.maxUnavailable\` \"$max_unavailable\". A simulated node applies a plan the moment it gets
it and reports that generation applied (Conformant), so the figure is gpupoold's own part of a rollout:
moving a batch's targets, waking their long-polls, taking their reports, starting the next batch.

| | |
|---|---|
| PUT answered | $(f rolloutput) |
| time from the PUT being sent to \`status.rollout.state\` Completed | $(f rolloutseconds) s |
| machines updated | $(f rolloutupdated) of $(f machines) |
| gpupoold CPU from the PUT to Completed | $(f rolloutcpu0) s ($(awk -v c="$(f rolloutcpu0)" -v s="$(f rolloutseconds)" 'BEGIN { printf "%.2f", c / s }') cores) |

The CPU includes the benchmark's own reads of the pool (one every 50 ms, each counting the pool's
$(f machines) machines) and the fleet's routine reports and long-poll renewals meanwhile.

The pool's \`updated\` count as read every 50 ms (machines done, at seconds from the PUT): $timeline.
<!-- rollout:end -->"
write_section rollout "$section"
