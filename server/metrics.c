/* metrics.c - Prometheus text exposition of gpupoold's counters and gauges (see metrics.h).
 *
 * Counters are plain atomics indexed by route template, method and status, so counting a request
 * costs a few relaxed increments and no lock. The store's gauges are rendered to text by the
 * collectors and that text is kept for GPD_METRICS_STORE_TTL_MS. */
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "http.h"
#include "longpoll.h"
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
  /* the store's gauges as text, from the last scrape that computed them */
  pthread_mutex_t store_mu;
  pthread_cond_t store_done;
  char *store_text;
  size_t store_len;
  int64_t store_at_ns;
  bool store_refreshing;
};

gpd_metrics *gpd_metrics_new(void) {
  gpd_metrics *m = calloc(1, sizeof(gpd_metrics));
  if (!m) return NULL;
  pthread_mutex_init(&m->store_mu, NULL);
  pthread_cond_init(&m->store_done, NULL);
  return m;
}

void gpd_metrics_free(gpd_metrics *m) {
  if (!m) return;
  pthread_mutex_destroy(&m->store_mu);
  pthread_cond_destroy(&m->store_done);
  free(m->store_text);
  free(m);
}

static size_t status_index(int status) {
  for (size_t i = 0; i < NSTATUS - 1; i++)
    if (statuses[i] == status) return i;
  return NSTATUS - 1;
}

void gpd_metrics_observe(gpd_metrics *m, int route, int method, int status, int64_t ns) {
  if (!m || route < 0 || route >= GPD_ROUTE_COUNT || method < 0 || method >= GPD_METHOD_COUNT) return;
  atomic_fetch_add_explicit(&m->requests[route][method][status_index(status)], 1, memory_order_relaxed);
  if (ns < 0) return;
  double secs = (double)ns / 1e9;
  size_t b = 0;
  while (b < NBUCKETS && secs > buckets[b])
    b++;
  atomic_fetch_add_explicit(&m->hist[route][b], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&m->sum_us[route], (uint64_t)(ns / 1000), memory_order_relaxed);
}

struct gpd_metrics_out {
  char *buf;
  size_t len, cap;
  bool oom;
};
typedef gpd_metrics_out sbuf;

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

void gpd_metrics_family(gpd_metrics_out *o, const char *name, const char *type, const char *help) {
  out(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void gpd_metrics_sample(gpd_metrics_out *o, const char *name, double value, ...) {
  va_list ap;
  out(o, "%s", name);
  va_start(ap, value);
  const char *label;
  bool first = true;
  while ((label = va_arg(ap, const char *))) {
    const char *v = va_arg(ap, const char *);
    out(o, "%s%s=\"", first ? "{" : ",", label);
    first = false;
    for (const char *p = v ? v : ""; *p; p++) {
      if (*p == '\\' || *p == '"')
        out(o, "\\%c", *p);
      else if (*p == '\n')
        out(o, "\\n");
      else
        out(o, "%c", *p);
    }
    out(o, "\"");
  }
  va_end(ap);
  out(o, "%s %.17g\n", first ? "" : "}", value);
}

/* ---- the store's gauges ------------------------------------------------------------------------ */

static int64_t count_of(const gpd_store_stats *st, bool ops, const char *label) {
  size_t n = ops ? st->nops : st->npools;
  for (size_t j = 0; j < n; j++)
    if (strcmp(ops ? st->ops[j].label : st->pools[j].label, label) == 0)
      return ops ? st->ops[j].count : st->pools[j].count;
  return 0;
}

/* Operations by status, pools by effective management mode. */
static bool collect_store_counts(const gpd_server *srv, gpd_metrics_out *o) {
  gpd_store_stats st;
  if (srv->store->ops->stats(srv->store, &st) != GPD_STORE_OK) return false;
  gpd_metrics_family(o, "gpupoold_operations", "gauge", "Asynchronous operations in the store, by status.");
  static const char *const op_states[] = {"InProgress", "Succeeded", "Failed", "Canceled"};
  for (size_t i = 0; i < 4; i++)
    gpd_metrics_sample(o, "gpupoold_operations", (double)count_of(&st, true, op_states[i]), "status", op_states[i],
                       NULL);
  gpd_metrics_family(o, "gpupoold_agent_pools", "gauge", "Agent pools in the store, by effective GPU management mode.");
  static const char *const modes[] = {"Managed", "Unmanaged", "None"};
  for (size_t i = 0; i < 3; i++)
    gpd_metrics_sample(o, "gpupoold_agent_pools", (double)count_of(&st, false, modes[i]), "management_mode", modes[i],
                       NULL);
  return true;
}

static const gpd_metrics_collector store_collectors[] = {collect_store_counts, gpd_fleet_collect};

/* Runs every collector: the text of their families and gpupoold_store_up (malloc'd), or NULL on OOM. */
static char *store_section(const gpd_server *srv, size_t *len) {
  sbuf o = {malloc(4096), 0, 4096, false};
  if (!o.buf) return NULL;
  o.buf[0] = '\0';
  bool up = true;
  for (size_t i = 0; i < sizeof store_collectors / sizeof store_collectors[0]; i++) {
    size_t mark = o.len;
    if (!store_collectors[i](srv, &o)) { /* drop what a failed collector half wrote */
      up = false;
      o.len = mark;
      o.buf[mark] = '\0';
    }
  }
  gpd_metrics_family(&o, "gpupoold_store_up", "gauge",
                     "Whether the store answered the scrape that computed these figures.");
  gpd_metrics_sample(&o, "gpupoold_store_up", up ? 1 : 0, NULL);
  if (o.oom) {
    free(o.buf);
    return NULL;
  }
  *len = o.len;
  return o.buf;
}

/* Appends the store's gauges: the cached text, or a new one when it is older than the TTL (one
 * scrape computes it; concurrent scrapes take the previous text, or wait for the first one). */
static void append_store(gpd_metrics *m, const gpd_server *srv, sbuf *o) {
  pthread_mutex_lock(&m->store_mu);
  bool fresh = m->store_text && gpd_mono_ns() - m->store_at_ns < (int64_t)GPD_METRICS_STORE_TTL_MS * 1000000;
  if (!fresh && !m->store_refreshing) {
    m->store_refreshing = true;
    pthread_mutex_unlock(&m->store_mu);
    size_t len = 0;
    char *text = store_section(srv, &len);
    pthread_mutex_lock(&m->store_mu);
    if (text) {
      free(m->store_text);
      m->store_text = text;
      m->store_len = len;
      m->store_at_ns = gpd_mono_ns();
    }
    m->store_refreshing = false;
    pthread_cond_broadcast(&m->store_done);
  }
  while (!m->store_text && m->store_refreshing)
    pthread_cond_wait(&m->store_done, &m->store_mu);
  if (m->store_text)
    out(o, "%s", m->store_text);
  else
    o->oom = true;
  pthread_mutex_unlock(&m->store_mu);
}

/* ---- the process's gauges ------------------------------------------------------------------------ */

static void append_process(gpd_server *srv, sbuf *o) {
  gpd_metrics_family(o, "gpupoold_connections", "gauge", "HTTP connections open now, held long-polls included.");
  gpd_metrics_sample(o, "gpupoold_connections", (double)gpd_http_connections(srv->http), NULL);
  gpd_metrics_family(
      o, "gpupoold_header_timeouts_total", "counter",
      "Connections closed because they did not send complete request headers in time (--header-timeout).");
  gpd_metrics_sample(o, "gpupoold_header_timeouts_total", (double)gpd_http_header_timeouts(srv->http), NULL);
  gpd_metrics_family(o, "gpupoold_long_polls", "gauge", "Requests held now, waiting for a change (long-polls).");
  gpd_metrics_sample(o, "gpupoold_long_polls", (double)gpd_longpoll_held(srv->longpoll), NULL);
}

char *gpd_metrics_render(gpd_metrics *m, gpd_server *srv, size_t *len) {
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
  append_process(srv, &s);
  append_store(m, srv, &s);
  if (s.oom) {
    free(s.buf);
    return NULL;
  }
  *len = s.len;
  return s.buf;
}
