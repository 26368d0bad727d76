/* auth.h - authentication of bearer tokens: --auth tokens (the SHA-256 of the token looked up in
 * the tokens file) or --auth jwt (a signed JWT whose oid/sub is looked up in the assignments file).
 * The files and keys are one snapshot, swapped whole on reload (SIGHUP); a request keeps the
 * snapshot it started with until it is done, so a reload never changes a request half way. */
#ifndef GPUPOOLD_AUTH_H
#define GPUPOOLD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "security/credentials.h"
#include "security/jwt.h"
#include "security/security_config.h"

typedef struct gpd_auth gpd_auth;
typedef struct gpd_auth_snapshot gpd_auth_snapshot;

/* Who a request is, while it runs. */
typedef struct gpd_identity {
  const gpd_principal *principal; /* NULL until authenticated */
  gpd_principal unassigned;       /* a JWT principal without role assignments */
  char id[GPD_JWT_PRINCIPAL_MAX + 1];
  gpd_auth_snapshot *snap;
  char reason[200]; /* why it was refused (never the token) */
} gpd_identity;

/* Loads the files of cfg (tokens, or JWT keys and assignments): info says what was loaded. NULL with
 * the reason in err. */
gpd_auth *gpd_auth_new(const gpd_security_config *cfg, char *info, size_t infolen, char *err, size_t errlen);
/* Reads the files again; on any error keeps the current snapshot and says why in err. info gets a
 * summary ("12 principals") on success. */
bool gpd_auth_reload(gpd_auth *a, char *info, size_t infolen, char *err, size_t errlen);
void gpd_auth_free(gpd_auth *a);

/* Authenticates the values of the request's Authorization headers (all of them: two is an error).
 * True with id->principal set; false with id->reason. Call gpd_identity_release either way. */
bool gpd_auth_authenticate(gpd_auth *a, const char *const *headers, size_t n, int64_t now_s, gpd_identity *id);
void gpd_identity_release(gpd_identity *id);

/* RFC 6750 §2.1: "Bearer" (any case) 1*SP b64token. The token's start and length, or false. */
bool gpd_bearer_token(const char *header, const char **token, size_t *len);

#endif
