/* security.h - what gpupoold does about who calls it (issue 7), as the HTTP layer sees it: TLS
 * options for the daemon, one guard per request (authentication, throttling, authorization, in
 * that order) and one call when the request is done (the audit line). The parts live in tls.c,
 * auth.c (with credentials.c and jwt.c), throttle.c, authz.c and audit.c. */
#ifndef GPUPOOLD_SECURITY_H
#define GPUPOOLD_SECURITY_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "request.h"

typedef struct gpd_security gpd_security;

/* Loads what srv->cfg.sec names (certificate, tokens or keys and assignments, audit log) into
 * srv->security. False with the reason in err. */
bool gpd_security_start(gpd_server *srv, char *err, size_t errlen);
void gpd_security_stop(gpd_server *srv);
/* SIGHUP: re-reads the tokens / keys / assignments files (a bad file keeps the current ones, and the
 * log says why) and reopens the audit log. */
void gpd_security_reload(gpd_server *srv);

/* https or http, and the libmicrohttpd options that go with it. */
bool gpd_security_https(const gpd_server *srv);
const struct MHD_OptionItem *gpd_security_tls_options(const gpd_server *srv);

/* Runs once the request's headers are in, before a byte of its body is read. routed: the router
 * found the route and method (else resp holds its 404/405, shown only to authenticated callers).
 * False when resp now holds a 401, 403 or 429 and nothing else may run. /healthz is open; /metrics
 * too under --auth none, else it needs an authenticated caller (any role). */
bool gpd_security_guard(gpd_request *req, gpd_response *resp, bool routed);
/* Runs once the answer is sent: audits writes and denials, releases what the guard kept. */
void gpd_security_done(gpd_request *req, int status, const char *correlation_id);
/* The request ends unanswered (the client left): releases what the guard kept, audits nothing. */
void gpd_security_abandon(gpd_request *req);

#endif
