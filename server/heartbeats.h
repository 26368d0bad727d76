/* heartbeats.h - machine reports that change nothing but lastSeen, coalesced.
 *
 * Most reports of a node agent say what the last one said: only the time moves. Writing each one
 * durably would make the fleet's heartbeat the store's load (100,000 nodes every 60 s: 1,700
 * commits a second). So such a report is remembered here, in this replica's memory, and the
 * remembered times are stored together, one transaction per batch, at most lag_ms after the first
 * of them arrived (lag_ms = min(--report-coalesce-ms, the machine's interval, 30 s):
 * gp_machine_lag_ms). Every replica flushes its own, so on PostgreSQL the lag also bounds how stale
 * another replica's view is; a machine is NotReporting only after 3 x its interval + that lag.
 * A replica that stops flushes what it holds; one that dies loses at most lag_ms of lastSeen. */
#ifndef GPUPOOLD_HEARTBEATS_H
#define GPUPOOLD_HEARTBEATS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

typedef struct gpd_heartbeats gpd_heartbeats;

/* Starts the flushing thread. NULL when it cannot. */
gpd_heartbeats *gpd_heartbeats_start(gpd_store *store);
/* Flushes what is pending, stops the thread, frees. */
void gpd_heartbeats_stop(gpd_heartbeats *h);
/* Remembers that the machine with this key reported at seen_ms, to be stored within lag_ms. False
 * when memory ran out (the caller then stores it itself). */
bool gpd_heartbeats_note(gpd_heartbeats *h, const char *key, int64_t seen_ms, int64_t lag_ms);
/* The newest lastSeen of key held here and not stored yet, 0 when none. */
int64_t gpd_heartbeats_pending(gpd_heartbeats *h, const char *key);
/* Drops what is held for key (the machine was deleted). */
void gpd_heartbeats_forget(gpd_heartbeats *h, const char *key);

#endif
