/* http.c - libmicrohttpd glue: one gpd_request per HTTP request, its body gathered up to 1 MiB,
 * routed and answered with the headers every ARM response carries (x-ms-request-id, correlation
 * id, Content-Type, Date), then logged and counted.
 *
 * A request is judged as soon as its headers are in, before a byte of its body is read: framing
 * (http_framing.h), route, then authentication, throttling and authorization (security.h). A
 * refusal is answered at once; a 401 or a framing error closes the connection, so an
 * unauthenticated client never gets its body buffered. Only then is the body read and the handler
 * run; a handler may hold the request (longpoll.h), and it runs again when woken.
 *
 * Connections: --max-connections and --max-connections-per-ip are libmicrohttpd's caps,
 * --idle-timeout its inactivity timeout, --header-timeout is conn_watch.h's. --metrics-listen is a
 * second, small daemon that serves /metrics and /healthz only, without authentication.
 *
 * The raw request URI is taken from the URI log callback, before libmicrohttpd decodes it, so that
 * the router can decode each path segment on its own. */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conn_watch.h"
#include "http_framing.h"
#include "log.h"
#include "longpoll.h"
#include "metrics.h"
#include "router.h"
#include "security/security.h"

#define METRICS_MAX_CONNECTIONS 64 /* --metrics-listen: a few scrapers */
#define METRICS_MAX_PER_IP 16
#define DROP_MAX (8u * GP_BODY_MAX) /* a body past 1 MiB is read and dropped up to this, then the connection closed */
#define HOLD_RACES_MAX 16           /* wakes racing one request's checks before it is answered "unchanged" */
#define STOP_GRACE_MS 3000          /* at stop, how long released long-polls get to be answered */

/* One daemon: the API, or the --metrics-listen one. */
typedef struct {
  gpd_http *h;
  struct MHD_Daemon *daemon;
  bool metrics_only;
  int port;
} listener;

struct gpd_http {
  gpd_server *srv;
  listener api, metrics;
  gpd_conn_watch *watch;
  atomic_int held_open; /* requests that were held and are not done yet */
};

/* Per-request state, from the URI callback to the completion callback. */
typedef struct {
  char *uri;
  gpd_raw_target target; /* where the raw URI was, for the framing check */
  int64_t start_ns;
  bool started;  /* the headers were seen */
  bool built;    /* req holds a routed request (and maybe an identity) */
  bool guarded;  /* the guard let it through: the body may be read */
  bool answered; /* a response was queued */
  bool too_large;
  size_t dropped; /* body bytes past 1 MiB, read and dropped */
  char *body;
  size_t len, cap;
  int status, route;
  gpd_method method;
  char request_id[GPD_UUID_LEN + 1];
  char correlation_id[80];
  gpd_request req;
  gpd_hold hold;
  gpd_response *deferred; /* a refusal of a request without a body, sent at libmicrohttpd's next call */
} conn_ctx;

/* ---- request accessors used by the handlers -------------------------------------------------------- */

const char *gpd_req_header(const gpd_request *r, const char *name) {
  return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_HEADER_KIND, name);
}

const char *gpd_req_query(const gpd_request *r, const char *name) {
  return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct {
  const char **out;
  size_t max, n;
  const char *name;
} header_walk;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  header_walk *w = cls;
  (void)kind;
  if (key && value && strcasecmp(key, w->name) == 0 && w->n++ < w->max) w->out[w->n - 1] = value;
  return MHD_YES;
}

size_t gpd_req_header_all(const gpd_request *r, const char *name, const char **out, size_t max) {
  header_walk w = {out, max, 0, name};
  MHD_get_connection_values((struct MHD_Connection *)r->conn, MHD_HEADER_KIND, collect, &w);
  return w.n;
}

void gpd_req_client_addr(const gpd_request *r, char *buf, size_t size) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info((struct MHD_Connection *)r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  snprintf(buf, size, "-");
  if (!ci || !ci->client_addr) return;
  if (ci->client_addr->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, buf, (socklen_t)size);
  else if (ci->client_addr->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, buf, (socklen_t)size);
}

/* A Host header is copied into absolute URLs only when it looks like host[:port]. */
static bool host_ok(const char *h) {
  size_t n = strlen(h);
  if (n == 0 || n > 255) return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)h[i]) && !strchr(".-:[]_", h[i])) return false;
  return true;
}

void gpd_req_base_url(const gpd_request *r, char *buf, size_t size) {
  const char *host = gpd_req_header(r, "Host");
  if (r->srv->cfg.public_url)
    snprintf(buf, size, "%s", r->srv->cfg.public_url);
  else if (host && host_ok(host))
    snprintf(buf, size, "%s://%s", gpd_security_https(r->srv) ? "https" : "http", host);
  else
    snprintf(buf, size, "%s", r->srv->default_base);
}

json_t *gpd_req_json(const gpd_request *r, gpd_response *resp) {
  gp_error err;
  gp_error_init(&err);
  json_t *v = gp_body_parse(r->body, r->body_len, &err); /* the core's one body parser */
  if (!v) gpd_resp_gp_error(resp, &err);
  gp_error_clear(&err);
  return v;
}

/* ---- request lifecycle -------------------------------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  (void)cls;
  (void)conn;
  conn_ctx *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->start_ns = gpd_mono_ns();
  c->uri = strdup(uri ? uri : "/");
  c->target = (gpd_raw_target){uri, uri ? strlen(uri) : 0};
  gpd_hold_init(&c->hold, c->start_ns);
  return c;
}

static bool is_json_type(const char *ct) {
  while (*ct == ' ')
    ct++;
  size_t n = strcspn(ct, "; \t");
  if (n == 16 && strncasecmp(ct, "application/json", 16) == 0) return true;
  return n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0 && strncasecmp(ct, "application/", 12) == 0;
}

static void add_header(struct MHD_Response *r, const char *name, const char *value) {
  MHD_add_response_header(r, name, value);
}

/* close: the connection ends after this answer (refused framing or credentials, an unread body). */
static enum MHD_Result send_response(struct MHD_Connection *conn, conn_ctx *c, gpd_response *resp, bool close) {
  char *text = NULL;
  size_t len = 0;
  if (resp->body) {
    if (!(text = json_dumps(resp->body, JSON_COMPACT))) gpd_resp_oom(resp);
  }
  if (!text && resp->text) {
    text = resp->text;
    len = resp->text_len;
    resp->text = NULL;
  } else if (text) {
    len = strlen(text);
  }
  struct MHD_Response *r = text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE)
                                : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  if (!r) {
    free(text);
    return MHD_NO;
  }
  bool typed = false; /* /metrics brings its own Content-Type */
  for (size_t i = 0; i < resp->nheaders; i++)
    if (strcasecmp(resp->headers[i].name, "Content-Type") == 0) typed = true;
  if (!typed) add_header(r, "Content-Type", "application/json; charset=utf-8");
  add_header(r, "x-ms-request-id", c->request_id);
  add_header(r, "x-ms-correlation-request-id", c->correlation_id);
  const char *client_id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-ms-client-request-id");
  const char *ret = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-ms-return-client-request-id");
  if (client_id && ret && strcasecmp(ret, "true") == 0) add_header(r, "x-ms-client-request-id", client_id);
  for (size_t i = 0; i < resp->nheaders; i++)
    add_header(r, resp->headers[i].name, resp->headers[i].value);
  if (close) add_header(r, "Connection", "close");
  c->status = resp->status;
  c->answered = true;
  enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp->status, r);
  MHD_destroy_response(r);
  return rc;
}

/* Correlation id: the client's when it is a sane token, else a new one. */
static void set_ids(struct MHD_Connection *conn, conn_ctx *c) {
  gpd_uuid(c->request_id);
  const char *corr = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-ms-correlation-request-id");
  bool ok = corr && *corr && strlen(corr) < sizeof c->correlation_id;
  for (const char *p = corr; ok && *p; p++)
    if (!isgraph((unsigned char)*p)) ok = false;
  if (ok)
    snprintf(c->correlation_id, sizeof c->correlation_id, "%s", corr);
  else
    gpd_uuid(c->correlation_id);
}

/* Sends resp, audits it (when the request got as far as the guard) and clears it. */
static enum MHD_Result finish(struct MHD_Connection *conn, conn_ctx *c, gpd_response *resp, bool close) {
  if (resp->status == 0) gpd_resp_error(resp, 500, "InternalServerError", NULL, "The request was not answered.");
  enum MHD_Result rc = send_response(conn, c, resp, close);
  if (c->built) gpd_security_done(&c->req, c->status, c->correlation_id);
  gpd_resp_clear(resp);
  return rc;
}

static bool has_body(struct MHD_Connection *conn) {
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  return (cl && strcmp(cl, "0") != 0) ||
         MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* A refusal at the headers. With a body on its way it is sent now: libmicrohttpd then reads none of
 * the body and ends the connection. Without one it is sent at libmicrohttpd's next call, which
 * comes at once, so that a kept-alive connection stays usable after a 403, 404, 405 or 429. */
static enum MHD_Result refuse(struct MHD_Connection *conn, conn_ctx *c, gpd_response *resp, bool close) {
  if (close || has_body(conn) || !(c->deferred = malloc(sizeof *c->deferred))) return finish(conn, c, resp, close);
  *c->deferred = *resp; /* it owns what resp held now */
  return MHD_YES;
}

/* The headers are in: framing, route, guard. Answers at once what is refused; else the body may come. */
static enum MHD_Result on_headers(listener *l, struct MHD_Connection *conn, conn_ctx *c, const char *method,
                                  const char *version) {
  gpd_response resp;
  char why[200];
  memset(&resp, 0, sizeof resp);
  c->started = true;
  gpd_conn_watch_request_began(l->h->watch, conn);
  c->method = gpd_method_parse(method);
  set_ids(conn, c);
  int refused = gpd_framing_check(conn, method, version, &c->target, why, sizeof why);
  if (refused) {
    gpd_resp_error(&resp, refused, refused == 501 ? "NotImplemented" : "InvalidRequestFraming", NULL,
                   "The request cannot be read unambiguously: %s. Send one Content-Length or "
                   "'Transfer-Encoding: chunked', one Host, and headers without NUL bytes or folded lines.",
                   why);
    return finish(conn, c, &resp, true);
  }
  gpd_request *req = &c->req;
  req->srv = l->h->srv;
  req->conn = conn;
  req->method = c->method;
  req->method_name = method;
  req->uri = c->uri;
  req->hold = &c->hold;
  memcpy(req->request_id, c->request_id, sizeof req->request_id);
  if (!(req->path = strndup(c->uri, strcspn(c->uri, "?#")))) {
    gpd_resp_oom(&resp);
    return finish(conn, c, &resp, true);
  }
  c->built = true;
  bool routed = gpd_route_match(req, &resp);
  c->route = req->route;
  if (l->metrics_only) {
    if (req->route != GPD_ROUTE_METRICS && req->route != GPD_ROUTE_HEALTHZ) {
      gpd_resp_clear(&resp);
      gpd_resp_error(&resp, 404, "NotFound", NULL,
                     "This address (--metrics-listen) serves only GET /metrics and GET /healthz; the API is on the "
                     "--listen address.");
      return refuse(conn, c, &resp, false);
    }
  } else if (!gpd_security_guard(req, &resp, routed)) {
    return refuse(conn, c, &resp, resp.status == 401);
  }
  if (!routed) return refuse(conn, c, &resp, false);
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl && strtoull(cl, NULL, 10) > GP_BODY_MAX) { /* answered now: the client need not send the body */
    gpd_resp_error(&resp, 413, "RequestEntityTooLarge", NULL,
                   "The request content is larger than 1 MiB (1048576 bytes), the most gpupoold accepts.");
    return finish(conn, c, &resp, true);
  }
  c->guarded = true;
  return MHD_YES;
}

static bool take_body(conn_ctx *c, const char *data, size_t size) {
  if (!c->too_large && c->len + size > GP_BODY_MAX) {
    c->too_large = true; /* keep reading and dropping what comes, then answer 413 */
    free(c->body);
    c->body = NULL;
    c->len = c->cap = 0;
  }
  if (c->too_large) {
    c->dropped += size;
    return c->dropped <= DROP_MAX;
  }
  if (c->len + size > c->cap) {
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + size)
      cap *= 2;
    char *b = realloc(c->body, cap);
    if (!b) return false;
    c->body = b;
    c->cap = cap;
  }
  memcpy(c->body + c->len, data, size);
  c->len += size;
  return true;
}

/* Runs the handler (again, after a long-poll wake) until it answers or its request is held. */
static enum MHD_Result run_handler(listener *l, struct MHD_Connection *conn, conn_ctx *c) {
  gpd_longpoll *lp = l->h->srv->longpoll;
  c->req.body = c->body;
  c->req.body_len = c->len;
  for (int round = 0;; round++) {
    gpd_response resp;
    memset(&resp, 0, sizeof resp);
    if (round >= HOLD_RACES_MAX) c->hold.refused = true;
    gpd_longpoll_begin(lp, &c->hold);
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    if (c->len > 0 && ct && !is_json_type(ct))
      gpd_resp_error(&resp, 415, "UnsupportedMediaType", NULL,
                     "The request content type '%.100s' is not supported; send application/json.", ct);
    else
      gpd_route_dispatch(&c->req, &resp);
    if (!c->hold.wanted) return finish(conn, c, &resp, false);
    gpd_resp_clear(&resp);
    bool first = !c->hold.was_held;
    if (gpd_longpoll_suspend(lp, &c->hold, conn)) {
      if (first) atomic_fetch_add(&l->h->held_open, 1);
      return MHD_YES;
    }
  }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **req_cls) {
  listener *l = cls;
  conn_ctx *c = *req_cls;
  if (!c) { /* the URI callback could not allocate */
    if (!(c = on_uri(NULL, url, conn))) return MHD_NO;
    c->target.at = NULL; /* url is decoded already: no raw target to check */
    *req_cls = c;
  }
  if (!c->uri) return MHD_NO;
  if (!c->started) return on_headers(l, conn, c, method, version);
  if (*upload_size) {
    if (!c->answered && !take_body(c, upload_data, *upload_size)) return MHD_NO;
    *upload_size = 0;
    return MHD_YES;
  }
  if (c->answered) return MHD_YES;
  if (c->deferred) {
    gpd_response resp = *c->deferred;
    free(c->deferred);
    c->deferred = NULL;
    return finish(conn, c, &resp, false);
  }
  if (!c->guarded || c->hold.why == GPD_HOLD_GONE) return MHD_NO; /* the client left while held: close */
  if (c->too_large) {
    gpd_response resp;
    memset(&resp, 0, sizeof resp);
    gpd_resp_error(&resp, 413, "RequestEntityTooLarge", NULL,
                   "The request content is larger than 1 MiB (1048576 bytes), the most gpupoold accepts.");
    return finish(conn, c, &resp, true);
  }
  return run_handler(l, conn, c);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe) {
  listener *l = cls;
  gpd_server *srv = l->h->srv;
  conn_ctx *c = *req_cls;
  (void)toe;
  if (!c) return;
  gpd_conn_watch_request_ended(l->h->watch, conn);
  if (c->answered) {
    int64_t ns = gpd_mono_ns() - c->start_ns;
    /* a held long-poll's time is the client's wait, not the server's work: counted, not timed */
    gpd_metrics_observe(srv->metrics, c->route, c->method, c->status, c->hold.was_held ? -1 : ns);
    gpd_log_request_line line = {gpd_method_name(c->method), c->uri,    c->request_id,
                                 c->correlation_id,          c->status, ns / 1000};
    gpd_log_request(&line);
  }
  if (c->hold.was_held) atomic_fetch_sub(&l->h->held_open, 1);
  if (c->deferred) gpd_resp_clear(c->deferred);
  free(c->deferred);
  gpd_security_abandon(&c->req); /* what an unanswered request's guard kept */
  free(c->req.path);
  free(c->req.segbuf);
  gpd_hold_clear(&c->hold);
  free(c->uri);
  free(c->body);
  free(c);
  *req_cls = NULL;
}

/* ---- daemons ------------------------------------------------------------------------------------- */

/* No MHD_OPTION_LISTENING_ADDRESS_REUSE: with it (SO_REUSEPORT) a second gpupoold on a port already
 * served starts without a word and the kernel splits the requests between two stores; libmicrohttpd's
 * default (SO_REUSEADDR) still lets a restarted gpupoold take its port at once, and a taken port is
 * refused ("cannot listen"). Replicas share a database, never a port. */
static bool start_listener(gpd_http *h, listener *l, const char *host, int port, bool metrics_only, char *err,
                           size_t errlen) {
  gpd_server *srv = h->srv;
  const gpd_limits_config *lim = &srv->cfg.limits;
  struct addrinfo hints, *ai = NULL;
  char port_text[16];
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  snprintf(port_text, sizeof port_text, "%d", port);
  int rc = getaddrinfo(host, port_text, &hints, &ai);
  if (rc != 0) {
    snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
    return false;
  }
  l->h = h;
  l->metrics_only = metrics_only;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_TURBO;
  if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
  if (metrics_only) {
    l->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, on_request, l, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                         MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
                         MHD_OPTION_NOTIFY_CONNECTION, gpd_conn_watch_notify, h->watch, MHD_OPTION_CONNECTION_TIMEOUT,
                         (unsigned)lim->idle_timeout, MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_MAX_CONNECTIONS,
                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_MAX_PER_IP, MHD_OPTION_END);
  } else {
    flags |= MHD_ALLOW_SUSPEND_RESUME; /* long-polls (longpoll.h) */
    if (gpd_security_https(srv)) flags |= MHD_USE_TLS;
    l->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, l, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)srv->cfg.threads, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, l, MHD_OPTION_NOTIFY_CONNECTION, gpd_conn_watch_notify, h->watch, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)lim->idle_timeout, MHD_OPTION_CONNECTION_LIMIT, (unsigned)lim->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)lim->max_per_ip, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)lim->conn_memory, MHD_OPTION_ARRAY, gpd_security_tls_options(srv), MHD_OPTION_END);
  }
  freeaddrinfo(ai);
  if (!l->daemon) {
    snprintf(err, errlen,
             "cannot listen on %s:%d: the port is taken (by another gpupoold?) or the address is not this "
             "machine's; stop what serves it, or choose another with --listen HOST:PORT (port 0 picks a free one)",
             host, port);
    return false;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_BIND_PORT);
  l->port = info ? info->port : port;
  return true;
}

gpd_http *gpd_http_start(gpd_server *srv, char *err, size_t errlen) {
  gpd_http *h = calloc(1, sizeof *h);
  if (!h || !(h->watch = gpd_conn_watch_start(srv->cfg.limits.header_timeout))) {
    snprintf(err, errlen, "out of memory");
    free(h);
    return NULL;
  }
  h->srv = srv;
  srv->http = h; /* for /metrics, which may be asked as soon as the daemon runs */
  if (!start_listener(h, &h->api, srv->cfg.host, srv->cfg.port, false, err, errlen) ||
      (srv->cfg.metrics_port >= 0 &&
       !start_listener(h, &h->metrics, srv->cfg.metrics_host, srv->cfg.metrics_port, true, err, errlen))) {
    if (h->api.daemon) MHD_stop_daemon(h->api.daemon);
    gpd_conn_watch_stop(h->watch);
    srv->http = NULL;
    free(h);
    return NULL;
  }
  bool v6 = strchr(srv->cfg.host, ':') != NULL;
  snprintf(srv->default_base, sizeof srv->default_base, "%s://%s%s%s:%d", gpd_security_https(srv) ? "https" : "http",
           v6 ? "[" : "", srv->cfg.host, v6 ? "]" : "", h->api.port);
  return h;
}

int gpd_http_port(const gpd_http *h) { return h->api.port; }
int gpd_http_metrics_port(const gpd_http *h) { return h->metrics.daemon ? h->metrics.port : -1; }

size_t gpd_http_connections(const gpd_http *h) { return h ? gpd_conn_watch_open(h->watch) : 0; }
uint64_t gpd_http_header_timeouts(const gpd_http *h) { return h ? gpd_conn_watch_timed_out(h->watch) : 0; }

void gpd_http_stop(gpd_http *h) {
  if (!h) return;
  /* Held long-polls get their "unchanged" answer first: libmicrohttpd must not be stopped while
   * any connection is suspended. */
  gpd_longpoll_stop(h->srv->longpoll);
  for (int waited = 0; atomic_load(&h->held_open) > 0 && waited < STOP_GRACE_MS; waited += 10)
    usleep(10000);
  MHD_stop_daemon(h->api.daemon);
  if (h->metrics.daemon) MHD_stop_daemon(h->metrics.daemon);
  gpd_conn_watch_stop(h->watch);
  h->srv->http = NULL;
  free(h);
}
