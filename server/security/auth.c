/* auth.c - bearer token authentication (see auth.h). Tokens are hashed with GnuTLS's SHA-256 and
 * only the hash is compared: the tokens file never holds a token, and a token is never logged. */
#include "security/auth.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct gpd_auth_snapshot {
  atomic_int refs;
  gpd_credentials *creds; /* tokens file or assignments file */
  gpd_jwt_keys *keys;     /* --auth jwt */
};

struct gpd_auth {
  gpd_security_config cfg;
  pthread_mutex_t mu;
  gpd_auth_snapshot *cur;
};

static void snapshot_release(gpd_auth_snapshot *s) {
  if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
    gpd_credentials_free(s->creds);
    gpd_jwt_keys_free(s->keys);
    free(s);
  }
}

static gpd_auth_snapshot *snapshot_load(const gpd_security_config *cfg, char *info, size_t infolen, char *err,
                                        size_t errlen) {
  gpd_auth_snapshot *s = calloc(1, sizeof *s);
  size_t skipped = 0;
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  atomic_init(&s->refs, 1);
  if (cfg->auth == GPD_AUTH_TOKENS) {
    s->creds = gpd_credentials_load(cfg->tokens_file, GPD_CREDS_TOKENS, err, errlen);
  } else {
    s->keys = gpd_jwt_keys_load(cfg->jwt_keys, &skipped, err, errlen);
    if (s->keys) s->creds = gpd_credentials_load(cfg->assignments, GPD_CREDS_ASSIGNMENTS, err, errlen);
  }
  if (!s->creds) {
    snapshot_release(s);
    return NULL;
  }
  if (cfg->auth == GPD_AUTH_TOKENS)
    snprintf(info, infolen, "%zu principals with tokens from %s", gpd_credentials_count(s->creds), cfg->tokens_file);
  else
    snprintf(info, infolen, "%zu JWT keys from %s (%zu skipped), %zu principals from %s", gpd_jwt_keys_count(s->keys),
             cfg->jwt_keys, skipped, gpd_credentials_count(s->creds), cfg->assignments);
  return s;
}

gpd_auth *gpd_auth_new(const gpd_security_config *cfg, char *info, size_t infolen, char *err, size_t errlen) {
  gpd_auth *a = calloc(1, sizeof *a);
  if (!a) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  a->cfg = *cfg;
  pthread_mutex_init(&a->mu, NULL);
  if (!(a->cur = snapshot_load(cfg, info, infolen, err, errlen))) {
    gpd_auth_free(a);
    return NULL;
  }
  return a;
}

bool gpd_auth_reload(gpd_auth *a, char *info, size_t infolen, char *err, size_t errlen) {
  gpd_auth_snapshot *s = snapshot_load(&a->cfg, info, infolen, err, errlen);
  if (!s) return false;
  pthread_mutex_lock(&a->mu);
  gpd_auth_snapshot *old = a->cur;
  a->cur = s;
  pthread_mutex_unlock(&a->mu);
  snapshot_release(old); /* freed when the last request using it is done */
  return true;
}

void gpd_auth_free(gpd_auth *a) {
  if (!a) return;
  snapshot_release(a->cur);
  pthread_mutex_destroy(&a->mu);
  free(a);
}

bool gpd_bearer_token(const char *header, const char **token, size_t *len) {
  if (strncasecmp(header, "Bearer", 6) != 0 || header[6] != ' ') return false;
  const char *t = header + 6;
  while (*t == ' ')
    t++;
  size_t n = 0;
  while (t[n] &&
         (((t[n] | 0x20) >= 'a' && (t[n] | 0x20) <= 'z') || (t[n] >= '0' && t[n] <= '9') || strchr("-._~+/", t[n])))
    n++;
  size_t body = n;
  while (t[n] == '=')
    n++;
  if (body == 0 || t[n] != '\0') return false;
  *token = t;
  *len = n;
  return true;
}

static void refuse(gpd_identity *id, const char *why) { snprintf(id->reason, sizeof id->reason, "%s", why); }

bool gpd_auth_authenticate(gpd_auth *a, const char *const *headers, size_t n, int64_t now_s, gpd_identity *id) {
  memset(id, 0, sizeof *id);
  const char *tok;
  size_t len;
  if (n == 0) {
    refuse(id, "the request has no Authorization header");
    return false;
  }
  if (n > 1) {
    refuse(id, "the request has more than one Authorization header");
    return false;
  }
  if (!gpd_bearer_token(headers[0], &tok, &len)) {
    refuse(id, "the Authorization header is not 'Bearer TOKEN'");
    return false;
  }
  if (len > GPD_JWT_MAX_LEN) {
    refuse(id, "the bearer token is too long");
    return false;
  }
  pthread_mutex_lock(&a->mu);
  id->snap = a->cur;
  atomic_fetch_add(&id->snap->refs, 1);
  pthread_mutex_unlock(&a->mu);

  if (a->cfg.auth == GPD_AUTH_TOKENS) {
    unsigned char digest[32];
    char hex[65];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, tok, len, digest) < 0) {
      refuse(id, "the token could not be hashed");
      return false;
    }
    for (size_t i = 0; i < 32; i++)
      snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    if (!(id->principal = gpd_credentials_find(id->snap->creds, hex))) refuse(id, "the bearer token is not known");
    return id->principal != NULL;
  }
  gpd_jwt_rules rules = {a->cfg.jwt_issuer, a->cfg.jwt_audience, now_s};
  if (!gpd_jwt_verify(id->snap->keys, &rules, tok, len, id->id, sizeof id->id, id->reason, sizeof id->reason))
    return false;
  id->principal = gpd_credentials_find(id->snap->creds, id->id);
  if (!id->principal) { /* authenticated, but no role anywhere: every request will be 403 */
    id->unassigned = (gpd_principal){id->id, id->id, NULL, 0};
    id->principal = &id->unassigned;
  }
  return true;
}

void gpd_identity_release(gpd_identity *id) {
  snapshot_release(id->snap);
  id->snap = NULL;
  id->principal = NULL;
}
