/* throttle.h - per-principal token buckets for reads and writes (--throttle-reads/--throttle-writes),
 * the way ARM throttles: a bucket holds 10 seconds of its rate (ARM's buckets: 250 reads at 25/s),
 * a request takes one token, an empty bucket answers 429 TooManyRequests with Retry-After. */
#ifndef GPUPOOLD_THROTTLE_H
#define GPUPOOLD_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#define GPD_THROTTLE_BURST_S 10.0

typedef struct gpd_throttle gpd_throttle;

/* Rates in requests per second; 0 leaves that kind unthrottled. NULL when out of memory. */
gpd_throttle *gpd_throttle_new(double read_rate, double write_rate);
void gpd_throttle_free(gpd_throttle *t);
/* Takes a token from the principal's read or write bucket at time now_ns (monotonic). Returns 0
 * when the request may run, else the whole seconds until a token is there (Retry-After, >= 1). */
int gpd_throttle_take(gpd_throttle *t, const char *principal, bool write, int64_t now_ns);

#endif
