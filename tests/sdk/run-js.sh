#!/bin/sh
# run-js.sh - the JavaScript SDK scenario (tests/sdk/js/scenario.js) against a gpupoold this script
# starts on a free loopback port. Installs the pinned npm packages from the committed lockfile
# (npm ci) and Node.js from Debian if it is missing. Usage: tests/sdk/run-js.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}
ROOT=$(pwd)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "run-js.sh: Node.js $major is too old for @azure/arm-containerservice 25.5.0 (needs 20 or later)" >&2
  exit 1
fi
cd tests/sdk/js
if [ ! -d node_modules/@azure/arm-containerservice ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
T=$(mktemp -d)
"$ROOT/$B/gpupoold" --listen 127.0.0.1:0 --db "sqlite:$T/js.db" --retry-after 0 >"$T/addr" 2>"$T/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
i=0; EP=
while [ -z "$EP" ] && [ $i -lt 100 ]; do sleep 0.05; EP=$(sed -n 's/^gpupoold listening on //p' "$T/addr"); i=$((i + 1)); done
[ -n "$EP" ] || { cat "$T/log"; exit 1; }
if node scenario.js "$EP"; then exit 0; fi
echo "--- gpupoold log" >&2
tail -40 "$T/log" >&2
exit 1
