/* output.h - printing resources the az way: json (properties flattened to the top level),
 * table (az-like columns per resource kind), yaml (libyaml's emitter) and tsv (values only). */
#ifndef GPUPOOL_CLI_OUTPUT_H
#define GPUPOOL_CLI_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
  KIND_CLUSTER,
  KIND_NODEPOOL,
  KIND_FEATURE,
  KIND_PLAN,
  KIND_OPERATION,
  KIND_VM_SIZE,        /* vm-size list */
  KIND_VM_SIZE_DETAIL, /* vm-size show: MIG profiles, where they go, valid layouts */
  KIND_K8S_VERSION,
  KIND_DEFAULT, /* configure --list-defaults */
  KIND_VERSION,
  KIND_MACHINE, /* machine list|show: json/yaml/tsv here, the table in cmd_machine.c */
  KIND_DIFF     /* plan --diff {class, changes} and the what-if {valid, class, planDiff, machines} */
} out_kind;

/* az-style view of an ARM resource: properties moved to the top level, resourceGroup added
 * (from the id). Returns a new reference. */
json_t *out_flatten(const json_t *resource);

/* Prints one resource (clusters and pools flattened first) or a list of them in the format (json,
 * table, yaml, tsv; none prints nothing). */
int out_print(const char *format, out_kind kind, const json_t *value, int is_list);

/* Whether stdout gets colour: a terminal, NO_COLOR unset or empty, TERM not "dumb". */
bool out_color(void);

/* Table printing for commands with a layout of their own: rows of strings under headers. */
void out_grid(const char *const *headers, size_t ncols, char ***rows, size_t nrows);

#endif
