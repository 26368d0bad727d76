/* cmd_offline.c - `gpupool validate` and `gpupool plan`: decide an agent pool PUT body locally, with
 * no server, exactly as gpupoold would. json (the default) prints the pool or plan, or the ARM error
 * body, on stdout, as scripts and the decision-matrix cases expect; table, yaml, tsv and none are
 * the other commands' formats (a refusal then goes to stderr as "(Code) Message"). `plan --diff`
 * prints what the update does to a node instead of the plan: the core's disruption class of the
 * existing body's plan to the new one (gp_plan_diff, the function gpupoold and the agent call). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"
#include "arm.h"
#include "cli.h"
#include "commands.h"
#include "gpupool/gpupool.h"
#include "migdraw.h"
#include "output.h"

enum { O_FILE, O_CLUSTER, O_EXISTING, O_FEATURE, O_PHASE, O_GA, O_API, O_DIFF, O_ALL };

static const char *const phase_names[] = {NULL, "preview", "ga"};
static const gp_enum_names phases = {phase_names, 3};
static const char *const feature_names[] = {NULL, "ManagedGPU", "ManagedGPUExperience"};
static const gp_enum_names features = {feature_names, 3};

static const cli_opt o_opts[O_ALL] = {
    [O_FILE] = {"file", 'f', NULL, OPT_VALUE, "FILE", "agent pool PUT body ({\"properties\":{...}}); '-' reads stdin",
                NULL, COMPLETE_FILE, NULL},
    [O_CLUSTER] = {"cluster", 0, NULL, OPT_VALUE, "FILE",
                   "managed cluster body: its kubernetesVersion and gpuProfile.nvidia.managementMode (the pools' "
                   "default)",
                   NULL, COMPLETE_FILE, NULL},
    [O_EXISTING] = {"existing", 0, NULL, OPT_VALUE, "FILE",
                    "body of the pool's earlier accepted PUT: makes this an update (immutability, declared versus "
                    "effective, upgrades)",
                    NULL, COMPLETE_FILE, NULL},
    [O_FEATURE] = {"feature", 0, NULL, OPT_MULTI, "NAME",
                   "a registered subscription feature: ManagedGPU or ManagedGPUExperience (repeatable)", NULL,
                   COMPLETE_CHOICES, &features},
    [O_PHASE] = {"phase", 0, NULL, OPT_VALUE, "PHASE", "rollout phase: preview (default) or ga", NULL, COMPLETE_CHOICES,
                 &phases},
    [O_GA] =
        {"ga-kubernetes-version", 0, NULL, OPT_VALUE, "V",
         "first Kubernetes version that defaults to Managed in the GA phase (default " GP_DEFAULT_GA_KUBERNETES_VERSION
         ")"},
    [O_API] = {"api-version", 0, NULL, OPT_VALUE, "V", "api-version the body is written in (default: the newest)"},
    [O_DIFF] = {"diff", 0, NULL, OPT_FLAG, NULL,
                "print what the change from the --existing body's plan does to a node (its disruption class and "
                "changes) instead of the plan; without --existing, a node that has applied nothing"},
};

#define EPILOG_VERSION                                                                                                 \
  "The Kubernetes version is the pool's orchestratorVersion, else the cluster's kubernetesVersion, "                   \
  "else " GP_DEFAULT_KUBERNETES_VERSION ".\n"
#define EPILOG_EXIT                                                                                                    \
  "Exit status: 0 accepted, 1 refused (-o json: the ARM error body on stdout; other formats: on stderr), 2 usage "     \
  "error.\n"
static const char epilog[] = EPILOG_VERSION EPILOG_EXIT;
static const char plan_epilog[] = EPILOG_VERSION
    "--diff prints {\"class\", \"changes\": [{path, from, to, class}]}: None, InPlace (labels, taints), Restart (a "
    "GPU service), Drain (MIG layout, driver version, device plugin <-> DRA) or Reboot (MIG mode, driver installed or "
    "not); -o table: one line per change. gpupool-agent diff --from A --to B says the same of two plan "
    "files.\n" EPILOG_EXIT;

typedef struct {
  const char *api_version;
  gp_policy_context ctx;
} offline_args;

/* The settings of the flags; -1 to go on, else the exit status. */
static int settings(cli_args *a, offline_args *o) {
  const cli_val *v = a->v;
  const char *cmd = a->command;
  memset(o, 0, sizeof *o);
  gp_policy_context_init(&o->ctx);
  o->api_version = v[O_API].set ? v[O_API].value : gp_api_version_latest(GP_API_PREVIEW);
  for (size_t i = 0; i < v[O_FEATURE].count; i++) {
    const char *n = v[O_FEATURE].values[i];
    if (strncasecmp(n, "Microsoft.ContainerService/", 27) == 0) n += 27;
    if (strcasecmp(n, GP_FEATURE_MANAGED_GPU) == 0)
      o->ctx.feature_managed_gpu = true;
    else if (strcasecmp(n, GP_FEATURE_MANAGED_GPU_EXPERIENCE) == 0)
      o->ctx.feature_managed_gpu_experience = true;
    else
      return cli_usage_error(cmd, "unknown feature '%s' (known: ManagedGPU, ManagedGPUExperience)",
                             v[O_FEATURE].values[i]);
  }
  if (v[O_PHASE].set) {
    if (strcasecmp(v[O_PHASE].value, "preview") == 0)
      o->ctx.phase = GP_PHASE_PREVIEW;
    else if (strcasecmp(v[O_PHASE].value, "ga") == 0)
      o->ctx.phase = GP_PHASE_GA;
    else
      return cli_usage_error(cmd, "--phase must be preview or ga, not '%s'", v[O_PHASE].value);
  }
  if (v[O_GA].set && !gp_k8s_version_parse(v[O_GA].value, &o->ctx.ga_version))
    return cli_usage_error(cmd, "--ga-kubernetes-version must look like 1.36, not '%s'", v[O_GA].value);
  o->ctx.api = gp_api_version_group(o->api_version);
  if (o->ctx.api == GP_API_UNKNOWN)
    return cli_usage_error(cmd, "unknown --api-version '%s'. Supported: %s.", o->api_version,
                           gp_api_versions_supported());
  return -1;
}

static bool human(const cli_args *a) { return strcmp(a->output, "json") != 0 && strcmp(a->output, "yaml") != 0; }

/* A refusal: the error body in the machine formats, "(Code) Message" on stderr in the others. */
static int refused(const cli_args *a, const json_t *err_body) {
  if (human(a)) return arm_print_error_body(err_body);
  if (!strcmp(a->output, "json"))
    cli_print_json(err_body);
  else
    out_print(a->output, KIND_PLAN, err_body, 0);
  return CLI_ERROR;
}

/* The core's message says what gpupoold would: register the feature on the subscription. Offline
 * there is no subscription; the flag --feature stands for it, so say that too (on stderr, whatever
 * the format), lest a user register the feature on a server and find validate still refusing. */
static void hint_offline_feature(const gp_error *err) {
  for (size_t i = 0; i < err->count; i++)
    if (!strcmp(err->items[i].code, "PreviewFeatureNotRegistered")) {
      fprintf(stderr, "gpupool: offline, a registered feature is a flag: add --feature " GP_FEATURE_MANAGED_GPU
                      " (what 'gpupool feature register' does on gpupoold).\n");
      return;
    }
}

static int print_error(const cli_args *a, gp_error *err) {
  json_t *body = gp_error_to_json(err);
  int rc = body ? refused(a, body) : CLI_ERROR;
  json_decref(body);
  hint_offline_feature(err);
  return rc;
}

static json_t *load(const cli_args *a, const char *path, int *status) {
  json_t *err_body;
  bool usage;
  json_t *v = cli_read_json(path, &err_body, &usage);
  if (!v) {
    *status = usage ? CLI_USAGE : CLI_ERROR;
    if (err_body) refused(a, err_body);
    json_decref(err_body);
  }
  return v;
}

static void print_warnings(const gp_warnings *w) {
  for (size_t i = 0; i < w->count; i++)
    fprintf(stderr, "Warning: %s\n", w->items[i]);
}

/* For a human reader of a refusal: when the body's migProfiles cannot be placed on its size's GPU,
 * the picture of why. */
static void explain_layout(const cli_args *a, const json_t *body) {
  const json_t *props = json_object_get(body, "properties");
  const gp_vm_size *sz = gp_catalog_vm_size(json_string_value(json_object_get(props, "vmSize")));
  const json_t *list = json_object_get(json_object_get(json_object_get(props, "gpuProfile"), "nvidia"), "migProfiles");
  gp_mig_profile p[CLI_MIG_MAX_LIST];
  size_t n = 0, i;
  json_t *x;
  if (!human(a) || !sz || !sz->mig || !json_is_array(list)) return;
  json_array_foreach(list, i, x) {
    int v = gp_enum_parse(&gp_mig_profile_names, json_string_value(x));
    if (v <= 0 || n >= CLI_MIG_MAX_LIST) return;
    p[n++] = (gp_mig_profile)v;
  }
  if (n == 0 || (n <= GP_MIG_MAX_PER_GPU && gp_mig_place(p, n, NULL))) return;
  mig_draw_profiles(stderr, sz->gpu_model, p, n, false);
}

/* Decides the pool; on success *out is the new pool and ctx->cluster may point into *cluster_out. */
static int decide(const cli_args *a, offline_args *o, gp_pool **out, gp_pool **existing_out,
                  gp_cluster_result **cluster_out) {
  int status = CLI_OK;
  gp_error err;
  gp_warnings w = {0};
  json_t *body = NULL, *cbody = NULL, *ebody = NULL;
  const cli_val *v = a->v;
  gp_error_init(&err);
  *out = *existing_out = NULL;
  *cluster_out = NULL;
  if (!(body = load(a, v[O_FILE].value, &status))) goto done;
  if (v[O_CLUSTER].set) {
    if (!(cbody = load(a, v[O_CLUSTER].value, &status))) goto done;
    gp_cluster_request *cr = gp_cluster_request_parse(cbody, o->ctx.api, false, &err);
    if (cr) {
      size_t listed = cr->pool_count;
      cr->pool_count = 0; /* only the cluster's own settings matter here, not its agentPoolProfiles */
      *cluster_out = gp_policy_apply_cluster(&o->ctx, cr, NULL, NULL, 0, &err);
      cr->pool_count = listed;
    }
    gp_cluster_request_free(cr);
    if (!*cluster_out) {
      fprintf(stderr, "gpupool: the --cluster body is refused:\n");
      status = print_error(a, &err);
      goto done;
    }
    o->ctx.cluster = (*cluster_out)->cluster;
  }
  if (v[O_EXISTING].set) {
    if (!(ebody = load(a, v[O_EXISTING].value, &status))) goto done;
    gp_warnings ignored = {0};
    *existing_out = gp_pool_put(&o->ctx, ebody, NULL, &ignored, &err);
    gp_warnings_free(&ignored);
    if (!*existing_out) {
      fprintf(stderr, "gpupool: the --existing body is not valid under these settings:\n");
      status = print_error(a, &err);
      goto done;
    }
  }
  *out = gp_pool_put(&o->ctx, body, *existing_out, &w, &err);
  if (!*out) {
    status = print_error(a, &err);
    explain_layout(a, body);
  } else {
    print_warnings(&w);
  }
done:
  gp_warnings_free(&w);
  gp_error_clear(&err);
  json_decref(body);
  json_decref(cbody);
  json_decref(ebody);
  return status;
}

/* The disruption of the update on a node: the existing body's plan (generation 1; none without
 * --existing) to the new one (generation 2, or 1 when it says the same: gpupoold then stores no new
 * generation either). NULL on OOM. */
static json_t *plan_diff(const gp_pool *p, const gp_pool *existing, const gp_policy_context *ctx) {
  json_t *from = existing ? gp_plan_build(existing, ctx, 1) : NULL, *to = gp_plan_build(p, ctx, existing ? 2 : 1);
  json_t *d = NULL;
  if (to && (!existing || from)) {
    if (from && gp_plan_same_content(from, to)) json_object_set_new(to, "generation", json_integer(1));
    d = gp_plan_diff(from, to, NULL);
  }
  json_decref(from);
  json_decref(to);
  return d;
}

static int run(cli_args *a, bool plan) {
  offline_args o;
  int status = settings(a, &o);
  if (status >= 0) return status;
  gp_pool *p, *existing;
  gp_cluster_result *cluster;
  bool diff = plan && a->v[O_DIFF].set;
  status = decide(a, &o, &p, &existing, &cluster);
  if (status == CLI_OK) {
    json_t *out = diff   ? plan_diff(p, existing, &o.ctx)
                  : plan ? gp_plan_build(p, &o.ctx, existing ? 2 : 1)
                         : gp_pool_to_json(p, o.ctx.api);
    if (!out) {
      fprintf(stderr, "gpupool: out of memory\n");
      status = CLI_ERROR;
    } else if (!strcmp(a->output, "json")) {
      cli_print_json(out);
    } else {
      status = out_print(a->output, diff ? KIND_DIFF : plan ? KIND_PLAN : KIND_NODEPOOL, out, 0);
    }
    json_decref(out);
  }
  gp_pool_free(p);
  gp_pool_free(existing);
  gp_cluster_result_free(cluster);
  return status;
}

static int validate(cli_args *a) { return run(a, false); }
static int plan(cli_args *a) { return run(a, true); }

static const int opts[] = {O_FILE, O_CLUSTER, O_EXISTING, O_FEATURE, O_PHASE, O_GA, O_API, CLI_END};
static const int plan_opts[] = {O_FILE, O_CLUSTER, O_EXISTING, O_FEATURE, O_PHASE, O_GA, O_API, O_DIFF, CLI_END};
static const int req[] = {O_FILE, CLI_END};

static const cli_command validate_cmd[] = {{NULL, "validate a pool body",
                                            "Validates an agent pool PUT body offline and prints the pool as a GET "
                                            "would show it.",
                                            opts, req, CLI_OFFLINE, epilog, validate}};
static const cli_command plan_cmd[] = {{NULL, "the install plan of a pool body",
                                        "Prints the install plan of an agent pool PUT body, offline: what gets "
                                        "installed on its nodes (-o table draws the MIG layout of each GPU).",
                                        plan_opts, req, CLI_OFFLINE, plan_epilog, plan}};

const cli_group cli_group_validate = {
    "validate",   NULL, "validate an agent pool body; print the pool as a GET would", NULL, o_opts, O_ALL,
    validate_cmd, 1};
const cli_group cli_group_plan = {"plan",   NULL, "print the install plan of an agent pool body", NULL, o_opts, O_ALL,
                                  plan_cmd, 1};
