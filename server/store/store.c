/* store.c - picking a store back-end from its URL, and what every back-end shares apart from SQL:
 * rows from their text columns, key ranges, operation order. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_pg_url(const char *url) {
  return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

gpd_store *gpd_store_open(const char *url, bool init, char *err, size_t errlen) {
  if (strncmp(url, "sqlite:", 7) == 0) {
    const char *path = url + 7;
    if (strncmp(path, "//", 2) == 0) path += 2; /* sqlite://PATH reads the same */
    if (!*path) {
      snprintf(err, errlen, "--db sqlite:PATH needs a file path");
      return NULL;
    }
    return gpd_store_sqlite_open(path, init, err, errlen);
  }
  if (is_pg_url(url)) return gpd_store_pg_open(url, err, errlen);
  snprintf(err, errlen, "unknown store '%.200s'; use --db sqlite:PATH or --db postgres://USER@HOST:PORT/DB", url);
  return NULL;
}

void gpd_store_url_display(const char *url, char *out, size_t size) {
  if (is_pg_url(url))
    gpd_store_pg_url_display(url, out, size);
  else
    snprintf(out, size, "%s", url);
}

void gpd_resource_clear(gpd_resource *r) {
  if (!r) return;
  free(r->key);
  free(r->id);
  free(r->name);
  free(r->doc);
  free(r->etag);
  free(r->state);
  free(r->op_id);
  free(r->management_mode);
  memset(r, 0, sizeof *r);
}

void gpd_resources_free(gpd_resource *r, size_t n) {
  for (size_t i = 0; i < n; i++)
    gpd_resource_clear(&r[i]);
  free(r);
}

void gpd_operation_clear(gpd_operation *o) {
  if (!o) return;
  free(o->id);
  free(o->sub);
  free(o->location);
  free(o->res_key);
  free(o->res_id);
  free(o->status);
  free(o->error);
  free(o->parent);
  free(o->api_version);
  memset(o, 0, sizeof *o);
}

void gpd_rollout_clear(gpd_rollout *r) {
  if (!r) return;
  free(r->pool_key);
  free(r->op_id);
  free(r->state);
  free(r->doc);
  memset(r, 0, sizeof *r);
}

/* Fills a rollout from its columns (pool_key, op_id, state, doc); false, cleared, on OOM. */
bool gpd_rollout_from_text(gpd_rollout *r, const char *const *cols) {
  memset(r, 0, sizeof *r);
  for (int i = 0; i < 4; i++)
    if (!cols[i]) return false;
  r->pool_key = strdup(cols[0]);
  r->op_id = strdup(cols[1]);
  r->state = strdup(cols[2]);
  r->doc = strdup(cols[3]);
  if (r->pool_key && r->op_id && r->state && r->doc) return true;
  gpd_rollout_clear(r);
  return false;
}

void gpd_operations_free(gpd_operation *o, size_t n) {
  for (size_t i = 0; i < n; i++)
    gpd_operation_clear(&o[i]);
  free(o);
}

/* ---- rows from text columns --------------------------------------------------------------------- */

static char *dup_col(const char *s, bool *oom) {
  if (!s) return NULL;
  char *d = strdup(s);
  if (!d) *oom = true;
  return d;
}

static int64_t int_col(const char *s) { return s ? strtoll(s, NULL, 10) : 0; }

bool gpd_resource_from_text(gpd_resource *r, const char *const *c) {
  bool oom = false;
  memset(r, 0, sizeof *r);
  r->key = dup_col(c[0], &oom);
  r->id = dup_col(c[1], &oom);
  r->name = dup_col(c[2], &oom);
  r->doc = dup_col(c[3], &oom);
  r->etag = dup_col(c[4], &oom);
  r->state = dup_col(c[5], &oom);
  r->op_id = dup_col(c[6], &oom);
  r->management_mode = dup_col(c[7], &oom);
  r->plan_generation = int_col(c[8]);
  if (oom || !r->key || !r->doc || !r->etag || !r->state) {
    gpd_resource_clear(r);
    return false;
  }
  return true;
}

bool gpd_operation_from_text(gpd_operation *o, const char *const *c) {
  bool oom = false;
  memset(o, 0, sizeof *o);
  o->id = dup_col(c[0], &oom);
  o->seq = int_col(c[1]);
  o->sub = dup_col(c[2], &oom);
  o->location = dup_col(c[3], &oom);
  o->res_kind = int_col(c[4]) == GPD_RES_POOL ? GPD_RES_POOL : GPD_RES_CLUSTER;
  o->res_key = dup_col(c[5], &oom);
  o->res_id = dup_col(c[6], &oom);
  o->kind = gpd_op_kind_parse(c[7]);
  o->status = dup_col(c[8], &oom);
  o->start_ms = int_col(c[9]);
  o->end_ms = int_col(c[10]);
  o->not_before_ms = int_col(c[11]);
  o->error = dup_col(c[12], &oom);
  o->parent = dup_col(c[13], &oom);
  o->api_version = dup_col(c[14], &oom);
  if (oom || !o->id || !o->sub || !o->res_key || !o->status) {
    gpd_operation_clear(o);
    return false;
  }
  return true;
}

void gpd_machine_clear(gpd_machine *m) {
  if (!m) return;
  free(m->key);
  free(m->pool_key);
  free(m->id);
  free(m->name);
  free(m->etag);
  free(m->incarnation);
  free(m->report);
  free(m->findings);
  memset(m, 0, sizeof *m);
}

void gpd_machines_free(gpd_machine *m, size_t n) { gpd_rows_free(&gpd_machine_rows, m, n); }

void gpd_machine_groups_free(gpd_machine_group *g, size_t n) { gpd_rows_free(&gpd_machine_group_rows, g, n); }

bool gpd_machine_from_text(gpd_machine *m, const char *const *c) {
  bool oom = false;
  memset(m, 0, sizeof *m);
  m->key = dup_col(c[0], &oom);
  m->pool_key = dup_col(c[1], &oom);
  m->id = dup_col(c[2], &oom);
  m->name = dup_col(c[3], &oom);
  m->etag = dup_col(c[4], &oom);
  m->incarnation = dup_col(c[5], &oom);
  m->last_seen_ms = int_col(c[6]);
  m->interval_s = int_col(c[7]);
  m->applied_generation = int_col(c[8]);
  m->target_generation = int_col(c[9]);
  m->health_failed = int_col(c[10]) != 0;
  m->drifted = int_col(c[11]) != 0;
  m->pool_generation = int_col(c[12]);
  m->report = dup_col(c[13], &oom);
  m->findings = dup_col(c[14], &oom);
  if (oom || !m->key || !m->pool_key || !m->etag || !m->incarnation) {
    gpd_machine_clear(m);
    return false;
  }
  return true;
}

bool gpd_machine_group_from_text(gpd_machine_group *g, const char *const *c) {
  bool oom = false;
  memset(g, 0, sizeof *g);
  g->pool_id = dup_col(c[0], &oom);
  g->stale = int_col(c[1]) != 0;
  g->health_failed = int_col(c[2]) != 0;
  g->applying = int_col(c[3]) != 0;
  g->drifted = int_col(c[4]) != 0;
  g->count = int_col(c[5]);
  if (!oom && g->pool_id) return true;
  free(g->pool_id);
  g->pool_id = NULL;
  return false;
}

static bool resource_row(void *row, const char *const *c) { return gpd_resource_from_text(row, c); }
static void resource_clear(void *row) { gpd_resource_clear(row); }
static bool machine_row(void *row, const char *const *c) { return gpd_machine_from_text(row, c); }
static void machine_clear(void *row) { gpd_machine_clear(row); }
static bool group_row(void *row, const char *const *c) { return gpd_machine_group_from_text(row, c); }
static void group_clear(void *row) {
  gpd_machine_group *g = row;
  free(g->pool_id);
  g->pool_id = NULL;
}

const gpd_row_kind gpd_resource_rows = {sizeof(gpd_resource), GPD_RES_NCOLS, resource_row, resource_clear};
const gpd_row_kind gpd_machine_rows = {sizeof(gpd_machine), GPD_MACHINE_NCOLS, machine_row, machine_clear};
const gpd_row_kind gpd_machine_group_rows = {sizeof(gpd_machine_group), 6, group_row, group_clear};

void gpd_rows_free(const gpd_row_kind *k, void *rows, size_t n) {
  for (size_t i = 0; rows && i < n; i++)
    k->clear((char *)rows + i * k->size);
  free(rows);
}

/* ---- keys and order ----------------------------------------------------------------------------- */

bool gpd_key_prefix_upper(const char *prefix, char *out, size_t size) {
  size_t n = strlen(prefix);
  if (n == 0 || n >= size || prefix[n - 1] != '/') return false;
  memcpy(out, prefix, n + 1);
  out[n - 1] = '/' + 1;
  return true;
}

bool gpd_key_pool_range(const char *cluster_key, char *lo, char *hi, size_t size) {
  int n = snprintf(lo, size, "%s/", cluster_key);
  return n > 0 && (size_t)n < size && gpd_key_prefix_upper(lo, hi, size);
}

static int by_seq(const void *a, const void *b) {
  const gpd_operation *x = a, *y = b;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

void gpd_operations_sort(gpd_operation *o, size_t n) {
  if (n > 1) qsort(o, n, sizeof *o, by_seq);
}

static const char *const op_kinds[] = {"create", "update", "delete"};

const char *gpd_op_kind_name(gpd_op_kind k) { return (unsigned)k < 3 ? op_kinds[k] : "update"; }

gpd_op_kind gpd_op_kind_parse(const char *s) {
  for (int i = 0; i < 3; i++)
    if (s && strcmp(s, op_kinds[i]) == 0) return (gpd_op_kind)i;
  return GPD_OP_UPDATE;
}

bool gpd_state_terminal(const char *st) {
  return !st || strcmp(st, "Succeeded") == 0 || strcmp(st, "Failed") == 0 || strcmp(st, "Canceled") == 0;
}
