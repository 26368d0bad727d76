#!/bin/sh
# run-server.sh - `make run`: prints a quickstart (curl and gpupool CLI commands), then runs gpupoold
# in the foreground on 127.0.0.1:8080 with the SQLite default (./var/gpupool.db, created on first
# start). Ctrl-C stops it; the store stays. Extra gpupoold flags: make run RUN_ARGS="--phase ga".
# Usage: scripts/run-server.sh BUILD/gpupoold [gpupoold flags...]
set -eu
bin=${1:-build/gpupoold}
[ $# -gt 0 ] && shift
cli=$(dirname "$bin")/gpupool
api=2026-08-02-preview
cat <<TXT
gpupoold: the managed GPU control plane, serving the ARM API on http://127.0.0.1:8080
Quickstart, in another terminal:

  S=00000000-0000-0000-0000-000000000000          # any GUID; the gpupool CLI uses this one by default
  B=http://127.0.0.1:8080/subscriptions/\$S
  C=\$B/resourceGroups/demo/providers/Microsoft.ContainerService/managedClusters/gpu

  # 1. register the preview feature of the managed GPU experience
  curl -s -X POST "\$B/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/ManagedGPU/register?api-version=2021-07-01"
  # 2. a managed cluster (asynchronous: 201 with provisioningState Creating and an Azure-AsyncOperation URL)
  curl -s -X PUT -H 'Content-Type: application/json' "\$C?api-version=$api" \\
       -d '{"location":"eastus","properties":{"kubernetesVersion":"1.35"}}'
  # 3. an H100 pool, MIG 1g on every GPU, managed (driver, device plugin, DCGM, exporter, fabric manager)
  curl -s -i -X PUT -H 'Content-Type: application/json' "\$C/agentPools/h100?api-version=$api" \\
       -d @examples/pool-h100-mig1g-managed.json
  # 4. what gets installed on its nodes: the plan node agents poll (ETag = generation, If-None-Match -> 304)
  curl -s "\$C/agentPools/h100/plan?api-version=$api"

The same with the CLI ($cli):

  $cli feature register -n ManagedGPU
  $cli cluster create -g demo -n gpu
  $cli nodepool add -g demo --cluster-name gpu -n h100 -s Standard_ND96isr_H100_v5 -c 2 \\
      --gpu-instance-profile MIG1g --enable-managed-gpu -o table
  $cli nodepool plan -g demo --cluster-name gpu -n h100 -o table

Web console: open http://127.0.0.1:8080/ui/ in a browser (gpupoold --no-ui turns it off).
Health and metrics: curl http://127.0.0.1:8080/healthz; curl http://127.0.0.1:8080/metrics
Flags: $bin --help. Ctrl-C stops gpupoold; the store stays in ./var/gpupool.db.

TXT
exec "$bin" --listen 127.0.0.1:8080 --db sqlite:./var/gpupool.db "$@"
