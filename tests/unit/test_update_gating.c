/* test_update_gating.c - preview gating of updates: once the preview feature is unregistered, a PUT
 * that re-sends a pool's unchanged migProfiles, or a cluster's unchanged managementMode, is accepted
 * (it changes nothing GPU-related, so it needs no feature), while a PUT that changes a preview field
 * is still refused, naming only the field that changed. Only the library can reach these: the
 * offline CLI decides the earlier body and the update under the same features. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "helpers.h"

#define MIG_POOL                                                                                                       \
  "{\"name\":\"mig\",\"properties\":{\"vmSize\":\"Standard_NC24ads_A100_v4\",\"nodeTaints\":[\"sku=gpu:NoSchedule\"]," \
  "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\",\"migStrategy\":\"Mixed\",\"migProfiles\":[\"MIG3g\","   \
  "\"MIG2g\"]}}}}"

static gp_policy_context ctx_without_feature(void) {
  gp_policy_context c;
  gp_policy_context_init(&c);
  return c;
}

/* Does err hold a violation with this code at this target? */
static bool has_violation(const gp_error *err, const char *code, const char *target) {
  for (size_t i = 0; i < err->count; i++)
    if (strcmp(err->items[i].code, code) == 0 && err->items[i].target && strcmp(err->items[i].target, target) == 0)
      return true;
  return false;
}

/* The GET view's properties.gpuProfile.nvidia.migProfiles as compact JSON text (caller frees). */
static char *shown_mig_profiles(const gp_pool *p) {
  json_t *view = gp_pool_to_json(p, GP_API_PREVIEW);
  assert_non_null(view);
  json_t *props = json_object_get(view, "properties");
  json_t *list = json_object_get(json_object_get(json_object_get(props, "gpuProfile"), "nvidia"), "migProfiles");
  char *s = list ? json_dumps(list, JSON_COMPACT) : NULL;
  json_decref(view);
  return s;
}

static void test_pool_same_mig_profiles_without_feature(void **state) {
  (void)state;
  gp_policy_context with = ctx_with_feature(), without = ctx_without_feature();
  gp_pool *p = put_accepted(&with, MIG_POOL, NULL);

  /* the whole body again, and the list alone: both change nothing */
  gp_pool *same = put_accepted(&without, MIG_POOL, p);
  gp_pool *list_only =
      put_accepted(&without,
                   "{\"properties\":{\"vmSize\":\"Standard_NC24ads_A100_v4\",\"gpuProfile\":{\"nvidia\":{"
                   "\"migProfiles\":[\"MIG3g\",\"MIG2g\"]}}}}",
                   p);
  char *a = shown_mig_profiles(same), *b = shown_mig_profiles(list_only);
  assert_non_null(a);
  assert_string_equal(a, "[\"MIG3g\",\"MIG2g\"]");
  assert_string_equal(b, "[\"MIG3g\",\"MIG2g\"]");
  free(a);
  free(b);
  json_t *plan = gp_plan_build(same, &without, 2);
  assert_non_null(plan);
  json_t *alloc = json_object_get(plan, "allocatable");
  assert_int_equal(json_integer_value(json_object_get(alloc, "nvidia.com/mig-3g.40gb")), 1);
  assert_int_equal(json_integer_value(json_object_get(alloc, "nvidia.com/mig-2g.20gb")), 1);
  json_decref(plan);

  /* a change of a preview field is still gated, and only that field is named */
  gp_error err;
  gp_error_init(&err);
  assert_null(put_text(&without,
                       "{\"properties\":{\"vmSize\":\"Standard_NC24ads_A100_v4\",\"gpuProfile\":{\"nvidia\":{"
                       "\"managementMode\":\"Managed\",\"migStrategy\":\"Single\",\"migProfiles\":[\"MIG3g\","
                       "\"MIG2g\"]}}}}",
                       p, &err));
  assert_true(has_violation(&err, "PreviewFeatureNotRegistered", "properties.gpuProfile.nvidia.migStrategy"));
  assert_false(has_violation(&err, "PreviewFeatureNotRegistered", "properties.gpuProfile.nvidia.migProfiles"));
  assert_false(has_violation(&err, "PreviewFeatureNotRegistered", "properties.gpuProfile.nvidia.managementMode"));
  gp_error_clear(&err);

  /* and a new pool declaring the same list without the feature is refused */
  assert_null(put_text(&without, MIG_POOL, NULL, &err));
  assert_true(has_violation(&err, "PreviewFeatureNotRegistered", "properties.gpuProfile.nvidia.migProfiles"));
  gp_error_clear(&err);
  gp_pool_free(p);
  gp_pool_free(same);
  gp_pool_free(list_only);
}

/* properties.gpuProfile.nvidia.managementMode of a cluster GET, or NULL. */
static const char *cluster_mode(const gp_cluster *c, char *buf, size_t size) {
  json_t *view = gp_cluster_to_json(c, NULL, 0, GP_API_PREVIEW);
  assert_non_null(view);
  json_t *nv = json_object_get(json_object_get(json_object_get(view, "properties"), "gpuProfile"), "nvidia");
  const char *m = json_string_value(json_object_get(nv, "managementMode"));
  if (m) snprintf(buf, size, "%s", m);
  json_decref(view);
  return m ? buf : NULL;
}

static void test_cluster_same_mode_without_feature(void **state) {
  (void)state;
  static const char *const managed =
      "{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.35\",\"gpuProfile\":{\"nvidia\":{"
      "\"managementMode\":\"Managed\"}}}}";
  gp_policy_context with = ctx_with_feature(), without = ctx_without_feature();
  gp_error err;
  gp_error_init(&err);
  gp_cluster_result *c = put_cluster(&with, managed, NULL, NULL, 0, &err);
  assert_non_null(c);
  char mode[32];

  gp_cluster_result *again = put_cluster(&without, managed, c->cluster, NULL, 0, &err);
  if (!again) fail_msg("re-sending the cluster's managementMode was refused: %s", err.items[0].code);
  assert_string_equal(cluster_mode(again->cluster, mode, sizeof mode), "Managed");
  /* the value may be spelled in another case: still the same declaration */
  gp_cluster_result *lower =
      put_cluster(&without,
                  "{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":{\"managementMode\":"
                  "\"managed\"}}}}",
                  c->cluster, NULL, 0, &err);
  assert_non_null(lower);

  /* changing it is gated */
  assert_null(put_cluster(&without,
                          "{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":{\"managementMode\":"
                          "\"Unmanaged\"}}}}",
                          c->cluster, NULL, 0, &err));
  assert_int_equal(err.count, 1);
  assert_true(has_violation(&err, "PreviewFeatureNotRegistered", "properties.gpuProfile.nvidia.managementMode"));
  gp_error_clear(&err);
  /* and so is declaring it on a cluster that had none */
  gp_cluster_result *plain = put_cluster(
      &with, "{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.35\"}}", NULL, NULL, 0, &err);
  assert_non_null(plain);
  assert_null(cluster_mode(plain->cluster, mode, sizeof mode));
  assert_null(put_cluster(&without, managed, plain->cluster, NULL, 0, &err));
  assert_true(has_violation(&err, "PreviewFeatureNotRegistered", "properties.gpuProfile.nvidia.managementMode"));
  gp_error_clear(&err);
  gp_cluster_result_free(c);
  gp_cluster_result_free(again);
  gp_cluster_result_free(lower);
  gp_cluster_result_free(plain);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pool_same_mig_profiles_without_feature),
      cmocka_unit_test(test_cluster_same_mode_without_feature),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
