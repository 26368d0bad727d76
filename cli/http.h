/* http.h - the CLI's HTTP client (libcurl): one request, the headers ARM clients need back, and
 * --debug tracing of requests and responses. */
#ifndef GPUPOOL_CLI_HTTP_H
#define GPUPOOL_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  long status; /* 0 when the request could not be sent */
  char *body;  /* NUL-terminated, may be empty */
  size_t body_len;
  char etag[256];
  char async_op[2048]; /* Azure-AsyncOperation */
  char location[2048];
  char warnings[4096]; /* the texts of the Warning headers (299 - "text"), one a line */
  int retry_after;     /* seconds, -1 when absent */
  char error[256];     /* transport error text when status is 0 */
  int curl_code;       /* libcurl's CURLcode when status is 0 */
} http_response;

typedef struct {
  const char *token;  /* bearer token or NULL */
  const char *cacert; /* CA file (PEM) for https, NULL: the system's */
  bool debug;
} http_client;

/* Conditions of a write (NULL = none). */
typedef struct {
  const char *if_match;
  const char *if_none_match;
} http_conditions;

/* Sends one request. body and cond may be NULL. Always fills resp (free with http_response_free);
 * returns false on a transport error. */
bool http_request(const http_client *c, const char *method, const char *url, const char *body,
                  const http_conditions *cond, http_response *resp);
void http_response_free(http_response *r);

/* Percent-encodes a path segment into out. */
void http_escape_segment(const char *in, char *out, size_t size);

#endif
