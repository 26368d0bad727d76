/* cmd_nodepool.c - `gpupool nodepool add|update|show|list|delete|plan`: agent pools of a managed
 * cluster, with az aks nodepool's flags (the seed's spellings as aliases). Writes wait for their
 * operation unless --no-wait; update is GET-modify-PUT with If-Match sending only what changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arm.h"
#include "cli.h"
#include "commands.h"
#include "gpupool/enums.h"
#include "output.h"

enum {
  NP_RG,
  NP_CLUSTER,
  NP_NAME,
  NP_SIZE,
  NP_COUNT_,
  NP_K8S,
  NP_OS_TYPE,
  NP_OS_SKU,
  NP_MODE,
  NP_DRIVER,
  NP_MANAGED,
  NP_GIP,
  NP_STRATEGY,
  NP_MIG_PROFILES,
  NP_DRIVER_MODE,
  NP_LABELS,
  NP_TAINTS,
  NP_TAGS,
  NP_NO_WAIT,
  NP_ALL
};

static const cli_opt np_opts[NP_ALL] = {
    [NP_RG] = {"resource-group", 'g', NULL, OPT_VALUE, "RG", "resource group"},
    [NP_CLUSTER] = {"cluster-name", 0, NULL, OPT_VALUE, "NAME", "managed cluster"},
    [NP_NAME] = {"name", 'n', "nodepool-name", OPT_VALUE, "NAME", "node pool name (1-12 lowercase letters/digits)"},
    [NP_SIZE] = {"node-vm-size", 's', NULL, OPT_VALUE, "SIZE", "VM size, e.g. Standard_NC24ads_A100_v4"},
    [NP_COUNT_] = {"node-count", 'c', NULL, OPT_VALUE, "N", "number of nodes (0-1000)"},
    [NP_K8S] = {"kubernetes-version", 'k', NULL, OPT_VALUE, "V", "Kubernetes version (default: the cluster's)"},
    [NP_OS_TYPE] = {"os-type", 0, NULL, OPT_VALUE, "TYPE", "Linux or Windows"},
    [NP_OS_SKU] = {"os-sku", 0, NULL, OPT_VALUE, "SKU", "Ubuntu, AzureLinux, AzureLinux3, Windows2022, ..."},
    [NP_MODE] = {"mode", 0, NULL, OPT_VALUE, "MODE", "System or User"},
    [NP_DRIVER] = {"gpu-driver", 0, NULL, OPT_VALUE, "Install|None", "install the GPU driver (fixed at creation)"},
    [NP_MANAGED] = {"enable-managed-gpu", 0, NULL, OPT_OPT_BOOL, NULL,
                    "managed GPU experience: managementMode Managed (true) or Unmanaged (false)"},
    [NP_GIP] = {"gpu-instance-profile", 0, "mig-profile", OPT_VALUE, "MIGng",
                "MIG profile filling every GPU: MIG1g, MIG2g, MIG3g, MIG4g, MIG7g"},
    [NP_STRATEGY] = {"gpu-mig-strategy", 0, "mig-strategy", OPT_VALUE, "STRATEGY",
                     "device plugin MIG strategy: None, Single, Mixed"},
    [NP_MIG_PROFILES] = {"mig-profiles", 0, NULL, OPT_VALUE, "LIST",
                         "MIG instances of each GPU, e.g. MIG3g,MIG2g,MIG1g,MIG1g"},
    [NP_DRIVER_MODE] = {"gpu-driver-mode", 0, NULL, OPT_VALUE, "MODE", "DevicePlugin or DRA"},
    [NP_LABELS] = {"labels", 0, NULL, OPT_MULTI, "K=V", "node labels"},
    [NP_TAINTS] = {"node-taints", 0, NULL, OPT_VALUE, "K=V:EFFECT,...", "node taints, comma separated"},
    [NP_TAGS] = {"tags", 0, NULL, OPT_MULTI, "K=V", "tags"},
    [NP_NO_WAIT] = {"no-wait", 0, NULL, OPT_FLAG, NULL, "do not wait for the operation to finish"},
};

/* Parses with the subset `which` of np_opts; values land at their NP_ index in out. */
static int parse_subset(cli_args *a, const char *cmd, const char *summary, const int *which, size_t n,
                        cli_val out[NP_ALL], int argc, char **argv) {
  return cli_parse_subset(a, cmd, summary, np_opts, NP_ALL, which, n, out, argc, argv);
}

static int require(const char *cmd, const cli_val *v, const int *req, size_t n) {
  return cli_require(cmd, np_opts, v, req, n);
}

/* Enum flag through the core's spelling table; on success sets *out to the canonical name. */
static bool enum_flag(const char *cmd, const cli_val *v, int idx, const gp_enum_names *t, const char **out) {
  return cli_enum(cmd, np_opts[idx].name, v[idx].value, t->names + 1, t->count - 1, out);
}

static bool kv_object(const char *cmd, const cli_val *v, int idx, json_t *obj) {
  for (size_t i = 0; i < v[idx].count; i++) {
    const char *eq = strchr(v[idx].values[i], '=');
    if (!eq || eq == v[idx].values[i]) {
      cli_usage_error(cmd, "--%s takes key=value pairs, not '%s'", np_opts[idx].name, v[idx].values[i]);
      return false;
    }
    char key[512];
    snprintf(key, sizeof key, "%.*s", (int)(eq - v[idx].values[i]), v[idx].values[i]);
    json_object_set_new(obj, key, json_string(eq + 1));
  }
  return true;
}

/* The pool properties the flags ask for (only what was given). NULL after a usage error. */
static json_t *props_from_flags(const char *cmd, const cli_val *v) {
  json_t *p = json_object(), *gpu = json_object(), *nv = json_object();
  const char *e;
  bool ok = true;
  if (v[NP_SIZE].set) json_object_set_new(p, "vmSize", json_string(v[NP_SIZE].value));
  if (v[NP_COUNT_].set) {
    char *end;
    long n = strtol(v[NP_COUNT_].value, &end, 10);
    if (*end || end == v[NP_COUNT_].value) {
      cli_usage_error(cmd, "--node-count must be a whole number, not '%s'", v[NP_COUNT_].value);
      ok = false;
    } else {
      json_object_set_new(p, "count", json_integer(n));
    }
  }
  if (v[NP_K8S].set) json_object_set_new(p, "orchestratorVersion", json_string(v[NP_K8S].value));
  if (ok && v[NP_OS_TYPE].set)
    ok = enum_flag(cmd, v, NP_OS_TYPE, &gp_os_type_names, &e) && !json_object_set_new(p, "osType", json_string(e));
  if (ok && v[NP_OS_SKU].set)
    ok = enum_flag(cmd, v, NP_OS_SKU, &gp_os_sku_names, &e) && !json_object_set_new(p, "osSKU", json_string(e));
  if (ok && v[NP_MODE].set)
    ok = enum_flag(cmd, v, NP_MODE, &gp_pool_mode_names, &e) && !json_object_set_new(p, "mode", json_string(e));
  if (ok && v[NP_GIP].set)
    ok = enum_flag(cmd, v, NP_GIP, &gp_mig_profile_names, &e) &&
         !json_object_set_new(p, "gpuInstanceProfile", json_string(e));
  if (ok && v[NP_DRIVER].set)
    ok = enum_flag(cmd, v, NP_DRIVER, &gp_driver_names, &e) && !json_object_set_new(gpu, "driver", json_string(e));
  if (ok && v[NP_MANAGED].set)
    json_object_set_new(nv, "managementMode",
                        json_string(strcasecmp(v[NP_MANAGED].value, "true") == 0 ? "Managed" : "Unmanaged"));
  if (ok && v[NP_STRATEGY].set)
    ok = enum_flag(cmd, v, NP_STRATEGY, &gp_mig_strategy_names, &e) &&
         !json_object_set_new(nv, "migStrategy", json_string(e));
  if (ok && v[NP_DRIVER_MODE].set)
    ok = enum_flag(cmd, v, NP_DRIVER_MODE, &gp_driver_mode_names, &e) &&
         !json_object_set_new(nv, "driverMode", json_string(e));
  if (ok && v[NP_MIG_PROFILES].set) {
    json_t *list = json_array();
    char buf[512];
    snprintf(buf, sizeof buf, "%s", v[NP_MIG_PROFILES].value);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); ok && t; t = strtok_r(NULL, ",", &save)) {
      while (*t == ' ')
        t++;
      ok = cli_enum(cmd, "mig-profiles", t, gp_mig_profile_names.names + 1, gp_mig_profile_names.count - 1, &e);
      if (ok) json_array_append_new(list, json_string(e));
    }
    if (ok && json_array_size(list) == 0) ok = cli_usage_error(cmd, "--mig-profiles needs at least one profile") == 0;
    json_object_set_new(nv, "migProfiles", list);
  }
  if (ok && v[NP_LABELS].set) {
    json_t *o = json_object();
    ok = kv_object(cmd, v, NP_LABELS, o);
    json_object_set_new(p, "nodeLabels", o);
  }
  if (ok && v[NP_TAGS].set) {
    json_t *o = json_object();
    ok = kv_object(cmd, v, NP_TAGS, o);
    json_object_set_new(p, "tags", o);
  }
  if (ok && v[NP_TAINTS].set) {
    json_t *list = json_array();
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", v[NP_TAINTS].value);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      while (*t == ' ')
        t++;
      if (*t) json_array_append_new(list, json_string(t));
    }
    json_object_set_new(p, "nodeTaints", list);
  }
  if (json_object_size(nv)) json_object_set(gpu, "nvidia", nv);
  if (json_object_size(gpu)) json_object_set(p, "gpuProfile", gpu);
  json_decref(nv);
  json_decref(gpu);
  if (!ok) {
    json_decref(p);
    return NULL;
  }
  return p;
}

static void pool_url(const arm_ctx *c, const cli_val *v, char *url, size_t size, const char *suffix) {
  char path[1200];
  arm_pool_path(path, sizeof path, v[NP_RG].value, v[NP_CLUSTER].value, v[NP_NAME].value);
  strncat(path, suffix, sizeof path - strlen(path) - 1);
  arm_url(c, url, size, path, CLI_API_VERSION);
}

static int np_add(int argc, char **argv) {
  static const int which[] = {NP_RG,      NP_CLUSTER, NP_NAME,     NP_SIZE,         NP_COUNT_,
                              NP_K8S,     NP_OS_TYPE, NP_OS_SKU,   NP_MODE,         NP_DRIVER,
                              NP_MANAGED, NP_GIP,     NP_STRATEGY, NP_MIG_PROFILES, NP_DRIVER_MODE,
                              NP_LABELS,  NP_TAINTS,  NP_TAGS,     NP_NO_WAIT};
  static const int req[] = {NP_RG, NP_CLUSTER, NP_NAME, NP_SIZE};
  const char *cmd = "nodepool add";
  cli_args a;
  cli_val v[NP_ALL];
  int rc = parse_subset(&a, cmd, "Adds a node pool to a managed cluster.", which, sizeof which / sizeof *which, v, argc,
                        argv);
  if (rc >= 0 || (rc = require(cmd, v, req, 4)) >= 0) return rc;
  json_t *props = props_from_flags(cmd, v);
  if (!props) return CLI_USAGE;
  json_t *body = json_pack("{s:o}", "properties", props);
  arm_ctx c;
  arm_init(&c, &a);
  char url[2048];
  pool_url(&c, v, url, sizeof url, "");
  http_conditions cond = {NULL, "*"}; /* add never overwrites an existing pool */
  rc = arm_write(&c, "PUT", url, body, &cond, v[NP_NO_WAIT].set, url, KIND_NODEPOOL);
  json_decref(body);
  return rc;
}

static int np_update(int argc, char **argv) {
  static const int which[] = {NP_RG,      NP_CLUSTER,  NP_NAME,        NP_COUNT_, NP_K8S,    NP_OS_SKU, NP_MODE,
                              NP_MANAGED, NP_STRATEGY, NP_DRIVER_MODE, NP_LABELS, NP_TAINTS, NP_TAGS,   NP_NO_WAIT};
  static const int req[] = {NP_RG, NP_CLUSTER, NP_NAME};
  const char *cmd = "nodepool update";
  cli_args a;
  cli_val v[NP_ALL];
  int rc =
      parse_subset(&a, cmd, "Updates a node pool: GET, then PUT with If-Match carrying only the settings given here.",
                   which, sizeof which / sizeof *which, v, argc, argv);
  if (rc >= 0 || (rc = require(cmd, v, req, 3)) >= 0) return rc;
  json_t *props = props_from_flags(cmd, v);
  if (!props) return CLI_USAGE;
  if (json_object_size(props) == 0) {
    json_decref(props);
    return cli_usage_error(cmd, "nothing to update: give at least one setting to change");
  }
  arm_ctx c;
  arm_init(&c, &a);
  char url[2048];
  pool_url(&c, v, url, sizeof url, "");
  http_response g;
  json_t *cur;
  if (!arm_call(&c, "GET", url, NULL, NULL, &g, &cur)) {
    http_response_free(&g);
    json_decref(props);
    return CLI_ERROR;
  }
  if (g.status != 200) {
    rc = arm_print_error(&g, cur);
  } else {
    /* the etag of what we read: a concurrent change in between makes the PUT fail with 412 */
    char etag[300];
    const char *e = json_string_value(json_object_get(json_object_get(cur, "properties"), "eTag"));
    snprintf(etag, sizeof etag, "%s", g.etag[0] ? g.etag : (e ? e : "*"));
    json_t *body = json_pack("{s:O}", "properties", props);
    http_conditions cond = {etag, NULL};
    rc = arm_write(&c, "PUT", url, body, &cond, v[NP_NO_WAIT].set, url, KIND_NODEPOOL);
    json_decref(body);
  }
  json_decref(cur);
  json_decref(props);
  http_response_free(&g);
  return rc;
}

static int np_get(const char *cmd, const char *summary, const char *suffix, out_kind kind, int argc, char **argv);

static int np_show(int argc, char **argv) {
  return np_get("nodepool show", "Shows a node pool.", "", KIND_NODEPOOL, argc, argv);
}

static int np_plan(int argc, char **argv) {
  return np_get("nodepool plan",
                "Shows the pool's install plan: components, versions, MIG layout, allocatable, decisions.", "/plan",
                KIND_PLAN, argc, argv);
}

static int np_get(const char *cmd, const char *summary, const char *suffix, out_kind kind, int argc, char **argv) {
  static const int which[] = {NP_RG, NP_CLUSTER, NP_NAME};
  cli_args a;
  cli_val v[NP_ALL];
  int rc = parse_subset(&a, cmd, summary, which, 3, v, argc, argv);
  if (rc >= 0 || (rc = require(cmd, v, which, 3)) >= 0) return rc;
  arm_ctx c;
  arm_init(&c, &a);
  char url[2048];
  pool_url(&c, v, url, sizeof url, suffix);
  return arm_show(&c, url, kind);
}

static int np_delete(int argc, char **argv) {
  static const int which[] = {NP_RG, NP_CLUSTER, NP_NAME, NP_NO_WAIT};
  const char *cmd = "nodepool delete";
  cli_args a;
  cli_val v[NP_ALL];
  int rc = parse_subset(&a, cmd, "Deletes a node pool.", which, 4, v, argc, argv);
  if (rc >= 0 || (rc = require(cmd, v, which, 3)) >= 0) return rc;
  arm_ctx c;
  arm_init(&c, &a);
  char url[2048];
  pool_url(&c, v, url, sizeof url, "");
  return arm_write(&c, "DELETE", url, NULL, NULL, v[NP_NO_WAIT].set, NULL, KIND_OPERATION);
}

static int np_list(int argc, char **argv) {
  static const int which[] = {NP_RG, NP_CLUSTER};
  const char *cmd = "nodepool list";
  cli_args a;
  cli_val v[NP_ALL];
  int rc = parse_subset(&a, cmd, "Lists the node pools of a managed cluster.", which, 2, v, argc, argv);
  if (rc >= 0 || (rc = require(cmd, v, which, 2)) >= 0) return rc;
  arm_ctx c;
  arm_init(&c, &a);
  char path[1200], url[2048];
  arm_cluster_path(path, sizeof path, v[NP_RG].value, v[NP_CLUSTER].value);
  strncat(path, "/agentPools", sizeof path - strlen(path) - 1);
  arm_url(&c, url, sizeof url, path, CLI_API_VERSION);
  return arm_list(&c, url, KIND_NODEPOOL);
}

int cmd_nodepool(int argc, char **argv) {
  static const cli_sub subs[] = {
      {"add", "add a node pool", np_add},          {"update", "change a node pool's mutable settings", np_update},
      {"show", "show a node pool", np_show},       {"list", "list the node pools of a cluster", np_list},
      {"delete", "delete a node pool", np_delete}, {"plan", "show what gets installed on the pool's nodes", np_plan},
  };
  return cli_dispatch("nodepool", "Node pools (agent pools) of a managed cluster.", subs, sizeof subs / sizeof subs[0],
                      argc, argv);
}
