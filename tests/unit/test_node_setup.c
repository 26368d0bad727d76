/* test_node_setup.c - gp_plan_node_setup, the one answer to "what runs on a node": the matrix cells
 * written out by hand, the plan builder listing exactly what it says for every catalog size and
 * GPU setting, and gp_plan_node_setup_from_json reading the same answer back (or refusing). */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "helpers.h"

static gp_pool *accept(const char *size, const char *settings) {
  char body[1024];
  snprintf(body, sizeof body, "{\"properties\":{\"vmSize\":\"%s\"%s%s}}", size, *settings ? "," : "", settings);
  gp_policy_context ctx = ctx_with_feature();
  gp_error err;
  gp_error_init(&err);
  gp_pool *p = put_text(&ctx, body, NULL, &err);
  gp_error_clear(&err);
  return p;
}

static void expect_setup(const gp_node_setup *got, const gp_node_setup *want, const char *what) {
  if (got->install != want->install || got->driver != want->driver || got->fabric_manager != want->fabric_manager ||
      got->mig_partition != want->mig_partition || got->device_plugin != want->device_plugin ||
      got->dra_driver != want->dra_driver || got->dcgm != want->dcgm || got->dcgm_exporter != want->dcgm_exporter ||
      got->plugin_strategy != want->plugin_strategy)
    fail_msg("%s: got install %d driver %d fm %d mig %d plugin %d dra %d dcgm %d exporter %d strategy %d; want "
             "install %d driver %d fm %d mig %d plugin %d dra %d dcgm %d exporter %d strategy %d",
             what, got->install, got->driver, got->fabric_manager, got->mig_partition, got->device_plugin,
             got->dra_driver, got->dcgm, got->dcgm_exporter, got->plugin_strategy, want->install, want->driver,
             want->fabric_manager, want->mig_partition, want->device_plugin, want->dra_driver, want->dcgm,
             want->dcgm_exporter, want->plugin_strategy);
}

/* The matrix cells and the MIG strategy, written from the contract rather than from the code. */
static void test_cells(void **state) {
  (void)state;
  const gp_install_set N = GP_INSTALL_NOTHING, D = GP_INSTALL_DRIVER, E = GP_INSTALL_EVERYTHING;
  const gp_mig_strategy U = GP_MIG_STRATEGY_UNSET, NO = GP_MIG_STRATEGY_NONE, S = GP_MIG_STRATEGY_SINGLE,
                        M = GP_MIG_STRATEGY_MIXED;
  static const char managed[] = "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}";
  const struct {
    const char *size, *settings;
    gp_node_setup want;
  } cases[] = {
      {"Standard_D4s_v5", "", {N, 0, 0, 0, 0, 0, 0, 0, U}},
      {"Standard_NC4as_T4_v3", "", {D, 1, 0, 0, 0, 0, 0, 0, U}},
      {"Standard_NC4as_T4_v3", managed, {E, 1, 0, 0, 1, 0, 1, 1, NO}},
      {"Standard_NC4as_T4_v3",
       "\"gpuProfile\":{\"driver\":\"None\",\"nvidia\":{\"managementMode\":\"Unmanaged\"}}",
       {N, 0, 0, 0, 0, 0, 0, 0, U}},
      {"Standard_NC4as_T4_v3",
       "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\",\"driverMode\":\"DRA\"}}",
       {E, 1, 0, 0, 0, 1, 1, 1, U}},
      {"Standard_NC4as_T4_v3", "\"osType\":\"Windows\"", {D, 1, 0, 0, 0, 0, 0, 0, U}},
      {"Standard_ND96isr_H100_v5", managed, {E, 1, 1, 0, 1, 0, 1, 1, NO}},
      {"Standard_ND96isr_H100_v5",
       "\"gpuInstanceProfile\":\"MIG1g\",\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}",
       {E, 1, 1, 1, 1, 0, 1, 1, S}},
      {"Standard_NC24ads_A100_v4",
       "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\",\"migStrategy\":\"None\",\"migProfiles\":"
       "[\"MIG3g\"]}}",
       {E, 1, 0, 1, 1, 0, 1, 1, S}},
      {"Standard_NC24ads_A100_v4",
       "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\",\"migStrategy\":\"Mixed\",\"migProfiles\":"
       "[\"MIG3g\",\"MIG2g\",\"MIG1g\"]}}",
       {E, 1, 0, 1, 1, 0, 1, 1, M}},
      {"Standard_NC24ads_A100_v4",
       "\"gpuInstanceProfile\":\"MIG2g\",\"gpuProfile\":{\"driver\":\"Install\",\"nvidia\":{\"managementMode\":"
       "\"Unmanaged\"}}",
       {D, 1, 0, 1, 0, 0, 0, 0, U}},
      {"Standard_ND96isr_MI300X_v5", "", {N, 0, 0, 0, 0, 0, 0, 0, U}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char what[1200];
    snprintf(what, sizeof what, "%s {%s}", cases[i].size, cases[i].settings);
    gp_pool *p = accept(cases[i].size, cases[i].settings);
    if (!p) fail_msg("%s refused", what);
    gp_node_setup got;
    gp_mig_layout layout;
    gp_plan_node_setup(p, &got, &layout);
    expect_setup(&got, &cases[i].want, what);
    if (got.mig_partition) assert_true(layout.count >= 1);
    gp_pool_free(p);
  }
}

/* For every catalog size and a spread of settings, the plan lists exactly what the setup says, and
 * reading the plan back gives the same setup. */
static void test_plan_round_trip(void **state) {
  (void)state;
  static const char *const settings[] = {
      "",
      "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}",
      "\"gpuProfile\":{\"driver\":\"Install\",\"nvidia\":{\"managementMode\":\"Unmanaged\"}}",
      "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\",\"driverMode\":\"DRA\"}}",
      "\"gpuInstanceProfile\":\"MIG1g\",\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}",
      "\"gpuInstanceProfile\":\"MIG3g\",\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\",\"migStrategy\":"
      "\"Mixed\"}}",
      "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\",\"migStrategy\":\"Mixed\",\"migProfiles\":"
      "[\"MIG3g\",\"MIG2g\",\"MIG1g\",\"MIG1g\"]}}",
      "\"gpuInstanceProfile\":\"MIG2g\",\"gpuProfile\":{\"driver\":\"Install\",\"nvidia\":{\"managementMode\":"
      "\"Unmanaged\"}}",
      "\"osType\":\"Windows\"",
  };
  gp_policy_context ctx = ctx_with_feature();
  int plans = 0, with_mig = 0;
  for (size_t i = 0; i < gp_catalog_vm_size_count(); i++) {
    for (size_t k = 0; k < sizeof settings / sizeof *settings; k++) {
      const char *size = gp_catalog_vm_size_at(i)->name;
      gp_pool *p = accept(size, settings[k]);
      if (!p) continue; /* not every setting fits every size */
      gp_node_setup want, got;
      gp_plan_node_setup(p, &want, NULL);
      json_t *plan = gp_plan_build(p, &ctx, 1);
      assert_non_null(plan);
      char what[1200];
      snprintf(what, sizeof what, "%s {%s}", size, settings[k]);
      if (!gp_plan_node_setup_from_json(plan, &got)) fail_msg("%s: the plan cannot be read back", what);
      expect_setup(&got, &want, what);
      /* the setup's MIG partitioning is the plan's migLayout, and its strategy the plan's label */
      assert_int_equal(want.mig_partition, !json_is_null(json_object_get(plan, "migLayout")));
      const char *label =
          json_string_value(json_object_get(json_object_get(plan, "nodeLabels"), "nvidia.com/mig.strategy"));
      if (want.device_plugin && want.mig_partition)
        assert_string_equal(label, gp_plugin_strategy_name(want.plugin_strategy));
      else
        assert_null(label);
      with_mig += want.mig_partition;
      plans++;
      json_decref(plan);
      gp_pool_free(p);
    }
  }
  assert_true(plans > 150); /* 34 sizes x 9 settings, less the ones a size refuses */
  assert_true(with_mig > 30);
}

static void expect_refused(const char *text) {
  json_error_t je;
  json_t *plan = json_loads(text, 0, &je);
  assert_non_null(plan);
  gp_node_setup s;
  memset(&s, 0xff, sizeof s);
  if (gp_plan_node_setup_from_json(plan, &s)) fail_msg("accepted: %s", text);
  assert_int_equal(s.install, GP_INSTALL_NOTHING);
  assert_false(s.driver);
  json_decref(plan);
}

static void test_from_json_refuses(void **state) {
  (void)state;
  expect_refused("[]");
  expect_refused("{}");
  expect_refused("{\"components\":{}}");
  expect_refused("{\"components\":[1]}");
  expect_refused("{\"components\":[{\"version\":\"1\"}]}");
  expect_refused("{\"components\":[{\"name\":\"nvidia-gpu-operator\"}]}");
  expect_refused("{\"components\":[{\"name\":\"nvidia-driver\"},{\"name\":\"nvidia-driver\"}]}");
  expect_refused("{\"components\":[{\"name\":\"nvidia-device-plugin\",\"args\":[\"--mig-strategy\",\"Single\"]}]}");
  expect_refused("{\"components\":[{\"name\":\"nvidia-device-plugin\",\"args\":[\"--mig-strategy\"]}]}");
  expect_refused("{\"components\":[{\"name\":\"nvidia-device-plugin\",\"args\":[\"--mig-strategy=sometimes\"]}]}");
  expect_refused("{\"components\":[{\"name\":\"nvidia-device-plugin\",\"args\":\"--mig-strategy=single\"}]}");
}

static void test_from_json_reads(void **state) {
  (void)state;
  json_error_t je;
  json_t *plan = json_loads("{\"components\":[{\"name\":\"nvidia-driver\"},{\"name\":\"nvidia-device-plugin\","
                            "\"args\":[\"--pass-device-specs\",\"--mig-strategy=mixed\"]}]}",
                            0, &je);
  gp_node_setup s;
  assert_true(gp_plan_node_setup_from_json(plan, &s));
  assert_int_equal(s.install, GP_INSTALL_EVERYTHING);
  assert_int_equal(s.plugin_strategy, GP_MIG_STRATEGY_MIXED);
  assert_false(s.dcgm);
  json_decref(plan);
  plan = json_loads("{\"components\":[{\"name\":\"nvidia-driver\"},{\"name\":\"mig-partition\"}]}", 0, &je);
  assert_true(gp_plan_node_setup_from_json(plan, &s));
  assert_int_equal(s.install, GP_INSTALL_DRIVER);
  assert_true(s.mig_partition);
  assert_int_equal(s.plugin_strategy, GP_MIG_STRATEGY_UNSET);
  json_decref(plan);
  plan = json_loads("{\"components\":[]}", 0, &je);
  assert_true(gp_plan_node_setup_from_json(plan, &s));
  assert_int_equal(s.install, GP_INSTALL_NOTHING);
  json_decref(plan);
  json_t *args = json_loads("[\"--mig-strategy\",\"single\"]", 0, &je);
  assert_string_equal(gp_plugin_strategy_of_args(args), GP_PLUGIN_STRATEGY_SINGLE);
  assert_string_equal(gp_plugin_strategy_of_args(NULL), GP_PLUGIN_STRATEGY_NONE);
  assert_null(gp_plugin_strategy_name(GP_MIG_STRATEGY_UNSET));
  json_decref(args);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cells),
      cmocka_unit_test(test_plan_round_trip),
      cmocka_unit_test(test_from_json_refuses),
      cmocka_unit_test(test_from_json_reads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
