#!/bin/sh
# run.sh - runs the libFuzzer harnesses (see mk/fuzz.mk). Each runs FUZZ_SECONDS on its seeds plus
# the corpus it grew before ($FUZZ_B/corpus/<harness>, kept between runs); any crash, leak, timeout
# or sanitizer report fails (the input is kept under $FUZZ_B/artifacts/). With --seeds-only every
# seed runs once, which is what `make test` does. FUZZ_RECORD=1 writes the executions per harness to
# bench/RESULTS.md (section "fuzz").
set -u
FUZZ_B=${FUZZ_B:-build/fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-60}
only_seeds=0
[ "${1:-}" = --seeds-only ] && only_seeds=1
mkdir -p "$FUZZ_B/artifacts" "$FUZZ_B/logs"
# fuzz_one NAME: runs one harness; its verdict line into $FUZZ_B/logs/NAME.verdict, its table row
# into NAME.row
fuzz_one() {
  name=$1
  bin=$FUZZ_B/fuzz_$name
  seeds=$FUZZ_B/seeds/$name
  log=$FUZZ_B/logs/$name.log
  case $name in
    body | auth) max_len=16384 ;;
    router) max_len=4096 ;;
    nvsmi_xml) max_len=65536 ;;
  esac
  common="-max_len=$max_len -timeout=10 -rss_limit_mb=2048 -artifact_prefix=$FUZZ_B/artifacts/$name- -print_final_stats=1"
  if [ $only_seeds = 1 ]; then
    # -runs=0: the seeds are run once while the corpus is loaded, then it stops
    # shellcheck disable=SC2086
    "$bin" $common -runs=0 "$seeds" >"$log" 2>&1
  else
    mkdir -p "$FUZZ_B/corpus/$name"
    # shellcheck disable=SC2086
    "$bin" $common -max_total_time="$SECONDS_EACH" "$FUZZ_B/corpus/$name" "$seeds" >"$log" 2>&1
  fi
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(ls "$FUZZ_B/corpus/$name" 2>/dev/null | wc -l)
  if [ $rc != 0 ]; then
    { echo "FAIL fuzz_$name (exit $rc), log $log:"; grep -E "ERROR|SUMMARY|Test unit written|==[0-9]+==" "$log" | head -20; } >"$FUZZ_B/logs/$name.verdict"
  else
    echo "ok   fuzz_$name: ${execs:-?} executions, coverage ${cov:-?}$([ $only_seeds = 1 ] || echo ", corpus $corpus")" >"$FUZZ_B/logs/$name.verdict"
  fi
  echo "| fuzz_$name | ${execs:-?} | ${cov:-?} | $corpus |" >"$FUZZ_B/logs/$name.row"
}

# One harness a CPU at a time (FUZZ_JOBS): each still runs FUZZ_SECONDS, the whole run takes less.
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
names="body router nvsmi_xml auth"
running=0
for name in $names; do
  rm -f "$FUZZ_B/logs/$name.verdict" "$FUZZ_B/logs/$name.row"
  fuzz_one "$name" &
  running=$((running + 1))
  if [ $running -ge "$jobs" ]; then
    wait
    running=0
  fi
done
wait
failed=0
summary=""
for name in $names; do
  if [ -s "$FUZZ_B/logs/$name.verdict" ]; then cat "$FUZZ_B/logs/$name.verdict"; else echo "FAIL fuzz_$name: no verdict"; fi
  grep -q '^ok ' "$FUZZ_B/logs/$name.verdict" 2>/dev/null || failed=$((failed + 1))
  summary="$summary$(cat "$FUZZ_B/logs/$name.row" 2>/dev/null)
"
done
if [ $only_seeds = 0 ] && [ "${FUZZ_RECORD:-0}" = 1 ] && [ $failed = 0 ]; then
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
  section=$(cat <<TXT
<!-- fuzz:begin -->
## fuzz (issue 7): libFuzzer harnesses

\`make fuzz FUZZ_SECONDS=$SECONDS_EACH FUZZ_RECORD=1\` — $(date -u +%Y-%m-%d), $(nproc) CPUs ($cpu), $(uname -r),
$(clang --version | head -1). Each harness runs $SECONDS_EACH s, one process, ASan + UBSan (+ LeakSanitizer),
on its seeds and the corpus of earlier runs ($jobs at a time); none found a crash, leak or sanitizer report.

| harness | executions | coverage (edges) | corpus after |
|---|---|---|---|
$(printf '%s' "$summary")
<!-- fuzz:end -->
TXT
)
  bench/write-section.sh fuzz "$section"
fi
[ $failed = 0 ]
