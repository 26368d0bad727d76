#!/bin/sh
# test-rollout.sh - health-gated rollouts end to end (issue 12): six real `gpupool-agent run --execute`
# daemons on the fake NVML (tests/agent/fake_nvml.c) against a real gpupoold, their node commands
# recording their calls (tests/lib/agents.sh; each systemctl call takes AGENT_SYSTEMCTL_DELAY, so a
# machine's step lasts long enough to be seen), the pool changed with the gpupool CLI.
#
#   tests/rollout/test-rollout.sh          SQLite, one gpupoold
#   tests/rollout/test-rollout.sh --pg     PostgreSQL, replicas A and B on one database (odd machines
#                                          report to A, even ones to B), inside tests/pg/pg.sh run
#
# In order, on a pool of 6 machines with upgradeSettings.maxUnavailable "2":
#   1. a Restart-class change (Managed -> Unmanaged) moves exactly 2 machines at a time, in name
#      order: the machines' targets as the machine list shows them (sampled all along) and the
#      agents' recorded systemctl calls (no batch starts before the one before it has ended);
#   2. an Xid 79 injected into node-1 during its step halts the rollout naming node-1: the update
#      exits 1 (RolloutHalted), no further machine moves, `nodepool show -o table` says why;
#   3. node-1 rebooted, an unchanged PUT resumes the rollout and `nodepool abort` stops it where it
#      stands (Aborted, no further moves; a second abort: exit 1, nothing in progress);
#   4. a PUT of the old settings rolls back (a new generation, every machine on it at the end), with
#      gpupoold SIGKILLed mid-rollout and restarted (on PostgreSQL replica A killed, B serving on):
#      the rollout continues from the batch it was in, and no machine applies it twice;
#   5. a tag change creates no generation and runs nothing on any node; a label change (InPlace)
#      moves every machine at once and restarts nothing.
# Environment: B (build directory, default build).
set -u
B=${B:-build}
ROOT=$(pwd)
MODE=sqlite
case "${1:-}" in
--pg) MODE=pg ;;
"") ;;
*) echo "usage: tests/rollout/test-rollout.sh [--pg]" >&2; exit 2 ;;
esac
CHECKS_NAME=rollout-$MODE
AGENT_SYSTEMCTL_DELAY=0.2
# a rollout minute of 1 s: the controller looks at a progressing rollout every 100 ms, and a moved
# machine that never comes back halts it after (30 + 10) s rather than 40 minutes; an operation whose
# replica died is taken over after 2 s rather than 30
SRV_FLAGS="--rollout-minute-ms 1000 --operation-lease-ms 2000"
. "$ROOT/tests/lib/agents.sh" # $T, checks (checks.sh), the binaries and the pool's ids; start_srv/kill_srv, start_agent/stop_agent (recording commands), api, cli, eq
T4=$ROOT/tests/agent/gpus/t4x4.json
NODES="node-1 node-2 node-3 node-4 node-5 node-6"
# an agent's name (its files under $T/nK, its pid in nK_APID) from its node's
ag() { echo "n${1#node-}"; }
P="-g rg1 --cluster-name c1 -n gpu"
# (the updates below do not repeat --max-unavailable: the CLI carries the pool's upgradeSettings,
# which gpupoold would drop from a PUT that omits them, so the batches of 2 also check that)

# snapshot EP: the machines as one list read shows them, a line each in name order:
# "NAME TARGET APPLIED STATE" (into $T/snap)
snapshot() {
  api "$1" "$MACHINES" "$T/list.json" >/dev/null
  python3 -c '
import json, sys
try:
    ms = json.load(open(sys.argv[1])).get("value", [])
except Exception:
    ms = []
for m in sorted(ms, key=lambda m: m["name"]):
    s = m.get("properties", {}).get("status", {})
    print(m["name"], s.get("targetGeneration"), s.get("appliedGeneration"), s.get("state"))
' "$T/list.json" >"$T/snap"
}
# rollout EP FIELD: a field of the pool's status.rollout
rollout() {
  api "$1" "$POOL" "$T/pool.json" >/dev/null
  val "$T/pool.json" "properties|status|rollout|$2"
}
# moved GEN: the machines of the last snapshot whose target is GEN, in name order, space separated
moved() { awk -v g="$1" '$2 == g { printf "%s%s", (n++ ? " " : ""), $1 }' "$T/snap"; }
# done GEN: how many machines of the last snapshot are Conformant with GEN applied
done_at() { awk -v g="$1" '$2 == g && $3 == g && $4 == "Conformant" { n++ } END { print n + 0 }' "$T/snap"; }
# prefix N: the first N machines in name order
prefix() { echo "$NODES" | tr ' ' '\n' | head -n "$1" | paste -sd ' ' -; }
count() { [ -z "$1" ] && echo 0 || echo "$1" | wc -w | tr -d ' '; }

# watch_batches EP GEN BATCH SECONDS: samples the machine list until every machine is Conformant at
# GEN; every sample must show the moved machines as a prefix of the name order whose size is a
# multiple of BATCH (or all), with at most BATCH of them not yet done. Records the sizes seen in
# $T/sizes. False (with the offending sample in $T/bad) on a violation or the deadline.
watch_batches() {
  ep=$1 gen=$2 batch=$3 limit=$(($(now_ms) + $4 * 1000))
  : >"$T/sizes"
  while :; do
    snapshot "$ep"
    mv_=$(moved "$gen")
    n=$(count "$mv_")
    d=$(done_at "$gen")
    echo "$n" >>"$T/sizes"
    if [ "$mv_" != "$(prefix "$n")" ] || { [ $((n % batch)) != 0 ] && [ "$n" != 6 ]; } || [ $((n - d)) -gt "$batch" ]; then
      cp "$T/snap" "$T/bad"
      return 1
    fi
    [ "$d" = 6 ] && return 0
    [ "$(now_ms)" -ge "$limit" ] && { cp "$T/snap" "$T/bad"; return 1; }
    sleep 0.05
  done
}

# marks: each machine's number of recorded calls now, so that a step's calls are told apart
mark() { for n in $NODES; do cat "$T/$(ag "$n")/times" 2>/dev/null | wc -l | tr -d ' '; done >"$T/mark"; }
# calls_since NAME: the machine's timed calls after the mark
calls_since() {
  i=$(echo "$NODES" | tr ' ' '\n' | grep -nx "$1" | cut -d: -f1)
  from=$(sed -n "${i}p" "$T/mark")
  tail -n +"$((from + 1))" "$T/$(ag "$1")/times" 2>/dev/null
}

# ---------------------------------------------------------------------------------------------------
case $MODE in
sqlite)
  DBURL=sqlite:$T/gpupool.db
  start_srv A --db "$DBURL" $SRV_FLAGS
  B_EP=$A_EP
  ;;
pg)
  : "${GPT_PG_URL:?--pg runs inside tests/pg/pg.sh run}"
  DB="rollout_$$"
  psql -q "$GPT_PG_URL/postgres" -c "CREATE DATABASE $DB" >/dev/null || { no "CREATE DATABASE $DB"; exit 1; }
  DBURL=$GPT_PG_URL/$DB
  start_srv A --db "$DBURL" $SRV_FLAGS
  start_srv B --db "$DBURL" $SRV_FLAGS
  ;;
esac

expect 0 "feature register" cli "$A_EP" feature register -n ManagedGPU
expect 0 "cluster create" cli "$A_EP" cluster create -g rg1 -n c1 -k 1.35
expect 0 "nodepool add" cli "$A_EP" nodepool add $P -s Standard_NC64as_T4_v3 -c 6 --enable-managed-gpu \
  --node-taints sku=gpu:NoSchedule --max-unavailable 2
k=0
for n in $NODES; do
  k=$((k + 1))
  ep=$A_EP
  [ $((k % 2)) = 0 ] && ep=$B_EP
  start_agent "$(ag "$n")" "$ep" "$MACHINES/$n" "$T4" --interval 1s --execute
done
wait_for 60 "snapshot $A_EP && test \$(done_at 1) = 6" && ok || no "the 6 machines are not Conformant at generation 1: $(cat "$T/snap")"
echo "rollout ($MODE): 6 machines Conformant at generation 1"

# ---- 1. a Restart-class change, 2 machines at a time --------------------------------------------------
mark
start=$(now_ms)
cli "$A_EP" nodepool update $P --enable-managed-gpu=false &
cli_pid=$!
watch_batches "$A_EP" 2 2 60 && ok || no "Restart rollout: a sample broke the batches of 2: $(cat "$T/bad")"
wait $cli_pid
eq "$?" 0 "nodepool update waits for the rollout and exits 0 when it completed"
echo "rollout ($MODE): generation 2 on 6 machines in $(($(now_ms) - start)) ms; moved counts seen: $(sort -un "$T/sizes" | paste -sd ' ' -)"
grep -qx 2 "$T/sizes" && grep -qx 4 "$T/sizes" && ok || no "the samples never saw the batches of 2 and 4: $(sort -un "$T/sizes" | paste -sd ' ' -)"
wait_for 10 "test \"\$(rollout $A_EP state)\" = Completed" && ok || no "rollout state after it: $(rollout "$A_EP" state)"
eq "$(rollout "$A_EP" class)" Restart "rollout class"
eq "$(rollout "$A_EP" fromGeneration) $(rollout "$A_EP" toGeneration)" "1 2" "rollout from -> to"
eq "$(rollout "$A_EP" updated) $(rollout "$A_EP" pending)" "6 0" "rollout updated, pending"
# the records: every machine restarted or stopped GPU services, none was drained (Restart), and each
# batch's calls all came after the previous batch's
for n in $NODES; do calls_since "$n" >"$T/$n.step2"; done
for n in $NODES; do
  grep -q ' systemctl ' "$T/$n.step2" && ok || no "$n recorded no systemctl call for generation 2"
  if grep -q ' drain ' "$T/$n.step2"; then no "$n was drained for a Restart-class change"; else ok; fi
done
first() { head -n 1 "$T/$1.step2" | cut -d' ' -f1; }
last() { tail -n 1 "$T/$1.step2" | cut -d' ' -f1; }
for pair in "node-1 node-2 node-3 node-4" "node-3 node-4 node-5 node-6"; do
  set -- $pair
  end_=$(last "$1")
  [ "$(last "$2")" -gt "$end_" ] && end_=$(last "$2")
  begin=$(first "$3")
  [ "$(first "$4")" -lt "$begin" ] && begin=$(first "$4")
  [ "$begin" -gt "$end_" ] && ok || no "$3/$4 started ($begin) before $1/$2 ended ($end_)"
done

# ---- 2. Xid 79 during a step halts the rollout ------------------------------------------------------------
# the Xid comes with node-1's first systemctl call of the step (its hook): in the middle of it
echo "echo 'xid 0 79' >>'$T/n1/events'" >"$T/n1/hook-systemctl"
cli "$A_EP" nodepool update $P --enable-managed-gpu &
cli_pid=$!
wait_for 20 "test \"\$(rollout $A_EP state)\" = Halted" && ok || no "no Halted rollout after Xid 79 on node-1: $(rollout "$A_EP" state)"
eq "$(rollout "$A_EP" failed)" '["node-1"]' "the rollout names the machine that halted it"
case "$(rollout "$A_EP" reason)" in *node-1*) ok ;; *) no "the reason does not name node-1: $(rollout "$A_EP" reason)" ;; esac
wait $cli_pid
eq "$?" 1 "the update whose rollout halted exits 1"
mv "$T/err" "$T/halt.err"
contains "$T/halt.err" "(RolloutHalted)" "the update says RolloutHalted"
contains "$T/halt.err" "node-1" "the update names node-1"
contains "$T/halt.err" "gpupool nodepool abort -g rg1 --cluster-name c1 -n gpu" "the update says what to do next"
expect 0 "nodepool show -o table" cli "$B_EP" nodepool show $P -o table
grep -Eq '^Halted +2 +3 +Restart +[0-9]+ +[0-9]+ +node-1$' "$T/out" && ok || no "nodepool show -o table, the rollout line: $(grep -A2 '^Rollout' "$T/out")"
grep -q '^Reason: .*node-1' "$T/out" && ok || no "nodepool show -o table says no reason naming node-1"
sleep 1
snapshot "$B_EP"
eq "$(moved 3)" "node-1 node-2" "no machine moves after the halt"

# ---- 3. resume, abort -----------------------------------------------------------------------------------
# node-1 reboots (a new boot id: its Failed GPU clears); the same update again resumes the rollout,
# and an abort stops it where it stands.
stop_agent n1
echo "boot-2" >"$T/n1/boot_id"
start_agent n1 "$A_EP" "$MACHINES/node-1" "$T4" --interval 1s --execute
wait_for 20 "test \"\$(mstate $A_EP node-1)\" = Conformant" && ok || no "node-1 not Conformant after its reboot: $(mstate "$A_EP" node-1)"
# node-3's step takes 3 s (its first systemctl call waits): the abort comes while its batch is out
echo "sleep 3" >"$T/n3/hook-systemctl"
expect 0 "an unchanged update resumes" cli "$A_EP" nodepool update $P --enable-managed-gpu --no-wait
wait_for 20 "snapshot $A_EP && test \"\$(moved 3)\" = 'node-1 node-2 node-3 node-4'" && ok ||
  no "the resumed rollout did not move the next batch: $(cat "$T/snap")"
expect 0 "nodepool abort" cli "$B_EP" nodepool abort $P -o json
contains "$T/out" '"state": "Aborted"' "abort prints the pool, its rollout Aborted"
sleep 1
snapshot "$A_EP"
eq "$(moved 3)" "node-1 node-2 node-3 node-4" "no machine moves after the abort"
eq "$(rollout "$A_EP" state)" Aborted "rollout state after the abort"
expect 1 "a second abort" cli "$A_EP" nodepool abort $P
contains "$T/err" "(OperationNotAllowed)" "a second abort: OperationNotAllowed"
contains "$T/err" "Nothing to abort" "a second abort says there is nothing in progress"

# ---- 4. roll back with the old settings; gpupoold killed mid-rollout --------------------------------------
mark
expect 0 "roll back (the earlier settings, no wait)" cli "$A_EP" nodepool update $P --enable-managed-gpu=false --no-wait
wait_for 20 "test \"\$(rollout $A_EP toGeneration)\" = 4" && ok || no "the rollback is not generation 4: $(rollout "$A_EP" toGeneration)"
wait_for 20 "snapshot $A_EP && test -n \"\$(moved 4)\"" && ok || no "the rollback moved no machine"
before=$(moved 4)
kill_srv A KILL
sleep 1
start_srv A --db "$DBURL" $SRV_FLAGS
snapshot "$A_EP"
after=$(moved 4)
# every machine moved before is still moved (the batch is not lost); more may have moved when the
# batch ended meanwhile (the list is in name order, so the next batch's machines may sort anywhere)
lost=""
for mname in $before; do
  case " $after " in *" $mname "*) ;; *) lost="$lost $mname" ;; esac
done
case "$lost" in
"") ok ;;
*) no "after the restart the moved machines are '$after', before it '$before' (lost:$lost)" ;;
esac
wait_for 60 "snapshot $A_EP && test \$(done_at 4) = 6" && ok || no "the rollback did not reach the 6 machines: $(cat "$T/snap")"
wait_for 10 "test \"\$(rollout $A_EP state)\" = Completed" && ok || no "rollback state: $(rollout "$A_EP" state)"
for n in $NODES; do
  eq "$(grep -c 'generation 4 applied' "$T/$(ag "$n")/log")" 1 "$n applied generation 4 once"
done

# ---- 5. tags and labels -----------------------------------------------------------------------------------
mark
expect 0 "a tag change" cli "$A_EP" nodepool update $P --tags team=ml
eq "$(rollout "$A_EP" toGeneration)" 4 "a tag change creates no generation"
sleep 1
for n in $NODES; do eq "$(calls_since "$n" | wc -l | tr -d ' ')" 0 "$n ran nothing for a tag change"; done
cli "$A_EP" nodepool update $P --labels team=ml &
cli_pid=$!
watch_batches "$A_EP" 5 6 30 && ok || no "a label change did not move every machine at once: $(cat "$T/bad")"
wait $cli_pid
eq "$?" 0 "the label change's update"
grep -qvx '0' "$T/sizes" && ! grep -qvxE '0|6' "$T/sizes" && ok || no "moved counts seen for labels: $(sort -un "$T/sizes" | paste -sd ' ' -)"
for n in $NODES; do
  if calls_since "$n" | grep -q 'systemctl restart'; then no "$n restarted a service for a label change"; else ok; fi
done
eq "$(rollout "$A_EP" class)" InPlace "a label change's class"

for n in $NODES; do stop_agent "$(ag "$n")"; done
kill_srv A TERM
[ "$MODE" = pg ] && kill_srv B TERM
echo "rollout ($MODE): $passed checks passed, $failed failed"
[ "$failed" = 0 ]
