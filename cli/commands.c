/* commands.c - the command table of the gpupool CLI: every command group, in the order
 * `gpupool --help` lists them (those that talk to gpupoold first). Help, parsing, completion and the
 * man page all read this list: a new group is a cmd_*.c file defining its cli_group, plus one line
 * here and one in commands.h. */
#include "commands.h"

const cli_group *const cli_groups[] = {
    &cli_group_cluster,  &cli_group_nodepool, &cli_group_feature,   &cli_group_machine, &cli_group_vm_size, &cli_group_kubernetes_versions,
    &cli_group_validate, &cli_group_plan,     &cli_group_configure, &cli_group_version, &cli_group_completion,
};
const size_t cli_ngroups = sizeof cli_groups / sizeof cli_groups[0];
