#!/bin/sh
# run-examples.sh - prints `gpupool plan` for every pool body under examples/ (the offline demo).
# Usage: scripts/run-examples.sh BUILD/gpupool
set -u
cli=${1:-build/gpupool}
for f in examples/pool-*.json; do
  echo "=== gpupool plan -f $f --feature ManagedGPU"
  "$cli" plan -f "$f" --feature ManagedGPU
  echo
done
