/* client.h - a minimal HTTP client for the tests (libcurl): one request, status, headers, body. */
#ifndef GPT_CLIENT_H
#define GPT_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
  long status; /* 0 when the request failed at the transport level */
  char *body;
  size_t body_len;
  json_t *json;   /* the body parsed, NULL if empty or not JSON */
  char **headers; /* "Name: value" lines */
  size_t nheaders;
  char error[256];
  bool timed_out; /* no (complete) answer within the time allowed */
} gpt_response;

/* headers: "Name: value" strings, NULL-terminated (may be NULL). body NULL = no body. */
bool gpt_http(const char *method, const char *url, const char *const *headers, const char *body, size_t body_len,
              gpt_response *out);
/* The same, giving up (and closing the connection) after timeout_ms (0: 90 s, the default). */
bool gpt_http_timeout(const char *method, const char *url, const char *const *headers, const char *body,
                      size_t body_len, long timeout_ms, gpt_response *out);
/* A connection kept open between requests (HTTP keep-alive), for requests that must reach the
 * server together: no connection set-up between the start signal and the request. */
typedef struct gpt_conn gpt_conn;
gpt_conn *gpt_conn_open(void);
bool gpt_conn_http(gpt_conn *conn, const char *method, const char *url, const char *const *headers, const char *body,
                   size_t body_len, gpt_response *out);
void gpt_conn_close(gpt_conn *conn);
/* First value of a response header (case-insensitive), NULL when absent. */
const char *gpt_header(const gpt_response *r, const char *name);
/* How many times a header appears. */
size_t gpt_header_count(const gpt_response *r, const char *name);
void gpt_response_free(gpt_response *r);
/* Call once before threads use gpt_http. */
void gpt_client_init(void);
/* https: trust this CA file (PEM) instead of the system's. */
void gpt_client_set_cacert(const char *path);

#endif
