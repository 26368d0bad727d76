/* fleet.h - what one gpupoold replica keeps about the machines of its pools, apart from the store:
 * the coalesced heartbeats (heartbeats.h), and each pool's machines counted by state, which a pool
 * GET shows as properties.status.nodes and /metrics as gpupoold_machines{pool,state}.
 *
 * Counting is one aggregate over the pool's range of the machines table (the facts, not the
 * reports), kept here for FLEET_COUNTS_TTL_MS (fleet.c) and dropped at once when this replica writes
 * a machine of the pool: a pool GET does not scan 100,000 machines each time, and what this replica
 * just wrote shows at once. Time alone moves machines to NotReporting, and other replicas write
 * too: the counts may be that much older than the machines they count. */
#ifndef GPUPOOLD_FLEET_H
#define GPUPOOLD_FLEET_H

#include <stdbool.h>
#include <stddef.h>

#include "gpupool/machine.h"
#include "metrics.h"
#include "server.h"

typedef struct gpd_heartbeats gpd_heartbeats;

/* Sets srv->fleet (the heartbeats' thread runs from here on). False with the reason in err. */
bool gpd_fleet_start(gpd_server *srv, char *err, size_t errlen);
/* Flushes the heartbeats (the store must still be open) and frees. */
void gpd_fleet_stop(gpd_server *srv);
gpd_heartbeats *gpd_fleet_heartbeats(const gpd_server *srv);

/* The machines of a pool by state (cached, see above). False when the store failed. */
bool gpd_fleet_pool_counts(const gpd_server *srv, const char *pool_key, gp_machine_counts *out);
/* This replica wrote or deleted a machine of the pool: its counts are read again. */
void gpd_fleet_changed(const gpd_server *srv, const char *pool_key);

/* The /metrics collector (metrics.h) of the gauge gpupoold_machines{pool="<pool id>",state="<state>"}:
 * every state of every pool that has machines. False when the store failed. */
bool gpd_fleet_collect(const gpd_server *srv, gpd_metrics_out *o);

#endif
