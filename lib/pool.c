/* pool.c - the stored agent pool: copying, the GET view per api-version, and the lossless
 * storage form the server keeps in its database. */
#include "gpupool/pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"

void gp_pool_free(gp_pool *p) {
  if (!p) return;
  free(p->name);
  free(p->vm_size);
  free(p->orchestrator_version);
  json_decref(p->node_labels);
  json_decref(p->node_taints);
  json_decref(p->tags);
  json_decref(p->extra);
  json_decref(p->extra_top);
  free(p);
}

static bool copy_json(json_t **dst, const json_t *src) {
  if (!src) return true;
  *dst = gpj_share(src);
  return *dst != NULL;
}

gp_pool *gp_pool_clone(const gp_pool *p) {
  gp_pool *c = malloc(sizeof *c);
  if (!c) return NULL;
  *c = *p;
  c->name = gpj_strdup(p->name);
  c->vm_size = gpj_strdup(p->vm_size);
  c->orchestrator_version = gpj_strdup(p->orchestrator_version);
  c->node_labels = c->node_taints = c->tags = c->extra = c->extra_top = NULL;
  if ((p->name && !c->name) || (p->vm_size && !c->vm_size) || (p->orchestrator_version && !c->orchestrator_version) ||
      !copy_json(&c->node_labels, p->node_labels) || !copy_json(&c->node_taints, p->node_taints) ||
      !copy_json(&c->tags, p->tags) || !copy_json(&c->extra, p->extra) || !copy_json(&c->extra_top, p->extra_top)) {
    gp_pool_free(c);
    return NULL;
  }
  return c;
}

bool gp_pool_is_gpu(const gp_pool *p) { return p->size != NULL; }

static int set_enum(json_t *o, const char *k, const gp_enum_names *t, int v) {
  return gpj_set_str(o, k, gp_enum_name(t, v));
}

static json_t *mig_list_json(const gp_gpu_settings *s) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < s->mig_profile_count; i++)
    if (json_array_append_new(a, json_string(gp_enum_name(&gp_mig_profile_names, s->mig_profiles[i])))) {
      json_decref(a);
      return NULL;
    }
  return a;
}

/* gpuProfile as a GET shows it: the writable fields hold only what was declared, the effective
 * values are in the read-only current* fields (as orchestratorVersion / currentOrchestratorVersion).
 * driver and driverType are fixed at creation, so their effective value is their declaration. */
static json_t *gpu_profile_json(const gp_pool *p, gp_api_group api) {
  const gp_gpu_settings *d = &p->declared, *e = &p->effective;
  json_t *g = json_object();
  if (!g) return NULL;
  int rc = set_enum(g, "driver", &gp_driver_names, e->driver);
  if (api == GP_API_PREVIEW) {
    if (p->os_type == GP_OS_TYPE_WINDOWS) rc |= set_enum(g, "driverType", &gp_driver_type_names, e->driver_type);
    if (p->size->vendor == GP_VENDOR_NVIDIA && p->os_type != GP_OS_TYPE_WINDOWS) {
      json_t *nv = json_object();
      if (!nv)
        rc = -1;
      else {
        rc |= set_enum(nv, "managementMode", &gp_mgmt_mode_names, d->management_mode);
        rc |= set_enum(nv, "driverMode", &gp_driver_mode_names, d->driver_mode);
        rc |= set_enum(nv, "migStrategy", &gp_mig_strategy_names, d->mig_strategy);
        if (d->mig_profile_count) rc |= json_object_set_new(nv, "migProfiles", mig_list_json(d));
        rc |= set_enum(nv, "currentManagementMode", &gp_mgmt_mode_names, e->management_mode);
        rc |= set_enum(nv, "currentMigStrategy", &gp_mig_strategy_names, e->mig_strategy);
        rc |= set_enum(nv, "currentDriverMode", &gp_driver_mode_names, e->driver_mode);
        rc |= json_object_set_new(g, "nvidia", nv);
      }
    }
  }
  if (rc) {
    json_decref(g);
    return NULL;
  }
  return g;
}

json_t *gp_pool_properties_json(const gp_pool *p, gp_api_group api) {
  json_t *o = json_object();
  char full[48];
  int rc = 0;
  if (!o) return NULL;
  gp_k8s_version_full(&p->k8s, full, sizeof full);
  rc |= json_object_set_new(o, "count", json_integer(p->count));
  rc |= gpj_set_str(o, "vmSize", p->vm_size);
  rc |= set_enum(o, "osType", &gp_os_type_names, p->os_type);
  rc |= set_enum(o, "osSKU", &gp_os_sku_names, p->os_sku);
  rc |= set_enum(o, "mode", &gp_pool_mode_names, p->pool_mode);
  rc |= gpj_set_str(o, "orchestratorVersion", p->orchestrator_version); /* declared only, like the GPU fields */
  rc |= gpj_set_str(o, "currentOrchestratorVersion", full);
  if (p->node_labels) rc |= json_object_set_new(o, "nodeLabels", gpj_share(p->node_labels));
  if (p->node_taints) rc |= json_object_set_new(o, "nodeTaints", gpj_share(p->node_taints));
  if (p->tags) rc |= json_object_set_new(o, "tags", gpj_share(p->tags));
  if (p->declared.instance_profile)
    rc |= set_enum(o, "gpuInstanceProfile", &gp_mig_profile_names, p->declared.instance_profile);
  if (p->size && api != GP_API_OLD_STABLE) rc |= json_object_set_new(o, "gpuProfile", gpu_profile_json(p, api));
  rc |= gpj_merge_missing(o, p->extra);
  if (rc) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *gp_pool_to_json(const gp_pool *p, gp_api_group api) {
  json_t *o = json_object();
  if (!o || gpj_set_str(o, "name", p->name) ||
      json_object_set_new(o, "type", json_string("Microsoft.ContainerService/managedClusters/agentPools")) ||
      json_object_set_new(o, "properties", gp_pool_properties_json(p, api)) || gpj_merge_missing(o, p->extra_top)) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* ---- storage form --------------------------------------------------------------------------- */

static json_t *settings_store(const gp_gpu_settings *s) {
  json_t *o = json_object();
  int rc = 0;
  if (!o) return NULL;
  rc |= set_enum(o, "driver", &gp_driver_names, s->driver);
  rc |= set_enum(o, "driverType", &gp_driver_type_names, s->driver_type);
  rc |= set_enum(o, "managementMode", &gp_mgmt_mode_names, s->management_mode);
  rc |= set_enum(o, "driverMode", &gp_driver_mode_names, s->driver_mode);
  rc |= set_enum(o, "migStrategy", &gp_mig_strategy_names, s->mig_strategy);
  rc |= set_enum(o, "gpuInstanceProfile", &gp_mig_profile_names, s->instance_profile);
  if (s->mig_profile_count) rc |= json_object_set_new(o, "migProfiles", mig_list_json(s));
  if (rc) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *gp_pool_to_store(const gp_pool *p) {
  json_t *o = json_object(), *src = json_object();
  char ver[48];
  int rc = 0;
  if (!o || !src) {
    json_decref(o);
    json_decref(src);
    return NULL;
  }
  gp_k8s_version_text(&p->k8s, ver, sizeof ver);
  rc |= json_object_set_new(o, "v", json_integer(1));
  rc |= gpj_set_str(o, "name", p->name);
  rc |= gpj_set_str(o, "vmSize", p->vm_size);
  rc |= json_object_set_new(o, "count", json_integer(p->count));
  rc |= set_enum(o, "osType", &gp_os_type_names, p->os_type);
  rc |= set_enum(o, "osSKU", &gp_os_sku_names, p->os_sku);
  rc |= set_enum(o, "mode", &gp_pool_mode_names, p->pool_mode);
  rc |= gpj_set_str(o, "orchestratorVersion", p->orchestrator_version);
  rc |= gpj_set_str(o, "kubernetesVersion", ver);
  if (p->node_labels) rc |= json_object_set_new(o, "nodeLabels", gpj_share(p->node_labels));
  if (p->node_taints) rc |= json_object_set_new(o, "nodeTaints", gpj_share(p->node_taints));
  if (p->tags) rc |= json_object_set_new(o, "tags", gpj_share(p->tags));
  if (p->extra) rc |= json_object_set_new(o, "extra", gpj_share(p->extra));
  if (p->extra_top) rc |= json_object_set_new(o, "extraTop", gpj_share(p->extra_top));
  rc |= json_object_set_new(o, "declared", settings_store(&p->declared));
  rc |= json_object_set_new(o, "effective", settings_store(&p->effective));
  rc |= set_enum(src, "driver", &gp_source_names, p->src_driver);
  rc |= set_enum(src, "managementMode", &gp_source_names, p->src_management_mode);
  rc |= set_enum(src, "driverMode", &gp_source_names, p->src_driver_mode);
  rc |= set_enum(src, "migStrategy", &gp_source_names, p->src_mig_strategy);
  rc |= json_object_set_new(o, "sources", src);
  rc |= json_object_set_new(o, "legacyTag", json_boolean(p->legacy_tag));
  if (p->legacy_tag_ignored) rc |= json_object_set_new(o, "legacyTagIgnored", json_true()); /* absent in older docs */
  if (rc) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* Reads one optional enum of a stored document; false when present but not a known name. */
static bool load_enum(const json_t *o, const char *key, const gp_enum_names *t, int *out) {
  const json_t *v = json_object_get(o, key);
  *out = 0;
  if (!v) return true;
  if (!json_is_string(v)) return false;
  return (*out = gp_enum_parse(t, json_string_value(v))) != 0;
}

static bool settings_load(const json_t *o, gp_gpu_settings *s) {
  int e;
  memset(s, 0, sizeof *s);
  if (!json_is_object(o)) return false;
  if (!load_enum(o, "driver", &gp_driver_names, &e)) return false;
  s->driver = (gp_driver)e;
  if (!load_enum(o, "driverType", &gp_driver_type_names, &e)) return false;
  s->driver_type = (gp_driver_type)e;
  if (!load_enum(o, "managementMode", &gp_mgmt_mode_names, &e)) return false;
  s->management_mode = (gp_mgmt_mode)e;
  if (!load_enum(o, "driverMode", &gp_driver_mode_names, &e)) return false;
  s->driver_mode = (gp_driver_mode)e;
  if (!load_enum(o, "migStrategy", &gp_mig_strategy_names, &e)) return false;
  s->mig_strategy = (gp_mig_strategy)e;
  if (!load_enum(o, "gpuInstanceProfile", &gp_mig_profile_names, &e)) return false;
  s->instance_profile = (gp_mig_profile)e;
  const json_t *a = json_object_get(o, "migProfiles");
  if (a) {
    size_t i;
    json_t *v;
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > GP_MAX_MIG_PROFILES) return false;
    json_array_foreach(a, i, v) {
      int m = json_is_string(v) ? gp_enum_parse(&gp_mig_profile_names, json_string_value(v)) : 0;
      if (!m) return false;
      s->mig_profiles[i] = (gp_mig_profile)m;
    }
    s->mig_profile_count = json_array_size(a);
  }
  return true;
}

static bool load_json(const json_t *o, const char *key, json_t **out, json_type type) {
  const json_t *v = json_object_get(o, key);
  if (!v) return true;
  if (json_typeof(v) != type) return false;
  *out = gpj_share(v);
  return true;
}

/* An optional string member; false when it is not a string. A failed copy sets *oom instead: the
 * document is fine, the memory is not. */
static bool load_str(const json_t *o, const char *key, char **out, bool *oom) {
  const json_t *v = json_object_get(o, key);
  if (!v) return true;
  if (!json_is_string(v)) return false;
  if (!(*out = strdup(json_string_value(v)))) *oom = true;
  return true;
}

gp_pool *gp_pool_from_store(const json_t *doc, gp_error *err) {
  gp_pool *p = calloc(1, sizeof *p);
  const json_t *src = json_object_get(doc, "sources");
  int e;
  bool oom = !p;
  bool ok = p && json_is_object(doc) && json_is_object(src);
  if (ok) {
    ok = load_str(doc, "name", &p->name, &oom) && load_str(doc, "vmSize", &p->vm_size, &oom) &&
         load_str(doc, "orchestratorVersion", &p->orchestrator_version, &oom) &&
         json_is_integer(json_object_get(doc, "count")) && load_json(doc, "nodeLabels", &p->node_labels, JSON_OBJECT) &&
         load_json(doc, "nodeTaints", &p->node_taints, JSON_ARRAY) && load_json(doc, "tags", &p->tags, JSON_OBJECT) &&
         load_json(doc, "extra", &p->extra, JSON_OBJECT) && load_json(doc, "extraTop", &p->extra_top, JSON_OBJECT) &&
         settings_load(json_object_get(doc, "declared"), &p->declared) &&
         settings_load(json_object_get(doc, "effective"), &p->effective) &&
         gp_k8s_version_parse(json_string_value(json_object_get(doc, "kubernetesVersion")), &p->k8s);
  }
  if (ok) {
    p->count = json_integer_value(json_object_get(doc, "count"));
    p->size = gp_catalog_vm_size(p->vm_size);
    ok = load_enum(doc, "osType", &gp_os_type_names, &e) && e;
    p->os_type = (gp_os_type)e;
    ok = ok && load_enum(doc, "osSKU", &gp_os_sku_names, &e) && e;
    p->os_sku = (gp_os_sku)e;
    ok = ok && load_enum(doc, "mode", &gp_pool_mode_names, &e) && e;
    p->pool_mode = (gp_pool_mode)e;
    ok = ok && load_enum(src, "driver", &gp_source_names, &e);
    p->src_driver = (gp_source)e;
    ok = ok && load_enum(src, "managementMode", &gp_source_names, &e);
    p->src_management_mode = (gp_source)e;
    ok = ok && load_enum(src, "driverMode", &gp_source_names, &e);
    p->src_driver_mode = (gp_source)e;
    ok = ok && load_enum(src, "migStrategy", &gp_source_names, &e);
    p->src_mig_strategy = (gp_source)e;
    p->legacy_tag = json_is_true(json_object_get(doc, "legacyTag"));
    p->legacy_tag_ignored = json_is_true(json_object_get(doc, "legacyTagIgnored"));
    ok = ok && p->vm_size;
  }
  if (oom) {
    err->oom = true;
    gp_pool_free(p);
    return NULL;
  }
  if (!ok) {
    gp_error_add(err, "InternalServerError", NULL, "A stored agent pool could not be read back.");
    err->status = 500;
    gp_pool_free(p);
    return NULL;
  }
  return p;
}
