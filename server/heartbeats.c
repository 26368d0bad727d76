/* heartbeats.c - coalesced lastSeen of machine reports (see heartbeats.h).
 *
 * A hash table of pending times, one entry per machine, under one mutex (a note is a lookup and a
 * store of two integers). The flushing thread sleeps until the earliest due time, takes the whole
 * table and stores it in chunks; what could not be stored (the store is away) goes back into the
 * table, never over a newer time, and is tried again a second later. */
#include "heartbeats.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

#define BUCKETS 65536 /* a power of two */
#define CHUNK 2000    /* machines per store transaction: other writes get their turn between */
#define RETRY_MS 1000 /* after the store failed */

typedef struct entry {
  char *key;
  int64_t seen_ms;
  struct entry *next;
} entry;

struct gpd_heartbeats {
  gpd_store *store;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool stop;
  entry **buckets;
  size_t count;
  int64_t due_ms; /* when the oldest pending entry must be stored; 0 when none */
  int64_t last_error_log;
};

static size_t bucket_of(const char *key) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)key; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return (size_t)(h & (BUCKETS - 1));
}

static entry **find(gpd_heartbeats *h, const char *key) {
  entry **e = &h->buckets[bucket_of(key)];
  while (*e && strcmp((*e)->key, key) != 0)
    e = &(*e)->next;
  return e;
}

/* Under the lock: key's pending time becomes at least seen_ms. */
static bool put_locked(gpd_heartbeats *h, const char *key, int64_t seen_ms) {
  entry **e = find(h, key);
  if (*e) {
    if ((*e)->seen_ms < seen_ms) (*e)->seen_ms = seen_ms;
    return true;
  }
  entry *n = malloc(sizeof *n);
  if (!n || !(n->key = strdup(key))) {
    free(n);
    return false;
  }
  n->seen_ms = seen_ms;
  n->next = NULL;
  *e = n;
  h->count++;
  return true;
}

bool gpd_heartbeats_note(gpd_heartbeats *h, const char *key, int64_t seen_ms, int64_t lag_ms) {
  int64_t due = gpd_now_ms() + lag_ms;
  pthread_mutex_lock(&h->lock);
  bool ok = put_locked(h, key, seen_ms);
  if (ok && (h->due_ms == 0 || due < h->due_ms)) {
    h->due_ms = due;
    pthread_cond_signal(&h->cond); /* sooner than the thread planned */
  }
  pthread_mutex_unlock(&h->lock);
  return ok;
}

int64_t gpd_heartbeats_pending(gpd_heartbeats *h, const char *key) {
  pthread_mutex_lock(&h->lock);
  entry *e = *find(h, key);
  int64_t ms = e ? e->seen_ms : 0;
  pthread_mutex_unlock(&h->lock);
  return ms;
}

void gpd_heartbeats_forget(gpd_heartbeats *h, const char *key) {
  pthread_mutex_lock(&h->lock);
  entry **e = find(h, key), *gone = *e;
  if (gone) {
    *e = gone->next;
    h->count--;
    free(gone->key);
    free(gone);
  }
  pthread_mutex_unlock(&h->lock);
}

/* Takes every pending entry out of the table (as a list); the lock is held. */
static entry *take_all(gpd_heartbeats *h) {
  entry *all = NULL;
  for (size_t b = 0; h->count && b < BUCKETS; b++) {
    while (h->buckets[b]) {
      entry *e = h->buckets[b];
      h->buckets[b] = e->next;
      e->next = all;
      all = e;
      h->count--;
    }
  }
  h->count = 0;
  h->due_ms = 0;
  return all;
}

/* Stores a list of entries in chunks and frees them; what failed goes back. False on a failure. */
static bool store_all(gpd_heartbeats *h, entry *all) {
  char *keys[CHUNK];
  int64_t ms[CHUNK];
  bool ok = true;
  while (all) {
    entry *chunk = all;
    size_t n = 0;
    for (; all && n < CHUNK; all = all->next, n++) {
      keys[n] = all->key;
      ms[n] = all->seen_ms;
    }
    bool stored = ok && h->store->ops->touch_machines(h->store, keys, ms, n) == GPD_STORE_OK;
    if (!stored) ok = false;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < n; i++) {
      entry *e = chunk;
      chunk = chunk->next;
      if (!stored) put_locked(h, e->key, e->seen_ms); /* lost only when memory ran out as well */
      free(e->key);
      free(e);
    }
    pthread_mutex_unlock(&h->lock);
  }
  return ok;
}

static void flush(gpd_heartbeats *h) {
  pthread_mutex_lock(&h->lock);
  entry *all = take_all(h);
  pthread_mutex_unlock(&h->lock);
  if (store_all(h, all)) return;
  int64_t now = gpd_now_ms();
  pthread_mutex_lock(&h->lock);
  if (h->count && (h->due_ms == 0 || h->due_ms > now + RETRY_MS)) h->due_ms = now + RETRY_MS;
  bool log = now - h->last_error_log > 60000;
  if (log) h->last_error_log = now;
  pthread_mutex_unlock(&h->lock);
  if (log) gpd_log_error("heartbeats: the store did not take the machines' lastSeen; retrying every second");
}

static void *flusher(void *arg) {
  gpd_heartbeats *h = arg;
  pthread_mutex_lock(&h->lock);
  while (!h->stop) {
    int64_t now = gpd_now_ms();
    if (h->due_ms && h->due_ms <= now) {
      pthread_mutex_unlock(&h->lock);
      flush(h);
      pthread_mutex_lock(&h->lock);
      continue;
    }
    if (!h->due_ms) {
      pthread_cond_wait(&h->cond, &h->lock);
      continue;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t wait = h->due_ms - now;
    ts.tv_sec += wait / 1000;
    ts.tv_nsec += (long)(wait % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&h->cond, &h->lock, &ts);
  }
  pthread_mutex_unlock(&h->lock);
  return NULL;
}

gpd_heartbeats *gpd_heartbeats_start(gpd_store *store) {
  gpd_heartbeats *h = calloc(1, sizeof *h);
  if (!h || !(h->buckets = calloc(BUCKETS, sizeof *h->buckets))) {
    free(h);
    return NULL;
  }
  h->store = store;
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->cond, NULL);
  if (pthread_create(&h->thread, NULL, flusher, h) != 0) {
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    free(h->buckets);
    free(h);
    return NULL;
  }
  return h;
}

void gpd_heartbeats_stop(gpd_heartbeats *h) {
  if (!h) return;
  pthread_mutex_lock(&h->lock);
  h->stop = true;
  pthread_cond_signal(&h->cond);
  pthread_mutex_unlock(&h->lock);
  pthread_join(h->thread, NULL);
  flush(h); /* what arrived last is stored before the store closes */
  pthread_mutex_lock(&h->lock);
  entry *left = take_all(h); /* the store is away: nothing more to do with them */
  pthread_mutex_unlock(&h->lock);
  while (left) {
    entry *e = left;
    left = e->next;
    free(e->key);
    free(e);
  }
  pthread_mutex_destroy(&h->lock);
  pthread_cond_destroy(&h->cond);
  free(h->buckets);
  free(h);
}
