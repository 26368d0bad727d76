/* cmd_offline.c - `gpupool validate` and `gpupool plan` (SPEC §7): decide an agent pool PUT
 * body locally, with no server, exactly as gpupoold would. */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"
#include "cli.h"
#include "gpupool/gpupool.h"

static const char offline_usage[] =
    "Usage: gpupool %s -f POOL.json [options]\n"
    "\n"
    "%s\n"
    "\n"
    "Options:\n"
    "  -f, --file FILE               agent pool PUT body ({\"properties\":{...}}); '-' reads stdin\n"
    "      --cluster FILE            managed cluster body: its kubernetesVersion and\n"
    "                                gpuProfile.nvidia.managementMode (the pools' default)\n"
    "      --existing FILE           body of the pool's earlier accepted PUT: makes this an update\n"
    "                                (immutability, declared versus effective, upgrades)\n"
    "      --feature NAME            a registered subscription feature: ManagedGPU or\n"
    "                                ManagedGPUExperience (repeatable)\n"
    "      --phase preview|ga        rollout phase (default preview)\n"
    "      --ga-kubernetes-version V first Kubernetes version that defaults to Managed in the GA\n"
    "                                phase (default " GP_DEFAULT_GA_KUBERNETES_VERSION ")\n"
    "      --api-version V           api-version the body is written in (default %s)\n"
    "  -h, --help                    this help\n"
    "\n"
    "The Kubernetes version is the pool's orchestratorVersion, else the cluster's kubernetesVersion,\n"
    "else " GP_DEFAULT_KUBERNETES_VERSION ".\n"
    "Exit status: 0 accepted, 1 refused (the ARM error body is printed), 2 usage error.\n";

typedef struct {
  const char *file, *cluster, *existing, *api_version;
  gp_policy_context ctx;
} offline_args;

/* Parses the shared options; returns -1 to go on, else the exit status. */
static int parse_args(const char *cmd, const char *summary, int argc, char **argv, offline_args *a) {
  enum { O_CLUSTER = 256, O_EXISTING, O_FEATURE, O_PHASE, O_GA, O_API };
  static const struct option opts[] = {{"file", required_argument, NULL, 'f'},
                                       {"cluster", required_argument, NULL, O_CLUSTER},
                                       {"existing", required_argument, NULL, O_EXISTING},
                                       {"feature", required_argument, NULL, O_FEATURE},
                                       {"phase", required_argument, NULL, O_PHASE},
                                       {"ga-kubernetes-version", required_argument, NULL, O_GA},
                                       {"api-version", required_argument, NULL, O_API},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  memset(a, 0, sizeof *a);
  gp_policy_context_init(&a->ctx);
  a->api_version = gp_api_version_latest(GP_API_PREVIEW);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":f:h", opts, NULL)) != -1) {
    switch (c) {
    case 'f': a->file = optarg; break;
    case O_CLUSTER: a->cluster = optarg; break;
    case O_EXISTING: a->existing = optarg; break;
    case O_FEATURE: {
      const char *n = optarg;
      if (strncasecmp(n, "Microsoft.ContainerService/", 27) == 0) n += 27;
      if (strcasecmp(n, GP_FEATURE_MANAGED_GPU) == 0)
        a->ctx.feature_managed_gpu = true;
      else if (strcasecmp(n, GP_FEATURE_MANAGED_GPU_EXPERIENCE) == 0)
        a->ctx.feature_managed_gpu_experience = true;
      else
        return cli_usage_error(cmd, "unknown feature '%s' (known: ManagedGPU, ManagedGPUExperience)", optarg);
      break;
    }
    case O_PHASE:
      if (strcasecmp(optarg, "preview") == 0)
        a->ctx.phase = GP_PHASE_PREVIEW;
      else if (strcasecmp(optarg, "ga") == 0)
        a->ctx.phase = GP_PHASE_GA;
      else
        return cli_usage_error(cmd, "--phase must be preview or ga, not '%s'", optarg);
      break;
    case O_GA:
      if (!gp_k8s_version_parse(optarg, &a->ctx.ga_version))
        return cli_usage_error(cmd, "--ga-kubernetes-version must look like 1.36, not '%s'", optarg);
      break;
    case O_API: a->api_version = optarg; break;
    case 'h': printf(offline_usage, cmd, summary, gp_api_version_latest(GP_API_PREVIEW)); return CLI_OK;
    case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
    default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  if (!a->file) return cli_usage_error(cmd, "%s", "-f POOL.json is required");
  a->ctx.api = gp_api_version_group(a->api_version);
  if (a->ctx.api == GP_API_UNKNOWN) {
    fprintf(stderr, "gpupool %s: unknown --api-version '%s'. Supported: %s.\nTry 'gpupool %s --help'.\n", cmd,
            a->api_version, gp_api_versions_supported(), cmd);
    return CLI_USAGE;
  }
  return -1;
}

/* Prints an ARM error body and returns CLI_ERROR. */
static int print_error(gp_error *err) {
  json_t *body = gp_error_to_json(err);
  if (body) cli_print_json(body);
  json_decref(body);
  return CLI_ERROR;
}

static json_t *load(const char *path, int *status) {
  json_t *err_body;
  bool usage;
  json_t *v = cli_read_json(path, &err_body, &usage);
  if (!v) {
    *status = usage ? CLI_USAGE : CLI_ERROR;
    if (err_body) cli_print_json(err_body);
    json_decref(err_body);
  }
  return v;
}

static void print_warnings(const gp_warnings *w) {
  for (size_t i = 0; i < w->count; i++)
    fprintf(stderr, "Warning: %s\n", w->items[i]);
}

/* Decides the pool; on success *out is the new pool and ctx->cluster may point into *cluster_out. */
static int decide(offline_args *a, gp_pool **out, gp_pool **existing_out, gp_cluster_result **cluster_out) {
  int status = CLI_OK;
  gp_error err;
  gp_warnings w = {0};
  json_t *body = NULL, *cbody = NULL, *ebody = NULL;
  gp_error_init(&err);
  *out = *existing_out = NULL;
  *cluster_out = NULL;
  if (!(body = load(a->file, &status))) goto done;
  if (a->cluster) {
    if (!(cbody = load(a->cluster, &status))) goto done;
    gp_cluster_request *cr = gp_cluster_request_parse(cbody, a->ctx.api, false, &err);
    if (cr) {
      size_t listed = cr->pool_count;
      cr->pool_count = 0; /* only the cluster's own settings matter here, not its agentPoolProfiles */
      *cluster_out = gp_policy_apply_cluster(&a->ctx, cr, NULL, NULL, 0, &err);
      cr->pool_count = listed;
    }
    gp_cluster_request_free(cr);
    if (!*cluster_out) {
      fprintf(stderr, "gpupool: the --cluster body is refused:\n");
      status = print_error(&err);
      goto done;
    }
    a->ctx.cluster = (*cluster_out)->cluster;
  }
  if (a->existing) {
    if (!(ebody = load(a->existing, &status))) goto done;
    gp_warnings ignored = {0};
    *existing_out = gp_pool_put(&a->ctx, ebody, NULL, &ignored, &err);
    gp_warnings_free(&ignored);
    if (!*existing_out) {
      fprintf(stderr, "gpupool: the --existing body is not valid under these settings:\n");
      status = print_error(&err);
      goto done;
    }
  }
  *out = gp_pool_put(&a->ctx, body, *existing_out, &w, &err);
  if (!*out)
    status = print_error(&err);
  else
    print_warnings(&w);
done:
  gp_warnings_free(&w);
  gp_error_clear(&err);
  json_decref(body);
  json_decref(cbody);
  json_decref(ebody);
  return status;
}

static int run(const char *cmd, const char *summary, bool plan, int argc, char **argv) {
  offline_args a;
  int status = parse_args(cmd, summary, argc, argv, &a);
  if (status >= 0) return status;
  gp_pool *p, *existing;
  gp_cluster_result *cluster;
  status = decide(&a, &p, &existing, &cluster);
  if (status == CLI_OK) {
    json_t *out = plan ? gp_plan_build(p, &a.ctx, existing ? 2 : 1) : gp_pool_to_json(p, a.ctx.api);
    if (out)
      cli_print_json(out);
    else {
      fprintf(stderr, "gpupool: out of memory\n");
      status = CLI_ERROR;
    }
    json_decref(out);
  }
  gp_pool_free(p);
  gp_pool_free(existing);
  gp_cluster_result_free(cluster);
  return status;
}

int cmd_validate(int argc, char **argv) {
  return run("validate", "Validates an agent pool PUT body offline and prints the pool as a GET would show it.", false,
             argc, argv);
}

int cmd_plan(int argc, char **argv) {
  return run("plan", "Prints the install plan of an agent pool PUT body, offline: what gets installed on its nodes.",
             true, argc, argv);
}
