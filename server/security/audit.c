/* audit.c - audit lines (see audit.h). Each line is written with one write(2) on an O_APPEND
 * descriptor, under a mutex that also guards reopening, so lines never interleave or tear. Strings
 * are made printable ASCII before they reach jansson: a path with invalid UTF-8 still gets its line. */
#include "security/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int fd = 2;
static const char *file; /* NULL: stderr */

static int open_file(const char *path, char *err, size_t errlen) {
  int f = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (f < 0) snprintf(err, errlen, "cannot open the audit log %s: %s", path, strerror(errno));
  return f;
}

bool gpd_audit_open(const char *path, char *err, size_t errlen) {
  if (!path) return true;
  int f = open_file(path, err, errlen);
  if (f < 0) return false;
  pthread_mutex_lock(&mu);
  fd = f;
  file = path;
  pthread_mutex_unlock(&mu);
  return true;
}

bool gpd_audit_reopen(char *err, size_t errlen) {
  if (!file) return true;
  int f = open_file(file, err, errlen);
  if (f < 0) return false;
  pthread_mutex_lock(&mu);
  int old = fd;
  fd = f;
  pthread_mutex_unlock(&mu);
  close(old);
  return true;
}

void gpd_audit_close(void) {
  pthread_mutex_lock(&mu);
  if (file) close(fd);
  fd = 2;
  file = NULL;
  pthread_mutex_unlock(&mu);
}

/* A printable ASCII copy, at most max bytes (NULL stays NULL). */
static char *clean(const char *s, size_t max) {
  if (!s) return NULL;
  size_t n = strnlen(s, max);
  char *c = malloc(n + 1);
  if (!c) return NULL;
  for (size_t i = 0; i < n; i++)
    c[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
  c[n] = '\0';
  return c;
}

void gpd_audit_log(const gpd_audit_entry *e) {
  char now[40];
  gpd_format_time(gpd_now_ms(), now, sizeof now);
  char *principal = clean(e->principal, 256), *method = clean(e->method, 16), *id = clean(e->resource_id, 2048),
       *reason = clean(e->reason, 256);
  json_t *o = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:i,s:s?,s:s?,s:s?}", "time", now, "audit", e->kind, "principal",
                        principal, "method", method, "resourceId", id, "status", e->status, "correlationId",
                        e->correlation_id, "requestId", e->request_id, "clientIp", e->client_ip);
  if (o && reason) json_object_set_new(o, "reason", json_string(reason));
  char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (line) {
    size_t n = strlen(line);
    line[n] = '\n'; /* json_dumps' NUL becomes the newline; the length is known */
    pthread_mutex_lock(&mu);
    for (size_t off = 0; off < n + 1;) {
      ssize_t w = write(fd, line + off, n + 1 - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += (size_t)w;
    }
    pthread_mutex_unlock(&mu);
  } else {
    fprintf(stderr, "gpupoold: out of memory writing an audit line (%s %s %d)\n", e->kind, e->method, e->status);
  }
  free(line);
  json_decref(o);
  free(principal);
  free(method);
  free(id);
  free(reason);
}
