/* race.c - a cluster's default management mode changes while pools are being created in it.
 *
 * Four clients create 30 T4 pools each (a third of them undeclared) while a fifth flips the cluster default between
 * Managed and Unmanaged as fast as it is allowed to; both retry on 409 OperationNotAllowed (a pool
 * the flip would change is still being created, or the cluster's operation is running). A pool created between a
 * cluster PUT's read and its commit must not keep the old default: the cluster PUT has to see it (and retry) or the
 * pool PUT has to see the new cluster. Afterwards every pool's effective mode must match the cluster's final default.
 * Usage: http-race --server BUILD/gpupoold [--pg URL] */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "harness.h"

#define CREATORS 4
#define PER_CREATOR 30
#define SUB "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
#define C "/subscriptions/" SUB "/resourceGroups/race/providers/Microsoft.ContainerService/managedClusters/c1"
#define API "api-version=2026-08-02-preview"

static gpt_server srv;
static int failures;
static atomic_int creators_left = CREATORS;
static atomic_int flips_ok, flips_refused;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "FAIL race: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  failures++;
}

static long call(const char *method, const char *path, const char *body, gpt_response *r) {
  char url[1024];
  const char *headers[] = {"Content-Type: application/json", NULL};
  snprintf(url, sizeof url, "%s%s", srv.base, path);
  gpt_http(method, url, body ? headers : NULL, body, body ? strlen(body) : 0, r);
  return r->status;
}

/* Two pools in three declare Managed: a flip never has to change them, so flips keep going through
 * while the undeclared ones (which must follow every flip) are being created. */
#define UNDECLARED "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\"}}"
#define DECLARED                                                                                                       \
  "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}}" \
  "}"
static bool declared(int i) { return i % 3 != 0; }

static void *creator(void *arg) {
  int t = (int)(intptr_t)arg;
  for (int i = 0; i < PER_CREATOR; i++) {
    char path[512];
    gpt_response r;
    snprintf(path, sizeof path, C "/agentPools/t%dp%d?" API, t, i);
    long st;
    /* 409 while the cluster's own operation runs: retry, as a client would */
    while ((st = call("PUT", path, declared(i) ? DECLARED : UNDECLARED, &r)) == 409)
      gpt_response_free(&r);
    if (st != 201) fail("create t%dp%d: %ld %.200s", t, i, st, r.body ? r.body : r.error);
    gpt_response_free(&r);
  }
  atomic_fetch_sub(&creators_left, 1);
  return NULL;
}

static const char *mode_body(bool managed) {
  return managed
             ? "{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}}}"
             : "{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Unmanaged\"}}"
               "}}";
}

static void *flipper(void *arg) {
  bool *managed = arg;
  while (atomic_load(&creators_left) > 0) {
    gpt_response r;
    long st = call("PUT", C "?" API, mode_body(!*managed), &r);
    if (st == 200) {
      *managed = !*managed;
      atomic_fetch_add(&flips_ok, 1);
    } else if (st == 409) {
      atomic_fetch_add(&flips_refused, 1);
    } else {
      fail("cluster PUT: %ld %.200s", st, r.body ? r.body : r.error);
    }
    gpt_response_free(&r);
  }
  return NULL;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  gpt_store_args(&argc, argv);
  const char *bin = argc == 3 && strcmp(argv[1], "--server") == 0 ? argv[2] : NULL;
  gpt_response r;
  if (!bin) {
    fprintf(stderr, "usage: http-race --server BUILD/gpupoold\n");
    return 2;
  }
  gpt_client_init();
  if (!gpt_dir_make(&srv) || !gpt_server_start(&srv, bin, NULL)) return 1;
  call("POST",
       "/subscriptions/" SUB "/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/ManagedGPU/"
       "register?api-version=2021-07-01",
       NULL, &r);
  gpt_response_free(&r);
  if (call("PUT", C "?" API, mode_body(false), &r) != 201) fail("cluster create: %ld", r.status);
  gpt_response_free(&r);
  for (int i = 0; i < 200; i++) { /* until the cluster's operation ended */
    call("GET", C "?" API, NULL, &r);
    bool done = r.body && strstr(r.body, "\"provisioningState\":\"Succeeded\"");
    gpt_response_free(&r);
    if (done) break;
    sleep_ms(20);
  }

  bool managed = false;
  pthread_t th[CREATORS + 1];
  pthread_create(&th[CREATORS], NULL, flipper, &managed);
  for (int t = 0; t < CREATORS; t++)
    pthread_create(&th[t], NULL, creator, (void *)(intptr_t)t);
  for (int t = 0; t <= CREATORS; t++)
    pthread_join(th[t], NULL);
  printf("race: %d cluster default changes accepted while pools were created, %d refused with 409\n",
         atomic_load(&flips_ok), atomic_load(&flips_refused));

  /* Every pool follows the final default once the operations ended. */
  const char *want = managed ? "Managed" : "Unmanaged";
  int checked = 0, busy = 1, wrong = 0;
  for (int round = 0; round < 300 && busy; round++) {
    busy = wrong = checked = 0;
    for (int t = 0; t < CREATORS; t++)
      for (int i = 0; i < PER_CREATOR; i++) {
        char path[512];
        snprintf(path, sizeof path, C "/agentPools/t%dp%d?" API, t, i);
        call("GET", path, NULL, &r);
        json_t *props = json_object_get(r.json, "properties");
        const char *state = json_string_value(json_object_get(props, "provisioningState"));
        const char *mode = json_string_value(
            json_object_get(json_object_get(json_object_get(props, "gpuProfile"), "nvidia"), "currentManagementMode"));
        if (!state || strcmp(state, "Succeeded") != 0) busy++;
        const char *expect = declared(i) ? "Managed" : want;
        if (!mode || strcmp(mode, expect) != 0) {
          if (!busy) fprintf(stderr, "race: pool t%dp%d is %s, expected %s\n", t, i, mode ? mode : "?", expect);
          wrong++;
        }
        checked++;
        gpt_response_free(&r);
      }
    if (busy) sleep_ms(50);
  }
  if (wrong) fail("%d pools do not follow the cluster's final default %s: an update was lost", wrong, want);
  if (busy) fail("%d pools still had an operation running", busy);
  call("GET", C "?" API, NULL, &r);
  if (!r.body || !strstr(r.body, want)) fail("the cluster does not show its default %s", want);
  gpt_response_free(&r);
  int status = gpt_server_stop(&srv);
  if (status != 0) fail("gpupoold exited with status %d", status);
  if (failures) gpt_server_log_tail(&srv, 20);
  gpt_dir_remove(&srv);
  if (!failures) printf("race: ok (%s; %d pools; the undeclared ones all %s)\n", gpt_store_kind(), checked, want);
  return failures ? 1 : 0;
}
