/* view_cache.c - rendered pool views keyed by pool and api group (see view_cache.h). */
#include "view_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 64

typedef struct {
  char *key, *etag, *state, *text;
  size_t len;
  int api;
} entry;

struct gpd_view_cache {
  entry *slots;
  size_t nslots;
  pthread_mutex_t locks[STRIPES];
};

gpd_view_cache *gpd_view_cache_new(size_t slots) {
  gpd_view_cache *c = calloc(1, sizeof *c);
  if (!c || !(c->slots = calloc(slots, sizeof *c->slots))) {
    free(c);
    return NULL;
  }
  c->nslots = slots;
  for (int i = 0; i < STRIPES; i++) pthread_mutex_init(&c->locks[i], NULL);
  return c;
}

static void entry_clear(entry *e) {
  free(e->key);
  free(e->etag);
  free(e->state);
  free(e->text);
  memset(e, 0, sizeof *e);
}

void gpd_view_cache_free(gpd_view_cache *c) {
  if (!c) return;
  for (size_t i = 0; i < c->nslots; i++) entry_clear(&c->slots[i]);
  for (int i = 0; i < STRIPES; i++) pthread_mutex_destroy(&c->locks[i]);
  free(c->slots);
  free(c);
}

static size_t slot_of(const gpd_view_cache *c, const char *key, int api) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)key; *p; p++) h = (h ^ *p) * 1099511628211ull;
  h = (h ^ (unsigned)api) * 1099511628211ull;
  return (size_t)(h % c->nslots);
}

char *gpd_view_cache_get(gpd_view_cache *c, const char *key, int api, const char *etag, const char *state,
                         size_t *len) {
  if (!c) return NULL;
  size_t i = slot_of(c, key, api);
  char *copy = NULL;
  pthread_mutex_lock(&c->locks[i % STRIPES]);
  entry *e = &c->slots[i];
  if (e->key && e->api == api && strcmp(e->key, key) == 0 && strcmp(e->etag, etag) == 0 &&
      strcmp(e->state, state) == 0 && (copy = malloc(e->len + 1))) {
    memcpy(copy, e->text, e->len + 1);
    *len = e->len;
  }
  pthread_mutex_unlock(&c->locks[i % STRIPES]);
  return copy;
}

void gpd_view_cache_put(gpd_view_cache *c, const char *key, int api, const char *etag, const char *state,
                        const char *text, size_t len) {
  if (!c) return;
  entry n = {strdup(key), strdup(etag), strdup(state), malloc(len + 1), len, api};
  if (!n.key || !n.etag || !n.state || !n.text) { /* a cache may always decline */
    entry_clear(&n);
    return;
  }
  memcpy(n.text, text, len + 1);
  size_t i = slot_of(c, key, api);
  pthread_mutex_lock(&c->locks[i % STRIPES]);
  entry old = c->slots[i];
  c->slots[i] = n;
  pthread_mutex_unlock(&c->locks[i % STRIPES]);
  entry_clear(&old);
}
