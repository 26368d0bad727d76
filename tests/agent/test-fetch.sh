#!/bin/sh
# test-fetch.sh - gpupool-agent fetch against the real control plane (gpupoold), end to end: a pool
# created through the gpupool CLI, its plan fetched with If-None-Match, changed, fetched again, and
# checked against a fake node.
#
# Part of `make test` (mk/agent.mk, test-agent-fetch). By hand: make test-agent-fetch
# Environment: B (build directory, default build); GPUPOOLD, GPUPOOL, AGENT override the binaries.
#
# It starts its own gpupoold on a free loopback port with a fresh SQLite file and stops it (by its
# pid) at the end.
#
set -u
B=${B:-build}
ROOT=$(pwd)
GPUPOOLD=${GPUPOOLD:-$ROOT/$B/gpupoold}
GPUPOOL=${GPUPOOL:-$ROOT/$B/gpupool}
AGENT=${AGENT:-$ROOT/$B/gpupool-agent}
TT="$ROOT/$B/tests/agent/agent-testtool"
export GPUPOOL_NVML_LIBRARY="$ROOT/$B/tests/agent/libfake-nvml.so"
for bin in "$GPUPOOLD" "$GPUPOOL" "$AGENT" "$TT" "$GPUPOOL_NVML_LIBRARY"; do
  [ -e "$bin" ] || { echo "test-fetch: $bin is not built" >&2; exit 1; }
done
CHECKS_NAME=fetch-tests
. "$ROOT/tests/lib/checks.sh"

start_gpupoold --db "sqlite:$T/gpupool.db"
export GPUPOOL_ENDPOINT="$EP"
SUB=00000000-0000-0000-0000-000000000000
ID="/subscriptions/$SUB/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools"

expect 0 "feature register" "$GPUPOOL" feature register -n ManagedGPU
expect 0 "cluster create" "$GPUPOOL" cluster create -g rg1 -n c1
expect 0 "nodepool add" "$GPUPOOL" nodepool add -g rg1 --cluster-name c1 -n gpu -s Standard_NC24ads_A100_v4 -c 1 \
  --gpu-instance-profile MIG1g --enable-managed-gpu --node-taints sku=gpu:NoSchedule

# A new plan: written, ETag remembered, the same plan the server shows.
expect 0 "first fetch" "$AGENT" fetch --endpoint "$EP" --pool "$ID/gpu" --etag-file "$T/etag" --out "$T/plan.json"
[ -s "$T/etag" ] && ok || no "no ETag remembered"
expect 0 "nodepool plan" "$GPUPOOL" nodepool plan -g rg1 --cluster-name c1 -n gpu
cp "$T/out" "$T/server-plan.json"
if "$TT" jsoneq "$T/plan.json" "$T/server-plan.json" 2>"$T/err"; then ok; else no "fetched plan differs from nodepool plan"; fi
[ "$("$TT" get "$T/plan.json" vmSize)" = Standard_NC24ads_A100_v4 ] && ok || no "plan vmSize"
# The fetched plan works for check: the A100 with 7 x 1g.10gb conforms.
export GPUPOOL_FAKE_NVML="$ROOT/tests/agent/gpus/a100-mig-1g.json"
expect 0 "check fetched plan" "$AGENT" check --plan "$T/plan.json"

# Unchanged: 304 -> exit 4, the plan file stays.
cp "$T/plan.json" "$T/plan-1.json"
expect 4 "second fetch (unchanged)" "$AGENT" fetch --endpoint "$EP" --pool "$ID/gpu" --etag-file "$T/etag" --out "$T/plan.json"
cmp -s "$T/plan.json" "$T/plan-1.json" && ok || no "304 changed the plan file"

# The pool changes (Managed -> Unmanaged): a new generation, a new plan.
expect 0 "nodepool update" "$GPUPOOL" nodepool update -g rg1 --cluster-name c1 -n gpu --enable-managed-gpu=false
expect 0 "fetch after the change" "$AGENT" fetch --endpoint "$EP" --pool "$ID/gpu" --etag-file "$T/etag" --out "$T/plan.json"
if cmp -s "$T/plan.json" "$T/plan-1.json"; then no "the plan did not change"; else ok; fi
[ "$("$TT" get "$T/plan.json" 'effective|managementMode')" = Unmanaged ] && ok || no "new plan is not Unmanaged"
expect 0 "check the new plan" "$AGENT" check --plan "$T/plan.json"

# A pool that does not exist: exit 1 with the ARM error, the plan file stays.
cp "$T/plan.json" "$T/plan-2.json"
expect 1 "missing pool" "$AGENT" fetch --endpoint "$EP" --pool "$ID/nosuch" --etag-file "$T/etag" --out "$T/plan.json"
grep -q "HTTP 404" "$T/err" && ok || no "404 not reported"
cmp -s "$T/plan.json" "$T/plan-2.json" && ok || no "an error changed the plan file"

# A pool deleted and created again under the same name: the agent's old ETag must not match the new
# pool's plan (generation 1 both times). A 304 would keep driver + device plugin + DCGM on a node of a
# pool that now wants nothing.
expect 0 "nodepool add re (managed)" "$GPUPOOL" nodepool add -g rg1 --cluster-name c1 -n re -s Standard_NC4as_T4_v3 -c 1 \
  --enable-managed-gpu --node-taints sku=gpu:NoSchedule
expect 0 "fetch re" "$AGENT" fetch --endpoint "$EP" --pool "$ID/re" --etag-file "$T/re.etag" --out "$T/re.json"
[ "$("$TT" get "$T/re.json" generation)" = 1 ] && ok || no "re: not generation 1"
expect 0 "nodepool delete re" "$GPUPOOL" nodepool delete -g rg1 --cluster-name c1 -n re --yes
expect 0 "nodepool add re again (driver None)" "$GPUPOOL" nodepool add -g rg1 --cluster-name c1 -n re \
  -s Standard_NC4as_T4_v3 -c 1 --gpu-driver None --node-taints sku=gpu:NoSchedule
cp "$T/re.etag" "$T/re-old.etag"
expect 0 "fetch the re-created pool with the old ETag: a new plan, not 'unchanged'" "$AGENT" fetch --endpoint "$EP" \
  --pool "$ID/re" --etag-file "$T/re.etag" --out "$T/re.json"
[ "$("$TT" get "$T/re.json" generation)" = 1 ] && ok || no "re-created: not generation 1"
[ "$("$TT" get "$T/re.json" 'effective|driver')" = None ] && ok || no "re-created: the old plan was kept"
cmp -s "$T/re.etag" "$T/re-old.etag" && no "the re-created pool's plan has the old ETag" || ok
expect 4 "fetch again: unchanged" "$AGENT" fetch --endpoint "$EP" --pool "$ID/re" --etag-file "$T/re.etag" --out "$T/re.json"

echo "agent fetch vs gpupoold: $passed checks passed, $failed failed"
[ "$failed" = 0 ]
