/* metrics.c - Prometheus text exposition of gpupoold's counters (see metrics.h).
 *
 * Counters are plain atomics indexed by route template, method and status, so counting a request
 * costs a few relaxed increments and no lock. */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "router.h"

static const int statuses[] = {200, 201, 202, 204, 304, 400, 404, 405, 409, 412, 413, 414, 415, 500, 503};
#define NSTATUS (sizeof statuses / sizeof statuses[0] + 1) /* + other */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

struct gpd_metrics {
  _Atomic uint64_t requests[GPD_ROUTE_COUNT][GPD_METHOD_COUNT][NSTATUS];
  _Atomic uint64_t hist[GPD_ROUTE_COUNT][NBUCKETS + 1]; /* per bucket, not cumulative; last = +Inf */
  _Atomic uint64_t sum_us[GPD_ROUTE_COUNT];
};

gpd_metrics *gpd_metrics_new(void) { return calloc(1, sizeof(gpd_metrics)); }
void gpd_metrics_free(gpd_metrics *m) { free(m); }

static size_t status_index(int status) {
  for (size_t i = 0; i < NSTATUS - 1; i++)
    if (statuses[i] == status) return i;
  return NSTATUS - 1;
}

void gpd_metrics_observe(gpd_metrics *m, int route, int method, int status, int64_t ns) {
  if (!m || route < 0 || route >= GPD_ROUTE_COUNT || method < 0 || method >= GPD_METHOD_COUNT) return;
  atomic_fetch_add_explicit(&m->requests[route][method][status_index(status)], 1, memory_order_relaxed);
  double secs = (double)ns / 1e9;
  size_t b = 0;
  while (b < NBUCKETS && secs > buckets[b])
    b++;
  atomic_fetch_add_explicit(&m->hist[route][b], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&m->sum_us[route], (uint64_t)(ns / 1000), memory_order_relaxed);
}

typedef struct {
  char *buf;
  size_t len, cap;
  bool oom;
} sbuf;

static void out(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(sbuf *s, const char *fmt, ...) {
  va_list ap;
  if (s->oom) return;
  for (;;) {
    va_start(ap, fmt);
    int n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      s->oom = true;
      return;
    }
    if ((size_t)n < s->cap - s->len) {
      s->len += (size_t)n;
      return;
    }
    size_t cap = s->cap * 2 + (size_t)n;
    char *b = realloc(s->buf, cap);
    if (!b) {
      s->oom = true;
      return;
    }
    s->buf = b;
    s->cap = cap;
  }
}

char *gpd_metrics_render(gpd_metrics *m, const gpd_store_stats *st, size_t *len) {
  sbuf s = {malloc(16384), 0, 16384, false};
  if (!s.buf) return NULL;
  s.buf[0] = '\0';
  out(&s, "# HELP gpupoold_http_requests_total HTTP requests answered, by route template, method and status.\n"
          "# TYPE gpupoold_http_requests_total counter\n");
  for (int r = 0; r < GPD_ROUTE_COUNT; r++)
    for (int me = 0; me < GPD_METHOD_COUNT; me++)
      for (size_t i = 0; i < NSTATUS; i++) {
        uint64_t v = atomic_load_explicit(&m->requests[r][me][i], memory_order_relaxed);
        if (!v) continue;
        char code[8];
        snprintf(code, sizeof code, "%d", i < NSTATUS - 1 ? statuses[i] : 0);
        out(&s, "gpupoold_http_requests_total{route=\"%s\",method=\"%s\",code=\"%s\"} %llu\n", gpd_route_template(r),
            gpd_method_name((gpd_method)me), i < NSTATUS - 1 ? code : "other", (unsigned long long)v);
      }
  out(&s, "# HELP gpupoold_http_request_duration_seconds Time from request line to response, by route template.\n"
          "# TYPE gpupoold_http_request_duration_seconds histogram\n");
  for (int r = 0; r < GPD_ROUTE_COUNT; r++) {
    uint64_t cum = 0, counts[NBUCKETS + 1];
    for (size_t b = 0; b <= NBUCKETS; b++)
      counts[b] = atomic_load_explicit(&m->hist[r][b], memory_order_relaxed);
    for (size_t b = 0; b <= NBUCKETS; b++)
      cum += counts[b];
    if (!cum) continue;
    const char *t = gpd_route_template(r);
    cum = 0;
    for (size_t b = 0; b < NBUCKETS; b++) {
      cum += counts[b];
      out(&s, "gpupoold_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", t, buckets[b],
          (unsigned long long)cum);
    }
    cum += counts[NBUCKETS];
    out(&s, "gpupoold_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", t,
        (unsigned long long)cum);
    out(&s, "gpupoold_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", t,
        (double)atomic_load_explicit(&m->sum_us[r], memory_order_relaxed) / 1e6);
    out(&s, "gpupoold_http_request_duration_seconds_count{route=\"%s\"} %llu\n", t, (unsigned long long)cum);
  }
  if (st) {
    out(&s, "# HELP gpupoold_operations Asynchronous operations in the store, by status.\n"
            "# TYPE gpupoold_operations gauge\n");
    static const char *const op_states[] = {"InProgress", "Succeeded", "Failed", "Canceled"};
    for (size_t i = 0; i < 4; i++) {
      long long v = 0;
      for (size_t j = 0; j < st->nops; j++)
        if (strcmp(st->ops[j].label, op_states[i]) == 0) v = st->ops[j].count;
      out(&s, "gpupoold_operations{status=\"%s\"} %lld\n", op_states[i], v);
    }
    out(&s, "# HELP gpupoold_agent_pools Agent pools in the store, by effective GPU management mode.\n"
            "# TYPE gpupoold_agent_pools gauge\n");
    static const char *const modes[] = {"Managed", "Unmanaged", "None"};
    for (size_t i = 0; i < 3; i++) {
      long long v = 0;
      for (size_t j = 0; j < st->npools; j++)
        if (strcmp(st->pools[j].label, modes[i]) == 0) v = st->pools[j].count;
      out(&s, "gpupoold_agent_pools{management_mode=\"%s\"} %lld\n", modes[i], v);
    }
  }
  out(&s,
      "# HELP gpupoold_store_up Whether the store answered this scrape.\n# TYPE gpupoold_store_up gauge\n"
      "gpupoold_store_up %d\n",
      st ? 1 : 0);
  if (s.oom) {
    free(s.buf);
    return NULL;
  }
  *len = s.len;
  return s.buf;
}
