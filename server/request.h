/* request.h - one HTTP request as the handlers see it (route, names, api-version, body) and the
 * response they build (status, JSON body, headers). The HTTP layer (http.c) fills the one and sends
 * the other; handlers never touch libmicrohttpd. */
#ifndef GPUPOOLD_REQUEST_H
#define GPUPOOLD_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "gpupool/gpupool.h"
#include "server.h"
#include "util.h"

#define GPD_MAX_SEGMENTS 16
#define GPD_MAX_RESP_HEADERS 12

typedef enum { GPD_GET = 0, GPD_PUT, GPD_PATCH, GPD_DELETE, GPD_POST, GPD_OTHER, GPD_METHOD_COUNT } gpd_method;

typedef struct gpd_request {
  gpd_server *srv;
  void *conn; /* the libmicrohttpd connection, for header lookups in http.c */
  gpd_method method;
  const char *method_name;
  const char *uri; /* as received: path and query */
  char *path;      /* the raw path, without the query */
  char *segbuf;    /* a copy of path, cut into the decoded segments */
  char *seg[GPD_MAX_SEGMENTS];
  size_t nseg;
  int route; /* gpd_route_id */
  /* Decoded names from the path (NULL when the route has none). */
  const char *sub, *rg, *cluster, *pool, *machine, *location, *op_id, *feature;
  const char *api_version;
  gp_api_group api;
  const char *body;
  size_t body_len;
  char request_id[GPD_UUID_LEN + 1];
  /* The caller (security.c): NULL under --auth none and on open routes, else whose assignments
   * authz.h checks; identity is what security.c keeps until the request is done. */
  const struct gpd_principal *principal;
  struct gpd_identity *identity;
  struct gpd_hold *hold; /* long-poll state (longpoll.h); NULL where requests cannot be held */
} gpd_request;

typedef struct {
  char *name, *value;
} gpd_header;

typedef struct {
  int status;
  json_t *body; /* sent as compact JSON */
  char *text;   /* or this JSON text, as is */
  size_t text_len;
  gpd_header headers[GPD_MAX_RESP_HEADERS];
  size_t nheaders;
} gpd_response;

/* Request headers and query parameters (case-insensitive names); NULL when absent. */
const char *gpd_req_header(const gpd_request *r, const char *name);
const char *gpd_req_query(const gpd_request *r, const char *name);
/* Every value of a request header, in order (at most max); returns how many there are. */
size_t gpd_req_header_all(const gpd_request *r, const char *name, const char **out, size_t max);
/* The client's address as text ("-" when unknown). */
void gpd_req_client_addr(const gpd_request *r, char *buf, size_t size);
/* The base of absolute URLs: --public-url, else http(s):// + Host. */
void gpd_req_base_url(const gpd_request *r, char *buf, size_t size);
/* Parses the body as JSON. On failure the response holds the error and NULL is returned. */
json_t *gpd_req_json(const gpd_request *r, gpd_response *resp);

void gpd_resp_json(gpd_response *resp, int status, json_t *body);           /* takes body */
void gpd_resp_text(gpd_response *resp, int status, char *text, size_t len); /* takes text */
void gpd_resp_empty(gpd_response *resp, int status);
void gpd_resp_error(gpd_response *resp, int status, const char *code, const char *target, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The ARM body of a core error list: status 400 (err->status), 500 when it ran out of memory. */
void gpd_resp_gp_error(gpd_response *resp, const gp_error *err);
void gpd_resp_oom(gpd_response *resp);
void gpd_resp_store_error(gpd_response *resp);
void gpd_resp_header(gpd_response *resp, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void gpd_resp_clear(gpd_response *resp);

#endif
