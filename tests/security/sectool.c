/* sectool.c - test material for gpupoold's security tests, made fresh at test time with GnuTLS (no
 * key or token is committed):
 *
 *   sectool setup DIR PRINCIPALS     a throwaway CA and a server certificate for 127.0.0.1, ::1 and
 *                                    localhost; JWT signing keys (RSA 2048 "rsa1", EC P-256 "ec1")
 *                                    and their public forms (jwks.json, jwt-keys.pem); a bearer
 *                                    token and an object id per principal (tokens, assignments);
 *                                    signed JWTs, good and bad; DIR/vars lists them as name=value
 *   sectool sha256 TEXT              the SHA-256 of TEXT in hex (a tokens file line)
 *   sectool check-audit FILE         every line of an audit log is a JSON object with its fields
 *   sectool no-secrets VARS FILE...  no token or JWT of VARS appears in any FILE
 *
 * JWTs are signed by mint.c (GnuTLS). */
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "mint.h"

#define ISSUER "https://login.gpupool.test/tenant/"
#define AUDIENCE "https://management.azure.com/"

static void die(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "sectool: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

static void check(int rc, const char *what) {
  if (rc < 0) die("%s: %s", what, gnutls_strerror(rc));
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory");
  return p;
}

static char *xstrdup(const char *s) {
  char *d = strdup(s);
  if (!d) die("out of memory");
  return d;
}

static void write_file(const char *dir, const char *name, const void *data, size_t len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) die("cannot write %s", path);
}

static void random_bytes(unsigned char *b, size_t n) {
  if (getrandom(b, n, 0) != (ssize_t)n) die("getrandom failed");
}

static char *b64url(const unsigned char *data, size_t len) {
  char *s = mint_b64url(data, len);
  if (!s) die("out of memory");
  return s;
}

static char *uuid(void) {
  unsigned char b[16];
  random_bytes(b, sizeof b);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  char *s = xmalloc(37);
  snprintf(s, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
           b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return s;
}

/* ---- keys and certificates -------------------------------------------------------------------- */

typedef struct {
  gnutls_x509_privkey_t x509;
  gnutls_privkey_t priv;
  gnutls_pubkey_t pub;
} keypair;

static keypair make_key(bool ec) {
  keypair k;
  check(gnutls_x509_privkey_init(&k.x509), "privkey init");
  check(gnutls_x509_privkey_generate(k.x509, ec ? GNUTLS_PK_ECDSA : GNUTLS_PK_RSA,
                                     ec ? GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1) : 2048, 0),
        "key generation");
  check(gnutls_privkey_init(&k.priv), "privkey init");
  check(gnutls_privkey_import_x509(k.priv, k.x509, 0), "privkey import");
  check(gnutls_pubkey_init(&k.pub), "pubkey init");
  check(gnutls_pubkey_import_privkey(k.pub, k.priv, 0, 0), "pubkey import");
  return k;
}

static void free_key(keypair *k) {
  gnutls_pubkey_deinit(k->pub);
  gnutls_privkey_deinit(k->priv);
  gnutls_x509_privkey_deinit(k->x509);
}

static void write_private(const char *dir, const char *name, const keypair *k) {
  gnutls_datum_t out;
  check(gnutls_x509_privkey_export2(k->x509, GNUTLS_X509_FMT_PEM, &out), "private key export");
  write_file(dir, name, out.data, out.size);
  gnutls_free(out.data);
}

static char *public_pem(const keypair *k) {
  gnutls_datum_t out;
  check(gnutls_pubkey_export2(k->pub, GNUTLS_X509_FMT_PEM, &out), "public key export");
  char *s = xmalloc(out.size + 1);
  memcpy(s, out.data, out.size);
  s[out.size] = '\0';
  gnutls_free(out.data);
  return s;
}

static gnutls_x509_crt_t make_cert(const keypair *k, const char *dn, bool ca, gnutls_x509_crt_t issuer,
                                   const keypair *issuer_key) {
  gnutls_x509_crt_t crt;
  const char *bad;
  unsigned char serial[16];
  time_t now = time(NULL);
  random_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  check(gnutls_x509_crt_init(&crt), "crt init");
  check(gnutls_x509_crt_set_version(crt, 3), "crt version");
  check(gnutls_x509_crt_set_serial(crt, serial, sizeof serial), "crt serial");
  check(gnutls_x509_crt_set_activation_time(crt, now - 3600), "crt activation");
  check(gnutls_x509_crt_set_expiration_time(crt, now + 7 * 86400), "crt expiration");
  check(gnutls_x509_crt_set_dn(crt, dn, &bad), "crt dn");
  check(gnutls_x509_crt_set_key(crt, k->x509), "crt key");
  unsigned char kid[64];
  size_t kidlen = sizeof kid;
  check(gnutls_x509_crt_get_key_id(crt, 0, kid, &kidlen), "crt key id");
  check(gnutls_x509_crt_set_subject_key_id(crt, kid, kidlen), "crt subject key id");
  if (ca) {
    check(gnutls_x509_crt_set_basic_constraints(crt, 1, -1), "crt constraints");
    check(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), "crt usage");
  } else {
    static const unsigned char v4[] = {127, 0, 0, 1};
    static const unsigned char v6[16] = {[15] = 1};
    check(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "crt constraints");
    check(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT), "crt usage");
    check(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0), "crt purpose");
    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9, GNUTLS_FSAN_APPEND), "san");
    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v4, 4, GNUTLS_FSAN_APPEND), "san");
    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v6, 16, GNUTLS_FSAN_APPEND), "san");
    unsigned char akid[64];
    size_t akidlen = sizeof akid;
    check(gnutls_x509_crt_get_subject_key_id(issuer, akid, &akidlen, NULL), "issuer key id");
    check(gnutls_x509_crt_set_authority_key_id(crt, akid, akidlen), "crt authority key id");
  }
  check(gnutls_x509_crt_privkey_sign(crt, issuer ? issuer : crt, issuer_key->priv, GNUTLS_DIG_SHA256, 0), "crt sign");
  return crt;
}

static void write_cert(const char *dir, const char *name, gnutls_x509_crt_t crt) {
  gnutls_datum_t out;
  check(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out), "crt export");
  write_file(dir, name, out.data, out.size);
  gnutls_free(out.data);
}

/* JWKS entry of a public key. */
static json_t *jwk_of(const keypair *k, bool ec, const char *kid) {
  gnutls_datum_t a = {NULL, 0}, b = {NULL, 0};
  json_t *o;
  if (!ec) {
    check(gnutls_pubkey_export_rsa_raw2(k->pub, &a, &b, GNUTLS_EXPORT_FLAG_NO_LZ), "rsa export");
    char *n = b64url(a.data, a.size), *e = b64url(b.data, b.size);
    o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "RSA", "kid", kid, "use", "sig", "alg", "RS256", "n", n, "e", e);
    free(n);
    free(e);
  } else {
    gnutls_ecc_curve_t curve;
    unsigned char x[32] = {0}, y[32] = {0};
    check(gnutls_pubkey_export_ecc_raw2(k->pub, &curve, &a, &b, GNUTLS_EXPORT_FLAG_NO_LZ), "ec export");
    if (a.size > 32 || b.size > 32) die("unexpected EC coordinate size");
    memcpy(x + 32 - a.size, a.data, a.size);
    memcpy(y + 32 - b.size, b.data, b.size);
    char *xs = b64url(x, 32), *ys = b64url(y, 32);
    o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "kid", kid, "use", "sig", "alg", "ES256", "crv",
                  "P-256", "x", xs, "y", ys);
    free(xs);
    free(ys);
  }
  gnutls_free(a.data);
  gnutls_free(b.data);
  if (!o) die("out of memory");
  return o;
}

/* ---- JWTs --------------------------------------------------------------------------------------- */

/* mint.c, failing loudly */
static char *signing_input(const char *header, const char *payload) {
  char *s = mint_signing_input(header, payload);
  if (!s) die("out of memory");
  return s;
}

static char *append_sig(char *input, const unsigned char *sig, size_t len) {
  char *s = mint_append_sig(input, sig, len);
  if (!s) die("out of memory");
  return s;
}

static char *sign_jwt(const keypair *k, bool ec, const char *header, const char *payload) {
  char *jwt = mint_jwt(k->priv, ec, header, payload);
  if (!jwt) die("cannot sign a JWT");
  return jwt;
}

static char *dumps(json_t *o) {
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (!s) die("out of memory");
  return s;
}

static char *header_of(const char *alg, const char *kid) {
  json_t *h = kid ? json_pack("{s:s,s:s,s:s}", "alg", alg, "typ", "JWT", "kid", kid)
                  : json_pack("{s:s,s:s}", "alg", alg, "typ", "JWT");
  return dumps(h);
}

/* Claims of a normal token for oid, valid from now - 10 s for an hour. */
static json_t *claims_of(const char *oid, const char *name, time_t now) {
  json_t *c =
      json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "iss", ISSUER, "aud", AUDIENCE, "oid", oid, "sub", oid, "name",
                name, "iat", (json_int_t)now, "nbf", (json_int_t)now - 10, "exp", (json_int_t)now + 3600);
  if (!c) die("out of memory");
  return c;
}

/* ---- setup -------------------------------------------------------------------------------------- */

typedef struct {
  char *name, *role, *scope;
} spec_line;

typedef struct {
  char *name, *token, *oid;
} principal;

static FILE *vars;

static void var(const char *name, const char *value) { fprintf(vars, "%s=%s\n", name, value); }

static principal *find_principal(principal *p, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(p[i].name, name) == 0) return &p[i];
  return NULL;
}

static char *sha256_hex(const char *s) {
  unsigned char d[32];
  check(gnutls_hash_fast(GNUTLS_DIG_SHA256, s, strlen(s), d), "sha256");
  char *hex = xmalloc(65);
  for (int i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", d[i]);
  return hex;
}

static int setup(const char *dir, const char *principals_file) {
  time_t now = time(NULL);
  char path[1024];
  snprintf(path, sizeof path, "%s/vars", dir);
  if (!(vars = fopen(path, "w"))) die("cannot write %s", path);
  var("dir", dir);
  var("issuer", ISSUER);
  var("audience", AUDIENCE);

  /* TLS: a CA, the server's certificate, and another CA the server's certificate is not from. */
  keypair ca = make_key(true), srv = make_key(true), other = make_key(true);
  gnutls_x509_crt_t ca_crt = make_cert(&ca, "CN=gpupool test CA,O=gpupool tests", true, NULL, &ca);
  gnutls_x509_crt_t srv_crt = make_cert(&srv, "CN=localhost,O=gpupool tests", false, ca_crt, &ca);
  gnutls_x509_crt_t other_crt = make_cert(&other, "CN=another test CA", true, NULL, &other);
  write_cert(dir, "ca.pem", ca_crt);
  write_cert(dir, "server.pem", srv_crt);
  write_private(dir, "server.key", &srv);
  write_cert(dir, "other-ca.pem", other_crt);

  /* JWT keys: what the server trusts (jwks.json, jwt-keys.pem) and one it does not. */
  keypair rsa = make_key(false), ec = make_key(true), wrong = make_key(false);
  json_t *jwks = json_pack("{s:[o,o]}", "keys", jwk_of(&rsa, false, "rsa1"), jwk_of(&ec, true, "ec1"));
  char *jwks_text = dumps(jwks), *rsa_pem = public_pem(&rsa), *ec_pem = public_pem(&ec);
  write_file(dir, "jwks.json", jwks_text, strlen(jwks_text));
  size_t pemlen = strlen(rsa_pem) + strlen(ec_pem);
  char *pems = xmalloc(pemlen + 1);
  snprintf(pems, pemlen + 1, "%s%s", rsa_pem, ec_pem);
  write_file(dir, "jwt-keys.pem", pems, pemlen);
  write_private(dir, "jwt-rsa.key", &rsa); /* for the JS SDK's credential, if it mints its own */

  /* Principals: a token and an oid each; the tokens and assignments files. */
  FILE *in = fopen(principals_file, "r");
  if (!in) die("cannot read %s", principals_file);
  spec_line lines[256];
  principal ps[256];
  size_t nl = 0, np = 0;
  char buf[2048];
  while (fgets(buf, sizeof buf, in)) {
    char *save, *name = strtok_r(buf, " \t\r\n", &save);
    if (!name || name[0] == '#') continue;
    char *role = strtok_r(NULL, " \t\r\n", &save), *scope = strtok_r(NULL, " \t\r\n", &save);
    if (!role || !scope || nl == 256) die("%s: bad line for %s", principals_file, name);
    lines[nl++] = (spec_line){xstrdup(name), xstrdup(role), xstrdup(scope)};
    if (!find_principal(ps, np, name)) {
      unsigned char raw[32];
      random_bytes(raw, sizeof raw);
      ps[np++] = (principal){xstrdup(name), b64url(raw, sizeof raw), uuid()};
      /* base64url tokens may start with '-': make the admin's always do, so that clients are
       * tested with one every run (the CLI needs --token=T for it, like any option value) */
      if (strcmp(name, "admin") == 0) ps[np - 1].token[0] = '-';
    }
  }
  fclose(in);
  snprintf(path, sizeof path, "%s/tokens", dir);
  FILE *tokens = fopen(path, "w");
  snprintf(path, sizeof path, "%s/assignments", dir);
  FILE *assign = fopen(path, "w");
  if (!tokens || !assign) die("cannot write the tokens or assignments file");
  fprintf(tokens, "# SHA-256 of the token, principal, role, scope (made by sectool)\n");
  fprintf(assign, "# principal id (oid), principal, role, scope (made by sectool)\n");
  for (size_t i = 0; i < nl; i++) {
    principal *p = find_principal(ps, np, lines[i].name);
    char *hash = sha256_hex(p->token);
    fprintf(tokens, "%s %s %s %s\n", hash, p->name, lines[i].role, lines[i].scope);
    fprintf(assign, "%s\t%s\t%s\t%s\n", p->oid, p->name, lines[i].role, lines[i].scope);
    free(hash);
  }
  fclose(tokens);
  fclose(assign);

  char *rs_header = header_of("RS256", "rsa1"), name_buf[300];
  for (size_t i = 0; i < np; i++) {
    snprintf(name_buf, sizeof name_buf, "tok_%s", ps[i].name);
    var(name_buf, ps[i].token);
    snprintf(name_buf, sizeof name_buf, "oid_%s", ps[i].name);
    var(name_buf, ps[i].oid);
    char *hash = sha256_hex(ps[i].token); /* what the tokens file holds: not a credential */
    snprintf(name_buf, sizeof name_buf, "sha_%s", ps[i].name);
    var(name_buf, hash);
    free(hash);
    char *payload = dumps(claims_of(ps[i].oid, ps[i].name, now));
    char *jwt = sign_jwt(&rsa, false, rs_header, payload);
    snprintf(name_buf, sizeof name_buf, "jwt_%s", ps[i].name);
    var(name_buf, jwt);
    free(jwt);
    free(payload);
  }

  /* Variants, all for contrib_a (200 on subscription A when accepted). */
  principal *c = find_principal(ps, np, "contrib_a"), *r = find_principal(ps, np, "reader_a"),
            *adm = find_principal(ps, np, "admin");
  if (!c || !r || !adm) die("%s must name contrib_a, reader_a and admin", principals_file);
  struct {
    const char *name;
    const char *set_key; /* a claim to change ("-" removes it) */
    json_t *value;
  } claim_variants[] = {
      {"jwt_expired", "exp", json_integer((json_int_t)now - 3600)},
      {"jwt_expired_in_skew", "exp", json_integer((json_int_t)now - 20)},
      {"jwt_nbf_future", "nbf", json_integer((json_int_t)now + 3600)},
      {"jwt_nbf_in_skew", "nbf", json_integer((json_int_t)now + 20)},
      {"jwt_no_exp", "-exp", NULL},
      {"jwt_exp_string", "exp", json_string("2099-01-01")},
      {"jwt_wrong_iss", "iss", json_string("https://login.evil.test/")},
      {"jwt_wrong_aud", "aud", json_string("https://graph.microsoft.com/")},
      {"jwt_aud_list", "aud", json_pack("[ss]", "https://graph.microsoft.com/", AUDIENCE)},
      {"jwt_sub_only", "-oid", NULL},
      {"jwt_unassigned", "oid", json_string("11111111-2222-3333-4444-555555555555")},
  };
  for (size_t i = 0; i < sizeof claim_variants / sizeof *claim_variants; i++) {
    json_t *cl = claims_of(c->oid, c->name, now);
    if (claim_variants[i].set_key[0] == '-')
      json_object_del(cl, claim_variants[i].set_key + 1);
    else
      json_object_set_new(cl, claim_variants[i].set_key, claim_variants[i].value);
    char *payload = dumps(cl), *jwt = sign_jwt(&rsa, false, rs_header, payload);
    var(claim_variants[i].name, jwt);
    free(jwt);
    free(payload);
  }
  json_t *cl = claims_of(c->oid, c->name, now);
  json_object_del(cl, "oid");
  json_object_del(cl, "sub");
  char *no_principal = dumps(cl), *good = dumps(claims_of(c->oid, c->name, now));
  char *jwt;
#define EMIT(var_name, expr)                                                                                           \
  do {                                                                                                                 \
    jwt = (expr);                                                                                                      \
    var(var_name, jwt);                                                                                                \
    free(jwt);                                                                                                         \
  } while (0)
  EMIT("jwt_no_principal", sign_jwt(&rsa, false, rs_header, no_principal));
  char *es_header = header_of("ES256", "ec1"), *nokid = header_of("RS256", NULL),
       *unknown_kid = header_of("RS256", "x9");
  EMIT("jwt_es256", sign_jwt(&ec, true, es_header, good));
  EMIT("jwt_nokid", sign_jwt(&rsa, false, nokid, good));
  EMIT("jwt_unknown_kid", sign_jwt(&rsa, false, unknown_kid, good));
  EMIT("jwt_wrong_key", sign_jwt(&wrong, false, rs_header, good));
  /* alg swap: says ES256, carries an RSA signature (and the reverse) */
  EMIT("jwt_alg_es_rsa_sig", sign_jwt(&rsa, false, es_header, good));
  EMIT("jwt_alg_rs_ec_sig", sign_jwt(&ec, true, rs_header, good));
  /* alg none: no signature at all */
  char *none_header = dumps(json_pack("{s:s,s:s}", "alg", "none", "typ", "JWT"));
  char *none_input = signing_input(none_header, good);
  size_t nl2 = strlen(none_input) + 2;
  jwt = xmalloc(nl2);
  snprintf(jwt, nl2, "%s.", none_input);
  var("jwt_alg_none", jwt);
  free(jwt);
  free(none_input);
  /* HS256 keyed with the public RSA key: the classic algorithm-confusion attack */
  char *hs_header = header_of("HS256", "rsa1"), *hs_input = signing_input(hs_header, good);
  unsigned char mac[32];
  check(gnutls_hmac_fast(GNUTLS_MAC_SHA256, rsa_pem, strlen(rsa_pem), hs_input, strlen(hs_input), mac), "hmac");
  EMIT("jwt_hs256", append_sig(hs_input, mac, sizeof mac));
  /* critical header extension */
  char *crit_header = dumps(json_pack("{s:s,s:s,s:[s]}", "alg", "RS256", "kid", "rsa1", "crit", "exp"));
  EMIT("jwt_crit", sign_jwt(&rsa, false, crit_header, good));
  /* duplicate claim: oid given twice, the second one the admin's */
  char dup[2048];
  snprintf(dup, sizeof dup, "{\"iss\":\"%s\",\"aud\":\"%s\",\"oid\":\"%s\",\"oid\":\"%s\",\"nbf\":%lld,\"exp\":%lld}",
           ISSUER, AUDIENCE, r->oid, adm->oid, (long long)now - 10, (long long)now + 3600);
  EMIT("jwt_duplicate_claim", sign_jwt(&rsa, false, rs_header, dup));
  /* tampered: reader_a's signature on a payload that names the admin */
  char *reader_payload = dumps(claims_of(r->oid, r->name, now)), *admin_payload = dumps(claims_of(adm->oid, "x", now));
  char *reader_jwt = sign_jwt(&rsa, false, rs_header, reader_payload);
  char *forged_input = signing_input(rs_header, admin_payload);
  const char *reader_sig = strrchr(reader_jwt, '.') + 1;
  size_t fl = strlen(forged_input) + strlen(reader_sig) + 2;
  jwt = xmalloc(fl);
  snprintf(jwt, fl, "%s.%s", forged_input, reader_sig);
  var("jwt_tampered_payload", jwt);
  free(jwt);
  /* tampered signature: one character in its middle changed */
  jwt = sign_jwt(&rsa, false, rs_header, good);
  char *mid = strrchr(jwt, '.') + 20;
  *mid = *mid == 'A' ? 'B' : 'A';
  var("jwt_tampered_sig", jwt);
  free(jwt);
  var("jwt_two_parts", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0");
  /* an opaque token nobody was given */
  unsigned char raw[32];
  random_bytes(raw, sizeof raw);
  EMIT("tok_unknown", b64url(raw, sizeof raw));
#undef EMIT

  free(reader_payload);
  free(admin_payload);
  free(reader_jwt);
  free(forged_input);
  free(crit_header);
  free(hs_header);
  free(none_header);
  free(es_header);
  free(nokid);
  free(unknown_kid);
  free(no_principal);
  free(good);
  free(rs_header);
  free(pems);
  free(rsa_pem);
  free(ec_pem);
  free(jwks_text);
  for (size_t i = 0; i < nl; i++) {
    free(lines[i].name);
    free(lines[i].role);
    free(lines[i].scope);
  }
  for (size_t i = 0; i < np; i++) {
    free(ps[i].name);
    free(ps[i].token);
    free(ps[i].oid);
  }
  gnutls_x509_crt_deinit(ca_crt);
  gnutls_x509_crt_deinit(srv_crt);
  gnutls_x509_crt_deinit(other_crt);
  free_key(&ca);
  free_key(&srv);
  free_key(&other);
  free_key(&rsa);
  free_key(&ec);
  free_key(&wrong);
  if (fclose(vars) != 0) die("cannot write the vars file");
  return 0;
}

/* ---- log checks --------------------------------------------------------------------------------- */

static int check_audit(const char *file) {
  FILE *f = fopen(file, "r");
  if (!f) die("cannot read %s", file);
  static const char *const fields[] = {"time", "audit", "method", "resourceId", "status", "correlationId", "requestId"};
  char buf[8192];
  int n = 0, bad = 0;
  while (fgets(buf, sizeof buf, f)) {
    n++;
    json_t *o = json_loads(buf, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(o)) {
      fprintf(stderr, "%s:%d: not a JSON object: %s", file, n, buf);
      bad++;
    }
    for (size_t i = 0; o && i < sizeof fields / sizeof *fields; i++)
      if (!json_object_get(o, fields[i])) {
        fprintf(stderr, "%s:%d: no \"%s\": %s", file, n, fields[i], buf);
        bad++;
      }
    if (o && !json_object_get(o, "principal")) { /* present: a name, or null when unauthenticated */
      fprintf(stderr, "%s:%d: no \"principal\": %s", file, n, buf);
      bad++;
    }
    json_decref(o);
  }
  fclose(f);
  if (n == 0) {
    fprintf(stderr, "%s: no audit line at all\n", file);
    return 1;
  }
  printf("%s: %d audit lines, %d problems\n", file, n, bad);
  return bad ? 1 : 0;
}

static int no_secrets(const char *vars_file, int nfiles, char **files) {
  FILE *v = fopen(vars_file, "r");
  if (!v) die("cannot read %s", vars_file);
  char line[8192];
  int found = 0, secrets = 0;
  while (fgets(line, sizeof line, v)) {
    if (strncmp(line, "tok_", 4) != 0 && strncmp(line, "jwt_", 4) != 0) continue;
    char *eq = strchr(line, '=');
    if (!eq) continue;
    char *secret = eq + 1;
    secret[strcspn(secret, "\r\n")] = '\0';
    /* a JWT's payload part is public (base64 JSON): look for its signature, which is what grants */
    const char *needle = strrchr(secret, '.') ? strrchr(secret, '.') + 1 : secret;
    if (strlen(needle) < 16) continue;
    secrets++;
    for (int i = 0; i < nfiles; i++) {
      FILE *f = fopen(files[i], "r");
      if (!f) die("cannot read %s", files[i]);
      char buf[65536];
      while (fgets(buf, sizeof buf, f))
        if (strstr(buf, needle)) {
          fprintf(stderr, "%s: holds %.*s\n", files[i], (int)(eq - line), line);
          found++;
          break;
        }
      fclose(f);
    }
  }
  fclose(v);
  printf("no-secrets: %d secrets looked for in %d files, %d found\n", secrets, nfiles, found);
  return found ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "setup") == 0) return setup(argv[2], argv[3]);
  if (argc == 3 && strcmp(argv[1], "sha256") == 0) {
    char *h = sha256_hex(argv[2]);
    puts(h);
    free(h);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "check-audit") == 0) return check_audit(argv[2]);
  if (argc >= 4 && strcmp(argv[1], "no-secrets") == 0) return no_secrets(argv[2], argc - 3, argv + 3);
  fprintf(stderr, "usage: sectool setup DIR PRINCIPALS | sha256 TEXT | check-audit FILE | no-secrets VARS FILE...\n");
  return 2;
}
