/* policy_pool.c - deciding an agent pool PUT: SPEC §3 (declared versus effective), §4 (the
 * decision matrix, preview gating, the legacy tag, defaults) and §5 (every other rule).
 *
 * gp_policy_apply_pool works in three steps: merge the request into the stored declarations
 * (immutability; a value sent is a declaration, null removes one), derive the effective values (management mode,
 * driver, MIG strategy), then check every rule. All violations are collected; nothing is returned half-done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpupool/mig.h"
#include "gpupool/plan.h"
#include "gpupool/policy.h"
#include "json_util.h"
#include "policy_internal.h"

void gp_policy_context_init(gp_policy_context *ctx) {
  memset(ctx, 0, sizeof *ctx);
  ctx->phase = GP_PHASE_PREVIEW;
  gp_k8s_version_parse(GP_DEFAULT_GA_KUBERNETES_VERSION, &ctx->ga_version);
  ctx->api = GP_API_PREVIEW;
}

void gp_warnings_free(gp_warnings *w) {
  if (!w) return;
  for (size_t i = 0; i < w->count; i++)
    free(w->items[i]);
  free(w->items);
  w->items = NULL;
  w->count = 0;
}

void gpp_warn(gp_warnings *w, const char *msg, gp_error *err) {
  if (!w) return;
  for (size_t i = 0; i < w->count; i++)
    if (strcmp(w->items[i], msg) == 0) return;
  char **n = realloc(w->items, (w->count + 1) * sizeof *n);
  if (n) w->items = n;
  if (!n || !(w->items[w->count] = strdup(msg))) {
    err->oom = true;
    return;
  }
  w->count++;
}

const char *gpp_legacy_tag_ignored(gp_source decided_by) {
  if (decided_by == GP_SRC_CLUSTER)
    return "The tag EnableManagedGPUExperience=true has no effect: the cluster's gpuProfile.nvidia.managementMode "
           "decides the pool's mode first. Declare gpuProfile.nvidia.managementMode on the pool for a mode of its "
           "own, and remove the tag.";
  return "The tag EnableManagedGPUExperience=true has no effect: with the managed GPU experience generally available, "
         "the pool's Kubernetes version makes it Managed by default. Remove the tag.";
}

bool gpp_legacy_tag(const json_t *tags) {
  const char *k;
  json_t *v;
  if (!tags) return false;
  json_object_foreach((json_t *)tags, k, v) {
    if (strcasecmp(k, GP_LEGACY_TAG) == 0 && json_is_string(v) && strcasecmp(json_string_value(v), "true") == 0)
      return true;
  }
  return false;
}

/* JSON paths of a pool's fields, made only when a violation needs one (ring of buffers, so that a
 * few can be alive at once). */
typedef struct {
  const char *base;
  char buf[8][GP_PATH_MAX];
  unsigned next;
} paths;

static const char *path_of(paths *ps, const char *field) {
  char *b = ps->buf[ps->next++ % 8];
  snprintf(b, GP_PATH_MAX, "%s.%s", ps->base, field);
  return b;
}

static const char *name_of(const gp_enum_names *t, int v) {
  const char *n = gp_enum_name(t, v);
  return n ? n : "(none)";
}

/* The same MIG instances, in any order (a GPU's layout does not depend on the order it is written in). */
static bool same_mig_set(const gp_gpu_settings *a, const gp_gpu_settings *b) {
  int count[GP_MIG_PROFILE_COUNT + 1] = {0};
  if (a->mig_profile_count != b->mig_profile_count) return false;
  for (size_t i = 0; i < a->mig_profile_count; i++) {
    count[a->mig_profiles[i]]++;
    count[b->mig_profiles[i]]--;
  }
  for (size_t i = 0; i <= GP_MIG_PROFILE_COUNT; i++)
    if (count[i]) return false;
  return true;
}

static void mig_list_text(const gp_gpu_settings *s, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < s->mig_profile_count; i++) {
    int n = snprintf(buf + used, size - used, "%s%s", i ? "," : "", name_of(&gp_mig_profile_names, s->mig_profiles[i]));
    if (n < 0 || (size_t)n >= size - used) break;
    used += (size_t)n;
  }
}

static void change_not_allowed(gp_error *err, const char *path, const char *hint) {
  gp_error_add(err, "PropertyChangeNotAllowed", path, "Changing property '%s' is not allowed. %s", path, hint);
}

/* A mutable GPU setting (managementMode, driverMode, migStrategy): a value sent is a declaration,
 * whatever the current effective value is; null removes the declaration; absent keeps it. */
static int merge_mutable(int declared, int requested, bool cleared) {
  if (requested) return requested;
  return cleared ? 0 : declared;
}

/* A setting fixed at creation: null is refused once it holds a value (and changes nothing before). */
static void fixed_cleared(gp_error *err, paths *ps, const char *field, const char *now) {
  const char *p = path_of(ps, field);
  gp_error_add(err, "PropertyChangeNotAllowed", p,
               "Changing property '%s' is not allowed: it is fixed when the pool is created (it is %s), so null "
               "cannot remove it. Leave it out of the request, or send its current value.",
               p, now);
}

/* Step 1: the request's GPU settings merged into the stored declarations. */
static void merge_gpu(const gp_pool_request *req, const gp_pool *old, paths *ps, gp_gpu_settings *d, gp_error *err) {
  bool create = old == NULL;
  char text[128];
  if (!req) return;
  const gp_gpu_settings *r = &req->gpu;
  unsigned cleared = req->cleared;
  /* driver and driverType: fixed at creation; the effective value then counts as declared */
  if (r->driver) {
    if (create || !old->effective.driver)
      d->driver = r->driver;
    else if (r->driver != old->effective.driver)
      change_not_allowed(err, path_of(ps, "gpuProfile.driver"),
                         "'gpuProfile.driver' is fixed when the pool is created; create a new pool with the other "
                         "value and move the workloads.");
  } else if ((cleared & GP_CLEAR_DRIVER) && !create && old->effective.driver) {
    fixed_cleared(err, ps, "gpuProfile.driver", name_of(&gp_driver_names, old->effective.driver));
  }
  if (r->driver_type) {
    if (create || !old->effective.driver_type)
      d->driver_type = r->driver_type;
    else if (r->driver_type != old->effective.driver_type)
      change_not_allowed(err, path_of(ps, "gpuProfile.driverType"),
                         "'gpuProfile.driverType' is fixed when the pool is created.");
  } else if ((cleared & GP_CLEAR_DRIVER_TYPE) && !create && old->effective.driver_type) {
    fixed_cleared(err, ps, "gpuProfile.driverType", name_of(&gp_driver_type_names, old->effective.driver_type));
  }
  if (r->instance_profile) {
    if (create)
      d->instance_profile = r->instance_profile;
    else if (r->instance_profile != old->declared.instance_profile)
      change_not_allowed(err, path_of(ps, "gpuInstanceProfile"),
                         "The MIG profile is fixed when the pool is created; create a new pool.");
  } else if ((cleared & GP_CLEAR_INSTANCE_PROFILE) && !create && old->declared.instance_profile) {
    fixed_cleared(err, ps, "gpuInstanceProfile", name_of(&gp_mig_profile_names, old->declared.instance_profile));
  }
  if (r->mig_profile_count) {
    if (create) {
      d->mig_profile_count = r->mig_profile_count;
      memcpy(d->mig_profiles, r->mig_profiles, sizeof d->mig_profiles);
    } else if (!same_mig_set(r, &old->declared)) {
      change_not_allowed(err, path_of(ps, "gpuProfile.nvidia.migProfiles"),
                         "The MIG layout is fixed when the pool is created; create a new pool.");
    } /* the same instances in another order: no change, the stored order stays */
  } else if ((cleared & GP_CLEAR_MIG_PROFILES) && !create && old->declared.mig_profile_count) {
    mig_list_text(&old->declared, text, sizeof text);
    fixed_cleared(err, ps, "gpuProfile.nvidia.migProfiles", text);
  }
  d->management_mode =
      (gp_mgmt_mode)merge_mutable(d->management_mode, r->management_mode, cleared & GP_CLEAR_MANAGEMENT_MODE);
  d->driver_mode = (gp_driver_mode)merge_mutable(d->driver_mode, r->driver_mode, cleared & GP_CLEAR_DRIVER_MODE);
  d->mig_strategy = (gp_mig_strategy)merge_mutable(d->mig_strategy, r->mig_strategy, cleared & GP_CLEAR_MIG_STRATEGY);
}

/* Non-GPU fields: identity, size, OS, count, labels, taints, tags, extras. */
static void merge_basics(gp_pool *p, const gp_pool_request *r, bool create, paths *ps, gp_error *err) {
  if (!r) return;
  if (create && r->name && !(p->name = strdup(r->name))) err->oom = true;
  if (create) {
    if (!r->vm_size || !*r->vm_size)
      gp_error_add(err, "InvalidParameter", path_of(ps, "vmSize"),
                   "'%s' is required when creating a pool, for example \"Standard_NC24ads_A100_v4\".",
                   path_of(ps, "vmSize"));
    else if (!(p->vm_size = strdup(r->vm_size)))
      err->oom = true;
  } else if (r->vm_size && strcasecmp(r->vm_size, p->vm_size) != 0) {
    change_not_allowed(err, path_of(ps, "vmSize"), "Create a new pool with the other VM size and move the workloads.");
  }
  if (create) {
    p->os_type = r->os_type ? r->os_type : (r->os_sku ? gp_os_sku_type(r->os_sku) : GP_OS_TYPE_LINUX);
  } else if (r->os_type && r->os_type != p->os_type) {
    change_not_allowed(err, path_of(ps, "osType"), "Create a new pool with the other OS type.");
  }
  if (r->os_sku && gp_os_sku_type(r->os_sku) != p->os_type) {
    gp_error_add(err, "InvalidParameter", path_of(ps, "osSKU"), "OS SKU '%s' is not a %s OS SKU; osType is %s.",
                 name_of(&gp_os_sku_names, r->os_sku), name_of(&gp_os_type_names, p->os_type),
                 name_of(&gp_os_type_names, p->os_type));
    if (create) p->os_sku = p->os_type == GP_OS_TYPE_WINDOWS ? GP_OS_SKU_WINDOWS2022 : GP_OS_SKU_UBUNTU;
  } else if (r->os_sku) {
    p->os_sku = r->os_sku;
  } else if (create) {
    p->os_sku = p->os_type == GP_OS_TYPE_WINDOWS ? GP_OS_SKU_WINDOWS2022 : GP_OS_SKU_UBUNTU;
  }
  if (r->has_count)
    p->count = r->count;
  else if (create)
    p->count = 1;
  if (r->pool_mode)
    p->pool_mode = r->pool_mode;
  else if (create)
    p->pool_mode = GP_POOL_MODE_USER;
#define REPLACE_JSON(field)                                                                                            \
  if (r->field) {                                                                                                      \
    json_t *c = gpj_share(r->field);                                                                                   \
    if (!c)                                                                                                            \
      err->oom = true;                                                                                                 \
    else {                                                                                                             \
      json_decref(p->field);                                                                                           \
      p->field = c;                                                                                                    \
    }                                                                                                                  \
  }
  REPLACE_JSON(node_labels)
  REPLACE_JSON(node_taints)
  REPLACE_JSON(tags)
  /* upgradeSettings is stored with the unknown properties, which a PUT replaces; but it is a setting
   * of the pool like the others: left out, it keeps its stored value (null goes back to the defaults),
   * so an update of something else never changes how the next rollout runs. */
  json_t *kept = NULL;
  if (!create && r->extra && p->extra && !(r->cleared & GP_CLEAR_UPGRADE_SETTINGS) &&
      !json_object_get(r->extra, "upgradeSettings"))
    kept = gpj_share(json_object_get(p->extra, "upgradeSettings"));
  REPLACE_JSON(extra)
  REPLACE_JSON(extra_top)
#undef REPLACE_JSON
  if (kept) {
    json_t *with = json_copy(p->extra);
    if (!with || json_object_set(with, "upgradeSettings", kept)) {
      err->oom = true;
      json_decref(with);
    } else {
      json_decref(p->extra);
      p->extra = with;
    }
    json_decref(kept);
  }
}

/* Kubernetes version: declared or the cluster's, supported, never lower. */
static void decide_version(gp_pool *p, const gp_pool_request *r, const gp_pool *old, const gp_policy_context *ctx,
                           paths *ps, gp_error *err) {
  char full[48];
  if (r && r->orchestrator_version) { /* a version sent is a declaration: the pool no longer follows the cluster */
    free(p->orchestrator_version);
    if (!(p->orchestrator_version = strdup(r->orchestrator_version))) {
      err->oom = true;
      return;
    }
  } else if (r && (r->cleared & GP_CLEAR_ORCHESTRATOR_VERSION)) {
    free(p->orchestrator_version);
    p->orchestrator_version = NULL; /* follows the cluster again */
  }
  gp_k8s_version v;
  if (p->orchestrator_version) {
    if (!gp_k8s_version_parse(p->orchestrator_version, &v)) {
      gp_error_add(err, "InvalidOrchestratorVersion", path_of(ps, "orchestratorVersion"),
                   "'%.40s' is not a Kubernetes version. Write MAJOR.MINOR or MAJOR.MINOR.PATCH, for example \"1.35\".",
                   p->orchestrator_version);
      return;
    }
  } else if (ctx->cluster) {
    v = ctx->cluster->k8s;
  } else {
    gp_k8s_version_parse(GP_DEFAULT_KUBERNETES_VERSION, &v);
  }
  if (!gp_catalog_k8s_supported(&v)) {
    int lo, hi;
    gp_catalog_k8s_range(&lo, &hi);
    gp_k8s_version_full(&v, full, sizeof full);
    gp_error_add(err, "InvalidOrchestratorVersion", path_of(ps, "orchestratorVersion"),
                 "Kubernetes %s is not supported. Supported versions are 1.%d to 1.%d.", full, lo, hi);
    return;
  }
  if (old && gp_k8s_version_cmp(&v, &old->k8s) < 0) {
    char cur[48];
    gp_k8s_version_full(&v, full, sizeof full);
    gp_k8s_version_full(&old->k8s, cur, sizeof cur);
    gp_error_add(err, "InvalidOrchestratorVersion", path_of(ps, "orchestratorVersion"),
                 "Kubernetes %s is lower than the pool's current version %s; downgrades are not supported.", full, cur);
    return;
  }
  if (ctx->cluster && gp_k8s_version_cmp(&v, &ctx->cluster->k8s) > 0) {
    char cl[48];
    gp_k8s_version_full(&v, full, sizeof full);
    gp_k8s_version_full(&ctx->cluster->k8s, cl, sizeof cl);
    gp_error_add(
        err, "InvalidOrchestratorVersion", path_of(ps, "orchestratorVersion"),
        "Kubernetes %s is above the cluster's version %s: a pool may not run a newer Kubernetes than its "
        "control plane. Upgrade the cluster first (gpupool cluster update -g GROUP -n CLUSTER -k %s, or a PUT of "
        "the managed cluster with properties.kubernetesVersion %s), or choose %s or lower.",
        full, cl, full, full, cl);
    return;
  }
  p->k8s = v;
}

/* The default management mode of a pool that declares none (SPEC §4, first match wins). */
static gp_mgmt_mode default_management_mode(const gp_pool *p, const gp_policy_context *ctx, gp_source *src) {
  if (ctx->cluster && ctx->cluster->management_mode) {
    *src = GP_SRC_CLUSTER;
    return ctx->cluster->management_mode;
  }
  if (ctx->phase == GP_PHASE_GA && gp_k8s_version_cmp(&p->k8s, &ctx->ga_version) >= 0) {
    *src = GP_SRC_K8S_VERSION_DEFAULT;
    return GP_MGMT_MANAGED;
  }
  if (ctx->feature_managed_gpu_experience && gpp_legacy_tag(p->tags)) {
    *src = GP_SRC_LEGACY_TAG;
    return GP_MGMT_MANAGED;
  }
  *src = GP_SRC_PREVIEW_DEFAULT;
  return GP_MGMT_UNMANAGED;
}

static bool any_nvidia(const gp_gpu_settings *d) {
  return d->management_mode || d->driver_mode || d->mig_strategy || d->mig_profile_count;
}

/* Preview gating: newly declared or changed gpuProfile.nvidia fields need a registered feature. */
static void check_gating(const gp_pool *p, const gp_pool *old, const gp_policy_context *ctx, paths *ps, gp_error *err) {
  static const gp_gpu_settings none;
  const gp_gpu_settings *d = &p->declared, *o = old ? &old->declared : &none;
  if (ctx->phase != GP_PHASE_PREVIEW || ctx->feature_managed_gpu || ctx->feature_managed_gpu_experience) return;
  const char *changed[4];
  size_t n = 0;
  /* A value equal to the stored declaration is no new declaration, and removing one declares nothing:
   * neither is gated, so a pool keeps working when the feature is unregistered later. */
  if (d->management_mode && d->management_mode != o->management_mode)
    changed[n++] = path_of(ps, "gpuProfile.nvidia.managementMode");
  if (d->driver_mode && d->driver_mode != o->driver_mode) changed[n++] = path_of(ps, "gpuProfile.nvidia.driverMode");
  if (d->mig_strategy && d->mig_strategy != o->mig_strategy)
    changed[n++] = path_of(ps, "gpuProfile.nvidia.migStrategy");
  if (d->mig_profile_count && !same_mig_set(d, o)) changed[n++] = path_of(ps, "gpuProfile.nvidia.migProfiles");
  for (size_t i = 0; i < n; i++)
    gp_error_add(err, "PreviewFeatureNotRegistered", changed[i],
                 "'%s' is a preview setting. " GPP_REGISTER_FEATURE_HINT " (" GP_FEATURE_MANAGED_GPU_EXPERIENCE
                 " unlocks it too.)",
                 changed[i]);
}

/* The name of a catalog size that can do what a field asks, for "choose a size such as …". */
static const char *size_for(bool mig, unsigned os_mask, int gpus) {
  const gp_vm_size *s = gp_catalog_vm_size_for(GP_VENDOR_NVIDIA, mig, os_mask, gpus);
  if (!s) s = gp_catalog_vm_size_for(GP_VENDOR_NVIDIA, mig, 0, gpus);
  return s ? s->name : "a size from gpupool vm-size list";
}

static bool declares_mig(const gp_gpu_settings *d) {
  return d->instance_profile || d->mig_profile_count || d->mig_strategy == GP_MIG_STRATEGY_SINGLE ||
         d->mig_strategy == GP_MIG_STRATEGY_MIXED;
}

/* GPU fields on a CPU size: each refused, with a size that can do what that field asks. */
static void gpu_field_on_cpu(const gp_pool *p, paths *ps, gp_error *err) {
  const gp_gpu_settings *d = &p->declared;
  unsigned os = gp_os_sku_family(p->os_sku);
  const char *field[4], *size[4];
  size_t n = 0;
  if (d->instance_profile) {
    field[n] = "gpuInstanceProfile";
    size[n++] = size_for(true, os, 0);
  }
  if (d->driver) {
    field[n] = "gpuProfile.driver";
    size[n++] = size_for(false, os, 0);
  }
  if (d->driver_type) {
    field[n] = "gpuProfile.driverType";
    size[n++] = size_for(false, GP_OS_FAMILY_WINDOWS, 0);
  }
  if (any_nvidia(d)) { /* the managed experience is for Linux; a MIG setting needs a MIG-capable size */
    field[n] = "gpuProfile.nvidia";
    size[n++] = size_for(declares_mig(d), os & ~(unsigned)GP_OS_FAMILY_WINDOWS, 0);
  }
  for (size_t i = 0; i < n; i++) {
    const char *path = path_of(ps, field[i]);
    gp_error_add(err, "GPUProfileNotSupportedOnVMSize", path,
                 "VM size '%.128s' has no GPU, so '%s' cannot be set. Remove it, or choose a GPU size that supports "
                 "it, such as %s (gpupool vm-size list shows them all).",
                 p->vm_size ? p->vm_size : "", path, size[i]);
  }
}

/* An N-series (GPU family) size the catalog does not know: refused rather than taken for a CPU size
 * (with no GPU software and no warning), naming the closest sizes it knows. */
static void unknown_gpu_size(const gp_pool *p, paths *ps, gp_error *err) {
  const gp_vm_size *near[3];
  size_t n = gp_catalog_vm_size_suggest(p->vm_size, near, 3), used = 0;
  char hint[256] = "";
  for (size_t i = 0; i < n; i++) {
    int k = snprintf(hint + used, sizeof hint - used, "%s%s%s",
                     i == 0   ? "Did you mean "
                     : i == 1 ? " (also close: "
                              : ", ",
                     near[i]->name,
                     i == 0       ? "?"
                     : i + 1 == n ? ")"
                                  : "");
    if (k < 0 || (size_t)k >= sizeof hint - used) break;
    used += (size_t)k;
  }
  gp_error_add(err, "VMSizeNotInGPUCatalog", path_of(ps, "vmSize"),
               "VM size '%.128s' is an N-series (GPU) size that gpupool's catalog does not know, so it cannot tell "
               "what its GPUs need. %s%sgpupool vm-size list shows every size it knows.",
               p->vm_size, hint, used ? " " : "");
}

/* Step 2 for NVIDIA pools: management mode, driver (the matrix), MIG strategy and driver mode. */
static void decide_nvidia(gp_pool *p, const gp_pool *old, const gp_policy_context *ctx, paths *ps, gp_warnings *w,
                          gp_error *err) {
  const gp_gpu_settings *d = &p->declared;
  gp_gpu_settings *e = &p->effective;
  bool create = old == NULL;
  bool linux = p->os_type != GP_OS_TYPE_WINDOWS;
  bool legacy = ctx->feature_managed_gpu_experience && gpp_legacy_tag(p->tags);

  /* management mode */
  p->legacy_tag = p->legacy_tag_ignored = false;
  if (!linux) {
    e->management_mode = GP_MGMT_UNMANAGED;
    p->src_management_mode = GP_SRC_DEFAULT;
  } else if (d->management_mode) {
    e->management_mode = d->management_mode;
    p->src_management_mode = GP_SRC_DECLARED;
  } else {
    e->management_mode = default_management_mode(p, ctx, &p->src_management_mode);
    if (p->src_management_mode == GP_SRC_LEGACY_TAG) {
      p->legacy_tag = true;
      gpp_warn(w,
               "The tag EnableManagedGPUExperience=true is deprecated; declare "
               "gpuProfile.nvidia.managementMode: Managed instead (api-version 2026-08-02-preview or later).",
               err);
    } else if (legacy) { /* an earlier rule of the default decided: the tag is silently overridden */
      char msg[600];
      p->legacy_tag_ignored = true;
      snprintf(msg, sizeof msg, "%s%.64s%s%s", p->name ? "Agent pool '" : "", p->name ? p->name : "",
               p->name ? "': " : "", gpp_legacy_tag_ignored(p->src_management_mode));
      gp_utf8_sanitize(msg);
      gpp_warn(w, msg, err);
    }
  }
  if (linux && legacy && d->management_mode == GP_MGMT_UNMANAGED)
    gp_error_add(err, "ConflictingManagedGPUSettings", path_of(ps, "gpuProfile.nvidia.managementMode"),
                 "The tag EnableManagedGPUExperience=true asks for a managed pool but managementMode is Unmanaged. "
                 "Remove the tag, or the Unmanaged setting.");

  /* driver: the decision matrix. On an update the driver fixed at creation counts as declared. */
  gp_driver drv = create ? d->driver : old->effective.driver;
  if (e->management_mode == GP_MGMT_MANAGED) {
    if (drv == GP_DRIVER_NONE) {
      if (!create && old->src_management_mode != GP_SRC_DECLARED &&
          old->effective.management_mode == GP_MGMT_UNMANAGED && p->src_management_mode != GP_SRC_DECLARED) {
        const char *target = p->src_management_mode == GP_SRC_CLUSTER ? "properties.gpuProfile.nvidia.managementMode"
                             : p->src_management_mode == GP_SRC_K8S_VERSION_DEFAULT ? path_of(ps, "orchestratorVersion")
                                                                                    : path_of(ps, "tags");
        gp_error_add(err, "ManagedGPUDefaultConflict", target,
                     "Pool '%s' has gpuProfile.driver None and no managementMode; this change would make it Managed "
                     "by default (%s), which needs the NVIDIA driver. Declare gpuProfile.nvidia.managementMode: "
                     "Unmanaged on the pool first.",
                     p->name ? p->name : "", name_of(&gp_source_names, p->src_management_mode));
      } else if (p->src_management_mode == GP_SRC_DECLARED) {
        gp_error_add(err, "ManagedGPURequiresDriver", path_of(ps, "gpuProfile.driver"),
                     "managementMode Managed installs the NVIDIA driver and the GPU components, so driver None "
                     "contradicts it. Set gpuProfile.driver to Install (or leave it out), or set managementMode "
                     "Unmanaged.");
      } else {
        gp_error_add(err, "ManagedGPURequiresDriver", path_of(ps, "gpuProfile.driver"),
                     "This pool is Managed by default (%s), which installs the NVIDIA driver, so driver None "
                     "contradicts it. Declare gpuProfile.nvidia.managementMode: Unmanaged to keep driver None, or "
                     "remove driver None.",
                     name_of(&gp_source_names, p->src_management_mode));
      }
    }
    e->driver = GP_DRIVER_INSTALL;
  } else if (drv == GP_DRIVER_UNSET) {
    if (create && d->management_mode == GP_MGMT_UNMANAGED)
      gp_error_add(err, "GPUDriverNotSpecified", path_of(ps, "gpuProfile.driver"),
                   "With managementMode Unmanaged, say whether the NVIDIA driver is installed: set gpuProfile.driver "
                   "to Install or None.");
    e->driver = GP_DRIVER_INSTALL;
  } else {
    e->driver = drv;
  }
  p->src_driver = create ? (d->driver ? GP_SRC_DECLARED : GP_SRC_DEFAULT) : old->src_driver;

  /* driver type (Windows only): declared, else by the SKU's driver family */
  if (!linux) {
    const char *fam = p->size->driver_family;
    e->driver_type =
        d->driver_type ? d->driver_type : (strncmp(fam, "grid", 4) == 0 ? GP_DRIVER_TYPE_GRID : GP_DRIVER_TYPE_CUDA);
    return;
  }

  bool mig = d->instance_profile || d->mig_profile_count;
  bool managed = e->management_mode == GP_MGMT_MANAGED;
  e->driver_mode = d->driver_mode ? d->driver_mode : GP_DRIVER_MODE_DEVICE_PLUGIN;
  p->src_driver_mode = d->driver_mode ? GP_SRC_DECLARED : GP_SRC_DEFAULT;
  if (d->mig_strategy) {
    e->mig_strategy = d->mig_strategy;
    p->src_mig_strategy = GP_SRC_DECLARED;
  } else if (mig && managed && e->driver_mode == GP_DRIVER_MODE_DEVICE_PLUGIN) {
    e->mig_strategy = GP_MIG_STRATEGY_SINGLE;
    p->src_mig_strategy = GP_SRC_MIG_DEFAULT;
  } else {
    e->mig_strategy = GP_MIG_STRATEGY_NONE;
    p->src_mig_strategy = GP_SRC_DEFAULT;
  }
}

/* MIG rules of §5 and the layout check (a real placement search). */
static void check_mig(const gp_pool *p, paths *ps, gp_error *err) {
  const gp_gpu_settings *d = &p->declared, *e = &p->effective;
  bool gip = d->instance_profile != GP_MIG_UNSET, list = d->mig_profile_count > 0;
  bool mig = gip || list;
  bool strategy = d->mig_strategy == GP_MIG_STRATEGY_SINGLE || d->mig_strategy == GP_MIG_STRATEGY_MIXED;
  bool managed = e->management_mode == GP_MGMT_MANAGED;
  size_t before = err->count;
  const char *mig_path = list ? path_of(ps, "gpuProfile.nvidia.migProfiles") : path_of(ps, "gpuInstanceProfile");

  if (gip && list)
    gp_error_add(err, "ConflictingMIGSettings", path_of(ps, "gpuProfile.nvidia.migProfiles"),
                 "Set either gpuInstanceProfile or gpuProfile.nvidia.migProfiles, not both.");
  if (mig && !p->size->mig)
    gp_error_add(err, "MIGNotSupportedOnVMSize", mig_path,
                 "VM size '%s' (%s) does not support MIG. Remove the MIG profile, or choose a MIG-capable size such "
                 "as %s (gpupool vm-size list shows which are).",
                 p->size->name, p->size->gpu_model, size_for(true, gp_os_sku_family(p->os_sku), p->size->gpus));
  /* d->driver too: a Managed pool with driver None is refused (ManagedGPURequiresDriver) and its
   * effective driver set to Install, but the MIG profile contradicts the None the user asked for */
  if (mig && (e->driver == GP_DRIVER_NONE || d->driver == GP_DRIVER_NONE))
    gp_error_add(err, "MIGRequiresGPUDriver", mig_path,
                 "MIG partitioning needs the NVIDIA driver, but gpuProfile.driver is None. Set driver Install or "
                 "remove the MIG profile.");
  if (strategy && !mig)
    gp_error_add(err, "MIGStrategyRequiresMIGProfile", path_of(ps, "gpuProfile.nvidia.migStrategy"),
                 "migStrategy %s needs a MIG profile. Set gpuInstanceProfile or gpuProfile.nvidia.migProfiles, or "
                 "set migStrategy None.",
                 name_of(&gp_mig_strategy_names, d->mig_strategy));
  if (strategy && !managed)
    gp_error_add(err, "MIGStrategyRequiresManagedGPU", path_of(ps, "gpuProfile.nvidia.migStrategy"),
                 "migStrategy %s configures the managed device plugin, but this pool's managementMode is %s. Set "
                 "managementMode Managed, or leave migStrategy out.",
                 name_of(&gp_mig_strategy_names, d->mig_strategy), name_of(&gp_mgmt_mode_names, e->management_mode));
  if (d->driver_mode == GP_DRIVER_MODE_DRA && !managed)
    gp_error_add(err, "DriverModeRequiresManagedGPU", path_of(ps, "gpuProfile.nvidia.driverMode"),
                 "driverMode DRA installs the managed NVIDIA DRA driver, but this pool's managementMode is %s. Set "
                 "managementMode Managed, or driverMode DevicePlugin.",
                 name_of(&gp_mgmt_mode_names, e->management_mode));
  if (d->driver_mode == GP_DRIVER_MODE_DRA && strategy)
    gp_error_add(err, "ConflictingMIGSettings", path_of(ps, "gpuProfile.nvidia.migStrategy"),
                 "migStrategy %s configures the device plugin, which driverMode DRA replaces. Leave migStrategy out "
                 "(or None) with DRA, or use driverMode DevicePlugin.",
                 name_of(&gp_mig_strategy_names, d->mig_strategy));
  if (err->count != before || !list) return;

  /* Layout: when the managed device plugin runs (gp_plan_node_setup says whether) in single mode,
   * one profile fills each GPU; otherwise the listed instances must all be placed on one GPU at once. */
  gp_node_setup node;
  gp_plan_node_setup(p, &node, NULL);
  bool single = node.device_plugin && e->mig_strategy != GP_MIG_STRATEGY_MIXED;
  char text[128];
  if (single && d->mig_profile_count != 1) {
    mig_list_text(d, text, sizeof text);
    if (d->mig_strategy == GP_MIG_STRATEGY_SINGLE)
      gp_error_add(err, "InvalidMIGLayout", path_of(ps, "gpuProfile.nvidia.migProfiles"),
                   "migStrategy Single needs exactly one entry in migProfiles (got %zu: %s). Use migStrategy Mixed "
                   "for several instances per GPU.",
                   d->mig_profile_count, text);
    else
      gp_error_add(err, "InvalidMIGLayout", path_of(ps, "gpuProfile.nvidia.migProfiles"),
                   "The device plugin runs in single mode (migStrategy %s), which needs exactly one entry in "
                   "migProfiles (got %zu: %s). Declare migStrategy Mixed for several instances per GPU.",
                   name_of(&gp_mig_strategy_names, e->mig_strategy), d->mig_profile_count, text);
    return;
  }
  if (d->mig_profile_count > 1 && !gp_mig_place(d->mig_profiles, d->mig_profile_count, NULL)) {
    mig_list_text(d, text, sizeof text);
    gp_error_add(err, "InvalidMIGLayout", path_of(ps, "gpuProfile.nvidia.migProfiles"),
                 "The MIG instances %s cannot all be placed on one GPU of %s: a GPU has 7 compute slices and 8 memory "
                 "slices, and each profile may only start at certain slices. Drop or shrink an instance (for "
                 "example MIG3g,MIG2g,MIG1g,MIG1g fits).",
                 text, p->size->name);
  }
}

/* "7 × 1g.10gb" or "1 × 3g.40gb + 1 × 2g.20gb": a GPU's instances by NVIDIA profile, in creation
 * order; "no MIG" without a layout. */
static void layout_text(const gp_mig_layout *l, bool has, const char *gpu_model, char *buf, size_t size) {
  int count[GP_MIG_PROFILE_COUNT + 1] = {0};
  size_t used = 0;
  snprintf(buf, size, "no MIG");
  if (!has) return;
  for (size_t i = 0; i < l->count; i++)
    count[l->inst[i].profile]++;
  buf[0] = '\0';
  for (size_t i = 0; i < l->count; i++) {
    gp_mig_profile pr = l->inst[i].profile;
    if (!count[pr]) continue; /* already written */
    const gp_mig_model_profile *mp = gp_catalog_mig_profile(gpu_model, pr);
    int n = snprintf(buf + used, size - used, "%s%d × %s", used ? " + " : "", count[pr],
                     mp ? mp->nvidia_name : name_of(&gp_mig_profile_names, pr));
    if (n < 0 || (size_t)n >= size - used) break;
    used += (size_t)n;
    count[pr] = 0;
  }
}

/* The effective MIG layout (the instances each GPU gets) is fixed at creation: re-partitioning needs
 * idle GPUs and a reboot on Azure VMs, so an update may not change it, whichever field would
 * (migStrategy reading the same migProfiles differently, managementMode or driverMode changing the
 * strategy). The same instances in another order are the same layout. */
static void check_layout_kept(const gp_pool *p, const gp_pool *old, paths *ps, gp_error *err) {
  gp_mig_layout a, b;
  bool had = gp_plan_mig_layout(old, &a), has = gp_plan_mig_layout(p, &b);
  int count[GP_MIG_PROFILE_COUNT + 1] = {0};
  if (had && has && a.count == b.count) {
    for (size_t i = 0; i < a.count; i++) {
      count[a.inst[i].profile]++;
      count[b.inst[i].profile]--;
    }
    bool same = true;
    for (size_t i = 0; i <= GP_MIG_PROFILE_COUNT; i++)
      same = same && !count[i];
    if (same) return;
  } else if (!had && !has) {
    return;
  }
  const gp_gpu_settings *d = &p->declared, *o = &old->declared;
  const char *field = "gpuProfile.nvidia.migStrategy",
             *now = name_of(&gp_mig_strategy_names, old->effective.mig_strategy);
  if (d->mig_strategy == o->mig_strategy && d->management_mode != o->management_mode) {
    field = "gpuProfile.nvidia.managementMode";
    now = name_of(&gp_mgmt_mode_names, old->effective.management_mode);
  } else if (d->mig_strategy == o->mig_strategy && d->driver_mode != o->driver_mode) {
    field = "gpuProfile.nvidia.driverMode";
    now = name_of(&gp_driver_mode_names, old->effective.driver_mode);
  }
  char before[160], after[160];
  const char *model = p->size ? p->size->gpu_model : "";
  layout_text(&a, had, model, before, sizeof before);
  layout_text(&b, has, model, after, sizeof after);
  const char *path = path_of(ps, field);
  gp_error_add(err, "PropertyChangeNotAllowed", path,
               "The MIG layout of a pool is fixed when it is created: this change would turn each GPU's %s into %s, "
               "re-partitioning every node. Keep '%s' as it is (%s), or create a new pool with the layout you want "
               "and move the workloads.",
               before, after, path, now);
}

static void check_labels(const gp_pool *p, paths *ps, gp_error *err) {
  static const char *const reserved[] = {"kubernetes.azure.com/", "nvidia.com/mig.", "nvidia.com/gpu.deploy.", NULL};
  const char *k;
  json_t *v;
  if (!p->node_labels) return;
  json_object_foreach(p->node_labels, k, v) {
    for (size_t i = 0; reserved[i]; i++) {
      if (strncasecmp(k, reserved[i], strlen(reserved[i])) == 0) {
        char t[GP_PATH_MAX + 80];
        snprintf(t, sizeof t, "%s['%.64s']", path_of(ps, "nodeLabels"), k);
        gp_error_add(err, "InvalidNodeLabel", t,
                     "Node label '%.64s' uses the reserved prefix '%s', which gpupool and the GPU components set "
                     "themselves. Choose another label key.",
                     k, reserved[i]);
      }
    }
  }
}

gp_pool *gp_policy_apply_pool(const gp_policy_context *ctx, const gp_pool_request *req, const gp_pool *existing,
                              gp_warnings *w, gp_error *err) {
  bool create = existing == NULL;
  size_t before = err->count;
  paths ps;
  gp_pool *p;
  if (!req && !existing) return NULL;
  ps.base = req ? req->path : "properties";
  ps.next = 0;
  p = create ? calloc(1, sizeof *p) : gp_pool_clone(existing);
  if (!p) {
    err->oom = true;
    return NULL;
  }
  merge_basics(p, req, create, &ps, err);
  if (err->oom) goto fail;
  /* Without a VM size no GPU rule can be judged, but the labels and the version can; other basic
   * violations (a changed vmSize or osType keeps the stored one) let every rule be checked. */
  decide_version(p, req, existing, ctx, &ps, err);
  if (!p->vm_size) {
    check_labels(p, &ps, err);
    goto fail;
  }
  p->size = gp_catalog_vm_size(p->vm_size);
  merge_gpu(req, existing, &ps, &p->declared, err);
  memset(&p->effective, 0, sizeof p->effective);
  p->src_driver = p->src_management_mode = p->src_driver_mode = p->src_mig_strategy = GP_SRC_NONE;
  p->legacy_tag = p->legacy_tag_ignored = false;

  const gp_gpu_settings *d = &p->declared;
  bool windows = p->os_type == GP_OS_TYPE_WINDOWS;
  check_labels(p, &ps, err);
  if (!p->size) {
    if (create && gp_catalog_is_n_series(p->vm_size))
      unknown_gpu_size(p, &ps, err); /* a stored pool's size was accepted when it was created: it stays */
    else
      gpu_field_on_cpu(p, &ps, err);
    goto done;
  }
  check_gating(p, existing, ctx, &ps, err);
  if (!(p->size->os_mask & gp_os_sku_family(p->os_sku))) {
    char list[96];
    gp_error_add(err, "InvalidOSSKU", req && req->os_sku ? path_of(&ps, "osSKU") : path_of(&ps, "osType"),
                 "VM size '%s' supports the OS SKUs %s for GPU pools; '%s' is not one of them.", p->size->name,
                 gp_os_mask_list(p->size->os_mask, list, sizeof list), name_of(&gp_os_sku_names, p->os_sku));
  }
  if (windows && any_nvidia(d))
    gp_error_add(err, "ManagedGPUNotSupportedOnWindows", path_of(&ps, "gpuProfile.nvidia"),
                 "The managed GPU experience is for Linux pools; remove gpuProfile.nvidia from this Windows pool "
                 "(its driver is set with gpuProfile.driver and driverType).");
  if (!windows && d->driver_type)
    gp_error_add(err, "DriverTypeNotSupportedOnLinux", path_of(&ps, "gpuProfile.driverType"),
                 "gpuProfile.driverType chooses the GRID or CUDA driver of Windows pools; remove it from this Linux "
                 "pool.");

  if (p->size->vendor == GP_VENDOR_AMD) {
    if (any_nvidia(d))
      gp_error_add(err, "GPUProfileNotSupportedOnVMSize", path_of(&ps, "gpuProfile.nvidia"),
                   "gpuProfile.nvidia applies to NVIDIA GPUs; VM size '%s' has AMD %s GPUs.", p->size->name,
                   p->size->gpu_model);
    if (d->driver == GP_DRIVER_INSTALL)
      gp_error_add(err, "GPUDriverInstallNotSupported", path_of(&ps, "gpuProfile.driver"),
                   "There is no managed driver for AMD GPUs ('%s'). Set gpuProfile.driver None (the default) and "
                   "install the AMD GPU operator yourself.",
                   p->size->name);
    if (d->instance_profile)
      gp_error_add(err, "MIGNotSupportedOnVMSize", path_of(&ps, "gpuInstanceProfile"),
                   "VM size '%s' (AMD %s) does not support MIG.", p->size->name, p->size->gpu_model);
    p->effective.driver = GP_DRIVER_NONE;
    p->src_driver = d->driver ? GP_SRC_DECLARED : GP_SRC_DEFAULT;
    goto done;
  }
  decide_nvidia(p, existing, ctx, &ps, w, err);
  if (!windows) {
    p->effective.instance_profile = d->instance_profile;
    p->effective.mig_profile_count = d->mig_profile_count;
    memcpy(p->effective.mig_profiles, d->mig_profiles, sizeof d->mig_profiles);
    size_t mig_before = err->count;
    check_mig(p, &ps, err);
    if (existing && err->count == mig_before) check_layout_kept(p, existing, &ps, err);
  } else if (d->instance_profile) {
    gp_error_add(err, "MIGNotSupportedOnVMSize", path_of(&ps, "gpuInstanceProfile"),
                 "MIG profiles are not supported on Windows pools.");
  }
done:
  if (err->count == before && !err->oom && !(req && req->invalid)) return p;
fail:
  gp_pool_free(p);
  return NULL;
}

gp_pool *gp_pool_put(const gp_policy_context *ctx, const json_t *body, const gp_pool *existing, gp_warnings *w,
                     gp_error *err) {
  gp_pool_request *r = gp_pool_request_parse(body, ctx->api, err);
  if (!r) return NULL;
  gp_pool *p = gp_policy_apply_pool(ctx, r, existing, w, err);
  gp_pool_request_free(r);
  return p;
}
