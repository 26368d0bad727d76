/* cmd_catalog.c - `gpupool vm-size list|show` and `gpupool kubernetes-versions`: what the GPU
 * catalog compiled into gpupool knows (the same tables gpupoold decides with), offline. vm-size
 * show adds each MIG profile's geometry, a picture of where each may be placed, every valid
 * migProfiles layout (from the core's placement search) and, with --mig-profiles, that layout
 * placed or the reason it cannot be. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "arm.h"
#include "cli.h"
#include "commands.h"
#include "gpupool/gpupool.h"
#include "migdraw.h"
#include "output.h"

enum { V_NAME, V_MIG_PROFILES, V_ALL };

static const cli_opt v_opts[V_ALL] = {
    [V_NAME] = {"name", 'n', "size", OPT_VALUE, "SIZE", "VM size, e.g. Standard_NC24ads_A100_v4 (any case)", NULL,
                COMPLETE_VM_SIZE, NULL},
    [V_MIG_PROFILES] = {"mig-profiles", 0, NULL, OPT_VALUE, "LIST",
                        "a layout to check and draw, e.g. MIG3g,MIG3g,MIG1g (exit 1 when it cannot be placed)", NULL,
                        COMPLETE_CHOICES, &gp_mig_profile_names},
};

static json_t *os_skus(unsigned mask) {
  json_t *a = json_array();
  for (size_t s = 1; s < gp_os_sku_names.count; s++)
    if (gp_os_sku_family((gp_os_sku)s) & mask) json_array_append_new(a, json_string(gp_os_sku_names.names[s]));
  return a;
}

static json_t *size_json(const gp_vm_size *sz) {
  const gp_gpu_model *m = gp_catalog_gpu_model(sz->gpu_model);
  json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:s,s:b,s:b,s:s,s:o}", "name", sz->name, "vendor",
                        gp_enum_name(&gp_vendor_names, sz->vendor), "gpuModel", sz->gpu_model, "gpuCount", sz->gpus,
                        "gpuFraction", sz->fraction, "migCapable", sz->mig, "fabricManager", sz->fabric_manager,
                        "driverFamily", sz->driver_family, "osSkus", os_skus(sz->os_mask));
  if (o && m) json_object_set_new(o, "gpuMemoryMiB", json_integer(m->memory_mib));
  if (o && sz->note && *sz->note) json_object_set_new(o, "note", json_string(sz->note));
  return o;
}

static json_t *profiles_json(const char *model) {
  json_t *a = json_array();
  for (int p = GP_MIG_1G; p <= GP_MIG_7G; p++) {
    const gp_mig_model_profile *mp = gp_catalog_mig_profile(model, (gp_mig_profile)p);
    const gp_mig_geometry *g = gp_catalog_mig_geometry((gp_mig_profile)p);
    if (!mp || !g) continue;
    json_t *starts = json_array();
    for (int s = 0; s < GP_MIG_MEMORY_SLICES; s++)
      if (g->start_mask & (1u << s)) json_array_append_new(starts, json_integer(s));
    char resource[64];
    snprintf(resource, sizeof resource, "nvidia.com/mig-%s", mp->nvidia_name);
    json_array_append_new(a, json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:o,s:s}", "profile",
                                       gp_enum_name(&gp_mig_profile_names, p), "nvidiaProfile", mp->nvidia_name, "id",
                                       mp->profile_id, "computeSlices", g->compute_slices, "memorySlices",
                                       g->memory_slices, "maxPerGpu", g->max_instances, "startSlices", starts,
                                       "resource", resource));
  }
  return a;
}

static json_t *names_json(const gp_mig_profile *p, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, json_string(gp_enum_name(&gp_mig_profile_names, p[i])));
  return a;
}

static json_t *layouts_json(void) {
  gp_mig_combo all[128];
  size_t n = gp_mig_valid_layouts(all, sizeof all / sizeof all[0]);
  json_t *a = json_array();
  for (size_t i = 0; i < n && i < sizeof all / sizeof all[0]; i++)
    json_array_append_new(
        a, json_pack("{s:o,s:b}", "profiles", names_json(all[i].profiles, all[i].count), "full", all[i].full));
  return a;
}

/* The layout asked for: placed (the most of it), what was left out, the -cgi list. */
static json_t *layout_json(const char *model, const gp_mig_profile *p, size_t n) {
  gp_mig_layout l = {0};
  gp_mig_profile left[CLI_MIG_MAX_LIST];
  size_t first = n > GP_MIG_MAX_PER_GPU ? GP_MIG_MAX_PER_GPU : n;
  size_t nleft = gp_mig_place_most(p, first, &l, left);
  for (size_t i = first; i < n; i++)
    left[nleft++] = p[i];
  json_t *inst = json_array();
  char cgi[64] = "";
  for (size_t i = 0; i < l.count; i++) {
    const gp_mig_model_profile *mp = gp_catalog_mig_profile(model, l.inst[i].profile);
    const gp_mig_geometry *g = gp_catalog_mig_geometry(l.inst[i].profile);
    json_array_append_new(inst, json_pack("{s:s,s:s,s:i,s:i,s:i}", "profile",
                                          gp_enum_name(&gp_mig_profile_names, l.inst[i].profile), "nvidiaProfile",
                                          mp ? mp->nvidia_name : "", "id", mp ? mp->profile_id : -1, "start",
                                          l.inst[i].start, "memorySlices", g ? g->memory_slices : 0));
    size_t used = strlen(cgi);
    snprintf(cgi + used, sizeof cgi - used, "%s%d", i ? "," : "", mp ? mp->profile_id : -1);
  }
  return json_pack("{s:o,s:b,s:o,s:o,s:s}", "profiles", names_json(p, n), "valid", nleft == 0, "instances", inst,
                   "leftOut", names_json(left, nleft), "cgi", cgi);
}

static int vm_list(cli_args *a) {
  json_t *list = json_array();
  for (size_t i = 0; i < gp_catalog_vm_size_count(); i++)
    json_array_append_new(list, size_json(gp_catalog_vm_size_at(i)));
  int rc = out_print(a->output, KIND_VM_SIZE, list, 1);
  json_decref(list);
  return rc;
}

static int vm_show(cli_args *a) {
  const gp_vm_size *sz = gp_catalog_vm_size(a->v[V_NAME].value);
  gp_mig_profile p[CLI_MIG_MAX_LIST];
  size_t n = 0;
  if (a->v[V_MIG_PROFILES].set && !mig_parse_list(a->v[V_MIG_PROFILES].value, p, &n))
    return cli_usage_error(a->command, "--mig-profiles takes up to %d of MIG1g, MIG2g, MIG3g, MIG4g, MIG7g, not '%s'",
                           CLI_MIG_MAX_LIST, a->v[V_MIG_PROFILES].value);
  if (!sz) {
    const gp_vm_size *near[1];
    bool hint = gp_catalog_vm_size_suggest(a->v[V_NAME].value, near, 1) == 1;
    fprintf(stderr,
            "(VMSizeNotInGPUCatalog) VM size '%s' is not in the GPU catalog.%s%s%s 'gpupool vm-size list' lists the "
            "GPU sizes.\n",
            a->v[V_NAME].value, hint ? " Did you mean " : "", hint ? near[0]->name : "", hint ? "?" : "");
    return CLI_ERROR;
  }
  if (n && !sz->mig) {
    fprintf(stderr, "(MIGNotSupportedOnVMSize) VM size '%s' (%s) has no MIG: --mig-profiles does not apply.\n",
            sz->name, sz->gpu_model);
    return CLI_ERROR;
  }
  json_t *o = size_json(sz);
  json_object_set_new(o, "migProfiles", sz->mig ? profiles_json(sz->gpu_model) : json_array());
  json_object_set_new(o, "migLayouts", sz->mig ? layouts_json() : json_array());
  json_t *layout = n ? layout_json(sz->gpu_model, p, n) : NULL;
  bool valid = !layout || json_is_true(json_object_get(layout, "valid"));
  if (layout) json_object_set_new(o, "layout", layout);
  int rc = out_print(a->output, KIND_VM_SIZE_DETAIL, o, 0);
  json_decref(o);
  return rc != CLI_OK ? rc : valid ? CLI_OK : CLI_ERROR;
}

static int k8s_versions(cli_args *a) {
  int lo, hi;
  gp_k8s_version def, ga;
  gp_catalog_k8s_range(&lo, &hi);
  gp_k8s_version_parse(GP_DEFAULT_KUBERNETES_VERSION, &def);
  gp_k8s_version_parse(GP_DEFAULT_GA_KUBERNETES_VERSION, &ga);
  static const char *const components[] = {"nvidia-device-plugin", "nvidia-dra-driver", "nvidia-dcgm", "dcgm-exporter"};
  json_t *list = json_array();
  for (int m = lo; m <= hi; m++) {
    char v[16];
    snprintf(v, sizeof v, "1.%d", m);
    json_t *comp = json_object();
    for (size_t k = 0; k < sizeof components / sizeof components[0]; k++) {
      const gp_component_version *cv = gp_catalog_component(m, components[k]);
      if (cv) json_object_set_new(comp, components[k], json_string(cv->version));
    }
    json_array_append_new(list, json_pack("{s:s,s:b,s:b,s:o}", "kubernetesVersion", v, "default", m == def.minor,
                                          "managedByDefaultWhenGa", m >= ga.minor, "components", comp));
  }
  int rc = out_print(a->output, KIND_K8S_VERSION, list, 1);
  json_decref(list);
  return rc;
}

static const int show_opts[] = {V_NAME, V_MIG_PROFILES, CLI_END};
static const int show_req[] = {V_NAME, CLI_END};

static const cli_command vm_commands[] = {
    {"list", "list the GPU VM sizes",
     "Lists the GPU VM sizes of the catalog: GPU model and count, MIG, fabric manager, driver family and the OS SKUs "
     "a GPU pool may use.",
     NULL, NULL, CLI_OFFLINE, NULL, vm_list},
    {"show", "show a size: MIG profiles, where they go, valid layouts",
     "Shows a GPU VM size; for MIG GPUs each profile (instances, compute and memory slices, profile id), a picture of "
     "where each profile can be placed on the 8 memory slices, and the valid --mig-profiles layouts of one GPU, all "
     "found by the placement search gpupoold uses. With --mig-profiles LIST, that layout is placed and drawn, or "
     "drawn as far as it fits with the reason for the rest.",
     show_opts, show_req, CLI_OFFLINE,
     "Exit status: 0, or 1 when the size is unknown or the --mig-profiles layout cannot be placed.\n", vm_show},
};

const cli_group cli_group_vm_size = {
    "vm-size", NULL,        "the GPU VM sizes gpupool knows",          "GPU VM sizes of the catalog (offline).", v_opts,
    V_ALL,     vm_commands, sizeof vm_commands / sizeof vm_commands[0]};

static const cli_command k8s_command[] = {
    {NULL, "supported Kubernetes versions",
     "Lists the Kubernetes versions gpupool supports, the default one, which default to managementMode Managed once "
     "gpupoold runs with --phase ga (from " GP_DEFAULT_GA_KUBERNETES_VERSION
     " on, unless its --ga-kubernetes-version says otherwise), and the GPU component versions each gets.",
     NULL, NULL, CLI_OFFLINE, NULL, k8s_versions}};

const cli_group cli_group_kubernetes_versions = {
    "kubernetes-versions", NULL, "supported Kubernetes versions and the GA version", NULL, NULL, 0, k8s_command, 1};
