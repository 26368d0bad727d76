/* commands.h - the command groups of the gpupool CLI. */
#ifndef GPUPOOL_CLI_COMMANDS_H
#define GPUPOOL_CLI_COMMANDS_H

int cmd_cluster(int argc, char **argv);
int cmd_nodepool(int argc, char **argv);
int cmd_feature(int argc, char **argv);
int cmd_machine(int argc, char **argv);

#endif
