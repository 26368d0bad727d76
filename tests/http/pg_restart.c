/* pg_restart.c - PostgreSQL goes away under load and comes back; the two gpupoold replicas on it
 * stay up:
 *   - PostgreSQL is stopped like a crash (pg_ctl -m immediate: no shutdown checkpoint, the next start
 *     replays the WAL) while four clients stream creates and two read, spread over both replicas;
 *   - every answer is a 2xx or a 503 ServiceUnavailable with Retry-After: never a 500, another
 *     error, a hang or a dropped connection; /healthz says 503 while PostgreSQL is away;
 *   - once it is started again the same processes answer 2xx again by themselves (reconnection);
 *   - every create acknowledged before, during or after is there with its etag, and the operations
 *     the outage interrupted all end Succeeded.
 * Usage (inside tests/pg/pg.sh run): http-pg-restart --server BUILD/gpupoold --pg URL --pg-ctl tests/pg/pg.sh */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "harness.h"
#include "store_sql.h"
#include "testutil.h"

#define WRITERS 4
#define READERS 2
#define MAX_ACKS 20000
#define SUB "8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968"
#define C "/subscriptions/" SUB "/resourceGroups/restart/providers/Microsoft.ContainerService/managedClusters/c1"
#define API "api-version=2026-06-01"

enum { BEFORE, AWAY, BACK, PHASES };
static const char *const phase_names[PHASES] = {"before", "while away", "after"};

static gpt_server rep[2];
static atomic_int phase, stop_load;
static atomic_int ok_in[PHASES], unavailable_in[PHASES];

typedef struct {
  char path[200], etag[64];
} ack;
static ack acks[MAX_ACKS];
static atomic_int nacks;

/* An answer under load: a 2xx, or a 503 that says when to come back. Anything else fails. */
static void check(const char *what, const gpt_response *r, int k) {
  int ph = atomic_load(&phase);
  if (r->status >= 200 && r->status < 300) {
    atomic_fetch_add(&ok_in[ph], 1);
    return;
  }
  const char *code = json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
  if (r->status == 503 && gpt_header(r, "Retry-After") && code && strcmp(code, "ServiceUnavailable") == 0) {
    atomic_fetch_add(&unavailable_in[ph], 1);
    return;
  }
  gpt_fail("%s through %c (%s): %ld %.300s", what, "AB"[k], phase_names[ph], r -> status,
           r -> body ? r -> body : r -> error);
}

static void *writer(void *arg) {
  int t = (int)(intptr_t)arg;
  for (int i = 0; !atomic_load(&stop_load); i++) {
    char path[200], body[128];
    gpt_response r;
    int k = (i + t) % 2;
    snprintf(path, sizeof path, C "/agentPools/w%dp%d?" API, t, i);
    snprintf(body, sizeof body, "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"count\":%d}}", i % 30 + 1);
    gpt_call(&rep[k], "PUT", path, body, NULL, &r);
    check("PUT", &r, k);
    const char *etag = gpt_header(&r, "ETag");
    if (r.status == 201 && etag) {
      int n = atomic_fetch_add(&nacks, 1);
      if (n < MAX_ACKS) {
        snprintf(acks[n].path, sizeof acks[n].path, "%s", path);
        snprintf(acks[n].etag, sizeof acks[n].etag, "%s", etag);
      }
    }
    gpt_response_free(&r);
  }
  return NULL;
}

static void *reader(void *arg) {
  int t = (int)(intptr_t)arg;
  for (int i = 0; !atomic_load(&stop_load); i++) {
    gpt_response r;
    int k = (i + t) % 2, n = atomic_load(&nacks);
    const char *path = i % 3 == 0 || n == 0 ? "/healthz" : acks[(i * 7919) % (n < MAX_ACKS ? n : MAX_ACKS)].path;
    gpt_call(&rep[k], "GET", path, NULL, NULL, &r);
    check("GET", &r, k);
    gpt_response_free(&r);
  }
  return NULL;
}

static bool pg_ctl(const char *script, const char *what) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "%s %s", script, what);
  int rc = system(cmd);
  if (rc != 0) gpt_fail("'%s' failed (%d)", cmd, rc);
  return rc == 0;
}

/* Both replicas' /healthz answer want (200 or 503, the latter with Retry-After). */
static bool healthz_is(long want) {
  for (int k = 0; k < 2; k++) {
    gpt_response r;
    gpt_call(&rep[k], "GET", "/healthz", NULL, NULL, &r);
    bool ok = r.status == want && (want != 503 || gpt_header(&r, "Retry-After"));
    gpt_response_free(&r);
    if (!ok) return false;
  }
  return true;
}

int main(int argc, char **argv) {
  gpt_store_args(&argc, argv);
  gpt_test_name = "pg-restart";
  const char *bin = NULL, *script = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--server") == 0) bin = argv[i + 1];
    if (strcmp(argv[i], "--pg-ctl") == 0) script = argv[i + 1];
  }
  if (!bin || !script || !gpt_store_is_pg()) {
    fprintf(stderr, "usage: http-pg-restart --server BUILD/gpupoold --pg URL --pg-ctl tests/pg/pg.sh\n");
    return 2;
  }
  const char *args[] = {"--operation-delay-ms", "300", "--operation-lease-ms", "2000", NULL};
  gpt_response r;
  gpt_client_init();
  if (!gpt_replicas_start(rep, 2, bin, args)) return 1;
  pid_t pids[2] = {rep[0].pid, rep[1].pid};
  if (gpt_call(&rep[0], "PUT", C "?" API, "{\"location\":\"eastus\"}", NULL, &r) != 201)
    gpt_fail("cluster create: %ld", r.status);
  gpt_response_free(&r);
  if (!gpt_wait_state(&rep[1], C "?" API, "Succeeded", 20000)) gpt_fail("the cluster did not end Succeeded");

  /* Recovery replays the WAL since the last checkpoint: this one leaves out what earlier tests on this
   * PostgreSQL wrote, and keeps everything written under load below. */
  if (!gpt_store_sql(&rep[0], "CHECKPOINT", NULL, 0, NULL, 0)) gpt_fail("CHECKPOINT failed");
  pthread_t th[WRITERS + READERS];
  for (int t = 0; t < WRITERS + READERS; t++)
    pthread_create(&th[t], NULL, t < WRITERS ? writer : reader, (void *)(intptr_t)t);
  gpt_sleep_ms(800);

  atomic_store(&phase, AWAY);
  pg_ctl(script, "stop immediate");
  int64_t away_at = gpt_now_ms();
  if (!healthz_is(503)) gpt_fail("/healthz does not answer 503 with Retry-After while PostgreSQL is away");
  gpt_sleep_ms(1000);
  int64_t answered = atomic_load(&unavailable_in[AWAY]);
  pg_ctl(script, "start");
  atomic_store(&phase, BACK);
  int64_t back_at = gpt_now_ms(), deadline = back_at + 15000;
  while (!healthz_is(200) && gpt_now_ms() < deadline)
    gpt_sleep_ms(20);
  int64_t healthy_at = gpt_now_ms();
  if (healthy_at >= deadline) gpt_fail("gpupoold did not reconnect within 15 s of PostgreSQL's start");
  gpt_sleep_ms(1000);
  atomic_store(&stop_load, 1);
  for (int t = 0; t < WRITERS + READERS; t++)
    pthread_join(th[t], NULL);

  printf("pg-restart: PostgreSQL away %.1f s; answers 2xx/503: before %d/%d, while away %d/%d, after %d/%d\n",
         (double)(back_at - away_at) / 1000, atomic_load(&ok_in[BEFORE]), atomic_load(&unavailable_in[BEFORE]),
         atomic_load(&ok_in[AWAY]), atomic_load(&unavailable_in[AWAY]), atomic_load(&ok_in[BACK]),
         atomic_load(&unavailable_in[BACK]));
  printf("pg-restart: both replicas healthy %lld ms after PostgreSQL's start\n", (long long)(healthy_at - back_at));
  if (answered < 10) gpt_fail("only %lld requests were answered while PostgreSQL was away", (long long)answered);
  if (atomic_load(&ok_in[BACK]) < 10) gpt_fail("too few requests succeeded after PostgreSQL came back");
  for (int k = 0; k < 2; k++)
    if (kill(pids[k], 0) != 0) gpt_fail("replica %c is gone: gpupoold must not need a restart", "AB"[k]);

  /* Nothing acknowledged is lost, and what the outage interrupted ends. */
  if (!gpt_wait_idle(&rep[0], 30000)) gpt_fail("operations still running 30 s after PostgreSQL came back");
  int n = atomic_load(&nacks), lost = 0;
  if (n > MAX_ACKS) n = MAX_ACKS;
  for (int i = 0; i < n; i++)
    if (!gpt_acked_there(&rep[i % 2], acks[i].path, acks[i].etag, lost < 5)) lost++;
  printf("pg-restart: %d acknowledged creates checked, %d lost or unfinished\n", n, lost);
  if (lost) gpt_fail("%d acknowledged writes lost or unfinished", lost);

  return gpt_replicas_finish(rep, 2);
}
