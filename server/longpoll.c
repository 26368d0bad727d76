/* longpoll.c - held requests: a table of suspended connections by key, a heap of their deadlines,
 * and one thread that waits for the earliest deadline and for held sockets the client closed
 * (EPOLLRDHUP in an epoll set of its own: libmicrohttpd does not watch a suspended connection).
 *
 * Every held request has a slot; epoll events carry the slot's index and generation, never a
 * pointer, so an event for a request released meanwhile is recognised and ignored. A socket is
 * taken out of the epoll set before its connection is resumed, and libmicrohttpd closes nothing
 * it has suspended, so no closed or reused descriptor is ever touched.
 *
 * Lost wake-ups: every wake gets a sequence number, kept per key bucket (and for "*"). The HTTP
 * layer notes the sequence before the handler reads its state; if a wake of the key's bucket came
 * since, gpd_longpoll_suspend answers "run again" instead of holding. Buckets are shared by keys
 * of the same hash: a collision costs one re-check, never a missed change. */
#include "longpoll.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "util.h"

#define NBUCKETS 16384
#define MAX_EVENTS 256
#define DEADLINE_TICK_NS 100000000LL /* 0.1 s */

typedef struct {
  struct MHD_Connection *conn;
  gpd_hold *hold;
  int fd;
  bool watched; /* fd is in the epoll set */
  uint32_t gen;
  uint32_t bucket;
  int32_t prev, next; /* bucket chain, or the free list (next) */
  size_t heap_i;
} slot;

struct gpd_longpoll {
  pthread_mutex_t mu;
  pthread_t thread;
  bool thread_started, quit;
  atomic_bool stopping;
  int epfd, evfd;
  _Atomic uint64_t seq; /* wakes so far (written under mu, read without it) */
  uint64_t all_seq;
  uint64_t bucket_seq[NBUCKETS];
  int32_t bucket_head[NBUCKETS];
  slot *slots;
  size_t nslots, cap;
  int32_t free_head;
  int32_t *heap; /* slot indices, earliest deadline first */
  size_t nheap;
  atomic_size_t held;
};

static uint32_t hash_key(const char *k) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (; *k; k++)
    h = (h ^ (unsigned char)*k) * 16777619u;
  return h % NBUCKETS;
}

static int64_t deadline_of(const gpd_longpoll *lp, size_t heap_i) {
  return lp->slots[lp->heap[heap_i]].hold->deadline_ns;
}

static void heap_swap(gpd_longpoll *lp, size_t a, size_t b) {
  int32_t t = lp->heap[a];
  lp->heap[a] = lp->heap[b];
  lp->heap[b] = t;
  lp->slots[lp->heap[a]].heap_i = a;
  lp->slots[lp->heap[b]].heap_i = b;
}

static void heap_up(gpd_longpoll *lp, size_t i) {
  while (i > 0 && deadline_of(lp, (i - 1) / 2) > deadline_of(lp, i)) {
    heap_swap(lp, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static void heap_down(gpd_longpoll *lp, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < lp->nheap && deadline_of(lp, l) < deadline_of(lp, m)) m = l;
    if (r < lp->nheap && deadline_of(lp, r) < deadline_of(lp, m)) m = r;
    if (m == i) return;
    heap_swap(lp, i, m);
    i = m;
  }
}

static void heap_remove(gpd_longpoll *lp, size_t i) {
  lp->nheap--;
  if (i == lp->nheap) return;
  int32_t moved = lp->heap[lp->nheap];
  lp->heap[i] = moved;
  lp->slots[moved].heap_i = i;
  heap_up(lp, i);
  heap_down(lp, lp->slots[moved].heap_i);
}

/* A free slot (growing the table), or -1 when out of memory. */
static int32_t slot_take(gpd_longpoll *lp) {
  if (lp->free_head < 0) {
    size_t cap = lp->cap ? lp->cap * 2 : 1024;
    slot *s = realloc(lp->slots, cap * sizeof *s);
    if (!s) return -1;
    lp->slots = s;
    int32_t *h = realloc(lp->heap, cap * sizeof *h);
    if (!h) return -1;
    lp->heap = h;
    for (size_t i = cap; i-- > lp->cap;) {
      memset(&lp->slots[i], 0, sizeof lp->slots[i]);
      lp->slots[i].next = lp->free_head;
      lp->free_head = (int32_t)i;
    }
    lp->cap = cap;
  }
  int32_t i = lp->free_head;
  lp->free_head = lp->slots[i].next;
  return i;
}

/* Takes slot i out of everything, tells its request why, and resumes its connection. */
static void release(gpd_longpoll *lp, int32_t i, gpd_hold_why why) {
  slot *s = &lp->slots[i];
  if (s->watched) epoll_ctl(lp->epfd, EPOLL_CTL_DEL, s->fd, NULL);
  if (s->prev >= 0)
    lp->slots[s->prev].next = s->next;
  else
    lp->bucket_head[s->bucket] = s->next;
  if (s->next >= 0) lp->slots[s->next].prev = s->prev;
  heap_remove(lp, s->heap_i);
  struct MHD_Connection *conn = s->conn;
  s->hold->why = why;
  s->hold->slot = -1;
  s->conn = NULL;
  s->hold = NULL;
  s->gen++;
  s->next = lp->free_head;
  lp->free_head = i;
  atomic_fetch_sub(&lp->held, 1);
  MHD_resume_connection(conn);
}

static void *watch_main(void *arg) {
  gpd_longpoll *lp = arg;
  struct epoll_event ev[MAX_EVENTS];
  pthread_mutex_lock(&lp->mu);
  while (!lp->quit) {
    int timeout = -1;
    if (lp->nheap) {
      /* Deadlines are kept in ticks of DEADLINE_TICK_NS (rounded up: never early): libmicrohttpd
       * 0.9.75 walks every suspended connection of a worker thread each time it resumes any, so
       * connections resumed together cost one walk, not one each. */
      int64_t now = gpd_mono_ns(), due = deadline_of(lp, 0);
      due += (DEADLINE_TICK_NS - due % DEADLINE_TICK_NS) % DEADLINE_TICK_NS;
      int64_t left = due - now;
      timeout = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
    }
    pthread_mutex_unlock(&lp->mu);
    int n = epoll_wait(lp->epfd, ev, MAX_EVENTS, timeout);
    pthread_mutex_lock(&lp->mu);
    for (int k = 0; k < n; k++) {
      if (ev[k].data.u64 == UINT64_MAX) {
        uint64_t v;
        if (read(lp->evfd, &v, sizeof v) < 0 && errno != EAGAIN)
          gpd_log_error("long-poll: eventfd: %s", strerror(errno));
        continue;
      }
      int32_t i = (int32_t)(ev[k].data.u64 & 0xffffffffu);
      uint32_t gen = (uint32_t)(ev[k].data.u64 >> 32);
      if (i >= 0 && (size_t)i < lp->cap && lp->slots[i].hold && lp->slots[i].gen == gen) release(lp, i, GPD_HOLD_GONE);
    }
    int64_t now = gpd_mono_ns();
    while (lp->nheap && deadline_of(lp, 0) <= now)
      release(lp, lp->heap[0], GPD_HOLD_DEADLINE);
  }
  pthread_mutex_unlock(&lp->mu);
  return NULL;
}

gpd_longpoll *gpd_longpoll_new(void) {
  gpd_longpoll *lp = calloc(1, sizeof *lp);
  if (!lp) return NULL;
  pthread_mutex_init(&lp->mu, NULL);
  lp->free_head = -1;
  for (size_t b = 0; b < NBUCKETS; b++)
    lp->bucket_head[b] = -1;
  lp->epfd = epoll_create1(EPOLL_CLOEXEC);
  lp->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  struct epoll_event e = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
  if (lp->epfd < 0 || lp->evfd < 0 || epoll_ctl(lp->epfd, EPOLL_CTL_ADD, lp->evfd, &e) != 0 ||
      pthread_create(&lp->thread, NULL, watch_main, lp) != 0) {
    gpd_longpoll_free(lp);
    return NULL;
  }
  lp->thread_started = true;
  return lp;
}

static void kick(gpd_longpoll *lp) {
  uint64_t one = 1;
  if (write(lp->evfd, &one, sizeof one) < 0 && errno != EAGAIN)
    gpd_log_error("long-poll: eventfd: %s", strerror(errno));
}

void gpd_longpoll_wake(gpd_longpoll *lp, const char *key) {
  if (!lp || !key) return;
  pthread_mutex_lock(&lp->mu);
  uint64_t seq = atomic_fetch_add(&lp->seq, 1) + 1;
  if (strcmp(key, "*") == 0) {
    lp->all_seq = seq;
    while (lp->nheap)
      release(lp, lp->heap[0], GPD_HOLD_WOKEN);
  } else {
    uint32_t b = hash_key(key);
    lp->bucket_seq[b] = seq;
    for (int32_t i = lp->bucket_head[b], next; i >= 0; i = next) {
      next = lp->slots[i].next;
      if (strcmp(lp->slots[i].hold->key, key) == 0) release(lp, i, GPD_HOLD_WOKEN);
    }
  }
  pthread_mutex_unlock(&lp->mu);
}

void gpd_longpoll_stop(gpd_longpoll *lp) {
  if (!lp) return;
  pthread_mutex_lock(&lp->mu);
  atomic_store(&lp->stopping, true);
  while (lp->nheap)
    release(lp, lp->heap[0], GPD_HOLD_STOPPING);
  pthread_mutex_unlock(&lp->mu);
}

size_t gpd_longpoll_held(gpd_longpoll *lp) { return lp ? atomic_load(&lp->held) : 0; }

void gpd_longpoll_free(gpd_longpoll *lp) {
  if (!lp) return;
  if (lp->thread_started) {
    pthread_mutex_lock(&lp->mu);
    lp->quit = true;
    pthread_mutex_unlock(&lp->mu);
    kick(lp);
    pthread_join(lp->thread, NULL);
  }
  if (lp->epfd >= 0) close(lp->epfd);
  if (lp->evfd >= 0) close(lp->evfd);
  pthread_mutex_destroy(&lp->mu);
  free(lp->slots);
  free(lp->heap);
  free(lp);
}

/* ---- requests ---------------------------------------------------------------------------------- */

void gpd_hold_init(gpd_hold *h, int64_t started_ns) {
  memset(h, 0, sizeof *h);
  h->started_ns = started_ns;
  h->slot = -1;
}

void gpd_hold_clear(gpd_hold *h) {
  free(h->key);
  h->key = NULL;
}

void gpd_longpoll_begin(gpd_longpoll *lp, gpd_hold *h) {
  h->wanted = false;
  /* A wake counted after this load is seen by gpd_longpoll_suspend; one counted before it was
   * counted after its change was committed, so the handler's reads see that change. */
  if (lp) h->epoch = atomic_load(&lp->seq);
}

bool gpd_longpoll_hold(gpd_request *r, const char *key, int wait_s) {
  gpd_hold *h = r->hold;
  gpd_longpoll *lp = r->srv ? r->srv->longpoll : NULL;
  if (!h || !lp || !key || wait_s <= 0 || h->refused || atomic_load(&lp->stopping)) return false;
  if (!h->deadline_ns) h->deadline_ns = h->started_ns + (int64_t)wait_s * 1000000000;
  if (gpd_mono_ns() >= h->deadline_ns) return false;
  if (!h->key || strcmp(h->key, key) != 0) {
    free(h->key);
    if (!(h->key = strdup(key))) return false;
  }
  h->wanted = true;
  return true;
}

bool gpd_longpoll_suspend(gpd_longpoll *lp, gpd_hold *h, struct MHD_Connection *conn) {
  h->wanted = false;
  if (!lp || !h->key) {
    h->refused = true;
    return false;
  }
  pthread_mutex_lock(&lp->mu);
  uint32_t b = hash_key(h->key);
  if (atomic_load(&lp->stopping)) {
    h->refused = true;
    pthread_mutex_unlock(&lp->mu);
    return false;
  }
  if (lp->bucket_seq[b] > h->epoch || lp->all_seq > h->epoch) { /* woken while it looked: look again */
    pthread_mutex_unlock(&lp->mu);
    return false;
  }
  int32_t i = slot_take(lp);
  if (i < 0) {
    h->refused = true;
    pthread_mutex_unlock(&lp->mu);
    return false;
  }
  slot *s = &lp->slots[i];
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  s->conn = conn;
  s->hold = h;
  s->fd = ci ? ci->connect_fd : -1;
  s->bucket = b;
  s->prev = -1;
  s->next = lp->bucket_head[b];
  if (s->next >= 0) lp->slots[s->next].prev = i;
  lp->bucket_head[b] = i;
  struct epoll_event e = {.events = EPOLLRDHUP, .data.u64 = ((uint64_t)s->gen << 32) | (uint32_t)i};
  /* Without the watch a client that leaves is noticed only at the deadline: still correct. */
  s->watched = s->fd >= 0 && epoll_ctl(lp->epfd, EPOLL_CTL_ADD, s->fd, &e) == 0;
  s->heap_i = lp->nheap;
  lp->heap[lp->nheap++] = i;
  heap_up(lp, s->heap_i);
  bool earliest = lp->heap[0] == i;
  h->slot = i;
  h->was_held = true;
  atomic_fetch_add(&lp->held, 1);
  MHD_suspend_connection(conn);
  pthread_mutex_unlock(&lp->mu);
  if (earliest) kick(lp); /* the thread may be sleeping until a later deadline */
  return true;
}
