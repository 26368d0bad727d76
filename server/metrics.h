/* metrics.h - GET /metrics in Prometheus text format: request counters and latency histograms
 * (counted by the HTTP layer, lock-free), the process's gauges (open connections, connections
 * closed by --header-timeout, held long-polls), and the store's gauges (operations by status, pools
 * by effective management mode).
 *
 * The store's gauges cost a scan of the store, so they are computed at most once every
 * GPD_METRICS_STORE_TTL_MS, by one scrape, while concurrent scrapes get the figures of the last
 * one: a flood of scrapes costs the store one scan a second, whatever its size.
 *
 * Gauges computed from the store are collectors (a function that queries the store and writes its
 * families with gpd_metrics_family / gpd_metrics_sample), listed in store_collectors[] in metrics.c
 * and cached together: operations and pools here, machines by pool and state in fleet.c. */
#ifndef GPUPOOLD_METRICS_H
#define GPUPOOLD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"

#define GPD_METRICS_STORE_TTL_MS 1000

typedef struct gpd_metrics gpd_metrics;
typedef struct gpd_metrics_out gpd_metrics_out; /* exposition text being written */

gpd_metrics *gpd_metrics_new(void);
void gpd_metrics_free(gpd_metrics *m);
/* Lock-free: called once per answered request. duration_ns < 0: counted, not timed (a held long-poll). */
void gpd_metrics_observe(gpd_metrics *m, int route, int method, int status, int64_t duration_ns);
/* The exposition text (malloc'd), NULL on OOM. */
char *gpd_metrics_render(gpd_metrics *m, gpd_server *srv, size_t *len);

/* ---- writing families (collectors) ---- */
/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void gpd_metrics_family(gpd_metrics_out *o, const char *name, const char *type, const char *help);
/* One sample: name{label="value",...} value. Labels are name/value pairs ending with NULL; values
 * are escaped as the format wants (backslash, quote, newline), so any text may be a label value. */
void gpd_metrics_sample(gpd_metrics_out *o, const char *name, double value, ...);
/* A collector of store gauges: false when the store did not answer (the rest is still shown). */
typedef bool (*gpd_metrics_collector)(const gpd_server *srv, gpd_metrics_out *o);

#endif
