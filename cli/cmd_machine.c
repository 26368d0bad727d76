/* cmd_machine.c - `gpupool machine list|show` (as `az aks machine list|show`): the nodes of a node
 * pool as their agents report them. json, yaml and tsv are the other commands' (output.c); the
 * table is made for a person scanning a pool: one line a node with its state, how many of its GPUs
 * are healthy, the generation it applied against the one it should run, and how long ago it last
 * reported; `show` adds its findings below. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arm.h"
#include "cli.h"
#include "commands.h"
#include "gpupool/machine.h"
#include "output.h"

enum { M_RG, M_CLUSTER, M_POOL, M_NAME, M_ALL };

static const cli_opt m_opts[M_ALL] = {
    [M_RG] = {"resource-group", 'g', NULL, OPT_VALUE, "RG", "resource group", "group"},
    [M_CLUSTER] = {"cluster-name", 0, NULL, OPT_VALUE, "NAME", "managed cluster", "cluster"},
    [M_POOL] = {"nodepool-name", 0, NULL, OPT_VALUE, "NAME", "node pool"},
    [M_NAME] = {"name", 'n', "machine-name", OPT_VALUE, "NAME", "machine name (the Kubernetes node name)"},
};

static void machine_url(const arm_ctx *c, const cli_val *v, char *url, size_t size) {
  char path[1400];
  arm_pool_path(path, sizeof path, v[M_RG].value, v[M_CLUSTER].value, v[M_POOL].value);
  strncat(path, "/machines", sizeof path - strlen(path) - 1);
  if (v[M_NAME].set) {
    char name[300];
    http_escape_segment(v[M_NAME].value, name, sizeof name);
    strncat(path, "/", sizeof path - strlen(path) - 1);
    strncat(path, name, sizeof path - strlen(path) - 1);
  }
  arm_url(c, url, size, path, CLI_API_VERSION);
}

/* "12s ago", "3m ago", "5h ago", "2d ago"; "-" when never. */
static void age(const char *when, time_t now, char *out, size_t size) {
  int64_t ms;
  if (!when || !gp_time_parse(when, &ms)) {
    snprintf(out, size, "-");
    return;
  }
  long long s = (long long)now - ms / 1000;
  if (s < 0) s = 0; /* the server's clock is a little ahead */
  if (s < 120)
    snprintf(out, size, "%llds ago", s);
  else if (s < 7200)
    snprintf(out, size, "%lldm ago", s / 60);
  else if (s < 172800)
    snprintf(out, size, "%lldh ago", s / 3600);
  else
    snprintf(out, size, "%lldd ago", s / 86400);
}

static char *text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *text(const char *fmt, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0) s = NULL;
  va_end(ap);
  return s;
}

static const json_t *status_of(const json_t *machine) {
  return json_object_get(json_object_get(machine, "properties"), "status");
}

static void machine_table(const json_t *machines) {
  static const char *const headers[] = {"Name", "State", "HealthyGpus", "Applied/Target", "LastSeen"};
  size_t n = json_array_size(machines);
  char ***rows = calloc(n ? n : 1, sizeof *rows);
  time_t now = time(NULL);
  for (size_t r = 0; rows && r < n; r++) {
    const json_t *m = json_array_get(machines, r), *st = status_of(m), *gpus = json_object_get(st, "gpus"), *g;
    size_t i, healthy = 0;
    char seen[32];
    json_array_foreach(gpus, i, g) {
      const char *h = json_string_value(json_object_get(g, "health"));
      if (h && strcmp(h, "Healthy") == 0) healthy++;
    }
    age(json_string_value(json_object_get(st, "lastSeen")), now, seen, sizeof seen);
    if (!(rows[r] = calloc(5, sizeof *rows[r]))) continue;
    rows[r][0] = text("%s", json_string_value(json_object_get(m, "name")) ?: "");
    rows[r][1] = text("%s", json_string_value(json_object_get(st, "state")) ?: "");
    rows[r][2] = text("%zu/%zu", healthy, json_array_size(gpus));
    rows[r][3] = text("%lld/%lld", (long long)json_integer_value(json_object_get(st, "appliedGeneration")),
                      (long long)json_integer_value(json_object_get(st, "targetGeneration")));
    rows[r][4] = text("%s", seen);
  }
  if (rows) out_grid(headers, 5, rows, n);
  for (size_t r = 0; rows && r < n; r++) {
    for (size_t c = 0; rows[r] && c < 5; c++)
      free(rows[r][c]);
    free(rows[r]);
  }
  free(rows);
}

/* What the agent's check and the server found, under the table of one machine. */
static void findings_lines(const json_t *machine) {
  const json_t *fs = json_object_get(status_of(machine), "findings"), *f;
  size_t i;
  json_array_foreach(fs, i, f) {
    const char *msg = json_string_value(json_object_get(f, "message"));
    char *expected = json_dumps(json_object_get(f, "expected"), JSON_ENCODE_ANY | JSON_COMPACT);
    char *found = json_dumps(json_object_get(f, "found"), JSON_ENCODE_ANY | JSON_COMPACT);
    printf("%sFinding (%s, %s): %s", i ? "" : "\n", json_string_value(json_object_get(f, "severity")) ?: "?",
           json_string_value(json_object_get(f, "source")) ?: "?",
           json_string_value(json_object_get(f, "code")) ?: "?");
    if (expected || found) printf(": expected %s, found %s", expected ? expected : "-", found ? found : "-");
    printf("%s%s\n", msg ? ". " : "", msg ? msg : "");
    free(expected);
    free(found);
  }
}

static int print(const arm_ctx *c, const json_t *value, bool list) {
  if (strcmp(c->args->output, "table") != 0) return out_print(c->args->output, KIND_MACHINE, value, list);
  if (list) {
    machine_table(value);
    if (json_array_size(value) == 0)
      fprintf(stderr, "No machine of this node pool has registered yet: a node registers when its agent reports "
                      "(gpupool-agent run --endpoint URL --machine MACHINE-ID; see docs/install.md).\n");
  } else {
    json_t *one = json_pack("[O]", value);
    machine_table(one);
    json_decref(one);
    findings_lines(value);
  }
  return CLI_OK;
}

static int m_list(cli_args *a) {
  arm_ctx c;
  arm_init(&c, a);
  char url[2048];
  json_t *all;
  machine_url(&c, a->v, url, sizeof url);
  int rc = cli_list_all(&c, url, &all);
  if (rc != CLI_OK) return rc;
  rc = print(&c, all, true);
  json_decref(all);
  return rc;
}

static int m_show(cli_args *a) {
  arm_ctx c;
  arm_init(&c, a);
  char url[2048];
  http_response r;
  json_t *body;
  machine_url(&c, a->v, url, sizeof url);
  if (!arm_call(&c, "GET", url, NULL, NULL, &r, &body)) {
    http_response_free(&r);
    return CLI_ERROR;
  }
  int rc = r.status == 200 ? print(&c, body, false) : arm_print_error(&r, body);
  json_decref(body);
  http_response_free(&r);
  return rc;
}

static const int list_opts[] = {M_RG, M_CLUSTER, M_POOL, CLI_END};
static const int show_opts[] = {M_RG, M_CLUSTER, M_POOL, M_NAME, CLI_END};

static const cli_command commands[] = {
    {"list", "list the machines of a node pool",
     "Lists the machines (nodes) of a node pool that registered with their agent.", list_opts, list_opts, 0, NULL,
     m_list},
    {"show", "show one machine",
     "Shows a machine (node) as its agent reported it: state, GPUs, health, findings, the plan generation it applied "
     "and the one it should run.",
     show_opts, show_opts, 0, NULL, m_show},
};

const cli_group cli_group_machine = {
    "machine",
    NULL,
    "the nodes of a node pool, as their agents report them",
    "The machines (nodes) of a node pool, as their node agents report them (az aks machine). Nodes are brought by "
    "their owners: an agent registers its node (PUT …/machines/{name}); gpupool creates no VM.",
    m_opts,
    M_ALL,
    commands,
    sizeof commands / sizeof commands[0]};
