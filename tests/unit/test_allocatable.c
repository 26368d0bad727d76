/* test_allocatable.c - allocatable resources for every MIG-capable size x profile x strategy
 * (SPEC §6), checked against numbers written from the spec: instances per GPU MIG1g 7, MIG2g 3,
 * MIG3g 2, MIG4g 1, MIG7g 1, times the size's GPU count. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "helpers.h"

static const int per_gpu[] = {0, 7, 3, 2, 1, 1}; /* indexed by gp_mig_profile */

static json_t *plan_for(const char *size, const char *profile, const char *strategy, const char *mode,
                        const char *driver_mode) {
  char body[1024];
  char strat[64] = "", dm[64] = "";
  if (strategy) snprintf(strat, sizeof strat, ",\"migStrategy\":\"%s\"", strategy);
  if (driver_mode) snprintf(dm, sizeof dm, ",\"driverMode\":\"%s\"", driver_mode);
  snprintf(body, sizeof body,
           "{\"properties\":{\"vmSize\":\"%s\",\"gpuInstanceProfile\":\"%s\",\"gpuProfile\":{\"driver\":\"Install\","
           "\"nvidia\":{\"managementMode\":\"%s\"%s%s}}}}",
           size, profile, mode, strat, dm);
  gp_policy_context ctx = ctx_with_feature();
  gp_error err;
  gp_error_init(&err);
  gp_pool *p = put_text(&ctx, body, NULL, &err);
  if (!p) {
    json_t *e = gp_error_to_json(&err);
    char *s = json_dumps(e, 0);
    fail_msg("%s refused: %s", body, s);
  }
  json_t *plan = gp_plan_build(p, &ctx, 1);
  gp_pool_free(p);
  gp_error_clear(&err);
  assert_non_null(plan);
  return plan;
}

static void test_every_size_profile_strategy(void **state) {
  (void)state;
  static const char *const strategies[] = {NULL, "None", "Single", "Mixed"};
  int checked = 0;
  for (size_t i = 0; i < gp_catalog_vm_size_count(); i++) {
    const gp_vm_size *s = gp_catalog_vm_size_at(i);
    if (!s->mig) continue;
    for (int pr = GP_MIG_1G; pr <= GP_MIG_7G; pr++) {
      const char *pname = gp_enum_name(&gp_mig_profile_names, pr);
      const char *nv = gp_catalog_mig_profile(s->gpu_model, (gp_mig_profile)pr)->nvidia_name;
      long want = (long)per_gpu[pr] * s->gpus;
      for (size_t k = 0; k < 4; k++) {
        json_t *plan = plan_for(s->name, pname, strategies[k], "Managed", NULL);
        json_t *alloc = json_object_get(plan, "allocatable");
        char key[64];
        if (strategies[k] && strcmp(strategies[k], "Mixed") == 0)
          snprintf(key, sizeof key, "nvidia.com/mig-%s", nv);
        else
          snprintf(key, sizeof key, "nvidia.com/gpu"); /* Single, and None/undeclared on a MIG node */
        if (json_object_size(alloc) != 1 || json_integer_value(json_object_get(alloc, key)) != want)
          fail_msg("%s %s %s: allocatable %s, want %s=%ld", s->name, pname, strategies[k] ? strategies[k] : "-",
                   json_dumps(alloc, JSON_COMPACT), key, want);
        /* the layout gives each GPU the profile as many times as fits */
        json_t *per = json_array_get(json_object_get(json_object_get(plan, "migLayout"), "perGpu"), 0);
        assert_string_equal(json_string_value(json_object_get(per, "profile")), nv);
        assert_int_equal(json_integer_value(json_object_get(per, "count")), per_gpu[pr]);
        json_decref(plan);
        checked++;
      }
      /* without the managed plugin nothing is advertised */
      json_t *plan = plan_for(s->name, pname, NULL, "Unmanaged", NULL);
      assert_int_equal(json_object_size(json_object_get(plan, "allocatable")), 0);
      json_decref(plan);
      plan = plan_for(s->name, pname, NULL, "Managed", "DRA");
      assert_int_equal(json_object_size(json_object_get(plan, "allocatable")), 0);
      json_decref(plan);
    }
  }
  assert_int_equal(checked, 12 * 5 * 4); /* 12 MIG-capable sizes in the catalog */
}

static void test_aks_docs_example(void **state) {
  (void)state;
  /* AKS MIG docs: Standard_ND96asr_v4 with MIG1g gives 56 instances */
  json_t *plan = plan_for("Standard_ND96asr_v4", "MIG1g", NULL, "Managed", NULL);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(plan, "allocatable"), "nvidia.com/gpu")), 56);
  json_decref(plan);
}

static void test_non_mig(void **state) {
  (void)state;
  static const struct {
    const char *size;
    int gpus;
  } cases[] = {{"Standard_NC64as_T4_v3", 4},
               {"Standard_ND40rs_v2", 8},
               {"Standard_NV6ads_A10_v5", 1},
               {"Standard_ND96isr_H200_v5", 8}};
  for (size_t i = 0; i < 4; i++) {
    char body[256];
    snprintf(body, sizeof body,
             "{\"properties\":{\"vmSize\":\"%s\",\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}}}",
             cases[i].size);
    gp_policy_context ctx = ctx_with_feature();
    gp_error err;
    gp_error_init(&err);
    gp_pool *p = put_text(&ctx, body, NULL, &err);
    assert_non_null(p);
    json_t *plan = gp_plan_build(p, &ctx, 7);
    assert_int_equal(json_integer_value(json_object_get(plan, "generation")), 7);
    json_t *alloc = json_object_get(plan, "allocatable");
    assert_int_equal(json_object_size(alloc), 1);
    assert_int_equal(json_integer_value(json_object_get(alloc, "nvidia.com/gpu")), cases[i].gpus);
    json_decref(plan);
    gp_pool_free(p);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_size_profile_strategy),
      cmocka_unit_test(test_aks_docs_example),
      cmocka_unit_test(test_non_mig),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
