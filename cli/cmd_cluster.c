/* cmd_cluster.c - `gpupool cluster create|update|show|list|delete` (alias `gpupool aks`): managed
 * clusters, with az aks's flags. `--managed-gpu` sets the cluster-level default management mode of
 * its NVIDIA pools. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arm.h"
#include "cli.h"
#include "commands.h"
#include "output.h"

enum { C_RG, C_NAME, C_LOCATION, C_K8S, C_MANAGED, C_SIZE, C_COUNT_, C_NO_WAIT, C_ALL };

static const cli_opt c_opts[C_ALL] = {
    [C_RG] = {"resource-group", 'g', NULL, OPT_VALUE, "RG", "resource group", "group"},
    [C_NAME] = {"name", 'n', NULL, OPT_VALUE, "NAME", "managed cluster name"},
    [C_LOCATION] = {"location", 'l', NULL, OPT_VALUE, "LOC", "region (default eastus)", "location"},
    [C_K8S] = {"kubernetes-version", 'k', NULL, OPT_VALUE, "V", "Kubernetes version (default 1.35)"},
    [C_MANAGED] = {"managed-gpu", 0, NULL, OPT_OPT_BOOL, NULL,
                   "cluster-level default for NVIDIA pools without their own: Managed (true) or Unmanaged (false)"},
    [C_SIZE] = {"node-vm-size", 0, NULL, OPT_VALUE, "SIZE",
                "VM size of the first (system) pool (default Standard_D4s_v5)", NULL, COMPLETE_VM_SIZE, NULL},
    [C_COUNT_] = {"node-count", 0, NULL, OPT_VALUE, "N", "nodes of the first (system) pool (default 3)"},
    [C_NO_WAIT] = {"no-wait", 0, NULL, OPT_FLAG, NULL, "do not wait for the operation to finish"},
};

static void cluster_url(const arm_ctx *c, const cli_val *v, char *url, size_t size) {
  char path[800];
  arm_cluster_path(path, sizeof path, v[C_RG].value, v[C_NAME].value);
  arm_url(c, url, size, path, CLI_API_VERSION);
}

static json_t *gpu_profile(const cli_val *v) {
  return json_pack("{s:{s:s}}", "nvidia", "managementMode",
                   strcasecmp(v[C_MANAGED].value, "true") == 0 ? "Managed" : "Unmanaged");
}

static int cl_create(cli_args *a) {
  const cli_val *v = a->v;
  const char *cmd = a->command;
  long count = 3;
  if (v[C_COUNT_].set) {
    char *end;
    count = strtol(v[C_COUNT_].value, &end, 10);
    if (*end || end == v[C_COUNT_].value)
      return cli_usage_error(cmd, "--node-count must be a whole number, not '%s'", v[C_COUNT_].value);
  }
  json_t *pool =
      json_pack("{s:s,s:s,s:I,s:s}", "name", "nodepool1", "vmSize", v[C_SIZE].set ? v[C_SIZE].value : "Standard_D4s_v5",
                "count", (json_int_t)count, "mode", "System");
  json_t *props = json_pack("{s:[o]}", "agentPoolProfiles", pool);
  char dns[80];
  snprintf(dns, sizeof dns, "%.20s-%.16s", v[C_NAME].value, v[C_RG].value);
  for (char *p = dns; *p; p++)
    if (*p == '_' || *p == '.' || *p == '(' || *p == ')') *p = '-';
  json_object_set_new(props, "dnsPrefix", json_string(dns));
  if (v[C_K8S].set) json_object_set_new(props, "kubernetesVersion", json_string(v[C_K8S].value));
  if (v[C_MANAGED].set) json_object_set_new(props, "gpuProfile", gpu_profile(v));
  json_t *body =
      json_pack("{s:s,s:o}", "location", v[C_LOCATION].set ? v[C_LOCATION].value : "eastus", "properties", props);
  arm_ctx c;
  arm_init(&c, a);
  char url[2048], what[600], fix[1200];
  cluster_url(&c, v, url, sizeof url);
  snprintf(what, sizeof what, "Managed cluster '%s' in resource group '%s'", v[C_NAME].value, v[C_RG].value);
  snprintf(fix, sizeof fix,
           "Change it with 'gpupool cluster update -g %s -n %s', see it with 'gpupool cluster show -g %s -n %s'.",
           v[C_RG].value, v[C_NAME].value, v[C_RG].value, v[C_NAME].value);
  int rc = arm_create(&c, url, body, v[C_NO_WAIT].set, KIND_CLUSTER, what, fix);
  json_decref(body);
  return rc;
}

static int cl_update(cli_args *a) {
  const cli_val *v = a->v;
  const char *cmd = a->command;
  int rc;
  if (!v[C_K8S].set && !v[C_MANAGED].set)
    return cli_usage_error(cmd, "nothing to update: give --kubernetes-version or --managed-gpu");
  arm_ctx c;
  arm_init(&c, a);
  char url[2048];
  cluster_url(&c, v, url, sizeof url);
  http_response g;
  json_t *cur;
  if (!arm_call(&c, "GET", url, NULL, NULL, &g, &cur)) {
    http_response_free(&g);
    return CLI_ERROR;
  }
  if (g.status != 200) {
    rc = arm_print_error(&g, cur);
  } else {
    json_t *props = json_object();
    if (v[C_K8S].set) json_object_set_new(props, "kubernetesVersion", json_string(v[C_K8S].value));
    if (v[C_MANAGED].set) json_object_set_new(props, "gpuProfile", gpu_profile(v));
    json_t *body = json_pack("{s:O?,s:o}", "location", json_object_get(cur, "location"), "properties", props);
    char etag[300];
    const char *e = json_string_value(json_object_get(json_object_get(cur, "properties"), "eTag"));
    snprintf(etag, sizeof etag, "%s", g.etag[0] ? g.etag : (e ? e : "*"));
    http_conditions cond = {etag, NULL};
    rc = arm_write(&c, "PUT", url, body, &cond, v[C_NO_WAIT].set, url, KIND_CLUSTER);
    json_decref(body);
  }
  json_decref(cur);
  http_response_free(&g);
  return rc;
}

static int cl_show(cli_args *a) {
  arm_ctx c;
  arm_init(&c, a);
  char url[2048];
  cluster_url(&c, a->v, url, sizeof url);
  return arm_show(&c, url, KIND_CLUSTER);
}

static int cl_list(cli_args *a) {
  const cli_val *v = a->v;
  arm_ctx c;
  arm_init(&c, a);
  char path[800], url[2048], rg[300];
  if (v[C_RG].set) {
    http_escape_segment(v[C_RG].value, rg, sizeof rg);
    snprintf(path, sizeof path, "/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters", rg);
  } else {
    snprintf(path, sizeof path, "/providers/Microsoft.ContainerService/managedClusters");
  }
  arm_url(&c, url, sizeof url, path, CLI_API_VERSION);
  return arm_list(&c, url, KIND_CLUSTER);
}

static int cl_delete(cli_args *a) {
  const cli_val *v = a->v;
  char what[600];
  int status;
  snprintf(what, sizeof what, "delete managed cluster '%s' in resource group '%s' and all its node pools",
           v[C_NAME].value, v[C_RG].value);
  if (!cli_confirm(a, what, &status)) return status;
  arm_ctx c;
  arm_init(&c, a);
  char url[2048];
  cluster_url(&c, v, url, sizeof url);
  return arm_write(&c, "DELETE", url, NULL, NULL, v[C_NO_WAIT].set, NULL, KIND_OPERATION);
}

static const int create_opts[] = {C_RG, C_NAME, C_LOCATION, C_K8S, C_MANAGED, C_SIZE, C_COUNT_, C_NO_WAIT, CLI_END};
static const int update_opts[] = {C_RG, C_NAME, C_K8S, C_MANAGED, C_NO_WAIT, CLI_END};
static const int name_opts[] = {C_RG, C_NAME, CLI_END};
static const int list_opts[] = {C_RG, CLI_END};
static const int delete_opts[] = {C_RG, C_NAME, C_NO_WAIT, CLI_END};

static const cli_command commands[] = {
    {"create", "create a cluster (with a system node pool)",
     "Creates a managed cluster with one system node pool (nodepool1). An existing cluster is left as it is.",
     create_opts, name_opts, 0, NULL, cl_create},
    {"update", "change its Kubernetes version or managed GPU default",
     "Updates a managed cluster (Kubernetes version, cluster-level managed GPU default): GET, then PUT with If-Match "
     "carrying only the settings given here.",
     update_opts, name_opts, 0, NULL, cl_update},
    {"show", "show a cluster", "Shows a managed cluster.", name_opts, name_opts, 0, NULL, cl_show},
    {"list", "list clusters", "Lists managed clusters of a resource group, or of the subscription without -g.",
     list_opts, NULL, 0, NULL, cl_list},
    {"delete", "delete a cluster and its node pools",
     "Deletes a managed cluster and its node pools. Asks first on a terminal; elsewhere needs --yes.", delete_opts,
     name_opts, CLI_CONFIRM, NULL, cl_delete},
};

const cli_group cli_group_cluster = {"cluster", "aks", "managed clusters", "Managed clusters (az aks).",
                                     c_opts,    C_ALL, commands,           sizeof commands / sizeof commands[0]};
