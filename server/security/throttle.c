/* throttle.c - token buckets per principal (see throttle.h). One hash table under one mutex: a
 * request holds it for a lookup and a few multiplications. Buckets that have refilled completely
 * are forgotten when the table grows, so its size follows the principals active in the last 10 s. */
#include "security/throttle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024
#define SWEEP_AT 8192 /* entries before full buckets are dropped */

typedef struct entry {
  struct entry *next;
  double tokens[2]; /* read, write */
  int64_t last_ns;
  char name[];
} entry;

struct gpd_throttle {
  pthread_mutex_t mu;
  double rate[2], burst[2];
  entry *table[NBUCKETS];
  size_t count;
};

gpd_throttle *gpd_throttle_new(double read_rate, double write_rate) {
  gpd_throttle *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  pthread_mutex_init(&t->mu, NULL);
  t->rate[0] = read_rate;
  t->rate[1] = write_rate;
  for (int k = 0; k < 2; k++)
    t->burst[k] = t->rate[k] * GPD_THROTTLE_BURST_S < 1.0 ? 1.0 : t->rate[k] * GPD_THROTTLE_BURST_S;
  return t;
}

void gpd_throttle_free(gpd_throttle *t) {
  if (!t) return;
  for (size_t i = 0; i < NBUCKETS; i++)
    for (entry *e = t->table[i], *next; e; e = next) {
      next = e->next;
      free(e);
    }
  pthread_mutex_destroy(&t->mu);
  free(t);
}

static size_t hash(const char *s) {
  size_t h = 5381; /* djb2: the names are our own principals, not chosen to collide */
  for (; *s; s++)
    h = h * 33 + (unsigned char)*s;
  return h % NBUCKETS;
}

static void refill(const gpd_throttle *t, entry *e, int64_t now_ns) {
  double dt = (double)(now_ns - e->last_ns) / 1e9;
  if (dt <= 0) return;
  for (int k = 0; k < 2; k++) {
    double v = e->tokens[k] + dt * t->rate[k];
    e->tokens[k] = v < t->burst[k] ? v : t->burst[k];
  }
  e->last_ns = now_ns;
}

/* Drops entries whose buckets are full again: they would be recreated exactly as they are. */
static void sweep(gpd_throttle *t, int64_t now_ns) {
  for (size_t i = 0; i < NBUCKETS; i++)
    for (entry **pe = &t->table[i]; *pe;) {
      entry *e = *pe;
      refill(t, e, now_ns);
      if (e->tokens[0] >= t->burst[0] && e->tokens[1] >= t->burst[1]) {
        *pe = e->next;
        free(e);
        t->count--;
      } else {
        pe = &e->next;
      }
    }
}

int gpd_throttle_take(gpd_throttle *t, const char *principal, bool write, int64_t now_ns) {
  int k = write ? 1 : 0, wait = 0;
  if (!t || t->rate[k] <= 0) return 0;
  pthread_mutex_lock(&t->mu);
  size_t h = hash(principal);
  entry *e = t->table[h];
  while (e && strcmp(e->name, principal) != 0)
    e = e->next;
  if (!e) {
    if (t->count >= SWEEP_AT) sweep(t, now_ns);
    size_t n = strlen(principal) + 1;
    if (!(e = malloc(sizeof *e + n))) { /* no memory for a bucket: let the request through */
      pthread_mutex_unlock(&t->mu);
      return 0;
    }
    memcpy(e->name, principal, n);
    e->tokens[0] = t->burst[0];
    e->tokens[1] = t->burst[1];
    e->last_ns = now_ns;
    e->next = t->table[h];
    t->table[h] = e;
    t->count++;
  }
  refill(t, e, now_ns);
  if (e->tokens[k] >= 1.0) {
    e->tokens[k] -= 1.0;
  } else { /* whole seconds, rounded up, as Retry-After wants */
    double secs = (1.0 - e->tokens[k]) / t->rate[k];
    wait = secs >= 3600 ? 3600 : (int)secs;
    if ((double)wait < secs && wait < 3600) wait++;
    if (wait < 1) wait = 1;
  }
  pthread_mutex_unlock(&t->mu);
  return wait;
}
