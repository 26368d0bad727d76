/* upgrade.c - a store written before machines existed (SQLite schema 1, PostgreSQL migration 1) is
 * upgraded in place when a gpupoold that knows machines starts on it: the new tables appear, the
 * pools' current plans become their first plan history, so a machine registered right after the
 * upgrade is served its plan, and nothing of the pools is lost.
 * The old store is made by the current gpupoold and taken back to the old schema (the machine
 * tables dropped, the version set back), which is exactly what the old one left.
 * Usage: http-upgrade --server BUILD/gpupoold [--pg URL] */
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

int main(int argc, char **argv) {
  gpt_store_args(&argc, argv);
  gpt_test_name = "upgrade";
  const char *bin = argc == 3 && strcmp(argv[1], "--server") == 0 ? argv[2] : NULL;
  if (!bin) {
    fprintf(stderr, "usage: http-upgrade --server BUILD/gpupoold [--pg URL]\n");
    return 2;
  }
  gpt_client_init();
  gpt_server s;
  if (!gpt_dir_make(&s) || !gpt_server_start(&s, bin, NULL)) return 1;
  if (put_ok(&s, C "?" API, "{\"location\":\"eastus\"}", 201) && gpt_wait_state(&s, C "?" API, "Succeeded", 20000) &&
      put_ok(&s, POOL "?" API, "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"count\":2}}", 201) &&
      !gpt_wait_state(&s, POOL "?" API, "Succeeded", 20000))
    gpt_fail("the pool did not end Succeeded");
  if (gpt_server_stop(&s) != 0) gpt_fail("gpupoold did not stop cleanly");

  /* Back to the schema of a gpupoold without machines. */
  bool pg = gpt_store_is_pg();
  const char *back[] = {"DROP TABLE machines", "DROP TABLE machine_docs", "DROP TABLE plan_history",
                        pg ? "DELETE FROM schema_migrations WHERE version > 1" : "PRAGMA user_version = 1"};
  for (size_t i = 0; i < sizeof back / sizeof *back; i++)
    if (!gpt_store_sql(&s, back[i], NULL, 0, NULL, 0)) gpt_fail("could not take the store back: %s", back[i]);

  if (!gpt_server_start(&s, bin, NULL)) {
    gpt_fail("gpupoold did not start on the old store");
  } else {
    char version[32], kept[32];
    gpt_store_sql(&s, pg ? "SELECT max(version) FROM schema_migrations" : "PRAGMA user_version", NULL, 0, version,
                  sizeof version);
    if (strcmp(version, "2") != 0) gpt_fail("the store's schema version after the upgrade: %s, expected 2", version);
    gpt_store_sql(&s, "SELECT count(*) FROM plan_history WHERE generation = 1", NULL, 0, kept, sizeof kept);
    if (strcmp(kept, "1") != 0) gpt_fail("the pool's plan is not in the history after the upgrade (%s rows)", kept);
    gpt_response r;
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
  if (!gpt_failures) printf("upgrade: ok (%s)\n", gpt_store_kind());
  return gpt_failures ? 1 : 0;
}
