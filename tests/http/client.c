/* client.c - libcurl requests for the HTTP tests (see client.h). */
#include "client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *cacert;

void gpt_client_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }
void gpt_client_set_cacert(const char *path) { cacert = path; }

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
  gpt_response *r = arg;
  size_t len = size * n;
  char *b = realloc(r->body, r->body_len + len + 1);
  if (!b) return 0;
  memcpy(b + r->body_len, data, len);
  r->body = b;
  r->body_len += len;
  r->body[r->body_len] = '\0';
  return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg) {
  gpt_response *r = arg;
  size_t len = size * n;
  if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new response (after 100 Continue): start over */
    for (size_t i = 0; i < r->nheaders; i++)
      free(r->headers[i]);
    r->nheaders = 0;
    return len;
  }
  while (len && (data[len - 1] == '\r' || data[len - 1] == '\n'))
    len--;
  if (!len || !memchr(data, ':', len)) return size * n;
  char **h = realloc(r->headers, (r->nheaders + 1) * sizeof *h);
  if (!h) return 0;
  r->headers = h;
  if (!(h[r->nheaders] = strndup(data, len))) return 0;
  r->nheaders++;
  return size * n;
}

/* One request on a handle (its connection is kept for the next request on it). */
static bool perform(CURL *c, const char *method, const char *url, const char *const *headers, const char *body,
                    size_t body_len, long timeout_ms, gpt_response *out) {
  struct curl_slist *list = NULL;
  memset(out, 0, sizeof *out);
  if (!c) return false;
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 90000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send ../ and %2F exactly as written */
  if (cacert) curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  }
  if (strcmp(method, "HEAD") == 0) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  for (size_t i = 0; headers && headers[i]; i++)
    list = curl_slist_append(list, headers[i]);
  if (list) curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    if (out->body_len) out->json = json_loadb(out->body, out->body_len, 0, NULL);
  } else {
    snprintf(out->error, sizeof out->error, "%s", curl_easy_strerror(rc));
    out->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
  }
  curl_slist_free_all(list);
  return rc == CURLE_OK;
}

bool gpt_http(const char *method, const char *url, const char *const *headers, const char *body, size_t body_len,
              gpt_response *out) {
  return gpt_http_timeout(method, url, headers, body, body_len, 0, out);
}

bool gpt_http_timeout(const char *method, const char *url, const char *const *headers, const char *body,
                      size_t body_len, long timeout_ms, gpt_response *out) {
  CURL *c = curl_easy_init();
  bool ok = perform(c, method, url, headers, body, body_len, timeout_ms, out);
  curl_easy_cleanup(c);
  return ok;
}

gpt_conn *gpt_conn_open(void) { return (gpt_conn *)curl_easy_init(); }

bool gpt_conn_http(gpt_conn *conn, const char *method, const char *url, const char *const *headers, const char *body,
                   size_t body_len, gpt_response *out) {
  return perform((CURL *)conn, method, url, headers, body, body_len, 0, out);
}

void gpt_conn_close(gpt_conn *conn) { curl_easy_cleanup((CURL *)conn); }

const char *gpt_header(const gpt_response *r, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; i < r->nheaders; i++)
    if (strncasecmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':') {
      const char *v = r->headers[i] + n + 1;
      while (*v == ' ')
        v++;
      return v;
    }
  return NULL;
}

size_t gpt_header_count(const gpt_response *r, const char *name) {
  size_t n = strlen(name), c = 0;
  for (size_t i = 0; i < r->nheaders; i++)
    if (strncasecmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':') c++;
  return c;
}

void gpt_response_free(gpt_response *r) {
  free(r->body);
  json_decref(r->json);
  for (size_t i = 0; i < r->nheaders; i++)
    free(r->headers[i]);
  free(r->headers);
  memset(r, 0, sizeof *r);
}
