/* store.c - picking a store back-end from its URL, and the row helpers every back-end shares. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gpd_store *gpd_store_open(const char *url, char *err, size_t errlen) {
  if (strncmp(url, "sqlite:", 7) == 0) {
    const char *path = url + 7;
    if (strncmp(path, "//", 2) == 0) path += 2; /* sqlite://PATH reads the same */
    if (!*path) {
      snprintf(err, errlen, "--db sqlite:PATH needs a file path");
      return NULL;
    }
    return gpd_store_sqlite_open(path, err, errlen);
  }
  if (strncmp(url, "postgres", 8) == 0) {
    snprintf(err, errlen, "PostgreSQL is not supported by this build yet; use --db sqlite:PATH");
    return NULL;
  }
  snprintf(err, errlen, "unknown store '%s'; use --db sqlite:PATH", url);
  return NULL;
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
  free(r->mode);
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

void gpd_operations_free(gpd_operation *o, size_t n) {
  for (size_t i = 0; i < n; i++)
    gpd_operation_clear(&o[i]);
  free(o);
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
