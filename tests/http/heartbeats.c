/* heartbeats.c - machine reports that change nothing but lastSeen cost no durable write of their own,
 * checked in the store behind gpupoold's back:
 *   - such a report is answered 200 with the new lastSeen and the same ETag, and right after the
 *     answer the stored lastSeen is still the old one; within --report-coalesce-ms it is the new one;
 *   - a report that changes something is in the store (new etag, new lastSeen) before its answer;
 *   - a gpupoold that stops (SIGTERM) stores the lastSeen it still holds, for every machine;
 *   - on PostgreSQL, two replicas: a lastSeen coalesced on replica A shows on replica B within the
 *     lag, never later.
 * Usage: http-heartbeats --server BUILD/gpupoold [--pg URL] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "harness.h"
#include "store_sql.h"
#include "testutil.h"

#define SUB "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d"
#define C "/subscriptions/" SUB "/resourceGroups/beat/providers/Microsoft.ContainerService/managedClusters/c1"
#define POOL C "/agentPools/gpu1"
#define API "api-version=2026-10-02-preview"
#define KEY_PREFIX SUB "/beat/c1/gpu1/"
#define MACHINES 40
#define LAG_MS 1500 /* --report-coalesce-ms of the single server */
#define REPLICA_LAG_MS 500
#define REPORT(applied)                                                                                                \
  "{\"properties\":{\"hardware\":{\"vmSize\":\"Standard_NC4as_T4_v3\"},\"status\":{\"reportIntervalSeconds\":30,"      \
  "\"appliedGeneration\":" #applied "}}}"

/* "2026-11-26T18:40:31.123Z" of a stored millisecond time, as gpupoold writes lastSeen. */
static void iso(const char *ms_text, char *out, size_t size) {
  long long ms = strtoll(ms_text, NULL, 10);
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;
  char base[32];
  gmtime_r(&secs, &tm);
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, size, "%s.%03dZ", base, (int)(ms % 1000));
}

static const char *status_field(const gpt_response *r, const char *k) {
  return json_string_value(json_object_get(json_object_get(json_object_get(r->json, "properties"), "status"), k));
}

/* The stored lastSeen of a machine, as gpupoold shows it ("" when there is no row). */
static void stored_seen(const gpt_server *s, const char *name, char *out, size_t size) {
  char key[256], ms[40];
  snprintf(key, sizeof key, KEY_PREFIX "%s", name);
  const char *p[] = {key};
  gpt_store_sql(s, "SELECT last_seen_ms FROM machines WHERE key = $1", p, 1, ms, sizeof ms);
  if (*ms)
    iso(ms, out, size);
  else
    snprintf(out, size, "(none)");
}

static void stored_etag(const gpt_server *s, const char *name, char *out, size_t size) {
  char key[256];
  snprintf(key, sizeof key, KEY_PREFIX "%s", name);
  const char *p[] = {key};
  gpt_store_sql(s, "SELECT etag FROM machines WHERE key = $1", p, 1, out, size);
}

/* PUT of a machine's report; the lastSeen and ETag answered. */
static bool report(const gpt_server *s, const char *name, const char *body, long want, char *seen, char *etag) {
  char path[300];
  gpt_response r;
  snprintf(path, sizeof path, POOL "/machines/%s?" API, name);
  gpt_call(s, "PUT", path, body, NULL, &r);
  bool ok = r.status == want && status_field(&r, "lastSeen") && gpt_header(&r, "ETag");
  if (!ok) gpt_fail("PUT %s: %ld (expected %ld) %.300s", name, r.status, want, r.body ? r.body : r.error);
  if (ok && seen) snprintf(seen, 40, "%s", status_field(&r, "lastSeen"));
  if (ok && etag) snprintf(etag, 64, "%.*s", (int)strlen(gpt_header(&r, "ETag")) - 2, gpt_header(&r, "ETag") + 1);
  gpt_response_free(&r);
  return ok;
}

static bool setup(const gpt_server *s) {
  gpt_response r;
  gpt_call(s, "PUT", C "?" API, "{\"location\":\"eastus\"}", NULL, &r);
  gpt_response_free(&r);
  if (!gpt_wait_state(s, C "?" API, "Succeeded", 20000)) {
    gpt_fail("the cluster did not end Succeeded");
    return false;
  }
  gpt_call(s, "PUT", POOL "?" API, "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"count\":2}}", NULL, &r);
  gpt_response_free(&r);
  if (gpt_wait_state(s, POOL "?" API, "Succeeded", 20000)) return true;
  gpt_fail("the pool did not end Succeeded");
  return false;
}

/* Waits until the stored lastSeen of name is want; returns the milliseconds it took, -1 after timeout_ms. */
static int64_t wait_stored(const gpt_server *s, const char *name, const char *want, int64_t timeout_ms) {
  int64_t start = gpt_now_ms();
  char seen[40];
  for (;;) {
    stored_seen(s, name, seen, sizeof seen);
    if (strcmp(seen, want) == 0) return gpt_now_ms() - start;
    if (gpt_now_ms() - start > timeout_ms) return -1;
    gpt_sleep_ms(20);
  }
}

static void single(const char *bin) {
  gpt_server s;
  char lag[16], seen0[40], seen1[40], seen2[40], etag0[64], etag1[64], etag2[64], stored[64];
  snprintf(lag, sizeof lag, "%d", LAG_MS);
  const char *args[] = {"--report-coalesce-ms", lag, NULL};
  if (!gpt_dir_make(&s) || !gpt_server_start(&s, bin, args)) {
    gpt_fail("could not start gpupoold");
    return;
  }
  if (!setup(&s) || !report(&s, "node-1", REPORT(1), 201, seen0, etag0)) goto out;
  stored_seen(&s, "node-1", stored, sizeof stored);
  if (strcmp(stored, seen0) != 0) gpt_fail("the registration is not stored: lastSeen %s, answered %s", stored, seen0);

  /* The same report: answered with a new time, the same ETag, and nothing written yet. */
  gpt_sleep_ms(30);
  if (!report(&s, "node-1", REPORT(1), 200, seen1, etag1)) goto out;
  stored_seen(&s, "node-1", stored, sizeof stored);
  if (strcmp(etag1, etag0) != 0) gpt_fail("a report that changed nothing changed the ETag: %s, was %s", etag1, etag0);
  if (strcmp(seen1, seen0) == 0) gpt_fail("a heartbeat's answer kept the old lastSeen %s", seen0);
  if (strcmp(stored, seen0) != 0)
    gpt_fail("a report that changed nothing but lastSeen was written at once: stored %s (registered %s)", stored,
             seen0);
  int64_t took = wait_stored(&s, "node-1", seen1, LAG_MS + 5000);
  if (took < 0)
    gpt_fail("the coalesced lastSeen %s was not stored within %d ms", seen1, LAG_MS + 5000);
  else
    printf("heartbeats: a coalesced lastSeen was stored %" PRId64 " ms after its answer (lag %d ms)\n", took, LAG_MS);

  /* A report that changes something: in the store before the answer. */
  if (!report(&s, "node-1", REPORT(2), 200, seen2, etag2)) goto out;
  stored_seen(&s, "node-1", stored, sizeof stored);
  char setag[64];
  stored_etag(&s, "node-1", setag, sizeof setag);
  if (strcmp(stored, seen2) != 0 || strcmp(setag, etag2) != 0 || strcmp(etag2, etag1) == 0)
    gpt_fail("a changed report was answered before it was stored: store %s/%s, answer %s/%s", stored, setag, seen2,
             etag2);

  /* Many machines' heartbeats, then a clean stop: every one stored. */
  char names[MACHINES][16], last[MACHINES][40];
  for (int i = 0; i < MACHINES; i++) {
    snprintf(names[i], sizeof names[i], "m%02d", i);
    if (!report(&s, names[i], REPORT(1), 201, NULL, NULL)) goto out;
  }
  gpt_sleep_ms(30);
  for (int i = 0; i < MACHINES; i++)
    if (!report(&s, names[i], REPORT(1), 200, last[i], NULL)) goto out;
  if (gpt_server_stop(&s) != 0) gpt_fail("gpupoold did not stop cleanly");
  int lost = 0;
  for (int i = 0; i < MACHINES; i++) {
    stored_seen(&s, names[i], stored, sizeof stored);
    if (strcmp(stored, last[i]) != 0 && lost++ < 3)
      gpt_fail("%s: stored lastSeen %s after a clean stop, answered %s", names[i], stored, last[i]);
  }
  if (!lost) printf("heartbeats: a clean stop stored the lastSeen of all %d machines\n", MACHINES);
out:
  if (s.pid > 0 && gpt_server_stop(&s) != 0) gpt_fail("gpupoold exited with an error");
  if (gpt_failures) gpt_server_log_tail(&s, 15);
  gpt_dir_remove(&s);
}

/* Two replicas on one PostgreSQL database: what A coalesced, B shows within the lag. */
static void replicas(const char *bin) {
  gpt_server rep[2];
  char lag[16], seen0[40], seen1[40];
  memset(rep, 0, sizeof rep);
  snprintf(lag, sizeof lag, "%d", REPLICA_LAG_MS);
  const char *args[] = {"--report-coalesce-ms", lag, NULL};
  if (!gpt_replicas_start(rep, 2, bin, args)) {
    gpt_fail("could not start two replicas");
    return;
  }
  if (setup(&rep[0]) && report(&rep[0], "node-r", REPORT(1), 201, seen0, NULL)) {
    gpt_sleep_ms(30);
    if (report(&rep[0], "node-r", REPORT(1), 200, seen1, NULL)) {
      int64_t start = gpt_now_ms(), took = -1;
      while (gpt_now_ms() - start < REPLICA_LAG_MS + 5000) {
        gpt_response r;
        gpt_call(&rep[1], "GET", POOL "/machines/node-r?" API, NULL, NULL, &r);
        const char *s = status_field(&r, "lastSeen");
        bool same = s && strcmp(s, seen1) == 0;
        if (!same && s && strcmp(s, seen0) != 0)
          gpt_fail("replica B shows lastSeen %s: neither %s nor %s", s, seen0, seen1);
        gpt_response_free(&r);
        if (same) {
          took = gpt_now_ms() - start;
          break;
        }
        gpt_sleep_ms(20);
      }
      if (took < 0)
        gpt_fail("replica B did not show the lastSeen coalesced on A within %d ms", REPLICA_LAG_MS + 5000);
      else
        printf("heartbeats: replica B showed the lastSeen coalesced on A after %" PRId64 " ms (lag %d ms)\n", took,
               REPLICA_LAG_MS);
    }
  }
  gpt_test_name = "heartbeats (replicas)";
  gpt_replicas_finish(rep, 2);
}

int main(int argc, char **argv) {
  gpt_store_args(&argc, argv);
  gpt_test_name = "heartbeats";
  const char *bin = argc == 3 && strcmp(argv[1], "--server") == 0 ? argv[2] : NULL;
  if (!bin) {
    fprintf(stderr, "usage: http-heartbeats --server BUILD/gpupoold [--pg URL]\n");
    return 2;
  }
  gpt_client_init();
  single(bin);
  if (gpt_store_is_pg()) replicas(bin);
  if (!gpt_failures) printf("heartbeats: ok (%s)\n", gpt_store_kind());
  return gpt_failures ? 1 : 0;
}
