#!/bin/sh
# run-tests.sh - gpupoold's security suite (issue 7). Makes fresh test material with sectool (a CA
# and server certificate, JWT keys, a token and an object id per principal of principals.txt,
# good and bad JWTs), runs the scenario files here through the HTTP runner over https, then checks
# what scenarios cannot: start-up refusals, SIGHUP reloads, the audit log and that no token is
# ever logged, and the CLI and the agent against an https server with tokens.
#
# Part of `make test` (mk/security.mk). Environment: B (build directory, default build).
set -u
B=${B:-build}
ROOT=$(pwd)
GPUPOOLD=$ROOT/$B/gpupoold
GPUPOOL=$ROOT/$B/gpupool
AGENT=$ROOT/$B/gpupool-agent
SECTOOL=$ROOT/$B/tests/security/sectool
RUNNER=$ROOT/$B/tests/http-runner
CHECKS_NAME=security
. "$ROOT/tests/lib/checks.sh"

"$SECTOOL" setup "$T" tests/security/principals.txt || exit 1
. "$T/vars"
sub=0b3c8a1e-5f7d-4c2a-9e61-3d8f2b7a4c10 # subscription A: the HTTP runner's {{sub}}, principals.txt's A

# ---- the scenarios (tests/security/*.json) ----------------------------------------------------------
"$RUNNER" --server "$GPUPOOLD" --vars "$T/vars" --cacert "$T/ca.pem" tests/security/*.json && ok || no "scenarios"

# ---- the audit logs the scenarios wrote ---------------------------------------------------------------
for log in "$T"/audit-*.log; do
  expect 0 "audit lines of $log" "$SECTOOL" check-audit "$log"
done
A=$T/audit-authz.log
contains "$A" '"audit":"denied","principal":"reader_a","method":"PUT","resourceId":"/subscriptions/'"$sub"'/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/gpu1","status":403' "a denied write is audited"
contains "$A" '"audit":"write","principal":"admin","method":"PUT","resourceId":"/subscriptions/'"$sub"'/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1","status":201' "a write is audited"
contains "$A" '"reason":"no role assignment allows Microsoft.ContainerService/managedClusters/agentPools/write here"' "the reason of a 403"
contains "$T/audit-tokens.log" '"audit":"denied","principal":null,"method":"GET"' "a 401 is audited without a principal"
contains "$T/audit-tokens.log" '"status":401,' "401s are audited"
contains "$T/audit-throttle.log" '"status":429,' "429s are audited"
contains "$T/audit-jwt.log" '"reason":"the JWT has expired"' "why a JWT was refused"
if grep -q '"method":"GET".*"status":200' "$A"; then no "a successful read was audited"; else ok; fi

# ---- start-up refusals ------------------------------------------------------------------------------
refuse() { # refuse RC TEXT WHAT ARGS...: gpupoold must exit RC saying TEXT
  want=$1 text=$2 what=$3
  shift 3
  "$GPUPOOLD" --db "sqlite:$T/refused.db" "$@" >"$T/out" 2>"$T/err"
  got=$?
  if [ "$got" = "$want" ] && grep -qF -- "$text" "$T/err"; then ok; else no "$what: exit $got (want $want), stderr: $(head -c 300 "$T/err")"; fi
}
refuse 2 "--auth none is allowed only on a loopback address" "no auth on 0.0.0.0" --listen 0.0.0.0:0
refuse 2 "--auth none is allowed only on a loopback address" "no auth on ::" --listen '[::]:0'
refuse 2 "--auth none is allowed only on a loopback address" "--auth none on a port of all addresses" --listen :0 --auth none
refuse 2 "plain http" "tokens over plain http on 0.0.0.0" --listen 0.0.0.0:0 --auth tokens --tokens-file "$T/tokens"
refuse 2 "needs --jwt-keys" "jwt without its flags" --listen 127.0.0.1:0 --auth jwt --jwt-keys "$T/jwks.json"
refuse 2 "needs --auth tokens" "a tokens file without --auth tokens" --listen 127.0.0.1:0 --tokens-file "$T/tokens"
refuse 2 "go together" "a certificate without its key" --listen 127.0.0.1:0 --tls-cert "$T/server.pem"
refuse 2 "--throttle-reads must be a rate" "a bad rate" --listen 127.0.0.1:0 --throttle-reads 10
refuse 1 "with --tls-key" "a key that is not the certificate's" --listen 127.0.0.1:0 --tls-cert "$T/other-ca.pem" --tls-key "$T/server.key"
refuse 1 "cannot open" "a missing tokens file" --listen 127.0.0.1:0 --auth tokens --tokens-file "$T/nothing"
bad_tokens() { # bad_tokens TEXT WHAT LINE...: a tokens file with these lines is refused, saying TEXT
  text=$1 what=$2
  shift 2
  printf '%s\n' "# a comment" "$@" >"$T/bad-tokens"
  refuse 1 "$text" "$what" --listen 127.0.0.1:0 --auth tokens --tokens-file "$T/bad-tokens"
}
H=$(sed -n 's/^sha_admin=//p' "$T/vars")
bad_tokens "bad-tokens:2: the first field must be the SHA-256 of the token" "a token in clear" "$tok_admin admin Contributor /"
bad_tokens "bad-tokens:2: role 'Owner'" "an unknown role" "$H admin Owner /"
bad_tokens "bad-tokens:2: scope 'subscriptions/x'" "a scope without /" "$H admin Reader subscriptions/x"
bad_tokens "bad-tokens:2: scope '/resourceGroups/x'" "a scope not under a subscription" "$H admin Reader /resourceGroups/x"
bad_tokens "an Agent's scope must be one agent pool's id" "an Agent on a subscription" "$H node Agent /subscriptions/$sub"
bad_tokens "bad-tokens:2: missing fields" "three fields" "$H admin Reader"
bad_tokens "bad-tokens:3: this token was given to principal 'admin' on line 2" "one token, two principals" \
  "$H admin Reader /" "$H other Reader /"
printf '%s\n' "$(cat "$T/jwks.json")" >"$T/keys-with-private.pem"
cat "$T/jwt-rsa.key" >>"$T/keys-with-private.pem"
cp "$T/jwt-rsa.key" "$T/private.pem"
refuse 1 "a private key: give only the public key" "a private key as a JWT key" --listen 127.0.0.1:0 --auth jwt \
  --jwt-keys "$T/private.pem" --jwt-issuer "$issuer" --jwt-audience "$audience" --assignments "$T/assignments"
echo '{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}' >"$T/small.json"
refuse 1 "RS256 keys must have 2048 to 8192 bits" "a tiny RSA key" --listen 127.0.0.1:0 --auth jwt \
  --jwt-keys "$T/small.json" --jwt-issuer "$issuer" --jwt-audience "$audience" --assignments "$T/assignments"
echo '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}' >"$T/hmac.json"
refuse 1 "has no RS256 or ES256 signature key (1 skipped)" "a JWKS of a shared secret" --listen 127.0.0.1:0 --auth jwt \
  --jwt-keys "$T/hmac.json" --jwt-issuer "$issuer" --jwt-audience "$audience" --assignments "$T/assignments"

# ---- one https server with tokens: the CLI, the agent, SIGHUP ------------------------------------------
cp "$T/tokens" "$T/tokens.live"
start_gpupoold --db "sqlite:$T/live.db" --tls-cert "$T/server.pem" --tls-key "$T/server.key" \
  --auth tokens --tokens-file "$T/tokens.live"
case "$EP" in https://*) ok ;; *) no "the server does not say https: $EP" ;; esac
# A second gpupoold on the port this one serves is refused: no SO_REUSEPORT, which would let it start
# and the kernel split the requests between two stores.
# (timeout: a gpupoold that wrongly starts would serve until killed; 124 then fails the check)
timeout 20 "$GPUPOOLD" --db "sqlite:$T/second.db" --listen "127.0.0.1:${EP##*:}" >"$T/out" 2>"$T/err"
got=$?
if [ "$got" = 1 ] && grep -qF "cannot listen on 127.0.0.1:${EP##*:}: the port is taken" "$T/err"; then ok; else
  no "a second gpupoold on a port in use: exit $got (want 1), stderr: $(head -c 300 "$T/err")"
fi
export GPUPOOL_ENDPOINT="$EP" GPUPOOL_SUBSCRIPTION="$sub"
CA=$T/ca.pem
POOLS="/subscriptions/$sub/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools"

expect 0 "CLI: feature register (admin, --cacert)" "$GPUPOOL" feature register -n ManagedGPU --token="$tok_admin" --cacert "$CA"
expect 0 "CLI: cluster create" "$GPUPOOL" cluster create -g rg1 -n c1 --token="$tok_admin" --cacert "$CA"
expect 0 "CLI: nodepool add" "$GPUPOOL" nodepool add -g rg1 --cluster-name c1 -n gpu1 -s Standard_NC24ads_A100_v4 -c 1 \
  --gpu-instance-profile MIG1g --enable-managed-gpu --token="$tok_admin" --cacert "$CA"
GPUPOOL_TOKEN=$tok_reader_a GPUPOOL_CACERT=$CA expect 0 "CLI: token and CA from the environment" "$GPUPOOL" nodepool show -g rg1 --cluster-name c1 -n gpu1
contains "$T/out" '"name": "gpu1"' "CLI: nodepool show output"
expect 1 "CLI: a Reader cannot add a pool" "$GPUPOOL" nodepool add -g rg1 --cluster-name c1 -n gpu2 -s Standard_NC4as_T4_v3 \
  --token="$tok_reader_a" --cacert "$CA"
contains "$T/err" "AuthorizationFailed" "CLI: the 403 is reported"
expect 1 "CLI: an unknown token" "$GPUPOOL" cluster list --token="$tok_unknown" --cacert "$CA"
contains "$T/err" "AuthenticationFailed" "CLI: the 401 is reported"
expect 1 "CLI: no token" "$GPUPOOL" cluster list --cacert "$CA"
expect 1 "CLI: the server's CA not trusted (no --cacert)" "$GPUPOOL" cluster list --token="$tok_admin"
expect 1 "CLI: another CA" "$GPUPOOL" cluster list --token="$tok_admin" --cacert "$T/other-ca.pem"
if grep -qF -- "$tok_admin" "$T/err"; then no "CLI: the token is in its error output"; else ok; fi
GPUPOOL_TOKEN=$tok_admin expect 0 "CLI: --debug hides the token" "$GPUPOOL" cluster list --cacert "$CA" --debug
contains "$T/err" "Authorization: Bearer ***" "CLI: --debug shows a masked Authorization header"
if grep -qF -- "$tok_admin" "$T/err"; then no "CLI: --debug printed the token"; else ok; fi

expect 0 "agent: fetch its plan (Agent token, --cacert)" "$AGENT" fetch --endpoint "$EP" --pool "$POOLS/gpu1" \
  --token "$tok_agent_gpu1" --cacert "$CA" --etag-file "$T/etag" --out "$T/plan.json"
[ -s "$T/plan.json" ] && ok || no "agent: no plan written"
expect 4 "agent: unchanged (304)" "$AGENT" fetch --endpoint "$EP" --pool "$POOLS/gpu1" \
  --token "$tok_agent_gpu1" --cacert "$CA" --etag-file "$T/etag" --out "$T/plan.json"
GPUPOOL_TOKEN=$tok_agent_gpu1 expect 4 "agent: token from the environment" "$AGENT" fetch --endpoint "$EP" \
  --pool "$POOLS/gpu1" --cacert "$CA" --etag-file "$T/etag" --out "$T/plan.json"
expect 1 "agent: another pool's plan" "$AGENT" fetch --endpoint "$EP" --pool "$POOLS/gpu2" --token "$tok_agent_gpu1" \
  --cacert "$CA" --out "$T/plan2.json"
contains "$T/err" "HTTP 403 AuthorizationFailed" "agent: the 403 is reported"
expect 1 "agent: without --cacert" "$AGENT" fetch --endpoint "$EP" --pool "$POOLS/gpu1" --token "$tok_agent_gpu1" \
  --out "$T/plan3.json"
expect 1 "agent: no token" "$AGENT" fetch --endpoint "$EP" --pool "$POOLS/gpu1" --cacert "$CA" --out "$T/plan3.json"
contains "$T/err" "HTTP 401 AuthenticationFailed" "agent: the 401 is reported"

# SIGHUP: a new token works after the reload; a broken file keeps the old ones; a removed one stops.
NEW=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
expect 1 "reload: a token not in the file yet" "$GPUPOOL" cluster list --token="$NEW" --cacert "$CA"
echo "$("$SECTOOL" sha256 "$NEW") newbie Reader /subscriptions/$sub" >>"$T/tokens.live"
kill -HUP "$PID"
i=0
while ! grep -q "SIGHUP: reloaded" "$T/server.log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
contains "$T/server.log" "SIGHUP: reloaded 11 principals" "reload: logged"
expect 0 "reload: the new token works" "$GPUPOOL" cluster list --token="$NEW" --cacert "$CA"
cp "$T/tokens.live" "$T/tokens.good"
echo "not a line of a tokens file" >>"$T/tokens.live"
kill -HUP "$PID"
i=0
while ! grep -q "SIGHUP: kept the previous credentials" "$T/server.log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
contains "$T/server.log" "SIGHUP: kept the previous credentials: $T/tokens.live:" "reload: a bad file is refused and why"
expect 0 "reload: after a bad file the tokens still work" "$GPUPOOL" cluster list --token="$NEW" --cacert "$CA"
grep -v " newbie " "$T/tokens.good" >"$T/tokens.live"
kill -HUP "$PID"
i=0
while [ "$(grep -c "SIGHUP: reloaded" "$T/server.log")" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
expect 1 "reload: a removed token no longer works" "$GPUPOOL" cluster list --token="$NEW" --cacert "$CA"
expect 0 "reload: the others still do" "$GPUPOOL" cluster list --token="$tok_admin" --cacert "$CA"

kill "$PID"
wait "$PID"
rc=$?
PID=
[ "$rc" = 0 ] && ok || no "the https server exited with $rc"
# No token appears in any log: the request log, the audit lines on its stderr, the scenario audit logs.
expect 0 "no token in any log" "$SECTOOL" no-secrets "$T/vars" "$T/server.log" "$T/server.out" "$T"/audit-*.log
if grep -qF -- "$NEW" "$T/server.log"; then no "the reloaded token is in the log"; else ok; fi

echo "security: $passed checks passed, $failed failed"
[ "$failed" = 0 ]
