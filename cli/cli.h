/* cli.h - shared pieces of the gpupool command-line tool: reading JSON files, printing JSON,
 * exit codes. */
#ifndef GPUPOOL_CLI_H
#define GPUPOOL_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

#define CLI_MAX_INPUT (1024 * 1024)

/* Reads and parses a JSON file ("-" = stdin), at most 1 MiB, duplicate keys refused.
 * On a read failure prints to stderr and returns NULL with *usage set; on a parse failure returns
 * NULL with *err_body set to an ARM InvalidRequestContent error. */
json_t *cli_read_json(const char *path, json_t **err_body, bool *usage);

/* Pretty JSON to stdout followed by a newline. */
void cli_print_json(const json_t *v);

#endif
