/* whatif_store.c - POST …/agentPools/{p}/whatIf writes nothing, checked in the store behind
 * gpupoold's back: every row of every table (clusters, pools, plans, operations, features,
 * machines, machine_docs, plan_history) is read before and after a series of what-ifs (accepted
 * bodies of each kind of change, a refused one, bad JSON, a missing pool) and must be the same, row
 * for row. Then a real PUT of the same body must change the rows: the comparison sees writes.
 * On SQLite and PostgreSQL alike (store_sql.h). The answers themselves are tests/http/whatif.json.
 * Usage: http-whatif_store --server BUILD/gpupoold [--pg URL] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "harness.h"
#include "store_sql.h"
#include "testutil.h"

#define SUB "5e0b6a2d-1c3f-4d8e-9a7b-2f6c8d4e1a03"
#define C "/subscriptions/" SUB "/resourceGroups/wi/providers/Microsoft.ContainerService/managedClusters/c1"
#define POOL C "/agentPools/gpu1"
#define API "api-version=2026-10-02-preview"
#define FEATURE                                                                                                        \
  "/subscriptions/" SUB "/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/ManagedGPU/"      \
  "register?api-version=2021-07-01"
#define MACHINE(applied)                                                                                               \
  "{\"properties\":{\"hardware\":{\"vmSize\":\"Standard_NC4as_T4_v3\"},\"kubernetes\":{\"ready\":true},"               \
  "\"status\":{\"appliedGeneration\":" #applied "}}}"

/* Every table with the columns both back-ends have, and the order that makes the rows comparable. */
static const struct {
  const char *table, *columns, *order;
} tables[] = {
    {"clusters", "key, id, name, doc, etag, state, op_id", "key"},
    {"pools", "key, id, name, doc, etag, state, op_id, mode, plan_generation", "key"},
    {"plans", "key, plan", "key"},
    {"operations", "seq, id, status, res_key, kind, start_ms, end_ms, not_before_ms, error, parent", "seq"},
    {"features", "sub, name, state", "sub, name"},
    {"machines",
     "key, pool_key, id, name, etag, incarnation, last_seen_ms, interval_s, applied_generation, target_generation, "
     "health_failed, drifted",
     "key"},
    {"machine_docs", "key, report, findings", "key"},
    {"plan_history", "pool_key, generation, plan", "pool_key, generation"},
};
#define NTABLES (sizeof tables / sizeof tables[0])
#define MAX_ROWS 64

typedef struct {
  char *rows[NTABLES][MAX_ROWS];
  int n[NTABLES];
} snapshot;

/* One row as text: its columns joined by '|', NULL as '~'. */
static bool row_text(const gpt_server *s, size_t t, int i, char *out, size_t size) {
  char sql[1024] = "SELECT ", cols[512];
  snprintf(cols, sizeof cols, "%s", tables[t].columns);
  bool first = true;
  for (char *save = NULL, *c = strtok_r(cols, ", ", &save); c; c = strtok_r(NULL, ", ", &save)) {
    size_t len = strlen(sql);
    snprintf(sql + len, sizeof sql - len, "%sCOALESCE(CAST(%s AS TEXT), '~')", first ? "" : " || '|' || ", c);
    first = false;
  }
  size_t len = strlen(sql);
  snprintf(sql + len, sizeof sql - len, " FROM %s ORDER BY %s LIMIT 1 OFFSET %d", tables[t].table, tables[t].order, i);
  return gpt_store_sql(s, sql, NULL, 0, out, size);
}

static bool take(const gpt_server *s, snapshot *snap) {
  static char buf[1 << 20];
  memset(snap, 0, sizeof *snap);
  for (size_t t = 0; t < NTABLES; t++) {
    char sql[128], count[32];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[t].table);
    if (!gpt_store_sql(s, sql, NULL, 0, count, sizeof count)) return false;
    snap->n[t] = atoi(count);
    if (snap->n[t] > MAX_ROWS) {
      gpt_fail("%s has %d rows, more than this test reads", tables[t].table, snap->n[t]);
      return false;
    }
    for (int i = 0; i < snap->n[t]; i++) {
      if (!row_text(s, t, i, buf, sizeof buf) || !(snap->rows[t][i] = strdup(buf))) return false;
    }
  }
  return true;
}

static void release(snapshot *snap) {
  for (size_t t = 0; t < NTABLES; t++)
    for (int i = 0; i < snap->n[t]; i++)
      free(snap->rows[t][i]);
}

/* The tables whose rows differ between a and b (none: ""), into out. */
static void differences(const snapshot *a, const snapshot *b, char *out, size_t size) {
  *out = '\0';
  for (size_t t = 0; t < NTABLES; t++) {
    bool same = a->n[t] == b->n[t];
    for (int i = 0; same && i < a->n[t]; i++)
      same = strcmp(a->rows[t][i], b->rows[t][i]) == 0;
    if (!same) {
      size_t len = strlen(out);
      snprintf(out + len, size - len, "%s%s (%d rows, then %d)", len ? ", " : "", tables[t].table, a->n[t], b->n[t]);
    }
  }
}

static long call(const gpt_server *s, const char *method, const char *path, const char *body) {
  gpt_response r;
  long status = gpt_call(s, method, path, body, NULL, &r);
  gpt_response_free(&r);
  return status;
}

static bool setup(const gpt_server *s) {
  bool ok =
      call(s, "POST", FEATURE, NULL) == 200 &&
      call(s, "PUT", C "?" API, "{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.35\"}}") == 201 &&
      gpt_wait_state(s, C "?" API, "Succeeded", 20000) &&
      call(s, "PUT", POOL "?" API,
           "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"count\":3,\"nodeLabels\":{\"team\":\"a\"},"
           "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}}}") == 201 &&
      gpt_wait_state(s, POOL "?" API, "Succeeded", 20000) &&
      call(s, "PUT", POOL "/machines/node-1?" API, MACHINE(1)) == 201 &&
      call(s, "PUT", POOL "?" API, "{\"properties\":{\"nodeLabels\":{\"team\":\"b\"}}}") == 200 &&
      gpt_wait_state(s, POOL "?" API, "Succeeded", 20000) &&
      call(s, "PUT", POOL "/machines/node-2?" API, MACHINE(2)) == 201 &&
      call(s, "PUT", POOL "/machines/node-3?" API, MACHINE(0)) == 201 && gpt_wait_idle(s, 20000);
  if (!ok) gpt_fail("could not set up the cluster, the pool (two generations) and three machines");
  return ok;
}

/* What-ifs of each kind: their statuses, and nothing in the store may change. */
static const struct {
  const char *body;
  long status;
} whatifs[] = {
    {"{\"properties\":{\"count\":7,\"tags\":{\"cost\":\"ml\"}}}", 200},                         /* None */
    {"{\"properties\":{\"nodeLabels\":{\"team\":\"c\"}}}", 200},                                /* InPlace */
    {"{\"properties\":{\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Unmanaged\"}}}}", 200}, /* Restart */
    {"{\"properties\":{\"gpuProfile\":{\"nvidia\":{\"driverMode\":\"DRA\"}}}}", 200},           /* Drain */
    {"{\"properties\":{\"gpuProfile\":{\"driver\":\"None\"}}}", 200}, /* refused: valid false */
    {"{\"properties\": ", 400},                                       /* bad JSON */
};

int main(int argc, char **argv) {
  gpt_store_args(&argc, argv);
  gpt_test_name = "whatif-store";
  const char *bin = argc == 3 && strcmp(argv[1], "--server") == 0 ? argv[2] : NULL;
  if (!bin) {
    fprintf(stderr, "usage: http-whatif_store --server BUILD/gpupoold [--pg URL]\n");
    return 2;
  }
  gpt_client_init();
  gpt_server s;
  const char *args[] = {NULL};
  snapshot before, after, written;
  char diff[1024];
  memset(&before, 0, sizeof before);
  memset(&after, 0, sizeof after);
  memset(&written, 0, sizeof written);
  if (!gpt_dir_make(&s) || !gpt_server_start(&s, bin, args)) {
    gpt_fail("could not start gpupoold");
    return 1;
  }
  if (!setup(&s) || !take(&s, &before)) goto out;
  if (before.n[5] != 3 || before.n[7] != 2) gpt_fail("expected 3 machines and 2 plans in the history");
  for (size_t i = 0; i < sizeof whatifs / sizeof whatifs[0]; i++) {
    long st = call(&s, "POST", POOL "/whatIf?" API, whatifs[i].body);
    if (st != whatifs[i].status) gpt_fail("what-if %zu: %ld, expected %ld", i, st, whatifs[i].status);
  }
  if (call(&s, "POST", C "/agentPools/nosuch/whatIf?" API, "{\"properties\":{}}") != 404)
    gpt_fail("a what-if on a missing pool did not answer 404");
  gpt_sleep_ms(300); /* anything a what-if might have set off in the background */
  if (!take(&s, &after)) goto out;
  differences(&before, &after, diff, sizeof diff);
  if (*diff) gpt_fail("what-ifs wrote to the store: %s", diff);
  /* the same body as a PUT does write: the comparison sees a write when there is one */
  if (call(&s, "PUT", POOL "?" API, whatifs[1].body) != 200 || !gpt_wait_state(&s, POOL "?" API, "Succeeded", 20000) ||
      !gpt_wait_idle(&s, 20000) || !take(&s, &written))
    goto out;
  differences(&after, &written, diff, sizeof diff);
  if (!strstr(diff, "pools") || !strstr(diff, "plan_history") || !strstr(diff, "operations"))
    gpt_fail("a PUT did not show in the store's rows: differences: %s", *diff ? diff : "none");
out:
  release(&before);
  release(&after);
  release(&written);
  if (s.pid > 0 && gpt_server_stop(&s) != 0) gpt_fail("gpupoold exited with an error");
  if (gpt_failures) gpt_server_log_tail(&s, 15);
  gpt_dir_remove(&s);
  if (!gpt_failures) printf("whatif-store: ok (%s): what-ifs left every row as it was\n", gpt_store_kind());
  return gpt_failures ? 1 : 0;
}
