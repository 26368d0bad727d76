#!/bin/sh
# test-unit.sh - the agent's systemd unit (`make test-agent-unit`, part of `make test`).
#
# packaging/systemd/gpupool-agent.service carries @bindir@, which installation replaces; here a copy
# gets the build directory instead, so that systemd-analyze verify can resolve ExecStart, and must
# verify clean (no output, exit 0). --man=no: the man page named by Documentation= is made from
# --help at installation (help2man) and is not installed on the test machine. A copy with a broken
# directive must fail, so the check can fail. Then the unit's command line, with the values of
# packaging/default/gpupool-agent (its EnvironmentFile), is one the agent accepts: it starts, and
# stops cleanly on SIGTERM.
#
# Environment: B (build directory, default build).
set -u
B=${B:-build}
ROOT=$(pwd)
CHECKS_NAME=agent-unit
. "$ROOT/tests/lib/checks.sh" # $T, ok/no counters, cleanup at exit
AGENT_PID=
cleanup() {
  [ -n "$AGENT_PID" ] && kill -KILL "$AGENT_PID" 2>/dev/null
  rm -rf "$T"
}
UNIT="$ROOT/packaging/systemd/gpupool-agent.service"
DEFAULTS="$ROOT/packaging/default/gpupool-agent"

sed "s|@bindir@|$ROOT/$B|g" "$UNIT" >"$T/gpupool-agent.service"
if systemd-analyze verify --man=no "$T/gpupool-agent.service" >"$T/out" 2>&1 && [ ! -s "$T/out" ]; then ok; else
  no "systemd-analyze verify gpupool-agent.service is not clean:"
  sed 's/^/  | /' "$T/out"
fi
sed 's/^KillMode=mixed/KillMode=sometimes/' "$T/gpupool-agent.service" >"$T/broken.service"
mkdir -p "$T/broken" && mv "$T/broken.service" "$T/broken/gpupool-agent.service"
if systemd-analyze verify --man=no "$T/broken/gpupool-agent.service" >"$T/out" 2>&1 && [ ! -s "$T/out" ]; then
  no "systemd-analyze verify accepts a broken unit: the check proves nothing"
else
  ok
fi
grep -q '^ExecStart=@bindir@/gpupool-agent run ' "$UNIT" && ok || no "ExecStart is not @bindir@/gpupool-agent run"
grep -q '^StateDirectory=gpupool-agent$' "$UNIT" && ok || no "no StateDirectory=gpupool-agent"
grep -q '^EnvironmentFile=/etc/default/gpupool-agent$' "$UNIT" && ok || no "no EnvironmentFile"
grep -q '^KillMode=mixed$' "$UNIT" && ok || no "SIGTERM must reach the agent alone (KillMode=mixed)"

# The command line as systemd builds it: ${VAR} one word, $VAR split on spaces.
. "$DEFAULTS"
line=$(sed -n 's/^ExecStart=//p' "$T/gpupool-agent.service")
case "$line" in
  *'--state-dir /var/lib/gpupool-agent'*) ok ;;
  *) no "ExecStart does not keep the state in the StateDirectory" ;;
esac
line=$(echo "$line" | sed "s|--state-dir /var/lib/gpupool-agent|--state-dir $T/state|")
eval "set -- $(echo "$line" | sed -e 's/\${GPUPOOL_ENDPOINT}/"$GPUPOOL_ENDPOINT"/' -e 's/\${GPUPOOL_MACHINE}/"$GPUPOOL_MACHINE"/' \
  -e 's/\$GPUPOOL_AGENT_OPTS/$GPUPOOL_AGENT_OPTS/')"
GPUPOOL_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1 "$@" --vm-size Standard_ND96isr_H100_v5 --node-status-command false \
  >"$T/log" 2>&1 &
AGENT_PID=$!
i=0
while [ $i -lt 200 ] && ! grep -qs 'info start:' "$T/log"; do sleep 0.1; i=$((i + 1)); done
grep -q 'info start:' "$T/log" && ok || { no "the unit's command line does not start the agent:"; cat "$T/log"; }
i=0
while [ $i -lt 200 ] && ! grep -qs 'node status unknown, reported as not ready' "$T/log"; do sleep 0.1; i=$((i + 1)); done
grep -q "node status unknown, reported as not ready: 'false aks-h100-12345678-vmss000000' failed (exit 1)" "$T/log" &&
  ok || { no "a failing node status command is not logged"; cat "$T/log"; }
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
rc=$?
AGENT_PID=
[ "$rc" = 0 ] && ok || { no "the agent started by the unit's command line exited $rc on SIGTERM"; cat "$T/log"; }

echo "agent unit: $passed checks passed, $failed failed"
[ "$failed" = 0 ]
