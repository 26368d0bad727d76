/* http.c - what the agent's HTTP clients (fetch.c, and the daemon's client.c) share: libcurl
 * callbacks that collect a response body (at most 1 MiB) and its ETag. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent.h"

size_t ag_http_on_body(char *data, size_t size, size_t nmemb, void *userp) {
  ag_http_response *r = userp;
  size_t n = size * nmemb;
  if (r->body.len + n > AG_HTTP_MAX_BODY) {
    r->too_big = true;
    return 0;
  }
  char *tmp = malloc(n + 1);
  if (!tmp) return 0;
  memcpy(tmp, data, n);
  tmp[n] = '\0';
  /* a NUL inside a JSON body makes it invalid anyway; ag_buf_add stops there and parsing fails */
  ag_buf_add(&r->body, tmp);
  free(tmp);
  return r->body.oom ? 0 : n;
}

size_t ag_http_on_header(char *data, size_t size, size_t nmemb, void *userp) {
  ag_http_response *r = userp;
  size_t n = size * nmemb;
  if (n > 5 && strncasecmp(data, "etag:", 5) == 0) {
    const char *v = data + 5;
    size_t len = n - 5;
    while (len && (*v == ' ' || *v == '\t'))
      v++, len--;
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
      len--;
    if (len < sizeof r->etag) {
      memcpy(r->etag, v, len);
      r->etag[len] = '\0';
    }
  }
  return n;
}

bool ag_header_safe(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) return false;
  return true;
}
