#!/bin/sh
# run-tests.sh - the gpupool CLI against a live gpupoold (`make test-cli`, part of `make test`).
#
# Starts gpupoold on a free loopback port with a fresh database, then runs every command and flag:
# feature, cluster and nodepool commands in every output format (-o none too), error paths (ARM
# errors exit 1 with "(Code) Message" on stderr, usage errors exit 2 with a --help hint, connection
# failures with what to do), table/yaml/tsv output and the MIG layout pictures against golden files
# under tests/cli/golden/ (etags and times normalised), the offline commands (validate, plan,
# vm-size, kubernetes-versions, version), saved defaults (configure), delete confirmations (refused
# in a pipe without --yes, asked on a terminal), warnings on add/update, the bash completion
# generated from the command table, fast writes (Retry-After 0, polls from 50 ms), colour only on a
# terminal without NO_COLOR, and the progress line of a long operation on a TTY (under `script`).
# UPDATE_GOLDEN=1 rewrites the golden files (review the diff!).
#
# Environment: B (build directory, default build).
set -u
B=${B:-build}
ROOT=$(pwd)
CLI="$ROOT/$B/gpupool"
SERVER="$ROOT/$B/gpupoold"
GOLDEN="$ROOT/tests/cli/golden"
T=$(mktemp -d "${TMPDIR:-/tmp}/gpupool-cli-tests.XXXXXX")
PIDS=
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT INT TERM
unset GPUPOOL_TOKEN GPUPOOL_SUBSCRIPTION GPUPOOL_CACERT NO_COLOR 2>/dev/null || true
# saved defaults of the person running the tests must not leak in: an empty config dir of our own
export XDG_CONFIG_HOME="$T/config"

passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  echo "FAIL: $*"
  [ -s "$T/err" ] && sed 's/^/  stderr: /' "$T/err" | head -10
  [ -s "$T/out" ] && sed 's/^/  stdout: /' "$T/out" | head -10
}

# start_server NAME [ARGS]: a gpupoold on a free port; sets EP
start_server() {
  name=$1
  shift
  "$SERVER" --listen 127.0.0.1:0 --db "sqlite:$T/$name.db" "$@" >"$T/$name.addr" 2>"$T/$name.log" &
  PIDS="$PIDS $!"
  i=0
  while [ $i -lt 100 ]; do
    EP=$(sed -n 's/^gpupoold listening on //p' "$T/$name.addr" | head -1)
    [ -n "$EP" ] && return 0
    sleep 0.05
    i=$((i + 1))
  done
  echo "gpupoold did not start:"
  cat "$T/$name.log"
  exit 1
}

# g RC ARGS...: runs the CLI against $EP; stdout in $T/out, stderr in $T/err; checks the exit status
g() {
  want=$1
  shift
  GPUPOOL_ENDPOINT="$EP" "$CLI" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" = "$want" ]; then pass; else fail "gpupool $* -> exit $rc, expected $want"; fi
}
has() { if grep -q -- "$2" "$1"; then pass; else fail "$1 lacks '$2'"; fi; }
hasnt() { if grep -q -- "$2" "$1"; then fail "$1 has '$2'"; else pass; fi; }
# value of a top-level JSON string/number field of $T/out (the CLI's json output is pretty, one key a line)
val() { sed -n "s/^  \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$T/out" | head -1; }
eq() { if [ "$1" = "$2" ]; then pass; else fail "$3: '$1', expected '$2'"; fi; }

# Golden files: etags and times vary from run to run.
normalise() {
  sed -E -e 's/00000000-0000-0000-0000-000000000000/SUBSCRIPTION/g' \
    -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<uuid>/g' \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/<time>/g' -e 's/[0-9]+[smhd] ago$/<age>/' "$1"
}
golden() {
  normalise "$T/out" >"$T/norm"
  if [ "${UPDATE_GOLDEN:-}" = 1 ]; then cp "$T/norm" "$GOLDEN/$1"; fi
  if cmp -s "$T/norm" "$GOLDEN/$1"; then pass; else
    fail "output differs from golden $1"
    diff "$GOLDEN/$1" "$T/norm" | head -20
  fi
}

G="-g rg1 --cluster-name c1"

start_server main

echo "-- help and usage"
g 0 --help
has "$T/out" "nodepool"
g 2
g 2 bogus
for grp in cluster nodepool feature machine; do
  g 0 $grp --help
  has "$T/out" "Usage: gpupool $grp <command>"
  g 2 $grp
  g 2 $grp nosuch
  has "$T/err" "Try 'gpupool $grp --help'"
done
for c in "cluster create" "cluster update" "cluster show" "cluster list" "cluster delete" "nodepool add" \
         "nodepool update" "nodepool show" "nodepool list" "nodepool delete" "nodepool plan" "feature register" \
         "feature unregister" "feature show" "feature list" "validate" "plan" "vm-size list" "vm-size show" \
         "kubernetes-versions" "configure" "version" "completion bash" "machine list" "machine show" \
         "nodepool abort" "nodepool operation-abort"; do
  g 0 $c --help
  has "$T/out" "Usage: gpupool $c"
done
# every command of `gpupool --help` has a page in --help-all (what the man page is made of)
g 0 --help-all
cp "$T/out" "$T/help-all"
for grp in $(sed -n '/^Commands/,/^Global/s/^  \([a-z-]*\) .*/\1/p' "$T/help-all"); do
  has "$T/help-all" "^gpupool $grp.* \[options\]:$"
done
g 0 --version
eq "$(cat "$T/out")" "gpupool $(cat "$ROOT/VERSION")" "gpupool --version"
g 0 version -o tsv
eq "$(cut -f1,2 "$T/out")" "gpupool	$(cat "$ROOT/VERSION")" "gpupool version -o tsv"
g 0 version
has "$T/out" '"apiVersion": "2026-10-02-preview"'
g 0 version -o none
eq "$(wc -c <"$T/out" | tr -d ' ')" 0 "-o none prints nothing"
eq "$("$SERVER" --version)" "gpupoold $(cat "$ROOT/VERSION")" "gpupoold --version"
eq "$("$ROOT/$B/gpupool-agent" --version)" "gpupool-agent $(cat "$ROOT/VERSION")" "gpupool-agent --version"
# offline commands take -o and --help, not the server's options
g 2 validate -f "$ROOT/examples/pool-t4-unmanaged.json" --endpoint http://x
has "$T/err" "unknown option '--endpoint'"
g 2 vm-size show
has "$T/err" "--name is required"
g 0 nodepool add --help
has "$T/out" "alias --mig-profile"
has "$T/out" "alias --mig-strategy"
has "$T/out" "--output FORMAT"
g 2 nodepool add $G -n gpu1
has "$T/err" "--node-vm-size is required"
has "$T/err" "Try 'gpupool nodepool add --help'"
g 2 nodepool add -g rg1 -n gpu1 -s Standard_NC4as_T4_v3
has "$T/err" "--cluster-name is required"
g 2 nodepool add $G -n gpu1 -s Standard_NC4as_T4_v3 --gpu-mig-strategy sideways
has "$T/err" "Allowed values: None, Single, Mixed"
g 2 nodepool add $G -n gpu1 -s Standard_NC4as_T4_v3 --gpu-driver maybe
has "$T/err" "Allowed values: Install, None"
g 2 nodepool add $G -n gpu1 -s Standard_NC4as_T4_v3 --gpu-driver-mode fast
has "$T/err" "DevicePlugin, DRA"
g 2 nodepool add $G -n gpu1 -s Standard_NC4as_T4_v3 --mig-profiles MIG1g,MIG9g
has "$T/err" "MIG1g, MIG2g, MIG3g, MIG4g, MIG7g"
g 2 nodepool add $G -n gpu1 -s Standard_NC4as_T4_v3 --enable-managed-gpu=maybe
g 2 nodepool add $G -n gpu1 -s Standard_NC4as_T4_v3 -c many
has "$T/err" "whole number"
g 2 nodepool add $G -n gpu1 -s Standard_NC4as_T4_v3 --labels novalue
has "$T/err" "key=value"
g 2 nodepool add $G -n gpu1 -s Standard_NC4as_T4_v3 --frobnicate
has "$T/err" "unknown option '--frobnicate'"
# an option of another command of the group says which; on update, that the setting is fixed
g 2 nodepool update $G -n gpu1 --mig-profiles MIG7g
has "$T/err" "it is an option of 'gpupool nodepool add', a setting fixed when it is created"
g 2 nodepool show $G -n gpu1 --mig-profiles MIG7g
has "$T/err" "unknown option '--mig-profiles': it is an option of 'gpupool nodepool add'"
hasnt "$T/err" "fixed when"
g 2 nodepool show $G -n gpu1 -o xml
has "$T/err" "json, table, yaml, tsv, none"
g 2 nodepool update $G -n gpu1
has "$T/err" "nothing to update"
g 2 cluster update -g rg1 -n c1
g 2 feature show
has "$T/err" "--name is required"

echo "-- unreachable server"
GPUPOOL_ENDPOINT=http://127.0.0.1:9 "$CLI" cluster list >"$T/out" 2>"$T/err"
eq "$?" 1 "cluster list against a closed port"
has "$T/err" "cannot reach http://127.0.0.1:9"
has "$T/err" "Is gpupoold running at http://127.0.0.1:9?"
GPUPOOL_ENDPOINT=https://127.0.0.1:${EP##*:} "$CLI" cluster list >"$T/out" 2>"$T/err"
eq "$?" 1 "https to a plain http gpupoold"
has "$T/err" "does gpupoold serve https there?"

echo "-- TLS: what to do when the certificate is not trusted or the scheme is wrong"
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$T/tls.key" -out "$T/tls.pem" >/dev/null 2>&1; then
  MAIN_EP=$EP
  start_server tls --tls-cert "$T/tls.pem" --tls-key "$T/tls.key"
  g 1 cluster list
  has "$T/err" "pass the CA certificate (PEM) that signed it with --cacert FILE"
  g 0 cluster list --cacert "$T/tls.pem"
  g 1 cluster list --cacert "$T/nosuch.pem"
  has "$T/err" "or that file cannot be read"
  GPUPOOL_ENDPOINT="http://${EP#https://}" "$CLI" cluster list >"$T/out" 2>"$T/err"
  eq "$?" 1 "http to a TLS gpupoold"
  has "$T/err" "use an https:// endpoint"
  EP=$MAIN_EP
else
  fail "openssl cannot make a test certificate (package openssl)"
fi

echo "-- features"
g 0 feature list -o table
has "$T/out" "Microsoft.ContainerService/ManagedGPU "
has "$T/out" "NotRegistered"
g 0 feature show --name ManagedGPU
has "$T/out" '"state": "NotRegistered"'
g 1 feature register --name NoSuchFeature
has "$T/err" "^("
g 0 feature register --namespace Microsoft.ContainerService --name ManagedGPU -o table
golden feature-register.table
g 0 feature list -o tsv
has "$T/out" "Microsoft.ContainerService/ManagedGPUExperience"
g 0 feature show --name managedgpu -o table
has "$T/out" "Registered"

echo "-- clusters"
g 0 cluster create -g rg1 -n c1 -k 1.35 --node-vm-size Standard_D4s_v5 --node-count 2 --managed-gpu=false -o table
golden cluster-create.table
g 1 cluster create -g rg1 -n c1
has "$T/err" "(AlreadyExists) Managed cluster 'c1' in resource group 'rg1' already exists: nothing was changed."
has "$T/err" "gpupool cluster update -g rg1 -n c1"
has "$T/err" "gpupool cluster show -g rg1 -n c1"
hasnt "$T/err" "If-None-Match"
g 0 cluster show -g rg1 -n c1
eq "$(val provisioningState)" Succeeded "cluster provisioningState"
eq "$(val resourceGroup)" rg1 "cluster resourceGroup (az-style flattening)"
hasnt "$T/out" '"properties"'
has "$T/out" '"agentPoolProfiles"'
has "$T/out" '"managementMode": "Unmanaged"'
g 0 cluster show -g rg1 -n C1 -o yaml
has "$T/out" "^name: c1"
g 0 cluster create -g rg2 -n other --no-wait -l westeurope
eq "$(val provisioningState)" Creating "--no-wait returns the accepted resource"
g 0 cluster list -g rg1 -o table
has "$T/out" "^c1 "
hasnt "$T/out" "other"
g 0 cluster list -o tsv
has "$T/out" "other"
has "$T/out" "c1"
g 0 cluster update -g rg1 -n c1 -k 1.36 --managed-gpu -o json
eq "$(val currentKubernetesVersion)" 1.36.0 "cluster upgraded"
has "$T/out" '"managementMode": "Managed"'
g 1 cluster update -g rg1 -n c1 -k 1.34
has "$T/err" "(InvalidOrchestratorVersion)"
g 1 cluster show -g rg1 -n nosuch
has "$T/err" "(ResourceNotFound)"
has "$T/err" "gpupool cluster list -g rg1 shows the clusters there." # what to do, with a gpupool command
g 1 cluster update -g rg1 -n nosuch -k 1.36
has "$T/err" "(ResourceNotFound)"
g 1 nodepool list -g rg1 --cluster-name nosuch
has "$T/err" "("
has "$T/err" "Create it first: gpupool cluster create -g rg1 -n nosuch"
GPUPOOL_ENDPOINT="$EP" GPUPOOL_SUBSCRIPTION=11111111-2222-3333-4444-555555555555 "$CLI" cluster list -o tsv >"$T/out" 2>"$T/err"
eq "$?" 0 "cluster list in another subscription (GPUPOOL_SUBSCRIPTION)"
eq "$(wc -c <"$T/out" | tr -d ' ')" 0 "another subscription sees no clusters"
g 0 cluster list --subscription 11111111-2222-3333-4444-555555555555 -o json
has "$T/out" "^\[\]"
g 1 cluster list --subscription not-a-guid
has "$T/err" "(InvalidSubscriptionId)"

echo "-- node pools"
g 0 nodepool add $G -n gpu1 -s Standard_ND96isr_H100_v5 -c 2 -k 1.36 --os-type linux --os-sku Ubuntu --mode User \
  --gpu-driver install --enable-managed-gpu --mig-profile MIG1g --labels team=ml tier=gpu \
  --node-taints "sku=gpu:NoSchedule,dedicated=ml:NoExecute" --tags owner=alice cost=gpu -o table
golden nodepool-add.table
g 0 nodepool show $G -n gpu1 -o yaml
golden nodepool-show.yaml
g 0 nodepool show $G -n gpu1 -o tsv
golden nodepool-show.tsv
g 0 nodepool show $G -n gpu1
eq "$(val gpuInstanceProfile)" MIG1g "gpuInstanceProfile"
has "$T/out" '"currentMigStrategy": "Single"'
has "$T/out" '"owner": "alice"'
has "$T/out" '"dedicated=ml:NoExecute"'
g 0 nodepool plan $G -n gpu1 -o table
golden nodepool-plan.table
g 0 nodepool plan $G -n gpu1
has "$T/out" '"nvidia.com/gpu": 56'
g 0 nodepool plan $G -n gpu1 -o tsv
golden nodepool-plan.tsv
# the seed's spellings and the az ones, any case
g 0 nodepool add $G -n mixed -s Standard_NC24ads_A100_v4 --enable-managed-gpu=TRUE --mig-strategy MIXED \
  --mig-profiles mig3g,MIG2g,MIG1g,MIG1g --node-taints sku=gpu:NoSchedule
has "$T/out" '"migStrategy": "Mixed"'
# the plan's warnings come on add, on stderr, each once; a tainted pool gets no taint warning
eq "$(grep -c 'Warning: Enabling MIG mode needs a reboot' "$T/err")" 1 "MIG reboot warning on add, once"
hasnt "$T/err" "NoSchedule taint"
eq "$(val count)" 3 "nodepool add defaults to 3 nodes, as az"
g 0 nodepool plan $G -n mixed
has "$T/out" '"nvidia.com/mig-3g.40gb": 1'
g 0 nodepool plan $G -n mixed -o table
golden nodepool-plan-mixed.table
g 0 nodepool add $G -n dra -s Standard_NC80adis_H100_v5 --enable-managed-gpu --gpu-driver-mode dra
has "$T/out" '"driverMode": "DRA"'
has "$T/err" "Warning: GPU pool without a NoSchedule taint"
g 0 nodepool add $G -n unmgd -s Standard_NC4as_T4_v3 --enable-managed-gpu=false --gpu-driver Install -c 0 --no-wait
has "$T/out" '"managementMode": "Unmanaged"'
hasnt "$T/err" "Warning" # --no-wait: no plan yet, so nothing to say
g 0 nodepool add $G -n win -s Standard_NC4as_T4_v3 --os-type Windows --os-sku Windows2022 --mode user
has "$T/out" '"osType": "Windows"'
# a refused pool: the ARM error on stderr, exit 1, nothing stored
g 1 nodepool add $G -n bad -s Standard_NC4as_T4_v3 --gpu-driver None --enable-managed-gpu
has "$T/err" "(ManagedGPURequiresDriver)"
has "$T/err" "Target: properties.gpuProfile.driver"
g 1 nodepool show $G -n bad
has "$T/err" "(ResourceNotFound)"
has "$T/err" "gpupool nodepool list -g rg1 --cluster-name c1 shows its pools."
g 1 nodepool add $G -n bad2 -s Standard_NC4as_T4_v3 --mig-profile MIG1g --gpu-mig-strategy Mixed
has "$T/err" "MIGNotSupportedOnVMSize"
# a layout that cannot be placed: the error, then the picture of why (on stderr)
g 1 nodepool add $G -n bad3 -s Standard_NC24ads_A100_v4 --enable-managed-gpu --gpu-mig-strategy Mixed \
  --mig-profiles MIG3g,MIG3g,MIG1g
has "$T/err" "(InvalidMIGLayout)"
has "$T/err" "x MIG1g (1g.10gb) cannot be placed"
has "$T/err" "|3g.40gb                        |3g.40gb                        |"
g 1 nodepool add $G -n gpu1 -s Standard_NC4as_T4_v3
has "$T/err" "(AlreadyExists) Node pool 'gpu1' of managed cluster 'c1' already exists"
has "$T/err" "gpupool nodepool update -g rg1 --cluster-name c1 -n gpu1"
hasnt "$T/err" "If-None-Match"
g 0 nodepool list $G -o table
golden nodepool-list.table
g 0 nodepool list $G -o json
has "$T/out" '"name": "gpu1"'
has "$T/out" '"name": "nodepool1"'

echo "-- machines (the nodes of a pool, registered by their agents: here with curl, as an agent does)"
g 0 nodepool add $G -n mpool -s Standard_NC4as_T4_v3 -c 3
MP="$EP/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/mpool/machines"
# before any node registered: the header, and on stderr how a node registers
g 0 machine list $G --nodepool-name mpool -o table
has "$T/err" "No machine of this node pool has registered yet"
eq "$(wc -l <"$T/out" | tr -d ' ')" 2 "machine list -o table of no machines: the header and its rule"
report() { # report NAME BODY: a node agent's PUT; the HTTP status is checked
  code=$(curl -s -o "$T/put" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
    "$MP/$1?api-version=2026-10-02-preview" -d "$2")
  case "$code" in 200 | 201) pass ;; *) fail "PUT machine $1: HTTP $code $(head -c 300 "$T/put")" ;; esac
}
gpu() { printf '{"index":0,"uuid":"GPU-%s","model":"T4-16GB","health":"%s"}' "$1" "$2"; }
report node-1 "{\"properties\":{\"hardware\":{\"vmSize\":\"Standard_NC4as_T4_v3\"},\"kubernetes\":{\"ready\":true},\"status\":{\"appliedGeneration\":1,\"gpus\":[$(gpu a Healthy)]}}}"
report node-2 "{\"properties\":{\"hardware\":{\"vmSize\":\"Standard_NC4as_T4_v3\"},\"status\":{\"appliedGeneration\":1,\"gpus\":[$(gpu b Failed)]}}}"
report node-3 "{\"properties\":{\"hardware\":{\"vmSize\":\"Standard_NC24ads_A100_v4\"},\"status\":{\"appliedGeneration\":0,\"gpus\":[$(gpu c Healthy),{\"index\":1,\"health\":\"Degraded\"}]}}}"
report node-3 "{\"properties\":{\"hardware\":{\"vmSize\":\"Standard_NC24ads_A100_v4\"},\"status\":{\"appliedGeneration\":1,\"gpus\":[$(gpu c Healthy),{\"index\":1,\"health\":\"Degraded\"}]}}}"
g 0 machine list $G --nodepool-name mpool -o table
golden machine-list.table
g 0 machine show $G --nodepool-name mpool -n node-3 -o table
golden machine-show.table
g 0 machine show $G --nodepool-name mpool --machine-name NODE-1
eq "$(val name)" node-1 "machine names match case-insensitively"
eq "$(val resourceGroup)" rg1 "machine resourceGroup (az-style flattening)"
hasnt "$T/out" '"properties"'
has "$T/out" '"state": "Conformant"'
g 0 machine show $G --nodepool-name mpool -n node-2 -o yaml
has "$T/out" "state: Unhealthy"
has "$T/out" "health: Failed"
g 0 machine list $G --nodepool-name mpool -o tsv
eq "$(wc -l <"$T/out" | tr -d ' ')" 3 "machine list -o tsv: a line a machine"
has "$T/out" "^node-2	"
g 0 machine list $G --nodepool-name mpool -o json
has "$T/out" '"code": "vm-size"'
g 0 nodepool show $G -n mpool -o table
golden nodepool-show-nodes.table
g 1 machine show $G --nodepool-name mpool -n nosuch
has "$T/err" "(ResourceNotFound)"
g 1 machine list $G --nodepool-name nopool
has "$T/err" "(ParentResourceNotFound)"
g 1 machine show $G --nodepool-name mpool -n bad_name
has "$T/err" "(InvalidResourceName)"
g 2 machine list $G
has "$T/err" "--nodepool-name is required"
g 2 machine show $G --nodepool-name mpool
has "$T/err" "--name is required"
g 0 machine list -g rg1 --cluster-name c1 --nodepool-name gpu1 -o table
eq "$(wc -l <"$T/out" | tr -d ' ')" 2 "a pool without machines: the headers alone"

echo "-- update --dry-run: the what-if of the update, nothing written"
g 0 nodepool show $G -n mpool
etag=$(val eTag)
plan_etag() { curl -s -o /dev/null -D - "$EP/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/mpool/plan?api-version=2026-10-02-preview" | tr -d '\r' | sed -n 's/^ETag: //Ip'; }
pe=$(plan_etag)
# the store behind gpupoold's back: its files (SQLite's database and write-ahead log), byte for byte
store_sum() { cat "$T/main.db" "$T/main.db-wal" 2>/dev/null | cksum; }
store0=$(store_sum)
g 0 nodepool update $G -n mpool --labels team=ml --dry-run -o table
golden nodepool-update-dry-run.table
g 0 nodepool update $G -n mpool -c 5 --tags cost=ml --dry-run
eq "$(val class)" None "dry run of a count and a tag: class"
has "$T/out" '"planDiff": \[\]'
has "$T/out" '"None": 3'
eq "$(val toGeneration)" 1 "dry run of a count and a tag: no new generation"
g 0 nodepool update $G -n mpool --enable-managed-gpu=false --dry-run
eq "$(val class)" Restart "dry run of Managed -> Unmanaged: class"
has "$T/out" '"Restart": 3'
g 0 nodepool update $G -n mpool --gpu-driver-mode DRA --enable-managed-gpu --dry-run -o tsv
has "$T/out" "^components\[nvidia-dra-driver\]	"
g 1 nodepool update $G -n mpool --enable-managed-gpu=false --gpu-mig-strategy Mixed --dry-run
has "$T/err" "(MIGStrategyRequiresManagedGPU)"
eq "$(wc -c <"$T/out" | tr -d ' ')" 0 "a refused dry run prints nothing on stdout"
g 1 nodepool update $G -n nosuch -c 1 --dry-run
has "$T/err" "(ResourceNotFound)"
g 2 nodepool update $G -n mpool --dry-run
has "$T/err" "nothing to update"
g 0 nodepool show $G -n mpool
eq "$(val eTag)" "$etag" "dry runs leave the pool's ETag"
eq "$(val count)" 3 "dry runs leave the count"
eq "$(val provisioningState)" Succeeded "dry runs start no operation"
hasnt "$T/out" '"team"'
eq "$(plan_etag)" "$pe" "dry runs leave the plan's generation"
eq "$(store_sum)" "$store0" "dry runs write nothing to the store (its files unchanged)"
g 0 nodepool update $G -n mpool --labels team=ml -o none --no-wait
if [ "$(store_sum)" != "$store0" ]; then pass; else fail "the same update without --dry-run left the store's files as they were: the comparison sees no writes"; fi

echo "-- updates"
g 0 nodepool update $G -n gpu1 -c 3 --gpu-mig-strategy mixed --labels team=infra --tags owner=bob -k 1.36.0
eq "$(val count)" 3 "count after update"
has "$T/out" '"migStrategy": "Mixed"'
has "$T/out" '"team": "infra"'
has "$T/out" '"orchestratorVersion": "1.36.0"'
has "$T/out" '"gpuInstanceProfile": "MIG1g"'
# a pool may not run a newer Kubernetes than its cluster (1.36)
g 1 nodepool update $G -n gpu1 -k 1.37
has "$T/err" "(InvalidOrchestratorVersion)"
g 0 nodepool plan $G -n gpu1
has "$T/out" '"nvidia.com/mig-1g.10gb": 56'
# Unmanaged with a declared Mixed strategy is refused; together with strategy None it is fine
g 1 nodepool update $G -n gpu1 --enable-managed-gpu=false
has "$T/err" "(MIGStrategyRequiresManagedGPU)"
g 0 nodepool update $G -n gpu1 --enable-managed-gpu=false --gpu-mig-strategy None
has "$T/out" '"managementMode": "Unmanaged"'
has "$T/err" "Warning: MIG instances are created but no managed device plugin advertises them"
g 1 nodepool update $G -n gpu1 --enable-managed-gpu=false --gpu-mig-strategy Single
has "$T/err" "(MIGStrategyRequiresManagedGPU)"
g 0 nodepool update $G -n gpu1 --enable-managed-gpu --gpu-driver-mode DevicePlugin --mode User --os-sku Ubuntu \
  --node-taints sku=gpu:NoSchedule --no-wait
eq "$(val provisioningState)" Updating "update --no-wait"
g 1 nodepool update $G -n nosuch -c 1
has "$T/err" "(ResourceNotFound)"

echo "-- rollout settings (upgradeSettings, AKS's names)"
g 0 nodepool add $G -n roll -s Standard_NC4as_T4_v3 -c 2 --max-unavailable 25% --drain-timeout 5 -o json
has "$T/out" '"maxUnavailable": "25%"'
has "$T/out" '"drainTimeoutInMinutes": 5'
g 0 nodepool update $G -n roll --node-soak-duration 2 -o json
has "$T/out" '"nodeSoakDurationInMinutes": 2'
has "$T/out" '"maxUnavailable": "25%"' # the members not given keep their value
has "$T/out" '"drainTimeoutInMinutes": 5'
g 0 nodepool update $G -n roll --labels x=y -o json # an update that says nothing about rollouts keeps them
has "$T/out" '"maxUnavailable": "25%"'
has "$T/out" '"nodeSoakDurationInMinutes": 2'
g 2 nodepool update $G -n roll --drain-timeout soon
has "$T/err" "--drain-timeout takes a whole number of minutes, not 'soon'"
g 2 nodepool add $G -n roll2 -s Standard_NC4as_T4_v3 --node-soak-duration 1.5
has "$T/err" "--node-soak-duration takes a whole number of minutes"
g 1 nodepool update $G -n roll --max-unavailable 0
has "$T/err" "(InvalidParameter)"
has "$T/err" "Target: properties.upgradeSettings.maxUnavailable"
g 0 nodepool update --help
has "$T/out" "--max-unavailable N|N%"
has "$T/out" "Running the same update again resumes it"

echo "-- a rollout: abort, resume, halt (two machines reporting with curl, as agents do)"
g 1 nodepool abort $G -n roll
has "$T/err" "(OperationNotAllowed)"
has "$T/err" "Nothing to abort: node pool 'roll' has no rollout in progress (rollout state: Idle)"
g 0 nodepool add $G -n ro -s Standard_NC4as_T4_v3 -c 2 -o none
RO="$EP/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/ro"
ro_report() { # ro_report NAME GPU-HEALTH GENERATION: a node that applied GENERATION, healthy or with a failed GPU
  code=$(curl -s -o "$T/put" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
    "$RO/machines/$1?api-version=2026-10-02-preview" -d "{\"properties\":{\"hardware\":{\"vmSize\":\"Standard_NC4as_T4_v3\"},\"kubernetes\":{\"ready\":true,\"unschedulable\":false},\"status\":{\"appliedGeneration\":$3,\"gpus\":[$(gpu "$1" "$2")],\"health\":{\"state\":\"$2\"}}}}")
  case "$code" in 200 | 201) pass ;; *) fail "PUT machine $1: HTTP $code $(head -c 300 "$T/put")" ;; esac
}
ro_report ro-1 Healthy 1
ro_report ro-2 Healthy 1
ro_state() { GPUPOOL_ENDPOINT="$EP" "$CLI" nodepool show $G -n ro -o yaml | sed -n 's/^    state: //p'; }
g 0 nodepool update $G -n ro --enable-managed-gpu=false --no-wait -o none # Restart: one machine at a time
eq "$(ro_state)" Progressing "a rollout in progress"
g 0 nodepool abort $G -n ro -o table
has "$T/out" "^Aborted  *1  *2  *Restart "
g 1 nodepool abort $G -n ro
has "$T/err" "rollout state: Aborted"
g 0 nodepool update $G -n ro --enable-managed-gpu=false --no-wait -o none # the same update: resumes
eq "$(ro_state)" Progressing "an unchanged update resumes the rollout"
ro_report ro-1 Healthy 2 # the first machine applied it: the next one moves
ro_target() { GPUPOOL_ENDPOINT="$EP" "$CLI" machine show $G --nodepool-name ro -n "$1" -o yaml | sed -n 's/^  targetGeneration: //p'; }
i=0
while [ "$(ro_target ro-2)" != 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
eq "$(ro_target ro-2)" 2 "the second machine moves once the first is Conformant"
ro_report ro-2 Failed 1 # and its GPU fails in its step: the rollout halts
i=0
while [ "$(ro_state)" != Halted ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
g 0 nodepool show $G -n ro -o table
golden nodepool-show-halted.table

echo "-- debug and token"
g 0 nodepool show $G -n gpu1 --debug --token s3cret
has "$T/err" "> GET http"
has "$T/err" "< HTTP/1.1 200"
has "$T/err" "Authorization: Bearer \*\*\*"
hasnt "$T/err" "s3cret"
GPUPOOL_ENDPOINT="$EP" GPUPOOL_TOKEN=envtoken "$CLI" nodepool show $G -n gpu1 --debug >"$T/out" 2>"$T/err"
has "$T/err" "Authorization: Bearer"
hasnt "$T/err" "envtoken"

echo "-- legacy tag: the Warning header and the plan say the same thing once"
g 0 feature register -n ManagedGPUExperience
g 0 cluster create -g rg3 -n legacy -o none # no cluster default: the tag decides
g 0 nodepool add -g rg3 --cluster-name legacy -n legacy -s Standard_NC4as_T4_v3 --tags EnableManagedGPUExperience=true \
  --node-taints sku=gpu:NoSchedule
eq "$(grep -c 'EnableManagedGPUExperience=true is deprecated' "$T/err")" 1 "deprecation warning once"
g 0 feature unregister -n ManagedGPUExperience

echo "-- fast writes: Retry-After says when the operation is due, the CLI polls from 50 ms"
g 0 nodepool update $G -n unmgd -c 1 --debug
has "$T/err" "< Retry-After: 0"
best=999999
for i in 1 2 3; do
  t0=$(date +%s%N)
  g 0 nodepool update $G -n unmgd -c $i -o none
  t1=$(date +%s%N)
  ms=$(((t1 - t0) / 1000000))
  [ "$ms" -lt "$best" ] && best=$ms
done
# the old CLI slept the server's 1 s before its first poll: any write took over 1000 ms
if [ "$best" -lt 1000 ]; then pass; else fail "a write took $best ms at best (should end in well under 1 s)"; fi

echo "-- -o none, MigProfile column"
g 0 cluster show -g rg1 -n c1 -o none
eq "$(wc -c <"$T/out" | tr -d ' ')" 0 "cluster show -o none"
g 1 cluster show -g rg1 -n nosuch -o none
has "$T/err" "(ResourceNotFound)"
g 0 nodepool show $G -n mixed -o table
has "$T/out" "MIG3g,MIG2g,MIG1g,MIG1g"

echo "-- offline: validate and plan in every format"
X="$ROOT/examples"
g 0 validate -f "$X/pool-t4-unmanaged.json" --feature ManagedGPU -o table
golden validate.table
g 0 validate -f "$X/pool-t4-unmanaged.json" --feature ManagedGPU -o none
eq "$(wc -c <"$T/out" | tr -d ' ')" 0 "validate -o none"
g 0 plan -f "$X/pool-a100-mixed-mig.json" --feature ManagedGPU -o table
golden plan-a100-mixed.table
g 0 plan -f "$X/pool-a100-mixed-mig.json" --feature ManagedGPU -o tsv
golden plan-a100-mixed.tsv
g 0 plan -f "$X/pool-a100-mixed-mig.json" --feature ManagedGPU -o yaml
has "$T/out" "^migLayout:"
g 0 plan -f "$X/pool-h100-mig1g-managed.json" --feature ManagedGPU --feature ManagedGPUExperience --phase ga \
  --ga-kubernetes-version 1.35 --api-version 2026-10-02-preview -o table
has "$T/out" "MIG layout of each of the 8 H100-80GB GPUs"
cat >"$T/bad-layout.json" <<'JSON'
{"properties": {"vmSize": "Standard_NC24ads_A100_v4", "gpuProfile": {"nvidia": {"managementMode": "Managed",
 "migStrategy": "Mixed", "migProfiles": ["MIG3g", "MIG3g", "MIG1g"]}}}}
JSON
g 1 plan -f "$T/bad-layout.json" --feature ManagedGPU
has "$T/out" '"code": "InvalidMIGLayout"' # json: the error body on stdout, as before
hasnt "$T/err" "cannot be placed"
g 1 plan -f "$T/bad-layout.json" --feature ManagedGPU -o table
eq "$(wc -c <"$T/out" | tr -d ' ')" 0 "a refusal in a table prints nothing on stdout"
cp "$T/err" "$T/out"
golden plan-refused-layout.txt
g 1 validate -f "$T/bad-layout.json" --feature ManagedGPU -o yaml
has "$T/out" "code: InvalidMIGLayout"

# plan --diff: what an update does to a node (the disruption class), in JSON and as a table
sed 's/"Unmanaged"/"Managed"/' "$X/pool-t4-unmanaged.json" >"$T/t4-managed.json"
g 0 plan -f "$T/t4-managed.json" --existing "$X/pool-t4-unmanaged.json" --feature ManagedGPU --diff -o table
golden plan-diff.table
g 0 plan -f "$T/t4-managed.json" --existing "$X/pool-t4-unmanaged.json" --feature ManagedGPU --diff
eq "$(val class)" Restart "plan --diff: class"
g 0 plan -f "$X/pool-t4-unmanaged.json" --existing "$X/pool-t4-unmanaged.json" --feature ManagedGPU --diff -o table
has "$T/out" "No change: the plan says what it said."
g 1 plan -f "$T/bad-layout.json" --existing "$X/pool-a100-mixed-mig.json" --feature ManagedGPU --diff
has "$T/out" '"code": "PropertyChangeNotAllowed"' # a refused update: its error, no diff
g 2 validate -f "$X/pool-t4-unmanaged.json" --diff
has "$T/err" "diff"
# preview fields without --feature: the error is gpupoold's ('gpupool feature register'), and the
# offline fix, the --feature flag, is said on stderr in every format
g 1 validate -f "$X/pool-h100-mig1g-managed.json"
has "$T/out" '"code": "PreviewFeatureNotRegistered"'
has "$T/err" "offline, a registered feature is a flag: add --feature ManagedGPU"
g 1 plan -f "$X/pool-h100-mig1g-managed.json" -o table
has "$T/err" "add --feature ManagedGPU"
g 1 plan -f "$X/pool-a100-mixed-mig.json" -o table --feature ManagedGPU --existing "$T/bad-layout.json"
hasnt "$T/err" "add --feature"

echo "-- vm-size and kubernetes-versions (the catalog)"
g 0 vm-size list -o table
golden vm-size-list.table
has "$T/out" "Standard_ND96isr_H100_v5"
g 0 vm-size list
eq "$(grep -c '"name"' "$T/out")" "$(grep -c '^Standard_' "$ROOT/data/gpu-vm-sizes.csv")" "every size of the catalog"
g 0 vm-size show -n standard_nc24ads_a100_v4 -o table
golden vm-size-show-a100.table
g 0 vm-size show -n Standard_NC24ads_A100_v4
eq "$(grep -c '"full"' "$T/out")" 37 "37 valid layouts of one GPU (the placement search's answer)"
has "$T/out" '"resource": "nvidia.com/mig-1g.10gb"'
g 0 vm-size show -n Standard_ND96isr_H200_v5 --mig-profiles MIG3g,MIG2g,MIG1g,MIG1g -o table
golden vm-size-layout-h200.table
g 1 vm-size show -n Standard_NC24ads_A100_v4 --mig-profiles mig3g,mig3g,mig1g -o table
golden vm-size-layout-refused.table
g 1 vm-size show -n Standard_NC24ads_A100_v4 --mig-profiles MIG3g,MIG3g,MIG1g
has "$T/out" '"valid": false'
has "$T/out" '"leftOut": \['
g 0 vm-size show -n Standard_NC4as_T4_v3 -o table
has "$T/out" "No MIG"
g 1 vm-size show -n Standard_NC4as_T4_v3 --mig-profiles MIG1g
has "$T/err" "(MIGNotSupportedOnVMSize)"
g 1 vm-size show -n Standard_NC4as_T4_v99
has "$T/err" "(VMSizeNotInGPUCatalog)"
has "$T/err" "Did you mean Standard_NC4as_T4_v3?"
g 2 vm-size show -n Standard_NC24ads_A100_v4 --mig-profiles MIG9g
has "$T/err" "MIG1g, MIG2g, MIG3g, MIG4g, MIG7g"
g 0 kubernetes-versions -o table
golden kubernetes-versions.table
g 0 kubernetes-versions
has "$T/out" '"kubernetesVersion": "1.36"'

echo "-- colour: only on a terminal, never with NO_COLOR"
if command -v script >/dev/null 2>&1; then
  script -qec "$CLI plan -f $X/pool-a100-mixed-mig.json --feature ManagedGPU -o table" /dev/null >"$T/tty" 2>&1
  if grep -q "$(printf '\033')\[33m3g.40gb" "$T/tty"; then pass; else fail "no colour on a terminal"; fi
  NO_COLOR=1 script -qec "$CLI plan -f $X/pool-a100-mixed-mig.json --feature ManagedGPU -o table" /dev/null \
    >"$T/tty" 2>&1
  if grep -q "$(printf '\033')" "$T/tty"; then fail "colour with NO_COLOR"; else pass; fi
  has "$T/tty" "|3g.40gb"
fi
g 0 plan -f "$X/pool-a100-mixed-mig.json" --feature ManagedGPU -o table
if grep -q "$(printf '\033')" "$T/out"; then fail "colour in a pipe"; else pass; fi

echo "-- configure: saved defaults"
g 0 configure --list-defaults
eq "$(cat "$T/out")" "[]" "no defaults at first"
g 2 configure
g 2 configure --defaults colour=blue
has "$T/err" "KEY one of group, cluster"
g 2 configure --defaults output=xml
g 0 configure --defaults group=rg1 cluster=c1
if [ -f "$XDG_CONFIG_HOME/gpupool/config.json" ]; then pass; else fail "no $XDG_CONFIG_HOME/gpupool/config.json"; fi
g 0 configure --list-defaults -o table
has "$T/out" "^group    rg1 "
has "$T/out" "^cluster  c1 "
g 0 nodepool show -n mixed -o tsv
has "$T/out" "mixed"
g 0 nodepool list
has "$T/out" '"name": "mixed"'
g 1 nodepool show -n mixed --cluster-name nosuch # a flag wins over the saved default
has "$T/err" "("
g 0 configure --defaults output=table
g 0 nodepool show -n mixed
has "$T/out" "^Name "
g 0 configure --defaults output= cluster=
g 2 nodepool show -n mixed
has "$T/err" "--cluster-name is required (or save a default: gpupool configure --defaults cluster=...)"
# without XDG_CONFIG_HOME the file is under ~/.config
mkdir -p "$T/home"
HOME="$T/home" XDG_CONFIG_HOME= GPUPOOL_ENDPOINT="$EP" "$CLI" configure --defaults group=fromhome >"$T/out" 2>"$T/err"
eq "$?" 0 "configure with HOME"
if [ -f "$T/home/.config/gpupool/config.json" ]; then pass; else fail "no ~/.config/gpupool/config.json"; fi
echo '{"defaults": ' >"$XDG_CONFIG_HOME/gpupool/config.json" # a broken file is reported, not fatal
g 0 cluster list -g rg1 -o none
has "$T/err" "ignoring $XDG_CONFIG_HOME/gpupool/config.json"
rm -f "$XDG_CONFIG_HOME/gpupool/config.json"

echo "-- bash completion from the command table"
g 0 completion bash
cp "$T/out" "$T/completion.bash"
# complete WORDS...: what bash would offer for the last word
complete_words() {
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _gpupool; echo "${COMPREPLY[*]}"' \
    sh "$T/completion.bash" "$@"
}
eq "$(complete_words gpupool nodepool a)" "add abort" "completion: nodepool a"
eq "$(complete_words gpupool v)" "vm-size validate version" "completion: top-level v"
eq "$(complete_words gpupool nodepool add --gpu-mig-s)" "--gpu-mig-strategy" "completion: an option"
eq "$(complete_words gpupool nodepool add --gpu-mig-strategy '')" "None Single Mixed" "completion: enum values"
eq "$(complete_words gpupool nodepool add -s Standard_ND96isr_H)" "Standard_ND96isr_H100_v5 Standard_ND96isr_H200_v5" \
  "completion: VM sizes from the catalog"
eq "$(complete_words gpupool cluster show -o y)" "yaml" "completion: output formats"
eq "$(complete_words gpupool cluster delete --y)" "--yes" "completion: --yes on deletes"
eq "$(complete_words gpupool validate --endp)" "" "completion: offline commands take no --endpoint"
# every command of the table has its options there
for grp in $(sed -n '/^Commands/,/^Global/s/^  \([a-z-]*\) .*/\1/p' "$T/help-all"); do
  if grep -q "^    $grp" "$T/completion.bash"; then pass; else fail "completion lacks the group $grp"; fi
done

echo "-- deletes: --yes, or a y/N prompt on a terminal"
g 2 nodepool delete $G -n dra
has "$T/err" "will not delete node pool 'dra' of managed cluster 'c1' in resource group 'rg1' without confirmation"
has "$T/err" "Add --yes (-y)"
g 0 nodepool show $G -n dra
g 0 nodepool delete $G -n dra --yes
eq "$(wc -c <"$T/out" | tr -d ' ')" 0 "delete prints nothing"
g 1 nodepool show $G -n dra
has "$T/err" "(ResourceNotFound)"
g 0 nodepool delete $G -n dra -y
g 0 nodepool delete $G -n win --no-wait -y
g 2 cluster delete -g rg2 -n other
has "$T/err" "and all its node pools"
g 0 cluster show -g rg2 -n other
if command -v script >/dev/null 2>&1; then
  # under script(1) stdin is a terminal: the prompt, then the answer decides
  printf 'n\n' | GPUPOOL_ENDPOINT="$EP" script -qec "$CLI cluster delete -g rg2 -n other" /dev/null >"$T/tty" 2>&1
  has "$T/tty" "Are you sure you want to perform this operation? (y/N)"
  has "$T/tty" "Cancelled: nothing was changed."
  g 0 cluster show -g rg2 -n other
  printf 'y\n' | GPUPOOL_ENDPOINT="$EP" script -qec "$CLI cluster delete -g rg2 -n other" /dev/null >"$T/tty" 2>&1
  has "$T/tty" "This will delete managed cluster 'other' in resource group 'rg2' and all its node pools."
else
  fail "script(1) is not installed (package bsdutils)"
fi
g 1 cluster show -g rg2 -n other

echo "-- progress line: on a terminal, not in a pipe"
start_server slow --operation-delay-ms 1500
G2="-g rg9 --cluster-name slow"
g 0 cluster create -g rg9 -n slow
if command -v script >/dev/null 2>&1; then
  # under script(1) stderr is a terminal
  GPUPOOL_ENDPOINT="$EP" script -qec "$CLI nodepool add $G2 -n tty -s Standard_NC4as_T4_v3 -o tsv" /dev/null >"$T/tty" 2>&1
  has "$T/tty" "Running"
  has "$T/tty" "tty"
else
  fail "script(1) is not installed (package bsdutils)"
fi
GPUPOOL_ENDPOINT="$EP" "$CLI" nodepool add $G2 -n pipe -s Standard_NC4as_T4_v3 -o tsv >"$T/out" 2>"$T/err"
eq "$?" 0 "add through a pipe"
hasnt "$T/err" "Running"
has "$T/out" "pipe"

echo "cli: $passed checks passed, $failed failed"
[ "$failed" = 0 ]
