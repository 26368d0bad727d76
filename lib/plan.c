/* plan.c - the install plan of a pool (SPEC §6): what gets installed on its nodes, with versions,
 * args, MIG layout, node labels, allocatable resources, the decisions behind them and warnings.
 *
 * The plan is derived only from the pool's effective values and the catalog, so the same pool
 * under the same context always gives the same plan. What runs on the nodes is decided once, by
 * gp_plan_node_setup (node_setup.c); gp_plan_build turns that answer into the plan's members, one
 * step a member, in the order the plan shows them. */
#include "gpupool/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpupool/catalog.h"
#include "json_util.h"
#include "policy_internal.h"

#define DCGM_EXPORTER_PORT 19400

/* One plan being built. The JSON builders stop adding on the first allocation failure, which is
 * checked once at the end (failed). */
typedef struct {
  const gp_pool *p;
  const gp_policy_context *ctx;
  const gp_vm_size *size; /* p->size: NULL for CPU-only sizes */
  gp_node_setup node;     /* what runs on the nodes */
  gp_mig_layout layout;   /* the per-GPU layout, when node.mig_partition */
  bool failed;
} build;

static json_t *chk(build *b, json_t *v) {
  if (!v) b->failed = true;
  return v;
}

/* Strings the plan is made of are literals, catalog data or sanitized text: valid UTF-8 already. */
static json_t *str(const char *s) { return json_string_nocheck(s); }

/* jansson's *_new functions release v on every failure, NULL container included. */
static void set(build *b, json_t *o, const char *k, json_t *v) {
  if (json_object_set_new_nocheck(o, k, v)) b->failed = true; /* keys are ASCII or already-valid UTF-8 */
}

static void push(build *b, json_t *a, json_t *v) {
  if (json_array_append_new(a, v)) b->failed = true;
}

static json_t *strings(build *b, const char *const *items, size_t n) {
  json_t *a = chk(b, json_array());
  for (size_t i = 0; i < n; i++)
    push(b, a, str(items[i]));
  return a;
}

static const char *nm(const gp_enum_names *t, int v) {
  const char *s = gp_enum_name(t, v);
  return s ? s : "None";
}

static bool nvidia(const build *b) { return b->size && b->size->vendor == GP_VENDOR_NVIDIA; }
static bool windows(const build *b) { return b->p->os_type == GP_OS_TYPE_WINDOWS; }

/* ---- identity: what the plan is for ---------------------------------------------------------- */

static void add_identity(build *b, json_t *plan, int64_t generation) {
  const gp_pool *p = b->p;
  const gp_vm_size *sz = b->size;
  char ver[32];
  gp_k8s_version_full(&p->k8s, ver, sizeof ver);
  set(b, plan, "generation", json_integer(generation));
  set(b, plan, "vmSize", str(sz ? sz->name : p->vm_size));
  set(b, plan, "kubernetesVersion", str(ver));
  set(b, plan, "osType", str(nm(&gp_os_type_names, p->os_type)));
  set(b, plan, "osSKU", str(nm(&gp_os_sku_names, p->os_sku)));
  if (!sz) {
    set(b, plan, "gpu", json_null());
    return;
  }
  json_t *gpu = chk(b, json_object());
  set(b, gpu, "vendor", str(nm(&gp_vendor_names, sz->vendor)));
  set(b, gpu, "model", str(sz->gpu_model));
  set(b, gpu, "count", json_integer(sz->gpus));
  set(b, gpu, "migCapable", json_boolean(sz->mig));
  set(b, gpu, "fabricManager", json_boolean(sz->fabric_manager));
  set(b, gpu, "driverFamily", str(sz->driver_family));
  set(b, plan, "gpu", gpu);
}

/* ---- effective values and their sources ------------------------------------------------------ */

static json_t *effective_json(build *b) {
  const gp_pool *p = b->p;
  const gp_gpu_settings *e = &p->effective;
  json_t *eff = chk(b, json_object()), *src = chk(b, json_object());
  if (b->size) {
    set(b, eff, "driver", str(nm(&gp_driver_names, e->driver)));
    set(b, src, "driver", str(nm(&gp_source_names, p->src_driver)));
  }
  if (nvidia(b) && !windows(b)) {
    set(b, eff, "managementMode", str(nm(&gp_mgmt_mode_names, e->management_mode)));
    set(b, eff, "driverMode", str(nm(&gp_driver_mode_names, e->driver_mode)));
    set(b, eff, "migStrategy", str(nm(&gp_mig_strategy_names, e->mig_strategy)));
    json_t *mp = chk(b, json_array());
    if (e->instance_profile) push(b, mp, str(nm(&gp_mig_profile_names, e->instance_profile)));
    for (size_t i = 0; i < e->mig_profile_count; i++)
      push(b, mp, str(nm(&gp_mig_profile_names, e->mig_profiles[i])));
    set(b, eff, "migProfiles", mp);
    set(b, src, "managementMode", str(nm(&gp_source_names, p->src_management_mode)));
    set(b, src, "driverMode", str(nm(&gp_source_names, p->src_driver_mode)));
    set(b, src, "migStrategy", str(nm(&gp_source_names, p->src_mig_strategy)));
  } else if (b->size && windows(b)) {
    set(b, eff, "driverType", str(nm(&gp_driver_type_names, e->driver_type)));
  }
  set(b, eff, "sources", src);
  return eff;
}

/* ---- components: what gp_plan_node_setup says runs, with versions and args ------------------- */

static json_t *component(build *b, const char *name, const char *version, const char *image) {
  json_t *c = chk(b, json_object());
  set(b, c, "name", str(name));
  if (version && *version) set(b, c, "version", str(version));
  if (image && *image) set(b, c, "image", str(image));
  return c;
}

/* A component whose version and image come from the catalog's table for the pool's Kubernetes minor. */
static json_t *versioned(build *b, const char *name) {
  const gp_component_version *cv = gp_catalog_component(b->p->k8s.minor, name);
  return component(b, name, cv ? cv->version : NULL, cv ? cv->image : NULL);
}

/* The driver family the nodes install: the size's, or on Windows the one driverType chooses. */
static const char *driver_family(const build *b) {
  if (windows(b)) return b->p->effective.driver_type == GP_DRIVER_TYPE_GRID ? "grid" : "cuda-lts";
  return b->size->driver_family;
}

static json_t *driver_json(build *b, const gp_driver_family *df) {
  json_t *drv = component(b, GP_COMPONENT_DRIVER, df ? df->version : NULL, df ? df->image : NULL);
  set(b, drv, "driverFamily", str(driver_family(b)));
  return drv;
}

/* mig-partition creates the layout's GPU instances, in creation order, by profile id. */
static json_t *mig_partition_json(build *b) {
  char ids[64] = "";
  size_t used = 0;
  for (size_t i = 0; i < b->layout.count; i++) {
    const gp_mig_model_profile *mp = gp_catalog_mig_profile(b->size->gpu_model, b->layout.inst[i].profile);
    int n = snprintf(ids + used, sizeof ids - used, "%s%d", i ? "," : "", mp ? mp->profile_id : -1);
    if (n > 0 && (size_t)n < sizeof ids - used) used += (size_t)n;
  }
  json_t *mp = component(b, GP_COMPONENT_MIG_PARTITION, NULL, NULL);
  const char *args[] = {"-cgi", ids, "-C"};
  set(b, mp, "args", strings(b, args, 3));
  return mp;
}

static json_t *device_plugin_json(build *b) {
  json_t *dp = versioned(b, GP_COMPONENT_DEVICE_PLUGIN);
  json_t *args = chk(b, json_array());
  if (b->node.plugin_strategy != GP_MIG_STRATEGY_NONE) {
    push(b, args, str(GP_PLUGIN_STRATEGY_ARG));
    push(b, args, str(gp_plugin_strategy_name(b->node.plugin_strategy)));
  }
  push(b, args, str("--pass-device-specs"));
  set(b, dp, "args", args);
  return dp;
}

static json_t *exporter_json(build *b) {
  static const char *const exporter_args[] = {"-a", ":19400", "-f", "/etc/dcgm-exporter/default-counters.csv"};
  json_t *exp = versioned(b, GP_COMPONENT_DCGM_EXPORTER);
  set(b, exp, "port", json_integer(DCGM_EXPORTER_PORT));
  set(b, exp, "args", strings(b, exporter_args, 4));
  return exp;
}

static json_t *components_json(build *b) {
  const gp_node_setup *n = &b->node;
  json_t *list = chk(b, json_array());
  const gp_driver_family *df = n->driver ? gp_catalog_driver_family(driver_family(b)) : NULL;
  if (n->driver) push(b, list, driver_json(b, df));
  if (n->fabric_manager) push(b, list, component(b, GP_COMPONENT_FABRIC_MANAGER, df ? df->version : NULL, NULL));
  if (n->mig_partition) push(b, list, mig_partition_json(b));
  if (n->dra_driver) push(b, list, versioned(b, GP_COMPONENT_DRA_DRIVER));
  if (n->device_plugin) push(b, list, device_plugin_json(b));
  if (n->dcgm) push(b, list, versioned(b, GP_COMPONENT_DCGM));
  if (n->dcgm_exporter) push(b, list, exporter_json(b));
  return list;
}

/* ---- MIG layout: per GPU, grouped by profile, in creation order ------------------------------ */

static json_t *layout_json(build *b) {
  const gp_mig_layout *l = &b->layout;
  const char *model = b->size->gpu_model;
  json_t *per = chk(b, json_array()), *inst = chk(b, json_array());
  int counts[GP_MIG_PROFILE_COUNT + 1] = {0};
  gp_mig_profile order[GP_MIG_PROFILE_COUNT];
  size_t norder = 0;
  for (size_t i = 0; i < l->count; i++) {
    gp_mig_profile pr = l->inst[i].profile;
    if (!counts[pr]++) order[norder++] = pr;
    const gp_mig_model_profile *mp = gp_catalog_mig_profile(model, pr);
    json_t *o = chk(b, json_object());
    set(b, o, "profile", str(mp ? mp->nvidia_name : "?"));
    set(b, o, "id", json_integer(mp ? mp->profile_id : -1));
    set(b, o, "start", json_integer(l->inst[i].start));
    push(b, inst, o);
  }
  for (size_t i = 0; i < norder; i++) {
    const gp_mig_model_profile *mp = gp_catalog_mig_profile(model, order[i]);
    json_t *o = chk(b, json_object());
    set(b, o, "profile", str(mp ? mp->nvidia_name : "?"));
    set(b, o, "aksProfile", str(nm(&gp_mig_profile_names, order[i])));
    set(b, o, "id", json_integer(mp ? mp->profile_id : -1));
    set(b, o, "count", json_integer(counts[order[i]]));
    push(b, per, o);
  }
  json_t *o = chk(b, json_object());
  set(b, o, "perGpu", per);
  set(b, o, "gpus", json_integer(b->size->gpus));
  set(b, o, "instances", inst);
  return o;
}

/* ---- node labels: gpupool's own, then the user's --------------------------------------------- */

static json_t *labels_json(build *b) {
  json_t *labels = chk(b, json_object());
  const gp_node_setup *n = &b->node;
  if (b->size)
    set(b, labels, "kubernetes.azure.com/accelerator", str(b->size->vendor == GP_VENDOR_AMD ? "amd" : "nvidia"));
  if (n->dcgm_exporter) set(b, labels, "kubernetes.azure.com/dcgm-exporter", str("enabled"));
  if (n->device_plugin && n->mig_partition)
    set(b, labels, "nvidia.com/mig.strategy", str(gp_plugin_strategy_name(n->plugin_strategy)));
  if (b->p->node_labels) {
    const char *k;
    json_t *v;
    json_object_foreach(b->p->node_labels, k, v) set(b, labels, k, gpj_share(v));
  }
  return labels;
}

/* ---- allocatable: what the device plugin advertises per node --------------------------------- */

static json_t *allocatable_json(build *b) {
  json_t *alloc = chk(b, json_object());
  json_int_t gpus = b->size ? b->size->gpus : 0;
  switch (b->node.plugin_strategy) {
  case GP_MIG_STRATEGY_NONE: set(b, alloc, "nvidia.com/gpu", json_integer(gpus)); break;
  case GP_MIG_STRATEGY_SINGLE: set(b, alloc, "nvidia.com/gpu", json_integer((json_int_t)b->layout.count * gpus)); break;
  case GP_MIG_STRATEGY_MIXED:
    for (size_t i = 0; i < b->layout.count; i++) {
      const gp_mig_model_profile *mp = gp_catalog_mig_profile(b->size->gpu_model, b->layout.inst[i].profile);
      char key[64];
      snprintf(key, sizeof key, "nvidia.com/mig-%s", mp ? mp->nvidia_name : "unknown");
      json_int_t cur = json_integer_value(json_object_get(alloc, key));
      set(b, alloc, key, json_integer(cur + gpus));
    }
    break;
  default: break; /* no device plugin: nothing is advertised */
  }
  return alloc;
}

/* ---- decisions: each rule that shaped the plan, with its outcome and why --------------------- */

static void decision(build *b, json_t *list, const char *rule, const char *outcome, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void decision(build *b, json_t *list, const char *rule, const char *outcome, const char *fmt, ...) {
  char reason[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap); /* reasons hold catalog names and whole (never cut) user strings: valid UTF-8 */
  json_t *d = chk(b, json_object());
  set(b, d, "rule", str(rule));
  set(b, d, "outcome", str(outcome));
  set(b, d, "reason", str(reason));
  push(b, list, d);
}

static const char *management_mode_reason(const gp_pool *p, const gp_policy_context *ctx, char *buf, size_t size) {
  char ga[32], ver[32];
  gp_k8s_version_text(&ctx->ga_version, ga, sizeof ga);
  gp_k8s_version_full(&p->k8s, ver, sizeof ver);
  switch (p->src_management_mode) {
  case GP_SRC_DECLARED:
    snprintf(buf, size, "The pool declares gpuProfile.nvidia.managementMode %s.",
             nm(&gp_mgmt_mode_names, p->effective.management_mode));
    break;
  case GP_SRC_CLUSTER:
    snprintf(buf, size, "The pool declares no managementMode; its cluster's gpuProfile.nvidia.managementMode is %s.",
             nm(&gp_mgmt_mode_names, p->effective.management_mode));
    break;
  case GP_SRC_K8S_VERSION_DEFAULT:
    snprintf(buf, size,
             "The pool declares no managementMode, and with the managed GPU experience generally available pools on "
             "Kubernetes %s or later default to Managed (this pool runs %s).",
             ga, ver);
    break;
  case GP_SRC_LEGACY_TAG:
    snprintf(buf, size,
             "The feature ManagedGPUExperience is registered and the pool has the deprecated tag "
             "EnableManagedGPUExperience=true, so it is Managed.");
    break;
  case GP_SRC_PREVIEW_DEFAULT:
    snprintf(buf, size,
             "The pool declares no managementMode and nothing makes it Managed (%s), so it keeps the pre-feature "
             "behaviour: Unmanaged.",
             ctx->phase == GP_PHASE_GA ? "Kubernetes below the GA version" : "preview phase");
    break;
  default: snprintf(buf, size, "Windows pools are not managed: the driver only.");
  }
  return buf;
}

/* The VM size, the management mode and the matrix cell they give. */
static void decide_install(build *b, json_t *dec) {
  const gp_pool *p = b->p;
  const gp_vm_size *sz = b->size;
  const gp_gpu_settings *e = &p->effective;
  gp_install_set what = b->node.install;
  char buf[512];
  if (!sz) {
    decision(b, dec, "vm-size", "no GPU",
             "VM size '%s' is not in the GPU catalog, so it is a CPU-only size: nothing GPU-related is installed.",
             p->vm_size ? p->vm_size : "");
    return;
  }
  decision(b, dec, "vm-size", sz->gpu_model, "VM size '%s' has %d %s %s GPU%s%s%s.", sz->name, sz->gpus,
           nm(&gp_vendor_names, sz->vendor), sz->gpu_model, sz->gpus == 1 ? "" : "s", sz->mig ? ", MIG-capable" : "",
           sz->fabric_manager ? ", NVSwitch (fabric manager required)" : "");
  if (nvidia(b)) {
    decision(b, dec, "management-mode", nm(&gp_mgmt_mode_names, e->management_mode), "%s",
             management_mode_reason(p, b->ctx, buf, sizeof buf));
    const char *cell = what == GP_INSTALL_EVERYTHING ? "everything"
                       : what == GP_INSTALL_DRIVER   ? "driver only"
                                                     : "nothing";
    decision(b, dec, "matrix", cell, "gpuProfile.driver %s (%s) with managementMode %s: %s.",
             nm(&gp_driver_names, e->driver), p->src_driver == GP_SRC_DECLARED ? "declared" : "default",
             nm(&gp_mgmt_mode_names, e->management_mode),
             b->node.dra_driver      ? "the driver, the NVIDIA DRA driver, DCGM and the DCGM exporter are installed"
             : b->node.device_plugin ? "the driver, the device plugin, DCGM and the DCGM exporter are installed"
             : what == GP_INSTALL_DRIVER
                 ? "only the NVIDIA driver is installed (plus fabric manager and MIG partitioning where they apply); "
                   "no device plugin"
                 : "no GPU software is installed");
  }
  if (sz->vendor == GP_VENDOR_AMD)
    decision(b, dec, "driver", "None",
             "There is no managed AMD driver: nothing is installed; the AMD GPU operator is up to the user.");
  if (b->node.fabric_manager)
    decision(b, dec, "fabric-manager", "installed",
             "'%s' connects its GPUs through NVSwitch, so nvidia-fabricmanager must run.", sz->name);
  else if (b->node.driver && sz->mig)
    decision(b, dec, "fabric-manager", "not installed", "'%s' has no NVSwitch; fabric manager must not run there.",
             sz->name);
}

/* The MIG layout and the strategy the device plugin reads it with. */
static void decide_mig(build *b, json_t *dec) {
  const gp_pool *p = b->p;
  const gp_gpu_settings *e = &p->effective;
  if (!b->node.mig_partition) return;
  const gp_mig_model_profile *mp = gp_catalog_mig_profile(b->size->gpu_model, b->layout.inst[0].profile);
  /* One migProfiles entry fills each GPU, except under Mixed, where the list is the GPU's instances. */
  bool fill = e->instance_profile || (e->mig_profile_count == 1 && e->mig_strategy != GP_MIG_STRATEGY_MIXED);
  decision(b, dec, "mig-layout", fill ? "fill" : "listed",
           "%s: %zu MIG instance%s per GPU (first %s), the same on each of the %d GPUs; placement checked over "
           "memory slices.",
           e->instance_profile ? "gpuInstanceProfile fills each GPU with one profile"
           : fill              ? "one migProfiles entry fills each GPU"
                               : "migProfiles lists the instances of each GPU",
           b->layout.count, b->layout.count == 1 ? "" : "s", mp ? mp->nvidia_name : "?", b->size->gpus);
  if (!b->node.device_plugin) return;
  if (p->src_mig_strategy == GP_SRC_MIG_DEFAULT)
    decision(b, dec, "mig-strategy", "Single",
             "A MIG profile without a declared migStrategy under Managed runs the device plugin in single mode.");
  else if (e->mig_strategy == GP_MIG_STRATEGY_NONE)
    decision(b, dec, "mig-strategy", "None",
             "migStrategy None on a MIG node: the device plugin still runs with --mig-strategy single, as on AKS, "
             "so every MIG instance is advertised as nvidia.com/gpu.");
  else
    decision(b, dec, "mig-strategy", nm(&gp_mig_strategy_names, e->mig_strategy),
             "migStrategy %s is declared: the device plugin runs with --mig-strategy %s.",
             nm(&gp_mig_strategy_names, e->mig_strategy), gp_plugin_strategy_name(b->node.plugin_strategy));
}

static json_t *decisions_json(build *b) {
  json_t *dec = chk(b, json_array());
  decide_install(b, dec);
  decide_mig(b, dec);
  if (b->node.dra_driver)
    decision(b, dec, "driver-mode", "DRA",
             "driverMode DRA: the NVIDIA DRA driver (gpu-kubelet-plugin) replaces the device plugin; GPUs are "
             "claimed through ResourceClaims, so no extended resources are advertised.");
  if (b->p->legacy_tag)
    decision(b, dec, "legacy-tag", "Managed",
             "Tag EnableManagedGPUExperience=true with the feature ManagedGPUExperience registered (deprecated path).");
  else if (b->p->legacy_tag_ignored)
    decision(b, dec, "legacy-tag", "ignored",
             "Tag EnableManagedGPUExperience=true with the feature ManagedGPUExperience registered, but %s decides "
             "the mode first.",
             b->p->src_management_mode == GP_SRC_CLUSTER ? "the cluster's default" : "the GA Kubernetes version");
  if (b->size && !b->node.device_plugin)
    decision(b, dec, "allocatable", "none", "%s, so the node advertises no GPU extended resources.",
             b->node.dra_driver ? "The DRA driver hands out GPUs through ResourceClaims"
                                : "No managed device plugin is installed");
  return dec;
}

/* ---- warnings: advice that is not an error --------------------------------------------------- */

static bool has_noschedule_taint(const gp_pool *p) {
  size_t i;
  json_t *v;
  if (!p->node_taints) return false;
  json_array_foreach(p->node_taints, i, v) {
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (n >= 11 && strcmp(s + n - 11, ":NoSchedule") == 0) return true;
  }
  return false;
}

static json_t *warnings_json(build *b) {
  const gp_vm_size *sz = b->size;
  json_t *warn = chk(b, json_array());
  char buf[512];
  if (sz && !has_noschedule_taint(b->p))
    push(b, warn,
         str("GPU pool without a NoSchedule taint: ordinary pods may be scheduled onto these GPU "
             "nodes. Add a taint such as 'sku=gpu:NoSchedule' (or 'nvidia.com/gpu=present:NoSchedule')."));
  if (b->p->legacy_tag)
    push(b, warn,
         str("The tag EnableManagedGPUExperience=true is deprecated; declare "
             "gpuProfile.nvidia.managementMode: Managed instead."));
  if (b->p->legacy_tag_ignored) push(b, warn, str(gpp_legacy_tag_ignored(b->p->src_management_mode)));
  if (b->node.mig_partition)
    push(b, warn,
         str("Enabling MIG mode needs a reboot on Azure VMs; nodes are partitioned while they are "
             "provisioned, and the layout cannot be changed afterwards."));
  if (b->node.mig_partition && b->node.install == GP_INSTALL_DRIVER)
    push(b, warn,
         str("MIG instances are created but no managed device plugin advertises them; run your own "
             "device plugin with a MIG strategy, or set managementMode Managed."));
  if (sz && sz->vendor == GP_VENDOR_AMD)
    push(b, warn,
         str("AMD GPUs have no managed driver or device plugin: install the AMD GPU operator to "
             "advertise amd.com/gpu."));
  if (sz && strncmp(sz->note, "uncertain", 9) == 0) {
    snprintf(buf, sizeof buf, "Catalog entry for %s is not confirmed (%s).", sz->name, sz->note);
    gp_utf8_sanitize(buf);
    push(b, warn, str(buf));
  }
  if (sz && strcmp(sz->fraction, "1") != 0 && *sz->fraction) {
    snprintf(buf, sizeof buf, "%s has a partial GPU (%s of a %s); it is advertised as one nvidia.com/gpu.", sz->name,
             sz->fraction, sz->gpu_model);
    push(b, warn, str(buf));
  }
  return warn;
}

json_t *gp_plan_build(const gp_pool *p, const gp_policy_context *ctx, int64_t generation) {
  build b = {.p = p, .ctx = ctx, .size = p->size};
  gp_plan_node_setup(p, &b.node, &b.layout);
  json_t *plan = chk(&b, json_object());
  add_identity(&b, plan, generation);
  set(&b, plan, "effective", effective_json(&b));
  set(&b, plan, "components", components_json(&b));
  set(&b, plan, "migLayout", b.node.mig_partition ? layout_json(&b) : json_null());
  set(&b, plan, "nodeLabels", labels_json(&b));
  /* Taints reach the nodes with the plan (a change of them is one the nodes must see); only when the
   * pool has some, so that the plans of pools without taints stay as they were. */
  if (json_array_size(p->node_taints)) set(&b, plan, "nodeTaints", gpj_share(p->node_taints));
  set(&b, plan, "allocatable", allocatable_json(&b));
  set(&b, plan, "decisions", decisions_json(&b));
  set(&b, plan, "warnings", warnings_json(&b));
  if (b.failed) {
    json_decref(plan);
    return NULL;
  }
  return plan;
}
