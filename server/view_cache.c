/* view_cache.c - rendered pool views keyed by pool and api group (see view_cache.h).
 * Two-way set-associative: a set holds two views and replaces the one used least recently. */
#include "view_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 2
#define STRIPES 64

typedef struct {
  char *key, *etag, *state, *text;
  size_t len;
  int api;
} entry;

typedef struct {
  entry way[WAYS];
  unsigned char recent; /* the way used last */
} set;

struct gpd_view_cache {
  set *sets;
  size_t nsets;
  pthread_mutex_t locks[STRIPES];
};

gpd_view_cache *gpd_view_cache_new(size_t slots) {
  gpd_view_cache *c = calloc(1, sizeof *c);
  size_t nsets = slots / WAYS ? slots / WAYS : 1;
  if (!c || !(c->sets = calloc(nsets, sizeof *c->sets))) {
    free(c);
    return NULL;
  }
  c->nsets = nsets;
  for (int i = 0; i < STRIPES; i++)
    pthread_mutex_init(&c->locks[i], NULL);
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
  for (size_t i = 0; i < c->nsets; i++)
    for (int w = 0; w < WAYS; w++)
      entry_clear(&c->sets[i].way[w]);
  for (int i = 0; i < STRIPES; i++)
    pthread_mutex_destroy(&c->locks[i]);
  free(c->sets);
  free(c);
}

static size_t set_of(const gpd_view_cache *c, const char *key, int api) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)key; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  h = (h ^ (unsigned)api) * 1099511628211ull;
  return (size_t)(h % c->nsets);
}

static bool same(const entry *e, const char *key, int api) {
  return e->key && e->api == api && strcmp(e->key, key) == 0;
}

char *gpd_view_cache_get(gpd_view_cache *c, const char *key, int api, const char *etag, const char *state,
                         size_t *len) {
  if (!c) return NULL;
  size_t i = set_of(c, key, api);
  char *copy = NULL;
  pthread_mutex_lock(&c->locks[i % STRIPES]);
  set *s = &c->sets[i];
  for (int w = 0; w < WAYS; w++) {
    entry *e = &s->way[w];
    if (!same(e, key, api) || strcmp(e->etag, etag) != 0 || strcmp(e->state, state) != 0) continue;
    if ((copy = malloc(e->len + 1))) {
      memcpy(copy, e->text, e->len + 1);
      *len = e->len;
      s->recent = (unsigned char)w;
    }
    break;
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
  size_t i = set_of(c, key, api);
  pthread_mutex_lock(&c->locks[i % STRIPES]);
  set *s = &c->sets[i];
  int w = same(&s->way[0], key, api) ? 0 : same(&s->way[1], key, api) ? 1 : !s->recent;
  entry old = s->way[w];
  s->way[w] = n;
  s->recent = (unsigned char)w;
  pthread_mutex_unlock(&c->locks[i % STRIPES]);
  entry_clear(&old);
}
