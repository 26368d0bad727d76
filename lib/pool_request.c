/* pool_request.c - parsing an agent pool PUT body into a gp_pool_request.
 *
 * Checks types, enums and sizes of every field gpupool models, refuses GPU fields the request's
 * api-version does not have and unknown members under gpuProfile, and keeps every other unknown
 * property for echo. Semantic rules (the matrix, MIG, immutability) are policy's job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpupool/pool.h"
#include "gpupool/rollout.h"
#include "json_util.h"

#define MAX_NAME 256
#define MAX_VM_SIZE 128
#define MAX_VERSION 32
#define MAX_LABELS 100
#define MAX_LABEL_KEY 316
#define MAX_LABEL_VALUE 63
#define MAX_TAGS 50
#define MAX_TAG_KEY 512
#define MAX_TAG_VALUE 256
#define MAX_TAINTS 50
#define MAX_TAINT 400

/* Properties gpupool models, and read-only ones a client may echo back (dropped, never stored). */
static const char *const modelled[] = {"count",
                                       "vmSize",
                                       "osType",
                                       "osSKU",
                                       "mode",
                                       "orchestratorVersion",
                                       "nodeLabels",
                                       "nodeTaints",
                                       "tags",
                                       "gpuInstanceProfile",
                                       "gpuProfile",
                                       "provisioningState",
                                       "eTag",
                                       "currentOrchestratorVersion",
                                       "nodeImageVersion",
                                       "status",          /* the server's: status.nodes (machines) */
                                       "upgradeSettings", /* checked here, then kept with the unknown ones */
                                       NULL};
static const char *const top_known[] = {"name", "id", "type", "properties", "systemData", "etag", NULL};

void gp_pool_request_free(gp_pool_request *r) {
  if (!r) return;
  free(r->name);
  free(r->vm_size);
  free(r->orchestrator_version);
  free(r->path);
  json_decref(r->node_labels);
  json_decref(r->node_taints);
  json_decref(r->tags);
  json_decref(r->extra);
  json_decref(r->extra_top);
  free(r);
}

static const char *api_hint(gp_api_group api) {
  return api == GP_API_OLD_STABLE ? "2022-11-01 knows only 'gpuInstanceProfile'"
                                  : "stable api-versions know only 'gpuProfile.driver'";
}

static void not_in_version(gp_error *err, const char *path, gp_api_group api, const char *min) {
  gp_error_add(err, "InvalidParameter", path,
               "'%s' is not available in this api-version (%s). Use api-version %s or later to set it.", path,
               api_hint(api), min);
}

static bool parse_taints(const json_t *props, const char *path, gp_pool_request *r, gp_error *err) {
  char p[GP_PATH_MAX];
  const json_t *t = json_object_get(props, "nodeTaints");
  if (!t) return true;
  gpj_path(p, sizeof p, path, "nodeTaints");
  if (!json_is_array(t)) {
    gp_error_add(err, "InvalidParameter", p, "'%s' must be an array of strings like 'sku=gpu:NoSchedule', not %s.", p,
                 gpj_type_name(t));
    return false;
  }
  if (json_array_size(t) > MAX_TAINTS) {
    gp_error_add(err, "InvalidParameter", p, "'%s' has %zu taints; at most %d are allowed.", p, json_array_size(t),
                 MAX_TAINTS);
    return false;
  }
  bool ok = true;
  size_t i;
  json_t *v;
  json_array_foreach(t, i, v) {
    char ip[GP_PATH_MAX + 16]; /* filled only for a violation */
    if (!json_is_string(v) || json_string_length(v) > MAX_TAINT ||
        strlen(json_string_value(v)) != json_string_length(v)) {
      snprintf(ip, sizeof ip, "%s[%zu]", p, i);
      gp_error_add(err, "InvalidParameter", ip, "'%s' must be a string like 'key=value:NoSchedule'.", ip);
      ok = false;
      continue;
    }
    const char *s = json_string_value(v);
    const char *colon = strrchr(s, ':');
    const char *eq = strchr(s, '=');
    bool good = colon && colon != s && (!eq || (eq < colon && eq != s));
    if (good) {
      const char *eff = colon + 1;
      good = strcmp(eff, "NoSchedule") == 0 || strcmp(eff, "PreferNoSchedule") == 0 || strcmp(eff, "NoExecute") == 0;
    }
    if (!good) {
      snprintf(ip, sizeof ip, "%s[%zu]", p, i);
      gp_error_add(err, "InvalidParameter", ip,
                   "Taint '%.100s' is not valid. Write 'key=value:Effect' or 'key:Effect' with Effect NoSchedule, "
                   "PreferNoSchedule or NoExecute.",
                   s);
      ok = false;
    }
  }
  if (ok && !(r->node_taints = gpj_share(t))) {
    err->oom = true;
    return false;
  }
  return ok;
}

/* An enum member that may also be null, which removes its declaration: *out 0 and `bit` set in
 * r->cleared. */
static bool enum_or_null(const json_t *obj, const char *key, const char *path, const gp_enum_names *names, int *out,
                         gp_pool_request *r, unsigned bit, gp_error *err) {
  if (json_is_null(json_object_get(obj, key))) {
    *out = 0;
    r->cleared |= bit;
    return true;
  }
  return gpj_enum(obj, key, path, names, out, err);
}

static bool parse_mig_profiles(const json_t *nv, const char *path, gp_pool_request *r, gp_error *err) {
  char p[GP_PATH_MAX], list[128];
  const json_t *a = json_object_get(nv, "migProfiles");
  if (!a) return true;
  if (json_is_null(a)) {
    r->cleared |= GP_CLEAR_MIG_PROFILES;
    return true;
  }
  gpj_path(p, sizeof p, path, "migProfiles");
  if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > GP_MAX_MIG_PROFILES)
    gp_enum_list(&gp_mig_profile_names, list, sizeof list);
  if (!json_is_array(a)) {
    gp_error_add(err, "InvalidParameter", p, "'%s' must be an array of MIG profiles (%s), not %s.", p, list,
                 gpj_type_name(a));
    return false;
  }
  if (json_array_size(a) == 0) {
    gp_error_add(err, "InvalidParameter", p,
                 "'%s' must list at least one MIG profile (%s); leave it out for a pool without MIG.", p, list);
    return false;
  }
  if (json_array_size(a) > GP_MAX_MIG_PROFILES) {
    gp_error_add(err, "InvalidParameter", p, "'%s' lists %zu profiles; a GPU holds at most 7 MIG instances.", p,
                 json_array_size(a));
    return false;
  }
  bool ok = true;
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    int e = json_is_string(v) ? gp_enum_parse(&gp_mig_profile_names, json_string_value(v)) : 0;
    if (!e) {
      char ip[GP_PATH_MAX + 16];
      snprintf(ip, sizeof ip, "%s[%zu]", p, i);
      gp_enum_list(&gp_mig_profile_names, list, sizeof list);
      if (json_is_string(v))
        gp_error_add(err, "InvalidParameter", ip, "'%.64s' is not a valid value for '%s'. Allowed values: %s.",
                     json_string_value(v), ip, list);
      else
        gp_error_add(err, "InvalidParameter", ip, "'%s' must be a string, not %s. Allowed values: %s.", ip,
                     gpj_type_name(v), list);
      ok = false;
      continue;
    }
    r->gpu.mig_profiles[i] = (gp_mig_profile)e;
  }
  if (ok) r->gpu.mig_profile_count = json_array_size(a);
  return ok;
}

static const char *const gp_keys[] = {"driver", "driverType", "nvidia", NULL};
/* the current* members are read-only (the effective values a GET shows): accepted and ignored, so
 * that a GET-modify-PUT round trip works and declares nothing */
static const char *const nv_keys[] = {"managementMode",        "driverMode",         "migStrategy",       "migProfiles",
                                      "currentManagementMode", "currentMigStrategy", "currentDriverMode", NULL};

/* A nested GPU block (gpuProfile, nvidia) of obj, with its names canonical, its path in out_path
 * (GP_PATH_MAX): NULL when absent; NULL with *ok false (violation recorded) when the api-version
 * lacks it (`allowed` false; min names the first that has it), it is not an object, or it names a
 * property twice. The caller releases it. */
static json_t *gpu_block(const json_t *obj, const char *key, const char *path, bool allowed, gp_api_group api,
                         const char *min, const char *const *names, char *out_path, bool *ok, gp_error *err) {
  const json_t *b = json_object_get(obj, key);
  if (!b) return NULL;
  gpj_path(out_path, GP_PATH_MAX, path, key);
  json_t *c = NULL;
  if (!allowed)
    not_in_version(err, out_path, api, min);
  else if (!json_is_object(b))
    gp_error_add(err, "InvalidParameter", out_path, "'%s' must be an object, not %s.", out_path, gpj_type_name(b));
  else
    c = gpj_canonical(b, out_path, names, NULL, err);
  if (!c) *ok = false;
  return c;
}

/* gpuProfile.nvidia, its names already canonical. */
static bool parse_nvidia(const json_t *nv, const char *np, gp_pool_request *r, gp_error *err) {
  int e;
  bool ok = true;
  if (!gpj_only_known(nv, np, nv_keys,
                      "The GPU components are not switched on or off one by one: 'managementMode' Managed installs "
                      "them all.",
                      err))
    r->invalid = true; /* the known members are still read and judged */
  if (!enum_or_null(nv, "managementMode", np, &gp_mgmt_mode_names, &e, r, GP_CLEAR_MANAGEMENT_MODE, err)) ok = false;
  r->gpu.management_mode = (gp_mgmt_mode)e;
  if (!enum_or_null(nv, "driverMode", np, &gp_driver_mode_names, &e, r, GP_CLEAR_DRIVER_MODE, err)) ok = false;
  r->gpu.driver_mode = (gp_driver_mode)e;
  if (!enum_or_null(nv, "migStrategy", np, &gp_mig_strategy_names, &e, r, GP_CLEAR_MIG_STRATEGY, err)) ok = false;
  r->gpu.mig_strategy = (gp_mig_strategy)e;
  if (!parse_mig_profiles(nv, np, r, err)) ok = false;
  return ok;
}

/* gpuProfile, its names already canonical. */
static bool parse_gpu_object(const json_t *g, const char *p, gp_api_group api, gp_pool_request *r, gp_error *err) {
  char np[GP_PATH_MAX], fp[GP_PATH_MAX];
  int e;
  bool ok = true;
  if (!gpj_only_known(g, p, gp_keys,
                      "The GPU components are not switched on or off one by one: choose "
                      "'nvidia.managementMode' Managed or Unmanaged.",
                      err))
    r->invalid = true;
  if (!enum_or_null(g, "driver", p, &gp_driver_names, &e, r, GP_CLEAR_DRIVER, err)) ok = false;
  r->gpu.driver = (gp_driver)e;
  if (json_object_get(g, "driverType")) {
    if (api != GP_API_PREVIEW) {
      gpj_path(fp, sizeof fp, p, "driverType");
      not_in_version(err, fp, api, "2026-08-02-preview");
      ok = false;
    } else {
      if (!enum_or_null(g, "driverType", p, &gp_driver_type_names, &e, r, GP_CLEAR_DRIVER_TYPE, err)) ok = false;
      r->gpu.driver_type = (gp_driver_type)e;
    }
  }
  json_t *nv = gpu_block(g, "nvidia", p, api == GP_API_PREVIEW, api, "2026-08-02-preview", nv_keys, np, &ok, err);
  if (nv && !parse_nvidia(nv, np, r, err)) ok = false;
  json_decref(nv);
  return ok;
}

static bool parse_gpu_profile(const json_t *props, const char *path, gp_api_group api, gp_pool_request *r,
                              gp_error *err) {
  char p[GP_PATH_MAX];
  bool ok = true;
  json_t *g = gpu_block(props, "gpuProfile", path, api != GP_API_OLD_STABLE, api, "2025-10-01", gp_keys, p, &ok, err);
  if (g && !parse_gpu_object(g, p, api, r, err)) ok = false;
  json_decref(g);
  return ok;
}

static bool parse_count(const json_t *props, const char *path, gp_pool_request *r, gp_error *err) {
  char p[GP_PATH_MAX];
  const json_t *c = json_object_get(props, "count");
  if (!c) return true;
  gpj_path(p, sizeof p, path, "count");
  if (!json_is_integer(c)) {
    gp_error_add(err, "InvalidParameter", p, "'%s' must be a whole number from 0 to 1000, not %s.", p,
                 gpj_type_name(c));
    return false;
  }
  json_int_t n = json_integer_value(c);
  if (n < 0 || n > 1000) {
    gp_error_add(err, "InvalidParameter", p, "'%s' is %lld; a pool has 0 to 1000 nodes.", p, (long long)n);
    return false;
  }
  r->has_count = true;
  r->count = (int64_t)n;
  return true;
}

/* Unknown members whose name looks like a per-pool switch of one GPU component: the name, lowercased
 * and without '-' or '_', contains one of these. The components are decided together by the
 * management mode (the decision matrix), so such a switch would be stored and silently do nothing:
 * it is refused instead. Anything else unknown is kept and echoed, as ARM does. */
static const char *const component_switches[] = {"deviceplugin",  "dradriver",    "dcgm",
                                                 "gpumetrics",    "gpudriver",    "nvidiadriver",
                                                 "fabricmanager", "migpartition", NULL};

static bool looks_like_component_switch(const char *name) {
  char norm[80];
  size_t n = 0;
  for (const char *c = name; *c && n < sizeof norm - 1; c++)
    if (*c != '-' && *c != '_') norm[n++] = (char)((*c >= 'A' && *c <= 'Z') ? *c - 'A' + 'a' : *c);
  norm[n] = '\0';
  for (size_t i = 0; component_switches[i]; i++)
    if (strstr(norm, component_switches[i])) return true;
  return false;
}

static void refuse_component_switches(const json_t *unknown, const char *path, gp_pool_request *r, gp_error *err) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)unknown, k, v) {
    if (!looks_like_component_switch(k)) continue;
    char p[GP_PATH_MAX];
    gpj_path(p, sizeof p, path, k);
    gp_error_add(err, "InvalidParameter", p,
                 "'%.200s' looks like a switch for one GPU component, but the GPU components of a pool are not "
                 "switched on or off one by one: gpuProfile.nvidia.managementMode Managed installs the driver, the "
                 "device plugin (or DRA driver), DCGM and its exporter together; Unmanaged installs the driver only; "
                 "gpuProfile.driver None installs nothing. Remove it.",
                 p);
    r->invalid = true; /* decides nothing else: the rest is still judged */
  }
}

/* The members of a pool's properties (and of its body, top) whose names are already canonical. */
static gp_pool_request *parse_fields(const json_t *props, const json_t *top, gp_api_group api, const char *path,
                                     bool flat, gp_error *err) {
  gp_pool_request *r = calloc(1, sizeof *r);
  const char *s;
  int e;
  bool ok = true;
  if (!r || !(r->path = strdup(path))) {
    free(r);
    err->oom = true;
    return NULL;
  }
  if (flat) {
    if (!gpj_string(props, "name", path, MAX_NAME, &s, err) || !gpj_dup_into(&r->name, s, err)) ok = false;
  } else if (top) {
    if (!gpj_string(top, "name", "", MAX_NAME, &s, err) || !gpj_dup_into(&r->name, s, err)) ok = false;
  }
  if (!gpj_string(props, "vmSize", path, MAX_VM_SIZE, &s, err) || !gpj_dup_into(&r->vm_size, s, err)) ok = false;
  /* A bad count, mode, label set or taint list decides nothing else: the request is marked invalid
   * and the policy still judges the rest, so that every violation is listed (gp_policy_apply_pool
   * then refuses it). A bad value elsewhere would change what the rest means: parsing stops there. */
  if (!parse_count(props, path, r, err)) r->invalid = true;
  if (!gpj_enum(props, "osType", path, &gp_os_type_names, &e, err)) ok = false;
  r->os_type = (gp_os_type)e;
  if (!gpj_enum(props, "osSKU", path, &gp_os_sku_names, &e, err)) ok = false;
  r->os_sku = (gp_os_sku)e;
  if (!gpj_enum(props, "mode", path, &gp_pool_mode_names, &e, err)) r->invalid = true;
  r->pool_mode = (gp_pool_mode)e;
  if (json_is_null(json_object_get(props, "orchestratorVersion")))
    r->cleared |= GP_CLEAR_ORCHESTRATOR_VERSION; /* back to following the cluster */
  else if (!gpj_string(props, "orchestratorVersion", path, MAX_VERSION, &s, err) ||
           !gpj_dup_into(&r->orchestrator_version, s, err))
    ok = false;
  const json_t *m;
  if (!gpj_string_map(props, "nodeLabels", path, MAX_LABELS, MAX_LABEL_KEY, MAX_LABEL_VALUE, &m, err))
    r->invalid = true;
  else if (m && !(r->node_labels = gpj_share(m)))
    err->oom = true;
  if (!gpj_string_map(props, "tags", path, MAX_TAGS, MAX_TAG_KEY, MAX_TAG_VALUE, &m, err))
    ok = false;
  else if (m && !(r->tags = gpj_share(m)))
    err->oom = true;
  if (!parse_taints(props, path, r, err)) r->invalid = true;
  if (!enum_or_null(props, "gpuInstanceProfile", path, &gp_mig_profile_names, &e, r, GP_CLEAR_INSTANCE_PROFILE, err))
    ok = false;
  r->gpu.instance_profile = (gp_mig_profile)e;
  if (!parse_gpu_profile(props, path, api, r, err)) ok = false;

  r->extra = gpj_copy_without(props, modelled);
  if (flat && r->extra) json_object_del(r->extra, "name"); /* an agentPoolProfiles entry names itself */
  if (top) r->extra_top = gpj_copy_without(top, top_known);
  if (!r->extra || (top && !r->extra_top)) err->oom = true;
  if (r->extra) refuse_component_switches(r->extra, path, r, err);
  /* upgradeSettings is named canonically (so the rollouts find it), checked, and then stored and
   * echoed as given like any other property: its other members (maxSurge, ...) included. */
  const json_t *us = json_object_get(props, "upgradeSettings");
  gp_upgrade_settings settings;
  char us_path[GP_PATH_MAX];
  gpj_path(us_path, sizeof us_path, path, "upgradeSettings");
  if (!gp_upgrade_settings_parse(us, us_path, &settings, err)) r->invalid = true;
  if (us && !json_is_null(us) && r->extra && json_object_set(r->extra, "upgradeSettings", (json_t *)us))
    err->oom = true;
  if (json_is_null(us)) r->cleared |= GP_CLEAR_UPGRADE_SETTINGS;
  if (r->extra_top) refuse_component_switches(r->extra_top, "", r, err);
  if (!ok || err->oom) {
    gp_pool_request_free(r);
    return NULL;
  }
  return r;
}

static gp_pool_request *parse_props(const json_t *props0, const json_t *top, gp_api_group api, const char *path,
                                    bool flat, gp_error *err) {
  static const char *const entry_name[] = {"name", NULL}; /* an agentPoolProfiles entry names itself */
  json_t *props = gpj_canonical(props0, path, modelled, flat ? entry_name : NULL, err);
  if (!props) return NULL;
  gp_pool_request *r = parse_fields(props, top, api, path, flat, err);
  json_decref(props);
  return r;
}

gp_pool_request *gp_pool_request_parse(const json_t *body0, gp_api_group api, gp_error *err) {
  if (!json_is_object(body0)) {
    gp_error_add(err, "InvalidRequestContent", NULL, "The request body must be a JSON object, not %s.",
                 body0 ? gpj_type_name(body0) : "empty");
    return NULL;
  }
  json_t *body = gpj_canonical(body0, "", top_known, NULL, err);
  if (!body) return NULL;
  const json_t *props = json_object_get(body, "properties");
  json_t *empty = NULL;
  gp_pool_request *r = NULL;
  if (!props) {
    /* ARM allows a body without properties; everything is then default. */
    if (!(props = empty = json_object())) err->oom = true;
  } else if (!json_is_object(props)) {
    gp_error_add(err, "InvalidParameter", "properties", "'properties' must be an object, not %s.",
                 gpj_type_name(props));
    props = NULL;
  }
  if (props) r = parse_props(props, body, api, "properties", false, err);
  json_decref(empty);
  json_decref(body);
  return r;
}

gp_pool_request *gp_pool_request_parse_flat(const json_t *obj, gp_api_group api, const char *path, gp_error *err) {
  if (!json_is_object(obj)) {
    gp_error_add(err, "InvalidParameter", path, "'%s' must be an object, not %s.", path,
                 obj ? gpj_type_name(obj) : "empty");
    return NULL;
  }
  return parse_props(obj, NULL, api, path, true, err);
}
