/* durability.c - gpupoold is killed with SIGKILL while clients stream writes; after a restart:
 *   - every write that was answered 200/201 is there, with the etag it was answered with;
 *   - nothing is half-written: every cluster created with three agentPoolProfiles has all three;
 *   - the operations left running finish (operations are held 400 ms so some are running at the kill);
 *   - an operation whose stored document cannot be read back ends Failed with an ARM error (one
 *     pending pool's document is damaged on purpose while the server is down).
 * On PostgreSQL (--pg URL) the restarted process cannot tell a dead replica's leases from a live
 * one's, so the operations the killed one held resume once their leases (1.5 s here) ran out.
 * Usage: http-durability --server BUILD/gpupoold [--pg URL] */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "harness.h"
#include "store_sql.h"

#define WRITERS 4
#define MAX_ACKS 20000
#define SUB "5d1f0a7e-2b3c-4d5e-8f90-a1b2c3d4e5f6"
#define RG "/subscriptions/" SUB "/resourceGroups/durable/providers/Microsoft.ContainerService"
/* Writer 0 puts its pools in a cluster of its own resource group: one of them gets damaged, and a
 * damaged document makes every list that holds it fail, so it is kept out of the lists checked. */
#define SIDE "/subscriptions/" SUB "/resourceGroups/side/providers/Microsoft.ContainerService/managedClusters/side"
#define API "api-version=2026-06-01"

static gpt_server srv;
static int failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "FAIL durability: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  failures++;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool request(const char *method, const char *path, const char *body, gpt_response *r) {
  char url[2048];
  const char *headers[] = {"Content-Type: application/json", NULL};
  snprintf(url, sizeof url, "%s%s", strncmp(path, "http", 4) == 0 ? "" : srv.base, path);
  return gpt_http(method, url, body ? headers : NULL, body, body ? strlen(body) : 0, r);
}

/* ---- the writers -------------------------------------------------------------------------------- */

typedef struct {
  char name[32];
  char etag[64];
  char path[400];
} ack;

static ack pool_acks[MAX_ACKS], cluster_acks[MAX_ACKS];
static atomic_int npool_acks, ncluster_acks;
static atomic_bool stop;

static void *writer(void *arg) {
  int t = (int)(intptr_t)arg;
  char path[512], body[1024];
  for (int i = 0; !atomic_load(&stop); i++) {
    gpt_response r;
    bool cluster = i % 4 == 3;
    char name[32];
    if (cluster) {
      snprintf(name, sizeof name, "w%dc%d", t, i);
      snprintf(path, sizeof path, RG "/managedClusters/%s?" API, name);
      snprintf(body, sizeof body,
               "{\"location\":\"eastus\",\"properties\":{\"agentPoolProfiles\":["
               "{\"name\":\"a\",\"vmSize\":\"Standard_NC4as_T4_v3\"},{\"name\":\"b\",\"vmSize\":\"Standard_D2s_v5\"},"
               "{\"name\":\"c\",\"vmSize\":\"Standard_NC24ads_A100_v4\",\"gpuInstanceProfile\":\"MIG1g\"}]}}");
    } else {
      snprintf(name, sizeof name, "w%dp%d", t, i);
      snprintf(path, sizeof path, "%s/agentPools/%s?" API, t == 0 ? SIDE : RG "/managedClusters/main", name);
      snprintf(body, sizeof body, "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"count\":%d}}", i % 50);
    }
    if (!request("PUT", path, body, &r)) { /* the server is gone */
      gpt_response_free(&r);
      break;
    }
    const char *etag = gpt_header(&r, "ETag");
    if ((r.status == 200 || r.status == 201) && etag) {
      int k = cluster ? atomic_fetch_add(&ncluster_acks, 1) : atomic_fetch_add(&npool_acks, 1);
      if (k < MAX_ACKS) {
        ack *a = cluster ? &cluster_acks[k] : &pool_acks[k];
        snprintf(a->name, sizeof a->name, "%s", name);
        snprintf(a->etag, sizeof a->etag, "%s", etag);
        snprintf(a->path, sizeof a->path, "%s", path);
      }
    } else if (r.status != 0) {
      fail("PUT %s answered %ld: %.300s", name, r.status, r.body ? r.body : "");
      atomic_store(&stop, true);
    }
    gpt_response_free(&r);
  }
  return NULL;
}

/* ---- checks after the restart -------------------------------------------------------------------- */

/* Every row of a paged list (follows nextLink). */
static json_t *list_all(const char *path) {
  json_t *all = json_array();
  char *url = strdup(path);
  while (url) {
    gpt_response r;
    if (!request("GET", url, NULL, &r) || r.status != 200 || !r.json) {
      fail("GET %s: %ld %.200s", url, r.status, r.body ? r.body : r.error);
      gpt_response_free(&r);
      free(url);
      break;
    }
    json_array_extend(all, json_object_get(r.json, "value"));
    const char *next = json_string_value(json_object_get(r.json, "nextLink"));
    free(url);
    url = next ? strdup(next) : NULL;
    gpt_response_free(&r);
  }
  return all;
}

static const char *state_of(const json_t *v) {
  return json_string_value(json_object_get(json_object_get(v, "properties"), "provisioningState"));
}

/* Damages the stored document of one acknowledged pool whose operation is still pending. */
static bool damage_one_pending(char *name, size_t size, char *op_id, size_t op_size, int *pending) {
  char count[32];
  bool done = false;
  if (!gpt_store_sql(&srv, "SELECT count(*) FROM operations WHERE status = 'InProgress'", NULL, 0, count, sizeof count))
    return false;
  *pending = atoi(count);
  int n = atomic_load(&npool_acks);
  for (int i = n - 1; i >= 0 && !done; i--) {
    char key[200];
    if (strncmp(pool_acks[i].name, "w0", 2) != 0) continue; /* writer 0's pools live apart */
    snprintf(key, sizeof key, "%s/side/side/%s", SUB, pool_acks[i].name);
    const char *p[] = {key};
    if (!gpt_store_sql(&srv, "SELECT op_id FROM pools WHERE key = $1 AND state IN ('Creating', 'Updating')", p, 1,
                       op_id, op_size))
      break;
    if (!*op_id) continue;
    snprintf(name, size, "%s", pool_acks[i].name);
    done = gpt_store_sql(&srv, "UPDATE pools SET doc = '{\"damaged\":true}' WHERE key = $1", p, 1, NULL, 0);
  }
  return done;
}

int main(int argc, char **argv) {
  gpt_store_args(&argc, argv);
  const char *bin = argc == 3 && strcmp(argv[1], "--server") == 0 ? argv[2] : NULL;
  const char *args[] = {"--operation-delay-ms", "400", "--operation-lease-ms", "1500", NULL};
  gpt_response r;
  if (!bin) {
    fprintf(stderr, "usage: http-durability --server BUILD/gpupoold [--pg URL]\n");
    return 2;
  }
  gpt_client_init();
  if (!gpt_dir_make(&srv) || !gpt_server_start(&srv, bin, args)) return 1;

  /* The clusters the streamed pools go into, fully created. */
  const char *homes[] = {RG "/managedClusters/main?" API, SIDE "?" API};
  for (int h = 0; h < 2; h++) {
    request("PUT", homes[h], "{\"location\":\"eastus\"}", &r);
    if (r.status != 201) fail("cluster PUT: %ld", r.status);
    gpt_response_free(&r);
  }
  int64_t deadline = now_ms() + 20000;
  for (int h = 0; h < 2;) {
    request("GET", homes[h], NULL, &r);
    bool ok = r.json && state_of(r.json) && strcmp(state_of(r.json), "Succeeded") == 0;
    gpt_response_free(&r);
    if (ok)
      h++;
    else if (now_ms() > deadline)
      break;
    else
      sleep_ms(50);
  }

  /* Stream writes, then kill the server in the middle of it. */
  pthread_t th[WRITERS];
  for (int t = 0; t < WRITERS; t++)
    pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t);
  int64_t until = now_ms() + 3000;
  while (now_ms() < until && atomic_load(&npool_acks) < 400 && !atomic_load(&stop))
    sleep_ms(10);
  gpt_server_kill(&srv);
  atomic_store(&stop, true);
  for (int t = 0; t < WRITERS; t++)
    pthread_join(th[t], NULL);
  int np = atomic_load(&npool_acks), nc = atomic_load(&ncluster_acks);
  if (np > MAX_ACKS) np = MAX_ACKS;
  if (nc > MAX_ACKS) nc = MAX_ACKS;
  printf("durability: %d pool and %d cluster writes acknowledged before SIGKILL\n", np, nc);
  if (np < 20 || nc < 5) fail("too few writes were acknowledged (%d pools, %d clusters) to test anything", np, nc);

  char damaged[32] = "", damaged_op[64] = "";
  int pending = 0;
  if (!damage_one_pending(damaged, sizeof damaged, damaged_op, sizeof damaged_op, &pending))
    fail("no acknowledged pool had an operation running at the kill (operations pending: %d)", pending);
  printf("durability: %d operations were running at the kill; damaged the document of pool %s\n", pending, damaged);

  if (!gpt_server_start(&srv, bin, args + 2)) {
    gpt_dir_remove(&srv);
    return 1;
  }

  /* Every acknowledged write is there with its acknowledged etag. */
  for (int i = 0; i < np; i++) {
    request("GET", pool_acks[i].path, NULL, &r);
    if (strcmp(pool_acks[i].name, damaged) == 0) {
      if (r.status != 500) fail("GET of the damaged pool: %ld, expected 500", r.status);
    } else if (r.status != 200) {
      fail("acknowledged pool %s: GET %ld", pool_acks[i].name, r.status);
    } else {
      const char *etag = gpt_header(&r, "ETag");
      if (!etag || strcmp(etag, pool_acks[i].etag) != 0)
        fail("pool %s: etag %s, acknowledged %s", pool_acks[i].name, etag ? etag : "(none)", pool_acks[i].etag);
    }
    gpt_response_free(&r);
  }
  for (int i = 0; i < nc; i++) {
    char path[512];
    snprintf(path, sizeof path, RG "/managedClusters/%s?" API, cluster_acks[i].name);
    request("GET", path, NULL, &r);
    const char *etag = gpt_header(&r, "ETag");
    if (r.status != 200 || !etag || strcmp(etag, cluster_acks[i].etag) != 0)
      fail("acknowledged cluster %s: GET %ld, etag %s, acknowledged %s", cluster_acks[i].name, r.status,
           etag ? etag : "(none)", cluster_acks[i].etag);
    gpt_response_free(&r);
  }

  /* Nothing half-written: every streamed cluster that exists (acknowledged or not) has its 3 pools. */
  json_t *clusters = list_all(RG "/managedClusters?" API);
  size_t i;
  json_t *c;
  size_t streamed = 0;
  json_array_foreach(clusters, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    if (!name || strcmp(name, "main") == 0) continue;
    streamed++;
    size_t n = json_array_size(json_object_get(json_object_get(c, "properties"), "agentPoolProfiles"));
    if (n != 3) fail("cluster %s has %zu pools, not 3: a cluster PUT was half-written", name, n);
  }
  if (streamed < (size_t)nc) fail("%zu streamed clusters exist but %d were acknowledged", streamed, nc);
  json_decref(clusters);

  /* The operations left running finish: every pool ends Succeeded (the damaged one Failed). */
  deadline = now_ms() + 30000;
  size_t running = 1, failed = 0, pools = 0;
  while (running && now_ms() < deadline) {
    json_t *all = list_all(RG "/managedClusters/main/agentPools?" API);
    running = failed = 0;
    pools = json_array_size(all);
    json_t *p;
    json_array_foreach(all, i, p) {
      const char *st = state_of(p);
      if (!st || strcmp(st, "Creating") == 0 || strcmp(st, "Updating") == 0)
        running++;
      else if (strcmp(st, "Failed") == 0)
        failed++;
    }
    json_decref(all);
    if (running) sleep_ms(100);
  }
  if (running) fail("%zu pools still not finished 30 s after the restart", running);
  printf("durability: %zu pools listed after the restart, all operations ended\n", pools);

  char path[512];
  snprintf(path, sizeof path,
           "/subscriptions/" SUB "/providers/Microsoft.ContainerService/locations/eastus/operations/%s?" API,
           damaged_op);
  request("GET", path, NULL, &r);
  const char *status = r.json ? json_string_value(json_object_get(r.json, "status")) : NULL;
  const char *code = r.json ? json_string_value(json_object_get(json_object_get(r.json, "error"), "code")) : NULL;
  if (r.status != 200 || !status || strcmp(status, "Failed") != 0 || !code || strcmp(code, "InternalServerError") != 0)
    fail("the damaged pool's operation: %ld %.300s (expected Failed with an InternalServerError error)", r.status,
         r.body ? r.body : "");
  gpt_response_free(&r);

  /* Every acknowledged, undamaged pool has its plan. */
  for (int k = 0; k < np; k++) {
    if (strcmp(pool_acks[k].name, damaged) == 0) continue;
    snprintf(path, sizeof path, "%s", pool_acks[k].path);
    char *q = strchr(path, '?');
    if (q) snprintf(q, sizeof path - (size_t)(q - path), "/plan?" API);
    request("GET", path, NULL, &r);
    if (r.status != 200) fail("pool %s has no plan after the restart: %ld", pool_acks[k].name, r.status);
    gpt_response_free(&r);
  }
  request("GET", "/metrics", NULL, &r);
  if (!r.body || !strstr(r.body, "gpupoold_operations{status=\"InProgress\"} 0"))
    fail("operations still InProgress after the restart");
  gpt_response_free(&r);

  int exit_status = gpt_server_stop(&srv);
  if (exit_status != 0) fail("gpupoold exited with status %d", exit_status);
  if (failures) gpt_server_log_tail(&srv, 20);
  gpt_dir_remove(&srv);
  if (!failures) printf("durability: ok (%s)\n", gpt_store_kind());
  return failures ? 1 : 0;
}
