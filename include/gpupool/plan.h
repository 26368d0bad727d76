/* plan.h - the install plan of a pool (SPEC §6): effective values with their sources, components
 * with versions and args, the MIG layout per GPU, node labels, allocatable, decisions, warnings. */
#ifndef GPUPOOL_PLAN_H
#define GPUPOOL_PLAN_H

#include <jansson.h>
#include <stdint.h>

#include "gpupool/mig.h"
#include "gpupool/policy.h"
#include "gpupool/pool.h"

/* Names of the plan's components (`components[].name`, and the component column of
 * data/components.csv). Code names a component only through these, so that renaming one fails to
 * compile wherever it is used instead of drifting. */
#define GP_COMPONENT_DRIVER "nvidia-driver"
#define GP_COMPONENT_FABRIC_MANAGER "nvidia-fabricmanager"
#define GP_COMPONENT_MIG_PARTITION "mig-partition"
#define GP_COMPONENT_DEVICE_PLUGIN "nvidia-device-plugin"
#define GP_COMPONENT_DRA_DRIVER "nvidia-dra-driver"
#define GP_COMPONENT_DCGM "nvidia-dcgm"
#define GP_COMPONENT_DCGM_EXPORTER "dcgm-exporter"

/* The device plugin's --mig-strategy values (also the value of the nvidia.com/mig.strategy node
 * label); "none", the plugin's default, is what a plugin without the argument runs with. */
#define GP_PLUGIN_STRATEGY_ARG "--mig-strategy"
#define GP_PLUGIN_STRATEGY_NONE "none"
#define GP_PLUGIN_STRATEGY_SINGLE "single"
#define GP_PLUGIN_STRATEGY_MIXED "mixed"

/* The plan JSON of a pool accepted by gp_policy_apply_pool under ctx. NULL on OOM only. */
json_t *gp_plan_build(const gp_pool *p, const gp_policy_context *ctx, int64_t generation);

/* The per-GPU MIG layout of a pool; false when the pool has none. */
bool gp_plan_mig_layout(const gp_pool *p, gp_mig_layout *out);

#endif
