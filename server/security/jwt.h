/* jwt.h - JSON Web Tokens for --auth jwt: the verification keys (--jwt-keys: PEM public keys or
 * certificates, or a JWKS) and the verification of a bearer token (RS256 or ES256 only; iss, aud,
 * exp and nbf with a small clock skew). Signatures are checked by GnuTLS; nothing here is crypto. */
#ifndef GPUPOOLD_JWT_H
#define GPUPOOLD_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GPD_JWT_MAX_LEN 16384   /* longer bearer tokens are refused unread */
#define GPD_JWT_CLOCK_SKEW_S 60 /* exp and nbf tolerance */
#define GPD_JWT_PRINCIPAL_MAX 256
/* Signature checks one token may cost: a token that more keys could have signed (no kid, or
 * --jwt-keys without kids) is refused unverified. */
#define GPD_JWT_MAX_TRIES 4

typedef struct gpd_jwt_keys gpd_jwt_keys;

/* Parses PEM ("PUBLIC KEY" or "CERTIFICATE" blocks) or JWKS JSON ({"keys":[…]}, kty RSA or EC
 * P-256). RSA keys under 2048 bits, private keys and unknown PEM blocks refuse the file; JWKS
 * entries that are not signature keys gpupoold can use are skipped (*skipped counts them). NULL with
 * the reason in err, also when no usable key is left. */
gpd_jwt_keys *gpd_jwt_keys_parse(const char *text, size_t len, const char *name, size_t *skipped, char *err,
                                 size_t errlen);
gpd_jwt_keys *gpd_jwt_keys_load(const char *path, size_t *skipped, char *err, size_t errlen);
size_t gpd_jwt_keys_count(const gpd_jwt_keys *k);
void gpd_jwt_keys_free(gpd_jwt_keys *k);

typedef struct {
  const char *issuer, *audience;
  int64_t now_s; /* seconds since the epoch */
} gpd_jwt_rules;

/* Verifies token (not NUL-terminated, len bytes). True with the principal id (oid claim, else sub)
 * in principal; false with why the token is refused in why (safe to show: never the token). */
bool gpd_jwt_verify(const gpd_jwt_keys *keys, const gpd_jwt_rules *rules, const char *token, size_t len,
                    char *principal, size_t plen, char *why, size_t whylen);

/* base64url (RFC 4648 §5, no padding) to bytes, through GnuTLS's base64 decoder. The result is
 * malloc'd (NUL-terminated for convenience); NULL when not base64url or out of memory. */
unsigned char *gpd_base64url_decode(const char *in, size_t len, size_t *out_len);

#endif
