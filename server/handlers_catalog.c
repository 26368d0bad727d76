/* handlers_catalog.c - the GPU VM catalog as a read-only ARM resource type, for clients that must
 * not carry a copy of it (the web console draws MIG layouts and fills its VM size list from it):
 *
 *   GET /subscriptions/{s}/providers/Microsoft.ContainerService/gpuVMSizes
 *   GET …/gpuVMSizes/{vmSize}[?migProfiles=MIG3g,MIG2g,…]
 *
 * Subscription-level, like ARM's SKU list: the catalog is the same in every location.
 *
 * Everything comes from the core's catalog (data/ at build time). With migProfiles the answer also
 * says where those instances go on one GPU, by the core's placement search (gp_mig_place): for a
 * list that does not fit, the largest part that does (the earliest listed instances kept) and what
 * is left over, so that a picture can show where the layout breaks. Nothing here decides anything
 * the policy does not: a pool PUT is still judged by gp_policy_apply_pool alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define LAYOUT_MAX_INSTANCES 16 /* drawn; at most 7 can fit on a GPU */

static const char type_name[] = "Microsoft.ContainerService/gpuVMSizes";

/* "Ubuntu, AzureLinux3" -> ["Ubuntu","AzureLinux3"] */
static json_t *os_list(unsigned mask) {
  char buf[128];
  json_t *a = json_array();
  gp_os_mask_list(mask, buf, sizeof buf);
  for (char *save = NULL, *t = strtok_r(buf, ", ", &save); a && t; t = strtok_r(NULL, ", ", &save))
    json_array_append_new(a, json_string(t));
  return a;
}

static json_t *starts_of(unsigned mask) {
  json_t *a = json_array();
  for (int i = 0; a && i < GP_MIG_MEMORY_SLICES; i++)
    if (mask & (1u << i)) json_array_append_new(a, json_integer(i));
  return a;
}

/* One MIG instance (or a left-over one when start < 0) as the console draws it. */
static json_t *instance_json(const char *gpu_model, gp_mig_profile p, int start) {
  const gp_mig_model_profile *mp = gp_catalog_mig_profile(gpu_model, p);
  const gp_mig_geometry *g = gp_catalog_mig_geometry(p);
  json_t *o = json_pack("{s:s, s:s?, s:i, s:i, s:i}", "aksProfile", gp_enum_name(&gp_mig_profile_names, p), "profile",
                        mp ? mp->nvidia_name : NULL, "id", mp ? mp->profile_id : -1, "memorySlices",
                        g ? g->memory_slices : 0, "computeSlices", g ? g->compute_slices : 0);
  if (o && start >= 0) json_object_set_new(o, "start", json_integer(start));
  return o;
}

static json_t *mig_json(const gp_vm_size *sz) {
  json_t *profiles = json_array();
  for (int p = 1; profiles && p <= GP_MIG_PROFILE_COUNT; p++) {
    const gp_mig_model_profile *mp = gp_catalog_mig_profile(sz->gpu_model, (gp_mig_profile)p);
    const gp_mig_geometry *g = gp_catalog_mig_geometry((gp_mig_profile)p);
    if (!mp || !g) continue;
    json_array_append_new(profiles, json_pack("{s:s, s:s, s:i, s:i, s:i, s:o, s:i}", "name",
                                              gp_enum_name(&gp_mig_profile_names, p), "profile", mp->nvidia_name, "id",
                                              mp->profile_id, "computeSlices", g->compute_slices, "memorySlices",
                                              g->memory_slices, "starts", starts_of(g->start_mask), "maxInstances",
                                              g->max_instances));
  }
  return json_pack("{s:i, s:i, s:o}", "memorySlices", GP_MIG_MEMORY_SLICES, "computeSlices", GP_MIG_COMPUTE_SLICES,
                   "profiles", profiles);
}

static json_t *vm_size_json(const gpd_request *r, const gp_vm_size *sz) {
  char id[512];
  const gp_gpu_model *model = gp_catalog_gpu_model(sz->gpu_model);
  snprintf(id, sizeof id, "/subscriptions/%s/providers/Microsoft.ContainerService/gpuVMSizes/%s", r->sub, sz->name);
  json_t *gpu = json_pack("{s:s, s:s, s:i, s:s, s:b, s:b}", "vendor", gp_enum_name(&gp_vendor_names, sz->vendor),
                          "model", sz->gpu_model, "count", sz->gpus, "fraction", sz->fraction, "migCapable", sz->mig,
                          "fabricManager", sz->fabric_manager);
  if (gpu && model) json_object_set_new(gpu, "memoryMiB", json_integer(model->memory_mib));
  json_t *props =
      json_pack("{s:o, s:s, s:o}", "gpu", gpu, "driverFamily", sz->driver_family, "osSKUs", os_list(sz->os_mask));
  if (props && sz->note && *sz->note) json_object_set_new(props, "note", json_string(sz->note));
  if (props && sz->mig) json_object_set_new(props, "mig", mig_json(sz));
  return json_pack("{s:s, s:s, s:s, s:o}", "id", id, "name", sz->name, "type", type_name, "properties", props);
}

void gpd_gpu_vm_size_list(gpd_request *r, gpd_response *resp) {
  json_t *value = json_array();
  for (size_t i = 0; value && i < gp_catalog_vm_size_count(); i++)
    if (json_array_append_new(value, vm_size_json(r, gp_catalog_vm_size_at(i))) != 0) {
      json_decref(value);
      value = NULL;
    }
  gpd_resp_json(resp, 200, value ? json_pack("{s:o}", "value", value) : NULL);
}

/* Parses "MIG3g,mig2g, MIG1g" (any case, blanks allowed). False with the error in resp. */
static bool parse_profiles(const char *q, gp_mig_profile *out, size_t *n, gpd_response *resp) {
  char buf[256], allowed[96];
  *n = 0;
  if (strlen(q) >= sizeof buf) goto bad;
  strcpy(buf, q);
  for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
    int p = gp_enum_parse(&gp_mig_profile_names, t);
    if (!p || *n == LAYOUT_MAX_INSTANCES) goto bad;
    out[(*n)++] = (gp_mig_profile)p;
  }
  return true;
bad:
  gpd_resp_error(resp, 400, "InvalidParameter", "migProfiles",
                 "migProfiles must list up to %d MIG profiles separated by commas, each one of %s; got '%.100s'.",
                 LAYOUT_MAX_INSTANCES, gp_enum_list(&gp_mig_profile_names, allowed, sizeof allowed), q);
  return false;
}

/* The first placeable choice of k of the n profiles, in lexicographic order of their indexes (so the
 * earliest listed instances are kept). keep[] gets the chosen indexes. */
static bool place_subset(const gp_mig_profile *all, size_t n, size_t k, size_t *keep, gp_mig_layout *out) {
  gp_mig_profile chosen[GP_MIG_MAX_PER_GPU];
  for (size_t i = 0; i < k; i++)
    keep[i] = i;
  for (;;) {
    for (size_t i = 0; i < k; i++)
      chosen[i] = all[keep[i]];
    if (gp_mig_place(chosen, k, out)) return true;
    size_t i = k;
    while (i > 0 && keep[i - 1] == n - k + i - 1)
      i--;
    if (i == 0) return false;
    keep[i - 1]++;
    for (size_t j = i; j < k; j++)
      keep[j] = keep[j - 1] + 1;
  }
}

static json_t *layout_json(const gp_vm_size *sz, const gp_mig_profile *profiles, size_t n) {
  gp_mig_layout placed = {0};
  size_t keep[GP_MIG_MAX_PER_GPU] = {0}, k = n < GP_MIG_MAX_PER_GPU ? n : GP_MIG_MAX_PER_GPU;
  bool fits = n == 0 || (n <= GP_MIG_MAX_PER_GPU && gp_mig_place(profiles, n, &placed));
  if (fits) {
    for (size_t i = 0; i < n; i++)
      keep[i] = i;
    k = n;
  } else {
    if (k == n) k--; /* all n did not fit */
    while (k > 0 && !place_subset(profiles, n, k, keep, &placed))
      k--;
  }
  json_t *listed = json_array(), *inst = json_array(), *left = json_array();
  for (size_t i = 0; listed && i < n; i++)
    json_array_append_new(listed, json_string(gp_enum_name(&gp_mig_profile_names, profiles[i])));
  for (size_t i = 0; inst && i < placed.count; i++)
    json_array_append_new(inst, instance_json(sz->gpu_model, placed.inst[i].profile, placed.inst[i].start));
  for (size_t i = 0, j = 0; left && i < n; i++) {
    if (j < k && keep[j] == i) {
      j++;
      continue;
    }
    json_array_append_new(left, instance_json(sz->gpu_model, profiles[i], -1));
  }
  return json_pack("{s:o, s:b, s:o, s:o}", "migProfiles", listed, "fits", fits, "instances", inst, "unplaced", left);
}

void gpd_gpu_vm_size_get(gpd_request *r, gpd_response *resp) {
  const char *name = r->seg[r->nseg - 1], *q = gpd_req_query(r, "migProfiles");
  const gp_vm_size *sz = gp_catalog_vm_size(name);
  gp_mig_profile profiles[LAYOUT_MAX_INSTANCES];
  size_t n = 0;
  if (!sz) {
    gpd_resp_error(resp, 404, "ResourceNotFound", NULL,
                   "The VM size '%.100s' is not in gpupool's GPU catalog. List the catalog with GET "
                   "/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/gpuVMSizes.",
                   name);
    return;
  }
  if (q && !parse_profiles(q, profiles, &n, resp)) return;
  if (q && !sz->mig) {
    gpd_resp_error(resp, 400, "MIGNotSupportedOnVMSize", "migProfiles",
                   "The VM size '%s' (%s) does not support MIG; pick a MIG-capable size to lay out MIG instances.",
                   sz->name, sz->gpu_model);
    return;
  }
  json_t *v = vm_size_json(r, sz);
  if (v && q) {
    json_t *mig = json_object_get(json_object_get(v, "properties"), "mig");
    json_t *layout = layout_json(sz, profiles, n);
    if (!mig) json_decref(layout);
    if (!mig || !layout || json_object_set_new(mig, "layout", layout) != 0) {
      json_decref(v);
      v = NULL;
    }
  }
  gpd_resp_json(resp, 200, v);
}
