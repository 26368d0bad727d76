# checks.sh - what the shell suites against a live gpupoold share (sourced, not run): a temporary
# directory $T removed at exit, one gpupoold ($PID, its URL in $EP, stopped at exit), and check
# counters. Set CHECKS_NAME (the directory's name) and GPUPOOLD before sourcing it.
#
#   ok / no WHY                   count a passed / failed check (no prints WHY and $T/err)
#   expect RC WHAT CMD...         CMD must exit RC; its stdout in $T/out, stderr in $T/err
#   contains FILE TEXT WHAT       FILE must contain TEXT (fixed string)
#   start_gpupoold ARGS...        gpupoold on 127.0.0.1:0 with ARGS; stdout in $T/server.out, log in
#                                 $T/server.log; exits the suite when it does not start
#   now_ms                        the wall clock in milliseconds
#   wait_for SECONDS CONDITION    polls CONDITION (shell text, eval'ed) every 0.1 s; false after SECONDS
T=$(mktemp -d "${TMPDIR:-/tmp}/gpupool-$CHECKS_NAME.XXXXXX")
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
  rm -rf "$T"
}
trap cleanup EXIT INT TERM
passed=0
failed=0
ok() { passed=$((passed + 1)); }
no() {
  failed=$((failed + 1))
  echo "FAIL: $*"
  [ -s "$T/err" ] && sed 's/^/  stderr: /' "$T/err" | head -20
}
expect() {
  want=$1 what=$2
  shift 2
  "$@" >"$T/out" 2>"$T/err"
  got=$?
  if [ "$got" = "$want" ]; then ok; else no "$what: exit $got, want $want"; fi
}
contains() {
  if grep -qF -- "$2" "$1"; then ok; else no "$3: '$2' not in $1"; fi
}
start_gpupoold() {
  "$GPUPOOLD" --listen 127.0.0.1:0 "$@" >"$T/server.out" 2>"$T/server.log" &
  PID=$!
  i=0
  while ! grep -q "listening on" "$T/server.out" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
  EP=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$T/server.out" | head -1)
  [ -n "$EP" ] || { echo "$CHECKS_NAME: gpupoold did not start:"; cat "$T/server.log"; exit 1; }
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_for() {
  limit=$(($(now_ms) + $1 * 1000))
  shift
  while ! eval "$@" >/dev/null 2>&1; do
    [ "$(now_ms)" -ge "$limit" ] && return 1
    sleep 0.1
  done
  return 0
}
