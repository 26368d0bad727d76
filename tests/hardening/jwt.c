/* jwt.c - issue 16 item 8: what one JWT may cost. With a JWKS of 64 ES256 keys, a token that
 * names its key (kid) is verified with that key; a token without kid, which any of the 64 could
 * have signed, is refused (401, saying why) instead of being tried against every key. --jwt-keys
 * holding more than 4 keys without a kid is refused at start; 2 such keys work for tokens without
 * kid, as before.
 * Usage: hardening-jwt --server BUILD/gpupoold */
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hlib.h"
#include "mint.h"
#include "testutil.h"

#define NKEYS 64
#define SUB "1a0b9c8d-7e6f-4a5b-8c4d-3e2f1a0b9c8d"
#define LIST "/subscriptions/" SUB "/providers/Microsoft.ContainerService/managedClusters?api-version=2026-06-01"
#define ISS "https://issuer.hardening.test/"
#define AUD "api://gpupool-hardening"
#define OID "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"

static const char *bin;
static gnutls_privkey_t priv[NKEYS];
static gnutls_pubkey_t pub[NKEYS];

static char *coord(const gnutls_datum_t *d) {
  unsigned char b[32] = {0};
  if (d->size > 32) return NULL;
  memcpy(b + 32 - d->size, d->data, d->size);
  return mint_b64url(b, 32);
}

static bool make_keys(void) {
  for (int i = 0; i < NKEYS; i++)
    if (gnutls_privkey_init(&priv[i]) < 0 ||
        gnutls_privkey_generate(priv[i], GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
        gnutls_pubkey_init(&pub[i]) < 0 || gnutls_pubkey_import_privkey(pub[i], priv[i], 0, 0) < 0)
      return false;
  return true;
}

static bool write_jwks(const char *path) {
  json_t *keys = json_array();
  for (int i = 0; i < NKEYS; i++) {
    gnutls_ecc_curve_t curve;
    gnutls_datum_t x = {NULL, 0}, y = {NULL, 0};
    if (gnutls_pubkey_export_ecc_raw2(pub[i], &curve, &x, &y, GNUTLS_EXPORT_FLAG_NO_LZ) < 0) return false;
    char kid[16], *xs = coord(&x), *ys = coord(&y);
    snprintf(kid, sizeof kid, "k%d", i);
    json_array_append_new(keys, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "kid", kid, "use", "sig", "alg",
                                          "ES256", "crv", "P-256", "x", xs, "y", ys));
    free(xs);
    free(ys);
    gnutls_free(x.data);
    gnutls_free(y.data);
  }
  json_t *doc = json_pack("{s:o}", "keys", keys);
  int rc = json_dump_file(doc, path, 0);
  json_decref(doc);
  return rc == 0;
}

static bool write_pem(const char *path, int n) {
  FILE *f = fopen(path, "w");
  for (int i = 0; f && i < n; i++) {
    gnutls_datum_t out = {NULL, 0};
    if (gnutls_pubkey_export2(pub[i], GNUTLS_X509_FMT_PEM, &out) < 0) break;
    fwrite(out.data, 1, out.size, f);
    gnutls_free(out.data);
  }
  return f && fclose(f) == 0;
}

static char *token(int key, const char *kid) {
  char header[128], payload[256];
  if (kid)
    snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
  else
    snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"typ\":\"JWT\"}");
  snprintf(payload, sizeof payload, "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":%lld,\"oid\":\"%s\"}", ISS, AUD,
           (long long)time(NULL) + 3600, OID);
  return mint_jwt(priv[key], true, header, payload);
}

static void expect(const gpt_server *s, const char *what, const char *tok, long want, const char *text) {
  char auth[4096];
  gpt_response r;
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
  long st = gpt_call(s, "GET", LIST, NULL, auth, &r);
  if (st != want || (text && (!r.body || !strstr(r.body, text))))
    gpt_fail("%s: %ld %.300s, want %ld%s%s", what, st, r.body ? r.body : r.error, want, text ? " saying " : "",
             text ? text : "");
  gpt_response_free(&r);
}

static bool start(gpt_server *s, const char *keys, const char *assignments) {
  const char *args[] = {"--auth", "jwt",           "--jwt-keys", keys, "--jwt-issuer", ISS, "--jwt-audience",
                        AUD,      "--assignments", assignments,  NULL};
  return gpt_server_start(s, bin, args);
}

int main(int argc, char **argv) {
  gpt_test_name = "hardening-jwt";
  bin = hl_setup(&argc, argv);
  gpt_server s;
  char jwks[400], pem5[400], pem2[400], assign[400];
  if (!make_keys() || !gpt_dir_make(&s)) return 1;
  snprintf(jwks, sizeof jwks, "%s/jwks.json", s.dir);
  snprintf(pem5, sizeof pem5, "%s/five.pem", s.dir);
  snprintf(pem2, sizeof pem2, "%s/two.pem", s.dir);
  snprintf(assign, sizeof assign, "%s/assignments", s.dir);
  FILE *f = fopen(assign, "w");
  if (!f || fprintf(f, "%s tester Reader /subscriptions/%s\n", OID, SUB) < 0 || fclose(f) != 0 || !write_jwks(jwks) ||
      !write_pem(pem5, 5) || !write_pem(pem2, 2))
    return 1;

  if (start(&s, jwks, assign)) {
    char *named = token(17, "k17"), *unnamed = token(17, NULL), *forged = token(3, "k17");
    expect(&s, "a token with its kid, among 64 keys", named, 200, NULL);
    expect(&s, "a token without kid, among 64 keys", unnamed, 401, "must name its key (kid)");
    expect(&s, "a token signed by another key than its kid's", forged, 401, "does not verify");
    free(named);
    free(unnamed);
    free(forged);
    if (gpt_server_stop(&s) != 0) gpt_fail("gpupoold did not exit cleanly");
  } else {
    gpt_fail("gpupoold did not start with 64 keys");
  }

  /* Five keys without kid: refused at start, saying why. */
  char out[600], line[1024];
  snprintf(out, sizeof out, "%s/five.err", s.dir);
  const char *five[] = {
      bin,  "--listen",     "127.0.0.1:0", "--db",           s.db, "--auth",        "jwt",  "--jwt-keys",
      pem5, "--jwt-issuer", ISS,           "--jwt-audience", AUD,  "--assignments", assign, NULL};
  if (hl_run(five, out, 30000) != 1 || !hl_file_line(out, "without a kid", line, sizeof line))
    gpt_fail("--jwt-keys with 5 keys without kid: want exit 1 saying 'without a kid'");

  /* Two keys without kid: tokens without kid work, as before. */
  if (start(&s, pem2, assign)) {
    char *unnamed = token(1, NULL);
    expect(&s, "a token without kid, among 2 keys without kid", unnamed, 200, NULL);
    free(unnamed);
    if (gpt_server_stop(&s) != 0) gpt_fail("gpupoold did not exit cleanly");
  } else {
    gpt_fail("gpupoold did not start with 2 PEM keys");
  }
  for (int i = 0; i < NKEYS; i++) {
    gnutls_privkey_deinit(priv[i]);
    gnutls_pubkey_deinit(pub[i]);
  }
  hl_stop(&s);
  return hl_result();
}
