#!/bin/sh
# make-seeds.sh - the seed corpora of the fuzzers under $FUZZ_B/seeds/<harness>/, from the test data
# (see mk/fuzz.mk). Environment: FUZZ_B (e.g. build/fuzz), B (build directory, for sectool).
set -eu
S=$FUZZ_B/seeds
rm -rf "$S"
mkdir -p "$S/body" "$S/router" "$S/nvsmi_xml" "$S/auth" "$S/material"

# body: bodies of the decision-matrix cases and the HTTP scenarios, the malformed-input corpus, the examples
"$FUZZ_B/seeds-tool" bodies "$S/body" tests/vectors/*.json tests/http/*.json tests/security/*.json
cp tests/corpus/*.json examples/*.json "$S/body/"

# router: every request line of the HTTP scenarios
"$FUZZ_B/seeds-tool" requests "$S/router" tests/http/*.json tests/security/*.json

# nvsmi_xml: the real and recorded nvidia-smi -q -x captures and the agent's XML cases
for f in tests/fixtures/*/nvidia-smi-q.xml; do cp "$f" "$S/nvsmi_xml/$(basename "$(dirname "$f")").xml"; done
cp tests/agent/xml/*.xml "$S/nvsmi_xml/"

# auth: the first byte says what the rest is (fuzz/fuzz_auth.c); material from sectool
"$B/tests/security/sectool" setup "$S/material" tests/security/principals.txt >/dev/null
seed() { # seed NAME MODE-BYTE(octal) FILE-OR-TEXT...
  name=$1 mode=$2
  shift 2
  { printf "\\$mode"; "$@"; } >"$S/auth/$name"
}
seed tokens 000 cat "$S/material/tokens"
seed assignments 001 cat "$S/material/assignments"
seed jwks 002 cat "$S/material/jwks.json"
seed pem 002 cat "$S/material/jwt-keys.pem"
n=0
for jwt in $(sed -n 's/^jwt_[a-z0-9_]*=//p' "$S/material/vars"); do
  n=$((n + 1))
  seed "jwt-$n" 003 printf '%s' "$jwt"
  [ $n -gt 8 ] || seed "header-$n" 005 printf 'Bearer %s' "$jwt"
done
seed claims-ok 004 printf '%s\n%s' '{"alg":"RS256","typ":"JWT"}' \
  '{"iss":"https://issuer.test/","aud":"https://management.azure.com/","oid":"p1","exp":1900000000,"nbf":1700000000}'
seed claims-list 004 printf '%s\n%s' '{"alg":"RS256","kid":"x"}' \
  '{"iss":"https://issuer.test/","aud":["a","https://management.azure.com/"],"sub":"s","exp":1.9e9}'
seed claims-expired 004 printf '%s\n%s' '{"alg":"RS256"}' '{"iss":"https://issuer.test/","aud":"x","oid":"p","exp":1}'
rm -rf "$S/material"
for d in "$S"/*; do echo "seeds: $(basename "$d"): $(ls "$d" | wc -l) files"; done
