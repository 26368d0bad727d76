/* cmd_feature.c - `gpupool feature register|unregister|show|list`: subscription feature
 * registrations (Microsoft.Features) that unlock the preview GPU settings. */
#include <stdio.h>
#include <string.h>

#include "arm.h"
#include "cli.h"
#include "commands.h"
#include "output.h"

enum { F_NAMESPACE, F_NAME, F_COUNT };

static const char *const feature_names[] = {NULL, "ManagedGPU", "ManagedGPUExperience"};
static const gp_enum_names features = {feature_names, 3};

static const cli_opt feature_opts[F_COUNT] = {
    [F_NAMESPACE] = {"namespace", 0, NULL, OPT_VALUE, "NS",
                     "resource provider namespace (default Microsoft.ContainerService)"},
    [F_NAME] = {"name", 'n', NULL, OPT_VALUE, "NAME", "feature name: ManagedGPU or ManagedGPUExperience", NULL,
                COMPLETE_CHOICES, &features},
};

static int run(cli_args *a, const char *action) {
  const cli_val *v = a->v;
  bool one = v[F_NAME].set;
  const char *ns = v[F_NAMESPACE].set ? v[F_NAMESPACE].value : "Microsoft.ContainerService";
  arm_ctx c;
  arm_init(&c, a);
  char nsq[200], nameq[200], path[600], url[1200];
  http_escape_segment(ns, nsq, sizeof nsq);
  if (one) {
    http_escape_segment(v[F_NAME].value, nameq, sizeof nameq);
    snprintf(path, sizeof path, "/providers/Microsoft.Features/providers/%s/features/%s%s", nsq, nameq, action);
  } else {
    snprintf(path, sizeof path, "/providers/Microsoft.Features/providers/%s/features", nsq);
  }
  arm_url(&c, url, sizeof url, path, CLI_FEATURES_API_VERSION);
  http_response r;
  json_t *body;
  if (!arm_call(&c, *action ? "POST" : "GET", url, NULL, NULL, &r, &body)) {
    http_response_free(&r);
    return CLI_ERROR;
  }
  int rc;
  if (r.status != 200)
    rc = arm_print_error(&r, body);
  else if (one)
    rc = out_print(a->output, KIND_FEATURE, body, 0);
  else
    rc = out_print(a->output, KIND_FEATURE, json_object_get(body, "value"), 1);
  json_decref(body);
  http_response_free(&r);
  return rc;
}

static int f_register(cli_args *a) { return run(a, "/register"); }
static int f_unregister(cli_args *a) { return run(a, "/unregister"); }
static int f_show(cli_args *a) { return run(a, ""); }
static int f_list(cli_args *a) { return run(a, ""); }

static const int one_opts[] = {F_NAMESPACE, F_NAME, CLI_END};
static const int one_req[] = {F_NAME, CLI_END};
static const int list_opts[] = {F_NAMESPACE, CLI_END};

static const cli_command commands[] = {
    {"register", "register a feature", "Registers a subscription feature.", one_opts, one_req, 0, NULL, f_register},
    {"unregister", "unregister a feature", "Unregisters a subscription feature.", one_opts, one_req, 0, NULL,
     f_unregister},
    {"show", "show a feature's state", "Shows a subscription feature.", one_opts, one_req, 0, NULL, f_show},
    {"list", "list the features", "Lists the subscription features of a namespace.", list_opts, NULL, 0, NULL, f_list},
};

const cli_group cli_group_feature = {
    "feature",
    NULL,
    "subscription features that unlock preview settings",
    "Subscription features that unlock the preview GPU settings (gpuProfile.nvidia.*): ManagedGPU and "
    "ManagedGPUExperience (az feature).",
    feature_opts,
    F_COUNT,
    commands,
    sizeof commands / sizeof commands[0]};
