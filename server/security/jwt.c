/* jwt.c - verification keys and JWT verification (see jwt.h). GnuTLS imports the keys (PEM,
 * certificates, raw RSA n/e and EC x/y of a JWKS) and verifies the signatures; an ES256 signature,
 * raw r||s in a JWT, is DER-encoded for GnuTLS with gnutls_encode_rs_value. JSON goes through
 * jansson with duplicate keys refused (a claim given twice is a classic confusion attack). */
#include "security/jwt.h"

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/credentials.h"

#define MAX_KEYS 64
#define MAX_KID 128
#define MAX_KEYS_FILE (1u << 20)

typedef enum { KEY_RSA, KEY_EC256 } key_kind;

typedef struct {
  gnutls_pubkey_t pub;
  key_kind kind;
  char kid[MAX_KID]; /* "" when the key has none (PEM) */
} jwk;

struct gpd_jwt_keys {
  jwk k[MAX_KEYS];
  size_t n;
};

unsigned char *gpd_base64url_decode(const char *in, size_t len, size_t *out_len) {
  if (len % 4 == 1 || len > 4 * (size_t)GPD_JWT_MAX_LEN) return NULL;
  size_t padded = len + (4 - len % 4) % 4;
  char *b64 = malloc(padded + 1);
  if (!b64) return NULL;
  for (size_t i = 0; i < len; i++) {
    char c = in[i];
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      free(b64);
      return NULL;
    }
    b64[i] = c;
  }
  for (size_t i = len; i < padded; i++)
    b64[i] = '=';
  b64[padded] = '\0';
  gnutls_datum_t src = {(unsigned char *)b64, (unsigned)padded}, dst = {NULL, 0};
  unsigned char *out = NULL;
  if (len == 0) {
    out = calloc(1, 1);
    *out_len = 0;
  } else if (gnutls_base64_decode2(&src, &dst) == 0) {
    if ((out = malloc(dst.size + 1))) {
      memcpy(out, dst.data, dst.size);
      out[dst.size] = '\0';
      *out_len = dst.size;
    }
    gnutls_free(dst.data);
  }
  free(b64);
  return out;
}

void gpd_jwt_keys_free(gpd_jwt_keys *k) {
  if (!k) return;
  for (size_t i = 0; i < k->n; i++)
    gnutls_pubkey_deinit(k->k[i].pub);
  free(k);
}

size_t gpd_jwt_keys_count(const gpd_jwt_keys *k) { return k ? k->n : 0; }

/* Checks an imported key and keeps it (or frees it). */
static bool keep_key(gpd_jwt_keys *ks, gnutls_pubkey_t pub, const char *kid, const char *what, char *err,
                     size_t errlen) {
  unsigned bits = 0;
  int alg = gnutls_pubkey_get_pk_algorithm(pub, &bits);
  key_kind kind;
  if (alg == GNUTLS_PK_RSA) {
    if (bits < 2048 || bits > 8192) {
      snprintf(err, errlen, "%s: an RSA key of %u bits; RS256 keys must have 2048 to 8192 bits", what, bits);
      gnutls_pubkey_deinit(pub);
      return false;
    }
    kind = KEY_RSA;
  } else if (alg == GNUTLS_PK_ECDSA) {
    gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
    gnutls_datum_t x = {NULL, 0}, y = {NULL, 0};
    int rc = gnutls_pubkey_export_ecc_raw2(pub, &curve, &x, &y, 0);
    gnutls_free(x.data);
    gnutls_free(y.data);
    if (rc < 0 || curve != GNUTLS_ECC_CURVE_SECP256R1) {
      snprintf(err, errlen, "%s: an EC key that is not on P-256 (ES256 needs P-256)", what);
      gnutls_pubkey_deinit(pub);
      return false;
    }
    kind = KEY_EC256;
  } else {
    snprintf(err, errlen, "%s: a %s key; gpupoold verifies RS256 (RSA) and ES256 (EC P-256) only", what,
             gnutls_pk_get_name((gnutls_pk_algorithm_t)alg) ? gnutls_pk_get_name((gnutls_pk_algorithm_t)alg) : "?");
    gnutls_pubkey_deinit(pub);
    return false;
  }
  if (ks->n == MAX_KEYS) {
    snprintf(err, errlen, "%s: more than %d keys", what, MAX_KEYS);
    gnutls_pubkey_deinit(pub);
    return false;
  }
  jwk *k = &ks->k[ks->n++];
  k->pub = pub;
  k->kind = kind;
  snprintf(k->kid, sizeof k->kid, "%s", kid ? kid : "");
  return true;
}

/* PEM: every block must be a public key or a certificate. */
static bool parse_pem(gpd_jwt_keys *ks, const char *text, size_t len, const char *name, char *err, size_t errlen) {
  const char *p = text, *end = text + len;
  size_t blocks = 0;
  for (;;) {
    const char *begin = memmem(p, (size_t)(end - p), "-----BEGIN ", 11);
    if (!begin) break;
    const char *label = begin + 11, *dash = memmem(label, (size_t)(end - label), "-----", 5);
    if (!dash || dash - label > 64) {
      snprintf(err, errlen, "%s: a malformed PEM header", name);
      return false;
    }
    char marker[96];
    snprintf(marker, sizeof marker, "-----END %.*s-----", (int)(dash - label), label);
    const char *stop = memmem(dash, (size_t)(end - dash), marker, strlen(marker));
    if (!stop) {
      snprintf(err, errlen, "%s: a PEM block without its END line", name);
      return false;
    }
    stop += strlen(marker);
    char what[160];
    snprintf(what, sizeof what, "%s: PEM block %zu", name, ++blocks);
    gnutls_datum_t d = {(unsigned char *)begin, (unsigned)(stop - begin)};
    gnutls_pubkey_t pub = NULL;
    bool is_cert = (size_t)(dash - label) == 11 && memcmp(label, "CERTIFICATE", 11) == 0;
    bool is_pub = (size_t)(dash - label) == 10 && memcmp(label, "PUBLIC KEY", 10) == 0;
    if (!is_cert && !is_pub) {
      bool secret = memmem(label, (size_t)(dash - label), "PRIVATE", 7) != NULL;
      snprintf(err, errlen, "%s is '%.*s'%s; --jwt-keys takes PUBLIC KEY and CERTIFICATE blocks", what,
               (int)(dash - label), label, secret ? " (a private key: give only the public key)" : "");
      return false;
    }
    if (gnutls_pubkey_init(&pub) < 0) {
      snprintf(err, errlen, "%s: out of memory", name);
      return false;
    }
    int rc;
    if (is_cert) {
      gnutls_x509_crt_t crt = NULL;
      rc = gnutls_x509_crt_init(&crt);
      if (rc >= 0) rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
      if (rc >= 0) rc = gnutls_pubkey_import_x509(pub, crt, 0);
      if (crt) gnutls_x509_crt_deinit(crt);
    } else {
      rc = gnutls_pubkey_import(pub, &d, GNUTLS_X509_FMT_PEM);
    }
    if (rc < 0) {
      snprintf(err, errlen, "%s cannot be read: %s", what, gnutls_strerror(rc));
      gnutls_pubkey_deinit(pub);
      return false;
    }
    if (!keep_key(ks, pub, NULL, what, err, errlen)) return false;
    p = stop;
  }
  if (blocks == 0) {
    snprintf(err, errlen, "%s has no PEM block and is not a JWKS ({\"keys\":[...]})", name);
    return false;
  }
  return true;
}

static bool b64_field(const json_t *o, const char *field, gnutls_datum_t *out) {
  const char *s = json_string_value(json_object_get(o, field));
  size_t n = 0;
  unsigned char *d = s ? gpd_base64url_decode(s, strlen(s), &n) : NULL;
  if (!d || n == 0) {
    free(d);
    return false;
  }
  out->data = d;
  out->size = (unsigned)n;
  return true;
}

/* One JWKS entry: true when kept or skipped (not a signature key we use), false on a broken one. */
static bool parse_jwk(gpd_jwt_keys *ks, const json_t *o, size_t index, const char *name, size_t *skipped, char *err,
                      size_t errlen) {
  char what[160];
  snprintf(what, sizeof what, "%s: keys[%zu]", name, index);
  const char *kty = json_string_value(json_object_get(o, "kty")), *use = json_string_value(json_object_get(o, "use")),
             *alg = json_string_value(json_object_get(o, "alg")), *crv = json_string_value(json_object_get(o, "crv"));
  const json_t *kidv = json_object_get(o, "kid");
  if (!json_is_object(o) || !kty) {
    snprintf(err, errlen, "%s is not a JWK (an object with kty)", what);
    return false;
  }
  if (kidv && (!json_is_string(kidv) || json_string_length(kidv) >= MAX_KID)) {
    snprintf(err, errlen, "%s: kid must be a string of under %d characters", what, MAX_KID);
    return false;
  }
  bool rsa = strcmp(kty, "RSA") == 0, ec = strcmp(kty, "EC") == 0 && crv && strcmp(crv, "P-256") == 0;
  if ((use && strcmp(use, "sig") != 0) || (!rsa && !ec) || (alg && strcmp(alg, rsa ? "RS256" : "ES256") != 0)) {
    (*skipped)++;
    return true;
  }
  gnutls_datum_t a = {NULL, 0}, b = {NULL, 0};
  gnutls_pubkey_t pub = NULL;
  int rc = GNUTLS_E_INVALID_REQUEST;
  if (b64_field(o, rsa ? "n" : "x", &a) && b64_field(o, rsa ? "e" : "y", &b) && gnutls_pubkey_init(&pub) >= 0) {
    if (rsa)
      rc = gnutls_pubkey_import_rsa_raw(pub, &a, &b);
    else if (a.size == 32 && b.size == 32)
      rc = gnutls_pubkey_import_ecc_raw(pub, GNUTLS_ECC_CURVE_SECP256R1, &a, &b);
  }
  free(a.data);
  free(b.data);
  if (rc < 0) {
    snprintf(err, errlen, "%s: %s", what,
             rsa ? "n and e must be base64url big-endian integers" : "x and y must be base64url P-256 coordinates");
    if (pub) gnutls_pubkey_deinit(pub);
    return false;
  }
  return keep_key(ks, pub, kidv ? json_string_value(kidv) : NULL, what, err, errlen);
}

gpd_jwt_keys *gpd_jwt_keys_parse(const char *text, size_t len, const char *name, size_t *skipped, char *err,
                                 size_t errlen) {
  gpd_jwt_keys *ks = calloc(1, sizeof *ks);
  *skipped = 0;
  if (!ks) {
    snprintf(err, errlen, "%s: out of memory", name);
    return NULL;
  }
  size_t i = 0;
  while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
    i++;
  bool ok;
  if (i < len && text[i] == '{') {
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    json_t *keys = json_object_get(doc, "keys");
    ok = json_is_array(keys);
    if (!ok) snprintf(err, errlen, "%s: not a JWKS: %s", name, doc ? "no \"keys\" array" : je.text);
    json_t *k;
    size_t idx;
    json_array_foreach(keys, idx, k) if (ok) ok = parse_jwk(ks, k, idx, name, skipped, err, errlen);
    json_decref(doc);
  } else {
    ok = parse_pem(ks, text, len, name, err, errlen);
  }
  if (ok && ks->n == 0) {
    snprintf(err, errlen, "%s has no RS256 or ES256 signature key (%zu skipped)", name, *skipped);
    ok = false;
  }
  size_t unnamed[2] = {0, 0}; /* keys without kid, by kind: every token would be tried against all of them */
  for (size_t k = 0; ok && k < ks->n; k++)
    if (!ks->k[k].kid[0]) unnamed[ks->k[k].kind]++;
  for (int kind = 0; ok && kind < 2; kind++)
    if (unnamed[kind] > GPD_JWT_MAX_TRIES) {
      snprintf(err, errlen,
               "%s has %zu %s keys without a kid; a token is checked against at most %d keys: give the keys kids "
               "(a JWKS) or keep at most %d of them",
               name, unnamed[kind], kind == KEY_RSA ? "RS256" : "ES256", GPD_JWT_MAX_TRIES, GPD_JWT_MAX_TRIES);
      ok = false;
    }
  if (!ok) {
    gpd_jwt_keys_free(ks);
    return NULL;
  }
  return ks;
}

gpd_jwt_keys *gpd_jwt_keys_load(const char *path, size_t *skipped, char *err, size_t errlen) {
  size_t len = 0;
  char *text = gpd_read_small_file(path, MAX_KEYS_FILE, &len, err, errlen);
  if (!text) return NULL;
  gpd_jwt_keys *k = gpd_jwt_keys_parse(text, len, path, skipped, err, errlen);
  free(text);
  return k;
}

/* ---- verification ----------------------------------------------------------------------------- */

static json_t *decode_json(const char *part, size_t len) {
  size_t n = 0;
  unsigned char *raw = gpd_base64url_decode(part, len, &n);
  json_t *v = raw ? json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL) : NULL;
  free(raw);
  if (v && !json_is_object(v)) {
    json_decref(v);
    v = NULL;
  }
  return v;
}

static bool verify_with(const jwk *k, bool es256, const gnutls_datum_t *data, const unsigned char *sig, size_t siglen) {
  if (!es256) {
    gnutls_datum_t s = {(unsigned char *)sig, (unsigned)siglen};
    return gnutls_pubkey_verify_data2(k->pub, GNUTLS_SIGN_RSA_SHA256, 0, data, &s) >= 0;
  }
  if (siglen != 64) return false; /* r || s, 32 bytes each */
  gnutls_datum_t r = {(unsigned char *)sig, 32}, s = {(unsigned char *)sig + 32, 32}, der = {NULL, 0};
  if (gnutls_encode_rs_value(&der, &r, &s) < 0) return false;
  bool ok = gnutls_pubkey_verify_data2(k->pub, GNUTLS_SIGN_ECDSA_SHA256, 0, data, &der) >= 0;
  gnutls_free(der.data);
  return ok;
}

#define REFUSE(...)                                                                                                    \
  do {                                                                                                                 \
    snprintf(why, whylen, __VA_ARGS__);                                                                                \
    goto out;                                                                                                          \
  } while (0)

static bool audience_ok(const json_t *aud, const char *want) {
  if (json_is_string(aud)) return strcmp(json_string_value(aud), want) == 0;
  size_t i;
  json_t *a;
  json_array_foreach(aud, i, a) if (json_is_string(a) && strcmp(json_string_value(a), want) == 0) return true;
  return false;
}

bool gpd_jwt_verify(const gpd_jwt_keys *keys, const gpd_jwt_rules *rules, const char *token, size_t len,
                    char *principal, size_t plen, char *why, size_t whylen) {
  bool ok = false;
  json_t *header = NULL, *claims = NULL;
  unsigned char *sig = NULL;
  size_t siglen = 0;
  if (len > GPD_JWT_MAX_LEN) REFUSE("the token is longer than %d bytes", GPD_JWT_MAX_LEN);
  const char *dot1 = memchr(token, '.', len);
  const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
  if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
    REFUSE("the token is not a JWT (header.payload.signature)");
  size_t hlen = (size_t)(dot1 - token), plen_ = (size_t)(dot2 - dot1 - 1), slen = len - (size_t)(dot2 + 1 - token);
  if (!(header = decode_json(token, hlen))) REFUSE("the JWT header is not base64url JSON");
  const char *alg = json_string_value(json_object_get(header, "alg"));
  if (!alg || (strcmp(alg, "RS256") != 0 && strcmp(alg, "ES256") != 0))
    REFUSE("the JWT algorithm '%.20s' is not accepted (RS256 or ES256)", alg ? alg : "(none)");
  if (json_object_get(header, "crit")) REFUSE("the JWT header has critical extensions gpupoold does not know");
  const json_t *kidv = json_object_get(header, "kid");
  if (kidv && !json_is_string(kidv)) REFUSE("the JWT kid is not a string");
  const char *kid = json_string_value(kidv);
  if (slen == 0) REFUSE("the JWT is not signed");
  if (!(sig = gpd_base64url_decode(dot2 + 1, slen, &siglen))) REFUSE("the JWT signature is not base64url");

  bool es256 = alg[0] == 'E', tried = false, good = false;
  gnutls_datum_t data = {(unsigned char *)token, (unsigned)(hlen + 1 + plen_)};
  /* The keys that may have signed it (its kid's, and those without one); a signature check costs
   * tens of microseconds, so an unnamed token is refused rather than tried against many keys. */
  size_t candidates = 0;
  for (size_t i = 0; keys && i < keys->n; i++)
    if (keys->k[i].kind == (es256 ? KEY_EC256 : KEY_RSA) &&
        (!kid || !keys->k[i].kid[0] || !strcmp(kid, keys->k[i].kid)))
      candidates++;
  if (candidates > GPD_JWT_MAX_TRIES)
    REFUSE("%zu %s keys of --jwt-keys could have signed this JWT; gpupoold tries at most %d: the token must name its "
           "key (kid), and --jwt-keys give each key a kid (a JWKS)",
           candidates, alg, GPD_JWT_MAX_TRIES);
  for (size_t i = 0; keys && i < keys->n && !good; i++) {
    const jwk *k = &keys->k[i];
    if (k->kind != (es256 ? KEY_EC256 : KEY_RSA)) continue;
    if (kid && k->kid[0] && strcmp(kid, k->kid) != 0) continue;
    tried = true;
    good = verify_with(k, es256, &data, sig, siglen);
  }
  if (!tried) REFUSE("no %s key of --jwt-keys matches the JWT (kid '%.64s')", alg, kid ? kid : "none");
  if (!good) REFUSE("the JWT signature does not verify");

  if (!(claims = decode_json(dot1 + 1, plen_))) REFUSE("the JWT claims are not base64url JSON");
  const char *iss = json_string_value(json_object_get(claims, "iss"));
  if (!iss || strcmp(iss, rules->issuer) != 0) REFUSE("the JWT issuer is not the one gpupoold trusts");
  if (!audience_ok(json_object_get(claims, "aud"), rules->audience)) REFUSE("the JWT was issued for another audience");
  const json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf");
  if (!exp) REFUSE("the JWT has no exp claim");
  if (!json_is_number(exp)) REFUSE("the JWT exp claim is not a number");
  if ((double)rules->now_s > json_number_value(exp) + GPD_JWT_CLOCK_SKEW_S) REFUSE("the JWT has expired");
  if (nbf && !json_is_number(nbf)) REFUSE("the JWT nbf claim is not a number");
  if (nbf && (double)rules->now_s + GPD_JWT_CLOCK_SKEW_S < json_number_value(nbf)) REFUSE("the JWT is not valid yet");
  const char *id = json_string_value(json_object_get(claims, "oid"));
  if (!id || !*id) id = json_string_value(json_object_get(claims, "sub"));
  if (!id || !*id) REFUSE("the JWT names no principal (oid or sub claim)");
  size_t idlen = strlen(id);
  bool plain = idlen < plen && idlen <= GPD_JWT_PRINCIPAL_MAX;
  for (size_t i = 0; plain && i < idlen; i++)
    plain = (unsigned char)id[i] > 0x20 && (unsigned char)id[i] < 0x7f;
  if (!plain) REFUSE("the JWT principal id is too long or has blanks or control characters");
  memcpy(principal, id, idlen + 1);
  ok = true;
out:
  free(sig);
  json_decref(header);
  json_decref(claims);
  return ok;
}
