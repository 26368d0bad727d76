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
