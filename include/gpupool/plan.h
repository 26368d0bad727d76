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

/* The decision-matrix cell of a pool: which GPU software its nodes get. */
typedef enum {
  GP_INSTALL_NOTHING = 0, /* no GPU software: CPU-only sizes, AMD GPUs, driver None */
  GP_INSTALL_DRIVER,      /* the driver (+ fabric manager and MIG partitioning where they apply): Unmanaged, Windows */
  GP_INSTALL_EVERYTHING   /* + the device plugin or the DRA driver, DCGM and the DCGM exporter: Managed */
} gp_install_set;

/* What runs on a node: one flag per plan component, and how the device plugin reads MIG devices. */
typedef struct {
  gp_install_set install;
  bool driver;         /* GP_COMPONENT_DRIVER */
  bool fabric_manager; /* GP_COMPONENT_FABRIC_MANAGER: sizes whose GPUs are joined by NVSwitch */
  bool mig_partition;  /* GP_COMPONENT_MIG_PARTITION: the GPUs run in MIG mode with the pool's layout */
  bool device_plugin;  /* GP_COMPONENT_DEVICE_PLUGIN */
  bool dra_driver;     /* GP_COMPONENT_DRA_DRIVER (instead of the device plugin) */
  bool dcgm;           /* GP_COMPONENT_DCGM */
  bool dcgm_exporter;  /* GP_COMPONENT_DCGM_EXPORTER */
  /* The device plugin's --mig-strategy: UNSET without a device plugin, NONE without MIG
   * partitioning (no argument), else SINGLE or MIXED. */
  gp_mig_strategy plugin_strategy;
} gp_node_setup;

/* What runs on the nodes of a pool, from its effective values and its VM size: the one answer the
 * policy, the plan builder, the agent and the disruption diff share. layout (may be NULL) receives
 * the per-GPU MIG layout when out->mig_partition. */
void gp_plan_node_setup(const gp_pool *p, gp_node_setup *out, gp_mig_layout *layout);

/* The same answer read back from a plan's JSON (its components and the device plugin's args); for a
 * plan gp_plan_build made, equal to gp_plan_node_setup of its pool. false (out zeroed) when the plan
 * has no components array, an entry without a known component name, a component listed twice, or
 * a device plugin whose --mig-strategy is not none, single or mixed. */
bool gp_plan_node_setup_from_json(const json_t *plan, gp_node_setup *out);

/* The --mig-strategy value of a device plugin's args (a JSON array of strings; NULL = no args):
 * "--mig-strategy V" or "--mig-strategy=V" gives V ("" when V is missing), no such argument gives
 * GP_PLUGIN_STRATEGY_NONE. Borrowed from args; not checked (gp_plan_node_setup_from_json checks). */
const char *gp_plugin_strategy_of_args(const json_t *args);
/* GP_PLUGIN_STRATEGY_NONE/_SINGLE/_MIXED for NONE/SINGLE/MIXED; NULL for UNSET. */
const char *gp_plugin_strategy_name(gp_mig_strategy s);

/* The per-GPU MIG layout of a pool; false when the pool has none. */
bool gp_plan_mig_layout(const gp_pool *p, gp_mig_layout *out);

/* The plan JSON of a pool accepted by gp_policy_apply_pool under ctx. NULL on OOM only. */
json_t *gp_plan_build(const gp_pool *p, const gp_policy_context *ctx, int64_t generation);

#endif
