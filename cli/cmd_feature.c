/* cmd_feature.c - `gpupool feature register|unregister|show|list`: subscription feature
 * registrations (Microsoft.Features) that unlock the preview GPU settings. */
#include <stdio.h>
#include <string.h>

#include "arm.h"
#include "cli.h"
#include "commands.h"
#include "output.h"

enum { F_NAMESPACE, F_NAME, F_COUNT };
static const cli_opt feature_opts[F_COUNT] = {
    {"namespace", 0, NULL, OPT_VALUE, "NS", "resource provider namespace (default Microsoft.ContainerService)"},
    {"name", 'n', NULL, OPT_VALUE, "NAME", "feature name: ManagedGPU or ManagedGPUExperience"},
};

static int run(const char *cmd, const char *summary, const char *action, bool need_name, int argc, char **argv) {
  cli_args a;
  cli_val v[F_COUNT];
  int rc = cli_parse(&a, cmd, summary, feature_opts, need_name ? F_COUNT : 1, v, argc, argv);
  if (rc >= 0) return rc;
  if (need_name && !v[F_NAME].set) return cli_usage_error(cmd, "--name is required");
  const char *ns = v[F_NAMESPACE].set ? v[F_NAMESPACE].value : "Microsoft.ContainerService";
  arm_ctx c;
  arm_init(&c, &a);
  char nsq[200], nameq[200], path[600], url[1200];
  http_escape_segment(ns, nsq, sizeof nsq);
  if (need_name) {
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
  if (r.status != 200)
    rc = arm_print_error(&r, body);
  else if (need_name)
    rc = out_print(a.output, KIND_FEATURE, body, 0);
  else
    rc = out_print(a.output, KIND_FEATURE, json_object_get(body, "value"), 1);
  json_decref(body);
  http_response_free(&r);
  return rc;
}

static int f_register(int argc, char **argv) {
  return run("feature register", "Registers a subscription feature.", "/register", true, argc, argv);
}
static int f_unregister(int argc, char **argv) {
  return run("feature unregister", "Unregisters a subscription feature.", "/unregister", true, argc, argv);
}
static int f_show(int argc, char **argv) {
  return run("feature show", "Shows a subscription feature.", "", true, argc, argv);
}
static int f_list(int argc, char **argv) {
  return run("feature list", "Lists the subscription features of a namespace.", "", false, argc, argv);
}

int cmd_feature(int argc, char **argv) {
  static const cli_sub subs[] = {
      {"register", "register a feature", f_register},
      {"unregister", "unregister a feature", f_unregister},
      {"show", "show a feature's state", f_show},
      {"list", "list the features", f_list},
  };
  return cli_dispatch("feature",
                      "Subscription features that unlock the preview GPU settings (gpuProfile.nvidia.*): ManagedGPU "
                      "and ManagedGPUExperience.",
                      subs, sizeof subs / sizeof subs[0], argc, argv);
}
