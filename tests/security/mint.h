/* mint.h - making JWTs for the tests (sectool) and the auth fuzzer: base64url and RS256/ES256
 * signing through GnuTLS. Test code only: gpupoold verifies, it never signs. */
#ifndef GPUPOOL_TEST_MINT_H
#define GPUPOOL_TEST_MINT_H

#include <gnutls/abstract.h>
#include <stdbool.h>
#include <stddef.h>

/* base64url without padding (malloc'd); NULL when out of memory. */
char *mint_b64url(const unsigned char *data, size_t len);
/* "b64url(header).b64url(payload)" of two JSON texts, taken as they are (malloc'd). */
char *mint_signing_input(const char *header, const char *payload);
/* input + "." + b64url(sig); frees input. */
char *mint_append_sig(char *input, const unsigned char *sig, size_t len);
/* A JWT of header and payload signed with key: RS256, or ES256 (raw r||s) when ec. NULL on error. */
char *mint_jwt(gnutls_privkey_t key, bool ec, const char *header, const char *payload);

#endif
