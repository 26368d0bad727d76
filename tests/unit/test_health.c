/* test_health.c - GPU health in the core: every row of data/xid.csv is found with its facts and
 * the class its bucket asks for, the Xids users meet most get the class the catalog gives them,
 * unknown Xids are ResetRequired, and observations (lost, Xid classes, ECC, row remapping, retired
 * pages, clock slowdowns) become Healthy/Degraded/Failed with their reasons and taint value. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpupool/gpupool.h"
#include "helpers.h"

static gp_health_class class_of_bucket(const char *bucket, gp_health_class stated) {
  if (!strcmp(bucket, "RESTART_APP") || !strcmp(bucket, "IGNORE")) return GP_HEALTH_CLASS_APPLICATION;
  if (!strcmp(bucket, "RESET_GPU")) return GP_HEALTH_CLASS_RESET_REQUIRED;
  if (!strcmp(bucket, "RESTART_VM") || !strcmp(bucket, "RESTART_BM") || !strcmp(bucket, "CONTACT_SUPPORT"))
    return GP_HEALTH_CLASS_FATAL;
  return stated; /* workflow buckets: the data file says */
}

static void test_every_csv_row(void **state) {
  (void)state;
  FILE *f = fopen("data/xid.csv", "r");
  assert_non_null(f);
  char line[1024], *field[6];
  int rows = 0;
  bool header = false;
  unsigned last = 0;
  while (csv_row(f, line, sizeof line, &header, field, 6)) {
    assert_non_null(field[5]);
    unsigned xid = (unsigned)atoi(field[0]);
    assert_true(xid > last);
    last = xid;
    const gp_xid_info *x = gp_xid_lookup(xid);
    assert_non_null(x);
    assert_int_equal(x->xid, xid);
    assert_string_equal(x->mnemonic, field[1]);
    assert_string_equal(x->description, field[2]);
    assert_string_equal(x->bucket, field[3]);
    gp_health_class c;
    assert_true(gp_health_class_parse(field[4], &c));
    assert_int_equal(x->cls, c);
    assert_int_equal(x->cls, class_of_bucket(x->bucket, c));
    assert_string_equal(x->source, "https://docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html");
    assert_int_equal(gp_xid_class(xid), c);
    rows++;
  }
  fclose(f);
  assert_int_equal(rows, (int)gp_xid_count());
  assert_true(rows >= 90);
  assert_ptr_equal(gp_xid_at(0), gp_xid_lookup(gp_xid_at(0)->xid));
  assert_null(gp_xid_at(gp_xid_count()));
}

static void test_common_xids(void **state) {
  (void)state;
  /* the application's own faults */
  unsigned app[] = {13, 31, 43, 45, 63, 92, 94};
  for (size_t i = 0; i < sizeof app / sizeof *app; i++)
    assert_int_equal(gp_xid_class(app[i]), GP_HEALTH_CLASS_APPLICATION);
  /* a GPU reset clears them */
  unsigned reset[] = {46, 48, 62, 64, 74, 95, 109, 119, 120, 140};
  for (size_t i = 0; i < sizeof reset / sizeof *reset; i++)
    assert_int_equal(gp_xid_class(reset[i]), GP_HEALTH_CLASS_RESET_REQUIRED);
  /* only a restart of the machine */
  assert_int_equal(gp_xid_class(79), GP_HEALTH_CLASS_FATAL);
  assert_string_equal(gp_xid_lookup(79)->bucket, "RESTART_BM");
  assert_string_equal(gp_xid_lookup(79)->mnemonic, "ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS");
  assert_int_equal(gp_xid_class(151), GP_HEALTH_CLASS_FATAL);
}

static void test_unknown_xids(void **state) {
  (void)state;
  /* placeholders the catalog marks unused, Xids past its end, 0 */
  unsigned unknown[] = {0, 1, 16, 42, 90, 162, 172, 999, 65535, 4000000000u};
  for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
    assert_null(gp_xid_lookup(unknown[i]));
    assert_int_equal(gp_xid_class(unknown[i]), GP_HEALTH_CLASS_RESET_REQUIRED);
  }
}

static void test_names(void **state) {
  (void)state;
  assert_string_equal(gp_health_class_name(GP_HEALTH_CLASS_APPLICATION), "Application");
  assert_string_equal(gp_health_class_name(GP_HEALTH_CLASS_RESET_REQUIRED), "ResetRequired");
  assert_string_equal(gp_health_class_name(GP_HEALTH_CLASS_FATAL), "Fatal");
  assert_string_equal(gp_health_state_name(GP_HEALTH_HEALTHY), "Healthy");
  assert_string_equal(gp_health_state_name(GP_HEALTH_DEGRADED), "Degraded");
  assert_string_equal(gp_health_state_name(GP_HEALTH_FAILED), "Failed");
  gp_health s;
  gp_health_class c;
  assert_true(gp_health_state_parse("Failed", &s) && s == GP_HEALTH_FAILED);
  assert_false(gp_health_state_parse("failed", &s));
  assert_false(gp_health_state_parse(NULL, &s));
  assert_true(gp_health_class_parse("ResetRequired", &c) && c == GP_HEALTH_CLASS_RESET_REQUIRED);
  assert_false(gp_health_class_parse("Reset", &c));
  assert_int_equal(gp_health_class_state(GP_HEALTH_CLASS_APPLICATION), GP_HEALTH_HEALTHY);
  assert_int_equal(gp_health_class_state(GP_HEALTH_CLASS_RESET_REQUIRED), GP_HEALTH_DEGRADED);
  assert_int_equal(gp_health_class_state(GP_HEALTH_CLASS_FATAL), GP_HEALTH_FAILED);
}

static gp_gpu_health eval(const gp_gpu_observation *o) {
  gp_gpu_health h;
  gp_health_evaluate_gpu(o, &h);
  return h;
}

static void test_observations(void **state) {
  (void)state;
  gp_gpu_observation o;
  gp_gpu_health h;

  gp_gpu_observation_init(&o); /* nothing known: nothing wrong */
  h = eval(&o);
  assert_int_equal(h.state, GP_HEALTH_HEALTHY);
  assert_int_equal(h.nreasons, 0);
  assert_string_equal(h.taint_value, "");

  gp_gpu_observation_init(&o);
  o.ecc_uncorrected_volatile = 0;
  o.remap_pending = o.remap_failure = o.retired_pages_pending = 0;
  o.clock_event_reasons = 0x1 | 0x2 | 0x4 | 0x10; /* idle, app clocks, power cap, sync boost: normal */
  h = eval(&o);
  assert_int_equal(h.state, GP_HEALTH_HEALTHY);
  assert_int_equal(h.nreasons, 0);

  gp_gpu_observation_init(&o);
  o.lost = true;
  h = eval(&o);
  assert_int_equal(h.state, GP_HEALTH_FAILED);
  assert_int_equal(h.worst, GP_HEALTH_CLASS_FATAL);
  assert_string_equal(h.taint_value, "gpu-lost");
  assert_non_null(strstr(h.reasons[0], "GPU_IS_LOST"));

  gp_gpu_observation_init(&o);
  o.fatal_xid = 79;
  o.ecc_uncorrected_volatile = 3;
  h = eval(&o);
  assert_int_equal(h.state, GP_HEALTH_FAILED);
  assert_string_equal(h.taint_value, "79");
  assert_int_equal(h.nreasons, 2);
  assert_non_null(strstr(h.reasons[0], "Xid 79 ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS"));
  assert_non_null(strstr(h.reasons[1], "3 uncorrectable ECC errors"));

  gp_gpu_observation_init(&o);
  o.remap_failure = 1;
  h = eval(&o);
  assert_int_equal(h.state, GP_HEALTH_FAILED);
  assert_string_equal(h.taint_value, "row-remap-failure");

  gp_gpu_observation_init(&o);
  o.reset_xid = 48;
  h = eval(&o);
  assert_int_equal(h.state, GP_HEALTH_DEGRADED);
  assert_int_equal(h.worst, GP_HEALTH_CLASS_RESET_REQUIRED);
  assert_string_equal(h.taint_value, "");
  assert_non_null(strstr(h.reasons[0], "Xid 48"));

  gp_gpu_observation_init(&o);
  o.reset_xid = 4242; /* not in the catalog */
  h = eval(&o);
  assert_int_equal(h.state, GP_HEALTH_DEGRADED);
  assert_non_null(strstr(h.reasons[0], "not in the Xid catalog"));

  gp_gpu_observation_init(&o);
  o.ecc_uncorrected_volatile = 1;
  h = eval(&o);
  assert_int_equal(h.state, GP_HEALTH_DEGRADED);
  assert_non_null(strstr(h.reasons[0], "1 uncorrectable ECC error since"));

  gp_gpu_observation_init(&o);
  o.remap_pending = 1;
  h = eval(&o);
  assert_int_equal(h.state, GP_HEALTH_DEGRADED);
  assert_non_null(strstr(h.reasons[0], "row remapping pending"));

  gp_gpu_observation_init(&o);
  o.retired_pages_pending = 1;
  assert_int_equal(eval(&o).state, GP_HEALTH_DEGRADED);

  gp_gpu_observation_init(&o);
  o.clock_event_reasons = 0x40 | 0x4;
  h = eval(&o);
  assert_int_equal(h.state, GP_HEALTH_DEGRADED);
  assert_int_equal(h.nreasons, 1);
  assert_non_null(strstr(h.reasons[0], "HW thermal slowdown"));
  o.clock_event_reasons = GP_CLOCKS_SLOWDOWN_MASK;
  assert_int_equal(eval(&o).nreasons, 4);

  /* every reason fits, the list is capped */
  gp_gpu_observation_init(&o);
  o.lost = true;
  o.fatal_xid = 79;
  o.remap_failure = o.remap_pending = o.retired_pages_pending = 1;
  o.reset_xid = 119;
  o.ecc_uncorrected_volatile = 9;
  o.clock_event_reasons = GP_CLOCKS_SLOWDOWN_MASK;
  h = eval(&o);
  assert_int_equal(h.nreasons, GP_HEALTH_MAX_REASONS);
  assert_string_equal(h.taint_value, "gpu-lost");
}

static void test_node(void **state) {
  (void)state;
  gp_health g[] = {GP_HEALTH_HEALTHY, GP_HEALTH_DEGRADED, GP_HEALTH_HEALTHY};
  assert_int_equal(gp_health_node(g, 3, 0), GP_HEALTH_DEGRADED);
  assert_int_equal(gp_health_node(g, 1, 0), GP_HEALTH_HEALTHY);
  assert_int_equal(gp_health_node(g, 3, 1), GP_HEALTH_FAILED);
  assert_int_equal(gp_health_node(NULL, 0, 0), GP_HEALTH_HEALTHY);
  gp_health f[] = {GP_HEALTH_HEALTHY, GP_HEALTH_FAILED};
  assert_int_equal(gp_health_node(f, 2, 0), GP_HEALTH_FAILED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_csv_row), cmocka_unit_test(test_common_xids),  cmocka_unit_test(test_unknown_xids),
      cmocka_unit_test(test_names),         cmocka_unit_test(test_observations), cmocka_unit_test(test_node),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
