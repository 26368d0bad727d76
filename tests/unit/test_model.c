/* test_model.c - the model through the core API: storage round trips, api-version visibility,
 * a PUT in an older api-version keeping preview fields, cluster PUTs (agentPoolProfiles, the
 * cluster-level default and ManagedGPUDefaultConflict), corrupt stored documents. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "helpers.h"


static const char *first_code(const gp_policy_context *ctx, const char *text, const gp_pool *existing, char *buf,
                              size_t size) {
  gp_error err;
  gp_error_init(&err);
  gp_pool *p = put_text(ctx, text, existing, &err);
  assert_null(p);
  assert_true(err.count > 0);
  snprintf(buf, size, "%s", err.items[0].code);
  gp_error_clear(&err);
  return buf;
}

static void test_store_round_trip(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  gp_pool *p =
      put_accepted(&ctx,
               "{\"name\":\"gpu1\",\"zones\":[\"1\"],\"properties\":{\"vmSize\":\"Standard_NC24ads_A100_v4\","
               "\"count\":3,\"orchestratorVersion\":\"1.36.2\",\"tags\":{\"a\":\"b\"},\"nodeLabels\":{\"x\":\"y\"},"
               "\"nodeTaints\":[\"sku=gpu:NoSchedule\"],\"extraThing\":{\"k\":[1,2]},"
               "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\",\"migStrategy\":\"Mixed\","
               "\"migProfiles\":[\"MIG4g\",\"MIG2g\",\"MIG1g\"]}}}}",
               NULL);
  json_t *doc = gp_pool_to_store(p);
  assert_non_null(doc);
  gp_error err;
  gp_error_init(&err);
  gp_pool *q = gp_pool_from_store(doc, &err);
  assert_non_null(q);
  json_t *doc2 = gp_pool_to_store(q);
  assert_true(json_equal(doc, doc2));
  /* the GET view and the plan of the reloaded pool are identical too */
  json_t *a = gp_pool_to_json(p, GP_API_PREVIEW), *b = gp_pool_to_json(q, GP_API_PREVIEW);
  assert_true(json_equal(a, b));
  json_t *pa = gp_plan_build(p, &ctx, 3), *pb = gp_plan_build(q, &ctx, 3);
  assert_true(json_equal(pa, pb));
  assert_string_equal(json_string_value(json_object_get(a, "name")), "gpu1");
  assert_non_null(json_object_get(a, "zones"));
  assert_non_null(json_object_get(json_object_get(a, "properties"), "extraThing"));
  json_decref(a);
  json_decref(b);
  json_decref(pa);
  json_decref(pb);
  json_decref(doc);
  json_decref(doc2);
  gp_pool_free(p);
  gp_pool_free(q);
}

static void test_corrupt_store(void **state) {
  (void)state;
  static const char *const docs[] = {
      "null",
      "[]",
      "{}",
      "{\"sources\":{}}",
      "{\"vmSize\":\"x\",\"count\":\"1\",\"sources\":{},\"declared\":{},\"effective\":{},\"kubernetesVersion\":\"1."
      "35\","
      "\"osType\":\"Linux\",\"osSKU\":\"Ubuntu\",\"mode\":\"User\"}",
      "{\"vmSize\":\"x\",\"count\":1,\"sources\":{},\"declared\":{\"driver\":\"Maybe\"},\"effective\":{},"
      "\"kubernetesVersion\":\"1.35\",\"osType\":\"Linux\",\"osSKU\":\"Ubuntu\",\"mode\":\"User\"}",
      "{\"vmSize\":\"x\",\"count\":1,\"sources\":{},\"declared\":{},\"effective\":{\"migProfiles\":[1]},"
      "\"kubernetesVersion\":\"1.35\",\"osType\":\"Linux\",\"osSKU\":\"Ubuntu\",\"mode\":\"User\"}",
      "{\"vmSize\":\"x\",\"count\":1,\"sources\":{},\"declared\":{},\"effective\":{},\"kubernetesVersion\":\"x\","
      "\"osType\":\"Linux\",\"osSKU\":\"Ubuntu\",\"mode\":\"User\"}",
  };
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
    json_t *d = json_loads(docs[i], JSON_DECODE_ANY, NULL);
    gp_error err;
    gp_error_init(&err);
    assert_null(gp_pool_from_store(d, &err));
    assert_int_equal(err.status, 500);
    gp_error_clear(&err);
    json_decref(d);
  }
}

static void test_corrupt_cluster_store(void **state) {
  (void)state;
  static const char *const docs[] = {"null",
                                     "[]",
                                     "{}",
                                     "{\"kubernetesVersion\":\"x\"}",
                                     "{\"kubernetesVersion\":\"1.35\",\"name\":1}",
                                     "{\"kubernetesVersion\":\"1.35\",\"managementMode\":\"Sometimes\"}",
                                     "{\"kubernetesVersion\":\"1.35\",\"tags\":[]}"};
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
    json_t *d = json_loads(docs[i], JSON_DECODE_ANY, NULL);
    gp_error err;
    gp_error_init(&err);
    assert_null(gp_cluster_from_store(d, &err));
    assert_int_equal(err.status, 500);
    gp_error_clear(&err);
    json_decref(d);
  }
  json_t *ok = json_loads("{\"kubernetesVersion\":\"1.36\",\"name\":\"c\",\"managementMode\":\"Managed\"}", 0, NULL);
  gp_error err;
  gp_error_init(&err);
  gp_cluster *c = gp_cluster_from_store(ok, &err);
  assert_non_null(c);
  assert_int_equal(c->management_mode, GP_MGMT_MANAGED);
  assert_int_equal(c->k8s.minor, 36);
  gp_cluster_free(c);
  json_decref(ok);
}

static void test_visibility(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  gp_pool *p = put_accepted(&ctx,
                        "{\"properties\":{\"vmSize\":\"Standard_NC24ads_A100_v4\",\"gpuInstanceProfile\":\"MIG2g\","
                        "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}}}",
                        NULL);
  json_t *old = gp_pool_properties_json(p, GP_API_OLD_STABLE);
  json_t *st = gp_pool_properties_json(p, GP_API_STABLE);
  json_t *pv = gp_pool_properties_json(p, GP_API_PREVIEW);
  assert_null(json_object_get(old, "gpuProfile"));
  assert_string_equal(json_string_value(json_object_get(old, "gpuInstanceProfile")), "MIG2g");
  assert_string_equal(json_string_value(json_object_get(json_object_get(st, "gpuProfile"), "driver")), "Install");
  assert_null(json_object_get(json_object_get(st, "gpuProfile"), "nvidia"));
  json_t *nv = json_object_get(json_object_get(pv, "gpuProfile"), "nvidia");
  /* the writable fields hold what was declared, the current* ones what applies */
  assert_string_equal(json_string_value(json_object_get(nv, "managementMode")), "Managed");
  assert_null(json_object_get(nv, "migStrategy"));
  assert_null(json_object_get(nv, "driverMode"));
  assert_string_equal(json_string_value(json_object_get(nv, "currentManagementMode")), "Managed");
  assert_string_equal(json_string_value(json_object_get(nv, "currentMigStrategy")), "Single");
  assert_string_equal(json_string_value(json_object_get(nv, "currentDriverMode")), "DevicePlugin");
  assert_null(json_object_get(pv, "orchestratorVersion")); /* not declared: follows the cluster */
  assert_string_equal(json_string_value(json_object_get(pv, "currentOrchestratorVersion")), "1.35.0");
  json_decref(old);
  json_decref(st);
  json_decref(pv);
  gp_pool_free(p);
}

static void test_old_version_keeps_preview(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  gp_pool *p =
      put_accepted(&ctx,
               "{\"properties\":{\"vmSize\":\"Standard_NC24ads_A100_v4\",\"gpuProfile\":{\"nvidia\":{"
               "\"managementMode\":\"Managed\",\"migStrategy\":\"Mixed\",\"migProfiles\":[\"MIG3g\",\"MIG2g\"]}}}}",
               NULL);
  /* a client on 2022-11-01 updates the count; it cannot see (or send) the preview fields */
  ctx.api = GP_API_OLD_STABLE;
  gp_pool *q = put_accepted(&ctx, "{\"properties\":{\"vmSize\":\"Standard_NC24ads_A100_v4\",\"count\":5}}", p);
  assert_int_equal(q->count, 5);
  assert_int_equal(q->declared.management_mode, GP_MGMT_MANAGED);
  assert_int_equal(q->declared.mig_strategy, GP_MIG_STRATEGY_MIXED);
  assert_int_equal(q->declared.mig_profile_count, 2);
  /* ... and on a stable version, which shows driver but not nvidia */
  ctx.api = GP_API_STABLE;
  gp_pool *r = put_accepted(&ctx,
                        "{\"properties\":{\"vmSize\":\"Standard_NC24ads_A100_v4\",\"gpuProfile\":{\"driver\":"
                        "\"Install\"}}}",
                        q);
  assert_int_equal(r->effective.management_mode, GP_MGMT_MANAGED);
  assert_int_equal(r->effective.mig_strategy, GP_MIG_STRATEGY_MIXED);
  gp_pool_free(p);
  gp_pool_free(q);
  gp_pool_free(r);
}

static void test_reevaluate_follows_cluster(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  gp_pool *p = put_accepted(&ctx, "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\"}}", NULL);
  assert_int_equal(p->effective.management_mode, GP_MGMT_UNMANAGED);
  gp_cluster c = {0};
  gp_k8s_version_parse("1.35", &c.k8s);
  c.management_mode = GP_MGMT_MANAGED;
  ctx.cluster = &c;
  gp_error err;
  gp_error_init(&err);
  gp_pool *q = gp_policy_apply_pool(&ctx, NULL, p, NULL, &err);
  assert_non_null(q);
  assert_int_equal(q->effective.management_mode, GP_MGMT_MANAGED);
  assert_int_equal(q->src_management_mode, GP_SRC_CLUSTER);
  gp_pool_free(p);
  gp_pool_free(q);
}

/* Runs a cluster PUT against existing pools; returns the result or NULL with err filled. */
static gp_cluster_result *cluster_put(const gp_policy_context *ctx, const char *text, const gp_cluster *old,
                                      gp_pool *const *pools, size_t n, gp_error *err) {
  json_t *body = gp_body_parse(text, strlen(text), err);
  assert_non_null(body);
  gp_cluster_request *r = gp_cluster_request_parse(body, ctx->api, old == NULL, err);
  json_decref(body);
  if (!r) return NULL;
  gp_cluster_result *res = gp_policy_apply_cluster(ctx, r, old, pools, n, err);
  gp_cluster_request_free(r);
  return res;
}

static void test_cluster_with_pools(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  gp_error err;
  gp_error_init(&err);
  gp_cluster_result *res =
      cluster_put(&ctx,
                  "{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.35\",\"agentPoolProfiles\":["
                  "{\"name\":\"system\",\"vmSize\":\"Standard_D4s_v5\",\"mode\":\"System\",\"count\":3},"
                  "{\"name\":\"gpu\",\"vmSize\":\"Standard_NC24ads_A100_v4\",\"gpuInstanceProfile\":\"MIG1g\","
                  "\"gpuProfile\":{\"driver\":\"Install\"}}]}}",
                  NULL, NULL, 0, &err);
  assert_non_null(res);
  assert_int_equal(res->pool_count, 2);
  assert_true(res->created[0] && res->created[1] && res->listed[1]);
  assert_string_equal(res->pools[1]->name, "gpu");
  json_t *view = gp_cluster_to_json(res->cluster, res->pools, res->pool_count, GP_API_PREVIEW);
  json_t *list = json_object_get(json_object_get(view, "properties"), "agentPoolProfiles");
  assert_int_equal(json_array_size(list), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "gpuInstanceProfile")), "MIG1g");
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(view, "properties"), "currentKubernetesVersion")), "1.35.0");
  json_decref(view);

  /* a bad pool in the list: the target names its place; nothing is returned */
  gp_error_clear(&err);
  gp_cluster_result *bad =
      cluster_put(&ctx,
                  "{\"location\":\"eastus\",\"properties\":{\"agentPoolProfiles\":[{\"name\":\"ok\",\"vmSize\":"
                  "\"Standard_D4s_v5\"},"
                  "{\"name\":\"gpu\",\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuInstanceProfile\":\"MIG1g\"}]}}",
                  NULL, NULL, 0, &err);
  assert_null(bad);
  assert_string_equal(err.items[0].code, "MIGNotSupportedOnVMSize");
  assert_string_equal(err.items[0].target, "properties.agentPoolProfiles[1].gpuInstanceProfile");
  gp_error_clear(&err);
  bad = cluster_put(&ctx, "{\"location\":\"eastus\",\"properties\":{\"agentPoolProfiles\":[{\"name\":\"Bad-Name\"}]}}",
                    NULL, NULL, 0, &err);
  assert_null(bad);
  assert_string_equal(err.items[0].target, "properties.agentPoolProfiles[0].name");
  gp_error_clear(&err);
  bad = cluster_put(&ctx, "{\"properties\":{}}", NULL, NULL, 0, &err);
  assert_null(bad);
  assert_string_equal(err.items[0].target, "location");
  gp_error_clear(&err);
  gp_cluster_result_free(res);
}

/* A cluster's own violations (here the preview default without its feature) do not hide those of
 * the pools it lists, nor does a listed pool's bad count hide its other violations. */
static void test_cluster_lists_every_violation(void **state) {
  (void)state;
  gp_policy_context ctx;
  gp_policy_context_init(&ctx);
  gp_error err;
  gp_error_init(&err);
  gp_cluster_result *res =
      cluster_put(&ctx,
                  "{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":{\"managementMode\":"
                  "\"Managed\"}},\"agentPoolProfiles\":[{\"name\":\"gpu\",\"vmSize\":\"Standard_NC4as_T4_v3\","
                  "\"count\":-1,\"gpuInstanceProfile\":\"MIG1g\"}]}}",
                  NULL, NULL, 0, &err);
  assert_null(res);
  assert_int_equal(err.count, 3);
  assert_string_equal(err.items[0].code, "InvalidParameter"); /* parsing comes first */
  assert_string_equal(err.items[0].target, "properties.agentPoolProfiles[0].count");
  assert_string_equal(err.items[1].code, "PreviewFeatureNotRegistered");
  assert_string_equal(err.items[2].code, "MIGNotSupportedOnVMSize");
  gp_error_clear(&err);
}

static void test_cluster_default_conflict(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  gp_error err;
  gp_error_init(&err);
  gp_cluster_result *c = cluster_put(&ctx, "{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.35\"}}",
                                     NULL, NULL, 0, &err);
  assert_non_null(c);
  ctx.cluster = c->cluster;
  gp_pool *pools[3];
  pools[0] = put_accepted(
      &ctx,
      "{\"name\":\"nodrv\",\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuProfile\":{\"driver\":\"None\"}}}",
      NULL);
  pools[1] = put_accepted(&ctx, "{\"name\":\"plain\",\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\"}}", NULL);
  pools[2] = put_accepted(
      &ctx,
      "{\"name\":\"nodrv2\",\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuProfile\":{\"driver\":\"None\"}}}",
      NULL);
  ctx.cluster = NULL;
  const char *managed =
      "{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}}}";
  gp_cluster_result *r = cluster_put(&ctx, managed, c->cluster, pools, 3, &err);
  assert_null(r);
  assert_int_equal(err.count, 1);
  assert_string_equal(err.items[0].code, "ManagedGPUDefaultConflict");
  assert_string_equal(err.items[0].target, "properties.gpuProfile.nvidia.managementMode");
  assert_non_null(strstr(err.items[0].message, "'nodrv'"));
  assert_non_null(strstr(err.items[0].message, "'nodrv2'"));
  assert_null(strstr(err.items[0].message, "'plain'"));
  assert_non_null(strstr(err.items[0].message, "managementMode: Unmanaged"));
  gp_error_clear(&err);

  /* declare Unmanaged on the driver None pools first: then the default applies to the others */
  gp_policy_context pctx = ctx_with_feature();
  pctx.cluster = c->cluster;
  const char *unmanaged = "{\"properties\":{\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Unmanaged\"}}}}";
  gp_pool *fixed0 = put_accepted(&pctx, unmanaged, pools[0]);
  gp_pool *fixed2 = put_accepted(&pctx, unmanaged, pools[2]);
  gp_pool_free(pools[0]);
  gp_pool_free(pools[2]);
  pools[0] = fixed0;
  pools[2] = fixed2;
  r = cluster_put(&ctx, managed, c->cluster, pools, 3, &err);
  assert_non_null(r);
  assert_int_equal(r->pool_count, 3);
  for (size_t i = 0; i < 3; i++) {
    assert_false(r->listed[i] || r->created[i]);
    if (strcmp(r->pools[i]->name, "plain") == 0) {
      assert_int_equal(r->pools[i]->effective.management_mode, GP_MGMT_MANAGED);
      assert_int_equal(r->pools[i]->src_management_mode, GP_SRC_CLUSTER);
    } else {
      assert_int_equal(r->pools[i]->effective.management_mode, GP_MGMT_UNMANAGED);
    }
  }
  gp_cluster_result_free(r);

  /* the cluster-level default is a preview field */
  gp_policy_context nofeat;
  gp_policy_context_init(&nofeat);
  r = cluster_put(&nofeat, managed, c->cluster, NULL, 0, &err);
  assert_null(r);
  assert_string_equal(err.items[0].code, "PreviewFeatureNotRegistered");
  gp_error_clear(&err);

  /* a version upgrade across the GA version in the GA phase conflicts the same way */
  gp_policy_context ga;
  gp_policy_context_init(&ga);
  ga.phase = GP_PHASE_GA;
  gp_pool *nodrv = put_accepted(
      &pctx,
      "{\"name\":\"nd\",\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuProfile\":{\"driver\":\"None\"}}}",
      NULL);
  r = cluster_put(&ga, "{\"properties\":{\"kubernetesVersion\":\"1.36\"}}", c->cluster, &nodrv, 1, &err);
  assert_null(r);
  assert_string_equal(err.items[0].code, "ManagedGPUDefaultConflict");
  assert_string_equal(err.items[0].target, "properties.kubernetesVersion");
  gp_error_clear(&err);
  r = cluster_put(&ga, "{\"properties\":{\"kubernetesVersion\":\"1.34\"}}", c->cluster, &nodrv, 1, &err);
  assert_null(r);
  assert_string_equal(err.items[0].code, "InvalidOrchestratorVersion");
  gp_error_clear(&err);
  gp_pool_free(nodrv);
  for (size_t i = 0; i < 3; i++)
    gp_pool_free(pools[i]);
  gp_cluster_result_free(c);
}

static void test_messages_say_what_to_do(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  gp_error err;
  gp_error_init(&err);
  assert_null(put_text(&ctx,
                       "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuProfile\":{\"driver\":\"None\","
                       "\"nvidia\":{\"managementMode\":\"Managed\"}}}}",
                       NULL, &err));
  assert_non_null(strstr(err.items[0].message, "Set gpuProfile.driver"));
  gp_error_clear(&err);
  char code[64];
  assert_string_equal(first_code(&ctx,
                                 "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuProfile\":{\"nvidia\":{"
                                 "\"managementMode\":\"Unmanaged\"}}}}",
                                 NULL, code, sizeof code),
                      "GPUDriverNotSpecified");
  json_t *body = NULL;
  gp_error_add(&err, "A", "t", "first");
  gp_error_add(&err, "B", NULL, "second");
  body = gp_error_to_json(&err);
  json_t *e = json_object_get(body, "error");
  assert_string_equal(json_string_value(json_object_get(e, "code")), "A");
  assert_string_equal(json_string_value(json_object_get(e, "target")), "t");
  assert_int_equal(json_array_size(json_object_get(e, "details")), 2);
  assert_null(json_object_get(json_array_get(json_object_get(e, "details"), 1), "target"));
  json_decref(body);
  gp_error_clear(&err);
}

static void test_messages_stay_utf8(void **state) {
  (void)state;
  /* a reserved label key of 3-byte characters, cut at 64 bytes in the message and target */
  gp_policy_context ctx = ctx_with_feature();
  char body[1024];
  char key[400] = "kubernetes.azure.com/";
  for (int i = 0; i < 40; i++)
    strcat(key, "\xe2\x82\xac"); /* the euro sign, U+20AC */
  snprintf(body, sizeof body, "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"nodeLabels\":{\"%s\":\"x\"}}}",
           key);
  gp_error err;
  gp_error_init(&err);
  assert_null(put_text(&ctx, body, NULL, &err));
  assert_string_equal(err.items[0].code, "InvalidNodeLabel");
  json_t *e = gp_error_to_json(&err); /* NULL if any text were not valid UTF-8 */
  assert_non_null(e);
  json_decref(e);
  gp_error_clear(&err);
  char bad[] = "ok\xe2\x82 then \xff end \xed\xa0\x80 \xf0\x9f\x98\x80";
  gp_utf8_sanitize(bad);
  assert_string_equal(bad, "ok then  end  \xf0\x9f\x98\x80");
}

static void test_warnings(void **state) {
  (void)state;
  gp_policy_context ctx;
  gp_policy_context_init(&ctx);
  ctx.feature_managed_gpu_experience = true;
  gp_warnings w = {0};
  gp_error err;
  gp_error_init(&err);
  const char *text =
      "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"tags\":{\"enablemanagedgpuexperience\":\"True\"}}}";
  json_t *body = gp_body_parse(text, strlen(text), &err);
  gp_pool *p = gp_pool_put(&ctx, body, NULL, &w, &err);
  assert_non_null(p);
  assert_int_equal(p->effective.management_mode, GP_MGMT_MANAGED);
  assert_int_equal(w.count, 1);
  assert_non_null(strstr(w.items[0], "deprecated"));
  gp_warnings_free(&w);
  json_decref(body);
  gp_pool_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_store_round_trip),
      cmocka_unit_test(test_corrupt_store),
      cmocka_unit_test(test_corrupt_cluster_store),
      cmocka_unit_test(test_visibility),
      cmocka_unit_test(test_old_version_keeps_preview),
      cmocka_unit_test(test_reevaluate_follows_cluster),
      cmocka_unit_test(test_cluster_with_pools),
      cmocka_unit_test(test_cluster_default_conflict),
      cmocka_unit_test(test_cluster_lists_every_violation),
      cmocka_unit_test(test_messages_say_what_to_do),
      cmocka_unit_test(test_warnings),
      cmocka_unit_test(test_messages_stay_utf8),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
