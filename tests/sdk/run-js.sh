#!/bin/sh
# run-js.sh - the JavaScript SDK scenario (tests/sdk/js/scenario.js) against a gpupoold this script
# starts on a free loopback port: over plain http with --auth none, then over https with --auth jwt.
# Installs the pinned npm packages from the committed lockfile (npm ci) and Node.js from Debian if
# it is missing. Usage: tests/sdk/run-js.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}
ROOT=$(pwd)
. tests/lib/node.sh
need_node 20 "run-js.sh: @azure/arm-containerservice 25.5.0"
cd tests/sdk/js
if [ ! -d node_modules/@azure/arm-containerservice ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
T=$(mktemp -d)
PID=
trap '[ -z "$PID" ] || { kill $PID 2>/dev/null; wait $PID 2>/dev/null; }; rm -rf "$T"' EXIT
RUNS=0
start() { # start ARGS...: a gpupoold on a free loopback port with a fresh store; its URL in EP
  RUNS=$((RUNS + 1))
  "$ROOT/$B/gpupoold" --listen 127.0.0.1:0 --db "sqlite:$T/js-$RUNS.db" --retry-after 0 "$@" >"$T/addr" 2>"$T/log" &
  PID=$!
  i=0; EP=
  while [ -z "$EP" ] && [ $i -lt 200 ]; do sleep 0.05; EP=$(sed -n 's/^gpupoold listening on //p' "$T/addr"); i=$((i + 1)); done
  [ -n "$EP" ] || { cat "$T/log"; exit 1; }
}
stop() {
  kill $PID; wait $PID; rc=$?; PID=
  [ "$rc" = 0 ] || { echo "run-js.sh: gpupoold exited with $rc" >&2; tail -20 "$T/log" >&2; exit 1; }
}
fail() {
  echo "--- gpupoold log" >&2
  tail -40 "$T/log" >&2
  exit 1
}

# Plain http, --auth none: the SDK's bearer policy replaced (it refuses http).
start --auth none
node scenario.js "$EP" || fail
stop

# https with --auth jwt: the SDK exactly as shipped, a JWT minted by the test (tests/security/sectool),
# the test CA through NODE_EXTRA_CA_CERTS.
S=$T/security
mkdir "$S"
"$ROOT/$B/tests/security/sectool" setup "$S" "$ROOT/tests/security/principals.txt" || exit 1
jwt() { sed -n "s/^$1=//p" "$S/vars"; }
start --tls-cert "$S/server.pem" --tls-key "$S/server.key" --auth jwt --jwt-keys "$S/jwks.json" \
  --jwt-issuer "$(jwt issuer)" --jwt-audience "$(jwt audience)" --assignments "$S/assignments"
case "$EP" in https://*) ;; *) echo "run-js.sh: not an https endpoint: $EP" >&2; exit 1 ;; esac
NODE_EXTRA_CA_CERTS="$S/ca.pem" GPUPOOL_TEST_JWT="$(jwt jwt_admin)" GPUPOOL_TEST_JWT_REFUSED="$(jwt jwt_expired)" \
  GPUPOOL_TEST_JWT_NOROLE="$(jwt jwt_unassigned)" node scenario.js "$EP" || fail
stop
