/* fuzz_auth.c - libFuzzer harness for what gpupoold reads from callers and from its security files:
 * the first byte picks what the rest is.
 *   0  a tokens file, 1  an assignments file (credentials.c), then scope decisions on fixed ids
 *   2  a --jwt-keys file, PEM or JWKS (jwt.c)
 *   3  a bearer token verified as a JWT against a key made at start-up
 *   4  "HEADER-JSON\nCLAIMS-JSON", signed here with that key, then verified: the claims checks run
 *      on correctly signed tokens, which random bytes would never reach
 *   5  an Authorization header value (RFC 6750 form), its token then verified
 * Any crash, leak or sanitizer report fails `make fuzz`. */
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/auth.h"
#include "security/authz.h"
#include "security/credentials.h"
#include "security/jwt.h"
#include "mint.h"

static gnutls_privkey_t signer;
static gpd_jwt_keys *keys;
static const gpd_jwt_rules rules = {"https://issuer.test/", "https://management.azure.com/", 1800000000};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  gnutls_pubkey_t pub = NULL;
  gnutls_datum_t pem = {NULL, 0};
  char err[256];
  size_t skipped;
  if (gnutls_privkey_init(&signer) < 0 || gnutls_privkey_generate(signer, GNUTLS_PK_RSA, 2048, 0) < 0 ||
      gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_privkey(pub, signer, 0, 0) < 0 ||
      gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_PEM, &pem) < 0 ||
      !(keys = gpd_jwt_keys_parse((const char *)pem.data, pem.size, "fuzz", &skipped, err, sizeof err))) {
    fprintf(stderr, "fuzz_auth: cannot make the signing key\n");
    abort();
  }
  gnutls_free(pem.data);
  gnutls_pubkey_deinit(pub);
  return 0;
}

static void verify(const char *token, size_t len) {
  char principal[GPD_JWT_PRINCIPAL_MAX + 1], why[200];
  (void)gpd_jwt_verify(keys, &rules, token, len, principal, sizeof principal, why, sizeof why);
}

static void decide(const gpd_credentials *c) {
  static const char *const ids[] = {
      "/subscriptions/0b3c8a1e-5f7d-4c2a-9e61-3d8f2b7a4c10/resourceGroups/rg1/providers/Microsoft.ContainerService/"
      "managedClusters/c1",
      "/subscriptions/0b3c8a1e-5f7d-4c2a-9e61-3d8f2b7a4c10/resourceGroups/rg1/providers/Microsoft.ContainerService/"
      "managedClusters/c1/agentPools/gpu1",
      "/subscriptions/x", "/", ""};
  static const char *const keys_to_find[] = {"a", "p1",
                                             "0000000000000000000000000000000000000000000000000000000000000000"};
  for (size_t k = 0; k < 3; k++) {
    const gpd_principal *p = gpd_credentials_find(c, keys_to_find[k]);
    for (size_t i = 0; p && i < 5; i++)
      (void)gpd_authz_can_read_id(p, ids[i]);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 65536) return 0;
  const char *rest = (const char *)data + 1;
  size_t n = size - 1;
  char err[512];
  switch (data[0] % 6) {
  case 0:
  case 1: {
    gpd_credentials *c =
        gpd_credentials_parse(rest, n, data[0] % 6 ? GPD_CREDS_ASSIGNMENTS : GPD_CREDS_TOKENS, "fuzz", err, sizeof err);
    if (c) decide(c);
    gpd_credentials_free(c);
    break;
  }
  case 2: {
    size_t skipped;
    gpd_jwt_keys_free(gpd_jwt_keys_parse(rest, n, "fuzz", &skipped, err, sizeof err));
    break;
  }
  case 3: verify(rest, n); break;
  case 4: {
    char *text = strndup(rest, n);
    char *nl = text ? strchr(text, '\n') : NULL;
    if (nl) {
      *nl = '\0';
      char *jwt = mint_jwt(signer, false, text, nl + 1);
      if (jwt) verify(jwt, strlen(jwt));
      free(jwt);
    }
    free(text);
    break;
  }
  default: {
    char *header = strndup(rest, n);
    const char *tok;
    size_t len;
    if (header && gpd_bearer_token(header, &tok, &len)) verify(tok, len);
    free(header);
  }
  }
  return 0;
}
