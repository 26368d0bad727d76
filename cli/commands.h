/* commands.h - the command groups of the gpupool CLI. Each is defined next to its commands
 * (cmd_*.c) and listed once in commands.c. */
#ifndef GPUPOOL_CLI_COMMANDS_H
#define GPUPOOL_CLI_COMMANDS_H

#include "args.h"

extern const cli_group cli_group_cluster, cli_group_nodepool, cli_group_feature, cli_group_vm_size,
    cli_group_kubernetes_versions, cli_group_validate, cli_group_plan, cli_group_configure, cli_group_version,
    cli_group_completion, cli_group_machine;

#endif
