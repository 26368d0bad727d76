/* log.c - text or JSON log lines on stderr (see log.h). Each line is written with one call, so
 * lines of concurrent requests never interleave.
 *
 * What a client sent never reaches the log as it came: credentials in the query (and in a URL's
 * user info) are replaced by REDACTED, and every byte outside printable ASCII is written as \xNN
 * (a backslash too), so a request cannot forge log lines, move the terminal's cursor, or, in JSON,
 * make its line disappear with invalid UTF-8. */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define URI_LOG_MAX 2048 /* bytes of a URI shown; longer ones end with "..." */

static bool log_json;

void gpd_log_set_json(bool json) { log_json = json; }

/* Appends c to out (size > 0), as itself when it is printable ASCII, else as \xNN. */
static size_t put_safe(char *out, size_t at, size_t size, unsigned char c) {
  if (c >= 0x20 && c < 0x7f && c != '\\') {
    if (at + 1 < size) out[at++] = (char)c;
  } else if (at + 4 < size) {
    at += (size_t)snprintf(out + at, 5, "\\x%02x", c);
  }
  out[at] = '\0';
  return at;
}

void gpd_log_safe(const char *in, char *out, size_t size) {
  size_t at = 0;
  out[0] = '\0';
  for (const unsigned char *p = (const unsigned char *)in; in && *p && at + 1 < size; p++)
    at = put_safe(out, at, size, *p);
}

/* Query parameters that carry credentials (compared case-insensitively, the name percent-decoded). */
static bool secret_name(const char *name, size_t len) {
  static const char *const exact[] = {"code",    "key",    "sig",     "signature", "auth", "authorization",
                                      "api_key", "apikey", "api-key", "pwd",       "pass", "jwt"};
  static const char *const parts[] = {"token", "secret", "password", "passwd", "credential"};
  char n[64];
  size_t k = 0;
  for (size_t i = 0; i < len && k + 1 < sizeof n; i++) {
    unsigned hi, lo;
    if (name[i] == '%' && i + 2 < len && sscanf(name + i + 1, "%1x%1x", &hi, &lo) == 2) {
      n[k++] = (char)(hi * 16 + lo);
      i += 2;
    } else {
      n[k++] = name[i];
    }
  }
  n[k] = '\0';
  if (strcasecmp(n, "$skiptoken") == 0) return false; /* an opaque page cursor, not a credential */
  for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
    if (strcasecmp(n, exact[i]) == 0) return true;
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    if (strcasestr(n, parts[i])) return true;
  return false;
}

void gpd_log_uri(const char *uri, char *out, size_t size) {
  size_t at = 0, n = uri ? strlen(uri) : 0, shown = n > URI_LOG_MAX ? URI_LOG_MAX : n;
  const char *q = uri ? memchr(uri, '?', shown) : NULL;
  /* user info of an absolute-form target (http://user:password@host/...) */
  const char *scheme = uri ? strstr(uri, "://") : NULL, *at_sign = NULL;
  if (scheme && (!q || scheme < q)) {
    size_t host_len = strcspn(scheme + 3, "/?#");
    const char *a = memchr(scheme + 3, '@', host_len);
    if (a) at_sign = a;
  }
  out[0] = '\0';
  for (size_t i = 0; i < shown && at + 1 < size; i++) {
    if (at_sign && uri + i == scheme + 3) { /* http://REDACTED@host */
      for (const char *r = "REDACTED"; *r; r++)
        at = put_safe(out, at, size, (unsigned char)*r);
      i = (size_t)(at_sign - uri) - 1;
      continue;
    }
    at = put_safe(out, at, size, (unsigned char)uri[i]);
    if (!q || uri + i < q || (uri[i] != '?' && uri[i] != '&')) continue;
    /* a parameter starts after this '?' or '&': name[=value] */
    const char *name = uri + i + 1;
    size_t plen = strcspn(name, "&#");
    const char *eq = memchr(name, '=', plen);
    if (!eq || !secret_name(name, (size_t)(eq - name))) continue;
    for (const char *p = name; p <= eq; p++)
      at = put_safe(out, at, size, (unsigned char)*p);
    for (const char *r = "REDACTED"; *r; r++)
      at = put_safe(out, at, size, (unsigned char)*r);
    i = (size_t)(name + plen - uri) - 1;
  }
  if (shown < n && at + 4 < size) snprintf(out + at, size - at, "...");
}

static void emit(const char *level, const char *fmt, va_list ap) {
  char raw[1024], msg[1200], now[40];
  vsnprintf(raw, sizeof raw, fmt, ap);
  gpd_log_safe(raw, msg, sizeof msg);
  gpd_format_time(gpd_now_ms(), now, sizeof now);
  if (log_json) {
    json_t *o = json_pack("{s:s,s:s,s:s}", "time", now, "level", level, "msg", msg);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (line) fprintf(stderr, "%s\n", line);
    free(line);
    json_decref(o);
  } else {
    fprintf(stderr, "%s %s %s\n", now, level, msg);
  }
}

void gpd_log_info(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit("info", fmt, ap);
  va_end(ap);
}

void gpd_log_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit("error", fmt, ap);
  va_end(ap);
}

void gpd_log_request(const gpd_log_request_line *l) {
  char now[40], uri[URI_LOG_MAX * 4 + 16];
  gpd_format_time(gpd_now_ms(), now, sizeof now);
  gpd_log_uri(l->uri ? l->uri : "-", uri, sizeof uri);
  if (log_json) {
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:i,s:f,s:s?,s:s?}", "time", now, "level", "info", "method", l->method,
                          "uri", uri, "status", l->status, "durationMs", (double)l->duration_us / 1000.0, "requestId",
                          l->request_id, "correlationId", l->correlation_id);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (line) fprintf(stderr, "%s\n", line);
    free(line);
    json_decref(o);
  } else {
    fprintf(stderr, "%s info %s %s %d %.3fms request-id=%s correlation-id=%s\n", now, l->method, uri, l->status,
            (double)l->duration_us / 1000.0, l->request_id ? l->request_id : "-",
            l->correlation_id ? l->correlation_id : "-");
  }
}
