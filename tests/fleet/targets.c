/* targets.c - a machine's own target generation and the long-poll of its plan (issue 11), through
 * the store's real code: the test links gpupoold's store (server/store/) and moves targets with
 * set_machine_targets, as the rollouts will, while gpupoold serves the agents' plan requests.
 *
 *   - set_machine_targets writes the target and tells "machine:<key>" of every machine whose target
 *     moved, and "plan:<pool key>" when one of them followed the pool (target 0) until then; a call
 *     that changes nothing tells nothing; machines that are gone or of another pool are skipped;
 *   - gpupoold serves the plan of the explicit target (an earlier generation, from the history) with
 *     its own ETag; a new pool plan reaches a machine with an explicit target through the rollout
 *     (a label change is InPlace: it moves at once), waking the long-poll held on the machine's own
 *     key, and one that follows the pool too;
 *   - PostgreSQL (--pg): the test is a second replica beside a running gpupoold. A long-poll held by
 *     gpupoold for a machine that follows the pool answers 200 at once when this replica gives the
 *     machine a target of its own (the pool key crosses replicas), and, held again on the machine's
 *     key, at once when its target moves again; a long-poll of another machine stays held.
 *   - SQLite (one process per file): the targets are moved while gpupoold is stopped, then
 *     gpupoold serves them; the notices are the store's in-process watcher calls.
 * Usage: fleet-targets --server BUILD/gpupoold [--pg URL] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "harness.h"
#include "store/store.h"
#include "testutil.h"

#define SUB "5c4b3a29-1807-4f6e-9d5c-4b3a29180766"
#define CLUSTER "/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
#define POOL CLUSTER "/agentPools/gpu1"
#define API "?api-version=2026-10-02-preview"
#define POOL_KEY SUB "/rg/c1/gpu1"
#define REPORT                                                                                                         \
  "{\"properties\":{\"hardware\":{\"vmSize\":\"Standard_NC4as_T4_v3\"},\"status\":{\"reportIntervalSeconds\":30,"      \
  "\"appliedGeneration\":1}}}"

static const char *bin;

/* ---- the notices the test's own store instance hears ------------------------------------------- */

static pthread_mutex_t heard_lock = PTHREAD_MUTEX_INITIALIZER;
static char heard[64][600];
static int nheard;

static void on_notice(void *ctx, const char *key) {
  (void)ctx;
  pthread_mutex_lock(&heard_lock);
  if (nheard < 64) snprintf(heard[nheard++], sizeof heard[0], "%s", key);
  pthread_mutex_unlock(&heard_lock);
}

static void heard_reset(void) {
  pthread_mutex_lock(&heard_lock);
  nheard = 0;
  pthread_mutex_unlock(&heard_lock);
}

static int heard_count(const char *key) {
  int n = 0;
  pthread_mutex_lock(&heard_lock);
  for (int i = 0; i < nheard; i++)
    if (!key || strcmp(heard[i], key) == 0) n++;
  pthread_mutex_unlock(&heard_lock);
  return n;
}

/* Waits (PostgreSQL delivers notices asynchronously) until key was heard; false after 10 s. */
static bool heard_within(const char *key) {
  for (int i = 0; i < 200; i++) {
    if (heard_count(key) > 0) return true;
    gpt_sleep_ms(50);
  }
  return false;
}

/* ---- the HTTP side ----------------------------------------------------------------------------- */

static void machine_path(const char *m, const char *tail, char *out, size_t size) {
  snprintf(out, size, POOL "/machines/%s%s" API, m, tail);
}

static void set_pool(const gpt_server *s, const char *label) {
  char body[256];
  gpt_response r;
  snprintf(body, sizeof body, "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\"%s%s%s}}",
           label ? ",\"nodeLabels\":{\"n\":\"" : "", label ? label : "", label ? "\"}" : "");
  long st = gpt_call(s, "PUT", POOL API, body, NULL, &r);
  gpt_response_free(&r);
  if ((st != 200 && st != 201) || !gpt_wait_state(s, POOL API, "Succeeded", 30000))
    gpt_fail("pool PUT %s: %ld or never Succeeded", label ? label : "(create)", st);
}

/* The machine's plan: its status, generation and ETag. */
static long plan_of(const gpt_server *s, const char *m, long *gen, char *etag, size_t size) {
  char path[1024];
  gpt_response r;
  machine_path(m, "/plan", path, sizeof path);
  long st = gpt_call(s, "GET", path, NULL, NULL, &r);
  *gen = r.json ? (long)json_integer_value(json_object_get(r.json, "generation")) : -1;
  const char *e = gpt_header(&r, "ETag");
  snprintf(etag, size, "%s", e ? e : "");
  gpt_response_free(&r);
  return st;
}

static long target_of(const gpt_server *s, const char *m) {
  char path[1024];
  gpt_response r;
  machine_path(m, "", path, sizeof path);
  gpt_call(s, "GET", path, NULL, NULL, &r);
  json_t *st = json_object_get(json_object_get(r.json, "properties"), "status");
  long t = st ? (long)json_integer_value(json_object_get(st, "targetGeneration")) : -1;
  gpt_response_free(&r);
  return t;
}

/* A long-poll of a machine's plan on a thread of its own. */
typedef struct {
  const gpt_server *s;
  char url[1024], inm[128];
  int wait_s;
  pthread_t thread;
  long status, generation, took_ms;
  char etag[128];
} waiter;

static void *wait_main(void *arg) {
  waiter *w = arg;
  char h[160];
  snprintf(h, sizeof h, "If-None-Match: %s", w->inm);
  const char *headers[] = {h, NULL};
  gpt_response r;
  int64_t t0 = gpt_now_ms();
  gpt_http_timeout("GET", w->url, headers, NULL, 0, 90000, &r);
  w->took_ms = (long)(gpt_now_ms() - t0);
  w->status = r.status;
  w->generation = r.json ? (long)json_integer_value(json_object_get(r.json, "generation")) : -1;
  const char *e = gpt_header(&r, "ETag");
  snprintf(w->etag, sizeof w->etag, "%s", e ? e : "");
  gpt_response_free(&r);
  return NULL;
}

static double held(const gpt_server *s) {
  gpt_response r;
  gpt_call(s, "GET", "/metrics", NULL, NULL, &r);
  const char *p = r.body ? strstr(r.body, "\ngpupoold_long_polls ") : NULL;
  double v = p ? strtod(p + 21, NULL) : -1;
  gpt_response_free(&r);
  return v;
}

/* Starts a long-poll and waits until gpupoold holds `expect_held` requests. */
static void wait_start(waiter *w, const gpt_server *s, const char *m, const char *inm, int wait_s, double expect_held) {
  char path[1024];
  memset(w, 0, sizeof *w);
  w->s = s;
  w->wait_s = wait_s;
  machine_path(m, "/plan", path, sizeof path);
  snprintf(w->url, sizeof w->url, "%s%s&waitSeconds=%d", s->base, path, wait_s);
  snprintf(w->inm, sizeof w->inm, "%s", inm);
  if (pthread_create(&w->thread, NULL, wait_main, w) != 0) {
    gpt_fail("no thread");
    return;
  }
  for (int i = 0; i < 200 && held(s) < expect_held; i++)
    gpt_sleep_ms(50);
  if (held(s) < expect_held) gpt_fail("gpupoold does not hold the long-poll of %s", m);
}

static void wait_join(waiter *w) { pthread_join(w->thread, NULL); }

/* A cluster, pool gpu1 at generation 2, machines m1..m3 that applied generation 1 (so it is kept). */
static bool setup(const gpt_server *s) {
  gpt_response r;
  gpt_call(s, "PUT", CLUSTER API, "{\"location\":\"eastus\"}", NULL, &r);
  gpt_response_free(&r);
  if (!gpt_wait_state(s, CLUSTER API, "Succeeded", 30000)) return false;
  set_pool(s, NULL);
  for (int i = 1; i <= 3; i++) {
    char path[1024], m[8];
    snprintf(m, sizeof m, "m%d", i);
    machine_path(m, "", path, sizeof path);
    if (gpt_call(s, "PUT", path, REPORT, NULL, &r) != 201) gpt_fail("register %s: %ld", m, r.status);
    gpt_response_free(&r);
  }
  set_pool(s, "2");
  return gpt_failures == 0;
}

static gpd_store *open_store(const gpt_server *s) {
  char err[512];
  gpd_store *st = gpd_store_open(s->db, false, err, sizeof err);
  if (!st) {
    gpt_fail("cannot open the store %s: %s", s->db, err);
    return NULL;
  }
  st->ops->watch(st, on_notice, NULL);
  return st;
}

static size_t set_targets(gpd_store *st, char **keys, size_t n, int64_t target) {
  size_t changed = 99;
  if (st->ops->set_machine_targets(st, POOL_KEY, keys, n, target, &changed) != GPD_STORE_OK)
    gpt_fail("set_machine_targets(%lld) failed", (long long)target);
  return changed;
}

static char k1[] = POOL_KEY "/m1", k2[] = POOL_KEY "/m2", k_gone[] = POOL_KEY "/nosuch",
            k_other[] = SUB "/rg/c1/other/m1";

/* What the store tells, on either back-end: the writes and their notices. */
static void store_notices(gpd_store *st) {
  char *one[] = {k1}, *skipped[] = {k_gone, k_other};
  heard_reset();
  if (set_targets(st, one, 1, 1) != 1) gpt_fail("m1: target 0 -> 1 should change one machine");
  if (!heard_within(GPD_CHANGE_MACHINE POOL_KEY "/m1")) gpt_fail("no machine notice for m1");
  if (!heard_within(GPD_CHANGE_PLAN POOL_KEY)) gpt_fail("no pool notice: m1 followed the pool until now");
  gpt_sleep_ms(300);
  heard_reset();
  if (set_targets(st, one, 1, 1) != 0) gpt_fail("the same target again changed something");
  if (set_targets(st, skipped, 2, 1) != 0) gpt_fail("a missing machine or another pool's was changed");
  gpt_sleep_ms(gpt_store_is_pg() ? 500 : 0);
  if (heard_count(NULL) != 0) gpt_fail("%d notices for writes that changed nothing", heard_count(NULL));
  gpd_machine m;
  if (st->ops->get_machine(st, k1, false, &m) != GPD_STORE_OK || m.target_generation != 1)
    gpt_fail("m1's stored target is not 1");
  gpd_machine_clear(&m);
}

static void on_sqlite(void) {
  gpt_server s;
  if (!gpt_dir_make(&s) || !gpt_server_start(&s, bin, NULL) || !setup(&s)) {
    gpt_fail("no server with a pool and machines");
    return;
  }
  if (gpt_server_stop(&s) != 0) gpt_fail("gpupoold did not stop cleanly");
  gpd_store *st = open_store(&s);
  if (st) {
    store_notices(st); /* SQLite: the watcher is called in process, right after the commit */
    st->ops->close(st);
  }
  if (!gpt_server_start(&s, bin, NULL)) {
    gpt_fail("gpupoold did not start again");
    gpt_dir_remove(&s);
    return;
  }
  long gen;
  char e1[128], e2[128];
  if (target_of(&s, "m1") != 1) gpt_fail("GET m1: targetGeneration is not 1");
  if (plan_of(&s, "m1", &gen, e1, sizeof e1) != 200 || gen != 1 || strncmp(e1, "\"1-", 3) != 0)
    gpt_fail("m1's plan: generation %ld, ETag %s (want the kept generation 1)", gen, e1);
  if (plan_of(&s, "m2", &gen, e2, sizeof e2) != 200 || gen != 2)
    gpt_fail("m2 (following the pool): generation %ld", gen);
  /* a new pool plan moves m2 (it follows the pool), and m1 (its own target) through the rollout */
  waiter w1, w2;
  wait_start(&w1, &s, "m1", e1, 30, 1);
  wait_start(&w2, &s, "m2", e2, 30, 2);
  set_pool(&s, "3");
  wait_join(&w2);
  wait_join(&w1);
  if (w2.status != 200 || w2.generation != 3 || w2.took_ms > 20000)
    gpt_fail("m2 follows the pool: %ld, generation %ld after %ld ms (want 200, 3, at once)", w2.status, w2.generation,
             w2.took_ms);
  if (w1.status != 200 || w1.generation != 3 || w1.took_ms > 20000)
    gpt_fail("m1 (its own target) moved by the rollout: %ld, generation %ld after %ld ms (want 200, 3, at once)",
             w1.status, w1.generation, w1.took_ms);
  if (gpt_server_stop(&s) != 0) gpt_fail("gpupoold did not stop cleanly");
  if (gpt_failures) gpt_server_log_tail(&s, 20);
  gpt_dir_remove(&s);
}

static void on_pg(void) {
  gpt_server s;
  if (!gpt_dir_make(&s) || !gpt_server_start(&s, bin, NULL) || !setup(&s)) {
    gpt_fail("no server with a pool and machines");
    return;
  }
  gpd_store *st = open_store(&s); /* a second replica on the same database */
  if (!st) {
    gpt_dir_remove(&s);
    return;
  }
  long gen;
  char e2[128], e3[128];
  plan_of(&s, "m1", &gen, e2, sizeof e2);
  plan_of(&s, "m3", &gen, e3, sizeof e3);
  waiter w1, w3;
  wait_start(&w3, &s, "m3", e3, 4, 1);  /* another machine of the pool: stays held */
  wait_start(&w1, &s, "m1", e2, 30, 2); /* follows the pool: held on the pool's key */
  store_notices(st);                    /* m1 -> target 1, through the other replica */
  wait_join(&w1);
  if (w1.status != 200 || w1.generation != 1 || w1.took_ms > 10000)
    gpt_fail("m1 given target 1 by another replica: %ld, generation %ld after %ld ms (want 200, 1, at once)", w1.status,
             w1.generation, w1.took_ms);
  /* held again, now on m1's own key: its target moves back to the pool's generation 2 */
  char *two[] = {k1, k2};
  char e1[128];
  snprintf(e1, sizeof e1, "%s", w1.etag);
  wait_start(&w1, &s, "m1", e1, 30, 2);
  heard_reset();
  if (set_targets(st, two, 2, 2) != 2) gpt_fail("m1 (1 -> 2) and m2 (0 -> 2) should both change");
  wait_join(&w1);
  if (w1.status != 200 || w1.generation != 2 || w1.took_ms > 10000)
    gpt_fail("m1's own target moved to 2: %ld, generation %ld after %ld ms (want 200, 2, at once)", w1.status,
             w1.generation, w1.took_ms);
  if (!heard_within(GPD_CHANGE_MACHINE POOL_KEY "/m2")) gpt_fail("no machine notice for m2");
  wait_join(&w3);
  if (w3.status != 304 || w3.took_ms < 3900)
    gpt_fail("m3's long-poll: %ld after %ld ms (want 304 at its 4 s deadline: its plan never changed)", w3.status,
             w3.took_ms);
  if (target_of(&s, "m1") != 2 || target_of(&s, "m2") != 2) gpt_fail("GET: targets are not 2");
  st->ops->close(st);
  if (gpt_server_stop(&s) != 0) gpt_fail("gpupoold did not stop cleanly");
  if (gpt_failures) gpt_server_log_tail(&s, 20);
  gpt_dir_remove(&s);
}

int main(int argc, char **argv) {
  gpt_test_name = "fleet-targets";
  gpt_store_args(&argc, argv);
  if (argc != 3 || strcmp(argv[1], "--server") != 0) {
    fprintf(stderr, "usage: fleet-targets --server BUILD/gpupoold [--pg URL]\n");
    return 2;
  }
  bin = argv[2];
  gpt_client_init();
  if (gpt_store_is_pg())
    on_pg();
  else
    on_sqlite();
  if (!gpt_failures) printf("fleet-targets (%s): ok\n", gpt_store_kind());
  return gpt_failures ? 1 : 0;
}
