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

static inline gp_policy_context ctx_with_feature(void) {
  gp_policy_context c;
  gp_policy_context_init(&c);
  c.feature_managed_gpu = true;
  return c;
}

#endif
