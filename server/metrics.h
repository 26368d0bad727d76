/* metrics.h - request counters and latency histograms for GET /metrics (Prometheus text format),
 * plus the store's counts (operations by state, pools by effective management mode). */
#ifndef GPUPOOLD_METRICS_H
#define GPUPOOLD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct gpd_metrics gpd_metrics;

gpd_metrics *gpd_metrics_new(void);
void gpd_metrics_free(gpd_metrics *m);
/* Lock-free: called once per answered request. */
void gpd_metrics_observe(gpd_metrics *m, int route, int method, int status, int64_t duration_ns);
/* The exposition text (malloc'd), NULL on OOM. stats may be NULL when the store did not answer. */
char *gpd_metrics_render(gpd_metrics *m, const gpd_store_stats *stats, size_t *len);

#endif
