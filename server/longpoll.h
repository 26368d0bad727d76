/* longpoll.h - holding a request, without a thread, until what it waits for changes (long-poll).
 *
 * HANDLERS (this is all a handler needs; e.g. GET …/plan?waitSeconds=N with If-None-Match):
 *
 *     if (the client's state is still current) {
 *       if (wait_s > 0 && gpd_longpoll_hold(r, key, wait_s)) return;   // held: answer nothing now
 *       ...answer "unchanged" (304)...
 *     }
 *     ...answer the new state (200)...
 *
 *   gpd_longpoll_hold(r, key, wait_s) asks the HTTP layer to keep the request open until
 *   gpd_longpoll_wake(lp, key) is called or wait_s seconds after the request arrived. Then the
 *   handler runs AGAIN, on fresh state, with the same gpd_request (path, query, headers, caller;
 *   authentication, throttling and authorization do not run again) and decides again: changed ->
 *   answer it; unchanged -> call gpd_longpoll_hold again (held again, same deadline: a wake of a key
 *   that many requests share costs each of them one re-check); once the deadline has passed,
 *   gpd_longpoll_hold returns false and the handler answers "unchanged". A handler never needs to
 *   know why it runs. It returns false too when wait_s <= 0, the server is stopping, or the request
 *   cannot be held (out of memory): answer "unchanged" at once. Since it runs again, a handler must
 *   change nothing before it holds (a GET), and leave resp empty when gpd_longpoll_hold returns true.
 *
 *   Keys are strings the waker and the handler agree on: "<kind>:<store key>", e.g.
 *   "plan:<pool key>" (GPD_CHANGE_PLAN in store/store.h). A handler may wait on a broader key than
 *   its own (a machine's plan on its pool's plan key): it re-checks and holds again.
 *
 * WAKERS: gpd_longpoll_wake(lp, key) (lp is srv->longpoll) from any thread; "*" wakes every held
 *   request (used when change notices may have been lost). main.c connects the store's change
 *   notices (store.h, `watch`: SQLite in process, PostgreSQL through LISTEN/NOTIFY, so a change
 *   made through another replica wakes this one's waiters too) to gpd_longpoll_wake. A new kind of
 *   change is published by the store write that makes it (see store.h).
 *
 * GUARANTEES
 *   - No lost wake-up: a wake of the key after the handler began this run (even before it called
 *     gpd_longpoll_hold) makes it run again at once instead of waiting.
 *   - A held request costs no thread and no timer of its own: its connection is suspended in
 *     libmicrohttpd (MHD_suspend_connection) and one thread here watches every deadline and every
 *     held socket; a client that disconnects frees its slot at once (its handler does not run
 *     again). Held requests are not closed by --header-timeout or --idle-timeout; they count as
 *     open connections in --max-connections and --max-connections-per-ip.
 *   - gpd_longpoll_stop (server stop): every held request runs its handler once more with holding
 *     refused (so it gets its "unchanged" answer) and no request is held from then on.
 *
 * THE HTTP LAYER (http.c) keeps one gpd_hold per request and, around each run of the handler:
 * gpd_longpoll_begin before it; gpd_longpoll_suspend after it when the handler asked to hold. */
#ifndef GPUPOOLD_LONGPOLL_H
#define GPUPOOLD_LONGPOLL_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "request.h"

typedef struct gpd_longpoll gpd_longpoll;

/* Why a held request runs again. */
typedef enum { GPD_HOLD_NEW = 0, GPD_HOLD_WOKEN, GPD_HOLD_DEADLINE, GPD_HOLD_GONE, GPD_HOLD_STOPPING } gpd_hold_why;

/* One request's long-poll state, kept by the HTTP layer (handlers use gpd_longpoll_hold only). */
typedef struct gpd_hold {
  int64_t started_ns;  /* when the request arrived */
  int64_t deadline_ns; /* 0 until the first hold */
  uint64_t epoch;      /* wakes before this run of the handler began */
  char *key;           /* what it waits on */
  bool wanted;         /* the handler asked to hold in this run */
  bool refused;        /* holding is not possible: the handler answers now */
  bool was_held;       /* it was held at least once */
  gpd_hold_why why;
  int32_t slot; /* while held: its slot here; -1 otherwise */
} gpd_hold;

/* ---- handlers ---- */
bool gpd_longpoll_hold(gpd_request *r, const char *key, int wait_s);

/* ---- wakers and the server ---- */
gpd_longpoll *gpd_longpoll_new(void);
void gpd_longpoll_wake(gpd_longpoll *lp, const char *key);
/* Releases every held request (their handlers answer "unchanged") and refuses holding from now on. */
void gpd_longpoll_stop(gpd_longpoll *lp);
/* Requests held now. */
size_t gpd_longpoll_held(gpd_longpoll *lp);
void gpd_longpoll_free(gpd_longpoll *lp);

/* ---- the HTTP layer ---- */
void gpd_hold_init(gpd_hold *h, int64_t started_ns);
void gpd_hold_clear(gpd_hold *h);
/* Before each run of the handler: notes the wakes so far (lp may be NULL: no long-polls). */
void gpd_longpoll_begin(gpd_longpoll *lp, gpd_hold *h);
/* After a run that asked to hold: true when conn is now suspended and held (return without
 * answering); false when the handler must run again now (a wake raced it, or holding is refused:
 * h->refused then says so). */
bool gpd_longpoll_suspend(gpd_longpoll *lp, gpd_hold *h, struct MHD_Connection *conn);

#endif
