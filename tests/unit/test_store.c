/* test_store.c - the storage form of an agent pool, field by field: starting from a document the
 * core wrote, each field corrupted (or removed, where it is required) on its own must make
 * gp_pool_from_store refuse the document with a 500, never load a pool with a field silently
 * defaulted; optional fields may be absent. test_model.c covers whole documents that are not pools. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "helpers.h"

static json_t *stored_pool(void) {
  gp_policy_context ctx = ctx_with_feature();
  gp_pool *p =
      put_accepted(&ctx,
                   "{\"name\":\"gpu\",\"zones\":[1],\"properties\":{\"vmSize\":\"Standard_NC24ads_A100_v4\","
                   "\"orchestratorVersion\":\"1.36.1\",\"nodeLabels\":{\"a\":\"b\"},\"nodeTaints\":[\"k:NoSchedule\"],"
                   "\"tags\":{\"t\":\"v\"},\"extraThing\":1,\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\","
                   "\"migStrategy\":\"Mixed\",\"migProfiles\":[\"MIG3g\",\"MIG2g\"]}}}}",
                   NULL);
  json_t *doc = gp_pool_to_store(p);
  gp_pool_free(p);
  assert_non_null(doc);
  return doc;
}

static bool loads(const json_t *doc) {
  gp_error err;
  gp_error_init(&err);
  gp_pool *p = gp_pool_from_store(doc, &err);
  bool ok = p != NULL;
  if (!ok) {
    assert_int_equal(err.status, 500);
    assert_string_equal(err.items[0].code, "InternalServerError");
  }
  gp_pool_free(p);
  gp_error_clear(&err);
  return ok;
}

/* doc with the member at "a" or "a/b" set to v (NULL: removed). */
static json_t *with(const json_t *doc, const char *path, json_t *v) {
  json_t *d = json_deep_copy(doc);
  char key[64];
  snprintf(key, sizeof key, "%s", path);
  json_t *o = d;
  char *slash = strchr(key, '/');
  if (slash) {
    *slash = '\0';
    o = json_object_get(d, key);
    memmove(key, slash + 1, strlen(slash + 1) + 1);
  }
  assert_non_null(o);
  if (v)
    json_object_set_new(o, key, v);
  else
    json_object_del(o, key);
  return d;
}

static void test_each_field_corrupted(void **state) {
  (void)state;
  json_t *doc = stored_pool();
  assert_true(loads(doc));
  assert_int_equal(json_integer_value(json_object_get(doc, "v")), 1); /* the storage format's version */
  static const struct {
    const char *path;
    const char *json; /* the bad value; NULL = the member removed */
  } bad[] = {
      {"name", "1"},
      {"vmSize", "[]"},
      {"vmSize", NULL},
      {"orchestratorVersion", "136"},
      {"count", "\"3\""},
      {"count", NULL},
      {"nodeLabels", "[]"},
      {"nodeTaints", "{}"},
      {"tags", "\"t\""},
      {"extra", "[]"},
      {"extraTop", "7"},
      {"kubernetesVersion", "\"1.x\""},
      {"kubernetesVersion", NULL},
      {"osType", "\"Plan9\""},
      {"osType", NULL},
      {"osSKU", "\"Plan9\""},
      {"osSKU", "3"},
      {"mode", "\"Sometimes\""},
      {"mode", NULL},
      {"declared", "[]"},
      {"declared", NULL},
      {"effective", "\"x\""},
      {"declared/driver", "\"Maybe\""},
      {"declared/driverType", "\"Maybe\""},
      {"declared/managementMode", "\"Maybe\""},
      {"effective/driverMode", "\"Maybe\""},
      {"effective/migStrategy", "1"},
      {"effective/gpuInstanceProfile", "\"MIG9g\""},
      {"effective/migProfiles", "[]"},
      {"effective/migProfiles", "[\"MIG1g\",\"MIG9g\"]"},
      {"effective/migProfiles",
       "[\"MIG1g\",\"MIG1g\",\"MIG1g\",\"MIG1g\",\"MIG1g\",\"MIG1g\",\"MIG1g\",\"MIG1g\",\"MIG1g\",\"MIG1g\",\"MIG1g\","
       "\"MIG1g\",\"MIG1g\",\"MIG1g\",\"MIG1g\",\"MIG1g\",\"MIG1g\"]"},
      {"sources/driver", "\"nowhere\""},
      {"sources/managementMode", "\"nowhere\""},
      {"sources/driverMode", "\"nowhere\""},
      {"sources/migStrategy", "\"nowhere\""},
      {"sources", "[]"},
      {"sources", NULL},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    json_t *v = bad[i].json ? json_loads(bad[i].json, JSON_DECODE_ANY, NULL) : NULL;
    json_t *d = with(doc, bad[i].path, v);
    if (loads(d)) fail_msg("a stored pool with %s = %s loaded", bad[i].path, bad[i].json ? bad[i].json : "(removed)");
    json_decref(d);
  }
  /* optional members may be missing */
  static const char *const optional[] = {"name",
                                         "orchestratorVersion",
                                         "nodeLabels",
                                         "nodeTaints",
                                         "tags",
                                         "extra",
                                         "extraTop",
                                         "legacyTag",
                                         "declared/driver",
                                         "effective/migProfiles",
                                         "sources/driver"};
  for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) {
    json_t *d = with(doc, optional[i], NULL);
    if (!loads(d)) fail_msg("a stored pool without %s was refused", optional[i]);
    json_decref(d);
  }
  json_decref(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_field_corrupted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
