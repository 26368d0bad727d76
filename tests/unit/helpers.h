/* helpers.h - small helpers shared by the core unit tests: run a pool body through the core the way
 * gpupoold and the CLI do. */
#ifndef GPUPOOL_TEST_HELPERS_H
#define GPUPOOL_TEST_HELPERS_H

#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpupool/gpupool.h"

/* Parses JSON text and decides it; returns the pool or NULL (violations in err). */
static inline gp_pool *put_text(const gp_policy_context *ctx, const char *text, const gp_pool *existing,
                                gp_error *err) {
  json_t *body = gp_body_parse(text, strlen(text), err);
  if (!body) return NULL;
  gp_pool *p = gp_pool_put(ctx, body, existing, NULL, err);
  json_decref(body);
  return p;
}

/* Like put_text, for bodies that must be accepted: fails the test with the error body otherwise.
 * (cmocka.h is included before this header by every test file.) */
static inline gp_pool *put_accepted(const gp_policy_context *ctx, const char *text, const gp_pool *existing) {
  gp_error err;
  gp_error_init(&err);
  gp_pool *p = put_text(ctx, text, existing, &err);
  if (!p) {
    char *s = json_dumps(gp_error_to_json(&err), 0);
    fail_msg("refused: %s", s);
  }
  gp_error_clear(&err);
  return p;
}

/* Parses a managed cluster PUT body and decides it against the existing cluster (NULL = create) and
 * its pools; returns the result or NULL with every violation in err. */
static inline gp_cluster_result *put_cluster(const gp_policy_context *ctx, const char *text, const gp_cluster *old,
                                             gp_pool *const *pools, size_t n, gp_error *err) {
  json_t *body = gp_body_parse(text, strlen(text), err);
  if (!body) return NULL;
  gp_cluster_request *r = gp_cluster_request_parse(body, ctx->api, old == NULL, err);
  json_decref(body);
  if (!r) return NULL;
  gp_cluster_result *res = gp_policy_apply_cluster(ctx, r, old, pools, n, err);
  gp_cluster_request_free(r);
  return res;
}

/* Like put_cluster, for bodies that must be accepted. */
static inline gp_cluster_result *put_cluster_accepted(const gp_policy_context *ctx, const char *text,
                                                      const gp_cluster *old, gp_pool *const *pools, size_t n) {
  gp_error err;
  gp_error_init(&err);
  gp_cluster_result *res = put_cluster(ctx, text, old, pools, n, &err);
  if (!res)
    fail_msg("cluster refused: %s: %s", err.count ? err.items[0].code : "?", err.count ? err.items[0].message : "");
  gp_error_clear(&err);
  return res;
}

static inline gp_policy_context ctx_with_feature(void) {
  gp_policy_context c;
  gp_policy_context_init(&c);
  c.feature_managed_gpu = true;
  return c;
}

/* The next data row of a CSV file under data/ (comments, blank lines and the header row skipped),
 * split in place into at most n fields (the rest NULL). false at the end of the file. */
static inline bool csv_row(FILE *f, char *line, size_t size, bool *header_seen, char **field, size_t n) {
  while (fgets(line, (int)size, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    if (!*header_seen) {
      *header_seen = true;
      continue;
    }
    line[strcspn(line, "\n")] = '\0';
    char *p = line;
    for (size_t i = 0; i < n; i++) {
      field[i] = p;
      if (p && (p = strchr(p, ','))) *p++ = '\0';
    }
    return true;
  }
  return false;
}

#define TEST_FILE_MAX (2 * 1024 * 1024)

/* Calls fn with the bytes (NUL-terminated, at most TEST_FILE_MAX) of every file of dir whose name
 * ends in suffix (NULL: every file but dot files), in name order; returns how many, -1 when dir
 * cannot be read. */
static inline int for_each_file(const char *dir, const char *suffix,
                                void (*fn)(const char *path, const char *buf, size_t len, void *arg), void *arg) {
  static char buf[TEST_FILE_MAX + 1];
  struct dirent **list;
  int n = scandir(dir, &list, NULL, alphasort), files = 0;
  if (n < 0) return -1;
  for (int i = 0; i < n; i++) {
    const char *name = list[i]->d_name;
    size_t len = strlen(name);
    bool wanted =
        name[0] != '.' && (!suffix || (len > strlen(suffix) && strcmp(name + len - strlen(suffix), suffix) == 0));
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = wanted ? fopen(path, "rb") : NULL;
    if (f) {
      size_t got = fread(buf, 1, TEST_FILE_MAX, f);
      fclose(f);
      buf[got] = '\0';
      fn(path, buf, got, arg);
      files++;
    }
    free(list[i]);
  }
  free(list);
  return files;
}

#endif
