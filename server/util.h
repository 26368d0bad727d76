/* util.h - small helpers of gpupoold: random ids, clocks and ARM timestamps, lowercase copies. */
#ifndef GPUPOOLD_UTIL_H
#define GPUPOOLD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GPD_UUID_LEN 36

/* A random (version 4) UUID, lowercase, into out[GPD_UUID_LEN + 1]. */
void gpd_uuid(char *out);
/* The ETag of a plan (unquoted) into out[GPD_PLAN_ETAG_MAX]: "<generation>-<16 hex>", the generation
 * readable, the hex an FNV-1a hash of the rest of what identifies the answer: the incarnation of
 * what the plan belongs to (a pool; a machine, for its own plan) and extra (a machine plan's rollout
 * settings; NULL: none). Within an incarnation a generation names one content (a PUT that leaves the
 * plan as it was makes none), so equal ETags mean the same plan, and a pool deleted and created again
 * never matches an ETag of the old one. Stored values only: every replica computes the same. */
#define GPD_PLAN_ETAG_MAX 48
void gpd_plan_etag(const char *incarnation, int64_t generation, const char *extra, char *out, size_t size);
/* Wall clock in milliseconds since the epoch. */
int64_t gpd_now_ms(void);
/* Monotonic clock in nanoseconds (durations). */
int64_t gpd_mono_ns(void);
/* ISO 8601 UTC with milliseconds ("2026-11-26T18:40:31.123Z") into buf (>= 32 bytes). */
void gpd_format_time(int64_t ms, char *buf, size_t size);
/* ASCII-lowercased copy (NULL on OOM). */
char *gpd_lower_dup(const char *s);
/* strdup that keeps NULL. */
char *gpd_strdup(const char *s);

#endif
