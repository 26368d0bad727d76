/* main.c - entry point of the gpupool command-line tool: dispatches to the subcommands. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const char usage[] =
    "Usage: gpupool <command> [options]\n"
    "\n"
    "Managed GPU node pools for Kubernetes, AKS-style.\n"
    "\n"
    "Commands against gpupoold (az aks style):\n"
    "  cluster     managed clusters: create, update, show, list, delete\n"
    "  nodepool    node pools: add, update, show, list, delete, plan\n"
    "  feature     subscription features: register, unregister, show, list\n"
    "  machine     the nodes of a node pool as their agents report them: list, show\n"
    "\n"
    "Offline commands (no server):\n"
    "  validate    validate an agent pool PUT body; print the pool as a GET would show it\n"
    "  plan        print the install plan of an agent pool PUT body\n"
    "\n"
    "\n"
    "Global options (every command): --endpoint URL (env GPUPOOL_ENDPOINT, default\n"
    "http://127.0.0.1:8080), --subscription ID (env GPUPOOL_SUBSCRIPTION), --token T (env GPUPOOL_TOKEN),\n"
    "--cacert FILE (env GPUPOOL_CACERT), -o/--output json|table|yaml|tsv, --debug, --help.\n"
    "\n"
    "Run 'gpupool <command> --help' for a command's options.\n";

int main(int argc, char **argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  atexit(curl_global_cleanup);
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
  if (strcmp(cmd, "cluster") == 0 || strcmp(cmd, "aks") == 0) return cmd_cluster(argc - 2, argv + 2);
  if (strcmp(cmd, "nodepool") == 0) return cmd_nodepool(argc - 2, argv + 2);
  if (strcmp(cmd, "feature") == 0) return cmd_feature(argc - 2, argv + 2);
  if (strcmp(cmd, "machine") == 0) return cmd_machine(argc - 2, argv + 2);
  fprintf(stderr, "gpupool: unknown command '%s'\n\n%s", cmd, usage);
  return CLI_USAGE;
}
