/* policy_cluster.c - deciding a managed cluster PUT: its Kubernetes version and cluster-level
 * default management mode, the pools it lists (same rules as a pool PUT) and the pools it does not
 * list, which follow the new default unless that would break them (ManagedGPUDefaultConflict). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpupool/names.h"
#include "gpupool/policy.h"
#include "json_util.h"
#include "policy_internal.h"

void gp_cluster_result_free(gp_cluster_result *r) {
  if (!r) return;
  gp_cluster_free(r->cluster);
  for (size_t i = 0; i < r->pool_count; i++)
    gp_pool_free(r->pools[i]);
  free(r->pools);
  free(r->created);
  free(r->listed);
  gp_warnings_free(&r->warnings);
  free(r);
}

/* The cluster's own settings; false when its Kubernetes version is not valid (its pools cannot be
 * judged against it then). */
static bool decide_cluster(gp_cluster *c, const gp_cluster_request *r, const gp_cluster *old,
                           const gp_policy_context *ctx, gp_error *err) {
  bool create = old == NULL, version_ok = false;
  char full[48], cur[48];
  if (create) {
    c->name = gpj_strdup(r->name);
    c->location = gpj_strdup(r->location);
    c->dns_prefix = gpj_strdup(r->dns_prefix);
    if ((r->name && !c->name) || (r->location && !c->location) || (r->dns_prefix && !c->dns_prefix)) err->oom = true;
  } else {
    if (r->location && strcasecmp(r->location, c->location ? c->location : "") != 0)
      gp_error_add(err, "PropertyChangeNotAllowed", "location",
                   "Changing property 'location' is not allowed. A cluster stays in the region it was created in.");
    if (r->dns_prefix && c->dns_prefix && strcmp(r->dns_prefix, c->dns_prefix) != 0)
      gp_error_add(err, "PropertyChangeNotAllowed", "properties.dnsPrefix",
                   "Changing property 'properties.dnsPrefix' is not allowed.");
  }
#define REPLACE_JSON(field)                                                                                            \
  if (r->field) {                                                                                                      \
    json_t *n = gpj_share(r->field);                                                                                   \
    if (!n)                                                                                                            \
      err->oom = true;                                                                                                 \
    else {                                                                                                             \
      json_decref(c->field);                                                                                           \
      c->field = n;                                                                                                    \
    }                                                                                                                  \
  }
  REPLACE_JSON(tags)
  REPLACE_JSON(extra)
  REPLACE_JSON(extra_top)
#undef REPLACE_JSON
  if (r->kubernetes_version) {
    free(c->kubernetes_version);
    if (!(c->kubernetes_version = strdup(r->kubernetes_version))) err->oom = true;
  }
  gp_k8s_version v;
  const char *declared = c->kubernetes_version ? c->kubernetes_version : GP_DEFAULT_KUBERNETES_VERSION;
  if (!gp_k8s_version_parse(declared, &v)) {
    gp_error_add(err, "InvalidOrchestratorVersion", "properties.kubernetesVersion",
                 "'%.40s' is not a Kubernetes version. Write MAJOR.MINOR or MAJOR.MINOR.PATCH, for example \"1.35\".",
                 declared);
  } else if (!gp_catalog_k8s_supported(&v)) {
    int lo, hi;
    gp_catalog_k8s_range(&lo, &hi);
    gp_k8s_version_full(&v, full, sizeof full);
    gp_error_add(err, "InvalidOrchestratorVersion", "properties.kubernetesVersion",
                 "Kubernetes %s is not supported. Supported versions are 1.%d to 1.%d.", full, lo, hi);
  } else if (old && gp_k8s_version_cmp(&v, &old->k8s) < 0) {
    gp_k8s_version_full(&v, full, sizeof full);
    gp_k8s_version_full(&old->k8s, cur, sizeof cur);
    gp_error_add(err, "InvalidOrchestratorVersion", "properties.kubernetesVersion",
                 "Kubernetes %s is lower than the cluster's current version %s; downgrades are not supported.", full,
                 cur);
  } else {
    c->k8s = v;
    version_ok = true;
  }
  if (r->management_mode) {
    if (r->management_mode != c->management_mode && ctx->phase == GP_PHASE_PREVIEW && !ctx->feature_managed_gpu &&
        !ctx->feature_managed_gpu_experience)
      gp_error_add(err, "PreviewFeatureNotRegistered", "properties.gpuProfile.nvidia.managementMode",
                   "'properties.gpuProfile.nvidia.managementMode' is a preview setting. " GPP_REGISTER_FEATURE_HINT);
    c->management_mode = r->management_mode;
  } else if (r->clear_management_mode) {
    c->management_mode = GP_MGMT_UNSET; /* undeclared pools fall back to the next rule of the default */
  }
  return version_ok;
}

static int find_pool(gp_pool *const *pools, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (pools[i]->name && name && strcasecmp(pools[i]->name, name) == 0) return (int)i;
  return -1;
}

static bool add_pool(gp_cluster_result *res, gp_pool *p, bool created, bool listed) {
  size_t n = res->pool_count + 1;
  gp_pool **pp = realloc(res->pools, n * sizeof *pp);
  if (pp) res->pools = pp;
  bool *c = realloc(res->created, n * sizeof *c);
  if (c) res->created = c;
  bool *l = realloc(res->listed, n * sizeof *l);
  if (l) res->listed = l;
  if (!pp || !c || !l) return false;
  res->pools[res->pool_count] = p;
  res->created[res->pool_count] = created;
  res->listed[res->pool_count] = listed;
  res->pool_count = n;
  return true;
}

gp_cluster_result *gp_policy_apply_cluster(const gp_policy_context *ctx, const gp_cluster_request *req,
                                           const gp_cluster *existing, gp_pool *const *pools, size_t npools,
                                           gp_error *err) {
  size_t before = err->count;
  bool refused = false;
  gp_cluster_result *res = calloc(1, sizeof *res);
  bool *seen = calloc(npools ? npools : 1, sizeof *seen);
  if (!res || !seen || !(res->cluster = existing ? gp_cluster_clone(existing) : calloc(1, sizeof(gp_cluster)))) {
    err->oom = true;
    goto fail;
  }
  /* Other violations of the cluster's own settings still let its pools be judged (every violation
   * is listed); an invalid version does not: the pools are judged against it. */
  if (!decide_cluster(res->cluster, req, existing, ctx, err) || err->oom) goto fail;

  gp_policy_context pctx = *ctx;
  pctx.cluster = res->cluster;

  /* Pools listed in agentPoolProfiles: created or updated like a pool PUT. */
  for (size_t i = 0; i < req->pool_count; i++) {
    const gp_pool_request *pr = req->pools[i];
    char path[GP_PATH_MAX];
    snprintf(path, sizeof path, "%s.name", pr->path);
    if (!pr->name) {
      gp_error_add(err, "InvalidParameter", path, "Every entry of agentPoolProfiles needs a 'name'.");
      continue;
    }
    /* Names match case-insensitively, as in URLs: "GPU1" is the existing pool gpu1 (which keeps its
     * name); only a new pool's name must follow the naming rule. */
    int k = find_pool(pools, npools, pr->name);
    if (k < 0 && !gp_name_valid_pool(pr->name)) {
      gp_error_add(err, "InvalidParameter", path,
                   "Agent pool name '%.64s' is not valid: use 1 to 12 lowercase letters and digits, starting with a "
                   "letter.",
                   pr->name);
      continue;
    }
    bool dup = false;
    for (size_t j = 0; j < i; j++)
      if (req->pools[j]->name && strcasecmp(req->pools[j]->name, pr->name) == 0) dup = true;
    if (dup) {
      gp_error_add(err, "InvalidParameter", path, "Agent pool '%.64s' is listed twice in agentPoolProfiles.", pr->name);
      continue;
    }
    if (k >= 0) seen[k] = true;
    gp_pool *p = gp_policy_apply_pool(&pctx, pr, k >= 0 ? pools[k] : NULL, &res->warnings, err);
    if (!p) refused = true; /* its parse violations may have been recorded before this call */
    if (p && !add_pool(res, p, k < 0, true)) {
      gp_pool_free(p);
      err->oom = true;
    }
  }

  /* The other pools follow the new default and version; those it would break are named together. */
  char names[512] = "";
  size_t used = 0, conflicts = 0;
  const char *conflict_target = NULL;
  for (size_t i = 0; i < npools; i++) {
    if (seen[i]) continue;
    gp_error perr;
    gp_error_init(&perr);
    gp_pool *p = gp_policy_apply_pool(&pctx, NULL, pools[i], &res->warnings, &perr);
    if (p) {
      if (!add_pool(res, p, false, false)) {
        gp_pool_free(p);
        err->oom = true;
      }
    } else if (gp_error_has(&perr, "ManagedGPUDefaultConflict") && perr.count == 1) {
      int n = snprintf(names + used, sizeof names - used, "%s'%s'", conflicts ? ", " : "",
                       pools[i]->name ? pools[i]->name : "");
      if (n > 0 && (size_t)n < sizeof names - used) used += (size_t)n;
      conflicts++;
      /* the setting this PUT changed: the default declared, or cleared with null; else the version */
      conflict_target = !existing || existing->management_mode != res->cluster->management_mode
                            ? "properties.gpuProfile.nvidia.managementMode"
                            : "properties.kubernetesVersion";
    } else {
      for (size_t v = 0; v < perr.count; v++)
        gp_error_add(err, perr.items[v].code, perr.items[v].target, "Agent pool '%s': %s",
                     pools[i]->name ? pools[i]->name : "", perr.items[v].message);
      if (perr.oom) err->oom = true;
    }
    gp_error_clear(&perr);
  }
  if (conflicts)
    gp_error_add(err, "ManagedGPUDefaultConflict", conflict_target,
                 "This change would make agent pool%s %s Managed by default, but %s gpuProfile.driver None and no "
                 "managementMode; Managed needs the NVIDIA driver. Declare gpuProfile.nvidia.managementMode: "
                 "Unmanaged on %s first, then retry.",
                 conflicts > 1 ? "s" : "", names, conflicts > 1 ? "they have" : "it has",
                 conflicts > 1 ? "those pools" : "that pool");
  if (refused || err->count != before || err->oom) goto fail;
  free(seen);
  return res;
fail:
  free(seen);
  gp_cluster_result_free(res);
  return NULL;
}
