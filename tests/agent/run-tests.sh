#!/bin/sh
# run-tests.sh - the gpupool-agent suite (`make test-agent`, part of `make test` and `make asan`).
#
# No GPU needed: the agent loads the fake NVML (tests/agent/fake_nvml.c) through
# GPUPOOL_NVML_LIBRARY, and the fake answers from a GPU description (tests/agent/gpus/*.json, or the
# real H100 capture tests/fixtures/nvidia-h100-80gb-hbm3/nvml.json). Plans come from the core
# (`gpupool plan` on tests/agent/pools/*.json). Outputs are compared with tests/agent/golden/ byte
# for byte; `UPDATE_GOLDEN=1 make test-agent` rewrites the golden files (review the diff!).
#
# Environment: B (build directory, default build), SAN=1 under `make asan`.
set -u
B=${B:-build}
ROOT=$(pwd)
AGENT="$ROOT/$B/gpupool-agent"
GPUPOOL="$ROOT/$B/gpupool"
TT="$ROOT/$B/tests/agent/agent-testtool"
PLANSERVER="$ROOT/$B/tests/agent/planserver"
FAKE="$ROOT/$B/tests/agent/libfake-nvml.so"
HERE="$ROOT/tests/agent"
GOLDEN="$HERE/golden"
FIX="$ROOT/tests/fixtures/nvidia-h100-80gb-hbm3"
GPUS="$HERE/gpus"
T=$(mktemp -d "${TMPDIR:-/tmp}/gpupool-agent-tests.XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$T"
}
trap cleanup EXIT INT TERM

export GPUPOOL_NVML_LIBRARY="$FAKE"
unset GPUPOOL_TOKEN GPUPOOL_FAKE_NVML 2>/dev/null || true

passed=0
failed=0
RUNDIR=.
pass() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  echo "FAIL: $*"
  if [ -s "$T/err" ]; then sed 's/^/  stderr: /' "$T/err" | head -20; fi
}

# run GPUS RC ARGS...: the agent (in directory $RUNDIR) with the fake NVML describing GPUS (a file name under tests/agent/gpus,
# "h100" for the real capture, or "-" for no NVML library at all); stdout in $T/out, stderr in
# $T/err; checks the exit status.
run() {
  gpus=$1
  want=$2
  shift 2
  case "$gpus" in
    h100) desc="$FIX/nvml.json" ;;
    -) desc= ;;
    *) desc="$GPUS/$gpus" ;;
  esac
  if [ "$gpus" = - ]; then
    (cd "$RUNDIR" && GPUPOOL_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1 exec "$AGENT" "$@") >"$T/out" 2>"$T/err"
  else
    (cd "$RUNDIR" && GPUPOOL_FAKE_NVML="$desc" exec "$AGENT" "$@") >"$T/out" 2>"$T/err"
  fi
  got=$?
  if [ "$got" != "$want" ]; then
    fail "gpupool-agent $* [gpus $gpus]: exit $got, want $want"
    return 1
  fi
  pass
  return 0
}

# has FILE TEXT: the file contains the text (fixed string).
has() {
  if grep -qF -- "$2" "$1"; then pass; else fail "$(basename "$1") lacks: $2"; fi
}
hasnt() {
  if grep -qF -- "$2" "$1"; then fail "$(basename "$1") has: $2"; else pass; fi
}

# golden NAME FILE: FILE equals tests/agent/golden/NAME byte for byte.
golden() {
  g="$GOLDEN/$1"
  if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
    mkdir -p "$(dirname "$g")"
    cp "$2" "$g"
  fi
  if [ ! -f "$g" ]; then
    fail "golden $1 missing (UPDATE_GOLDEN=1 creates it)"
  elif cmp -s "$g" "$2"; then
    pass
  else
    fail "golden $1 differs:"
    diff -u "$g" "$2" | head -40
  fi
}

# golden_dir NAME DIR: the tree equals tests/agent/golden/NAME (same files, same bytes).
golden_dir() {
  g="$GOLDEN/$1"
  if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
    rm -rf "$g"
    mkdir -p "$(dirname "$g")"
    cp -R "$2" "$g"
  fi
  if [ ! -d "$g" ]; then
    fail "golden tree $1 missing (UPDATE_GOLDEN=1 creates it)"
  elif diff -r "$g" "$2" >"$T/diff" 2>&1; then
    pass
  else
    fail "golden tree $1 differs:"
    head -40 "$T/diff"
  fi
}

# eq A B WHAT
eq() {
  if [ "$1" = "$2" ]; then pass; else fail "$3: got '$1', want '$2'"; fi
}

# val FILE PATH: a value of a JSON file (agent-testtool get)
val() { "$TT" get "$1" "$2" 2>/dev/null || echo "<absent>"; }

# ---- plans made by the core ---------------------------------------------------------------------
mkdir -p "$T/plans"
for pool in "$HERE"/pools/*.json; do
  name=$(basename "$pool" .json)
  if "$GPUPOOL" plan -f "$pool" --feature ManagedGPU >"$T/plans/$name.json" 2>"$T/err"; then
    pass
  else
    fail "gpupool plan -f $pool refused (the pools under tests/agent/pools must be valid)"
  fi
done
P="$T/plans"

# ---- command line -------------------------------------------------------------------------------
echo "-- command line"
run - 2
run - 0 --help
has "$T/out" "Usage: gpupool-agent <command>"
run - 2 frobnicate
has "$T/err" "unknown command 'frobnicate'"
for cmd in discover check render apply fetch diff; do
  run - 0 "$cmd" --help
  has "$T/out" "Usage: gpupool-agent $cmd"
done
run - 2 check
has "$T/err" "--plan is required"
run - 2 check --plan
has "$T/err" "needs a value"
run - 2 check --plan "$P/cpu-d4s.json" -o xml
has "$T/err" "-o must be text or json"
run - 2 discover --bogus
run - 2 render --plan "$P/cpu-d4s.json"
run - 2 render --plan "$P/cpu-d4s.json" --out "$T/x" --pool gpu
has "$T/err" "--pool goes with --kubernetes"
run - 2 apply --root "$T/x"
run - 2 fetch --endpoint http://127.0.0.1:9
run - 2 fetch --endpoint ftp://example --pool /subscriptions/x/resourceGroups/r/providers/Microsoft.ContainerService/managedClusters/c/agentPools/p
run - 2 fetch --endpoint http://127.0.0.1:9 --pool 'not a resource id'

# ---- discover through the fake NVML --------------------------------------------------------------
echo "-- discover (NVML)"
run h100 0 discover
golden discover/h100.json "$T/out"
cp "$T/out" "$T/h100-nvml.json"
eq "$(val "$T/out" 'gpus|0|model')" H100-80GB "H100 catalog model"
eq "$(val "$T/out" 'gpus|0|memoryMiB')" 81559 "H100 memory MiB"
eq "$(val "$T/out" 'gpus|0|pciDeviceId')" 0x233010DE "H100 PCI device id"
eq "$(val "$T/out" 'gpus|0|migMode|current')" Disabled "H100 MIG mode"
eq "$(val "$T/out" 'cudaVersion')" 13.0 "CUDA version from 13000"
for g in a100-mig-1g a100-mig-3x2g a100-mig-mixed a100-mig-pending t4x4; do
  run "$g.json" 0 discover
  golden "discover/$g.json" "$T/out"
done
run a100-mig-1g.json 0 discover
eq "$(val "$T/out" 'gpus|0|migInstances|0|start')" 0 "instances sorted by placement (first)"
eq "$(val "$T/out" 'gpus|0|migInstances|6|start')" 6 "instances sorted by placement (last)"
eq "$(val "$T/out" 'gpus|0|migInstances|3|profile')" 1g.10gb "profile name from NVML (MIG prefix dropped)"
cp "$T/out" "$T/a100-v2.json"
# A driver that refuses the v2 profile struct: names come from the catalog, same inventory.
run a100-mig-1g-v1only.json 0 discover
if "$TT" jsoneq "$T/a100-v2.json" "$T/out" 2>"$T/err"; then pass; else fail "v1 fallback gives another inventory"; fi
run t4x4.json 0 discover
eq "$(val "$T/out" 'gpus|3|migCapable')" false "T4 is not MIG-capable"
eq "$(val "$T/out" 'gpus|3|migMode|current')" null "T4 MIG mode is null"
eq "$(val "$T/out" 'gpuCount')" 4 "4 x T4"

echo "-- discover: no GPU, no driver, NVML errors"
run no-gpu.json 1 discover
has "$T/err" "no NVIDIA GPU found"
run - 1 discover
has "$T/err" "no NVIDIA driver on this node (cannot load /nonexistent/libnvidia-ml.so.1"
run driver-not-loaded.json 1 discover
has "$T/err" "no NVIDIA driver on this node (nvmlInit_v2: Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED)"
run init-fails.json 1 discover
has "$T/err" "NVML: nvmlInit_v2 failed: RM has detected an NVML/RM version mismatch (NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18)"
run t4x2-gpu-lost.json 1 discover
has "$T/err" "NVML: nvmlDeviceGetUUID failed for GPU 1: GPU is lost (NVML_ERROR_GPU_IS_LOST = 15)"
# A library that is not NVML at all (no nvmlInit_v2): a clear message, no crash.
GPUPOOL_NVML_LIBRARY="$(ldconfig -p 2>/dev/null | awk '/libz\.so\.1 /{print $NF; exit}')"
[ -n "$GPUPOOL_NVML_LIBRARY" ] || GPUPOOL_NVML_LIBRARY=libz.so.1
export GPUPOOL_NVML_LIBRARY
run h100 1 discover
has "$T/err" "has no function nvmlInit_v2"
GPUPOOL_NVML_LIBRARY="$FAKE"
export GPUPOOL_NVML_LIBRARY

# ---- discover --from-xml -------------------------------------------------------------------------
echo "-- discover --from-xml"
run - 0 discover --from-xml "$FIX/nvidia-smi-q.xml"
golden discover/h100-xml.json "$T/out"
# The real capture: nvidia-smi's XML and NVML (the fake built from the capture) give the same inventory.
if "$TT" jsoneq "$T/h100-nvml.json" "$T/out" --ignore source 2>"$T/err"; then pass; else
  fail "discover --from-xml differs from discover through NVML on the H100 capture"
fi
eq "$(val "$T/out" source)" nvidia-smi-xml "XML source"
run - 0 discover --from-xml "$HERE/xml/a100-mig-1g.xml"
golden discover/a100-mig-1g-xml.json "$T/out"
eq "$(val "$T/out" 'gpus|0|migInstances|6|profile')" 1g.10gb "profile inferred from MIG device memory"
eq "$(val "$T/out" 'gpus|0|migInstances|6|profileId')" 19 "profile id from the catalog"
eq "$(val "$T/out" 'gpus|0|migInstances|6|start')" null "XML has no placement"
eq "$(val "$T/out" 'gpus|0|migInstances|7|profile')" "<absent>" "two compute instances of one GPU instance count once"
run - 0 discover --from-xml "$HERE/xml/a100-3g-4g.xml"
eq "$(val "$T/out" 'gpus|0|migInstances|0|profile')" null "3g.40gb and 4g.40gb cannot be told apart from XML"
eq "$(val "$T/out" 'gpus|0|migInstances|0|profileCandidates')" "3g.40gb,4g.40gb" "ambiguous profile candidates"
run - 0 discover --from-xml "$HERE/xml/t4x2.xml"
eq "$(val "$T/out" 'gpus|1|model')" T4-16GB "T4 from XML"
eq "$(val "$T/out" 'gpus|1|migCapable')" false "N/A MIG mode means not MIG-capable"
run - 0 discover --from-xml "$HERE/xml/external-entity.xml"
eq "$(val "$T/out" 'gpus|0|name')" "NVIDIA H100 80GB HBM3" "external entity not expanded"
hasnt "$T/out" "root:"
run - 1 discover --from-xml "$HERE/xml/broken.xml"
has "$T/err" "is not nvidia-smi -q -x output: Premature end of data"
run - 1 discover --from-xml "$HERE/xml/not-nvidia-smi.xml"
has "$T/err" "the root element is <project>, not <nvidia_smi_log>"
run - 1 discover --from-xml "$HERE/xml/no-driver-version.xml"
has "$T/err" "has no <driver_version>"
run - 1 discover --from-xml "$HERE/xml/empty.xml"
has "$T/err" "is empty"
run - 1 discover --from-xml "$T/does-not-exist.xml"
has "$T/err" "cannot read"

# ---- check --------------------------------------------------------------------------------------
echo "-- check"
# check_case NAME GPUS PLAN RC: check -o json against the golden file, and the text form too.
check_case() {
  run "$2" "$4" check --plan "$P/$3.json" -o json || return
  golden "check/$1.json" "$T/out"
  cp "$T/out" "$T/check.json"
  run "$2" "$4" check --plan "$P/$3.json"
  golden "check/$1.txt" "$T/out"
}
# finding CHECK SEVERITY: the last check JSON has a finding of that check with that severity.
finding() {
  n=0
  found=no
  while :; do
    c=$("$TT" get "$T/check.json" "findings|$n|check" 2>/dev/null) || break
    s=$("$TT" get "$T/check.json" "findings|$n|severity")
    if [ "$c" = "$1" ] && [ "$s" = "$2" ]; then found=yes; fi
    n=$((n + 1))
  done
  if [ "$found" = yes ]; then pass; else fail "no $2 finding '$1' in $(cat "$T/check.json")"; fi
}
nfindings() {
  n=0
  while "$TT" get "$T/check.json" "findings|$n" >/dev/null 2>&1; do n=$((n + 1)); done
  eq "$n" "$1" "number of findings"
}

# ND96isr_H100_v5 MIG1g Managed on the real 1-GPU H100 (MIG disabled): count, MIG mode, allocatable.
check_case nd96-mig1g-on-h100 h100 nd96-h100-mig1g-managed 3
finding gpu-count error
finding mig-mode error
finding allocatable error
nfindings 3
eq "$(val "$T/check.json" 'node|allocatable|nvidia.com/gpu')" 1 "single strategy without MIG advertises whole GPUs"
# NC24ads_A100_v4 MIG1g Managed on the A100 with 7 x 1g.10gb: conformant.
check_case nc24-mig1g-on-a100 a100-mig-1g.json nc24-a100-mig1g-managed 0
nfindings 0
eq "$(val "$T/check.json" result)" conformant "A100 MIG1g conformant"
# The same through nvidia-smi XML (profiles inferred): conformant too.
run - 0 check --plan "$P/nc24-a100-mig1g-managed.json" --from-xml "$HERE/xml/a100-mig-1g.xml"
# NC64as_T4_v3 Managed on 4 x T4: conformant.
check_case nc64-managed-on-t4x4 t4x4.json nc64-t4-managed 0
# Wrong MIG instances: 3 x 2g.20gb where the plan wants 7 x 1g.10gb.
check_case nc24-mig1g-on-a100-3x2g a100-mig-3x2g.json nc24-a100-mig1g-managed 3
finding mig-instances error
finding allocatable error
nfindings 2
eq "$(val "$T/check.json" 'findings|0|expected')" "7 x 1g.10gb" "expected instances"
eq "$(val "$T/check.json" 'findings|0|found')" "3 x 2g.20gb" "found instances"
# Mixed profiles under a single-strategy plan: the device plugin refuses the node.
check_case nc24-mig1g-on-a100-mixed a100-mig-mixed.json nc24-a100-mig1g-managed 3
finding mig-instances error
has "$T/check.json" "refuses a node with more than one MIG profile"
eq "$(val "$T/check.json" 'node|allocatable')" "{}" "plugin refuses mixed profiles in single mode"
# The Mixed plan on the node with that layout: conformant, resources per profile.
check_case nc24-mixed-on-a100-mixed a100-mig-mixed.json nc24-a100-mixed-managed 0
eq "$(val "$T/check.json" 'node|allocatable|nvidia.com/mig-1g.10gb')" 2 "mixed: 2 x mig-1g.10gb"
# Same profiles at other placements: a note, not drift.
check_case nc24-mixed-on-a100-moved a100-mig-mixed-moved.json nc24-a100-mixed-managed 0
finding mig-placement info
nfindings 1
# MIG enable pending a reboot: warning (drift), says to reboot.
check_case nc24-mig1g-on-a100-pending a100-mig-pending.json nc24-a100-mig1g-managed 3
finding mig-mode warning
has "$T/check.json" "reboot the node"
# Driver-only (Unmanaged) plans: no device plugin, nothing advertised; conformant.
check_case nc64-unmanaged-on-t4x4 t4x4.json nc64-t4-unmanaged 0
check_case nc24-mig1g-unmanaged-on-a100 a100-mig-1g.json nc24-a100-mig1g-unmanaged 0
# Driver-only plan on a node without a driver: error.
check_case nc64-unmanaged-no-driver - nc64-t4-unmanaged 3
finding driver error
finding gpu-count info
# Another driver version than the plan installs: warning.
check_case nc64-managed-on-t4x4-old-driver t4x4-old-driver.json nc64-t4-managed 3
finding driver-version warning
nfindings 1
# A plan that installs nothing (driver None) on a node with a driver: warning.
check_case nc64-nothing-on-t4x4 t4x4.json nc64-t4-nothing 3
finding driver warning
# CPU-only plan: conformant without NVML or with an unloaded driver; drift on a GPU node.
check_case cpu-no-nvml - cpu-d4s 0
run driver-not-loaded.json 0 check --plan "$P/cpu-d4s.json"
check_case cpu-on-h100 h100 cpu-d4s 3
finding gpu-count error
finding driver warning
# An AMD size: nothing installed, NVML sees nothing to count; NVIDIA GPUs there are drift.
run - 0 check --plan "$P/nd96-mi300x.json"
run h100 3 check --plan "$P/nd96-mi300x.json" -o json
cp "$T/out" "$T/check.json"
finding gpu-count info
finding gpu-count error
finding driver warning
nfindings 3
# H100 80GB where the plan's VM size has an H100 NVL: model drift.
check_case nc40-on-h100 h100 nc40-h100nvl-managed 3
finding gpu-model error
nfindings 1
# T4 plan on the H100: model, count, allocatable.
run h100 3 check --plan "$P/nc64-t4-managed.json" -o json
cp "$T/out" "$T/check.json"
finding gpu-model error
finding gpu-count error
# 4 x T4 plan on a node with no GPU.
run no-gpu.json 3 check --plan "$P/nc64-t4-managed.json" -o json
cp "$T/out" "$T/check.json"
finding gpu-count error
finding allocatable error
# NVML errors are errors (exit 1), not drift.
run init-fails.json 1 check --plan "$P/nc64-t4-managed.json"
has "$T/err" "nvmlInit_v2 failed"
run t4x2-gpu-lost.json 1 check --plan "$P/nc64-t4-managed.json"
has "$T/err" "GPU_IS_LOST"

echo "-- bad plans"
# valid-*.json: plans at the edge of what is accepted (valid-minimal is the base the others change)
for f in "$HERE"/bad-plans/valid-*.json; do
  run t4x4.json 0 check --plan "$f"
done
for f in "$HERE"/bad-plans/*.json; do
  name=$(basename "$f" .json)
  case "$name" in valid-*) continue ;; esac
  run t4x4.json 1 check --plan "$f" || continue
  want=$("$TT" get "$f" _expect 2>/dev/null) || want=
  case "$name" in
    not-json) want="not valid JSON" ;;
    error-body) want="this is an error body, not a plan" ;;
    array) want="a plan is a JSON object" ;;
  esac
  has "$T/err" "$want"
  # render refuses it the same way, and writes nothing
  run - 1 render --plan "$f" --out "$T/bad-render"
  if [ -e "$T/bad-render" ]; then fail "render wrote files for $name"; rm -rf "$T/bad-render"; else pass; fi
done
run t4x4.json 1 check --plan "$T/no-such-plan.json"
has "$T/err" "cannot read"

# ---- render -------------------------------------------------------------------------------------
echo "-- render"
for plan in nd96-h100-mig1g-managed nc24-a100-mixed-managed nc64-t4-managed nc64-t4-unmanaged nc24-a100-mig1g-unmanaged \
  nc80-h100nvl-dra nc64-t4-nothing cpu-d4s; do
  run - 0 render --plan "$P/$plan.json" --out "$T/render/$plan"
  run - 0 render --plan "$P/$plan.json" --out "$T/render2/$plan"
  # byte-stable: the same plan renders the same bytes
  if diff -r "$T/render/$plan" "$T/render2/$plan" >/dev/null; then pass; else fail "render of $plan is not byte-stable"; fi
  golden_dir "render/$plan" "$T/render/$plan"
  for y in $(find "$T/render/$plan" -name '*.yaml' | sort); do
    if "$TT" yaml2json "$y" >"$T/y.json" 2>"$T/err"; then pass; else fail "$y does not parse back"; fi
  done
done
R="$T/render/nd96-h100-mig1g-managed/etc"
has "$R/systemd/system/nvidia-device-plugin.service.d/10-gpupool.conf" \
  "ExecStart=/usr/bin/nvidia-device-plugin --mig-strategy single --pass-device-specs"
has "$R/systemd/system/dcgm-exporter.service.d/10-gpupool.conf" "ExecStart=/usr/bin/dcgm-exporter -a :19400"
has "$R/systemd/system/mig-partition.service.d/10-gpupool.conf" "MIG_GPU_INSTANCE_PROFILE_IDS=19,19,19,19,19,19,19"
has "$R/systemd/system/mig-partition.service.d/10-gpupool.conf" "GPU_INSTANCE_PROFILE=MIG1g"
"$TT" yaml2json "$R/nvidia-mig-manager/config.yaml" >"$T/y.json"
eq "$(val "$T/y.json" '0|version')" v1 "mig-parted version"
eq "$(val "$T/y.json" '0|mig-configs|gpupool|0|mig-devices|1g.10gb')" 7 "mig-parted 7 x 1g.10gb"
eq "$(val "$T/y.json" '0|mig-configs|gpupool|0|mig-enabled')" true "mig-parted mig-enabled"
eq "$(val "$T/y.json" '0|mig-configs|gpupool|0|devices')" all "mig-parted devices: all"
# node labels parse back to exactly the plan's labels
"$TT" yaml2json "$R/gpupool/node-labels.yaml" >"$T/y.json"
"$TT" get "$T/y.json" 0 >"$T/labels-rendered.json"
"$TT" get "$P/nd96-h100-mig1g-managed.json" nodeLabels >"$T/labels-plan.json"
if "$TT" jsoneq "$T/labels-plan.json" "$T/labels-rendered.json" 2>"$T/err"; then pass; else fail "rendered labels differ from the plan"; fi
has "$R/gpupool/bootstrap.env" "GPUPOOL_ALLOCATABLE=nvidia.com/gpu=56"
R="$T/render/nc24-a100-mixed-managed/etc"
has "$R/systemd/system/nvidia-device-plugin.service.d/10-gpupool.conf" "--mig-strategy mixed --pass-device-specs"
has "$R/systemd/system/mig-partition.service.d/10-gpupool.conf" "MIG_GPU_INSTANCE_PROFILE_IDS=14,19,19,9"
hasnt "$R/systemd/system/mig-partition.service.d/10-gpupool.conf" "GPU_INSTANCE_PROFILE="
"$TT" yaml2json "$R/nvidia-mig-manager/config.yaml" >"$T/y.json"
eq "$(val "$T/y.json" '0|mig-configs|gpupool|0|mig-devices')" '{"2g.20gb":1,"1g.10gb":2,"3g.40gb":1}' "mig-parted mixed"
"$TT" yaml2json "$R/gpupool/node-labels.yaml" >"$T/y.json"
eq "$(val "$T/y.json" '0|team')" research "user label rendered"
R="$T/render/nc64-t4-managed/etc"
has "$R/systemd/system/nvidia-device-plugin.service.d/10-gpupool.conf" "ExecStart=/usr/bin/nvidia-device-plugin --pass-device-specs"
if [ -e "$R/nvidia-mig-manager" ] || [ -e "$R/systemd/system/mig-partition.service.d" ]; then fail "T4 has MIG files"; else pass; fi
R="$T/render/nc64-t4-unmanaged/etc"
if [ -e "$R/systemd" ]; then fail "driver-only plan has service drop-ins"; else pass; fi
R="$T/render/cpu-d4s/etc"
has "$R/gpupool/bootstrap.env" "GPUPOOL_COMPONENTS="
has "$R/gpupool/node-labels.yaml" "{}"

echo "-- render --kubernetes"
for plan in nd96-h100-mig1g-managed nc24-a100-mixed-managed nc64-t4-managed; do
  run - 0 render --plan "$P/$plan.json" --out "$T/kube/$plan" --kubernetes
  run - 0 render --plan "$P/$plan.json" --out "$T/kube2/$plan" --kubernetes
  if diff -r "$T/kube/$plan" "$T/kube2/$plan" >/dev/null; then pass; else fail "manifests of $plan are not byte-stable"; fi
  golden_dir "kubernetes/$plan" "$T/kube/$plan"
done
K="$T/kube/nd96-h100-mig1g-managed"
"$TT" yaml2json "$K/nvidia-device-plugin.yaml" >"$T/dp.json" || fail "device plugin manifest does not parse"
eq "$(val "$T/dp.json" '0|kind')" DaemonSet "device plugin kind"
eq "$(val "$T/dp.json" '0|metadata|namespace')" kube-system "device plugin namespace"
eq "$(val "$T/dp.json" '0|spec|template|spec|priorityClassName')" system-node-critical "device plugin priority class"
eq "$(val "$T/dp.json" '0|spec|template|spec|tolerations|0')" '{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}' "device plugin toleration"
eq "$(val "$T/dp.json" '0|spec|template|spec|volumes|0|hostPath|path')" /var/lib/kubelet/device-plugins "device plugin hostPath"
eq "$(val "$T/dp.json" '0|spec|template|spec|containers|0|volumeMounts|0|mountPath')" /var/lib/kubelet/device-plugins "device plugin mount"
eq "$(val "$T/dp.json" '0|spec|template|spec|containers|0|env|0')" '{"name":"MIG_STRATEGY","value":"single"}' "MIG_STRATEGY single"
eq "$(val "$T/dp.json" '0|spec|template|spec|containers|0|env|1')" '{"name":"PASS_DEVICE_SPECS","value":"true"}' "PASS_DEVICE_SPECS is the string true"
eq "$(val "$T/dp.json" '0|spec|template|spec|containers|0|image')" "$(val "$P/nd96-h100-mig1g-managed.json" 'components|3|image')" "device plugin image from the plan"
eq "$(val "$T/dp.json" '0|spec|selector|matchLabels|app.kubernetes.io/name')" "$(val "$T/dp.json" '0|spec|template|metadata|labels|app.kubernetes.io/name')" "selector matches the pod labels"
"$TT" yaml2json "$K/dcgm-exporter.yaml" >"$T/ex.json" || fail "exporter manifest does not parse"
eq "$(val "$T/ex.json" '0|kind')" DaemonSet "exporter kind"
eq "$(val "$T/ex.json" '0|metadata|namespace')" kube-system "exporter namespace"
eq "$(val "$T/ex.json" '0|spec|template|spec|volumes|0|hostPath|path')" /var/lib/kubelet/pod-resources "exporter hostPath"
eq "$(val "$T/ex.json" '0|spec|template|spec|containers|0|volumeMounts|0|readOnly')" true "exporter pod-resources read-only"
eq "$(val "$T/ex.json" '0|spec|template|spec|containers|0|securityContext|capabilities|add|0')" SYS_ADMIN "exporter SYS_ADMIN"
eq "$(val "$T/ex.json" '0|spec|template|spec|containers|0|ports|0|containerPort')" 19400 "exporter port"
eq "$(val "$T/ex.json" '0|spec|template|spec|tolerations|0|key')" nvidia.com/gpu "exporter toleration"
eq "$(val "$T/ex.json" '1|kind')" Service "exporter Service"
eq "$(val "$T/ex.json" '1|spec|ports|0|port')" 19400 "Service port"
eq "$(val "$T/ex.json" '1|spec|selector|app.kubernetes.io/name')" dcgm-exporter "Service selector"
"$TT" yaml2json "$T/kube/nc64-t4-managed/nvidia-device-plugin.yaml" >"$T/dp.json"
eq "$(val "$T/dp.json" '0|spec|template|spec|containers|0|env|0|value')" none "MIG_STRATEGY none on T4"
"$TT" yaml2json "$T/kube/nc24-a100-mixed-managed/nvidia-device-plugin.yaml" >"$T/dp.json"
eq "$(val "$T/dp.json" '0|spec|template|spec|containers|0|env|0|value')" mixed "MIG_STRATEGY mixed"
run - 0 render --plan "$P/nc64-t4-managed.json" --out "$T/kube-pool" --kubernetes --pool gpu1
"$TT" yaml2json "$T/kube-pool/nvidia-device-plugin.yaml" >"$T/dp.json"
eq "$(val "$T/dp.json" '0|metadata|name')" nvidia-device-plugin-gpu1 "per-pool name"
eq "$(val "$T/dp.json" '0|spec|template|spec|nodeSelector|kubernetes.azure.com/agentpool')" gpu1 "per-pool node selector"
run - 1 render --plan "$P/nc64-t4-managed.json" --out "$T/kube-bad" --kubernetes --pool 'Bad Pool'
# pool names: ^[a-z][a-z0-9]{0,11}$, each end of it
run - 0 render --plan "$P/nc64-t4-managed.json" --out "$T/kube-g1" --kubernetes --pool g1
"$TT" yaml2json "$T/kube-g1/nvidia-device-plugin.yaml" >"$T/dp.json"
eq "$(val "$T/dp.json" '0|metadata|name')" nvidia-device-plugin-g1 "a digit second"
run - 0 render --plan "$P/nc64-t4-managed.json" --out "$T/kube-12" --kubernetes --pool abcdefghijk2
run - 1 render --plan "$P/nc64-t4-managed.json" --out "$T/kube-13" --kubernetes --pool abcdefghijk23
has "$T/err" "must match ^[a-z][a-z0-9]{0,11}$"
run - 1 render --plan "$P/nc64-t4-managed.json" --out "$T/kube-1g" --kubernetes --pool 1gpu
has "$T/err" "pool name '1gpu' must match"
run - 1 render --plan "$P/nc64-t4-managed.json" --out "$T/kube-Gp" --kubernetes --pool Gpu
# The exporter's address: given as --address, it is kept as it is (no second -a); not given at all,
# the manifest adds -a :PORT with the plan's port.
sed 's/^        "-a",$/        "--address",/' "$P/nc64-t4-managed.json" >"$T/t4-address.json"
run - 0 render --plan "$T/t4-address.json" --out "$T/kube-address" --kubernetes
"$TT" yaml2json "$T/kube-address/dcgm-exporter.yaml" >"$T/ex.json"
eq "$(val "$T/ex.json" '0|spec|template|spec|containers|0|args')" \
  '["--address",":19400","-f","/etc/dcgm-exporter/default-counters.csv"]' "exporter --address kept"
sed -e '/^        "-a",$/d' -e '/^        ":19400",$/d' -e 's/"port": 19400,/"port": 9500,/' "$P/nc64-t4-managed.json" \
  >"$T/t4-noaddress.json"
run - 0 render --plan "$T/t4-noaddress.json" --out "$T/kube-noaddress" --kubernetes
"$TT" yaml2json "$T/kube-noaddress/dcgm-exporter.yaml" >"$T/ex.json"
eq "$(val "$T/ex.json" '0|spec|template|spec|containers|0|args')" \
  '["-f","/etc/dcgm-exporter/default-counters.csv","-a",":9500"]' "exporter address added from the port"
eq "$(val "$T/ex.json" '0|spec|template|spec|containers|0|ports|0|containerPort')" 9500 "exporter port from the plan"
run - 0 render --plan "$P/nc64-t4-unmanaged.json" --out "$T/kube-none" --kubernetes
has "$T/err" "runs no component as a pod"

# ---- diff: the core's disruption class of two plan files (the table case by case: tests/diff/) ------
echo "-- diff"
run - 2 diff
has "$T/err" "--to is required"
run - 2 diff --to
run - 2 diff --to "$P/nc64-t4-managed.json" --bogus
run - 1 diff --to "$HERE/bad-plans/not-json.json"
has "$T/err" "gpupool-agent diff: "
run - 1 diff --from "$HERE/bad-plans/unknown-component.json" --to "$P/nc64-t4-managed.json"
run - 1 diff --from "$T/nosuch.json" --to "$P/nc64-t4-managed.json"
run - 0 diff --from "$P/nc64-t4-managed.json" --to "$P/nc64-t4-managed.json"
eq "$(val "$T/out" class)" None "a plan against itself"
eq "$(val "$T/out" changes)" "[]" "a plan against itself: no change"
run - 0 diff --from "$P/nc64-t4-managed.json" --to "$P/nc64-t4-unmanaged.json"
eq "$(val "$T/out" class)" Restart "Managed -> Unmanaged"
run - 0 diff --from "$P/nd96-h100-managed.json" --to "$P/nd96-h100-mig1g-managed.json"
eq "$(val "$T/out" class)" Reboot "MIG mode on"
run - 0 diff --to "$P/cpu-d4s.json"
eq "$(val "$T/out" class)" None "a CPU node from nothing"

# ---- apply (dry run) ------------------------------------------------------------------------------
echo "-- apply (dry run)"
# Dry runs from inside $T with --root root, so the printed paths are stable.
RUNDIR="$T"
# An 8-GPU plan (ND96 MIG1g) on the 1-GPU H100: refused with check's findings, before any step (no
# nvidia-smi -mig 1, nothing at all planned).
run h100 1 apply --plan plans/nd96-h100-mig1g-managed.json --root root
has "$T/err" "this node cannot take the plan of Standard_ND96isr_H100_v5 (generation 1): nothing was done"
# what to do names the REST call that removes a machine (the CLI has no machine delete), never a command that is not there
has "$T/err" "(REST: DELETE …/agentPools/{pool}/machines/{node}; gpupool machine list --nodepool-name {pool} shows it)"
has "$T/err" "ERROR    gpu-count        GPU count"
has "$T/err" "expected: 8"
eq "$(wc -c <"$T/out")" 0 "a refused plan plans no step"
if [ -e "$T/root" ]; then fail "a refused plan wrote files"; else pass; fi
# The A100 with MIG disabled and the NC24 MIG1g plan: enable MIG, reboot gate, create instances, services.
run a100-mig-disabled.json 0 apply --plan plans/nc24-a100-mig1g-managed.json --root root
golden apply/nc24-mig1g-on-a100-disabled.txt "$T/out"
has "$T/out" "run nvidia-smi -i 0 -mig 1"
has "$T/out" "check MIG mode active on GPU 0"
has "$T/out" "run nvidia-smi mig -i 0 -cgi 19,19,19,19,19,19,19 -C"
has "$T/out" "run systemctl daemon-reload"
has "$T/out" "run systemctl restart nvidia-device-plugin.service nvidia-dcgm.service dcgm-exporter.service"
has "$T/out" "write root/etc/systemd/system/nvidia-device-plugin.service.d/10-gpupool.conf"
if [ -e "$T/root" ]; then fail "a dry run wrote files"; else pass; fi
# A100 already partitioned as planned: no MIG commands.
run a100-mig-1g.json 0 apply --plan plans/nc24-a100-mig1g-managed.json --root root
golden apply/nc24-mig1g-on-a100.txt "$T/out"
hasnt "$T/out" "nvidia-smi"
has "$T/out" "every GPU already has the plan's MIG mode and layout"
# Wrong instances: stop the GPU services, destroy, create.
run a100-mig-3x2g.json 0 apply --plan plans/nc24-a100-mig1g-managed.json --root root
golden apply/nc24-mig1g-on-a100-3x2g.txt "$T/out"
has "$T/out" "run systemctl stop nvidia-device-plugin.service nvidia-dcgm.service dcgm-exporter.service"
has "$T/out" "run nvidia-smi mig -i 0 -dci"
has "$T/out" "run nvidia-smi mig -i 0 -dgi"
has "$T/out" "run nvidia-smi mig -i 0 -cgi 19,19,19,19,19,19,19 -C"
# MIG enabled but the plan has no layout: destroy and disable.
run a100-mig-1g.json 0 apply --plan plans/nc24-a100-managed.json --root root
has "$T/out" "run nvidia-smi -i 0 -mig 0"
# No NVML yet (first boot, the driver comes with the bootstrap): the full AKS sequence; nothing to
# count the GPUs with, so nothing to refuse.
run - 0 apply --plan plans/nd96-h100-mig1g-managed.json --root root
golden apply/nd96-mig1g-no-nvml.txt "$T/out"
has "$T/out" "run nvidia-smi -mig 1"
has "$T/out" "run nvidia-smi mig -cgi 19,19,19,19,19,19,19 -C"
# T4 Managed: no MIG at all.
run t4x4.json 0 apply --plan plans/nc64-t4-managed.json --root root
golden apply/nc64-managed-on-t4x4.txt "$T/out"
# A toggle Managed -> Unmanaged: what the last apply left (its bootstrap.env) tells which services to
# disable; our drop-ins for them are removed.
rm -rf "$T/prev" && "$AGENT" render --plan "$P/nc64-t4-managed.json" --out "$T/prev" >/dev/null
run t4x4.json 0 apply --plan plans/nc64-t4-unmanaged.json --root prev
golden apply/nc64-managed-to-unmanaged.txt "$T/out"
has "$T/out" "run systemctl disable --now nvidia-device-plugin.service"
has "$T/out" "run systemctl disable --now dcgm-exporter.service"
has "$T/out" "remove prev/etc/systemd/system/nvidia-device-plugin.service.d/10-gpupool.conf"
hasnt "$T/out" "run systemctl restart" # the driver stays, and no service is left to restart
if [ -e "$T/prev/etc/systemd/system/nvidia-device-plugin.service.d/10-gpupool.conf" ]; then pass; else fail "a dry run removed a file"; fi
# A plan whose MIG layout the node cannot run (4 T4s, an A100 MIG plan): refused, nothing planned.
run t4x4.json 1 apply --plan plans/nc24-a100-mig1g-managed.json --root root
has "$T/err" "this node cannot take the plan of Standard_NC24ads_A100_v4"
has "$T/err" "gpu-model"
hasnt "$T/out" "nvidia-smi"
RUNDIR=.

# ---- apply --execute: only what differs ------------------------------------------------------------
# On a root of its own (no privileges needed), with systemctl and nvidia-smi replaced by scripts that
# record their calls: a second apply of the same plan runs nothing and rewrites nothing; a new
# generation of the same plan writes bootstrap.env only; a Restart-class change restarts only the
# service whose configuration changed; labels restart nothing.
echo "-- apply --execute (idempotent)"
XB="$T/xbin"
XR="$T/xroot"
XC="$T/xcalls"
mkdir -p "$XB"
# (systemctl fails its restarts while $T/xfail exists)
for c in systemctl nvidia-smi; do
  printf '#!/bin/sh\necho "%s $*" >>"%s"\n[ "$1" = restart ] && [ -e "%s" ] && exit 1\nexit 0\n' "$c" "$XC" "$T/xfail" >"$XB/$c"
done
chmod +x "$XB"/*
# xapply GPUS RC PLAN: apply --execute with the recording commands; the calls in $XC (fresh)
xapply() {
  rm -f "$XC"
  (PATH="$XB:$PATH" GPUPOOL_FAKE_NVML="$GPUS/$1" exec "$AGENT" apply --plan "$3" --root "$XR" --execute) \
    >"$T/out" 2>"$T/err"
  eq "$?" "$2" "apply --execute --plan $(basename "$3")"
  touch "$XC"
}
# every file with its inode and content checksum: a file written again (temp file + rename) gets a new inode
tree() { find "$XR" -type f -exec ls -i {} + | sort -k2 | while read -r ino f; do echo "$ino $(cksum <"$f") $f"; done; }
xapply t4x4.json 0 "$P/nc64-t4-managed.json"
has "$XC" "systemctl daemon-reload"
has "$XC" "systemctl enable nvidia-device-plugin.service nvidia-dcgm.service dcgm-exporter.service"
has "$XC" "systemctl restart nvidia-device-plugin.service nvidia-dcgm.service dcgm-exporter.service"
hasnt "$XC" "nvidia-smi"
tree >"$T/tree1"
xapply t4x4.json 0 "$P/nc64-t4-managed.json"
eq "$(wc -l <"$XC")" 0 "a second apply of the same plan runs no command"
has "$T/out" "# nothing to do: the node already is what the plan says (4 files unchanged)"
hasnt "$T/out" "write "
tree >"$T/tree2"
if cmp -s "$T/tree1" "$T/tree2"; then pass; else fail "a second apply rewrote files: $(diff "$T/tree1" "$T/tree2" | head -5)"; fi
# the same plan under generation 2: bootstrap.env (which names the generation) only, no command
sed 's/^  "generation": 1,/  "generation": 2,/' "$P/nc64-t4-managed.json" >"$T/t4-gen2.json"
xapply t4x4.json 0 "$T/t4-gen2.json"
eq "$(wc -l <"$XC")" 0 "a new generation of the same plan runs no command"
eq "$(grep -c '^write ' "$T/out")" 1 "a new generation of the same plan writes one file"
has "$T/out" "write $XR/etc/gpupool/bootstrap.env"
# Restart class: the exporter's args change: its drop-in only; daemon-reload, restart of the exporter only
sed 's|/etc/dcgm-exporter/default-counters.csv|/etc/dcgm-exporter/dcp-metrics-included.csv|' "$T/t4-gen2.json" >"$T/t4-exporter.json"
xapply t4x4.json 0 "$T/t4-exporter.json"
eq "$(grep '^systemctl' "$XC" | tr '\n' ';')" "systemctl daemon-reload;systemctl restart dcgm-exporter.service;" \
  "an exporter args change restarts the exporter only"
has "$T/out" "write $XR/etc/systemd/system/dcgm-exporter.service.d/10-gpupool.conf"
hasnt "$T/out" "nvidia-device-plugin.service.d"
# Restart class without a drop-in: DCGM's version: DCGM only, no daemon-reload
sed 's/"version": "4.5.3"/"version": "4.6.0"/' "$T/t4-exporter.json" >"$T/t4-dcgm.json"
xapply t4x4.json 0 "$T/t4-dcgm.json"
eq "$(tr '\n' ';' <"$XC")" "systemctl restart nvidia-dcgm.service;" "a DCGM version change restarts DCGM only"
# InPlace: a node label: the labels file and bootstrap.env, no command
sed 's/"kubernetes.azure.com\/accelerator": "nvidia"/"kubernetes.azure.com\/accelerator": "nvidia", "team": "ml"/' \
  "$T/t4-dcgm.json" >"$T/t4-label.json"
xapply t4x4.json 0 "$T/t4-label.json"
eq "$(wc -l <"$XC")" 0 "a label change runs no command"
has "$XR/etc/gpupool/node-labels.yaml" "team: ml"
# An apply that stops half-way (the restart fails) records nothing: the next one restarts what it left
touch "$T/xfail"
sed 's/"version": "4.6.0"/"version": "4.7.0"/' "$T/t4-label.json" >"$T/t4-dcgm2.json"
xapply t4x4.json 1 "$T/t4-dcgm2.json"
has "$T/err" "'systemctl' failed"
hasnt "$T/out" "write $XR/etc/gpupool/bootstrap.env" # the record is written last
rm -f "$T/xfail"
xapply t4x4.json 0 "$T/t4-dcgm2.json"
eq "$(tr '\n' ';' <"$XC")" "systemctl restart nvidia-dcgm.service;" "the restart a failed apply left undone"
xapply t4x4.json 0 "$T/t4-dcgm2.json"
eq "$(wc -l <"$XC")" 0 "and then nothing"
# a plan the node cannot take: refused with --execute too, nothing run or written
tree >"$T/tree3"
xapply t4x4.json 1 "$P/nc24-a100-mig1g-managed.json"
eq "$(wc -l <"$XC")" 0 "a refused plan runs no command"
tree >"$T/tree4"
if cmp -s "$T/tree3" "$T/tree4"; then pass; else fail "a refused plan changed files"; fi
# --execute on / needs root; on a root of its own it does not (checked above as whoever runs the tests)

# ---- fetch against a stand-in plan server ---------------------------------------------------------
echo "-- fetch"
"$PLANSERVER" "$T/port" "$T/server.log" "$P/nc64-t4-managed.json" '"gen-1"' 2>"$T/server.err" &
SERVER_PID=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
PORT=$(cat "$T/port" 2>/dev/null)
if [ -z "$PORT" ]; then
  fail "plan server did not start"
else
  pass
  EP="http://127.0.0.1:$PORT"
  ID=/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools
  run - 0 fetch --endpoint "$EP" --pool "$ID/gpu" --etag-file "$T/etag" --out "$T/fetched.json"
  if cmp -s "$P/nc64-t4-managed.json" "$T/fetched.json"; then pass; else fail "fetched plan differs from the served one"; fi
  eq "$(cat "$T/etag")" '"gen-1"' "ETag remembered"
  has "$T/server.log" "GET $ID/gpu/plan?api-version=2026-10-02-preview HTTP/1.1"
  hasnt "$T/server.log" "If-None-Match"
  # unchanged: 304, exit 4, the plan file stays
  run - 4 fetch --endpoint "$EP/" --pool "$ID/gpu" --etag-file "$T/etag" --out "$T/fetched.json"
  has "$T/server.log" 'If-None-Match: "gen-1"'
  has "$T/err" "plan unchanged"
  if cmp -s "$P/nc64-t4-managed.json" "$T/fetched.json"; then pass; else fail "304 touched the plan"; fi
  # the plan file is gone: no If-None-Match, the plan comes again
  rm -f "$T/fetched.json" "$T/server.log"
  run - 0 fetch --endpoint "$EP" --pool "$ID/gpu" --etag-file "$T/etag" --out "$T/fetched.json"
  hasnt "$T/server.log" "If-None-Match"
  # to stdout
  run - 0 fetch --endpoint "$EP" --pool "$ID/gpu"
  if cmp -s "$P/nc64-t4-managed.json" "$T/out"; then pass; else fail "fetch to stdout"; fi
  # errors keep the old plan
  run - 1 fetch --endpoint "$EP" --pool "$ID/missing" --etag-file "$T/etag" --out "$T/fetched.json"
  has "$T/err" "HTTP 404 ResourceNotFound: The agent pool 'missing' was not found."
  run - 1 fetch --endpoint "$EP" --pool "$ID/broken" --out "$T/fetched.json"
  has "$T/err" "is not a usable plan"
  if cmp -s "$P/nc64-t4-managed.json" "$T/fetched.json"; then pass; else fail "a broken response replaced the plan"; fi
  run - 1 fetch --endpoint "$EP" --pool "$ID/big" --out "$T/fetched.json"
  has "$T/err" "larger than 1 MiB"
  run - 1 fetch --endpoint "$EP" --pool "$ID/secure"
  has "$T/err" "HTTP 401 AuthenticationFailed"
  run - 0 fetch --endpoint "$EP" --pool "$ID/secure" --token s3cret
  has "$T/server.log" "Authorization: Bearer s3cret"
  GPUPOOL_TOKEN=s3cret
  export GPUPOOL_TOKEN
  run - 0 fetch --endpoint "$EP" --pool "$ID/secure"
  unset GPUPOOL_TOKEN
  run - 1 fetch --endpoint "$EP" --pool "$ID/gpu" --api-version 2025-10-01
  has "$T/err" "HTTP 400 NoRegisteredProviderFound"
  kill "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
  run - 1 fetch --endpoint "$EP" --pool "$ID/gpu" --timeout 5
  has "$T/err" "$EP$ID/gpu/plan?api-version=2026-10-02-preview"
fi

# ---- the real-GPU script, against the fake NVML ----------------------------------------------------
echo "-- real-h100 script (fake NVML)"
DEV="$ROOT/tests/fixtures/real-h100/run-on-device.sh"
if [ "${SAN:-}" = 1 ]; then
  # The sanitizer build is not bundled; the script runs the ASan agent directly.
  GPUPOOL_AGENT="$AGENT" GPUPOOL_FAKE_NVML="$FIX/nvml.json" OUT="$T/dev" PLANS="$P" sh "$DEV" >"$T/out" 2>"$T/err"
  rc=$?
else
  rm -rf "$T/bundle"
  if "$ROOT/scripts/make-agent-bundle.sh" "$B" "$T/bundle" >"$T/out" 2>"$T/err"; then pass; else fail "make-agent-bundle.sh"; fi
  # the tarball, as the lead carries it to the GPU machine
  GPUPOOL_FAKE_NVML="$FIX/nvml.json" OUT="$T/dev" sh "$DEV" "$T/bundle.tar.gz" >"$T/out" 2>"$T/err"
  rc=$?
fi
eq "$rc" 0 "run-on-device.sh exit status"
has "$T/dev/summary.txt" "discover: exit 0"
has "$T/dev/summary.txt" "check-nd96-mig1g: exit 3 (expected 3)"
has "$T/dev/summary.txt" "check-nd96-nomig: exit 3 (expected 3)"
has "$T/dev/summary.txt" "check-nc40-nomig: exit 3 (expected 3)"
has "$T/dev/summary.txt" "result: as expected"
if "$TT" jsoneq "$T/h100-nvml.json" "$T/dev/discover.out" 2>"$T/err"; then pass; else fail "device script discover differs"; fi
# When NVML fails on the machine the script says so and exits 1.
GPUPOOL_AGENT="$AGENT" GPUPOOL_FAKE_NVML="$GPUS/init-fails.json" OUT="$T/dev-bad" PLANS="$P" sh "$DEV" >"$T/out" 2>"$T/err"
eq "$?" 1 "run-on-device.sh exit status when NVML fails"
has "$T/dev-bad/summary.txt" "discover: exit 1 (expected 0)"
has "$T/dev-bad/summary.txt" "result: NOT as expected"

# ---- the recorded run on a real H100 (tests/fixtures/real-h100/, 2026-11-26) --------------------
# The same machine's nvidia-smi -q -x, read by the agent's XML path, must give what NVML gave there:
# the inventory and every check finding (only the "source" field differs).
echo "-- real H100 recording"
REAL="$ROOT/tests/fixtures/real-h100"
run - 0 discover --from-xml "$REAL/nvidia-smi-q.xml"
if "$TT" jsoneq "$REAL/discover.out" "$T/out" --ignore source 2>"$T/err"; then pass; else fail "real H100: XML inventory differs from NVML's"; fi
for c in nd96-h100-mig1g-managed:check-nd96-mig1g nd96-h100-managed:check-nd96-nomig \
         nc40-h100nvl-managed:check-nc40-nomig nd96-h100-unmanaged:check-nd96-unmanaged; do
  plan=${c%%:*}
  rec=${c#*:}
  run - "$(cat "$REAL/$rec.rc")" check --plan "$P/$plan.json" --from-xml "$REAL/nvidia-smi-q.xml" -o json
  if "$TT" jsoneq "$REAL/$rec.out" "$T/out" --ignore source 2>"$T/err"; then pass; else fail "real H100: $rec replayed from XML differs"; fi
done

echo "agent: $passed checks passed, $failed failed"
[ "$failed" = 0 ]
