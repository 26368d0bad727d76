/* test_plan_diff.c - gp_plan_diff, the disruption class of a plan change: each row of the class
 * table on small hand-written plans (the class written from the contract, not from the code), the
 * list of changes (paths, values, order), a node that has applied nothing, inputs that are not
 * plans, and properties over the plans the core builds for every catalog size in several settings:
 * a plan against itself is None with no change, the class is symmetric, gp_plan_disruption agrees
 * with gp_plan_diff, the class is the highest of the changes'. The table as a user runs it, through
 * the real CLI, is tests/diff/. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "helpers.h"

static json_t *parse(const char *text) {
  json_error_t je;
  json_t *v = json_loads(text, 0, &je);
  if (!v) fail_msg("bad test JSON: %s: %s", je.text, text);
  return v;
}

/* A small plan: a managed T4-like node, then the members the case overrides (a JSON object text
 * whose members replace the base's; null removes one). */
static json_t *plan_with(const char *overrides) {
  json_t *p = parse("{\"generation\":1,\"vmSize\":\"Standard_NC4as_T4_v3\",\"kubernetesVersion\":\"1.35.0\","
                    "\"osType\":\"Linux\",\"osSKU\":\"Ubuntu\",\"gpu\":{\"model\":\"T4-16GB\",\"count\":1},"
                    "\"effective\":{\"driverMode\":\"DevicePlugin\"},"
                    "\"components\":[{\"name\":\"nvidia-driver\",\"version\":\"580.159.04\"},"
                    "{\"name\":\"nvidia-device-plugin\",\"version\":\"0.19.3\",\"args\":[\"--pass-device-specs\"]},"
                    "{\"name\":\"nvidia-dcgm\",\"version\":\"4.5.3\"},"
                    "{\"name\":\"dcgm-exporter\",\"version\":\"4.8.2\",\"port\":19400}],"
                    "\"migLayout\":null,\"nodeLabels\":{\"kubernetes.azure.com/accelerator\":\"nvidia\"},"
                    "\"allocatable\":{\"nvidia.com/gpu\":1},\"decisions\":[{\"rule\":\"r\",\"reason\":\"why\"}],"
                    "\"warnings\":[]}");
  json_t *o = parse(overrides);
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    if (json_is_null(v) && strcmp(k, "migLayout") != 0)
      json_object_del(p, k);
    else
      json_object_set(p, k, v);
  }
  json_decref(o);
  return p;
}

/* A component list: the base's with entries replaced, added or removed. */
#define DRIVER "{\"name\":\"nvidia-driver\",\"version\":\"580.159.04\"}"
#define PLUGIN "{\"name\":\"nvidia-device-plugin\",\"version\":\"0.19.3\",\"args\":[\"--pass-device-specs\"]}"
#define DCGM "{\"name\":\"nvidia-dcgm\",\"version\":\"4.5.3\"}"
#define EXPORTER "{\"name\":\"dcgm-exporter\",\"version\":\"4.8.2\",\"port\":19400}"
#define DRA "{\"name\":\"nvidia-dra-driver\",\"version\":\"0.4.1\"}"
#define FM "{\"name\":\"nvidia-fabricmanager\",\"version\":\"580.159.04\"}"
#define MIGP(ids) "{\"name\":\"mig-partition\",\"args\":[\"-cgi\",\"" ids "\",\"-C\"]}"
#define COMPONENTS(list) "{\"components\":[" list "]}"

static const char *class_name(gp_disruption c) { return c ? gp_enum_name(&gp_disruption_names, c) : "UNSET"; }

/* The class of base+from_overrides -> base+to_overrides must be want, and the first change must be at
 * first_path (NULL: no change). */
static void expect_row(const char *row, const char *from_o, const char *to_o, gp_disruption want,
                       const char *first_path) {
  json_t *a = plan_with(from_o), *b = plan_with(to_o);
  gp_disruption got;
  json_t *d = gp_plan_diff(a, b, &got);
  assert_non_null(d);
  if (got != want) fail_msg("%s: class %s, want %s", row, class_name(got), class_name(want));
  assert_string_equal(json_string_value(json_object_get(d, "class")), class_name(want));
  json_t *changes = json_object_get(d, "changes");
  if (!first_path) {
    if (json_array_size(changes)) fail_msg("%s: changes listed where none was expected", row);
  } else {
    const char *p = json_string_value(json_object_get(json_array_get(changes, 0), "path"));
    if (!p || strcmp(p, first_path) != 0) fail_msg("%s: first change at '%s', want '%s'", row, p ? p : "-", first_path);
  }
  /* the class alone, and the other way round: the same */
  assert_int_equal(gp_plan_disruption(a, b), want);
  assert_int_equal(gp_plan_disruption(b, a), want);
  json_decref(d);
  json_decref(a);
  json_decref(b);
}

/* Each row of the table, written from the contract. */
static void test_rows(void **state) {
  (void)state;
  const gp_disruption N = GP_DISRUPTION_NONE, I = GP_DISRUPTION_IN_PLACE, R = GP_DISRUPTION_RESTART,
                      D = GP_DISRUPTION_DRAIN, B = GP_DISRUPTION_REBOOT;
  /* None */
  expect_row("same plan", "{}", "{}", N, NULL);
  expect_row("generation only", "{}", "{\"generation\":7}", N, "generation");
  expect_row("decisions' wording", "{}", "{\"decisions\":[{\"rule\":\"r\",\"reason\":\"other words\"}]}", N,
             "decisions");
  expect_row("warnings", "{}", "{\"warnings\":[\"advice\"]}", N, "warnings");
  expect_row("effective settings", "{}", "{\"effective\":{\"driverMode\":\"DevicePlugin\",\"x\":1}}", N, "effective");
  expect_row("allocatable", "{}", "{\"allocatable\":{\"nvidia.com/gpu\":2}}", N, "allocatable");
  expect_row("Kubernetes version", "{}", "{\"kubernetesVersion\":\"1.36.0\"}", N, "kubernetesVersion");
  expect_row("a member the format does not define", "{}", "{\"rollout\":{\"drainTimeoutInMinutes\":5}}", N, "rollout");
  expect_row("null is absent", "{\"nodeTaints\":null}", "{}", N, NULL);
  /* InPlace: labels and taints */
  expect_row("a label changes", "{}", "{\"nodeLabels\":{\"kubernetes.azure.com/accelerator\":\"amd\"}}", I,
             "nodeLabels[kubernetes.azure.com/accelerator]");
  expect_row("a label is added", "{}",
             "{\"nodeLabels\":{\"kubernetes.azure.com/accelerator\":\"nvidia\",\"team\":\"ml\"}}", I,
             "nodeLabels[team]");
  expect_row("taints", "{}", "{\"nodeTaints\":[\"sku=gpu:NoSchedule\"]}", I, "nodeTaints");
  /* Restart: versions and args of the GPU services, components added or removed */
  expect_row("device plugin version", "{}",
             COMPONENTS(DRIVER ","
                               "{\"name\":\"nvidia-device-plugin\",\"version\":\"0.20.0\",\"args\":[\"--pass-"
                               "device-specs\"]}"
                               "," DCGM "," EXPORTER),
             R, "components[nvidia-device-plugin].version");
  expect_row("device plugin args", "{}",
             COMPONENTS(DRIVER ","
                               "{\"name\":\"nvidia-device-plugin\",\"version\":\"0.19.3\"}"
                               "," DCGM "," EXPORTER),
             R, "components[nvidia-device-plugin].args");
  expect_row("DCGM version", "{}",
             COMPONENTS(DRIVER "," PLUGIN ","
                               "{\"name\":\"nvidia-dcgm\",\"version\":\"4.6\"}"
                               "," EXPORTER),
             R, "components[nvidia-dcgm].version");
  expect_row("exporter port", "{}",
             COMPONENTS(DRIVER "," PLUGIN "," DCGM ","
                               "{\"name\":\"dcgm-exporter\",\"version\":\"4.8.2\",\"port\":9400}"),
             R, "components[dcgm-exporter].port");
  expect_row("DRA driver version", COMPONENTS(DRIVER "," DRA "," DCGM "," EXPORTER),
             COMPONENTS(DRIVER ","
                               "{\"name\":\"nvidia-dra-driver\",\"version\":\"0.5.0\"}"
                               "," DCGM "," EXPORTER),
             R, "components[nvidia-dra-driver].version");
  expect_row("components removed (Managed -> Unmanaged)", "{}", COMPONENTS(DRIVER), R,
             "components[nvidia-device-plugin]");
  expect_row("fabric manager added", "{}", COMPONENTS(DRIVER "," FM "," PLUGIN "," DCGM "," EXPORTER), R,
             "components[nvidia-fabricmanager]");
  /* Drain: MIG layout, driver version, device plugin <-> DRA */
  expect_row("MIG layout", "{\"migLayout\":{\"perGpu\":[{\"profile\":\"1g.10gb\",\"count\":7}]}}",
             "{\"migLayout\":{\"perGpu\":[{\"profile\":\"2g.20gb\",\"count\":3}]}}", D, "migLayout");
  expect_row("mig-partition args", COMPONENTS(DRIVER "," MIGP("19,19") "," PLUGIN "," DCGM "," EXPORTER),
             COMPONENTS(DRIVER "," MIGP("14") "," PLUGIN "," DCGM "," EXPORTER), D, "components[mig-partition].args");
  expect_row("driver version", "{}",
             COMPONENTS("{\"name\":\"nvidia-driver\",\"version\":\"570.211.01\"}"
                        "," PLUGIN "," DCGM "," EXPORTER),
             D, "components[nvidia-driver].version");
  expect_row("fabric manager version follows the driver", COMPONENTS(DRIVER "," FM "," PLUGIN "," DCGM "," EXPORTER),
             COMPONENTS(DRIVER ","
                               "{\"name\":\"nvidia-fabricmanager\",\"version\":\"1\"}"
                               "," PLUGIN "," DCGM "," EXPORTER),
             D, "components[nvidia-fabricmanager].version");
  expect_row("DevicePlugin -> DRA", "{}", COMPONENTS(DRIVER "," DRA "," DCGM "," EXPORTER), D,
             "components[nvidia-dra-driver]");
  /* Reboot: MIG mode, driver installed or not, another machine */
  expect_row("MIG mode on", "{}",
             "{\"migLayout\":{\"perGpu\":[]},\"components\":[" DRIVER "," MIGP("19") "," PLUGIN "," DCGM "," EXPORTER
                                                                                     "]}",
             B, "components[mig-partition]");
  expect_row("driver removed", "{}", COMPONENTS(""), B, "components[nvidia-driver]");
  expect_row("another VM size", "{}", "{\"vmSize\":\"Standard_NC8as_T4_v3\"}", B, "vmSize");
  expect_row("another OS SKU", "{}", "{\"osSKU\":\"AzureLinux\"}", B, "osSKU");
  /* the highest wins: a label and the driver together */
  expect_row("label + driver version", "{}",
             "{\"nodeLabels\":{},\"components\":[{\"name\":\"nvidia-driver\",\"version\":\"1\"}," PLUGIN "," DCGM
             "," EXPORTER "]}",
             D, "components[nvidia-driver].version");
}

/* The list: every change with its path, both values and its class, in the plan's order. */
static void test_changes(void **state) {
  (void)state;
  json_t *a = plan_with("{}"),
         *b = plan_with("{\"generation\":2,\"nodeLabels\":{\"team\":\"ml\"},\"components\":[" DRIVER "," DCGM
                        "," EXPORTER "]}");
  json_t *d = gp_plan_diff(a, b, NULL);
  json_t *want = parse("{\"class\":\"Restart\",\"changes\":["
                       "{\"path\":\"components[nvidia-device-plugin]\",\"from\":" PLUGIN ",\"to\":null,"
                       "\"class\":\"Restart\"},"
                       "{\"path\":\"nodeLabels[kubernetes.azure.com/accelerator]\",\"from\":\"nvidia\",\"to\":null,"
                       "\"class\":\"InPlace\"},"
                       "{\"path\":\"nodeLabels[team]\",\"from\":null,\"to\":\"ml\",\"class\":\"InPlace\"},"
                       "{\"path\":\"generation\",\"from\":1,\"to\":2,\"class\":\"None\"}]}");
  if (!json_equal(d, want)) {
    char *got = json_dumps(d, JSON_COMPACT);
    fail_msg("diff: %s", got);
  }
  json_decref(want);
  json_decref(d);
  json_decref(a);
  json_decref(b);
}

/* A node that has applied nothing: what it is (VM size, GPU, OS, versions, generation) is not
 * compared; everything gpupool installs is new. */
static void test_from_nothing(void **state) {
  (void)state;
  json_t *gpu = plan_with("{}"), *cpu = parse("{\"generation\":3,\"vmSize\":\"Standard_D4s_v5\",\"gpu\":null,"
                                              "\"components\":[],\"migLayout\":null,\"nodeLabels\":{}}");
  json_t *d = gp_plan_diff(NULL, gpu, NULL);
  assert_string_equal(json_string_value(json_object_get(d, "class")), "Reboot"); /* the driver is installed */
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(d, "changes"), i, c) {
    const char *p = json_string_value(json_object_get(c, "path"));
    assert_true(json_is_null(json_object_get(c, "from")));
    assert_true(strcmp(p, "vmSize") != 0 && strcmp(p, "gpu") != 0 && strcmp(p, "generation") != 0 &&
                strcmp(p, "kubernetesVersion") != 0 && strcmp(p, "osSKU") != 0);
  }
  json_decref(d);
  /* a CPU node: nothing to install, nothing to do */
  d = gp_plan_diff(NULL, cpu, NULL);
  assert_string_equal(json_string_value(json_object_get(d, "class")), "None");
  assert_int_equal(json_array_size(json_object_get(d, "changes")), 0);
  json_decref(d);
  assert_int_equal(gp_plan_disruption(NULL, cpu), GP_DISRUPTION_NONE);
  json_decref(gpu);
  json_decref(cpu);
}

static void test_not_plans(void **state) {
  (void)state;
  json_t *plan = plan_with("{}"), *arr = json_array(), *str = json_string("plan");
  gp_disruption c = GP_DISRUPTION_REBOOT;
  assert_null(gp_plan_diff(plan, arr, &c));
  assert_int_equal(c, GP_DISRUPTION_UNSET);
  assert_null(gp_plan_diff(str, plan, &c));
  assert_null(gp_plan_diff(NULL, NULL, &c));
  assert_int_equal(gp_plan_disruption(plan, NULL), GP_DISRUPTION_UNSET);
  /* members of the wrong type are absent: compared, never trusted */
  json_t *odd = parse("{\"components\":\"x\",\"nodeLabels\":[1],\"migLayout\":7}");
  json_t *d = gp_plan_diff(odd, plan, &c);
  assert_non_null(d);
  assert_int_equal(c, GP_DISRUPTION_REBOOT);
  json_decref(d);
  json_decref(odd);
  json_decref(plan);
  json_decref(arr);
  json_decref(str);
}

static void test_same_content(void **state) {
  (void)state;
  json_t *a = plan_with("{}"), *b = plan_with("{\"generation\":9}"), *c = plan_with("{\"warnings\":[\"w\"]}"),
         *nogen = plan_with("{\"generation\":null}");
  assert_true(gp_plan_same_content(a, b));
  assert_true(gp_plan_same_content(a, a));
  assert_false(gp_plan_same_content(a, c));
  assert_false(gp_plan_same_content(a, nogen));
  assert_false(gp_plan_same_content(a, NULL));
  json_decref(a);
  json_decref(b);
  json_decref(c);
  json_decref(nogen);
}

/* Plans the core builds, for every catalog size under several settings. */
#define MAX_PLANS 400
static json_t *plans[MAX_PLANS];
static size_t nplans;

static void build_plans(void) {
  static const char *const settings[] = {
      "",
      "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}",
      "\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\",\"driverMode\":\"DRA\"}}",
      "\"gpuInstanceProfile\":\"MIG1g\",\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}",
      "\"gpuInstanceProfile\":\"MIG3g\",\"nodeTaints\":[\"sku=gpu:NoSchedule\"]",
      "\"gpuProfile\":{\"driver\":\"None\"},\"nodeLabels\":{\"team\":\"ml\"}",
  };
  gp_policy_context ctx = ctx_with_feature();
  nplans = 0;
  for (size_t i = 0; i < gp_catalog_vm_size_count() && nplans < MAX_PLANS; i++) {
    for (size_t k = 0; k < sizeof settings / sizeof *settings && nplans < MAX_PLANS; k++) {
      char body[1024];
      snprintf(body, sizeof body, "{\"properties\":{\"vmSize\":\"%s\"%s%s}}", gp_catalog_vm_size_at(i)->name,
               *settings[k] ? "," : "", settings[k]);
      gp_error err;
      gp_error_init(&err);
      gp_pool *p = put_text(&ctx, body, NULL, &err);
      gp_error_clear(&err);
      if (!p) continue; /* a setting the size does not take */
      plans[nplans] = gp_plan_build(p, &ctx, 1);
      assert_non_null(plans[nplans]);
      nplans++;
      gp_pool_free(p);
    }
  }
}

static gp_disruption highest_change(const json_t *d) {
  gp_disruption h = GP_DISRUPTION_NONE;
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(d, "changes"), i, c) {
    int v = gp_enum_parse(&gp_disruption_names, json_string_value(json_object_get(c, "class")));
    assert_true(v > 0);
    if (v > (int)h) h = (gp_disruption)v;
  }
  return h;
}

static void test_properties(void **state) {
  (void)state;
  build_plans();
  assert_true(nplans >= 60);
  size_t classes[GP_DISRUPTION_REBOOT + 1] = {0};
  for (size_t i = 0; i < nplans; i++) {
    gp_disruption c;
    json_t *d = gp_plan_diff(plans[i], plans[i], &c);
    assert_int_equal(c, GP_DISRUPTION_NONE);
    assert_int_equal(json_array_size(json_object_get(d, "changes")), 0);
    json_decref(d);
    d = gp_plan_diff(NULL, plans[i], &c);
    assert_int_equal(c, highest_change(d));
    json_decref(d);
    for (size_t j = i; j < nplans; j++) { /* each pair once: both directions are checked */
      d = gp_plan_diff(plans[i], plans[j], &c);
      assert_non_null(d);
      assert_int_equal(c, highest_change(d));
      assert_int_equal(c, gp_plan_disruption(plans[i], plans[j]));
      assert_int_equal(c, gp_plan_disruption(plans[j], plans[i])); /* symmetric */
      assert_true(i == j || json_array_size(json_object_get(d, "changes")) > 0 || json_equal(plans[i], plans[j]));
      classes[c]++;
      json_decref(d);
    }
  }
  /* the pairs reach every class */
  for (int c = GP_DISRUPTION_NONE; c <= GP_DISRUPTION_REBOOT; c++)
    if (!classes[c]) fail_msg("no pair of catalog plans is %s", class_name((gp_disruption)c));
  for (size_t i = 0; i < nplans; i++)
    json_decref(plans[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rows),      cmocka_unit_test(test_changes),      cmocka_unit_test(test_from_nothing),
      cmocka_unit_test(test_not_plans), cmocka_unit_test(test_same_content), cmocka_unit_test(test_properties),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
