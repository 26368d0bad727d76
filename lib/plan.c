/* plan.c - the install plan of a pool (SPEC §6): what gets installed on its nodes, with versions,
 * args, MIG layout, node labels, allocatable resources, the decisions behind them and warnings.
 *
 * The plan is derived only from the pool's effective values and the catalog, so the same pool
 * under the same context always gives the same plan. */
#include "gpupool/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpupool/catalog.h"
#include "json_util.h"

#define DCGM_EXPORTER_PORT 19400

typedef enum { INSTALL_NOTHING, INSTALL_DRIVER, INSTALL_EVERYTHING } install_set;

static install_set installs(const gp_pool *p) {
  if (!p->size || p->size->vendor != GP_VENDOR_NVIDIA || p->effective.driver != GP_DRIVER_INSTALL)
    return INSTALL_NOTHING;
  if (p->os_type == GP_OS_TYPE_WINDOWS || p->effective.mode != GP_MODE_MANAGED) return INSTALL_DRIVER;
  return INSTALL_EVERYTHING;
}

bool gp_plan_mig_layout(const gp_pool *p, gp_mig_layout *out) {
  const gp_gpu_settings *e = &p->effective;
  if (!p->size || !p->size->mig || e->driver != GP_DRIVER_INSTALL) return false;
  if (e->instance_profile) return gp_mig_fill(e->instance_profile, out);
  if (e->mig_profile_count == 1 && e->mig_strategy != GP_MIG_STRATEGY_MIXED)
    return gp_mig_fill(e->mig_profiles[0], out);
  if (e->mig_profile_count) return gp_mig_place(e->mig_profiles, e->mig_profile_count, out);
  return false;
}

/* Builders that stop adding on the first allocation failure (checked once at the end). */
typedef struct {
  bool failed;
} guard;

static json_t *chk(guard *g, json_t *v) {
  if (!v) g->failed = true;
  return v;
}

/* Strings the plan is made of are literals, catalog data or sanitized text: valid UTF-8 already. */
static json_t *str(const char *s) { return json_string_nocheck(s); }

/* jansson's *_new functions release v on every failure, NULL container included. */
static void set(guard *g, json_t *o, const char *k, json_t *v) {
  if (json_object_set_new_nocheck(o, k, v)) g->failed = true; /* keys are ASCII or already-valid UTF-8 */
}

static void push(guard *g, json_t *a, json_t *v) {
  if (json_array_append_new(a, v)) g->failed = true;
}

static json_t *strings(guard *g, const char *const *items, size_t n) {
  json_t *a = chk(g, json_array());
  for (size_t i = 0; i < n; i++)
    push(g, a, str(items[i]));
  return a;
}

static void decision(guard *g, json_t *list, const char *rule, const char *outcome, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void decision(guard *g, json_t *list, const char *rule, const char *outcome, const char *fmt, ...) {
  char reason[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap); /* reasons hold catalog names and whole (never cut) user strings: valid UTF-8 */
  json_t *d = chk(g, json_object());
  set(g, d, "rule", str(rule));
  set(g, d, "outcome", str(outcome));
  set(g, d, "reason", str(reason));
  push(g, list, d);
}

static const char *nm(const gp_enum_names *t, int v) {
  const char *s = gp_enum_name(t, v);
  return s ? s : "None";
}

static const char *mode_reason(const gp_pool *p, const gp_policy_context *ctx, char *buf, size_t size) {
  char ga[32], ver[32];
  snprintf(ga, sizeof ga, "%d.%d", ctx->ga_version.major, ctx->ga_version.minor);
  gp_k8s_version_full(&p->k8s, ver, sizeof ver);
  switch (p->src_mode) {
  case GP_SRC_DECLARED:
    snprintf(buf, size, "The pool declares gpuProfile.nvidia.managementMode %s.",
             nm(&gp_mode_names, p->effective.mode));
    break;
  case GP_SRC_CLUSTER:
    snprintf(buf, size, "The pool declares no managementMode; its cluster's gpuProfile.nvidia.managementMode is %s.",
             nm(&gp_mode_names, p->effective.mode));
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

static json_t *component(guard *g, const char *name, const char *version, const char *image) {
  json_t *c = chk(g, json_object());
  set(g, c, "name", str(name));
  if (version && *version) set(g, c, "version", str(version));
  if (image && *image) set(g, c, "image", str(image));
  return c;
}

static void add_components(guard *g, json_t *list, const gp_pool *p, install_set set_, const gp_mig_layout *layout,
                           bool has_layout) {
  if (set_ == INSTALL_NOTHING) return;
  const char *family = p->size->driver_family;
  if (p->os_type == GP_OS_TYPE_WINDOWS) family = p->effective.driver_type == GP_DRIVER_TYPE_GRID ? "grid" : "cuda-lts";
  const gp_driver_family *df = gp_catalog_driver_family(family);
  json_t *drv = component(g, "nvidia-driver", df ? df->version : NULL, df ? df->image : NULL);
  set(g, drv, "driverFamily", str(family));
  push(g, list, drv);
  if (p->size->fabric_manager) push(g, list, component(g, "nvidia-fabricmanager", df ? df->version : NULL, NULL));
  if (has_layout) {
    char ids[64] = "";
    size_t used = 0;
    for (size_t i = 0; i < layout->count; i++) {
      const gp_mig_model_profile *mp = gp_catalog_mig_profile(p->size->gpu_model, layout->inst[i].profile);
      int n = snprintf(ids + used, sizeof ids - used, "%s%d", i ? "," : "", mp ? mp->profile_id : -1);
      if (n > 0 && (size_t)n < sizeof ids - used) used += (size_t)n;
    }
    json_t *mp = component(g, "mig-partition", NULL, NULL);
    const char *args[] = {"-cgi", ids, "-C"};
    set(g, mp, "args", strings(g, args, 3));
    push(g, list, mp);
  }
  if (set_ != INSTALL_EVERYTHING) return;
  int minor = p->k8s.minor;
  if (p->effective.driver_mode == GP_DRIVER_MODE_DRA) {
    const gp_component_version *cv = gp_catalog_component(minor, "nvidia-dra-driver");
    push(g, list, component(g, "nvidia-dra-driver", cv ? cv->version : NULL, cv ? cv->image : NULL));
  } else {
    const gp_component_version *cv = gp_catalog_component(minor, "nvidia-device-plugin");
    json_t *dp = component(g, "nvidia-device-plugin", cv ? cv->version : NULL, cv ? cv->image : NULL);
    json_t *args = chk(g, json_array());
    if (has_layout) {
      push(g, args, str("--mig-strategy"));
      push(g, args, str(p->effective.mig_strategy == GP_MIG_STRATEGY_MIXED ? "mixed" : "single"));
    }
    push(g, args, str("--pass-device-specs"));
    set(g, dp, "args", args);
    push(g, list, dp);
  }
  const gp_component_version *dc = gp_catalog_component(minor, "nvidia-dcgm");
  push(g, list, component(g, "nvidia-dcgm", dc ? dc->version : NULL, dc ? dc->image : NULL));
  const gp_component_version *ex = gp_catalog_component(minor, "dcgm-exporter");
  json_t *exp = component(g, "dcgm-exporter", ex ? ex->version : NULL, ex ? ex->image : NULL);
  set(g, exp, "port", json_integer(DCGM_EXPORTER_PORT));
  static const char *const exporter_args[] = {"-a", ":19400", "-f", "/etc/dcgm-exporter/default-counters.csv"};
  set(g, exp, "args", strings(g, exporter_args, 4));
  push(g, list, exp);
}

/* Per-GPU layout grouped by profile, in creation order. */
static json_t *layout_json(guard *g, const gp_pool *p, const gp_mig_layout *l) {
  json_t *per = chk(g, json_array()), *inst = chk(g, json_array());
  int counts[GP_MIG_PROFILE_COUNT + 1] = {0};
  gp_mig_profile order[GP_MIG_PROFILE_COUNT];
  size_t norder = 0;
  for (size_t i = 0; i < l->count; i++) {
    gp_mig_profile pr = l->inst[i].profile;
    if (!counts[pr]++) order[norder++] = pr;
    const gp_mig_model_profile *mp = gp_catalog_mig_profile(p->size->gpu_model, pr);
    json_t *o = chk(g, json_object());
    set(g, o, "profile", str(mp ? mp->nvidia_name : "?"));
    set(g, o, "id", json_integer(mp ? mp->profile_id : -1));
    set(g, o, "start", json_integer(l->inst[i].start));
    push(g, inst, o);
  }
  for (size_t i = 0; i < norder; i++) {
    const gp_mig_model_profile *mp = gp_catalog_mig_profile(p->size->gpu_model, order[i]);
    json_t *o = chk(g, json_object());
    set(g, o, "profile", str(mp ? mp->nvidia_name : "?"));
    set(g, o, "aksProfile", str(nm(&gp_mig_profile_names, order[i])));
    set(g, o, "id", json_integer(mp ? mp->profile_id : -1));
    set(g, o, "count", json_integer(counts[order[i]]));
    push(g, per, o);
  }
  json_t *o = chk(g, json_object());
  set(g, o, "perGpu", per);
  set(g, o, "gpus", json_integer(p->size->gpus));
  set(g, o, "instances", inst);
  return o;
}

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

json_t *gp_plan_build(const gp_pool *p, const gp_policy_context *ctx, int64_t generation) {
  guard g = {false};
  json_t *plan = chk(&g, json_object());
  json_t *comps = chk(&g, json_array()), *labels = chk(&g, json_object()), *alloc = chk(&g, json_object());
  json_t *dec = chk(&g, json_array()), *warn = chk(&g, json_array());
  char ver[32], buf[512];
  const gp_vm_size *sz = p->size;
  const gp_gpu_settings *e = &p->effective;
  install_set what = installs(p);
  gp_mig_layout layout;
  bool has_layout = what != INSTALL_NOTHING && gp_plan_mig_layout(p, &layout);
  bool plugin = what == INSTALL_EVERYTHING && e->driver_mode != GP_DRIVER_MODE_DRA;
  bool nvidia_linux = sz && sz->vendor == GP_VENDOR_NVIDIA && p->os_type != GP_OS_TYPE_WINDOWS;

  gp_k8s_version_full(&p->k8s, ver, sizeof ver);
  set(&g, plan, "generation", json_integer(generation));
  set(&g, plan, "vmSize", str(sz ? sz->name : p->vm_size));
  set(&g, plan, "kubernetesVersion", str(ver));
  set(&g, plan, "osType", str(nm(&gp_os_type_names, p->os_type)));
  set(&g, plan, "osSKU", str(nm(&gp_os_sku_names, p->os_sku)));
  if (sz) {
    json_t *gpu = chk(&g, json_object());
    set(&g, gpu, "vendor", str(nm(&gp_vendor_names, sz->vendor)));
    set(&g, gpu, "model", str(sz->gpu_model));
    set(&g, gpu, "count", json_integer(sz->gpus));
    set(&g, gpu, "migCapable", json_boolean(sz->mig));
    set(&g, gpu, "fabricManager", json_boolean(sz->fabric_manager));
    set(&g, gpu, "driverFamily", str(sz->driver_family));
    set(&g, plan, "gpu", gpu);
  } else
    set(&g, plan, "gpu", json_null());

  /* effective values and their sources */
  json_t *eff = chk(&g, json_object()), *src = chk(&g, json_object());
  if (sz) {
    set(&g, eff, "driver", str(nm(&gp_driver_names, e->driver)));
    set(&g, src, "driver", str(nm(&gp_source_names, p->src_driver)));
  }
  if (nvidia_linux) {
    set(&g, eff, "managementMode", str(nm(&gp_mode_names, e->mode)));
    set(&g, eff, "driverMode", str(nm(&gp_driver_mode_names, e->driver_mode)));
    set(&g, eff, "migStrategy", str(nm(&gp_mig_strategy_names, e->mig_strategy)));
    json_t *mp = chk(&g, json_array());
    if (e->instance_profile) push(&g, mp, str(nm(&gp_mig_profile_names, e->instance_profile)));
    for (size_t i = 0; i < e->mig_profile_count; i++)
      push(&g, mp, str(nm(&gp_mig_profile_names, e->mig_profiles[i])));
    set(&g, eff, "migProfiles", mp);
    set(&g, src, "managementMode", str(nm(&gp_source_names, p->src_mode)));
    set(&g, src, "driverMode", str(nm(&gp_source_names, p->src_driver_mode)));
    set(&g, src, "migStrategy", str(nm(&gp_source_names, p->src_mig_strategy)));
  } else if (sz && p->os_type == GP_OS_TYPE_WINDOWS) {
    set(&g, eff, "driverType", str(nm(&gp_driver_type_names, e->driver_type)));
  }
  set(&g, eff, "sources", src);
  set(&g, plan, "effective", eff);

  /* decisions */
  if (!sz) {
    decision(&g, dec, "vm-size", "no GPU",
             "VM size '%s' is not in the GPU catalog, so it is a CPU-only size: nothing GPU-related is installed.",
             p->vm_size ? p->vm_size : "");
  } else {
    decision(&g, dec, "vm-size", sz->gpu_model, "VM size '%s' has %d %s %s GPU%s%s%s.", sz->name, sz->gpus,
             nm(&gp_vendor_names, sz->vendor), sz->gpu_model, sz->gpus == 1 ? "" : "s", sz->mig ? ", MIG-capable" : "",
             sz->fabric_manager ? ", NVSwitch (fabric manager required)" : "");
  }
  if (nvidia_linux || (sz && p->os_type == GP_OS_TYPE_WINDOWS && sz->vendor == GP_VENDOR_NVIDIA))
    decision(&g, dec, "management-mode", nm(&gp_mode_names, e->mode), "%s", mode_reason(p, ctx, buf, sizeof buf));
  if (sz && sz->vendor == GP_VENDOR_NVIDIA) {
    const char *cell = what == INSTALL_EVERYTHING ? "everything" : what == INSTALL_DRIVER ? "driver only" : "nothing";
    decision(&g, dec, "matrix", cell, "gpuProfile.driver %s (%s) with managementMode %s: %s.",
             nm(&gp_driver_names, e->driver), p->src_driver == GP_SRC_DECLARED ? "declared" : "default",
             nm(&gp_mode_names, e->mode),
             what == INSTALL_EVERYTHING
                 ? (e->driver_mode == GP_DRIVER_MODE_DRA
                        ? "the driver, the NVIDIA DRA driver, DCGM and the DCGM exporter are installed"
                        : "the driver, the device plugin, DCGM and the DCGM exporter are installed")
             : what == INSTALL_DRIVER ? "only the NVIDIA driver is installed (plus fabric manager and MIG partitioning "
                                        "where they apply); no device plugin"
                                      : "no GPU software is installed");
  }
  if (sz && sz->vendor == GP_VENDOR_AMD)
    decision(&g, dec, "driver", "None",
             "There is no managed AMD driver: nothing is installed; the AMD GPU operator is up to the user.");
  if (what != INSTALL_NOTHING && sz->fabric_manager)
    decision(&g, dec, "fabric-manager", "installed",
             "'%s' connects its GPUs through NVSwitch, so nvidia-fabricmanager must run.", sz->name);
  else if (what != INSTALL_NOTHING && sz->mig && !sz->fabric_manager)
    decision(&g, dec, "fabric-manager", "not installed", "'%s' has no NVSwitch; fabric manager must not run there.",
             sz->name);
  if (has_layout) {
    const gp_mig_model_profile *mp = gp_catalog_mig_profile(sz->gpu_model, layout.inst[0].profile);
    bool fill = e->instance_profile || (e->mig_profile_count == 1 && e->mig_strategy != GP_MIG_STRATEGY_MIXED);
    decision(&g, dec, "mig-layout", fill ? "fill" : "listed",
             "%s: %zu MIG instance%s per GPU (first %s), the same on each of the %d GPUs; placement checked over "
             "memory slices.",
             e->instance_profile ? "gpuInstanceProfile fills each GPU with one profile"
             : fill              ? "one migProfiles entry fills each GPU"
                                 : "migProfiles lists the instances of each GPU",
             layout.count, layout.count == 1 ? "" : "s", mp ? mp->nvidia_name : "?", sz->gpus);
  }
  if (plugin && has_layout) {
    if (p->src_mig_strategy == GP_SRC_MIG_DEFAULT)
      decision(&g, dec, "mig-strategy", "Single",
               "A MIG profile without a declared migStrategy under Managed runs the device plugin in single mode.");
    else if (e->mig_strategy == GP_MIG_STRATEGY_NONE)
      decision(&g, dec, "mig-strategy", "None",
               "migStrategy None on a MIG node: the device plugin still runs with --mig-strategy single, as on AKS, "
               "so every MIG instance is advertised as nvidia.com/gpu.");
    else
      decision(&g, dec, "mig-strategy", nm(&gp_mig_strategy_names, e->mig_strategy),
               "migStrategy %s is declared: the device plugin runs with --mig-strategy %s.",
               nm(&gp_mig_strategy_names, e->mig_strategy),
               e->mig_strategy == GP_MIG_STRATEGY_MIXED ? "mixed" : "single");
  }
  if (what == INSTALL_EVERYTHING && e->driver_mode == GP_DRIVER_MODE_DRA)
    decision(&g, dec, "driver-mode", "DRA",
             "driverMode DRA: the NVIDIA DRA driver (gpu-kubelet-plugin) replaces the device plugin; GPUs are "
             "claimed through ResourceClaims, so no extended resources are advertised.");
  if (p->legacy_tag)
    decision(&g, dec, "legacy-tag", "Managed",
             "Tag EnableManagedGPUExperience=true with the feature ManagedGPUExperience registered (deprecated path).");

  add_components(&g, comps, p, what, &layout, has_layout);
  set(&g, plan, "components", comps);
  set(&g, plan, "migLayout", has_layout ? layout_json(&g, p, &layout) : json_null());

  /* node labels */
  if (sz) set(&g, labels, "kubernetes.azure.com/accelerator", str(sz->vendor == GP_VENDOR_AMD ? "amd" : "nvidia"));
  if (what == INSTALL_EVERYTHING) set(&g, labels, "kubernetes.azure.com/dcgm-exporter", str("enabled"));
  if (plugin && has_layout)
    set(&g, labels, "nvidia.com/mig.strategy", str(e->mig_strategy == GP_MIG_STRATEGY_MIXED ? "mixed" : "single"));
  if (p->node_labels) {
    const char *k;
    json_t *v;
    json_object_foreach(p->node_labels, k, v) set(&g, labels, k, gpj_share(v));
  }
  set(&g, plan, "nodeLabels", labels);

  /* allocatable: what the device plugin advertises per node */
  if (plugin && !has_layout) {
    set(&g, alloc, "nvidia.com/gpu", json_integer(sz->gpus));
  } else if (plugin && e->mig_strategy == GP_MIG_STRATEGY_MIXED) {
    for (size_t i = 0; i < layout.count; i++) {
      const gp_mig_model_profile *mp = gp_catalog_mig_profile(sz->gpu_model, layout.inst[i].profile);
      char key[64];
      snprintf(key, sizeof key, "nvidia.com/mig-%s", mp ? mp->nvidia_name : "unknown");
      json_int_t cur = json_integer_value(json_object_get(alloc, key));
      set(&g, alloc, key, json_integer(cur + sz->gpus));
    }
  } else if (plugin) {
    set(&g, alloc, "nvidia.com/gpu", json_integer((json_int_t)layout.count * sz->gpus));
  }
  set(&g, plan, "allocatable", alloc);
  if (sz && !plugin)
    decision(&g, dec, "allocatable", "none", "%s, so the node advertises no GPU extended resources.",
             what == INSTALL_EVERYTHING ? "The DRA driver hands out GPUs through ResourceClaims"
                                        : "No managed device plugin is installed");
  set(&g, plan, "decisions", dec);

  /* warnings */
  if (sz && !has_noschedule_taint(p))
    push(&g, warn,
         str("GPU pool without a NoSchedule taint: ordinary pods may be scheduled onto these GPU "
             "nodes. Add a taint such as 'sku=gpu:NoSchedule' (or 'nvidia.com/gpu=present:NoSchedule')."));
  if (p->legacy_tag)
    push(&g, warn,
         str("The tag EnableManagedGPUExperience=true is deprecated; declare "
             "gpuProfile.nvidia.managementMode: Managed instead."));
  if (has_layout)
    push(&g, warn,
         str("Enabling MIG mode needs a reboot on Azure VMs; nodes are partitioned while they are "
             "provisioned, and the layout cannot be changed afterwards."));
  if (has_layout && !plugin && what == INSTALL_DRIVER)
    push(&g, warn,
         str("MIG instances are created but no managed device plugin advertises them; run your own "
             "device plugin with a MIG strategy, or set managementMode Managed."));
  if (sz && sz->vendor == GP_VENDOR_AMD)
    push(&g, warn,
         str("AMD GPUs have no managed driver or device plugin: install the AMD GPU operator to "
             "advertise amd.com/gpu."));
  if (sz && strncmp(sz->note, "uncertain", 9) == 0) {
    snprintf(buf, sizeof buf, "Catalog entry for %s is not confirmed (%s).", sz->name, sz->note);
    gp_utf8_sanitize(buf);
    push(&g, warn, str(buf));
  }
  if (sz && strcmp(sz->fraction, "1") != 0 && *sz->fraction) {
    snprintf(buf, sizeof buf, "%s has a partial GPU (%s of a %s); it is advertised as one nvidia.com/gpu.", sz->name,
             sz->fraction, sz->gpu_model);
    push(&g, warn, str(buf));
  }
  set(&g, plan, "warnings", warn);
  if (g.failed) {
    json_decref(plan);
    return NULL;
  }
  return plan;
}
