/* cluster.c - the managed cluster model: parsing a PUT body, the GET view and the storage form. */
#include "gpupool/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"

#define MAX_LOCATION 64
#define MAX_DNS_PREFIX 54
#define MAX_POOLS 100

static const char *const cluster_props[] = {"kubernetesVersion",
                                            "dnsPrefix",
                                            "agentPoolProfiles",
                                            "gpuProfile",
                                            "provisioningState",
                                            "currentKubernetesVersion",
                                            "fqdn",
                                            "eTag",
                                            NULL};
static const char *const cluster_top[] = {"name",       "id",         "type", "location", "tags",
                                          "properties", "systemData", "etag", NULL};

void gp_cluster_request_free(gp_cluster_request *r) {
  if (!r) return;
  free(r->name);
  free(r->location);
  free(r->kubernetes_version);
  free(r->dns_prefix);
  json_decref(r->tags);
  json_decref(r->extra);
  json_decref(r->extra_top);
  for (size_t i = 0; i < r->pool_count; i++)
    gp_pool_request_free(r->pools[i]);
  free(r->pools);
  free(r);
}

void gp_cluster_free(gp_cluster *c) {
  if (!c) return;
  free(c->name);
  free(c->location);
  free(c->kubernetes_version);
  free(c->dns_prefix);
  json_decref(c->tags);
  json_decref(c->extra);
  json_decref(c->extra_top);
  free(c);
}

static bool dup_str(char **dst, const char *src) {
  if (!src) return true;
  return (*dst = strdup(src)) != NULL;
}

static const char *const gp_keys[] = {"nvidia", NULL};
static const char *const nv_keys[] = {"managementMode", NULL};

/* properties.gpuProfile.nvidia, its names canonical. */
static bool parse_cluster_nvidia(const json_t *nv, gp_cluster_request *r, gp_error *err) {
  bool ok = gpj_only_known(nv, "properties.gpuProfile.nvidia", nv_keys,
                           "A cluster only sets the default 'managementMode' of its pools.", err);
  int e = 0;
  if (json_is_null(json_object_get(nv, "managementMode")))
    r->clear_management_mode = true; /* null removes the declared default, as on a pool */
  else if (!gpj_enum(nv, "managementMode", "properties.gpuProfile.nvidia", &gp_mgmt_mode_names, &e, err))
    ok = false;
  r->management_mode = (gp_mgmt_mode)e;
  return ok;
}

static bool parse_cluster_gpu_profile(const json_t *props, gp_api_group api, gp_cluster_request *r, gp_error *err) {
  const json_t *g0 = json_object_get(props, "gpuProfile");
  if (!g0) return true;
  if (api != GP_API_PREVIEW) {
    gp_error_add(err, "InvalidParameter", "properties.gpuProfile",
                 "'properties.gpuProfile' of a managed cluster is a preview setting; use api-version "
                 "2026-08-02-preview or later to set it.");
    return false;
  }
  if (!json_is_object(g0)) {
    gp_error_add(err, "InvalidParameter", "properties.gpuProfile", "'properties.gpuProfile' must be an object, not %s.",
                 gpj_type_name(g0));
    return false;
  }
  json_t *g = gpj_canonical(g0, "properties.gpuProfile", gp_keys, NULL, err), *nv = NULL;
  if (!g) return false;
  bool ok = gpj_only_known(g, "properties.gpuProfile", gp_keys,
                           "A cluster only sets the default 'nvidia.managementMode' of its pools.", err);
  const json_t *nv0 = json_object_get(g, "nvidia");
  if (nv0 && !json_is_object(nv0)) {
    gp_error_add(err, "InvalidParameter", "properties.gpuProfile.nvidia",
                 "'properties.gpuProfile.nvidia' must be an object, not %s.", gpj_type_name(nv0));
    ok = false;
  } else if (nv0 && !(nv = gpj_canonical(nv0, "properties.gpuProfile.nvidia", nv_keys, NULL, err))) {
    ok = false;
  } else if (nv && !parse_cluster_nvidia(nv, r, err)) {
    ok = false;
  }
  json_decref(nv);
  json_decref(g);
  return ok;
}

static bool parse_pools(const json_t *props, gp_api_group api, gp_cluster_request *r, gp_error *err) {
  const json_t *a = json_object_get(props, "agentPoolProfiles");
  if (!a) return true;
  if (!json_is_array(a)) {
    gp_error_add(err, "InvalidParameter", "properties.agentPoolProfiles",
                 "'properties.agentPoolProfiles' must be an array of agent pools, not %s.", gpj_type_name(a));
    return false;
  }
  if (json_array_size(a) > MAX_POOLS) {
    gp_error_add(err, "InvalidParameter", "properties.agentPoolProfiles",
                 "'properties.agentPoolProfiles' lists %zu pools; a cluster has at most %d.", json_array_size(a),
                 MAX_POOLS);
    return false;
  }
  r->has_pools = true;
  if (json_array_size(a) == 0) return true;
  r->pools = calloc(json_array_size(a), sizeof *r->pools);
  if (!r->pools) {
    err->oom = true;
    return false;
  }
  bool ok = true;
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    char path[64];
    snprintf(path, sizeof path, "properties.agentPoolProfiles[%zu]", i);
    gp_pool_request *pr = gp_pool_request_parse_flat(v, api, path, err);
    if (!pr) {
      ok = false;
      continue;
    }
    r->pools[r->pool_count++] = pr;
  }
  return ok;
}

/* The body, its names canonical at the top. */
static gp_cluster_request *parse_body(const json_t *body, gp_api_group api, bool require_location, gp_error *err) {
  gp_cluster_request *r;
  const char *s;
  bool ok = true;
  if (!(r = calloc(1, sizeof *r))) {
    err->oom = true;
    return NULL;
  }
  if (!gpj_string(body, "name", "", 256, &s, err) || !gpj_dup_into(&r->name, s, err)) ok = false;
  if (!gpj_string(body, "location", "", MAX_LOCATION, &s, err) || !gpj_dup_into(&r->location, s, err)) ok = false;
  if (ok && require_location && (!r->location || !*r->location)) {
    gp_error_add(err, "InvalidParameter", "location",
                 "'location' is required when creating a managed cluster, for example \"eastus\".");
    ok = false;
  }
  const json_t *m;
  if (!gpj_string_map(body, "tags", "", 50, 512, 256, &m, err))
    ok = false;
  else if (m && !(r->tags = gpj_share(m)))
    err->oom = true;
  const json_t *props0 = json_object_get(body, "properties");
  json_t *props;
  if (!props0) {
    props = json_object();
  } else if (!json_is_object(props0)) {
    gp_error_add(err, "InvalidParameter", "properties", "'properties' must be an object, not %s.",
                 gpj_type_name(props0));
    gp_cluster_request_free(r);
    return NULL;
  } else if (!(props = gpj_canonical(props0, "properties", cluster_props, NULL, err)) && !err->oom) {
    gp_cluster_request_free(r); /* a property given twice */
    return NULL;
  }
  if (props) {
    if (!gpj_string(props, "kubernetesVersion", "properties", 32, &s, err) ||
        !gpj_dup_into(&r->kubernetes_version, s, err))
      ok = false;
    if (!gpj_string(props, "dnsPrefix", "properties", MAX_DNS_PREFIX, &s, err) || !gpj_dup_into(&r->dns_prefix, s, err))
      ok = false;
    if (!parse_cluster_gpu_profile(props, api, r, err)) ok = false;
    if (!parse_pools(props, api, r, err)) ok = false;
    if (!(r->extra = gpj_copy_without(props, cluster_props))) err->oom = true;
  }
  if (!(r->extra_top = gpj_copy_without(body, cluster_top))) err->oom = true;
  if (!props) err->oom = true;
  json_decref(props);
  if (!ok || err->oom) {
    gp_cluster_request_free(r);
    return NULL;
  }
  return r;
}

gp_cluster_request *gp_cluster_request_parse(const json_t *body0, gp_api_group api, bool require_location,
                                             gp_error *err) {
  if (!json_is_object(body0)) {
    gp_error_add(err, "InvalidRequestContent", NULL, "The request body must be a JSON object, not %s.",
                 body0 ? gpj_type_name(body0) : "empty");
    return NULL;
  }
  json_t *body = gpj_canonical(body0, "", cluster_top, NULL, err); /* names match case-insensitively */
  if (!body) return NULL;
  gp_cluster_request *r = parse_body(body, api, require_location, err);
  json_decref(body);
  return r;
}

gp_cluster *gp_cluster_clone(const gp_cluster *c) {
  gp_cluster *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->k8s = c->k8s;
  n->management_mode = c->management_mode;
  bool ok = dup_str(&n->name, c->name) && dup_str(&n->location, c->location) &&
            dup_str(&n->kubernetes_version, c->kubernetes_version) && dup_str(&n->dns_prefix, c->dns_prefix);
  if (ok && c->tags) ok = (n->tags = gpj_share(c->tags)) != NULL;
  if (ok && c->extra) ok = (n->extra = gpj_share(c->extra)) != NULL;
  if (ok && c->extra_top) ok = (n->extra_top = gpj_share(c->extra_top)) != NULL;
  if (!ok) {
    gp_cluster_free(n);
    return NULL;
  }
  return n;
}

json_t *gp_cluster_to_json(const gp_cluster *c, gp_pool *const *pools, size_t npools, gp_api_group api) {
  json_t *o = json_object(), *props = json_object(), *list = json_array();
  char full[48], ver[48];
  int rc = 0;
  if (!o || !props || !list) {
    json_decref(o);
    json_decref(props);
    json_decref(list);
    return NULL;
  }
  gp_k8s_version_full(&c->k8s, full, sizeof full);
  gp_k8s_version_text(&c->k8s, ver, sizeof ver);
  rc |= gpj_set_str(o, "name", c->name);
  rc |= json_object_set_new(o, "type", json_string("Microsoft.ContainerService/managedClusters"));
  rc |= gpj_set_str(o, "location", c->location);
  if (c->tags) rc |= json_object_set_new(o, "tags", gpj_share(c->tags));
  rc |= gpj_set_str(props, "kubernetesVersion", c->kubernetes_version ? c->kubernetes_version : ver);
  rc |= gpj_set_str(props, "currentKubernetesVersion", full);
  rc |= gpj_set_str(props, "dnsPrefix", c->dns_prefix);
  for (size_t i = 0; i < npools; i++) {
    json_t *pp = gp_pool_properties_json(pools[i], api);
    if (!pp) {
      rc = -1;
      break;
    }
    /* agentPoolProfiles entries are flat: the name sits beside the properties */
    json_t *entry = json_object();
    bool bad = !entry || gpj_set_str(entry, "name", pools[i]->name) || json_object_update(entry, pp);
    json_decref(pp);
    if (bad) json_decref(entry);
    if (bad || json_array_append_new(list, entry)) { /* append_new releases entry when it fails */
      rc = -1;
      break;
    }
  }
  rc |= json_object_set_new(props, "agentPoolProfiles", list);
  list = NULL;
  if (api == GP_API_PREVIEW && c->management_mode) {
    json_t *g =
        json_pack("{s:{s:s}}", "nvidia", "managementMode", gp_enum_name(&gp_mgmt_mode_names, c->management_mode));
    rc |= json_object_set_new(props, "gpuProfile", g);
  }
  rc |= gpj_merge_missing(props, c->extra);
  rc |= json_object_set_new(o, "properties", props);
  props = NULL;
  rc |= gpj_merge_missing(o, c->extra_top);
  if (rc) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *gp_cluster_to_store(const gp_cluster *c) {
  json_t *o = json_object();
  char ver[48];
  int rc = 0;
  if (!o) return NULL;
  gp_k8s_version_text(&c->k8s, ver, sizeof ver);
  rc |= json_object_set_new(o, "v", json_integer(1));
  rc |= gpj_set_str(o, "name", c->name);
  rc |= gpj_set_str(o, "location", c->location);
  rc |= gpj_set_str(o, "kubernetesVersionDeclared", c->kubernetes_version);
  rc |= gpj_set_str(o, "kubernetesVersion", ver);
  rc |= gpj_set_str(o, "dnsPrefix", c->dns_prefix);
  if (c->management_mode) rc |= gpj_set_str(o, "managementMode", gp_enum_name(&gp_mgmt_mode_names, c->management_mode));
  if (c->tags) rc |= json_object_set_new(o, "tags", gpj_share(c->tags));
  if (c->extra) rc |= json_object_set_new(o, "extra", gpj_share(c->extra));
  if (c->extra_top) rc |= json_object_set_new(o, "extraTop", gpj_share(c->extra_top));
  if (rc) {
    json_decref(o);
    return NULL;
  }
  return o;
}

gp_cluster *gp_cluster_from_store(const json_t *doc, gp_error *err) {
  gp_cluster *c = calloc(1, sizeof *c);
  bool oom = !c; /* the document is fine, the memory is not */
  bool ok = c && json_is_object(doc);
  const json_t *v;
#define LOAD_STR(key, field)                                                                                           \
  if (ok && (v = json_object_get(doc, key))) {                                                                         \
    ok = json_is_string(v);                                                                                            \
    if (ok && !(c->field = strdup(json_string_value(v)))) oom = true;                                                  \
  }
#define LOAD_OBJ(key, field)                                                                                           \
  if (ok && (v = json_object_get(doc, key))) {                                                                         \
    ok = json_is_object(v) && (c->field = gpj_share(v));                                                               \
  }
  LOAD_STR("name", name)
  LOAD_STR("location", location)
  LOAD_STR("kubernetesVersionDeclared", kubernetes_version)
  LOAD_STR("dnsPrefix", dns_prefix)
  LOAD_OBJ("tags", tags)
  LOAD_OBJ("extra", extra)
  LOAD_OBJ("extraTop", extra_top)
#undef LOAD_STR
#undef LOAD_OBJ
  if (ok) ok = gp_k8s_version_parse(json_string_value(json_object_get(doc, "kubernetesVersion")), &c->k8s);
  if (ok && (v = json_object_get(doc, "managementMode"))) {
    c->management_mode = (gp_mgmt_mode)gp_enum_parse(&gp_mgmt_mode_names, json_string_value(v));
    ok = c->management_mode != GP_MGMT_UNSET;
  }
  if (oom) {
    err->oom = true;
    gp_cluster_free(c);
    return NULL;
  }
  if (!ok) {
    gp_error_add(err, "InternalServerError", NULL, "A stored managed cluster could not be read back.");
    err->status = 500;
    gp_cluster_free(c);
    return NULL;
  }
  return c;
}
