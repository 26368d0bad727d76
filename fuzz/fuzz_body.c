/* fuzz_body.c - libFuzzer harness: a request body through the core, as gpupoold and the CLI take
 * it: gp_body_parse -> the pool model (every api-version group) -> the policy (create, then the
 * same body as an update of what it created) -> the plan and every view of the pool, and the same
 * body as a managed cluster PUT (with its agentPoolProfiles) -> its pools' plans, and the same body as
 * a node agent's machine report -> its canonical text, the server's findings, the view. The phase and the
 * registered features vary with the input's length, so every seed is read under several contexts.
 * Any crash, leak or sanitizer report fails `make fuzz`. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "gpupool/gpupool.h"

static void consume(json_t *v) {
  char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
  free(s);
  json_decref(v);
}

/* The views and the plan of a decided pool, and its storage form read back. */
static void exercise_pool(const gp_pool *p, const gp_policy_context *ctx) {
  gp_error err;
  gp_error_init(&err);
  consume(gp_plan_build(p, ctx, 1));
  consume(gp_pool_to_json(p, ctx->api));
  json_t *stored = gp_pool_to_store(p);
  gp_pool *back = stored ? gp_pool_from_store(stored, &err) : NULL;
  if (back) consume(gp_plan_build(back, ctx, 2));
  gp_pool_free(back);
  json_decref(stored);
  gp_error_clear(&err);
}

static void pool_put(const json_t *body, gp_policy_context *ctx) {
  gp_error err;
  gp_warnings w = {0};
  gp_error_init(&err);
  gp_pool_request *req = gp_pool_request_parse(body, ctx->api, &err);
  if (req) {
    gp_pool *created = gp_policy_apply_pool(ctx, req, NULL, &w, &err);
    if (created) {
      exercise_pool(created, ctx);
      gp_pool *updated = gp_policy_apply_pool(ctx, req, created, &w, &err);
      if (updated) exercise_pool(updated, ctx);
      gp_pool_free(updated);
      gp_pool *again = gp_policy_apply_pool(ctx, NULL, created, &w, &err); /* re-evaluated */
      gp_pool_free(again);
    }
    gp_pool_free(created);
  }
  consume(gp_error_to_json(&err));
  gp_pool_request_free(req);
  gp_warnings_free(&w);
  gp_error_clear(&err);
}

static void cluster_put(const json_t *body, gp_policy_context *ctx) {
  gp_error err;
  gp_error_init(&err);
  gp_cluster_request *creq = gp_cluster_request_parse(body, ctx->api, true, &err);
  gp_cluster_result *res = creq ? gp_policy_apply_cluster(ctx, creq, NULL, NULL, 0, &err) : NULL;
  if (res) {
    consume(gp_cluster_to_json(res->cluster, res->pools, res->pool_count, ctx->api));
    gp_policy_context in = *ctx;
    in.cluster = res->cluster;
    for (size_t i = 0; i < res->pool_count; i++)
      exercise_pool(res->pools[i], &in);
    /* the cluster again, as an update of itself with its pools */
    gp_cluster_result *again = gp_policy_apply_cluster(ctx, creq, res->cluster, res->pools, res->pool_count, &err);
    gp_cluster_result_free(again);
    pool_put(body, &in); /* the body as a pool of this cluster */
  }
  consume(gp_error_to_json(&err));
  gp_cluster_result_free(res);
  gp_cluster_request_free(creq);
  gp_error_clear(&err);
}

/* The body as a machine report: checked, made canonical, judged by the server, viewed. */
static void machine_put(const json_t *body, size_t size) {
  gp_error err;
  gp_error_init(&err);
  gp_machine_report *r = gp_machine_report_parse(body, &err);
  if (r) {
    free(gp_machine_report_text(r));
    json_t *findings = gp_machine_server_findings(r, size % 3 ? "Standard_NC4as_T4_v3" : NULL, 1795000000000LL);
    gp_machine_facts f = {size % 2, r->health_failed, r->applied_generation != 1,
                          r->agent_drift || gp_machine_findings_have_error(findings)};
    gp_machine_server s = {"/id", "node", "etag", 1795000000000LL, 1, gp_machine_state_of(&f)};
    consume(gp_machine_view(r->doc, findings, &s));
    json_decref(findings);
  }
  consume(gp_error_to_json(&err));
  gp_machine_report_free(r);
  gp_error_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gp_error err;
  gp_error_init(&err);
  json_t *body = gp_body_parse((const char *)data, size, &err);
  consume(gp_error_to_json(&err));
  gp_error_clear(&err);
  if (!body) return 0;
  gp_policy_context ctx;
  gp_policy_context_init(&ctx);
  ctx.phase = size % 2 ? GP_PHASE_GA : GP_PHASE_PREVIEW;
  ctx.feature_managed_gpu = (size / 2) % 2;
  ctx.feature_managed_gpu_experience = (size / 4) % 2;
  static const gp_api_group groups[] = {GP_API_OLD_STABLE, GP_API_STABLE, GP_API_PREVIEW};
  for (size_t i = 0; i < 3; i++) {
    ctx.api = groups[i];
    pool_put(body, &ctx);
  }
  ctx.api = GP_API_PREVIEW;
  cluster_put(body, &ctx);
  machine_put(body, size);
  json_decref(body);
  return 0;
}
