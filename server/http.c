/* http.c - libmicrohttpd glue: one gpd_request per HTTP request, its body gathered up to 1 MiB,
 * routed and answered with the headers every ARM response carries (x-ms-request-id, correlation
 * id, Content-Type, Date), then logged and counted.
 *
 * The raw request URI is taken from the URI log callback, before libmicrohttpd decodes it, so that
 * the router can decode each path segment on its own. */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "metrics.h"
#include "router.h"
#include "security/security.h"

struct gpd_http {
  struct MHD_Daemon *daemon;
  gpd_server *srv;
  int port;
};

/* Per-request state, from the URI callback to the completion callback. */
typedef struct {
  char *uri;
  int64_t start_ns;
  bool started, too_large, answered;
  char *body;
  size_t len, cap;
  int status, route;
  gpd_method method;
  char request_id[GPD_UUID_LEN + 1];
  char correlation_id[80];
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

static enum MHD_Result send_response(struct MHD_Connection *conn, conn_ctx *c, gpd_response *resp) {
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

static enum MHD_Result answer(gpd_server *srv, struct MHD_Connection *conn, conn_ctx *c, const char *method) {
  gpd_request req;
  gpd_response resp;
  memset(&req, 0, sizeof req);
  memset(&resp, 0, sizeof resp);
  req.srv = srv;
  req.conn = conn;
  req.method = c->method;
  req.method_name = method;
  req.uri = c->uri;
  req.body = c->body;
  req.body_len = c->len;
  memcpy(req.request_id, c->request_id, sizeof req.request_id);
  req.path = strndup(c->uri, strcspn(c->uri, "?#"));
  if (!req.path) {
    gpd_resp_oom(&resp);
  } else {
    bool routed = gpd_route_match(&req, &resp);
    if (!gpd_security_guard(&req, &resp, routed)) {
      /* 401, 403 or 429 in resp: nothing else runs */
    } else if (c->too_large) {
      gpd_resp_error(&resp, 413, "RequestEntityTooLarge", NULL,
                     "The request content is larger than 1 MiB (1048576 bytes), the most gpupoold accepts.");
    } else if (routed) {
      const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
      if (c->len > 0 && ct && !is_json_type(ct))
        gpd_resp_error(&resp, 415, "UnsupportedMediaType", NULL,
                       "The request content type '%.100s' is not supported; send application/json.", ct);
      else
        gpd_route_dispatch(&req, &resp);
    }
  }
  c->route = req.route;
  if (resp.status == 0) gpd_resp_error(&resp, 500, "InternalServerError", NULL, "The request was not answered.");
  enum MHD_Result rc = send_response(conn, c, &resp);
  gpd_security_done(&req, c->status, c->correlation_id);
  gpd_resp_clear(&resp);
  free(req.path);
  free(req.segbuf);
  return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **req_cls) {
  gpd_server *srv = cls;
  conn_ctx *c = *req_cls;
  (void)version;
  if (!c) { /* the URI callback could not allocate */
    if (!(c = on_uri(NULL, url, conn))) return MHD_NO;
    *req_cls = c;
  }
  if (!c->uri) return MHD_NO;
  if (!c->started) {
    c->started = true;
    c->method = gpd_method_parse(method);
    set_ids(conn, c);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > GP_BODY_MAX) {
      c->too_large = true; /* answered now: the client need not send the body */
      return answer(srv, conn, c, method);
    }
    return MHD_YES;
  }
  if (*upload_size) {
    if (!c->too_large && c->len + *upload_size > GP_BODY_MAX) {
      c->too_large = true; /* keep reading and dropping what comes, then answer 413 */
      free(c->body);
      c->body = NULL;
      c->len = c->cap = 0;
    }
    if (!c->too_large) {
      if (c->len + *upload_size > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + *upload_size)
          cap *= 2;
        char *b = realloc(c->body, cap);
        if (!b) return MHD_NO;
        c->body = b;
        c->cap = cap;
      }
      memcpy(c->body + c->len, upload_data, *upload_size);
      c->len += *upload_size;
    }
    *upload_size = 0;
    return MHD_YES;
  }
  if (c->answered) return MHD_YES;
  return answer(srv, conn, c, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe) {
  gpd_server *srv = cls;
  conn_ctx *c = *req_cls;
  (void)conn;
  (void)toe;
  if (!c) return;
  if (c->answered) {
    int64_t ns = gpd_mono_ns() - c->start_ns;
    gpd_metrics_observe(srv->metrics, c->route, c->method, c->status, ns);
    gpd_log_request_line l = {gpd_method_name(c->method), c->uri,    c->request_id,
                              c->correlation_id,          c->status, ns / 1000};
    gpd_log_request(&l);
  }
  free(c->uri);
  free(c->body);
  free(c);
  *req_cls = NULL;
}

gpd_http *gpd_http_start(gpd_server *srv, char *err, size_t errlen) {
  struct addrinfo hints, *ai = NULL;
  char port[16];
  gpd_http *h = calloc(1, sizeof *h);
  if (!h) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  h->srv = srv;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  snprintf(port, sizeof port, "%d", srv->cfg.port);
  int rc = getaddrinfo(srv->cfg.host, port, &hints, &ai);
  if (rc != 0) {
    snprintf(err, errlen, "cannot resolve %s: %s", srv->cfg.host, gai_strerror(rc));
    free(h);
    return NULL;
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_TURBO;
  if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
  if (gpd_security_https(srv)) flags |= MHD_USE_TLS;
  h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                               MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->cfg.threads, MHD_OPTION_URI_LOG_CALLBACK,
                               on_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_LISTENING_ADDRESS_REUSE,
                               (unsigned)1, MHD_OPTION_ARRAY, gpd_security_tls_options(srv), MHD_OPTION_END);
  freeaddrinfo(ai);
  if (!h->daemon) {
    snprintf(err, errlen, "cannot listen on %s:%d (address in use, or not a local address)", srv->cfg.host,
             srv->cfg.port);
    free(h);
    return NULL;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
  h->port = info ? info->port : srv->cfg.port;
  bool v6 = strchr(srv->cfg.host, ':') != NULL;
  snprintf(srv->default_base, sizeof srv->default_base, "%s://%s%s%s:%d", gpd_security_https(srv) ? "https" : "http",
           v6 ? "[" : "", srv->cfg.host, v6 ? "]" : "", h->port);
  return h;
}

int gpd_http_port(const gpd_http *h) { return h->port; }

void gpd_http_stop(gpd_http *h) {
  if (!h) return;
  MHD_stop_daemon(h->daemon);
  free(h);
}
