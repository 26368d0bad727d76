/* metrics.c - issue 16 item 3: /metrics is neither open to everyone nor a scan of the store per call.
 * With --auth tokens it answers an authenticated caller only (any role, an Agent too) and 401 to
 * others; --metrics-listen serves /metrics and /healthz without authentication on an address of its
 * own and nothing else. The store's gauges are computed at most once a second: operations added
 * behind gpupoold's back show up only once the figures are a second old.
 * Usage: hardening-metrics --server BUILD/gpupoold */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlib.h"
#include "store_sql.h"
#include "testutil.h"

#define SUB "3b2a1f0e-9d8c-4b7a-a6f5-e4d3c2b1a0f9"
#define POOL_ID                                                                                                        \
  "/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/p1"
#define READER "hardening-metrics-reader-token"
#define AGENT "hardening-metrics-agent-token"
#define SUCCEEDED "gpupoold_operations{status=\"Succeeded\"}"

static gpt_server srv;

static long get(const char *base, const char *path, const char *auth, gpt_response *r) {
  char url[512];
  const char *h[] = {auth, NULL};
  snprintf(url, sizeof url, "%s%s", base, path);
  gpt_http("GET", url, auth ? h : NULL, NULL, 0, r);
  return r->status;
}

static void expect_status(const char *what, const char *base, const char *path, const char *auth, long want) {
  gpt_response r;
  long st = get(base, path, auth, &r);
  if (st != want) gpt_fail("%s: status %ld, want %ld (%.200s)", what, st, want, r.body ? r.body : r.error);
  gpt_response_free(&r);
}

/* Adds n finished operations straight into the store, as another writer would. */
static void add_operations(int n) {
  for (int i = 0; i < n; i++) {
    char id[64];
    snprintf(id, sizeof id, "behind-the-back-%d-%d", rand(), i);
    const char *p[] = {id};
    if (!gpt_store_sql(&srv,
                       "INSERT INTO operations(id, sub, res_kind, res_key, kind, status, start_ms, end_ms, "
                       "not_before_ms) VALUES($1, 'x', 1, 'x', 'update', 'Succeeded', 1, 2, 1)",
                       p, 1, NULL, 0))
      gpt_fail("cannot add an operation behind gpupoold's back");
  }
}

int main(int argc, char **argv) {
  gpt_test_name = "hardening-metrics";
  const char *bin = hl_setup(&argc, argv);
  char tokens[400];
  if (!gpt_dir_make(&srv)) return 1;
  snprintf(tokens, sizeof tokens, "%s/tokens", srv.dir);
  if (!hl_add_token(tokens, READER, "reader", "Reader", "/subscriptions/" SUB) ||
      !hl_add_token(tokens, AGENT, "agent", "Agent", POOL_ID)) {
    fprintf(stderr, "hardening-metrics: cannot write the tokens file (sha256sum)\n");
    return 1;
  }
  const char *args[] = {"--auth", "tokens", "--tokens-file", tokens, "--metrics-listen", "127.0.0.1:0", NULL};
  if (!gpt_server_start(&srv, bin, args)) return 1;

  /* The API address: authenticated callers only. */
  gpt_response r;
  if (get(srv.base, "/metrics", NULL, &r) != 401 || !gpt_header(&r, "WWW-Authenticate"))
    gpt_fail("/metrics without a token: %ld, want 401 with WWW-Authenticate", r.status);
  gpt_response_free(&r);
  expect_status("/metrics with a bad token", srv.base, "/metrics", "Authorization: Bearer nope", 401);
  expect_status("/metrics for a Reader", srv.base, "/metrics", "Authorization: Bearer " READER, 200);
  expect_status("/metrics for an Agent (any role)", srv.base, "/metrics", "Authorization: Bearer " AGENT, 200);
  expect_status("/healthz stays open", srv.base, "/healthz", NULL, 200);

  /* --metrics-listen: its own address, no authentication, nothing but /metrics and /healthz. */
  char line[1024], mbase[128];
  int mport = 0;
  for (int i = 0; i < 50 && !hl_file_line(srv.log, "metrics (/metrics and /healthz", line, sizeof line); i++)
    gpt_sleep_ms(100);
  const char *at = strstr(line, "http://127.0.0.1:");
  if (at) mport = atoi(at + 17);
  if (!mport) {
    gpt_fail("the log does not say where --metrics-listen serves");
  } else {
    snprintf(mbase, sizeof mbase, "http://127.0.0.1:%d", mport);
    expect_status("/metrics on --metrics-listen", mbase, "/metrics", NULL, 200);
    expect_status("/healthz on --metrics-listen", mbase, "/healthz", NULL, 200);
    expect_status("the API on --metrics-listen", mbase,
                  "/subscriptions/" SUB "/providers/Microsoft.ContainerService/managedClusters?api-version=2026-06-01",
                  "Authorization: Bearer " READER, 404);

    /* The store's figures are a second old at most, and not computed per call. */
    double before = hl_metric(mbase, SUCCEEDED, NULL);
    int64_t t0 = gpt_now_ms();
    add_operations(50);
    double cached = hl_metric(mbase, SUCCEEDED, NULL);
    bool in_time = gpt_now_ms() - t0 < 500; /* else the cached figures may rightly have been renewed */
    if (in_time && cached != before)
      gpt_fail("%s went from %g to %g at once: /metrics scanned the store again within a second", SUCCEEDED, before,
               cached);
    gpt_sleep_ms(1200);
    double later = hl_metric(mbase, SUCCEEDED, NULL);
    if (later != before + 50) gpt_fail("%s is %g a second later, want %g", SUCCEEDED, later, before + 50);
  }
  hl_stop(&srv);
  return hl_result();
}
