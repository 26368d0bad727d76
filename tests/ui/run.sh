#!/bin/sh
# run.sh - the web console's browser suite (tests/ui/console.test.js) against BUILD_DIR/gpupoold:
# Debian's chromium, headless, driven by playwright-core (pinned by the committed package-lock.json,
# installed with npm ci; no browser is downloaded). Installs Node.js from Debian if it is missing
# (chromium comes from scripts/packages.txt). Screenshots and figures go to BUILD_DIR/ui-test/.
# Usage: tests/ui/run.sh [BUILD_DIR]; UI_BENCH=1 measures more loads; UI_DOCS=DIR copies the main
# screenshots to DIR (docs/ in the repository).
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}
ROOT=$(pwd)
. tests/lib/node.sh
need_node 20 "tests/ui/run.sh: playwright-core 1.65.1"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "run.sh: $CHROMIUM is missing (Debian package chromium, scripts/packages.txt)" >&2; exit 1; }
export CHROMIUM
cd tests/ui
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
set -- --gpupoold "$ROOT/$B/gpupoold" --out "$ROOT/$B/ui-test"
[ -z "${UI_BENCH:-}" ] || set -- "$@" --bench
[ -z "${UI_DOCS:-}" ] || set -- "$@" --docs "$ROOT/$UI_DOCS"
exec node console.test.js "$@"
