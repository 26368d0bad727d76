/* testutil.c - helpers of the HTTP test programs (see testutil.h). */
#include "testutil.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int gpt_failures;
const char *gpt_test_name = "test";

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER; /* client threads fail too */

void gpt_fail(const char *fmt, ...) {
  va_list ap;
  pthread_mutex_lock(&fail_lock);
  va_start(ap, fmt);
  fprintf(stderr, "FAIL %s: ", gpt_test_name);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  gpt_failures++;
  pthread_mutex_unlock(&fail_lock);
}

void gpt_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int64_t gpt_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long gpt_call(const gpt_server *s, const char *method, const char *path, const char *body, const char *extra,
              gpt_response *r) {
  char url[2048];
  const char *headers[3] = {NULL, NULL, NULL};
  int h = 0;
  if (body) headers[h++] = "Content-Type: application/json";
  if (extra) headers[h++] = extra;
  snprintf(url, sizeof url, "%s%s", strncmp(path, "http", 4) == 0 ? "" : s->base, path);
  gpt_http(method, url, h ? headers : NULL, body, body ? strlen(body) : 0, r);
  return r->status;
}

const char *gpt_state_of(const json_t *v) {
  return json_string_value(json_object_get(json_object_get(v, "properties"), "provisioningState"));
}

bool gpt_wait_state(const gpt_server *s, const char *path, const char *state, int64_t timeout_ms) {
  int64_t deadline = gpt_now_ms() + timeout_ms;
  for (;;) {
    gpt_response r;
    gpt_call(s, "GET", path, NULL, NULL, &r);
    const char *st = r.json ? gpt_state_of(r.json) : NULL;
    bool ok = st && strcmp(st, state) == 0;
    gpt_response_free(&r);
    if (ok) return true;
    if (gpt_now_ms() > deadline) return false;
    gpt_sleep_ms(50);
  }
}

bool gpt_wait_idle(const gpt_server *s, int64_t timeout_ms) {
  int64_t deadline = gpt_now_ms() + timeout_ms;
  for (;;) {
    gpt_response r;
    gpt_call(s, "GET", "/metrics", NULL, NULL, &r);
    bool idle = r.body && strstr(r.body, "gpupoold_operations{status=\"InProgress\"} 0");
    gpt_response_free(&r);
    if (idle) return true;
    if (gpt_now_ms() > deadline) return false;
    gpt_sleep_ms(100);
  }
}

bool gpt_acked_there(const gpt_server *s, const char *path, const char *etag, bool report) {
  gpt_response r;
  gpt_call(s, "GET", path, NULL, NULL, &r);
  const char *e = gpt_header(&r, "ETag"), *st = r.json ? gpt_state_of(r.json) : NULL;
  bool ok = r.status == 200 && e && strcmp(e, etag) == 0 && st && strcmp(st, "Succeeded") == 0;
  if (!ok && report)
    gpt_fail("acknowledged %s: %ld, ETag %s (acknowledged %s), %s", path, r.status, e ? e : "(none)", etag,
             st ? st : "?");
  gpt_response_free(&r);
  return ok;
}

bool gpt_replicas_start(gpt_server *rep, int n, const char *bin, const char *const *args) {
  if (!gpt_dir_make(&rep[0])) return false;
  for (int k = 1; k < n; k++)
    if (!gpt_dir_make_shared(&rep[k], &rep[0])) return false;
  for (int k = 0; k < n; k++)
    if (!gpt_server_start(&rep[k], bin, args)) return false;
  return true;
}

int gpt_replicas_finish(gpt_server *rep, int n) {
  for (int k = 0; k < n; k++) {
    if (rep[k].pid <= 0) continue; /* killed by the test */
    int status = gpt_server_stop(&rep[k]);
    if (status != 0) gpt_fail("replica %c exited with status %d", 'A' + k, status);
  }
  for (int k = 0; gpt_failures && k < n; k++)
    gpt_server_log_tail(&rep[k], 15);
  for (int k = n; k-- > 0;) /* the first one owns the store */
    gpt_dir_remove(&rep[k]);
  if (!gpt_failures) printf("%s: ok\n", gpt_test_name);
  return gpt_failures ? 1 : 0;
}
