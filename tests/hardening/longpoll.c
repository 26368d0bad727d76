/* longpoll.c - held long-polls (server/longpoll.h) under the conditions the scenario file
 * (tests/http/long_poll.json) cannot set up: 1,000 agents of one pool held at once are all woken by
 * one plan change; a server stopped while 200 requests are held answers every one of them (304) and
 * exits 0; and, with --pg, a plan stored through one replica wakes the agents held by another one
 * (PostgreSQL LISTEN/NOTIFY).
 * Usage: hardening-longpoll --server BUILD/gpupoold [--pg URL] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hlib.h"
#include "testutil.h"

#define SUB "0f9e8d7c-6b5a-4948-8372-6150f4e3d2c1"
#define CLUSTER "/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
#define POOL CLUSTER "/agentPools/gpu1"
#define API "?api-version=2026-08-02-preview"
#define T4 "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\"}}"
#define T4_LABELED "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"nodeLabels\":{\"n\":\"%d\"}}}"
#define MANY 1000
#define AT_STOP 200

static const char *bin;

static bool make_pool(const gpt_server *s) {
  gpt_response r;
  gpt_call(s, "PUT", CLUSTER API, "{\"location\":\"eastus\"}", NULL, &r);
  gpt_response_free(&r);
  if (!gpt_wait_state(s, CLUSTER API, "Succeeded", 30000)) return false;
  gpt_call(s, "PUT", POOL API, T4, NULL, &r);
  gpt_response_free(&r);
  return gpt_wait_state(s, POOL API, "Succeeded", 30000);
}

/* The plan's current ETag (quoted, as the server sends it); "" when there is no plan. */
typedef struct {
  char v[96];
} plan_etag;

static plan_etag current_etag(const gpt_server *s) {
  gpt_response r;
  plan_etag e = {""};
  gpt_call(s, "GET", POOL "/plan" API, NULL, NULL, &r);
  const char *h = r.status == 200 ? gpt_header(&r, "ETag") : NULL;
  if (h) snprintf(e.v, sizeof e.v, "%s", h);
  gpt_response_free(&r);
  return e;
}

/* n long-polls of the plan whose ETag is etag, from src_count loopback addresses. */
static int open_waiters(const gpt_server *s, int *fds, int n, plan_etag etag, int wait_s) {
  char req[1024];
  int len = snprintf(req, sizeof req,
                     "GET " POOL "/plan" API "&waitSeconds=%d HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n", wait_s,
                     etag.v);
  int opened = 0;
  for (int i = 0; i < n; i++) {
    char src[32];
    snprintf(src, sizeof src, "127.0.0.%d", 2 + i / 500);
    fds[i] = hl_connect(src, s->port);
    if (fds[i] >= 0 && hl_send_all(fds[i], req, (size_t)len)) opened++;
  }
  return opened;
}

static bool wait_held(const gpt_server *s, double n) {
  for (int i = 0; i < 300; i++) {
    if (hl_metric(s->base, "gpupoold_long_polls", NULL) == n) return true;
    gpt_sleep_ms(100);
  }
  return false;
}

static void change_plan(const gpt_server *s, int label) {
  char body[256];
  gpt_response r;
  snprintf(body, sizeof body, T4_LABELED, label);
  if (gpt_call(s, "PUT", POOL API, body, NULL, &r) != 200) gpt_fail("pool update: %ld", r.status);
  gpt_response_free(&r);
}

/* Reads every waiter's answer; how many were `status`. */
static int answered(int *fds, int n, int status, int timeout_ms) {
  int got = 0;
  for (int i = 0; i < n; i++) {
    hl_reply r;
    int first = 0;
    if (fds[i] < 0) continue;
    hl_read_answer(fds[i], timeout_ms, &r);
    hl_status_lines(&r, &first);
    if (first == status) got++;
    hl_reply_free(&r);
    close(fds[i]);
    fds[i] = -1;
  }
  return got;
}

static void many_woken(void) {
  static int fds[MANY];
  gpt_server s;
  if (!gpt_dir_make(&s) || !gpt_server_start(&s, bin, NULL) || !make_pool(&s)) {
    gpt_fail("no server with a pool");
    return;
  }
  plan_etag gen = current_etag(&s);
  if (open_waiters(&s, fds, MANY, gen, 60) != MANY) gpt_fail("could not open %d long-polls", MANY);
  if (!wait_held(&s, MANY)) gpt_fail("gpupoold_long_polls never reached %d", MANY);
  int64_t t0 = gpt_now_ms();
  change_plan(&s, 1);
  int ok = answered(fds, MANY, 200, 30000);
  long took = (long)(gpt_now_ms() - t0);
  printf("hardening-longpoll: one plan change answered %d of %d held long-polls of the pool in %ld ms\n", ok, MANY,
         took);
  if (ok != MANY) gpt_fail("only %d of %d held long-polls got the new plan", ok, MANY);
  if (hl_metric(s.base, "gpupoold_long_polls", NULL) != 0) gpt_fail("requests are still held after the wake");
  hl_stop(&s);
}

static void held_at_stop(void) {
  static int fds[AT_STOP];
  gpt_server s;
  if (!gpt_dir_make(&s) || !gpt_server_start(&s, bin, NULL) || !make_pool(&s)) {
    gpt_fail("no server with a pool");
    return;
  }
  plan_etag gen = current_etag(&s);
  open_waiters(&s, fds, AT_STOP, gen, 60);
  if (!wait_held(&s, AT_STOP)) gpt_fail("gpupoold_long_polls never reached %d", AT_STOP);
  int64_t t0 = gpt_now_ms();
  int status = gpt_server_stop(&s);
  long took = (long)(gpt_now_ms() - t0);
  if (status != 0) gpt_fail("gpupoold stopped with %d requests held exited %d", AT_STOP, status);
  if (took > 10000) gpt_fail("gpupoold took %ld ms to stop with %d requests held", took, AT_STOP);
  int ok = answered(fds, AT_STOP, 304, 5000);
  if (ok != AT_STOP) gpt_fail("%d of %d requests held at stop were answered 304", ok, AT_STOP);
  if (gpt_failures) gpt_server_log_tail(&s, 10);
  gpt_dir_remove(&s);
}

static void across_replicas(void) {
  gpt_server rep[2];
  int fds[20];
  if (!gpt_replicas_start(rep, 2, bin, NULL) || !make_pool(&rep[0])) {
    gpt_fail("no replicas with a pool");
    gpt_replicas_finish(rep, 2);
    return;
  }
  plan_etag gen = current_etag(&rep[1]);
  open_waiters(&rep[1], fds, 20, gen, 60); /* held by B */
  if (!wait_held(&rep[1], 20)) gpt_fail("replica B does not hold the 20 long-polls");
  int64_t t0 = gpt_now_ms();
  change_plan(&rep[0], 2); /* through A: B hears it from PostgreSQL */
  int ok = answered(fds, 20, 200, 30000);
  printf("hardening-longpoll: a plan stored through replica A answered %d of 20 long-polls held by B in %lld ms\n", ok,
         (long long)(gpt_now_ms() - t0));
  if (ok != 20) gpt_fail("only %d of 20 long-polls held by replica B got the plan stored through A", ok);
  gpt_replicas_finish(rep, 2);
}

int main(int argc, char **argv) {
  gpt_test_name = "hardening-longpoll";
  bin = hl_setup(&argc, argv);
  hl_raise_nofile();
  if (gpt_store_is_pg()) {
    across_replicas(); /* the rest does not depend on the store */
    return gpt_failures ? 1 : 0;
  }
  many_woken();
  held_at_stop();
  return hl_result();
}
