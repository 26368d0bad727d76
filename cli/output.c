/* output.c - json/table/yaml/tsv output of the CLI (see output.h). */
#include "output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "cli.h"

json_t *out_flatten(const json_t *resource) {
  json_t *o = json_object();
  const char *k;
  json_t *v;
  if (!o || !json_is_object(resource)) return o;
  json_object_foreach((json_t *)resource, k, v) {
    if (strcmp(k, "properties") == 0 && json_is_object(v)) {
      const char *pk;
      json_t *pv;
      json_object_foreach(v, pk, pv) json_object_set(o, pk, pv);
    } else {
      json_object_set(o, k, v);
    }
  }
  /* /subscriptions/S/resourceGroups/RG/... */
  const char *id = json_string_value(json_object_get(resource, "id"));
  const char *rg = id ? strcasestr(id, "/resourceGroups/") : NULL;
  if (rg) {
    rg += strlen("/resourceGroups/");
    const char *end = strchr(rg, '/');
    json_object_set_new(o, "resourceGroup", json_stringn(rg, end ? (size_t)(end - rg) : strlen(rg)));
  }
  return o;
}

/* ---- table ------------------------------------------------------------------------------- */

typedef struct {
  const char *header;
  const char *path; /* dotted path in the flattened resource */
} column;

static const column cluster_cols[] = {{"Name", "name"},
                                      {"Location", "location"},
                                      {"ResourceGroup", "resourceGroup"},
                                      {"KubernetesVersion", "kubernetesVersion"},
                                      {"CurrentKubernetesVersion", "currentKubernetesVersion"},
                                      {"ManagedGpu", "gpuProfile.nvidia.managementMode"},
                                      {"ProvisioningState", "provisioningState"},
                                      {NULL, NULL}};
static const column pool_cols[] = {{"Name", "name"},
                                   {"OsType", "osType"},
                                   {"KubernetesVersion", "orchestratorVersion"},
                                   {"VmSize", "vmSize"},
                                   {"Count", "count"},
                                   {"Mode", "mode"},
                                   {"GpuDriver", "gpuProfile.driver"},
                                   {"ManagementMode", "gpuProfile.nvidia.managementMode"},
                                   {"MigProfile", "gpuInstanceProfile"},
                                   {"ProvisioningState", "provisioningState"},
                                   {NULL, NULL}};
static const column feature_cols[] = {{"Name", "name"}, {"RegistrationState", "properties.state"}, {NULL, NULL}};
static const column op_cols[] = {
    {"Name", "name"}, {"Status", "status"}, {"StartTime", "startTime"}, {"EndTime", "endTime"}, {NULL, NULL}};

static const json_t *get_path(const json_t *o, const char *path) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  const json_t *cur = o;
  for (char *save = NULL, *t = strtok_r(buf, ".", &save); t && cur; t = strtok_r(NULL, ".", &save))
    cur = json_object_get(cur, t);
  return cur;
}

/* Text of a scalar for tables and tsv; "" for null/absent, compact JSON for containers. */
static char *scalar_text(const json_t *v) {
  char *s = NULL;
  if (!v || json_is_null(v)) return strdup("");
  if (json_is_string(v)) return strdup(json_string_value(v));
  if (json_is_integer(v)) {
    if (asprintf(&s, "%lld", (long long)json_integer_value(v)) < 0) return NULL;
    return s;
  }
  if (json_is_real(v)) {
    if (asprintf(&s, "%g", json_real_value(v)) < 0) return NULL;
    return s;
  }
  if (json_is_boolean(v)) return strdup(json_is_true(v) ? "True" : "False");
  return json_dumps(v, JSON_COMPACT);
}

void out_grid(const char *const *headers, size_t ncols, char ***rows, size_t nrows) {
  size_t *w = calloc(ncols, sizeof *w);
  if (!w) return;
  for (size_t c = 0; c < ncols; c++)
    w[c] = strlen(headers[c]);
  for (size_t r = 0; r < nrows; r++)
    for (size_t c = 0; c < ncols; c++)
      if (rows[r][c] && strlen(rows[r][c]) > w[c]) w[c] = strlen(rows[r][c]);
  for (size_t c = 0; c < ncols; c++)
    printf("%s%-*s", c ? "  " : "", c + 1 < ncols ? (int)w[c] : 0, headers[c]);
  putchar('\n');
  for (size_t c = 0; c < ncols; c++) {
    printf("%s", c ? "  " : "");
    for (size_t i = 0; i < w[c]; i++)
      putchar('-');
  }
  putchar('\n');
  for (size_t r = 0; r < nrows; r++) {
    for (size_t c = 0; c < ncols; c++)
      printf("%s%-*s", c ? "  " : "", c + 1 < ncols ? (int)w[c] : 0, rows[r][c] ? rows[r][c] : "");
    putchar('\n');
  }
  free(w);
}

static void free_rows(char ***rows, size_t nrows, size_t ncols) {
  for (size_t r = 0; r < nrows; r++) {
    for (size_t c = 0; c < ncols; c++)
      free(rows[r][c]);
    free(rows[r]);
  }
  free(rows);
}

static void table_of(const column *cols, json_t *items) {
  size_t ncols = 0, n = json_array_size(items);
  while (cols[ncols].header)
    ncols++;
  const char *headers[16];
  for (size_t c = 0; c < ncols; c++)
    headers[c] = cols[c].header;
  char ***rows = calloc(n ? n : 1, sizeof *rows);
  if (!rows) return;
  for (size_t r = 0; r < n; r++) {
    rows[r] = calloc(ncols, sizeof *rows[r]);
    if (!rows[r]) continue;
    for (size_t c = 0; c < ncols; c++)
      rows[r][c] = scalar_text(get_path(json_array_get(items, r), cols[c].path));
  }
  out_grid(headers, ncols, rows, n);
  free_rows(rows, n, ncols);
}

/* A pool's nodes (status.nodes, preview api-versions) under its table. */
static void nodes_table(const json_t *pool) {
  static const char *const keys[] = {"total",     "conformant",   "applying", "drifted",
                                     "unhealthy", "notReporting", "missing"};
  static const char *const h[] = {"Nodes", "Conformant", "Applying", "Drifted", "Unhealthy", "NotReporting", "Missing"};
  const json_t *nodes = json_object_get(json_object_get(pool, "status"), "nodes");
  char *cells[7], **row = cells;
  if (!json_is_object(nodes)) return;
  for (size_t i = 0; i < 7; i++)
    cells[i] = scalar_text(json_object_get(nodes, keys[i]));
  putchar('\n');
  out_grid(h, 7, &row, 1);
  for (size_t i = 0; i < 7; i++)
    free(cells[i]);
}

static void plan_table(const json_t *plan) {
  const json_t *comps = json_object_get(plan, "components"), *alloc = json_object_get(plan, "allocatable");
  const json_t *dec = json_object_get(plan, "decisions"), *warn = json_object_get(plan, "warnings");
  size_t n = json_array_size(comps);
  char ***rows = calloc(n ? n : 1, sizeof *rows);
  const char *h1[] = {"Component", "Version", "Args"};
  for (size_t i = 0; rows && i < n; i++) {
    const json_t *c = json_array_get(comps, i);
    rows[i] = calloc(3, sizeof *rows[i]);
    if (!rows[i]) continue;
    rows[i][0] = scalar_text(json_object_get(c, "name"));
    rows[i][1] = scalar_text(json_object_get(c, "version"));
    /* args joined by spaces */
    size_t len = 1;
    const json_t *args = json_object_get(c, "args");
    for (size_t k = 0; k < json_array_size(args); k++)
      len += strlen(json_string_value(json_array_get(args, k)) ?: "") + 1;
    rows[i][2] = calloc(len, 1);
    for (size_t k = 0; rows[i][2] && k < json_array_size(args); k++) {
      if (k) strcat(rows[i][2], " ");
      strcat(rows[i][2], json_string_value(json_array_get(args, k)) ?: "");
    }
  }
  if (rows) {
    out_grid(h1, 3, rows, n);
    free_rows(rows, n, 3);
  }
  putchar('\n');
  const char *h2[] = {"Resource", "Allocatable"};
  n = json_object_size(alloc);
  rows = calloc(n ? n : 1, sizeof *rows);
  const char *k;
  json_t *v;
  size_t i = 0;
  json_object_foreach((json_t *)alloc, k, v) {
    if (!rows || !(rows[i] = calloc(2, sizeof *rows[i]))) break;
    rows[i][0] = strdup(k);
    rows[i][1] = scalar_text(v);
    i++;
  }
  if (rows) {
    out_grid(h2, 2, rows, i);
    free_rows(rows, i, 2);
  }
  putchar('\n');
  const char *h3[] = {"Rule", "Outcome", "Reason"};
  n = json_array_size(dec);
  rows = calloc(n ? n : 1, sizeof *rows);
  for (i = 0; rows && i < n; i++) {
    const json_t *d = json_array_get(dec, i);
    if (!(rows[i] = calloc(3, sizeof *rows[i]))) continue;
    rows[i][0] = scalar_text(json_object_get(d, "rule"));
    rows[i][1] = scalar_text(json_object_get(d, "outcome"));
    rows[i][2] = scalar_text(json_object_get(d, "reason"));
  }
  if (rows) {
    out_grid(h3, 3, rows, n);
    free_rows(rows, n, 3);
  }
  for (i = 0; i < json_array_size(warn); i++)
    printf("%sWarning: %s\n", i ? "" : "\n", json_string_value(json_array_get(warn, i)));
}

/* ---- yaml ---------------------------------------------------------------------------------- */

static int yaml_write(void *data, unsigned char *buffer, size_t size) {
  return fwrite(buffer, 1, size, (FILE *)data) == size;
}

static int emit_scalar(yaml_emitter_t *e, const char *text, int plain_ok) {
  yaml_event_t ev;
  yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), plain_ok, !plain_ok,
                               plain_ok ? YAML_ANY_SCALAR_STYLE : YAML_SINGLE_QUOTED_SCALAR_STYLE);
  return yaml_emitter_emit(e, &ev);
}

static int emit_json(yaml_emitter_t *e, const json_t *v) {
  yaml_event_t ev;
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    const char *k;
    json_t *x;
    if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
        !yaml_emitter_emit(e, &ev))
      return 0;
    json_object_foreach((json_t *)v, k, x) {
      if (!emit_scalar(e, k, 1) || !emit_json(e, x)) return 0;
    }
    return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
  }
  case JSON_ARRAY: {
    size_t i;
    json_t *x;
    if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
        !yaml_emitter_emit(e, &ev))
      return 0;
    json_array_foreach(v, i, x) {
      if (!emit_json(e, x)) return 0;
    }
    return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
  }
  case JSON_STRING: {
    /* strings that would read back as another type are quoted */
    const char *s = json_string_value(v);
    char *end;
    int looks_other = !*s || !strcasecmp(s, "true") || !strcasecmp(s, "false") || !strcasecmp(s, "null") ||
                      !strcasecmp(s, "yes") || !strcasecmp(s, "no") || !strcasecmp(s, "on") || !strcasecmp(s, "off") ||
                      !strcmp(s, "~") || (strtod(s, &end), *end == '\0');
    return emit_scalar(e, s, !looks_other);
  }
  default: {
    char *t = json_is_null(v) ? strdup("null") : json_dumps(v, JSON_ENCODE_ANY);
    int ok = t && emit_scalar(e, t, 1);
    free(t);
    return ok;
  }
  }
}

static int print_yaml(const json_t *v) {
  yaml_emitter_t e;
  yaml_event_t ev;
  int ok = yaml_emitter_initialize(&e);
  if (!ok) return CLI_ERROR;
  yaml_emitter_set_output(&e, yaml_write, stdout);
  yaml_emitter_set_unicode(&e, 1);
  yaml_emitter_set_width(&e, 120);
  ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&e, &ev) &&
       yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) && yaml_emitter_emit(&e, &ev) &&
       emit_json(&e, v) && yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
       yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev);
  yaml_emitter_delete(&e);
  return ok ? CLI_OK : CLI_ERROR;
}

/* ---- tsv ----------------------------------------------------------------------------------- */

static void tsv_line(const json_t *o) {
  if (!json_is_object(o)) {
    char *t = scalar_text(o);
    printf("%s\n", t ? t : "");
    free(t);
    return;
  }
  const char *k;
  json_t *v;
  int first = 1;
  json_object_foreach((json_t *)o, k, v) {
    if (json_is_object(v) || json_is_array(v)) continue; /* az's tsv keeps scalars only */
    char *t = scalar_text(v);
    printf("%s%s", first ? "" : "\t", t ? t : "");
    free(t);
    first = 0;
  }
  putchar('\n');
}

int out_print(const char *format, out_kind kind, const json_t *value, int is_list) {
  json_t *view;
  if (is_list) {
    view = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(value, i, x) json_array_append_new(
        view, kind == KIND_PLAN || kind == KIND_FEATURE || kind == KIND_OPERATION ? json_incref(x) : out_flatten(x));
  } else {
    view = kind == KIND_PLAN || kind == KIND_FEATURE || kind == KIND_OPERATION ? json_incref((json_t *)value)
                                                                               : out_flatten(value);
  }
  if (!view) return CLI_ERROR;
  int rc = CLI_OK;
  if (strcmp(format, "json") == 0) {
    cli_print_json(view);
  } else if (strcmp(format, "yaml") == 0) {
    rc = print_yaml(view);
  } else if (strcmp(format, "tsv") == 0) {
    if (is_list) {
      size_t i;
      json_t *x;
      json_array_foreach(view, i, x) tsv_line(x);
    } else {
      tsv_line(view);
    }
  } else if (kind == KIND_PLAN && !is_list) {
    plan_table(view);
  } else {
    json_t *items = is_list ? json_incref(view) : json_pack("[O]", view);
    const column *cols = kind == KIND_CLUSTER    ? cluster_cols
                         : kind == KIND_NODEPOOL ? pool_cols
                         : kind == KIND_FEATURE  ? feature_cols
                                                 : op_cols;
    table_of(cols, items);
    json_decref(items);
    if (kind == KIND_NODEPOOL && !is_list) nodes_table(view);
  }
  json_decref(view);
  return rc;
}
