/* rollout_restart.c - a rollout's state is in the store: gpupoold SIGKILLed in the middle of a
 * rollout neither loses nor repeats a batch.
 *   - SQLite: a pool of 6 machines, maxUnavailable 2, moves its first batch (node-a0, node-a1);
 *     gpupoold is SIGKILLed and started again on the same file: the first batch is still the one
 *     out (its targets and the rollout row are there) and no second batch starts before it came back
 *     (not repeated, not skipped); once it reports Conformant the restarted gpupoold moves node-b0 and
 *     node-b1, then node-c*, and the operation (the one started before the kill) ends Succeeded.
 *   - PostgreSQL: the same with two replicas; the one that holds the rollout's operation (its lease
 *     owner names its pid) is SIGKILLed and the other takes the rollout over once the lease ran out.
 * The "agents" are machine PUT reports.
 * Usage: http-rollout_restart --server BUILD/gpupoold [--pg URL] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "harness.h"
#include "store_sql.h"
#include "testutil.h"

#define SUB "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
#define C "/subscriptions/" SUB "/resourceGroups/ro/providers/Microsoft.ContainerService/managedClusters/c1"
#define POOL C "/agentPools/gpu1"
#define API "api-version=2026-10-02-preview"
#define FEATURE                                                                                                        \
  "/subscriptions/" SUB "/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/ManagedGPU/"      \
  "register?api-version=2021-07-01"
#define POOL_BODY                                                                                                      \
  "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"count\":6,\"upgradeSettings\":{\"maxUnavailable\":\"2\"},"   \
  "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"%s\"}}}}"
#define REPORT                                                                                                         \
  "{\"properties\":{\"hardware\":{\"vmSize\":\"Standard_NC4as_T4_v3\"},\"kubernetes\":{\"ready\":true},"               \
  "\"status\":{\"appliedGeneration\":%d}}}"

static const char *const names[] = {"node-a0", "node-a1", "node-b0", "node-b1", "node-c0", "node-c1"};

static long call(const gpt_server *s, const char *method, const char *path, const char *body, gpt_response *r) {
  gpt_response local;
  gpt_response *out = r ? r : &local;
  long st = gpt_call(s, method, path, body, NULL, out);
  if (!r) gpt_response_free(&local);
  return st;
}

static long target_of(const gpt_server *s, const char *name) {
  char path[512];
  gpt_response r;
  snprintf(path, sizeof path, POOL "/machines/%s?" API, name);
  long st = gpt_call(s, "GET", path, NULL, NULL, &r);
  long t = st == 200 && r.json
               ? (long)json_integer_value(json_object_get(
                     json_object_get(json_object_get(r.json, "properties"), "status"), "targetGeneration"))
               : -1;
  gpt_response_free(&r);
  return t;
}

/* Waits until machine `name` has target `want` (true) or timeout_ms passed (false). */
static bool wait_target(const gpt_server *s, const char *name, long want, int64_t timeout_ms) {
  int64_t end = gpt_now_ms() + timeout_ms;
  while (gpt_now_ms() < end) {
    if (target_of(s, name) == want) return true;
    gpt_sleep_ms(50);
  }
  return false;
}

static void report(const gpt_server *s, const char *name, int gen) {
  char path[512], body[512];
  snprintf(path, sizeof path, POOL "/machines/%s?" API, name);
  snprintf(body, sizeof body, REPORT, gen);
  long st = call(s, "PUT", path, body, NULL);
  if (st != 200 && st != 201) gpt_fail("report of %s: %ld", name, st);
}

/* The targets of all six machines, as "2 2 1 1 1 1". */
static void targets(const gpt_server *s, char *out, size_t size) {
  size_t n = 0;
  out[0] = '\0';
  for (size_t i = 0; i < 6 && n < size; i++)
    n += (size_t)snprintf(out + n, size - n, "%s%ld", i ? " " : "", target_of(s, names[i]));
}

static void expect_targets(const gpt_server *s, const char *want, const char *when) {
  char got[64];
  targets(s, got, sizeof got);
  if (strcmp(got, want) != 0) gpt_fail("%s: targets %s, expected %s", when, got, want);
}

/* The replica of rep[0..n) whose pid the lease owner of the pool's operation names, or -1. */
static int lease_holder(const gpt_server *rep, int n) {
  char owner[200] = "";
  gpt_store_sql(&rep[0], "SELECT lease_owner FROM operations WHERE status = 'InProgress' AND res_kind = 1", NULL, 0,
                owner, sizeof owner);
  for (int k = 0; k < n; k++) {
    char pid[32];
    snprintf(pid, sizeof pid, "/%ld/", (long)rep[k].pid);
    if (strstr(owner, pid)) return k;
  }
  return -1;
}

int main(int argc, char **argv) {
  gpt_store_args(&argc, argv);
  gpt_test_name = "rollout restart";
  const char *bin = argc == 3 && strcmp(argv[1], "--server") == 0 ? argv[2] : NULL;
  if (!bin) {
    fprintf(stderr, "usage: http-rollout_restart --server BUILD/gpupoold [--pg URL]\n");
    return 2;
  }
  gpt_client_init();
  bool pg = gpt_store_is_pg();
  int n = pg ? 2 : 1;
  gpt_server rep[2];
  memset(rep, 0, sizeof rep);
  const char *args[] = {"--operation-lease-ms", "1500", NULL};
  if (!gpt_replicas_start(rep, n, bin, args)) {
    gpt_fail("gpupoold did not start");
    return gpt_replicas_finish(rep, n);
  }
  char body[512], path[512];
  gpt_response r;
  if (call(&rep[0], "POST", FEATURE, NULL, NULL) != 200 ||
      call(&rep[0], "PUT", C "?" API, "{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.35\"}}",
           NULL) != 201 ||
      !gpt_wait_state(&rep[0], C "?" API, "Succeeded", 20000))
    gpt_fail("the cluster");
  snprintf(body, sizeof body, POOL_BODY, "Managed");
  if (call(&rep[0], "PUT", POOL "?" API, body, NULL) != 201 ||
      !gpt_wait_state(&rep[0], POOL "?" API, "Succeeded", 20000))
    gpt_fail("the pool");
  for (size_t i = 0; i < 6; i++)
    report(&rep[0], names[i], 1);

  /* generation 2, Restart: the first batch moves */
  snprintf(body, sizeof body, POOL_BODY, "Unmanaged");
  char op[600] = "";
  if (call(&rep[0], "PUT", POOL "?" API, body, &r) != 200) gpt_fail("the update: %ld", r.status);
  const char *h = gpt_header(&r, "Azure-AsyncOperation");
  const char *op_path = h ? strstr(h, "/subscriptions/") : NULL; /* the port changes with a restart */
  if (op_path) snprintf(op, sizeof op, "%s", op_path);
  gpt_response_free(&r);
  if (!wait_target(&rep[0], "node-a1", 2, 20000)) gpt_fail("the first batch did not move");
  gpt_sleep_ms(300);
  expect_targets(&rep[0], "2 2 1 1 1 1", "the first batch");

  /* kill the process carrying the rollout */
  int victim = pg ? lease_holder(rep, n) : 0;
  if (victim < 0) {
    gpt_fail("no replica holds the rollout's operation");
    victim = 0;
  }
  gpt_server_kill(&rep[victim]);
  rep[victim].pid = 0;
  gpt_server *live = &rep[pg ? 1 - victim : 0];
  if (!pg && !gpt_server_start(live, bin, args)) gpt_fail("gpupoold did not start again");

  /* neither lost nor repeated: the same batch is out, and no other starts while it is */
  gpt_sleep_ms(pg ? 2500 : 500); /* past the dead replica's lease */
  expect_targets(live, "2 2 1 1 1 1", "after the kill");
  char state[64] = "";
  gpt_store_sql(live, "SELECT state FROM rollouts", NULL, 0, state, sizeof state);
  if (strcmp(state, "Progressing") != 0) gpt_fail("the rollout after the kill: '%s'", state);

  /* the batch comes back: the survivor moves the next one, then the last */
  report(live, "node-a0", 2);
  report(live, "node-a1", 2);
  if (!wait_target(live, "node-b1", 2, 20000)) gpt_fail("the second batch did not move after the kill");
  expect_targets(live, "2 2 2 2 1 1", "the second batch");
  report(live, "node-b0", 2);
  report(live, "node-b1", 2);
  if (!wait_target(live, "node-c1", 2, 20000)) gpt_fail("the last batch did not move");
  report(live, "node-c0", 2);
  report(live, "node-c1", 2);
  /* the operation started before the kill ends Succeeded */
  int64_t end = gpt_now_ms() + 20000;
  char status[32] = "";
  while (*op && gpt_now_ms() < end) {
    if (gpt_call(live, "GET", op, NULL, NULL, &r) == 200 && r.json)
      snprintf(status, sizeof status, "%s", json_string_value(json_object_get(r.json, "status")));
    gpt_response_free(&r);
    if (strcmp(status, "InProgress") != 0 && *status) break;
    gpt_sleep_ms(50);
  }
  if (strcmp(status, "Succeeded") != 0) gpt_fail("the rollout's operation ended '%s'", status);
  snprintf(path, sizeof path, POOL "?" API);
  if (gpt_call(live, "GET", path, NULL, NULL, &r) == 200 && r.json) {
    json_t *ro = json_object_get(json_object_get(json_object_get(r.json, "properties"), "status"), "rollout");
    const char *st = json_string_value(json_object_get(ro, "state"));
    if (!st || strcmp(st, "Completed") != 0) gpt_fail("the rollout: %s", st ? st : "(none)");
  }
  gpt_response_free(&r);
  if (!gpt_failures) printf("rollout restart: %s\n", pg ? "two replicas, the lease holder killed" : "SIGKILL, restart");
  return gpt_replicas_finish(rep, n);
}
