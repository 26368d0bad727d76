/* diff.c - `gpupool-agent diff --from A.json --to B.json`: what moving this node from plan A to plan
 * B does to it, as the core decides it (gp_plan_diff): the disruption class and every change with
 * its class, the JSON `gpupool plan --diff` and gpupoold's what-if print. Without --from: a node
 * that has applied nothing yet. Both plans are read as apply reads them (ag_plan_load), so a plan
 * the agent would not act on is refused here too. */
#include <string.h>

#include "agent.h"
#include "gpupool/plan_diff.h"

static const char diff_help[] =
    "Usage: gpupool-agent diff [--from APPLIED.json] --to PLAN.json\n"
    "\n"
    "What moving this node from one plan to another does to it: prints\n"
    "  {\"class\": CLASS, \"changes\": [{\"path\", \"from\", \"to\", \"class\"}, ...]}\n"
    "with CLASS the highest of the changes' classes: None (nothing on the node changes), InPlace (node\n"
    "labels or taints), Restart (a GPU service restarts), Drain (the GPUs must be idle: MIG layout,\n"
    "driver version, device plugin <-> DRA), Reboot (MIG mode on/off, driver installed or removed).\n"
    "`gpupool-agent run` drains the node first for Drain and Reboot. The same JSON as\n"
    "`gpupool plan -f NEW --existing OLD --diff`.\n"
    "\n"
    "  --from FILE   the plan the node applied (the agent keeps it as applied-plan.json in its state\n"
    "                directory); without it, a node that has applied nothing yet\n"
    "  --to FILE     the plan it is to run\n"
    "\n"
    "Exit status: 0 printed, 1 a plan that cannot be read, 2 usage.\n";

int ag_cmd_diff(int argc, char **argv) {
  const char *from_path = NULL, *to_path = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(diff_help, stdout);
      return AG_EXIT_OK;
    } else if (strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) {
      if (i + 1 >= argc) return ag_usage_error("diff", "option '%s' needs a value", a);
      *(strcmp(a, "--from") == 0 ? &from_path : &to_path) = argv[++i];
    } else {
      return ag_usage_error("diff", "unknown argument '%s'", a);
    }
  }
  if (!to_path) return ag_usage_error("diff", "--to is required");
  ag_plan from, to;
  ag_err err;
  int rc = AG_EXIT_ERROR;
  memset(&from, 0, sizeof from);
  memset(&to, 0, sizeof to);
  if ((from_path && !ag_plan_load(from_path, &from, &err)) || !ag_plan_load(to_path, &to, &err)) {
    fprintf(stderr, "gpupool-agent diff: %s\n", err.msg);
    goto out;
  }
  json_t *d = gp_plan_diff(from_path ? from.root : NULL, to.root, NULL);
  if (!d) {
    fprintf(stderr, "gpupool-agent diff: out of memory\n");
    goto out;
  }
  ag_print_json(stdout, d);
  json_decref(d);
  rc = AG_EXIT_OK;
out:
  ag_plan_free(&from);
  ag_plan_free(&to);
  return rc;
}
