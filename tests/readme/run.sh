#!/bin/sh
# run.sh - the README walkthrough as a test (`make test-readme`, part of `make test`): every shell
# block of README.md runs, in order, in one bash (so variables carry from block to block, as in a
# reader's terminal), with `set -e`: a command that fails fails the test, naming the block's line.
#
# The convention, for whoever adds a section to README.md:
#   - A block is a fenced block whose info string is sh, bash or shell. Other fences (json, text,
#     ini, none) are prose and never run.
#   - A block that cannot run here is marked by an HTML comment on the line right before its
#     fence (blank lines between are allowed), with the reason, which the test prints:
#         <!-- skip: needs an NVIDIA GPU and its driver -->
#     Only what truly cannot run in a test belongs there (a GPU, a machine's root, a network
#     host, a command that blocks, such as `make run` itself). Everything else runs.
#   - A command that is meant to be refused says so: `gpupool ... || echo "refused: exit $?"`.
#   - Blocks talk to gpupoold through the CLI's default endpoint or ${GPUPOOL_ENDPOINT}; the test
#     starts gpupoold the way `make run` does (scripts/run-server.sh, with PORT=0 for a free port
#     and a fresh ./var/gpupool.db) and exports GPUPOOL_ENDPOINT with the URL it prints. curl
#     blocks use E=${GPUPOOL_ENDPOINT:-http://127.0.0.1:8080} for the same reason.
#   - Blocks run in a fresh directory that looks like a checkout: every top-level entry of the
#     source tree is linked there (build/ is the build under test, so `make asan` runs the README
#     under ASan too), except var/, which is a fresh directory: write files there (var/plan.json),
#     never into the tree. HOME and XDG_CONFIG_HOME are fresh too (gpupool configure writes there).
#
# Environment: B (build directory, default build). Usage: tests/readme/run.sh [README.md]
set -u
B=${B:-build}
ROOT=$(pwd)
README=${1:-README.md}
T=$(mktemp -d "${TMPDIR:-/tmp}/gpupool-readme.XXXXXX")
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  # what the blocks left running in the background (the TLS step's gpupoold, say)
  # (only processes of the walkthrough, whose working directory is the sandbox: a PID noted when the
  # walkthrough ended may since belong to another process of the machine, another suite's say)
  [ -f "$T/pids" ] && for p in $(cat "$T/pids"); do
    case "$(readlink "/proc/$p/cwd" 2>/dev/null)" in "$T"/*) kill "$p" 2>/dev/null ;; esac
  done
  [ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT INT TERM

# The sandbox: the tree linked in, build/ = the build under test, var/ and HOME fresh.
S="$T/checkout"
mkdir -p "$S/var" "$T/home/.config"
for e in "$ROOT"/* "$ROOT"/.[!.]*; do
  n=${e##*/}
  case "$n" in build | var | .git | .gl | .whl) continue ;; esac
  [ -e "$e" ] && ln -s "$e" "$S/$n"
done
ln -s "$ROOT/$B" "$S/build"

# The blocks, in order, into one script: each announced with its line, skipped ones listed.
awk -v readme="$README" '
  function flush_skip() { skip = "" }
  /^[[:space:]]*<!--[[:space:]]*skip:/ {
    skip = $0
    sub(/^[[:space:]]*<!--[[:space:]]*skip:[[:space:]]*/, "", skip)
    sub(/[[:space:]]*-->[[:space:]]*$/, "", skip)
    if (skip == "") { print "echo \"README.md:" NR ": a skip marker needs a reason\" >&2; exit 3"; }
    next
  }
  /^```/ && !inblock {
    lang = substr($0, 4)
    gsub(/[[:space:]]/, "", lang)
    inblock = 1
    run = (lang == "sh" || lang == "bash" || lang == "shell")
    start = NR
    if (run && skip != "") {
      printf "echo \"-- README.md:%d skipped: %s\"\n", NR, skip
      skipped++
      run = 0
    } else if (run) {
      printf "printf \"\\n-- README.md:%d\\n\"\n", NR
      blocks++
    }
    skip = ""
    next
  }
  /^```/ && inblock { inblock = 0; next }
  inblock && run { print; next }
  /[^[:space:]]/ { skip = "" }
  END {
    if (inblock) { print "echo \"README.md:" start ": a fence is never closed\" >&2; exit 3" }
    printf "echo \"-- README.md: %d blocks ran, %d skipped\"\n", blocks, skipped
  }
' "$README" >"$T/walkthrough.sh"
# every background job a block starts is noted, to be stopped at the end whatever happens
{
  echo 'set -e'
  echo "trap 'jobs -p >>\"$T/pids\"' EXIT"
  cat "$T/walkthrough.sh"
} >"$T/run.sh"

# gpupoold the `make run` way, on a free port and a fresh store
(cd "$S" && PORT=0 exec scripts/run-server.sh build/gpupoold) >"$T/server.out" 2>"$T/server.log" &
SERVER_PID=$!
EP=
i=0
while [ $i -lt 200 ] && [ -z "$EP" ]; do
  EP=$(sed -n 's/^gpupoold listening on //p' "$T/server.out" | head -1)
  [ -z "$EP" ] && sleep 0.05
  i=$((i + 1))
done
if [ -z "$EP" ]; then
  echo "FAIL: make run's gpupoold did not start:"
  cat "$T/server.out" "$T/server.log"
  exit 1
fi
failed=0
if ! grep -q "README.md" "$T/server.out"; then
  echo "FAIL: make run does not point at the README"
  failed=1
fi

# The README and docs/ link only to files of the repository and speak in their own words: no
# absolute paths of some other machine, no sections of a contract document users do not have.
for doc in "$README" docs/*.md; do
  dir=$(dirname "$doc")
  for target in $(grep -o '\]([^)]*)' "$doc" | sed 's/^](//; s/)$//; s/#.*//' | sort -u); do
    case "$target" in http://* | https://* | "") continue ;; esac
    if [ ! -e "$dir/$target" ]; then
      echo "FAIL: $doc links to $target, which is not in the repository"
      failed=1
    fi
  done
  if grep -n 'SPEC\.md\|SPEC §\|/work/' "$doc"; then
    echo "FAIL: $doc points outside the repository (lines above)"
    failed=1
  fi
done

echo "README walkthrough against $EP (make run's gpupoold, fresh store)"
(
  cd "$S" || exit 1
  unset GPUPOOL_TOKEN GPUPOOL_SUBSCRIPTION GPUPOOL_CACERT NO_COLOR
  HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" GPUPOOL_ENDPOINT="$EP" timeout 600 bash "$T/run.sh"
) >"$T/out" 2>&1
rc=$?
grep '^-- README.md' "$T/out"
if [ "$rc" != 0 ]; then
  line=$(grep '^-- README.md:[0-9]*$' "$T/out" | tail -1 | sed 's/^-- //')
  echo "FAIL: the block at $line failed (exit $rc); its output:"
  sed -n "/^-- $line\$/,\$p" "$T/out" | tail -40
  failed=1
fi
if [ "$(grep -c '^-- README.md:[0-9]*$' "$T/out")" -lt 10 ]; then
  echo "FAIL: fewer than 10 blocks ran: the README's fences are not what this test reads"
  failed=1
fi
if [ "$failed" = 0 ]; then echo "readme: the walkthrough ran"; fi
exit "$failed"
