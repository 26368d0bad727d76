/* cmd_nodepool.c - `gpupool nodepool add|update|show|list|delete|plan|abort`: agent pools of a
 * managed cluster, with az aks nodepool's flags (the seed's spellings as aliases). Writes wait for
 * their operation (a rollout's end) unless --no-wait; update is GET-modify-PUT with If-Match sending
 * only what changed; `update --dry-run` sends the same body to the pool's what-if instead, and
 * writes nothing; abort stops a progressing rollout where it stands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arm.h"
#include "cli.h"
#include "commands.h"
#include "gpupool/catalog.h"
#include "gpupool/enums.h"
#include "gpupool/mig.h"
#include "migdraw.h"
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
  NP_DRY_RUN,
  NP_MAX_UNAVAILABLE,
  NP_DRAIN_TIMEOUT,
  NP_NODE_SOAK,
  NP_ALL
};

static const cli_opt np_opts[NP_ALL] = {
    [NP_RG] = {"resource-group", 'g', NULL, OPT_VALUE, "RG", "resource group", "group"},
    [NP_CLUSTER] = {"cluster-name", 0, NULL, OPT_VALUE, "NAME", "managed cluster", "cluster"},
    [NP_NAME] = {"name", 'n', "nodepool-name", OPT_VALUE, "NAME", "node pool name (1-12 lowercase letters/digits)"},
    [NP_SIZE] = {"node-vm-size", 's', NULL, OPT_VALUE, "SIZE",
                 "VM size, e.g. Standard_NC24ads_A100_v4 ('gpupool vm-size list' shows the GPU sizes)", NULL,
                 COMPLETE_VM_SIZE, NULL},
    [NP_COUNT_] = {"node-count", 'c', NULL, OPT_VALUE, "N", "number of nodes (0-1000; add: default 3)"},
    [NP_K8S] = {"kubernetes-version", 'k', NULL, OPT_VALUE, "V", "Kubernetes version (default: the cluster's)"},
    [NP_OS_TYPE] = {"os-type", 0, NULL, OPT_VALUE, "TYPE", "Linux or Windows", NULL, COMPLETE_CHOICES,
                    &gp_os_type_names},
    [NP_OS_SKU] = {"os-sku", 0, NULL, OPT_VALUE, "SKU", "Ubuntu, AzureLinux, AzureLinux3, Windows2022, ...", NULL,
                   COMPLETE_CHOICES, &gp_os_sku_names},
    [NP_MODE] = {"mode", 0, NULL, OPT_VALUE, "MODE", "System or User", NULL, COMPLETE_CHOICES, &gp_pool_mode_names},
    [NP_DRIVER] = {"gpu-driver", 0, NULL, OPT_VALUE, "Install|None", "install the GPU driver (fixed at creation)", NULL,
                   COMPLETE_CHOICES, &gp_driver_names},
    [NP_MANAGED] = {"enable-managed-gpu", 0, NULL, OPT_OPT_BOOL, NULL,
                    "managed GPU experience: managementMode Managed (true) or Unmanaged (false)"},
    [NP_GIP] = {"gpu-instance-profile", 0, "mig-profile", OPT_VALUE, "MIGng",
                "MIG profile filling every GPU: MIG1g, MIG2g, MIG3g, MIG4g, MIG7g", NULL, COMPLETE_CHOICES,
                &gp_mig_profile_names},
    [NP_STRATEGY] = {"gpu-mig-strategy", 0, "mig-strategy", OPT_VALUE, "STRATEGY",
                     "device plugin MIG strategy: None, Single, Mixed", NULL, COMPLETE_CHOICES, &gp_mig_strategy_names},
    [NP_MIG_PROFILES] = {"mig-profiles", 0, NULL, OPT_VALUE, "LIST",
                         "MIG instances of each GPU, e.g. MIG3g,MIG2g,MIG1g,MIG1g ('gpupool vm-size show' lists "
                         "the valid ones)",
                         NULL, COMPLETE_CHOICES, &gp_mig_profile_names},
    [NP_DRIVER_MODE] = {"gpu-driver-mode", 0, NULL, OPT_VALUE, "MODE", "DevicePlugin or DRA", NULL, COMPLETE_CHOICES,
                        &gp_driver_mode_names},
    [NP_LABELS] = {"labels", 0, NULL, OPT_MULTI, "K=V", "node labels"},
    [NP_TAINTS] = {"node-taints", 0, NULL, OPT_VALUE, "K=V:EFFECT,...", "node taints, comma separated"},
    [NP_TAGS] = {"tags", 0, NULL, OPT_MULTI, "K=V", "tags"},
    [NP_NO_WAIT] = {"no-wait", 0, NULL, OPT_FLAG, NULL, "do not wait for the operation to finish"},
    [NP_DRY_RUN] = {"dry-run", 0, NULL, OPT_FLAG, NULL,
                    "change nothing: say what the update would do to the pool's nodes (its disruption class, the "
                    "plan's changes, the machines of each class)"},
    [NP_MAX_UNAVAILABLE] = {"max-unavailable", 0, NULL, OPT_VALUE, "N|N%",
                            "rollouts: machines changed at once, a count (2) or a percent of the registered machines "
                            "(25%); default 1"},
    [NP_DRAIN_TIMEOUT] = {"drain-timeout", 0, NULL, OPT_VALUE, "MINUTES",
                          "rollouts: how long a node's drain may take (default 30); a machine not back within it + 10 "
                          "minutes halts the rollout"},
    [NP_NODE_SOAK] = {"node-soak-duration", 0, NULL, OPT_VALUE, "MINUTES",
                      "rollouts: wait after each batch is conformant before the next one (default 0)"},
};

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

/* A whole number of minutes for --FLAG into upgradeSettings.KEY; a usage error otherwise (the
 * server checks the range). */
static bool minutes_flag(const char *cmd, const cli_val *v, int idx, const char *key, json_t *us) {
  if (!v[idx].set) return true;
  char *end;
  long n = strtol(v[idx].value, &end, 10);
  if (*end || end == v[idx].value)
    return cli_usage_error(cmd, "--%s takes a whole number of minutes, not '%s'", np_opts[idx].name, v[idx].value) == 0;
  json_object_set_new(us, key, json_integer(n));
  return true;
}

/* upgradeSettings (AKS's names) from --max-unavailable, --drain-timeout, --node-soak-duration:
 * only those given, so an update keeps the others. maxUnavailable goes as the string it is ("2",
 * "25%"): gpupoold says what it accepts, in one place. */
static bool upgrade_settings(const char *cmd, const cli_val *v, json_t *p) {
  json_t *us = json_object();
  bool ok = minutes_flag(cmd, v, NP_DRAIN_TIMEOUT, "drainTimeoutInMinutes", us) &&
            minutes_flag(cmd, v, NP_NODE_SOAK, "nodeSoakDurationInMinutes", us);
  if (ok && v[NP_MAX_UNAVAILABLE].set)
    json_object_set_new(us, "maxUnavailable", json_string(v[NP_MAX_UNAVAILABLE].value));
  if (ok && json_object_size(us)) json_object_set(p, "upgradeSettings", us);
  json_decref(us);
  return ok;
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
  if (ok) ok = upgrade_settings(cmd, v, p);
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

/* Warnings of the pool's plan (no NoSchedule taint, MIG needs a reboot, ...), once its operation
 * ended: what `nodepool plan` would show, said when it matters. */
static void plan_warnings(const arm_ctx *c, const cli_val *v) {
  char url[2048];
  pool_url(c, v, url, sizeof url, "/plan");
  http_response r;
  json_t *plan;
  if (arm_call(c, "GET", url, NULL, NULL, &r, &plan) && r.status == 200) {
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(plan, "warnings"), i, w) {
      if (json_is_string(w)) arm_warn(json_string_value(w));
    }
  }
  json_decref(plan);
  http_response_free(&r);
}

/* After a refusal: when --mig-profiles cannot be placed on the size's GPU, the picture says why. */
static void explain_layout(const cli_val *v) {
  gp_mig_profile list[CLI_MIG_MAX_LIST];
  size_t n;
  const gp_vm_size *sz = v[NP_SIZE].set ? gp_catalog_vm_size(v[NP_SIZE].value) : NULL;
  if (!sz || !sz->mig || !v[NP_MIG_PROFILES].set || !mig_parse_list(v[NP_MIG_PROFILES].value, list, &n)) return;
  if (n <= GP_MIG_MAX_PER_GPU && gp_mig_place(list, n, NULL)) return;
  mig_draw_profiles(stderr, sz->gpu_model, list, n, false);
}

static int np_add(cli_args *a) {
  const cli_val *v = a->v;
  json_t *props = props_from_flags(a->command, v);
  if (!props) return CLI_USAGE;
  if (!v[NP_COUNT_].set) json_object_set_new(props, "count", json_integer(3)); /* as az aks nodepool add */
  json_t *body = json_pack("{s:o}", "properties", props);
  arm_ctx c;
  arm_init(&c, a);
  char url[2048], what[800], fix[1600];
  pool_url(&c, v, url, sizeof url, "");
  snprintf(what, sizeof what, "Node pool '%s' of managed cluster '%s'", v[NP_NAME].value, v[NP_CLUSTER].value);
  snprintf(fix, sizeof fix,
           "Change it with 'gpupool nodepool update -g %s --cluster-name %s -n %s', see it with 'gpupool nodepool "
           "show -g %s --cluster-name %s -n %s'.",
           v[NP_RG].value, v[NP_CLUSTER].value, v[NP_NAME].value, v[NP_RG].value, v[NP_CLUSTER].value,
           v[NP_NAME].value);
  int rc = arm_create(&c, url, body, v[NP_NO_WAIT].set, KIND_NODEPOOL, what, fix);
  json_decref(body);
  if (rc == CLI_OK && !v[NP_NO_WAIT].set) plan_warnings(&c, v);
  if (rc == CLI_ERROR) explain_layout(v);
  return rc;
}

/* --dry-run: the same body to POST …/whatIf. A refused body exits 1 with its error, as the update
 * would; nothing is written either way. */
static int np_whatif(const arm_ctx *c, const cli_args *a, json_t *props) {
  char url[2048];
  pool_url(c, a->v, url, sizeof url, "/whatIf");
  json_t *body = json_pack("{s:O}", "properties", props), *out = NULL;
  http_response r;
  int rc = CLI_ERROR;
  if (!arm_call(c, "POST", url, body, NULL, &r, &out)) {
    /* the transport error is printed */
  } else if (r.status != 200) {
    rc = arm_print_error(&r, out);
  } else if (!json_is_true(json_object_get(out, "valid"))) {
    json_t *e = json_pack("{s:O?}", "error", json_object_get(out, "error"));
    rc = arm_print_error_body(e);
    json_decref(e);
  } else {
    rc = out_print(a->output, KIND_DIFF, out, 0);
  }
  json_decref(body);
  json_decref(out);
  http_response_free(&r);
  return rc;
}

/* The pool's rollout state ("" when the pool or the field is not there). */
static void rollout_state(const arm_ctx *c, const cli_val *v, char *out, size_t size) {
  char url[2048];
  pool_url(c, v, url, sizeof url, "");
  http_response r;
  json_t *pool;
  out[0] = 0;
  if (arm_call(c, "GET", url, NULL, NULL, &r, &pool) && r.status == 200) {
    const char *st = json_string_value(json_object_get(
        json_object_get(json_object_get(json_object_get(pool, "properties"), "status"), "rollout"), "state"));
    snprintf(out, size, "%s", st ? st : "");
  }
  json_decref(pool);
  http_response_free(&r);
}

/* After a failed update: when the pool's rollout halted or still progresses, what the user can do
 * next, in gpupool commands (the error alone says what happened, not how to go on). */
static void rollout_hint(const arm_ctx *c, const cli_val *v) {
  char st[32], pool[800];
  rollout_state(c, v, st, sizeof st);
  snprintf(pool, sizeof pool, "-g %s --cluster-name %s -n %s", v[NP_RG].value, v[NP_CLUSTER].value, v[NP_NAME].value);
  if (!strcmp(st, "Halted"))
    fprintf(stderr,
            "The rollout of node pool '%s' is halted: no further machine moves. See which machines and why with "
            "'gpupool nodepool show %s -o table'; once they are fixed, resume it by running the same update again; "
            "roll back by updating to the earlier settings; or stop it with 'gpupool nodepool abort %s'.\n",
            v[NP_NAME].value, pool, pool);
  else if (!strcmp(st, "Progressing"))
    fprintf(stderr,
            "A rollout of node pool '%s' is in progress: follow it with 'gpupool nodepool show %s -o table' and "
            "update once it ends, or stop it with 'gpupool nodepool abort %s'.\n",
            v[NP_NAME].value, pool, pool);
}

static int np_update(cli_args *a) {
  const cli_val *v = a->v;
  const char *cmd = a->command;
  int rc;
  json_t *props = props_from_flags(cmd, v);
  if (!props) return CLI_USAGE;
  if (json_object_size(props) == 0) {
    json_decref(props);
    return cli_usage_error(cmd, "nothing to update: give at least one setting to change");
  }
  arm_ctx c;
  arm_init(&c, a);
  if (v[NP_DRY_RUN].set) {
    rc = np_whatif(&c, a, props);
    json_decref(props);
    return rc;
  }
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
    /* upgradeSettings goes as one object, as az sends it: the pool's, with the members the flags
     * give changed. gpupoold replaces the whole object with what a PUT carries (and drops it when
     * a PUT omits it), so an update that says nothing about rollouts must not lose them. */
    json_t *us = json_object_get(props, "upgradeSettings");
    const json_t *cur_us = json_object_get(json_object_get(cur, "properties"), "upgradeSettings");
    if (json_is_object(cur_us)) {
      json_t *merged = json_deep_copy(cur_us);
      if (merged && us) json_object_update(merged, us);
      if (merged) json_object_set_new(props, "upgradeSettings", merged);
    }
    json_t *body = json_pack("{s:O}", "properties", props);
    http_conditions cond = {etag, NULL};
    rc = arm_write(&c, "PUT", url, body, &cond, v[NP_NO_WAIT].set, url, KIND_NODEPOOL);
    json_decref(body);
    if (rc == CLI_OK && !v[NP_NO_WAIT].set) plan_warnings(&c, v);
    if (rc == CLI_ERROR) rollout_hint(&c, v);
  }
  json_decref(cur);
  json_decref(props);
  http_response_free(&g);
  return rc;
}

static int np_get(cli_args *a, const char *suffix, out_kind kind) {
  arm_ctx c;
  arm_init(&c, a);
  char url[2048];
  pool_url(&c, a->v, url, sizeof url, suffix);
  return arm_show(&c, url, kind);
}

static int np_show(cli_args *a) { return np_get(a, "", KIND_NODEPOOL); }
static int np_plan(cli_args *a) { return np_get(a, "/plan", KIND_PLAN); }

static int np_delete(cli_args *a) {
  const cli_val *v = a->v;
  char what[800];
  int status;
  snprintf(what, sizeof what, "delete node pool '%s' of managed cluster '%s' in resource group '%s'", v[NP_NAME].value,
           v[NP_CLUSTER].value, v[NP_RG].value);
  if (!cli_confirm(a, what, &status)) return status;
  arm_ctx c;
  arm_init(&c, a);
  char url[2048];
  pool_url(&c, v, url, sizeof url, "");
  return arm_write(&c, "DELETE", url, NULL, NULL, v[NP_NO_WAIT].set, NULL, KIND_OPERATION);
}

/* POST …/abort (AKS's operation-abort): 202 stops the rollout where it stands, then the pool is
 * shown (its rollout Aborted); 409 means there is nothing to stop, said in gpupool's words. The
 * pool's operation ends Canceled: that is the point, so it is not waited for as an error. */
static int np_abort(cli_args *a) {
  const cli_val *v = a->v;
  arm_ctx c;
  arm_init(&c, a);
  char url[2048], get_url[2048];
  pool_url(&c, v, url, sizeof url, "/abort");
  pool_url(&c, v, get_url, sizeof get_url, "");
  http_response r;
  json_t *body;
  if (!arm_call(&c, "POST", url, NULL, NULL, &r, &body)) {
    http_response_free(&r);
    return CLI_ERROR;
  }
  int rc;
  if (r.status == 409) {
    arm_print_error(&r, body);
    char st[32];
    rollout_state(&c, v, st, sizeof st);
    fprintf(stderr,
            "Nothing to abort: node pool '%s' has no rollout in progress (rollout state: %s). See it with 'gpupool "
            "nodepool show -g %s --cluster-name %s -n %s -o table'.\n",
            v[NP_NAME].value, st[0] ? st : "Idle", v[NP_RG].value, v[NP_CLUSTER].value, v[NP_NAME].value);
    rc = CLI_ERROR;
  } else if (r.status >= 400) {
    rc = arm_print_error(&r, body);
  } else {
    rc = arm_show(&c, get_url, KIND_NODEPOOL);
  }
  json_decref(body);
  http_response_free(&r);
  return rc;
}

static int np_list(cli_args *a) {
  arm_ctx c;
  arm_init(&c, a);
  char path[1200], url[2048];
  arm_cluster_path(path, sizeof path, a->v[NP_RG].value, a->v[NP_CLUSTER].value);
  strncat(path, "/agentPools", sizeof path - strlen(path) - 1);
  arm_url(&c, url, sizeof url, path, CLI_API_VERSION);
  return arm_list(&c, url, KIND_NODEPOOL);
}

static const int add_opts[] = {NP_RG,       NP_CLUSTER,         NP_NAME,          NP_SIZE,      NP_COUNT_,  NP_K8S,
                               NP_OS_TYPE,  NP_OS_SKU,          NP_MODE,          NP_DRIVER,    NP_MANAGED, NP_GIP,
                               NP_STRATEGY, NP_MIG_PROFILES,    NP_DRIVER_MODE,   NP_LABELS,    NP_TAINTS,  NP_TAGS,
                               NP_NO_WAIT,  NP_MAX_UNAVAILABLE, NP_DRAIN_TIMEOUT, NP_NODE_SOAK, CLI_END};
static const int add_req[] = {NP_RG, NP_CLUSTER, NP_NAME, NP_SIZE, CLI_END};
static const int update_opts[] = {NP_RG,   NP_CLUSTER, NP_NAME,     NP_COUNT_,          NP_K8S,           NP_OS_SKU,
                                  NP_MODE, NP_MANAGED, NP_STRATEGY, NP_DRIVER_MODE,     NP_LABELS,        NP_TAINTS,
                                  NP_TAGS, NP_NO_WAIT, NP_DRY_RUN,  NP_MAX_UNAVAILABLE, NP_DRAIN_TIMEOUT, NP_NODE_SOAK,
                                  CLI_END};
static const int pool_opts[] = {NP_RG, NP_CLUSTER, NP_NAME, CLI_END};
static const int delete_opts[] = {NP_RG, NP_CLUSTER, NP_NAME, NP_NO_WAIT, CLI_END};
static const int list_opts[] = {NP_RG, NP_CLUSTER, CLI_END};

static const char update_epilog[] =
    "--dry-run asks gpupoold's what-if (POST .../agentPools/NAME/whatIf): the disruption class of the change - None, "
    "InPlace (labels, taints), Restart (a GPU service), Drain (the GPUs must be idle), Reboot - the plan's changes, "
    "and "
    "how many of the pool's machines each class would touch, each from the plan it applied. -o table: one line per "
    "change, then the machines per class. Exit status: 0, or 1 when the update would be refused (the error on "
    "stderr).\n"
    "\n"
    "A change that reaches the nodes rolls out in batches of --max-unavailable machines: each drains (when the class "
    "needs it), applies, checks and comes back Conformant before the next batch moves. The update waits for the "
    "rollout to end (--no-wait returns at once; 'gpupool nodepool show -o table' follows it). A machine that turns "
    "Unhealthy or is not back in time halts the rollout: exit 1 with the machines named. Running the same update "
    "again resumes it; updating to the earlier settings rolls back; 'gpupool nodepool abort' stops it.\n";

static const char abort_epilog[] =
    "Stops the pool's progressing rollout where it stands: machines already moved keep their new plan, no further "
    "machine moves, the pool's operation ends Canceled and its rollout state is Aborted. Resume by running the same "
    "'gpupool nodepool update' again; roll back by updating to the earlier settings. Prints the pool. Exit status: 0; "
    "1 when no rollout is in progress (nothing changed).\n";

static const cli_command commands[] = {
    {"add", "add a node pool",
     "Adds a node pool to a managed cluster (3 nodes unless --node-count). An existing pool is left as it is.",
     add_opts, add_req, 0, NULL, np_add},
    {"update", "change a node pool's mutable settings",
     "Updates a node pool: GET, then PUT with If-Match carrying only the settings given here. --dry-run changes "
     "nothing and says what the update would do to the pool's nodes.",
     update_opts, pool_opts, 0, update_epilog, np_update},
    {"show", "show a node pool",
     "Shows a node pool. -o table: its settings, its nodes by state, and its rollout: generation from -> to, the "
     "disruption class, the machines updated, pending and failed, the rollout settings and why it halted.",
     pool_opts, pool_opts, 0, NULL, np_show},
    {"list", "list the node pools of a cluster", "Lists the node pools of a managed cluster.", list_opts, list_opts, 0,
     NULL, np_list},
    {"delete", "delete a node pool", "Deletes a node pool. Asks first on a terminal; elsewhere needs --yes.",
     delete_opts, pool_opts, CLI_CONFIRM, NULL, np_delete},
    {"plan", "show what gets installed on the pool's nodes",
     "Shows the pool's install plan: components, versions, the MIG layout of each GPU (a picture with -o table), "
     "allocatable resources, decisions. -o tsv: one line per component (name, version, image, args).",
     pool_opts, pool_opts, 0, NULL, np_plan},
    {"abort", "stop a node pool's rollout",
     "Aborts the rollout in progress on a node pool (az aks nodepool operation-abort).", pool_opts, pool_opts, 0,
     abort_epilog, np_abort},
    {"operation-abort", "stop a node pool's rollout (az's name)", "The same as 'gpupool nodepool abort'.", pool_opts,
     pool_opts, CLI_HIDDEN, abort_epilog, np_abort},
};

const cli_group cli_group_nodepool = {"nodepool",
                                      NULL,
                                      "node pools (agent pools) of a managed cluster",
                                      "Node pools (agent pools) of a managed cluster (az aks nodepool).",
                                      np_opts,
                                      NP_ALL,
                                      commands,
                                      sizeof commands / sizeof commands[0]};
