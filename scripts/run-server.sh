#!/bin/sh
# run-server.sh - `make run`: runs gpupoold in the foreground on 127.0.0.1:$PORT (default 8080) with
# the SQLite default (./var/gpupool.db, created on first start) and says what to do next. Ctrl-C
# stops it; the store stays. Extra gpupoold flags: make run RUN_ARGS="--phase ga"; another port:
# make run PORT=8081 (PORT=0 picks a free one; gpupoold prints the URL it serves either way).
# Usage: [PORT=N] scripts/run-server.sh BUILD/gpupoold [gpupoold flags...]
set -eu
bin=${1:-build/gpupoold}
[ $# -gt 0 ] && shift
cli=$(dirname "$bin")/gpupool
port=${PORT:-8080}
mkdir -p var
cat <<TXT
gpupoold: the managed GPU control plane (the ARM API), store ./var/gpupool.db.
In another terminal, follow README.md from its walkthrough on, for example:

  $cli vm-size list -o table
  $cli cluster create -g demo -n gpu -o table
TXT
if [ "$port" != 8080 ]; then
  cat <<TXT

The CLI's default endpoint is http://127.0.0.1:8080: point it at this gpupoold first, with the URL
of the "gpupoold listening on" line below:  export GPUPOOL_ENDPOINT=http://127.0.0.1:$port
TXT
fi
cat <<TXT

Web console: open http://127.0.0.1:$port/ui/ in a browser (gpupoold --no-ui turns it off).
Health and metrics: curl http://127.0.0.1:$port/healthz; curl http://127.0.0.1:$port/metrics
Ctrl-C stops gpupoold; the store stays. Flags: $bin --help (make run RUN_ARGS="--phase ga").

TXT
exec "$bin" --listen "127.0.0.1:$port" --db sqlite:./var/gpupool.db "$@"
