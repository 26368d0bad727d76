/* output.c - json/table/yaml/tsv output of the CLI (see output.h). */
#include "output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "cli.h"
#include "gpupool/enums.h"
#include "gpupool/mig.h"
#include "migdraw.h"

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
  const char *path; /* dotted path in the flattened resource; "a|b": the first present */
} column;

static const column cluster_cols[] = {{"Name", "name"},
                                      {"Location", "location"},
                                      {"ResourceGroup", "resourceGroup"},
                                      {"KubernetesVersion", "kubernetesVersion"},
                                      {"CurrentKubernetesVersion", "currentKubernetesVersion"},
                                      {"ManagedGpu", "gpuProfile.nvidia.managementMode"},
                                      {"ProvisioningState", "provisioningState"},
                                      {NULL, NULL}};
/* A pool's table shows what runs: the effective (current*) values, or on an older gpupoold the only
 * ones it has. The declarations are in -o json and -o yaml. */
static const column pool_cols[] = {
    {"Name", "name"},
    {"OsType", "osType"},
    {"KubernetesVersion", "currentOrchestratorVersion|orchestratorVersion"},
    {"VmSize", "vmSize"},
    {"Count", "count"},
    {"Mode", "mode"},
    {"GpuDriver", "gpuProfile.driver"},
    {"ManagementMode", "gpuProfile.nvidia.currentManagementMode|gpuProfile.nvidia.managementMode"},
    {"MigProfile", "gpuInstanceProfile|gpuProfile.nvidia.migProfiles"},
    {"ProvisioningState", "provisioningState"},
    {NULL, NULL}};
static const column feature_cols[] = {{"Name", "name"}, {"RegistrationState", "properties.state"}, {NULL, NULL}};
static const column op_cols[] = {
    {"Name", "name"}, {"Status", "status"}, {"StartTime", "startTime"}, {"EndTime", "endTime"}, {NULL, NULL}};
static const column vm_size_cols[] = {{"Name", "name"},
                                      {"Gpu", "gpuModel"},
                                      {"GpuCount", "gpuCount"},
                                      {"Mig", "migCapable"},
                                      {"FabricManager", "fabricManager"},
                                      {"Driver", "driverFamily"},
                                      {"OsSkus", "osSkus"},
                                      {NULL, NULL}};
static const column k8s_cols[] = {
    {"KubernetesVersion", "kubernetesVersion"},           {"Default", "default"},
    {"ManagedByDefaultWhenGa", "managedByDefaultWhenGa"}, {"DevicePlugin", "components.nvidia-device-plugin"},
    {"DraDriver", "components.nvidia-dra-driver"},        {"Dcgm", "components.nvidia-dcgm"},
    {"DcgmExporter", "components.dcgm-exporter"},         {NULL, NULL}};
static const column default_cols[] = {{"Name", "name"}, {"Value", "value"}, {"Source", "source"}, {NULL, NULL}};
static const column version_cols[] = {{"Program", "program"}, {"Version", "version"}, {NULL, NULL}};

static const json_t *get_path(const json_t *o, const char *path) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *save_alt = NULL, *alt = strtok_r(buf, "|", &save_alt); alt; alt = strtok_r(NULL, "|", &save_alt)) {
    const json_t *cur = o;
    for (char *save = NULL, *t = strtok_r(alt, ".", &save); t && cur; t = strtok_r(NULL, ".", &save))
      cur = json_object_get(cur, t);
    if (cur && !json_is_null(cur)) return cur;
  }
  return NULL;
}

/* Text of a value for tables and tsv: "" for null/absent, scalars as text, a list of scalars
 * joined with ',' (MIG3g,MIG2g), compact JSON for anything else. */
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
  if (json_is_array(v)) {
    size_t i, len = 1;
    json_t *x;
    json_array_foreach(v, i, x) {
      if (json_is_object(x) || json_is_array(x)) return json_dumps(v, JSON_COMPACT);
      char *t = scalar_text(x);
      len += (t ? strlen(t) : 0) + 1;
      free(t);
    }
    if (!(s = calloc(len, 1))) return NULL;
    json_array_foreach(v, i, x) {
      char *t = scalar_text(x);
      if (i) strcat(s, ",");
      if (t) strcat(s, t);
      free(t);
    }
    return s;
  }
  return json_dumps(v, JSON_COMPACT);
}

/* Prints rows (array of arrays of strings) aligned under headers, az style. */
void out_grid(const char *const *headers, size_t ncols, char ***rows, size_t nrows) {
  size_t *w = calloc(ncols, sizeof *w);
  if (!w) return;
  for (size_t c = 0; c < ncols; c++)
    w[c] = strlen(headers[c]);
  for (size_t r = 0; r < nrows; r++)
    for (size_t c = 0; rows[r] && c < ncols; c++)
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
    for (size_t c = 0; rows[r] && c < ncols; c++)
      printf("%s%-*s", c ? "  " : "", c + 1 < ncols ? (int)w[c] : 0, rows[r][c] ? rows[r][c] : "");
    putchar('\n');
  }
  free(w);
}

static void free_rows(char ***rows, size_t nrows, size_t ncols) {
  for (size_t r = 0; r < nrows; r++) {
    for (size_t c = 0; rows[r] && c < ncols; c++)
      free(rows[r][c]);
    free(rows[r]);
  }
  free(rows);
}

/* A table of the items (an array of objects), one column per entry of cols. */
static void table_of(const column *cols, const json_t *items) {
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

/* A pool's rollout (status.rollout, preview api-versions) under its nodes: one line of state,
 * generations, class and counts, the machines that failed, why it halted, and the settings that
 * pace it. Nothing when the gpupoold does not report rollouts. */
static void rollout_table(const json_t *pool) {
  static const char *const keys[] = {"state",   "fromGeneration", "toGeneration", "class",
                                     "updated", "pending",        "failed"};
  static const char *const h[] = {"Rollout", "From", "To", "Class", "Updated", "Pending", "Failed"};
  const json_t *ro = json_object_get(json_object_get(pool, "status"), "rollout");
  if (!json_is_object(ro)) return;
  const char *state = json_string_value(json_object_get(ro, "state"));
  putchar('\n');
  if (state && !strcmp(state, "Idle")) {
    puts("Rollout: Idle (no change has rolled out to the pool's machines yet)");
  } else {
    char *cells[7], **row = cells;
    for (size_t i = 0; i < 7; i++)
      cells[i] = scalar_text(json_object_get(ro, keys[i]));
    out_grid(h, 7, &row, 1);
    for (size_t i = 0; i < 7; i++)
      free(cells[i]);
  }
  const char *reason = json_string_value(json_object_get(ro, "reason"));
  if (reason && *reason) printf("Reason: %s\n", reason);
  const json_t *us = json_object_get(pool, "upgradeSettings");
  char *mu = scalar_text(json_object_get(us, "maxUnavailable")),
       *dt = scalar_text(json_object_get(us, "drainTimeoutInMinutes")),
       *ns = scalar_text(json_object_get(us, "nodeSoakDurationInMinutes"));
  printf("Settings: maxUnavailable %s, drainTimeoutInMinutes %s, nodeSoakDurationInMinutes %s\n", mu && *mu ? mu : "1",
         dt && *dt ? dt : "30", ns && *ns ? ns : "0");
  free(mu);
  free(dt);
  free(ns);
}

bool out_color(void) {
  const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
  return isatty(STDOUT_FILENO) && !(nc && *nc) && !(term && strcmp(term, "dumb") == 0);
}

static const column component_cols[] = {{"Component", "name"}, {"Version", "version"}, {"Args", "args"}, {NULL, NULL}};
static const column decision_cols[] = {{"Rule", "rule"}, {"Outcome", "outcome"}, {"Reason", "reason"}, {NULL, NULL}};

/* Component args are shown as the command line they make. */
static json_t *components_view(const json_t *comps) {
  json_t *out = json_array();
  size_t i;
  json_t *c;
  json_array_foreach(comps, i, c) {
    json_t *v = json_deep_copy(c);
    const json_t *args = json_object_get(c, "args");
    if (v && json_is_array(args)) {
      size_t len = 1, k;
      json_t *a;
      json_array_foreach(args, k, a) len += strlen(json_string_value(a) ?: "") + 1;
      char *line = calloc(len, 1);
      json_array_foreach(args, k, a) {
        if (!line) break;
        if (k) strcat(line, " ");
        strcat(line, json_string_value(a) ?: "");
      }
      json_object_set_new(v, "args", json_string(line ? line : ""));
      free(line);
    }
    json_array_append_new(out, v);
  }
  return out;
}

static void plan_table(const json_t *plan) {
  const json_t *alloc = json_object_get(plan, "allocatable"), *warn = json_object_get(plan, "warnings");
  json_t *comps = components_view(json_object_get(plan, "components"));
  table_of(component_cols, comps);
  json_decref(comps);
  putchar('\n');
  if (mig_draw_plan(stdout, plan, out_color())) putchar('\n');
  const char *h2[] = {"Resource", "Allocatable"};
  size_t n = json_object_size(alloc), i = 0;
  char ***rows = calloc(n ? n : 1, sizeof *rows);
  const char *k;
  json_t *v;
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
  table_of(decision_cols, json_object_get(plan, "decisions"));
  for (i = 0; i < json_array_size(warn); i++)
    printf("%sWarning: %s\n", i ? "" : "\n", json_string_value(json_array_get(warn, i)));
}

static const column mig_profile_cols[] = {{"Profile", "profile"},
                                          {"NvidiaProfile", "nvidiaProfile"},
                                          {"Id", "id"},
                                          {"ComputeSlices", "computeSlices"},
                                          {"MemorySlices", "memorySlices"},
                                          {"MaxPerGpu", "maxPerGpu"},
                                          {"StartSlices", "startSlices"},
                                          {NULL, NULL}};

/* vm-size show: the size, its MIG profiles, where each may sit, the full layouts; and the layout
 * asked for with --mig-profiles. */
static void vm_size_table(const json_t *s) {
  json_t *one = json_pack("[O]", s);
  table_of(vm_size_cols, one);
  json_decref(one);
  const char *note = json_string_value(json_object_get(s, "note"));
  if (note && *note) printf("Note: %s\n", note);
  const char *model = json_string_value(json_object_get(s, "gpuModel"));
  const json_t *profiles = json_object_get(s, "migProfiles"), *layouts = json_object_get(s, "migLayouts");
  if (!json_array_size(profiles) || !model) {
    printf("\nNo MIG: the GPU is used whole (nvidia.com/gpu).\n");
    return;
  }
  printf("\nMIG profiles of each %s (%d compute slices, %d memory slices):\n", model, GP_MIG_COMPUTE_SLICES,
         GP_MIG_MEMORY_SLICES);
  table_of(mig_profile_cols, profiles);
  printf("\nWhere each profile can be placed (a box per start slice):\n");
  mig_draw_geometry(stdout, model, out_color());
  size_t i, nfull = 0;
  json_t *l;
  json_array_foreach(layouts, i, l) nfull += json_is_true(json_object_get(l, "full"));
  printf("\nValid --mig-profiles of one GPU (strategy Mixed): %zu layouts in all (-o json lists them); each is\n"
         "one of these %zu full layouts or part of one:\n",
         json_array_size(layouts), nfull);
  json_array_foreach(layouts, i, l) {
    if (!json_is_true(json_object_get(l, "full"))) continue;
    char *t = scalar_text(json_object_get(l, "profiles"));
    printf("  %s\n", t ? t : "");
    free(t);
  }
  const json_t *ask = json_object_get(s, "layout");
  if (ask) {
    gp_mig_profile list[CLI_MIG_MAX_LIST];
    size_t n = 0;
    json_t *p;
    json_array_foreach(json_object_get(ask, "profiles"), i, p) {
      int v = gp_enum_parse(&gp_mig_profile_names, json_string_value(p));
      if (v > 0 && n < CLI_MIG_MAX_LIST) list[n++] = (gp_mig_profile)v;
    }
    putchar('\n');
    mig_draw_profiles(stdout, model, list, n, out_color());
  }
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

/* ---- plan changes (plan --diff, nodepool update --dry-run) ------------------------------------- */

/* A changed value in a table cell: "-" for none, a component as its name and version, a list of
 * objects (decisions) as its length, scalars as text, the rest compact; cut at 60. */
static char *change_cell(const json_t *v) {
  char *t = NULL;
  const char *name = json_string_value(json_object_get(v, "name")),
             *version = json_string_value(json_object_get(v, "version"));
  if (!v || json_is_null(v)) return strdup("-");
  if (name) {
    if (asprintf(&t, "%s%s%s", name, version ? " " : "", version ? version : "") < 0) return NULL;
    return t;
  }
  if (json_is_object(json_array_get(v, 0))) {
    if (asprintf(&t, "(%zu entries)", json_array_size(v)) < 0) return NULL;
    return t;
  }
  t = scalar_text(v);
  if (t && strlen(t) > 60) strcpy(t + 57, "...");
  return t;
}

/* The changes of a diff ("changes") or a what-if ("planDiff"), as rows. */
static const json_t *diff_changes(const json_t *d) {
  const json_t *c = json_object_get(d, "changes");
  return c ? c : json_object_get(d, "planDiff");
}

static void diff_table(const json_t *d) {
  const json_t *changes = diff_changes(d), *from = json_object_get(d, "fromGeneration"),
               *to = json_object_get(d, "toGeneration"), *machines = json_object_get(d, "machines");
  printf("Class: %s", json_string_value(json_object_get(d, "class")) ?: "?");
  if (json_is_integer(from) && json_is_integer(to))
    printf(" (plan generation %lld -> %lld)", (long long)json_integer_value(from), (long long)json_integer_value(to));
  printf("\n\n");
  size_t n = json_array_size(changes);
  if (n == 0) {
    printf("No change: the plan says what it said.\n");
  } else {
    static const char *const h[] = {"Path", "From", "To", "Class"};
    char ***rows = calloc(n, sizeof *rows);
    for (size_t r = 0; rows && r < n; r++) {
      const json_t *c = json_array_get(changes, r);
      if (!(rows[r] = calloc(4, sizeof *rows[r]))) continue;
      rows[r][0] = scalar_text(json_object_get(c, "path"));
      rows[r][1] = change_cell(json_object_get(c, "from"));
      rows[r][2] = change_cell(json_object_get(c, "to"));
      rows[r][3] = scalar_text(json_object_get(c, "class"));
    }
    if (rows) {
      out_grid(h, 4, rows, n);
      free_rows(rows, n, 4);
    }
  }
  if (!json_is_object(machines)) return;
  /* machines per class, in the order of the classes */
  static const char *const classes[] = {"None", "InPlace", "Restart", "Drain", "Reboot"};
  char *cells[5], **row = cells;
  for (size_t i = 0; i < 5; i++)
    cells[i] = scalar_text(json_object_get(machines, classes[i]));
  printf("\nMachines by class (from the plan each applied):\n");
  out_grid(classes, 5, &row, 1);
  for (size_t i = 0; i < 5; i++)
    free(cells[i]);
  printf("\nNothing was changed (a what-if).\n");
}

/* One tsv line per object of a list: the fields named, in order. */
static void tsv_fields(const json_t *list, const char *const *fields, size_t n) {
  size_t i;
  json_t *c;
  json_array_foreach(list, i, c) {
    for (size_t k = 0; k < n; k++) {
      char *t = scalar_text(json_object_get(c, fields[k]));
      printf("%s%s", k ? "\t" : "", t ? t : "");
      free(t);
    }
    putchar('\n');
  }
}

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

/* ARM resources are shown the az way; everything else as it is. */
static bool flattened(out_kind kind) { return kind == KIND_CLUSTER || kind == KIND_NODEPOOL || kind == KIND_MACHINE; }

int out_print(const char *format, out_kind kind, const json_t *value, int is_list) {
  json_t *view;
  if (is_list) {
    view = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(value, i, x) json_array_append_new(view, flattened(kind) ? out_flatten(x) : json_incref(x));
  } else {
    view = flattened(kind) ? out_flatten(value) : json_incref((json_t *)value);
  }
  if (!view) return CLI_ERROR;
  int rc = CLI_OK;
  if (strcmp(format, "json") == 0) {
    cli_print_json(view);
  } else if (strcmp(format, "yaml") == 0) {
    rc = print_yaml(view);
  } else if (strcmp(format, "none") == 0) {
    /* nothing: the exit status says it */
  } else if (strcmp(format, "tsv") == 0 && kind == KIND_PLAN && !is_list) {
    /* one line per component: name, version, image, args (what a plan is for) */
    static const char *const fields[] = {"name", "version", "image", "args"};
    json_t *comps = components_view(json_object_get(view, "components"));
    tsv_fields(comps, fields, 4);
    json_decref(comps);
  } else if (strcmp(format, "tsv") == 0 && kind == KIND_DIFF && !is_list) {
    static const char *const fields[] = {"path", "from", "to", "class"}; /* one line per change */
    tsv_fields(diff_changes(view), fields, 4);
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
  } else if (kind == KIND_VM_SIZE_DETAIL && !is_list) {
    vm_size_table(view);
  } else if (kind == KIND_DIFF && !is_list) {
    diff_table(view);
  } else {
    json_t *items = is_list ? json_incref(view) : json_pack("[O]", view);
    static const column *const cols_of[] = {[KIND_CLUSTER] = cluster_cols,
                                            [KIND_NODEPOOL] = pool_cols,
                                            [KIND_FEATURE] = feature_cols,
                                            [KIND_PLAN] = NULL,
                                            [KIND_OPERATION] = op_cols,
                                            [KIND_VM_SIZE] = vm_size_cols,
                                            [KIND_VM_SIZE_DETAIL] = vm_size_cols,
                                            [KIND_K8S_VERSION] = k8s_cols,
                                            [KIND_DEFAULT] = default_cols,
                                            [KIND_VERSION] = version_cols,
                                            [KIND_MACHINE] = NULL,
                                            [KIND_DIFF] = NULL};
    table_of(cols_of[kind] ? cols_of[kind] : op_cols, items);
    json_decref(items);
    if (kind == KIND_NODEPOOL && !is_list) {
      nodes_table(view);
      rollout_table(view);
    }
  }
  json_decref(view);
  return rc;
}
