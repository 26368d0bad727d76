/* test_cluster_parse.c - the managed cluster body: every malformed shape is refused with its own code
 * and the JSON path of the offending field (several at once are all listed), what may not change
 * after creation, and the GET view and storage form (declared versus effective Kubernetes version,
 * unknown members kept). The CLI only reads a cluster body for its settings, so these are reached
 * through the library. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

typedef struct {
  const char *body;
  const char *code, *target; /* the first violation; target NULL: none */
  const char *says;          /* text of its message */
} refusal;

/* A string of n copies of c, as JSON text ("xxx…"). */
static char *long_string(size_t n, char c) {
  char *s = malloc(n + 3);
  assert_non_null(s);
  s[0] = '"';
  memset(s + 1, c, n);
  s[n + 1] = '"';
  s[n + 2] = '\0';
  return s;
}

static void expect_refusal(const gp_policy_context *ctx, const refusal *r, const gp_cluster *old) {
  gp_error err;
  gp_error_init(&err);
  gp_cluster_result *res = put_cluster(ctx, r->body, old, NULL, 0, &err);
  if (res) fail_msg("accepted: %s", r->body);
  if (err.count == 0) fail_msg("refused without a violation: %s", r->body);
  if (err.oom) fail_msg("a refusal reported as out of memory: %s", r->body);
  if (strcmp(err.items[0].code, r->code) != 0) fail_msg("%s: code %s, want %s", r->body, err.items[0].code, r->code);
  if (r->target ? !err.items[0].target || strcmp(err.items[0].target, r->target) != 0 : err.items[0].target != NULL)
    fail_msg("%s: target %s, want %s", r->body, err.items[0].target ? err.items[0].target : "(none)",
             r->target ? r->target : "(none)");
  if (r->says && !strstr(err.items[0].message, r->says))
    fail_msg("%s: message '%s' lacks '%s'", r->body, err.items[0].message, r->says);
  gp_error_clear(&err);
}

static void test_malformed_cluster_bodies(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  static const refusal cases[] = {
      {"[]", "InvalidRequestContent", NULL, "must be a JSON object, not an array"},
      {"{\"location\":1}", "InvalidParameter", "location", "must be a string, not a number"},
      {"{\"name\":true,\"location\":\"eastus\"}", "InvalidParameter", "name", "must be a string"},
      {"{\"properties\":{}}", "InvalidParameter", "location", "'location' is required"},
      {"{\"location\":\"\"}", "InvalidParameter", "location", "'location' is required"},
      {"{\"location\":\"eastus\",\"tags\":[]}", "InvalidParameter", "tags", "must be an object of strings"},
      {"{\"location\":\"eastus\",\"tags\":{\"a\":1}}", "InvalidParameter", "tags", "values must be strings"},
      {"{\"location\":\"eastus\",\"properties\":[]}", "InvalidParameter", "properties",
       "'properties' must be an object, not an array"},
      {"{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":135}}", "InvalidParameter",
       "properties.kubernetesVersion", "must be a string"},
      {"{\"location\":\"eastus\",\"properties\":{\"dnsPrefix\":[]}}", "InvalidParameter", "properties.dnsPrefix",
       "must be a string"},
      {"{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":1}}", "InvalidParameter", "properties.gpuProfile",
       "must be an object, not a number"},
      {"{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"driver\":\"None\"}}}", "InvalidParameter",
       "properties.gpuProfile.driver", "only sets the default 'nvidia.managementMode'"},
      {"{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":[]}}}", "InvalidParameter",
       "properties.gpuProfile.nvidia", "must be an object, not an array"},
      {"{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":{\"migStrategy\":\"None\"}}}}",
       "InvalidParameter", "properties.gpuProfile.nvidia.migStrategy", "only sets the default 'managementMode'"},
      {"{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Auto\"}}}}",
       "InvalidParameter", "properties.gpuProfile.nvidia.managementMode", "'Managed' or 'Unmanaged'"},
      {"{\"location\":\"eastus\",\"properties\":{\"agentPoolProfiles\":{}}}", "InvalidParameter",
       "properties.agentPoolProfiles", "must be an array of agent pools, not an object"},
      {"{\"location\":\"eastus\",\"properties\":{\"agentPoolProfiles\":[7]}}", "InvalidParameter",
       "properties.agentPoolProfiles[0]", "'properties.agentPoolProfiles[0]' must be an object, not a number."},
      {"{\"location\":\"eastus\",\"properties\":{\"agentPoolProfiles\":[{\"vmSize\":\"Standard_D4s_v5\"}]}}",
       "InvalidParameter", "properties.agentPoolProfiles[0].name", "needs a 'name'"},
      {"{\"location\":\"eastus\",\"properties\":{\"agentPoolProfiles\":[{\"name\":\"a\",\"vmSize\":\"Standard_D4s_"
       "v5\"},{\"name\":\"a\",\"vmSize\":\"Standard_D4s_v5\"}]}}",
       "InvalidParameter", "properties.agentPoolProfiles[1].name", "listed twice"},
      {"{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.x\"}}", "InvalidOrchestratorVersion",
       "properties.kubernetesVersion", "'1.x' is not a Kubernetes version"},
      {"{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.32\"}}", "InvalidOrchestratorVersion",
       "properties.kubernetesVersion", "Supported versions are 1.33 to 1.37"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_refusal(&ctx, &cases[i], NULL);

  /* the gpuProfile of a cluster exists only in preview api-versions */
  gp_policy_context stable = ctx;
  stable.api = GP_API_STABLE;
  refusal gated = {"{\"location\":\"eastus\",\"properties\":{\"gpuProfile\":{\"nvidia\":{\"managementMode\":"
                   "\"Managed\"}}}}",
                   "InvalidParameter", "properties.gpuProfile", "2026-08-02-preview"};
  expect_refusal(&stable, &gated, NULL);

  /* every problem of one body is listed, in the order of the body's fields */
  gp_error err;
  gp_error_init(&err);
  assert_null(put_cluster(&ctx,
                          "{\"name\":1,\"location\":\"eastus\",\"tags\":[],\"properties\":{\"dnsPrefix\":2,"
                          "\"agentPoolProfiles\":{}}}",
                          NULL, NULL, 0, &err));
  assert_int_equal(err.count, 4);
  assert_string_equal(err.items[0].target, "name");
  assert_string_equal(err.items[1].target, "tags");
  assert_string_equal(err.items[2].target, "properties.dnsPrefix");
  assert_string_equal(err.items[3].target, "properties.agentPoolProfiles");
  gp_error_clear(&err);
}

static void test_cluster_limits(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  static const struct {
    const char *before, *after; /* the body around the value */
    const char *target;
    size_t max;
  } limits[] = {
      {"{\"location\":", "}", "location", 64},
      {"{\"location\":\"eastus\",\"properties\":{\"dnsPrefix\":", "}}", "properties.dnsPrefix", 54},
      {"{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":", "}}", "properties.kubernetesVersion", 32},
      {"{\"location\":\"eastus\",\"name\":", "}", "name", 256},
  };
  char body[1024];
  for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
    for (size_t n = limits[i].max; n <= limits[i].max + 1; n++) {
      char *value = long_string(n, '1');
      snprintf(body, sizeof body, "%s%s%s", limits[i].before, value, limits[i].after);
      free(value);
      json_t *j = json_loads(body, 0, NULL);
      assert_non_null(j);
      gp_error err;
      gp_error_init(&err);
      gp_cluster_request *r = gp_cluster_request_parse(j, ctx.api, true, &err);
      if (n == limits[i].max && !r)
        fail_msg("%s: %zu characters refused: %s", limits[i].target, n, err.items[0].message);
      if (n > limits[i].max) {
        if (r) fail_msg("%s: %zu characters accepted", limits[i].target, n);
        assert_string_equal(err.items[0].target, limits[i].target);
        char at_most[32];
        snprintf(at_most, sizeof at_most, "at most %zu", limits[i].max);
        assert_non_null(strstr(err.items[0].message, at_most));
      }
      gp_cluster_request_free(r);
      gp_error_clear(&err);
      json_decref(j);
    }
  }
  /* 50 tags and 100 pools at most */
  for (size_t n = 50; n <= 51; n++) {
    json_t *b = json_pack("{s:s,s:{}}", "location", "eastus", "tags");
    for (size_t k = 0; k < n; k++) {
      char key[16];
      snprintf(key, sizeof key, "t%zu", k);
      json_object_set_new(json_object_get(b, "tags"), key, json_string("v"));
    }
    gp_error err;
    gp_error_init(&err);
    gp_cluster_request *r = gp_cluster_request_parse(b, ctx.api, true, &err);
    assert_true(n == 50 ? r != NULL : r == NULL);
    if (!r) assert_string_equal(err.items[0].target, "tags");
    gp_cluster_request_free(r);
    gp_error_clear(&err);
    json_decref(b);
  }
  for (size_t n = 100; n <= 101; n++) {
    json_t *b = json_pack("{s:s,s:{s:[]}}", "location", "eastus", "properties", "agentPoolProfiles");
    json_t *list = json_object_get(json_object_get(b, "properties"), "agentPoolProfiles");
    for (size_t k = 0; k < n; k++) {
      char name[16];
      snprintf(name, sizeof name, "p%zu", k);
      json_array_append_new(list, json_pack("{s:s,s:s}", "name", name, "vmSize", "Standard_D4s_v5"));
    }
    gp_error err;
    gp_error_init(&err);
    gp_cluster_request *r = gp_cluster_request_parse(b, ctx.api, true, &err);
    if (n == 100) {
      assert_non_null(r);
      assert_int_equal(r->pool_count, 100);
    } else {
      assert_null(r);
      assert_string_equal(err.items[0].target, "properties.agentPoolProfiles");
      assert_non_null(strstr(err.items[0].message, "at most 100"));
    }
    gp_cluster_request_free(r);
    gp_error_clear(&err);
    json_decref(b);
  }
}

static void test_cluster_updates(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  gp_error err;
  gp_error_init(&err);
  gp_cluster_result *c = put_cluster(
      &ctx, "{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.36\",\"dnsPrefix\":\"dns1\"}}", NULL,
      NULL, 0, &err);
  assert_non_null(c);
  static const refusal cases[] = {
      {"{\"location\":\"westus\"}", "PropertyChangeNotAllowed", "location", "stays in the region"},
      {"{\"properties\":{\"dnsPrefix\":\"dns2\"}}", "PropertyChangeNotAllowed", "properties.dnsPrefix", NULL},
      {"{\"properties\":{\"kubernetesVersion\":\"1.35\"}}", "InvalidOrchestratorVersion",
       "properties.kubernetesVersion", "lower than the cluster's current version 1.36.0"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_refusal(&ctx, &cases[i], c->cluster);
  /* the same location in another case, the same dnsPrefix, no location at all, an upgrade: fine */
  static const char *const fine[] = {"{\"location\":\"EastUS\"}", "{\"properties\":{\"dnsPrefix\":\"dns1\"}}",
                                     "{\"tags\":{\"a\":\"b\"}}", "{\"properties\":{\"kubernetesVersion\":\"1.37\"}}"};
  for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
    gp_cluster_result *r = put_cluster(&ctx, fine[i], c->cluster, NULL, 0, &err);
    if (!r) fail_msg("%s refused: %s", fine[i], err.items[0].message);
    gp_cluster_result_free(r);
  }
  gp_cluster_result_free(c);
}

/* properties.<key> of a cluster GET as a string, or NULL. */
static const char *prop(json_t *view, const char *key) {
  return json_string_value(json_object_get(json_object_get(view, "properties"), key));
}

static void test_cluster_view_and_store(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  static const struct {
    const char *body;
    const char *shown, *current; /* properties.kubernetesVersion and currentKubernetesVersion */
  } cases[] = {
      {"{\"name\":\"c1\",\"location\":\"eastus\",\"zones\":[1],\"properties\":{\"dnsPrefix\":\"d\",\"extra\":true}}",
       "1.35", "1.35.0"},
      {"{\"name\":\"c1\",\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.36.3\"}}", "1.36.3",
       "1.36.3"},
      {"{\"name\":\"c1\",\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.37\",\"gpuProfile\":{"
       "\"nvidia\":{\"managementMode\":\"unmanaged\"}}}}",
       "1.37", "1.37.0"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    gp_error err;
    gp_error_init(&err);
    gp_cluster_result *c = put_cluster(&ctx, cases[i].body, NULL, NULL, 0, &err);
    assert_non_null(c);
    json_t *view = gp_cluster_to_json(c->cluster, NULL, 0, GP_API_PREVIEW);
    assert_string_equal(prop(view, "kubernetesVersion"), cases[i].shown);
    assert_string_equal(prop(view, "currentKubernetesVersion"), cases[i].current);
    assert_string_equal(json_string_value(json_object_get(view, "name")), "c1");
    assert_string_equal(json_string_value(json_object_get(view, "location")), "eastus");
    /* the storage form reads back into the same cluster: same GET, same storage form */
    json_t *doc = gp_cluster_to_store(c->cluster);
    assert_int_equal(json_integer_value(json_object_get(doc, "v")), 1); /* the storage format's version */
    gp_cluster *back = gp_cluster_from_store(doc, &err);
    assert_non_null(back);
    json_t *doc2 = gp_cluster_to_store(back), *view2 = gp_cluster_to_json(back, NULL, 0, GP_API_PREVIEW);
    assert_true(json_equal(doc, doc2));
    assert_true(json_equal(view, view2));
    /* ... and so does a copy */
    gp_cluster *copy = gp_cluster_clone(back);
    json_t *view3 = gp_cluster_to_json(copy, NULL, 0, GP_API_PREVIEW);
    assert_true(json_equal(view, view3));
    if (i == 0) {
      assert_non_null(json_object_get(view, "zones"));
      assert_true(json_is_true(json_object_get(json_object_get(view, "properties"), "extra")));
      assert_null(json_object_get(json_object_get(view, "properties"), "gpuProfile"));
    }
    if (i == 2) {
      json_t *nv = json_object_get(json_object_get(json_object_get(view, "properties"), "gpuProfile"), "nvidia");
      assert_string_equal(json_string_value(json_object_get(nv, "managementMode")), "Unmanaged");
      json_t *stable = gp_cluster_to_json(back, NULL, 0, GP_API_STABLE);
      assert_null(json_object_get(json_object_get(stable, "properties"), "gpuProfile"));
      json_decref(stable);
    }
    json_decref(view);
    json_decref(view2);
    json_decref(view3);
    json_decref(doc);
    json_decref(doc2);
    gp_cluster_free(back);
    gp_cluster_free(copy);
    gp_cluster_result_free(c);
  }
}

/* A cluster stored by an older version may lack the optional members: it still loads, copies and
 * shows the same. */
static void test_minimal_stored_cluster(void **state) {
  (void)state;
  json_t *doc = json_loads("{\"kubernetesVersion\":\"1.35\",\"name\":\"c\"}", 0, NULL);
  gp_error err;
  gp_error_init(&err);
  gp_cluster *c = gp_cluster_from_store(doc, &err);
  assert_non_null(c);
  gp_cluster *copy = gp_cluster_clone(c);
  assert_non_null(copy);
  json_t *a = gp_cluster_to_json(c, NULL, 0, GP_API_PREVIEW), *b = gp_cluster_to_json(copy, NULL, 0, GP_API_PREVIEW);
  assert_true(json_equal(a, b));
  assert_string_equal(prop(a, "kubernetesVersion"), "1.35");
  assert_null(json_object_get(a, "location"));
  json_decref(a);
  json_decref(b);
  json_decref(doc);
  gp_cluster_free(c);
  gp_cluster_free(copy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_malformed_cluster_bodies), cmocka_unit_test(test_cluster_limits),
      cmocka_unit_test(test_cluster_updates),          cmocka_unit_test(test_cluster_view_and_store),
      cmocka_unit_test(test_minimal_stored_cluster),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
