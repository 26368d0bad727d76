/* node_setup.c - what runs on the nodes of a pool: the driver, fabric manager, MIG partitioning,
 * the device plugin or the DRA driver, DCGM and its exporter, and the device plugin's MIG strategy.
 *
 * This is the one place that answers it. The policy asks it (does the managed device plugin run,
 * and so read the MIG layout in single mode?), the plan builder lists exactly these components,
 * and the agent and the disruption diff read the same answer back from a plan's JSON. */
#include <string.h>

#include "gpupool/plan.h"

bool gp_plan_mig_layout(const gp_pool *p, gp_mig_layout *out) {
  const gp_gpu_settings *e = &p->effective;
  if (!p->size || !p->size->mig || e->driver != GP_DRIVER_INSTALL) return false;
  if (e->instance_profile) return gp_mig_fill(e->instance_profile, out);
  if (e->mig_profile_count == 1 && e->mig_strategy != GP_MIG_STRATEGY_MIXED)
    return gp_mig_fill(e->mig_profiles[0], out);
  if (e->mig_profile_count) return gp_mig_place(e->mig_profiles, e->mig_profile_count, out);
  return false;
}

void gp_plan_node_setup(const gp_pool *p, gp_node_setup *out, gp_mig_layout *layout) {
  const gp_gpu_settings *e = &p->effective;
  memset(out, 0, sizeof *out);
  /* The decision matrix: no managed driver for AMD, none where the driver is None. */
  if (!p->size || p->size->vendor != GP_VENDOR_NVIDIA || e->driver != GP_DRIVER_INSTALL) return;
  bool managed = p->os_type != GP_OS_TYPE_WINDOWS && e->management_mode == GP_MGMT_MANAGED;
  out->install = managed ? GP_INSTALL_EVERYTHING : GP_INSTALL_DRIVER;
  out->driver = true;
  out->fabric_manager = p->size->fabric_manager;
  out->mig_partition = gp_plan_mig_layout(p, layout);
  if (!managed) return;
  out->dra_driver = e->driver_mode == GP_DRIVER_MODE_DRA;
  out->device_plugin = !out->dra_driver;
  out->dcgm = out->dcgm_exporter = true;
  if (out->device_plugin)
    out->plugin_strategy = !out->mig_partition                        ? GP_MIG_STRATEGY_NONE
                           : e->mig_strategy == GP_MIG_STRATEGY_MIXED ? GP_MIG_STRATEGY_MIXED
                                                                      : GP_MIG_STRATEGY_SINGLE;
}

const char *gp_plugin_strategy_name(gp_mig_strategy s) {
  switch (s) {
  case GP_MIG_STRATEGY_NONE: return GP_PLUGIN_STRATEGY_NONE;
  case GP_MIG_STRATEGY_SINGLE: return GP_PLUGIN_STRATEGY_SINGLE;
  case GP_MIG_STRATEGY_MIXED: return GP_PLUGIN_STRATEGY_MIXED;
  default: return NULL;
  }
}

/* Exact spellings only: the value goes to the plugin's command line as it is. */
static gp_mig_strategy plugin_strategy_parse(const char *s) {
  for (int v = GP_MIG_STRATEGY_NONE; v <= GP_MIG_STRATEGY_MIXED; v++)
    if (s && strcmp(s, gp_plugin_strategy_name((gp_mig_strategy)v)) == 0) return (gp_mig_strategy)v;
  return GP_MIG_STRATEGY_UNSET;
}

const char *gp_plugin_strategy_of_args(const json_t *args) {
  size_t n = json_array_size(args);
  for (size_t i = 0; i < n; i++) {
    const char *a = json_string_value(json_array_get(args, i));
    if (!a) continue;
    if (strcmp(a, GP_PLUGIN_STRATEGY_ARG) == 0) {
      const char *v = json_string_value(json_array_get(args, i + 1));
      return v ? v : "";
    }
    if (strncmp(a, GP_PLUGIN_STRATEGY_ARG "=", sizeof GP_PLUGIN_STRATEGY_ARG) == 0)
      return a + sizeof GP_PLUGIN_STRATEGY_ARG;
  }
  return GP_PLUGIN_STRATEGY_NONE;
}

/* The flag of a component name; NULL for a name that is not a plan component. */
static bool *component_flag(gp_node_setup *s, const char *name) {
  if (strcmp(name, GP_COMPONENT_DRIVER) == 0) return &s->driver;
  if (strcmp(name, GP_COMPONENT_FABRIC_MANAGER) == 0) return &s->fabric_manager;
  if (strcmp(name, GP_COMPONENT_MIG_PARTITION) == 0) return &s->mig_partition;
  if (strcmp(name, GP_COMPONENT_DEVICE_PLUGIN) == 0) return &s->device_plugin;
  if (strcmp(name, GP_COMPONENT_DRA_DRIVER) == 0) return &s->dra_driver;
  if (strcmp(name, GP_COMPONENT_DCGM) == 0) return &s->dcgm;
  if (strcmp(name, GP_COMPONENT_DCGM_EXPORTER) == 0) return &s->dcgm_exporter;
  return NULL;
}

bool gp_plan_node_setup_from_json(const json_t *plan, gp_node_setup *out) {
  json_t *list = json_object_get(plan, "components"), *c;
  size_t i;
  memset(out, 0, sizeof *out);
  if (!json_is_array(list)) return false;
  json_array_foreach(list, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    bool *flag = name ? component_flag(out, name) : NULL;
    if (!flag || *flag) goto bad; /* not a component, or listed twice */
    *flag = true;
    if (strcmp(name, GP_COMPONENT_DEVICE_PLUGIN) != 0) continue;
    json_t *args = json_object_get(c, "args");
    if (args && !json_is_null(args) && !json_is_array(args)) goto bad;
    if (!(out->plugin_strategy = plugin_strategy_parse(gp_plugin_strategy_of_args(args)))) goto bad;
  }
  if (out->driver) out->install = out->device_plugin || out->dra_driver ? GP_INSTALL_EVERYTHING : GP_INSTALL_DRIVER;
  return true;
bad:
  memset(out, 0, sizeof *out);
  return false;
}
