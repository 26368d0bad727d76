/* helpers.h - small helpers shared by the core unit tests: run a pool body through the core the way
 * gpupoold and the CLI do. */
#ifndef GPUPOOL_TEST_HELPERS_H
#define GPUPOOL_TEST_HELPERS_H

#include <jansson.h>
#include <stdio.h>

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

#endif
