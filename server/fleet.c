/* fleet.c - a replica's machine state apart from the store: heartbeats and node counts (see fleet.h). */
#include "fleet.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heartbeats.h"
#include "util.h"

#define FLEET_COUNTS_TTL_MS 1000
#define SLOTS 1024 /* pools whose counts are kept; a colliding pool replaces another */

typedef struct {
  char *pool_key;
  gp_machine_counts counts;
  int64_t at_ms;
} slot;

struct gpd_fleet {
  gpd_heartbeats *heartbeats;
  pthread_mutex_t lock;
  slot slots[SLOTS];
};

bool gpd_fleet_start(gpd_server *srv, char *err, size_t errlen) {
  gpd_fleet *f = calloc(1, sizeof *f);
  if (!f || !(f->heartbeats = gpd_heartbeats_start(srv->store))) {
    free(f);
    snprintf(err, errlen, "cannot start the machines' heartbeat thread");
    return false;
  }
  pthread_mutex_init(&f->lock, NULL);
  srv->fleet = f;
  return true;
}

void gpd_fleet_stop(gpd_server *srv) {
  gpd_fleet *f = srv->fleet;
  if (!f) return;
  gpd_heartbeats_stop(f->heartbeats);
  for (size_t i = 0; i < SLOTS; i++)
    free(f->slots[i].pool_key);
  pthread_mutex_destroy(&f->lock);
  free(f);
  srv->fleet = NULL;
}

gpd_heartbeats *gpd_fleet_heartbeats(const gpd_server *srv) { return srv->fleet->heartbeats; }

static size_t slot_of(const char *key) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)key; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return (size_t)(h % SLOTS);
}

/* Adds groups of machines (the store's facts) to counts by the core's state rule. */
static void add_groups(gp_machine_counts *c, const gpd_machine_group *g, size_t n) {
  for (size_t i = 0; i < n; i++) {
    gp_machine_facts facts = {!g[i].stale, g[i].health_failed, g[i].applying, g[i].drifted};
    c->by_state[gp_machine_state_of(&facts)] += g[i].count;
  }
}

bool gpd_fleet_pool_counts(const gpd_server *srv, const char *pool_key, gp_machine_counts *out) {
  gpd_fleet *f = srv->fleet;
  size_t i = slot_of(pool_key);
  int64_t now = gpd_now_ms();
  pthread_mutex_lock(&f->lock);
  slot *s = &f->slots[i];
  bool hit = s->pool_key && strcmp(s->pool_key, pool_key) == 0 && now - s->at_ms < FLEET_COUNTS_TTL_MS;
  if (hit) *out = s->counts;
  pthread_mutex_unlock(&f->lock);
  if (hit) return true;

  char prefix[512];
  gpd_machine_group *g = NULL;
  size_t n = 0;
  snprintf(prefix, sizeof prefix, "%s/", pool_key);
  int64_t lag_cap = gp_machine_lag_ms(GP_MACHINE_INTERVAL_MAX, srv->cfg.report_coalesce_ms);
  if (srv->store->ops->count_machines(srv->store, prefix, now, lag_cap, &g, &n) != GPD_STORE_OK) return false;
  memset(out, 0, sizeof *out);
  add_groups(out, g, n);
  gpd_machine_groups_free(g, n);
  char *copy = strdup(pool_key);
  if (!copy) return true; /* not kept: read again next time */
  pthread_mutex_lock(&f->lock);
  free(s->pool_key);
  s->pool_key = copy;
  s->counts = *out;
  s->at_ms = now;
  pthread_mutex_unlock(&f->lock);
  return true;
}

void gpd_fleet_changed(const gpd_server *srv, const char *pool_key) {
  gpd_fleet *f = srv->fleet;
  slot *s = &f->slots[slot_of(pool_key)];
  pthread_mutex_lock(&f->lock);
  if (s->pool_key && strcmp(s->pool_key, pool_key) == 0) s->at_ms = 0;
  pthread_mutex_unlock(&f->lock);
}

bool gpd_fleet_collect(const gpd_server *srv, gpd_metrics_out *o) {
  gpd_machine_group *g = NULL;
  size_t n = 0;
  int64_t lag_cap = gp_machine_lag_ms(GP_MACHINE_INTERVAL_MAX, srv->cfg.report_coalesce_ms);
  if (srv->store->ops->count_machines(srv->store, NULL, gpd_now_ms(), lag_cap, &g, &n) != GPD_STORE_OK) return false;
  gpd_metrics_family(o, "gpupoold_machines", "gauge", "Machines (nodes) of agent pools, by state.");
  for (size_t i = 0; i < n;) { /* groups come ordered by pool */
    gp_machine_counts c;
    size_t j = i;
    memset(&c, 0, sizeof c);
    while (j < n && strcmp(g[j].pool_id, g[i].pool_id) == 0)
      j++;
    add_groups(&c, g + i, j - i);
    for (int st = 0; st < GP_MACHINE_STATE_COUNT; st++)
      gpd_metrics_sample(o, "gpupoold_machines", (double)c.by_state[st], "pool", g[i].pool_id, "state",
                         gp_machine_state_name((gp_machine_state)st), NULL);
    i = j;
  }
  gpd_machine_groups_free(g, n);
  return true;
}
