/* output.h - printing resources the az way: json (properties flattened to the top level),
 * table (az-like columns per resource kind), yaml (libyaml's emitter) and tsv (values only). */
#ifndef GPUPOOL_CLI_OUTPUT_H
#define GPUPOOL_CLI_OUTPUT_H

#include <jansson.h>

typedef enum { KIND_CLUSTER, KIND_NODEPOOL, KIND_FEATURE, KIND_PLAN, KIND_OPERATION, KIND_MACHINE } out_kind;

/* az-style view of an ARM resource: properties moved to the top level, resourceGroup added
 * (from the id). Returns a new reference. */
json_t *out_flatten(const json_t *resource);

/* Prints rows (arrays of ncols strings, NULL for empty) aligned under headers, az style. */
void out_grid(const char *const *headers, size_t ncols, char ***rows, size_t nrows);

/* Prints one resource (flattened first, except plans) or a list of them in the format (machine
 * tables are cmd_machine.c's). */
int out_print(const char *format, out_kind kind, const json_t *value, int is_list);

#endif
