#!/bin/sh
# run-python.sh - the Python SDK scenario (tests/sdk/python/scenario.py, Debian's python3-azure) against a
# gpupoold this script starts on a free loopback port. Uses Debian's /usr/bin/python3, where
# python3-azure lives. Usage: tests/sdk/run-python.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}
ROOT=$(pwd)
PY=/usr/bin/python3
if ! "$PY" -c 'import azure.mgmt.containerservice, azure.mgmt.resource' 2>/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-azure >/dev/null
fi
T=$(mktemp -d)
"$ROOT/$B/gpupoold" --listen 127.0.0.1:0 --db "sqlite:$T/py.db" --retry-after 0 >"$T/addr" 2>"$T/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
i=0; EP=
while [ -z "$EP" ] && [ $i -lt 100 ]; do sleep 0.05; EP=$(sed -n 's/^gpupoold listening on //p' "$T/addr"); i=$((i + 1)); done
[ -n "$EP" ] || { cat "$T/log"; exit 1; }
if "$PY" tests/sdk/python/scenario.py "$EP"; then exit 0; fi
echo "--- gpupoold log" >&2
tail -40 "$T/log" >&2
exit 1
