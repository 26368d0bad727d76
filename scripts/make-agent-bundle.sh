#!/bin/sh
# make-agent-bundle.sh - packs gpupool-agent so that it runs on a machine without the -dev packages
# it was built with (the real-GPU check, tests/fixtures/real-h100/run-on-device.sh): the binary, the
# dynamic loader and every shared library it links, glibc included, so it runs whatever libc the
# machine has (the script starts it through the bundled loader). NVML is not bundled: the agent
# dlopens the machine's libnvidia-ml.so.1. glibc's split-out libraries (libpthread, libdl, librt)
# come too, because NVML links them and they must match the bundled libc.
#
# Usage: scripts/make-agent-bundle.sh BUILD_DIR OUT_DIR     (make agent-bundle: build -> build/agent-bundle)
# Writes OUT_DIR and OUT_DIR.tar.gz (about 23 MB; the directory is about 56 MB, most of it ICU data
# that Debian's libxml2 links). Also packs agent-testtool (JSON comparison on the machine), the
# plans the script checks, and gpupoold and gpupool, with which
# tests/fixtures/real-h100/run-daemon-on-device.sh runs the node daemon against a local control plane.
set -eu
B=${1:?build directory}
OUT=${2:?output directory}
here=$(cd "$(dirname "$0")/.." && pwd)
agent="$B/gpupool-agent"
[ -x "$agent" ] || { echo "make-agent-bundle: $agent not built" >&2; exit 1; }
if nm -D "$agent" 2>/dev/null | grep -q __asan_init; then
  echo "make-agent-bundle: $agent is a sanitizer build; bundle a plain build (make, not make asan)" >&2
  exit 1
fi
rm -rf "$OUT"
mkdir -p "$OUT/bin" "$OUT/lib" "$OUT/plans"
cp "$agent" "$OUT/bin/"
tool="$B/tests/agent/agent-testtool"
[ -x "$tool" ] && cp "$tool" "$OUT/bin/"
for b in gpupoold gpupool; do
  [ -x "$B/$b" ] && cp "$B/$b" "$OUT/bin/"
done

# Every library the binaries need, as ldd resolves it here; the loader under its own name.
libs=$(for bin in "$OUT"/bin/*; do ldd "$bin"; done | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}' | sort -u)
loader=
for l in $libs; do
  case "$l" in
    */ld-linux*) loader=$l; cp -L "$l" "$OUT/lib/ld-linux-x86-64.so.2" ;;
    *) cp -L "$l" "$OUT/lib/" ;;
  esac
done
[ -n "$loader" ] || { echo "make-agent-bundle: no dynamic loader found by ldd" >&2; exit 1; }
libdir=$(dirname "$(for l in $libs; do case "$l" in */libc.so.6) echo "$l" ;; esac; done)")
for extra in libpthread.so.0 libdl.so.2 librt.so.1 libm.so.6 libresolv.so.2; do
  [ -e "$libdir/$extra" ] && [ ! -e "$OUT/lib/$extra" ] && cp -L "$libdir/$extra" "$OUT/lib/"
done

# The plans of the real-GPU checks, made by this tree's core.
for pool in nd96-h100-mig1g-managed nd96-h100-managed nd96-h100-unmanaged nc40-h100nvl-managed; do
  "$B/gpupool" plan -f "$here/tests/agent/pools/$pool.json" --feature ManagedGPU >"$OUT/plans/$pool.json"
done

{
  echo "gpupool-agent bundle"
  echo "commit: $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$here" diff --quiet 2>/dev/null || echo ' (uncommitted changes)')"
  echo "built on: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), glibc $(ldd --version 2>/dev/null | head -1 | awk '{print $NF}')"
  echo "run (in this directory): lib/ld-linux-x86-64.so.2 --library-path lib bin/gpupool-agent discover"
  echo
  (cd "$OUT" && find . -type f | sort | while read -r f; do printf '%10s  %s\n' "$(wc -c <"$f")" "$f"; done)
} >"$OUT/README.txt"
rm -f "$OUT.tar.gz"
tar -czf "$OUT.tar.gz" -C "$(dirname "$OUT")" "$(basename "$OUT")"
echo "make-agent-bundle: $OUT ($(du -sh "$OUT" | cut -f1)), $OUT.tar.gz ($(du -sh "$OUT.tar.gz" | cut -f1))"
