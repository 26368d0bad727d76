/* plan.h - the install plan of a pool (SPEC §6): effective values with their sources, components
 * with versions and args, the MIG layout per GPU, node labels, allocatable, decisions, warnings. */
#ifndef GPUPOOL_PLAN_H
#define GPUPOOL_PLAN_H

#include <jansson.h>
#include <stdint.h>

#include "gpupool/mig.h"
#include "gpupool/policy.h"
#include "gpupool/pool.h"

/* The plan JSON of a pool accepted by gp_policy_apply_pool under ctx. NULL on OOM only. */
json_t *gp_plan_build(const gp_pool *p, const gp_policy_context *ctx, int64_t generation);

/* The per-GPU MIG layout of a pool; false when the pool has none. */
bool gp_plan_mig_layout(const gp_pool *p, gp_mig_layout *out);

#endif
