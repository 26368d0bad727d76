/* xid.c - `gpupool-agent xid`: what an Xid means for a GPU's health, as the agent judges it (the
 * core's catalog, built from NVIDIA's Xid catalog in data/xid.csv): the class, the GPU health it
 * leads to, the catalog's immediate action. For an operator reading "NVRM: Xid ... 79" in dmesg. */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "gpupool/health.h"

static const char xid_help[] =
    "Usage: gpupool-agent xid [XID...] [-o text|json]\n"
    "\n"
    "Says what an Xid event means for a GPU, as `gpupool-agent run` judges it: its class (Application: the\n"
    "application's fault, GPU health unchanged; ResetRequired: the GPU is Degraded until it is reset;\n"
    "Fatal: the GPU is Failed until the node reboots and the node is tainted), from NVIDIA's Xid catalog\n"
    "(its immediate-action column). An Xid the catalog does not list is ResetRequired. Without XID: every\n"
    "Xid of the catalog.\n"
    "\n"
    "Exit status: 0 printed, 2 usage.\n";

static json_t *row_json(unsigned xid) {
  const gp_xid_info *x = gp_xid_lookup(xid);
  gp_health_class c = gp_xid_class(xid);
  return json_pack("{s:I,s:s,s:s,s:s?,s:s?,s:s?,s:s?}", "xid", (json_int_t)xid, "class", gp_health_class_name(c),
                   "gpuHealth", gp_health_state_name(gp_health_class_state(c)), "action", x ? x->bucket : NULL,
                   "mnemonic", x ? x->mnemonic : NULL, "description", x ? x->description : NULL, "source",
                   x ? x->source : NULL);
}

static void row_text(unsigned xid) {
  const gp_xid_info *x = gp_xid_lookup(xid);
  gp_health_class c = gp_xid_class(xid);
  printf("%-5u %-14s %-9s %-20s %-42s %s\n", xid, gp_health_class_name(c),
         gp_health_state_name(gp_health_class_state(c)), x ? x->bucket : "-", x ? x->mnemonic : "(not in the catalog)",
         x ? x->description : "-");
}

int ag_cmd_xid(int argc, char **argv) {
  const char *fmt = "text";
  unsigned *list = calloc((size_t)argc, sizeof *list);
  size_t n = 0;
  if (!list) {
    fprintf(stderr, "gpupool-agent xid: out of memory\n");
    return AG_EXIT_ERROR;
  }
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      free(list);
      fputs(xid_help, stdout);
      return AG_EXIT_OK;
    }
    if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
      if (i + 1 >= argc) {
        free(list);
        return ag_usage_error("xid", "option '%s' needs a value", argv[i]);
      }
      fmt = argv[++i];
      continue;
    }
    char *end;
    unsigned long v = strtoul(argv[i], &end, 10);
    if (!*argv[i] || *end || argv[i][0] == '-' || v > 0xFFFFFFFFul) {
      free(list);
      return ag_usage_error("xid", "'%s' is not an Xid (a number)", argv[i]);
    }
    list[n++] = (unsigned)v;
  }
  if (strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0) {
    free(list);
    return ag_usage_error("xid", "-o must be text or json, not '%s'", fmt);
  }
  bool all = n == 0;
  size_t count = all ? gp_xid_count() : n;
  if (strcmp(fmt, "json") == 0) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < count; i++)
      if (json_array_append_new(arr, row_json(all ? gp_xid_at(i)->xid : list[i]))) {
        json_decref(arr);
        arr = NULL;
      }
    if (arr) ag_print_json(stdout, arr);
    json_decref(arr);
  } else {
    printf("%-5s %-14s %-9s %-20s %-42s %s\n", "XID", "CLASS", "GPU", "CATALOG ACTION", "MNEMONIC", "DESCRIPTION");
    for (size_t i = 0; i < count; i++)
      row_text(all ? gp_xid_at(i)->xid : list[i]);
    printf("source: %s\n", gp_xid_at(0)->source);
  }
  free(list);
  return AG_EXIT_OK;
}
