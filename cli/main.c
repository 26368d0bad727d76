/* main.c - entry point of the gpupool command-line tool: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: gpupool <command> [options]\n"
    "\n"
    "Managed GPU node pools for Kubernetes, AKS-style.\n"
    "\n"
    "Offline commands (no server):\n"
    "  validate    validate an agent pool PUT body; print the pool as a GET would show it\n"
    "  plan        print the install plan of an agent pool PUT body\n"
    "\n"
    "Run 'gpupool <command> --help' for a command's options.\n";

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return CLI_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
    fputs(usage, stdout);
    return CLI_OK;
  }
  if (strcmp(cmd, "validate") == 0) return cmd_validate(argc - 1, argv + 1);
  if (strcmp(cmd, "plan") == 0) return cmd_plan(argc - 1, argv + 1);
  fprintf(stderr, "gpupool: unknown command '%s'\n\n%s", cmd, usage);
  return CLI_USAGE;
}
