/* policy_internal.h - helpers shared by the pool and cluster policies (internal). */
#ifndef GPUPOOL_POLICY_INTERNAL_H
#define GPUPOOL_POLICY_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "gpupool/policy.h"

/* Appends msg to w once (NULL w: ignored). */
void gpp_warn(gp_warnings *w, const char *msg);
/* Does a pool's tags carry EnableManagedGPUExperience=true (key and value in any case)? */
bool gpp_legacy_tag(const json_t *tags);

#endif
