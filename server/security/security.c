/* security.c - the request guard and audit hook of gpupoold (see security.h). */
#include "security/security.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "router.h"
#include "security/audit.h"
#include "security/auth.h"
#include "security/authz.h"
#include "security/throttle.h"
#include "security/tls.h"

#define MAX_AUTH_HEADERS 4

struct gpd_security {
  gpd_auth *auth;         /* NULL under --auth none */
  gpd_throttle *throttle; /* NULL when neither kind is throttled */
  gpd_tls *tls;           /* NULL: plain http */
};

bool gpd_security_start(gpd_server *srv, char *err, size_t errlen) {
  const gpd_security_config *c = &srv->cfg.sec;
  char info[512];
  gpd_security *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  srv->security = s;
  if (!gpd_audit_open(c->audit_log, err, errlen)) goto fail;
  if (c->tls_cert) {
    if (!(s->tls = gpd_tls_load(c->tls_cert, c->tls_key, info, sizeof info, err, errlen))) goto fail;
    gpd_log_info("%s", info);
  }
  if (c->auth != GPD_AUTH_NONE) {
    if (!(s->auth = gpd_auth_new(c, info, sizeof info, err, errlen))) goto fail;
    gpd_log_info("auth %s: %s", c->auth == GPD_AUTH_TOKENS ? "tokens" : "jwt", info);
  }
  if ((c->read_rate > 0 || c->write_rate > 0) && !(s->throttle = gpd_throttle_new(c->read_rate, c->write_rate))) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  return true;
fail:
  gpd_security_stop(srv);
  return false;
}

void gpd_security_stop(gpd_server *srv) {
  gpd_security *s = srv->security;
  if (!s) return;
  gpd_auth_free(s->auth);
  gpd_throttle_free(s->throttle);
  gpd_tls_free(s->tls);
  gpd_audit_close();
  free(s);
  srv->security = NULL;
}

void gpd_security_reload(gpd_server *srv) {
  gpd_security *s = srv->security;
  char info[512], err[512];
  if (!s) return;
  if (s->auth) {
    if (gpd_auth_reload(s->auth, info, sizeof info, err, sizeof err))
      gpd_log_info("SIGHUP: reloaded %s", info);
    else
      gpd_log_error("SIGHUP: kept the previous credentials: %s", err);
  }
  if (!gpd_audit_reopen(err, sizeof err)) gpd_log_error("SIGHUP: kept the previous audit log: %s", err);
}

bool gpd_security_https(const gpd_server *srv) { return srv->security && srv->security->tls; }

const struct MHD_OptionItem *gpd_security_tls_options(const gpd_server *srv) {
  return gpd_tls_options(srv->security ? srv->security->tls : NULL);
}

/* Text that is safe inside a quoted header parameter. */
static void header_safe(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == '"' || *s == '\\') *s = '\'';
}

/* What ARM throttles and audits as a write; GET, HEAD and the rest are reads. */
static bool is_write(gpd_method m) { return m == GPD_PUT || m == GPD_PATCH || m == GPD_DELETE || m == GPD_POST; }

static gpd_identity *identity_of(gpd_request *req) {
  if (!req->identity) req->identity = calloc(1, sizeof *req->identity);
  return req->identity;
}

bool gpd_security_guard(gpd_request *req, gpd_response *resp, bool routed) {
  gpd_security *s = req->srv->security;
  if (!s || req->route == GPD_ROUTE_HEALTHZ) return true;
  /* /metrics: open without authentication (loopback only); with it, for any authenticated caller
   * (--metrics-listen serves it unauthenticated on an address of its own). */
  if (req->route == GPD_ROUTE_METRICS && !s->auth) return true;
  /* The web console's static files: a browser cannot send a token for them, and they hold no data. */
  if (req->route == GPD_ROUTE_UI_ROOT || req->route == GPD_ROUTE_UI || req->route == GPD_ROUTE_UI_FILE) return true;
  const char *name = "anonymous";
  if (s->auth) {
    const char *values[MAX_AUTH_HEADERS];
    size_t n = gpd_req_header_all(req, "Authorization", values, MAX_AUTH_HEADERS);
    gpd_identity *id = identity_of(req);
    if (!id) {
      gpd_resp_oom(resp);
      return false;
    }
    if (!gpd_auth_authenticate(s->auth, values, n < MAX_AUTH_HEADERS ? n : MAX_AUTH_HEADERS, (int64_t)time(NULL), id)) {
      header_safe(id->reason);
      gpd_resp_clear(resp); /* no Allow header of a 405 */
      gpd_resp_error(resp, 401, "AuthenticationFailed", NULL,
                     "Authentication failed: %s. Send 'Authorization: Bearer TOKEN' with a token this gpupoold "
                     "accepts (gpupool: --token T or GPUPOOL_TOKEN).",
                     id->reason);
      gpd_resp_header(resp, "WWW-Authenticate",
                      "Bearer realm=\"gpupoold\", error=\"invalid_token\", error_description=\"%s\"", id->reason);
      return false;
    }
    req->principal = id->principal;
    name = id->principal->name;
  }
  if (s->throttle) {
    bool write = is_write(req->method);
    int wait = gpd_throttle_take(s->throttle, name, write, gpd_mono_ns());
    if (wait > 0) {
      gpd_resp_clear(resp);
      gpd_resp_error(resp, 429, "TooManyRequests", NULL,
                     "The request is being throttled: principal '%s' made more than %g %s per second. Retry after %d "
                     "seconds.",
                     name, write ? req->srv->cfg.sec.write_rate : req->srv->cfg.sec.read_rate,
                     write ? "writes" : "reads", wait);
      gpd_resp_header(resp, "Retry-After", "%d", wait);
      return false;
    }
  }
  if (!routed || !req->principal) return true;
  const char *action = "*";
  if (gpd_authz_decide(req->principal, req->route, req->method, (const char *const *)req->seg, req->nseg, &action) !=
      GPD_ACCESS_DENY)
    return true;
  snprintf(req->identity->reason, sizeof req->identity->reason, "no role assignment allows %s here", action);
  gpd_resp_clear(resp);
  gpd_resp_error(resp, 403, "AuthorizationFailed", NULL,
                 "The client '%s' does not have authorization to perform action '%s' over scope '%.600s' or the scope "
                 "is invalid. If access was recently granted, please refresh your credentials.",
                 name, action, req->path);
  return false;
}

void gpd_security_abandon(gpd_request *req) {
  if (req->identity) {
    gpd_identity_release(req->identity);
    free(req->identity);
    req->identity = NULL;
  }
  req->principal = NULL;
}

void gpd_security_done(gpd_request *req, int status, const char *correlation_id) {
  bool denied = status == 401 || status == 403 || status == 429;
  if (is_write(req->method) || denied) {
    char ip[64];
    gpd_req_client_addr(req, ip, sizeof ip);
    const gpd_identity *id = req->identity;
    const char *reason = !denied             ? NULL
                         : status == 429     ? "throttled"
                         : id && *id->reason ? id->reason
                                             : "denied by the handler";
    gpd_audit_entry e = {denied ? "denied" : "write",
                         id && id->principal ? id->principal->name
                                             : (req->srv->security && !req->srv->security->auth ? "anonymous" : NULL),
                         req->method_name,
                         req->path,
                         correlation_id,
                         req->request_id,
                         ip,
                         reason,
                         status};
    gpd_audit_log(&e);
  }
  gpd_security_abandon(req);
}
