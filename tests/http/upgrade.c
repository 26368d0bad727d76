/* upgrade.c - a store written before machines existed (SQLite schema 1, PostgreSQL migration 1),
 * before pools had an incarnation (schema / migration 2), or before rollouts (3), is upgraded in place when this
 * gpupoold starts on it: the machine tables appear and the pools' current plans become their first plan history, so a
 * machine registered right after the upgrade is served its plan; every pool gets an incarnation, so its plan ETag takes
 * the new form and one of the old form ("1") no longer matches (one 200 more for an agent); the rollouts table appears
 * (a pool GET shows its rollout Idle); nothing of the pools is lost. The old store is made by the current gpupoold and
 * taken back to the old schema (the machine tables dropped, the version set back), which is exactly what the old one
 * left. Usage: http-upgrade --server BUILD/gpupoold [--pg URL] */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "harness.h"
#include "store_sql.h"
#include "testutil.h"

#define SUB "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"
#define C "/subscriptions/" SUB "/resourceGroups/up/providers/Microsoft.ContainerService/managedClusters/c1"
#define POOL C "/agentPools/gpu1"
#define API "api-version=2026-10-02-preview"

static bool put_ok(const gpt_server *s, const char *path, const char *body, long want) {
  gpt_response r;
  long got = gpt_call(s, "PUT", path, body, NULL, &r);
  if (got != want) gpt_fail("PUT %s: %ld (expected %ld) %.300s", path, got, want, r.body ? r.body : r.error);
  gpt_response_free(&r);
  return got == want;
}

/* One upgrade: a store made by this gpupoold, taken back to schema `from` (1: before machines; 2:
 * before pools had an incarnation; 3: before rollouts), then opened by this gpupoold again. */
static void upgrade_from(const char *bin, int from) {
  gpt_server s;
  char plan_etag[96] = "";
  if (!gpt_dir_make(&s) || !gpt_server_start(&s, bin, NULL)) {
    gpt_fail("from schema %d: gpupoold did not start", from);
    return;
  }
  if (put_ok(&s, C "?" API, "{\"location\":\"eastus\"}", 201) && gpt_wait_state(&s, C "?" API, "Succeeded", 20000) &&
      put_ok(&s, POOL "?" API, "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"count\":2}}", 201) &&
      !gpt_wait_state(&s, POOL "?" API, "Succeeded", 20000))
    gpt_fail("the pool did not end Succeeded");
  if (gpt_server_stop(&s) != 0) gpt_fail("gpupoold did not stop cleanly");

  /* Back to the schema of an older gpupoold: what it left, exactly. */
  bool pg = gpt_store_is_pg();
  const char *back1[] = {"DROP TABLE machines", "DROP TABLE machine_docs", "DROP TABLE plan_history"};
  char version_back[64];
  snprintf(version_back, sizeof version_back,
           pg ? "DELETE FROM schema_migrations WHERE version > %d" : "PRAGMA user_version = %d", from);
  const char *back2[] = {"ALTER TABLE pools DROP COLUMN incarnation"};
  if (!gpt_store_sql(&s, "DROP TABLE rollouts", NULL, 0, NULL, 0)) gpt_fail("could not drop the rollouts table");
  for (size_t i = 0; from == 1 && i < sizeof back1 / sizeof *back1; i++)
    if (!gpt_store_sql(&s, back1[i], NULL, 0, NULL, 0)) gpt_fail("could not take the store back: %s", back1[i]);
  for (size_t i = 0; from <= 2 && i < sizeof back2 / sizeof *back2; i++)
    if (!gpt_store_sql(&s, back2[i], NULL, 0, NULL, 0)) gpt_fail("could not take the store back: %s", back2[i]);
  if (!gpt_store_sql(&s, version_back, NULL, 0, NULL, 0)) gpt_fail("could not take the store back: %s", version_back);

  if (!gpt_server_start(&s, bin, NULL)) {
    gpt_fail("gpupoold did not start on the store of schema %d", from);
  } else {
    char version[32], kept[32], inc[96];
    gpt_store_sql(&s, pg ? "SELECT max(version) FROM schema_migrations" : "PRAGMA user_version", NULL, 0, version,
                  sizeof version);
    if (strcmp(version, "4") != 0)
      gpt_fail("from %d: the schema version after the upgrade: %s, expected 4", from, version);
    char rollouts[32] = "";
    if (!gpt_store_sql(&s, "SELECT count(*) FROM rollouts", NULL, 0, rollouts, sizeof rollouts) ||
        strcmp(rollouts, "0") != 0)
      gpt_fail("from %d: no empty rollouts table after the upgrade ('%s')", from, rollouts);
    gpt_store_sql(&s, "SELECT count(*) FROM plan_history WHERE generation = 1", NULL, 0, kept, sizeof kept);
    if (strcmp(kept, "1") != 0) gpt_fail("the pool's plan is not in the history after the upgrade (%s rows)", kept);
    gpt_store_sql(&s, "SELECT incarnation FROM pools", NULL, 0, inc, sizeof inc);
    if (from <= 2 && strlen(inc) != 32)
      gpt_fail("from %d: the pool's incarnation after the upgrade: '%s' (32 hex digits expected)", from, inc);
    gpt_response r;
    /* The plan is served with an ETag of the new scheme; the old one ("1") no longer matches. */
    gpt_call(&s, "GET", POOL "/plan?" API, NULL, "If-None-Match: \"1\"", &r);
    const char *etag = gpt_header(&r, "ETag");
    if (r.status != 200 || !etag || strncmp(etag, "\"1-", 3) != 0 || strlen(etag) != 20)
      gpt_fail("from %d: the plan after the upgrade with the old ETag: %ld, ETag %s", from, r.status,
               etag ? etag : "(none)");
    else
      snprintf(plan_etag, sizeof plan_etag, "If-None-Match: %s", etag);
    gpt_response_free(&r);
    if (*plan_etag && gpt_call(&s, "GET", POOL "/plan?" API, NULL, plan_etag, &r) != 304)
      gpt_fail("from %d: the plan with its new ETag: %ld, not 304", from, r.status);
    if (*plan_etag) gpt_response_free(&r);
    if (put_ok(&s, POOL "/machines/node-1?" API, "{\"properties\":{\"status\":{\"appliedGeneration\":1}}}", 201)) {
      gpt_call(&s, "GET", POOL "/machines/node-1/plan?" API, NULL, NULL, &r);
      const json_t *gen = r.json ? json_object_get(r.json, "generation") : NULL;
      if (r.status != 200 || json_integer_value(gen) != 1)
        gpt_fail("the machine's plan after the upgrade: %ld %.200s", r.status, r.body ? r.body : "");
      gpt_response_free(&r);
    }
    gpt_call(&s, "GET", POOL "?" API, NULL, NULL, &r);
    const char *st = r.json ? gpt_state_of(r.json) : NULL;
    if (r.status != 200 || !st || strcmp(st, "Succeeded") != 0) gpt_fail("the pool after the upgrade: %ld", r.status);
    gpt_response_free(&r);
    if (gpt_server_stop(&s) != 0) gpt_fail("gpupoold did not stop cleanly after the upgrade");
  }
  if (gpt_failures) gpt_server_log_tail(&s, 15);
  gpt_dir_remove(&s);
}

int main(int argc, char **argv) {
  gpt_store_args(&argc, argv);
  gpt_test_name = "upgrade";
  const char *bin = argc == 3 && strcmp(argv[1], "--server") == 0 ? argv[2] : NULL;
  if (!bin) {
    fprintf(stderr, "usage: http-upgrade --server BUILD/gpupoold [--pg URL]\n");
    return 2;
  }
  gpt_client_init();
  upgrade_from(bin, 1);
  upgrade_from(bin, 2);
  upgrade_from(bin, 3);
  if (!gpt_failures) printf("upgrade: ok (%s; from schemas 1, 2 and 3)\n", gpt_store_kind());
  return gpt_failures ? 1 : 0;
}
