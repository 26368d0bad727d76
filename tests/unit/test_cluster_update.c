/* test_cluster_update.c - a managed cluster PUT re-evaluates the pools it does not list: a pool with
 * several problems at once (here a stored Kubernetes version the catalog no longer supports and a
 * conflict with the new cluster-level default) gets every one of them listed, each naming the pool,
 * instead of only the conflict; pools with the conflict alone are still named together in one
 * ManagedGPUDefaultConflict, whose target is the setting the PUT changed. And the result tells
 * listed, created and re-evaluated pools apart. A stored pool on an old version cannot be made
 * through a PUT, so the test writes it in the storage form, which is what the server reads back. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "helpers.h"

#define CLUSTER_135 "{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.35\"}}"
#define NO_DRIVER_POOL(name)                                                                                           \
  "{\"name\":\"" name "\",\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"orchestratorVersion\":\"1.35\","       \
  "\"gpuProfile\":{\"driver\":\"None\"}}}"

/* The pool as the server would read it back after the catalog dropped its Kubernetes version. */
static gp_pool *stored_on_version(const gp_pool *p, const char *version) {
  json_t *doc = gp_pool_to_store(p);
  assert_non_null(doc);
  assert_non_null(json_object_get(doc, "kubernetesVersion"));
  json_object_set_new(doc, "kubernetesVersion", json_string(version));
  json_object_set_new(doc, "orchestratorVersion", json_string(version));
  gp_error err;
  gp_error_init(&err);
  gp_pool *old = gp_pool_from_store(doc, &err);
  assert_non_null(old);
  json_decref(doc);
  return old;
}

static size_t count_code(const gp_error *err, const char *code) {
  size_t n = 0;
  for (size_t i = 0; i < err->count; i++)
    n += strcmp(err->items[i].code, code) == 0;
  return n;
}

static void test_every_problem_of_an_unlisted_pool(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  gp_error err;
  gp_error_init(&err);
  gp_cluster_result *c = put_cluster_accepted(&ctx, CLUSTER_135, NULL, NULL, 0);
  gp_pool *fresh = put_accepted(&ctx, NO_DRIVER_POOL("legacy"), NULL);
  gp_pool *pools[2] = {stored_on_version(fresh, "1.20"), put_accepted(&ctx, NO_DRIVER_POOL("nodrv"), NULL)};
  gp_pool_free(fresh);

  const char *managed =
      "{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}}}";
  /* the first pool alone: both of its problems, each naming it */
  assert_null(put_cluster(&ctx, managed, c->cluster, pools, 1, &err));
  assert_int_equal(err.count, 2);
  assert_string_equal(err.items[0].code, "InvalidOrchestratorVersion");
  assert_non_null(strstr(err.items[0].message, "1.20"));
  assert_string_equal(err.items[1].code, "ManagedGPUDefaultConflict");
  assert_string_equal(err.items[1].target, "properties.gpuProfile.nvidia.managementMode");
  for (size_t i = 0; i < err.count; i++)
    if (strncmp(err.items[i].message, "Agent pool 'legacy': ", 21) != 0)
      fail_msg("violation %zu does not name the pool: %s", i, err.items[i].message);
  json_t *body = gp_error_to_json(&err);
  assert_int_equal(json_array_size(json_object_get(json_object_get(body, "error"), "details")), 2);
  json_decref(body);
  gp_error_clear(&err);

  /* with a pool whose only problem is the conflict: that one is named in the joint conflict */
  assert_null(put_cluster(&ctx, managed, c->cluster, pools, 2, &err));
  assert_int_equal(err.count, 3);
  assert_int_equal(count_code(&err, "InvalidOrchestratorVersion"), 1);
  assert_int_equal(count_code(&err, "ManagedGPUDefaultConflict"), 2);
  const char *joint = err.items[2].message;
  assert_string_equal(err.items[2].code, "ManagedGPUDefaultConflict");
  assert_non_null(strstr(joint, "make agent pool 'nodrv' Managed by default, but it has gpuProfile.driver None"));
  assert_non_null(strstr(joint, "on that pool first"));
  assert_null(strstr(joint, "'legacy'"));
  gp_error_clear(&err);

  /* without the new default, the old version is the only problem, still named */
  assert_null(put_cluster(&ctx, "{\"location\":\"eastus\",\"tags\":{\"a\":\"b\"}}", c->cluster, pools, 2, &err));
  assert_int_equal(err.count, 1);
  assert_string_equal(err.items[0].code, "InvalidOrchestratorVersion");
  assert_non_null(strstr(err.items[0].message, "Agent pool 'legacy'"));
  gp_error_clear(&err);
  gp_pool_free(pools[0]);
  gp_pool_free(pools[1]);
  gp_cluster_result_free(c);
}

/* Several pools with only the conflict are named together, in the plural; a pool PUT that runs into
 * the conflict itself names its pool. */
static void test_conflict_messages_name_the_pools(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  gp_error err;
  gp_error_init(&err);
  gp_cluster_result *c = put_cluster_accepted(&ctx, CLUSTER_135, NULL, NULL, 0);
  gp_pool *pools[2] = {put_accepted(&ctx, NO_DRIVER_POOL("one"), NULL),
                       put_accepted(&ctx, NO_DRIVER_POOL("two"), NULL)};
  assert_null(put_cluster(&ctx,
                          "{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":{\"managementMode\":"
                          "\"Managed\"}}}}",
                          c->cluster, pools, 2, &err));
  assert_int_equal(err.count, 1);
  assert_non_null(strstr(err.items[0].message, "make agent pools 'one', 'two' Managed by default, but they have"));
  assert_non_null(strstr(err.items[0].message, "on those pools first"));
  gp_error_clear(&err);

  gp_policy_context ga = ctx;
  ga.phase = GP_PHASE_GA;
  assert_null(put_text(&ga, "{\"name\":\"one\",\"properties\":{\"orchestratorVersion\":\"1.36\"}}", pools[0], &err));
  assert_string_equal(err.items[0].code, "ManagedGPUDefaultConflict");
  assert_string_equal(err.items[0].target, "properties.orchestratorVersion");
  assert_non_null(strstr(err.items[0].message, "Pool 'one' has gpuProfile.driver None"));
  gp_error_clear(&err);
  gp_pool_free(pools[0]);
  gp_pool_free(pools[1]);
  gp_cluster_result_free(c);
}

/* A cluster PUT that lists an existing pool updates it, one it does not know creates it, and the
 * pools it does not list are re-evaluated: the result says which is which, listed ones first. */
static void test_listed_created_and_other_pools(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  gp_error err;
  gp_error_init(&err);
  gp_cluster_result *c = put_cluster_accepted(&ctx, CLUSTER_135, NULL, NULL, 0);
  gp_pool *pools[2] = {put_accepted(&ctx, "{\"name\":\"one\",\"properties\":{\"vmSize\":\"Standard_D4s_v5\"}}", NULL),
                       put_accepted(&ctx, "{\"name\":\"two\",\"properties\":{\"vmSize\":\"Standard_D4s_v5\"}}", NULL)};
  gp_cluster_result *r = put_cluster(&ctx,
                                     "{\"location\":\"eastus\",\"properties\":{\"agentPoolProfiles\":["
                                     "{\"name\":\"one\",\"vmSize\":\"Standard_D4s_v5\",\"count\":4},"
                                     "{\"name\":\"three\",\"vmSize\":\"Standard_D4s_v5\"}]}}",
                                     c->cluster, pools, 2, &err);
  assert_non_null(r);
  assert_int_equal(r->pool_count, 3);
  static const struct {
    const char *name;
    bool created, listed;
    long count;
  } want[] = {{"one", false, true, 4}, {"three", true, true, 1}, {"two", false, false, 1}};
  for (size_t i = 0; i < 3; i++) {
    json_t *view = gp_pool_to_json(r->pools[i], GP_API_PREVIEW);
    assert_string_equal(json_string_value(json_object_get(view, "name")), want[i].name);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(view, "properties"), "count")), want[i].count);
    json_decref(view);
    if (r->created[i] != want[i].created || r->listed[i] != want[i].listed)
      fail_msg("%s: created %d listed %d", want[i].name, r->created[i], r->listed[i]);
  }
  gp_cluster_result_free(r);
  gp_pool_free(pools[0]);
  gp_pool_free(pools[1]);
  gp_cluster_result_free(c);
}

/* The conflict's target is the setting the cluster PUT changed: a new managementMode, a
 * managementMode cleared with null (the version's default then applies), or else the version. */
static void test_conflict_target_is_what_changed(void **state) {
  (void)state;
  gp_policy_context ga = ctx_with_feature();
  ga.phase = GP_PHASE_GA;
  gp_error err;
  gp_error_init(&err);
  gp_cluster_result *c = put_cluster_accepted(
      &ga,
      "{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.36\",\"gpuProfile\":{\"nvidia\":{"
      "\"managementMode\":\"Unmanaged\"}}}}",
      NULL, NULL, 0);
  ga.cluster = c->cluster;
  gp_pool *pools[1] = {put_accepted(&ga,
                                    "{\"name\":\"one\",\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\","
                                    "\"orchestratorVersion\":\"1.36\",\"gpuProfile\":{\"driver\":\"None\"}}}",
                                    NULL)};
  ga.cluster = NULL;
  /* null clears the declared default: 1.36's default under GA is Managed, which the pool cannot take */
  assert_null(put_cluster(&ga,
                          "{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":{"
                          "\"managementMode\":null}}}}",
                          c->cluster, pools, 1, &err));
  assert_int_equal(err.count, 1);
  assert_string_equal(err.items[0].code, "ManagedGPUDefaultConflict");
  assert_string_equal(err.items[0].target, "properties.gpuProfile.nvidia.managementMode");
  gp_error_clear(&err);
  /* Managed declared: managementMode again */
  assert_null(put_cluster(&ga,
                          "{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":{"
                          "\"managementMode\":\"Managed\"}}}}",
                          c->cluster, pools, 1, &err));
  assert_int_equal(err.count, 1);
  assert_string_equal(err.items[0].target, "properties.gpuProfile.nvidia.managementMode");
  gp_error_clear(&err);
  gp_pool_free(pools[0]);
  gp_cluster_result_free(c);

  /* no managementMode anywhere, the cluster upgraded across the GA version: kubernetesVersion */
  c = put_cluster_accepted(&ga, CLUSTER_135, NULL, NULL, 0);
  ga.cluster = c->cluster;
  pools[0] = put_accepted(
      &ga,
      "{\"name\":\"one\",\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuProfile\":{\"driver\":\"None\"}}}",
      NULL);
  ga.cluster = NULL;
  assert_null(put_cluster(&ga, "{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.36\"}}", c->cluster,
                          pools, 1, &err));
  assert_int_equal(err.count, 1);
  assert_string_equal(err.items[0].code, "ManagedGPUDefaultConflict");
  assert_string_equal(err.items[0].target, "properties.kubernetesVersion");
  gp_error_clear(&err);
  gp_pool_free(pools[0]);
  gp_cluster_result_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_problem_of_an_unlisted_pool),
      cmocka_unit_test(test_conflict_messages_name_the_pools),
      cmocka_unit_test(test_listed_created_and_other_pools),
      cmocka_unit_test(test_conflict_target_is_what_changed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
