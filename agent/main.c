/* main.c - entry point of gpupool-agent, the node agent of gpupool: dispatches to the commands and
 * holds the command-line helpers they share. */
#include <libxml/parser.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "gpupool/version.h"

static const char usage[] =
    "Usage: gpupool-agent <command> [options]\n"
    "\n"
    "The node agent of gpupool: reads the node's GPUs through NVML and checks, renders and applies the\n"
    "pool's plan (what `gpupool plan` or gpupoold's plan endpoint says the node should run).\n"
    "\n"
    "Commands:\n"
    "  discover   print the node's GPU inventory (JSON)\n"
    "  check      compare the node with a plan; findings as text or JSON\n"
    "  render     write the node's files for a plan (systemd drop-ins, mig-parted, labels, bootstrap env),\n"
    "             or with --kubernetes DaemonSet/Service manifests\n"
    "  apply      make the node what the plan says (dry run unless --execute)\n"
    "  fetch      get the plan from gpupoold (If-None-Match with the remembered ETag)\n"
    "  run        the node daemon: report to gpupoold, long-poll the plan, apply it, watch GPU health\n"
    "  xid        what an Xid event means for a GPU's health (class, catalog action)\n"
    "  diff       what moving the node from one plan to another does to it (disruption class, changes)\n"
    "\n"
    "Run 'gpupool-agent <command> --help' for a command's options.\n"
    "\n"
    "Exit status: 0 ok / conformant / new plan, 1 error, 2 usage, 3 drift (check), 4 unchanged (fetch),\n"
    "5 reboot needed to finish a MIG mode change (apply --execute).\n"
    "--version prints the version.\n"
    "Environment: GPUPOOL_NVML_LIBRARY (NVML library, default libnvidia-ml.so.1), GPUPOOL_TOKEN (fetch).\n";

int ag_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "gpupool-agent %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nRun 'gpupool-agent %s --help' for its options.\n", cmd);
  return AG_EXIT_USAGE;
}

void ag_print_json(FILE *out, const json_t *v) {
  char *s = json_dumps(v, JSON_INDENT(2));
  if (!s) {
    fprintf(stderr, "gpupool-agent: out of memory\n");
    return;
  }
  fputs(s, out);
  fputc('\n', out);
  free(s);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return AG_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  int rc;
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
    fputs(usage, stdout);
    return AG_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("gpupool-agent %s\n", gp_version());
    return AG_EXIT_OK;
  }
  xmlInitParser();
  if (strcmp(cmd, "discover") == 0)
    rc = ag_cmd_discover(argc - 1, argv + 1);
  else if (strcmp(cmd, "check") == 0)
    rc = ag_cmd_check(argc - 1, argv + 1);
  else if (strcmp(cmd, "render") == 0)
    rc = ag_cmd_render(argc - 1, argv + 1);
  else if (strcmp(cmd, "apply") == 0)
    rc = ag_cmd_apply(argc - 1, argv + 1);
  else if (strcmp(cmd, "fetch") == 0)
    rc = ag_cmd_fetch(argc - 1, argv + 1);
  else if (strcmp(cmd, "run") == 0)
    rc = ag_cmd_daemon(argc - 1, argv + 1);
  else if (strcmp(cmd, "xid") == 0)
    rc = ag_cmd_xid(argc - 1, argv + 1);
  else if (strcmp(cmd, "diff") == 0)
    rc = ag_cmd_diff(argc - 1, argv + 1);
  else {
    fprintf(stderr, "gpupool-agent: unknown command '%s'\n\n%s", cmd, usage);
    rc = AG_EXIT_USAGE;
  }
  xmlCleanupParser();
  if (fflush(stdout) != 0 && rc == AG_EXIT_OK) {
    fprintf(stderr, "gpupool-agent: cannot write the output\n");
    rc = AG_EXIT_ERROR;
  }
  return rc;
}
