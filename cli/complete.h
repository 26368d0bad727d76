/* complete.h - the bash completion script, generated from the command table. */
#ifndef GPUPOOL_CLI_COMPLETE_H
#define GPUPOOL_CLI_COMPLETE_H

#include <stdio.h>

void cli_print_bash_completion(FILE *f);

#endif
