/* replicas.c - two gpupoold replicas on one PostgreSQL database, requests spread over both:
 *   - 32 PUTs of one pool with If-Match: its etag, sent at once: exactly one 200, 31 times 412, and
 *     the pool both replicas show is the winner's; 32 creates with If-None-Match: * likewise (one 201);
 *     and 32 PUTs of a cluster of 100 pools with If-Match (each request reads and decides all 100
 *     pools for a few milliseconds, so that they truly overlap on two CPUs): one 200;
 *   - what one replica wrote is what the other shows next: GET (its view cache is checked against the
 *     row), and the plan's ETag / If-None-Match 304 (generation and incarnation are in the row);
 *   - SIGKILL of one replica while clients stream writes to both and each holds operations (held
 *     1 s, --operation-delay-ms): the dead one's operations stay InProgress until their leases ran out
 *     (2 s, --operation-lease-ms), then the other replica ends them; every acknowledged write is there
 *     with its etag and every pool ends Succeeded with a plan.
 * Usage: http-replicas --server BUILD/gpupoold --pg URL */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "harness.h"
#include "store_sql.h"
#include "testutil.h"

#define RACERS 32
#define WRITERS 4
#define MAX_ACKS 8000
#define SUB "3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a"
#define C "/subscriptions/" SUB "/resourceGroups/replicas/providers/Microsoft.ContainerService/managedClusters/c1"
#define API "api-version=2026-06-01"
/* count and a node label: a change of count alone makes no new plan generation, the label does */
#define T4 "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"count\":%d,\"nodeLabels\":{\"n\":\"%d\"}}}"

static gpt_server rep[2]; /* A and B */

static const char *header_or(const gpt_response *r, const char *name) {
  const char *v = gpt_header(r, name);
  return v ? v : "(none)";
}

/* ---- many conditional writes at once ------------------------------------------------------------ */

typedef struct {
  int i;
  const char *path, *condition;
  bool cluster; /* the body: a cluster's tags, else a pool's count */
  pthread_barrier_t *go;
  long status;
  char etag[64];
} racer;

static void *race_one(void *arg) {
  racer *x = arg;
  char body[128], url[512];
  const char *headers[] = {"Content-Type: application/json", x->condition, NULL};
  gpt_response r;
  gpt_conn *conn = gpt_conn_open();
  /* Connected beforehand, so that the 32 requests reach the servers within a millisecond or so. */
  snprintf(url, sizeof url, "%s/healthz", rep[x->i % 2].base);
  gpt_conn_http(conn, "GET", url, NULL, NULL, 0, &r);
  gpt_response_free(&r);
  snprintf(url, sizeof url, "%s%s", rep[x->i % 2].base, x->path);
  if (x->cluster)
    snprintf(body, sizeof body, "{\"location\":\"eastus\",\"tags\":{\"n\":\"%d\"}}", x->i + 2);
  else
    snprintf(body, sizeof body, T4, x->i + 2, x->i + 2);
  pthread_barrier_wait(x->go);
  gpt_conn_http(conn, "PUT", url, headers, body, strlen(body), &r);
  x->status = r.status;
  snprintf(x->etag, sizeof x->etag, "%s", header_or(&r, "ETag"));
  gpt_response_free(&r);
  gpt_conn_close(conn);
  return NULL;
}

/* Sends RACERS PUTs of path with the condition header at once, half to each replica; checks that one
 * got win_status and all the others 412, and returns the winner's index (-1 if none). */
static int race(const char *what, const char *path, bool cluster, const char *condition, long win_status,
                char *win_etag) {
  racer x[RACERS];
  pthread_t th[RACERS];
  pthread_barrier_t go;
  int wins = 0, lost = 0, winner = -1;
  pthread_barrier_init(&go, NULL, RACERS);
  for (int i = 0; i < RACERS; i++) {
    x[i] = (racer){.i = i, .path = path, .condition = condition, .cluster = cluster, .go = &go};
    pthread_create(&th[i], NULL, race_one, &x[i]);
  }
  for (int i = 0; i < RACERS; i++)
    pthread_join(th[i], NULL);
  pthread_barrier_destroy(&go);
  for (int i = 0; i < RACERS; i++) {
    if (x[i].status == win_status) {
      wins++;
      winner = i;
      snprintf(win_etag, 64, "%s", x[i].etag);
    } else if (x[i].status == 412) {
      lost++;
    } else {
      gpt_fail("%s: request %d answered %ld", what, i, x[i].status);
    }
  }
  if (wins != 1 || lost != RACERS - 1)
    gpt_fail("%s: %d answered %ld and %d answered 412; expected exactly one winner", what, wins, win_status, lost);
  else
    printf("replicas: %s: 1 x %ld (through replica %c), %d x 412\n", what, win_status, "AB"[winner % 2], lost);
  return wins == 1 ? winner : -1;
}

/* Both replicas show the pool with this etag and count. */
static void same_on_both(const char *what, const char *path, const char *etag, int count) {
  for (int k = 0; k < 2; k++) {
    gpt_response r;
    gpt_call(&rep[k], "GET", path, NULL, NULL, &r);
    json_t *props = r.json ? json_object_get(r.json, "properties") : NULL;
    const char *e = gpt_header(&r, "ETag");
    json_int_t n = json_integer_value(json_object_get(props, "count"));
    if (r.status != 200 || !e || strcmp(e, etag) != 0 || n != count)
      gpt_fail("%s: replica %c shows %ld, ETag %s, count %lld; expected ETag %s, count %d", what, "AB"[k], r.status,
               e ? e : "(none)", (long long)n, etag, count);
    gpt_response_free(&r);
  }
}

static void conditional_writes(void) {
  gpt_response r;
  char etag[64], win[64], path[256];
  snprintf(path, sizeof path, C "/agentPools/p1?" API);
  if (gpt_call(&rep[1], "PUT", path, "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"count\":1}}", NULL, &r) !=
      201)
    gpt_fail("create p1 through B: %ld %.200s", r.status, r.body ? r.body : r.error);
  gpt_response_free(&r);
  if (!gpt_wait_state(&rep[0], path, "Succeeded", 20000)) gpt_fail("p1 did not end Succeeded (seen through A)");
  gpt_call(&rep[0], "GET", path, NULL, NULL, &r); /* A renders (and caches) this version */
  snprintf(etag, sizeof etag, "%s", header_or(&r, "ETag"));
  gpt_response_free(&r);

  char if_match[96];
  snprintf(if_match, sizeof if_match, "If-Match: %s", etag);
  int w = race("32 pool updates with If-Match", path, false, if_match, 200, win);
  if (w >= 0) same_on_both("after the If-Match race", path, win, w + 2);

  /* The plan: generation 1 from p1's create, 2 once the winning update ended; one replica's ETag is
   * the other's 304. */
  if (!gpt_wait_state(&rep[1], path, "Succeeded", 20000)) gpt_fail("p1's update did not end (seen through B)");
  char plan[256], inm[96], gen[64];
  snprintf(plan, sizeof plan, C "/agentPools/p1/plan?" API);
  gpt_call(&rep[0], "GET", plan, NULL, NULL, &r);
  snprintf(gen, sizeof gen, "%s", header_or(&r, "ETag"));
  if (r.status != 200 || strncmp(gen, "\"2-", 3) != 0)
    gpt_fail("plan through A: %ld, ETag %s (expected \"2-<hex>\")", r.status, gen);
  gpt_response_free(&r);
  /* the ETag comes from stored values (generation, the pool's incarnation): the same on B */
  gpt_call(&rep[1], "GET", plan, NULL, NULL, &r);
  if (r.status != 200 || strcmp(header_or(&r, "ETag"), gen) != 0)
    gpt_fail("plan through B: %ld, ETag %s; A said %s", r.status, header_or(&r, "ETag"), gen);
  gpt_response_free(&r);
  snprintf(inm, sizeof inm, "If-None-Match: %s", gen);
  if (gpt_call(&rep[1], "GET", plan, NULL, inm, &r) != 304)
    gpt_fail("plan through B with A's ETag: %ld, not 304", r.status);
  gpt_response_free(&r);

  snprintf(path, sizeof path, C "/agentPools/p2?" API);
  w = race("32 pool creates with If-None-Match: *", path, false, "If-None-Match: *", 201, win);
  if (w >= 0) same_on_both("after the If-None-Match race", path, win, w + 2);

  /* An update through B changes what A answers: a new view, a new plan generation. */
  snprintf(path, sizeof path, C "/agentPools/p1?" API);
  if (gpt_call(&rep[1], "PUT", path, "{\"properties\":{\"count\":9,\"nodeLabels\":{\"n\":\"9\"}}}", NULL, &r) != 200)
    gpt_fail("update p1 through B: %ld", r.status);
  snprintf(etag, sizeof etag, "%s", header_or(&r, "ETag"));
  gpt_response_free(&r);
  same_on_both("after an update through B", path, etag, 9);
  if (!gpt_wait_state(&rep[0], path, "Succeeded", 20000)) gpt_fail("p1's second update did not end");
  gpt_call(&rep[0], "GET", plan, NULL, inm, &r);
  if (r.status != 200 || strncmp(header_or(&r, "ETag"), "\"3-", 3) != 0)
    gpt_fail("plan through A after B's update, If-None-Match %s: %ld, ETag %s (expected 200, \"3-<hex>\")", gen,
             r.status, header_or(&r, "ETag"));
  gpt_response_free(&r);
}

/* A cluster of 100 pools, then 32 PUTs of it with If-Match at once (tags differ): one wins, and both
 * replicas show its tags. */
static void cluster_race(void) {
  static char body[16384];
  char path[256], etag[64], win[64], if_match[96];
  gpt_response r;
  size_t n = (size_t)snprintf(body, sizeof body, "{\"location\":\"eastus\",\"properties\":{\"agentPoolProfiles\":[");
  for (int i = 0; i < 100; i++)
    n += (size_t)snprintf(body + n, sizeof body - n, "%s{\"name\":\"q%d\",\"vmSize\":\"Standard_NC4as_T4_v3\"}",
                          i ? "," : "", i);
  snprintf(body + n, sizeof body - n, "]}}");
  snprintf(path, sizeof path,
           "/subscriptions/" SUB "/resourceGroups/replicas/providers/Microsoft.ContainerService/"
           "managedClusters/big?" API);
  if (gpt_call(&rep[0], "PUT", path, body, NULL, &r) != 201) gpt_fail("create a 100-pool cluster: %ld", r.status);
  gpt_response_free(&r);
  if (!gpt_wait_state(&rep[1], path, "Succeeded", 30000)) gpt_fail("the 100-pool cluster did not end Succeeded");
  gpt_call(&rep[1], "GET", path, NULL, NULL, &r);
  snprintf(etag, sizeof etag, "%s", header_or(&r, "ETag"));
  gpt_response_free(&r);
  snprintf(if_match, sizeof if_match, "If-Match: %s", etag);
  int w = race("32 updates of a 100-pool cluster with If-Match", path, true, if_match, 200, win);
  for (int k = 0; w >= 0 && k < 2; k++) {
    char want[16];
    snprintf(want, sizeof want, "%d", w + 2);
    gpt_call(&rep[k], "GET", path, NULL, NULL, &r);
    const char *tag = json_string_value(json_object_get(json_object_get(r.json, "tags"), "n"));
    if (!tag || strcmp(tag, want) != 0 || strcmp(header_or(&r, "ETag"), win) != 0)
      gpt_fail("the raced cluster through %c: tag n=%s ETag %s, the winner sent n=%s and got %s", "AB"[k],
               tag ? tag : "(none)", header_or(&r, "ETag"), want, win);
    gpt_response_free(&r);
  }
}

/* ---- a replica dies while writes stream to both -------------------------------------------------- */

typedef struct {
  char path[200], etag[64];
} ack;

static ack acks[MAX_ACKS];
static atomic_int nacks;
static atomic_bool stop_writers, a_dead;

static void *writer(void *arg) {
  int t = (int)(intptr_t)arg;
  for (int i = 0; !atomic_load(&stop_writers); i++) {
    char path[200], body[128];
    gpt_response r;
    int k = atomic_load(&a_dead) ? 1 : (i + t) % 2;
    snprintf(path, sizeof path, C "/agentPools/w%dp%d?" API, t, i);
    snprintf(body, sizeof body, T4, i % 40 + 1, i % 40 + 1);
    gpt_call(&rep[k], "PUT", path, body, NULL, &r);
    if (r.status == 201) {
      int n = atomic_fetch_add(&nacks, 1);
      if (n < MAX_ACKS) {
        snprintf(acks[n].path, sizeof acks[n].path, "%s", path);
        snprintf(acks[n].etag, sizeof acks[n].etag, "%s", header_or(&r, "ETag"));
      }
    } else if (r.status != 0 || k == 1) { /* only A, killed, may leave a request unanswered */
      gpt_fail("PUT %s through %c: %ld %.200s", path, "AB"[k], r.status, r.body ? r.body : r.error);
      atomic_store(&stop_writers, true);
    }
    gpt_response_free(&r);
  }
  return NULL;
}

static void kill_during_writes(void) {
  pthread_t th[WRITERS];
  char pattern[64], held[32], lease_min[32], ids[65536] = "";
  pid_t a_pid = rep[0].pid;
  if (!gpt_wait_idle(&rep[1], 20000)) gpt_fail("operations of the first part still running");
  for (int t = 0; t < WRITERS; t++)
    pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t);
  gpt_sleep_ms(700);
  gpt_server_kill(&rep[0]);
  atomic_store(&a_dead, true);
  int64_t killed_at = gpt_now_ms();
  gpt_sleep_ms(300);
  atomic_store(&stop_writers, true);
  for (int t = 0; t < WRITERS; t++)
    pthread_join(th[t], NULL);
  int n = atomic_load(&nacks);
  if (n > MAX_ACKS) n = MAX_ACKS;

  /* What A held when it died: leased to host/PID/… and still InProgress. */
  snprintf(pattern, sizeof pattern, "%%/%ld/%%", (long)a_pid);
  const char *p[] = {pattern};
  gpt_store_sql(&rep[1], "SELECT count(*) FROM operations WHERE status = 'InProgress' AND lease_owner LIKE $1", p, 1,
                held, sizeof held);
  gpt_store_sql(&rep[1], "SELECT min(lease_until) FROM operations WHERE status = 'InProgress' AND lease_owner LIKE $1",
                p, 1, lease_min, sizeof lease_min);
  gpt_store_sql(&rep[1],
                "SELECT string_agg(id, ',') FROM operations WHERE status = 'InProgress' AND lease_owner LIKE $1", p, 1,
                ids, sizeof ids);
  printf("replicas: %d pool creates acknowledged by A and B; A (pid %ld) held %s operations when it was killed\n", n,
         (long)a_pid, held);
  if (n < 20) gpt_fail("too few writes were acknowledged (%d) to test anything", n);
  if (atoi(held) < 1) gpt_fail("A held no operation when it was killed: the takeover is not tested");

  /* B ends them, but not before their leases ran out. */
  if (!gpt_wait_idle(&rep[1], 30000)) gpt_fail("operations still running 30 s after A was killed");
  printf("replicas: B ended every operation %.1f s after A was killed\n", (double)(gpt_now_ms() - killed_at) / 1000);
  char ok[32];
  const char *q[] = {ids, lease_min};
  gpt_store_sql(&rep[1],
                "SELECT count(*) FROM operations WHERE id = ANY(string_to_array($1, ',')) AND status = 'Succeeded'"
                " AND end_ms >= $2::bigint",
                q, 2, ok, sizeof ok);
  if (strcmp(ok, held) != 0)
    gpt_fail("of the %s operations A held, %s ended Succeeded after their lease ran out", held, ok);

  /* Nothing acknowledged is lost: every pool is there with its etag, Succeeded, with a plan. */
  int missing = 0;
  for (int i = 0; i < n; i++) {
    gpt_response r;
    if (!gpt_acked_there(&rep[1], acks[i].path, acks[i].etag, missing < 5)) missing++;
    char plan[256];
    snprintf(plan, sizeof plan, "%s", acks[i].path);
    char *qm = strchr(plan, '?');
    if (qm) snprintf(qm, sizeof plan - (size_t)(qm - plan), "/plan?" API);
    if (gpt_call(&rep[1], "GET", plan, NULL, NULL, &r) != 200 && missing++ < 5)
      gpt_fail("acknowledged %s has no plan: %ld", acks[i].path, r.status);
    gpt_response_free(&r);
  }
  if (missing) gpt_fail("%d acknowledged writes lost or unfinished", missing);
}

int main(int argc, char **argv) {
  gpt_store_args(&argc, argv);
  gpt_test_name = "replicas";
  const char *bin = argc == 3 && strcmp(argv[1], "--server") == 0 ? argv[2] : NULL;
  const char *args[] = {"--operation-delay-ms", "1000", "--operation-lease-ms", "2000", NULL};
  gpt_response r;
  if (!bin || !gpt_store_is_pg()) {
    fprintf(stderr, "usage: http-replicas --server BUILD/gpupoold --pg URL (replicas need PostgreSQL)\n");
    return 2;
  }
  gpt_client_init();
  if (!gpt_replicas_start(rep, 2, bin, args)) return 1;
  if (gpt_call(&rep[0], "PUT", C "?" API, "{\"location\":\"eastus\"}", NULL, &r) != 201)
    gpt_fail("cluster create through A: %ld", r.status);
  gpt_response_free(&r);
  if (!gpt_wait_state(&rep[1], C "?" API, "Succeeded", 20000))
    gpt_fail("the cluster did not end Succeeded (seen through B)");

  conditional_writes();
  cluster_race();
  kill_during_writes();

  return gpt_replicas_finish(rep, 2);
}
