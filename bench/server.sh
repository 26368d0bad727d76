#!/usr/bin/env bash
# server.sh - gpupoold benchmarks (issue 3), with wrk on loopback, in one run:
#   GET agent pool and GET plan with If-None-Match (304) against gpupoold and against nginx serving
#   the same JSON as a static file (the ceiling); durable PUTs (creates, each with its operation);
#   a page of the list of a 1,000-pool cluster; resident memory with 100,000 pools stored.
# Installs wrk and nginx-light when missing (apt), writes the figures with the machine and date into
# bench/RESULTS.md (section "gpupoold"). Usage: bench/server.sh [BUILD/gpupoold]
# Knobs: BENCH_DURATION (s per wrk run, default 10), BENCH_CONNECTIONS (GETs, default 32),
#        BENCH_PUT_CONNECTIONS (default 16), BENCH_POOLS (pools stored for the memory figure, default 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/gpupoold}
dur=${BENCH_DURATION:-10}
conns=${BENCH_CONNECTIONS:-32}
put_conns=${BENCH_PUT_CONNECTIONS:-16}
fill=${BENCH_POOLS:-100000}
[ -x "$bin" ] || { echo "bench: build $bin first (make)" >&2; exit 1; }

source bench/lib.sh
bench_packages wrk nginx-light curl
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d /tmp/gpupoold-bench-XXXXXX)
chmod 755 "$work"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

start_gpupoold gpupoold "sqlite:$work/db/gpupool.db"
base="http://127.0.0.1:$port"
sub=6f0d2b1c-3a4e-4b5f-9c6d-7e8f90a1b2c3
rg="$base/subscriptions/$sub/resourceGroups/bench/providers/Microsoft.ContainerService"
api=2026-08-02-preview
json='Content-Type: application/json'

pools_stored() { curl -s "$base/metrics" | awk '/^gpupoold_agent_pools\{/ { n += $2 } END { print n + 0 }'; }

curl -s -o /dev/null -X POST "$base/subscriptions/$sub/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/ManagedGPU/register?api-version=2021-07-01"
curl -s -o /dev/null -X PUT -H "$json" "$rg/managedClusters/c1?api-version=$api" -d '{"location":"eastus"}'
wait_succeeded "$rg/managedClusters/c1?api-version=$api"
pool_url="$rg/managedClusters/c1/agentPools/gpu1?api-version=$api"
plan_url="$rg/managedClusters/c1/agentPools/gpu1/plan?api-version=$api"
curl -s -o /dev/null -X PUT -H "$json" "$pool_url" -d @examples/pool-h100-mig1g-managed.json
wait_succeeded "$pool_url"

# nginx serves the very same bytes as static files
mkdir -p "$work/www" "$work/nginx/tmp"
chmod 755 "$work/www"
curl -s "$pool_url" >"$work/www/pool.json"
curl -s "$plan_url" >"$work/www/plan.json"
chmod 644 "$work/www/"*.json
nport=0
for p in $(shuf -i 20000-60000 -n 50); do
  (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { nport=$p; break; }
done
user_line=""; [ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$work/nginx/nginx.conf" <<CONF
$user_line
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  default_type application/json;
  server { listen 127.0.0.1:$nport; root $work/www; etag on; }
}
CONF
"$nginx_bin" -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$nport/pool.json" && break; sleep 0.05; done
nginx_etag=$(curl -sI "http://127.0.0.1:$nport/plan.json" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" { print $2 }')
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $nginx_etag" "http://127.0.0.1:$nport/plan.json")" = 304 ]
plan_etag=$(curl -sI "$plan_url" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" { print $2 }')   # "1-<hex>"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $plan_etag" "$plan_url")" = 304 ]

echo "bench: GET agent pool" >&2
run_wrk get_nginx -t2 -c"$conns" -d"${dur}s" "http://127.0.0.1:$nport/pool.json"
run_wrk get_gpupoold -t2 -c"$conns" -d"${dur}s" "$pool_url"
echo "bench: GET plan, If-None-Match (304)" >&2
run_wrk nm_nginx -t2 -c"$conns" -d"${dur}s" -H "If-None-Match: $nginx_etag" "http://127.0.0.1:$nport/plan.json"
run_wrk nm_gpupoold -t2 -c"$conns" -d"${dur}s" -H "If-None-Match: $plan_etag" "$plan_url"

echo "bench: durable PUT" >&2
curl -s -o /dev/null -X PUT -H "$json" "$rg/managedClusters/puts?api-version=$api" -d '{"location":"eastus"}'
wait_succeeded "$rg/managedClusters/puts?api-version=$api"
puts_path="/subscriptions/$sub/resourceGroups/bench/providers/Microsoft.ContainerService/managedClusters/puts/agentPools"
run_wrk put -t2 -c"$put_conns" -d"${dur}s" -s bench/wrk/put-pools.lua "$base" -- "$puts_path" 2026-06-01
put_count=$(requests put)
wait_idle "$base"
# the same at twice the concurrency: the machine is saturated (wrk shares its two CPUs)
curl -s -o /dev/null -X PUT -H "$json" "$rg/managedClusters/puts2?api-version=$api" -d '{"location":"eastus"}'
wait_succeeded "$rg/managedClusters/puts2?api-version=$api"
run_wrk put32 -t2 -c"$conns" -d"${dur}s" -s bench/wrk/put-pools.lua "$base" -- "${puts_path/puts/puts2}" 2026-06-01
wait_idle "$base"

echo "bench: list of a 1,000-pool cluster" >&2
curl -s -o /dev/null -X PUT -H "$json" "$rg/managedClusters/list1k?api-version=$api" -d '{"location":"eastus"}'
wait_succeeded "$rg/managedClusters/list1k?api-version=$api"
for b in $(seq 0 9); do
  profiles=$(for i in $(seq 0 99); do printf '{"name":"p%d","vmSize":"Standard_NC4as_T4_v3","count":2},' $((b * 100 + i)); done)
  curl -s -o /dev/null -X PUT -H "$json" "$rg/managedClusters/list1k?api-version=$api" \
    -d "{\"location\":\"eastus\",\"properties\":{\"agentPoolProfiles\":[${profiles%,}]}}"
  wait_succeeded "$rg/managedClusters/list1k?api-version=$api"
done
list_url="$rg/managedClusters/list1k/agentPools?api-version=$api"
[ "$(curl -s "$list_url&\$top=1000" | grep -o '"type":"Microsoft.ContainerService/managedClusters/agentPools"' | wc -l)" = 1000 ]
run_wrk list100 -t2 -c4 -d"${dur}s" "$list_url"
run_wrk list1000 -t2 -c4 -d"${dur}s" "$list_url&\$top=1000"

echo "bench: memory with $fill pools stored" >&2
have=$(pools_stored)
n=0
while [ "$have" -lt "$fill" ]; do
  batch=$(( fill - have < 100 ? fill - have : 100 ))
  profiles=$(for i in $(seq 1 "$batch"); do printf '{"name":"p%d","vmSize":"Standard_NC4as_T4_v3"},' "$i"; done)
  printf '{"location":"eastus","properties":{"agentPoolProfiles":[%s]}}' "${profiles%,}" >"$work/fill-$batch.json"
  echo "$rg/managedClusters/fill$n?api-version=$api $work/fill-$batch.json"
  have=$((have + batch)); n=$((n + 1))
done | xargs -r -P 4 -n 2 sh -c 'curl -s -o /dev/null -X PUT -H "Content-Type: application/json" "$0" -d @"$1"'
wait_idle "$base"
stored=$(pools_stored)
curl -s -o /dev/null "$pool_url"; curl -s -o /dev/null "$list_url"
rss_filled=$(awk '/^VmRSS/ { print $2 }' "/proc/$gpid/status")
hwm_filled=$(awk '/^VmHWM/ { print $2 }' "/proc/$gpid/status")
dbsize=$(du -sk "$work/db" | cut -f1)
# the same store after a restart, warmed by GETs and list pages
stop_gpupoold "$gpid"
start_gpupoold gpupoold "sqlite:$work/db/gpupool.db"
base="http://127.0.0.1:$port"
rg="$base/subscriptions/$sub/resourceGroups/bench/providers/Microsoft.ContainerService"
pool_url="$rg/managedClusters/c1/agentPools/gpu1?api-version=$api"
list_url="$rg/managedClusters/list1k/agentPools?api-version=$api"
wrk -t2 -c"$conns" -d3s "$pool_url" >/dev/null
wrk -t2 -c4 -d3s "$list_url" >/dev/null
wrk -t2 -c4 -d3s "$list_url&\$top=1000" >/dev/null
rss_restart=$(awk '/^VmRSS/ { print $2 }' "/proc/$gpid/status")
hwm_restart=$(awk '/^VmHWM/ { print $2 }' "/proc/$gpid/status")

cpu=$(cpu_model)
ok() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { r = (op == ">=") ? a >= b : a < b; print r ? "met" : "**missed**" }'; }
g=$(rps get_gpupoold); gn=$(rps get_nginx); nm=$(rps nm_gpupoold); nmn=$(rps nm_nginx)
put_rps=$(rps put); put_p99=$(p99 put); l100=$(p99 list100); l1000=$(p99 list1000)
rss_mb=$(awk -v k="$rss_restart" 'BEGIN { printf "%.1f", k / 1024 }')
rss_filled_mb=$(awk -v k="$rss_filled" 'BEGIN { printf "%.1f", k / 1024 }')
section=$(cat <<TXT
<!-- gpupoold:begin -->
## gpupoold (issue 3): ARM control plane, SQLite store

\`bench/server.sh\` — $(date -u +%Y-%m-%d), $(nproc) CPUs ($cpu), $(uname -r), wrk $(wrk -v 2>&1 | awk 'NR==1{print $2}'),
nginx $("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///'), SQLite $(pkg-config --modversion sqlite3), libmicrohttpd $(pkg-config --modversion libmicrohttpd).
Everything on one machine over loopback: wrk, gpupoold (default flags: 64 HTTP threads, SQLite WAL with
synchronous=FULL, one log line per request to a file) and nginx (\`worker_processes auto\`, access log off,
serving the same JSON bytes as static files: the ceiling). ${dur} s per run, wrk \`-t2 -c$conns\` unless noted.

| what | gpupoold | nginx | target | result |
|---|---|---|---|---|
| GET agent pool | $g req/s | $gn req/s | ≥ 50% of nginx | $(pct "$g" "$gn")% — $(ok "$(pct "$g" "$gn")" ">=" 50) |
| GET plan, \`If-None-Match\` → 304 | $nm req/s | $nmn req/s | ≥ 50% of nginx | $(pct "$nm" "$nmn")% — $(ok "$(pct "$nm" "$nmn")" ">=" 50) |
| durable PUT (create a T4 pool + its operation), \`-c$put_conns\` | $put_rps req/s, p99 $put_p99 ms ($put_count pools) | | ≥ 2,000/s, p99 < 20 ms | $(ok "$put_rps" ">=" 2000) / $(ok "$put_p99" "<" 20) |
| the same at \`-c$conns\` (CPUs saturated) | $(rps put32) req/s, p99 $(p99 put32) ms | | (p99 < 20 ms) | $(ok "$(p99 put32)" "<" 20) |
| list of a 1,000-pool cluster, default page (100), \`-c4\` | p99 $l100 ms ($(rps list100) req/s) | | p99 < 20 ms | $(ok "$l100" "<" 20) |
| the same, \`\$top=1000\` (all 1,000 in one page), \`-c4\` | p99 $l1000 ms ($(rps list1000) req/s) | | (p99 < 20 ms) | $(ok "$l1000" "<" 20) |
| resident memory, $stored pools stored (restarted, then GETs and list pages) | $rss_mb MB (peak $(awk -v k="$hwm_restart" 'BEGIN { printf "%.1f", k / 1024 }') MB) | | < 50 MB | $(ok "$rss_mb" "<" 50) |
| resident memory right after storing them | $rss_filled_mb MB (peak $(awk -v k="$hwm_filled" 'BEGIN { printf "%.1f", k / 1024 }') MB while filling) | | | |

The PUT run reconciles as it goes (each create's operation builds and stores the pool's plan on the same
two CPUs). The store held $stored pools in $((dbsize / 1024)) MB on disk at the end.
<!-- gpupoold:end -->
TXT
)
echo "$section"
write_section gpupoold "$section"
