/* mint.c - JWT minting for tests (see mint.h). An ES256 signature is GnuTLS's DER (r, s) turned
 * into the 64 raw bytes a JWT carries with gnutls_decode_rs_value. */
#include "mint.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mint_b64url(const unsigned char *data, size_t len) {
  gnutls_datum_t in = {(unsigned char *)data, (unsigned)len}, out = {NULL, 0};
  if (len == 0) return calloc(1, 1);
  if (gnutls_base64_encode2(&in, &out) < 0) return NULL;
  char *s = malloc(out.size + 1);
  size_t n = 0;
  for (unsigned i = 0; s && i < out.size; i++) {
    char c = (char)out.data[i];
    if (c == '=' || c == '\n' || c == '\r') continue;
    s[n++] = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  if (s) s[n] = '\0';
  gnutls_free(out.data);
  return s;
}

char *mint_signing_input(const char *header, const char *payload) {
  char *h = mint_b64url((const unsigned char *)header, strlen(header)),
       *p = mint_b64url((const unsigned char *)payload, strlen(payload)), *s = NULL;
  if (h && p && (s = malloc(strlen(h) + strlen(p) + 2))) sprintf(s, "%s.%s", h, p);
  free(h);
  free(p);
  return s;
}

char *mint_append_sig(char *input, const unsigned char *sig, size_t len) {
  char *s64 = mint_b64url(sig, len), *jwt = NULL;
  if (input && s64 && (jwt = malloc(strlen(input) + strlen(s64) + 2))) sprintf(jwt, "%s.%s", input, s64);
  free(s64);
  free(input);
  return jwt;
}

char *mint_jwt(gnutls_privkey_t key, bool ec, const char *header, const char *payload) {
  char *input = mint_signing_input(header, payload);
  if (!input) return NULL;
  gnutls_datum_t data = {(unsigned char *)input, (unsigned)strlen(input)}, sig = {NULL, 0};
  if (gnutls_privkey_sign_data2(key, ec ? GNUTLS_SIGN_ECDSA_SHA256 : GNUTLS_SIGN_RSA_SHA256, 0, &data, &sig) < 0) {
    free(input);
    return NULL;
  }
  char *jwt = NULL;
  if (!ec) {
    jwt = mint_append_sig(input, sig.data, sig.size);
  } else {
    gnutls_datum_t r = {NULL, 0}, s = {NULL, 0};
    unsigned char raw[64] = {0};
    if (gnutls_decode_rs_value(&sig, &r, &s) >= 0) {
      /* DER integers may carry a leading zero or be shorter than 32 bytes */
      const unsigned char *rp = r.data, *sp = s.data;
      size_t rn = r.size, sn = s.size;
      while (rn > 32 && *rp == 0)
        rp++, rn--;
      while (sn > 32 && *sp == 0)
        sp++, sn--;
      if (rn <= 32 && sn <= 32) {
        memcpy(raw + 32 - rn, rp, rn);
        memcpy(raw + 64 - sn, sp, sn);
        jwt = mint_append_sig(input, raw, 64);
        input = NULL;
      }
    }
    gnutls_free(r.data);
    gnutls_free(s.data);
    free(input);
  }
  gnutls_free(sig.data);
  return jwt;
}
