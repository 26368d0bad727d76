/* http.c - the CLI's HTTP client on libcurl (see http.h). */
#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpupool/version.h"

typedef struct {
  char *data;
  size_t len, cap;
  bool failed;
} buffer;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
  buffer *b = userdata;
  size_t n = size * nmemb;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 16384;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
      b->failed = true;
      return 0;
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

static void copy_value(char *dst, size_t size, const char *v, size_t len) {
  while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
    len--;
  while (len && *v == ' ') {
    v++;
    len--;
  }
  if (len >= size) len = size - 1;
  memcpy(dst, v, len);
  dst[len] = '\0';
}

typedef struct {
  http_response *r;
  bool debug;
} header_ctx;

/* Keeps the text of a Warning header (RFC 7234: code agent "text"), unquoted. */
static void add_warning(http_response *r, const char *v, size_t len) {
  char raw[1024], text[1024];
  copy_value(raw, sizeof raw, v, len);
  const char *q = strchr(raw, '"');
  size_t j = 0;
  if (q) {
    for (const char *p = q + 1; *p && *p != '"' && j + 1 < sizeof text; p++) {
      if (*p == '\\' && p[1]) p++;
      text[j++] = *p;
    }
    text[j] = '\0';
  } else {
    snprintf(text, sizeof text, "%s", raw);
  }
  size_t used = strlen(r->warnings);
  snprintf(r->warnings + used, sizeof r->warnings - used, "%s\n", text);
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata) {
  header_ctx *h = userdata;
  size_t n = size * nmemb;
  if (h->debug) fprintf(stderr, "< %.*s", (int)n, line);
  const char *colon = memchr(line, ':', n);
  if (!colon) return n;
  size_t klen = (size_t)(colon - line), vlen = n - klen - 1;
  const char *v = colon + 1;
#define IS(name) (klen == strlen(name) && strncasecmp(line, name, klen) == 0)
  if (IS("ETag"))
    copy_value(h->r->etag, sizeof h->r->etag, v, vlen);
  else if (IS("Azure-AsyncOperation"))
    copy_value(h->r->async_op, sizeof h->r->async_op, v, vlen);
  else if (IS("Location"))
    copy_value(h->r->location, sizeof h->r->location, v, vlen);
  else if (IS("Warning"))
    add_warning(h->r, v, vlen);
  else if (IS("Retry-After")) {
    char tmp[32];
    copy_value(tmp, sizeof tmp, v, vlen);
    h->r->retry_after = isdigit((unsigned char)tmp[0]) ? atoi(tmp) : -1;
  }
#undef IS
  return n;
}

bool http_request(const http_client *c, const char *method, const char *url, const char *body,
                  const http_conditions *cond, http_response *resp) {
  memset(resp, 0, sizeof *resp);
  resp->retry_after = -1;
  CURL *curl = curl_easy_init();
  if (!curl) {
    snprintf(resp->error, sizeof resp->error, "cannot initialise libcurl");
    return false;
  }
  buffer b = {0};
  header_ctx hc = {resp, c->debug};
  struct curl_slist *headers = NULL;
  char line[4096];
  headers = curl_slist_append(headers, "Accept: application/json");
  if (body) headers = curl_slist_append(headers, "Content-Type: application/json");
  if (c->token) {
    snprintf(line, sizeof line, "Authorization: Bearer %s", c->token);
    headers = curl_slist_append(headers, line);
  }
  if (cond && cond->if_match) {
    snprintf(line, sizeof line, "If-Match: %s", cond->if_match);
    headers = curl_slist_append(headers, line);
  }
  if (cond && cond->if_none_match) {
    snprintf(line, sizeof line, "If-None-Match: %s", cond->if_none_match);
    headers = curl_slist_append(headers, line);
  }
  snprintf(line, sizeof line, "User-Agent: gpupool-cli/%s", gp_version());
  headers = curl_slist_append(headers, line);
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &hc);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  if (c->cacert) curl_easy_setopt(curl, CURLOPT_CAINFO, c->cacert);
  if (strcmp(method, "HEAD") == 0) curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  }
  if (c->debug) {
    fprintf(stderr, "> %s %s\n", method, url);
    for (struct curl_slist *h = headers; h; h = h->next)
      fprintf(stderr, "> %s\n",
              strncasecmp(h->data, "Authorization:", 14) == 0 ? "Authorization: Bearer ***" : h->data);
    if (body) fprintf(stderr, "> \n%s\n", body);
  }
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
  else {
    snprintf(resp->error, sizeof resp->error, "%s", curl_easy_strerror(rc));
    resp->curl_code = (int)rc;
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (b.failed) {
    free(b.data);
    snprintf(resp->error, sizeof resp->error, "out of memory reading the response");
    resp->status = 0;
    return false;
  }
  resp->body = b.data ? b.data : strdup("");
  resp->body_len = b.len;
  if (c->debug && resp->status) fprintf(stderr, "<\n%s\n", resp->body ? resp->body : "");
  return rc == CURLE_OK && resp->body;
}

void http_response_free(http_response *r) {
  free(r->body);
  r->body = NULL;
}

void http_escape_segment(const char *in, char *out, size_t size) {
  static const char hex[] = "0123456789ABCDEF";
  size_t j = 0;
  for (const unsigned char *p = (const unsigned char *)in; *p && j + 4 < size; p++) {
    if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' || *p == '(' || *p == ')') {
      out[j++] = (char)*p;
    } else {
      out[j++] = '%';
      out[j++] = hex[*p >> 4];
      out[j++] = hex[*p & 15];
    }
  }
  out[j] = '\0';
}
