/* test_malformed.c - bad input never crashes and always gives a clean 400-style error: the files
 * of tests/corpus/, then generated bodies with a wrong type at every field gpupool models (null too,
 * except where null removes a declaration), deep nesting, 1 MB strings, invalid UTF-8 and duplicate keys. Each must
 * come back as an error body with code InvalidParameter or InvalidRequestContent and nothing decided. */
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

static int checked;

/* The body must be refused cleanly; returns the error code for further checks. */
static void expect_clean_error(const char *what, const char *buf, size_t len) {
  gp_policy_context ctx = ctx_with_feature();
  gp_error err;
  gp_error_init(&err);
  gp_pool *p = NULL;
  json_t *body = gp_body_parse(buf, len, &err);
  if (body) {
    p = gp_pool_put(&ctx, body, NULL, NULL, &err);
    /* the same body as an agentPoolProfiles entry of a cluster PUT */
    json_t *props = json_object_get(body, "properties");
    if (props) {
      json_t *cl = json_pack("{s:s,s:{s:[O]}}", "location", "eastus", "properties", "agentPoolProfiles", props);
      json_object_set_new(json_array_get(json_object_get(json_object_get(cl, "properties"), "agentPoolProfiles"), 0),
                          "name", json_string("gpu"));
      gp_error cerr;
      gp_error_init(&cerr);
      gp_cluster_request *r = gp_cluster_request_parse(cl, ctx.api, true, &cerr);
      gp_cluster_result *res = r ? gp_policy_apply_cluster(&ctx, r, NULL, NULL, 0, &cerr) : NULL;
      if (res) fail_msg("%s: accepted as an agentPoolProfiles entry", what);
      assert_true(cerr.count > 0);
      gp_cluster_request_free(r);
      gp_error_clear(&cerr);
      json_decref(cl);
    }
  }
  if (p) fail_msg("%s: accepted", what);
  if (err.count == 0) fail_msg("%s: refused without a violation", what);
  const char *code = err.items[0].code;
  if (strcmp(code, "InvalidParameter") != 0 && strcmp(code, "InvalidRequestContent") != 0)
    fail_msg("%s: code %s", what, code);
  json_t *e = gp_error_to_json(&err);
  assert_non_null(e);
  char *s = json_dumps(e, 0);
  assert_non_null(s);
  free(s);
  json_decref(e);
  json_decref(body);
  gp_error_clear(&err);
  checked++;
}

static void corpus_file(const char *path, const char *buf, size_t len, void *arg) {
  (void)arg;
  expect_clean_error(strrchr(path, '/') + 1, buf, len);
}

static void test_corpus_files(void **state) {
  (void)state;
  assert_true(for_each_file("tests/corpus", NULL, corpus_file, NULL) >= 20);
}

/* Field paths (inside a valid base body), the JSON type each expects, and whether null is a value
 * there (it removes a declaration: tests/vectors/ update-null-*). */
static const struct {
  const char *path; /* dot path under the body */
  json_type type;
  bool nullable;
} fields[] = {
    {"properties", JSON_OBJECT, false},
    {"properties.vmSize", JSON_STRING, false},
    {"properties.count", JSON_INTEGER, false},
    {"properties.osType", JSON_STRING, false},
    {"properties.osSKU", JSON_STRING, false},
    {"properties.mode", JSON_STRING, false},
    {"properties.orchestratorVersion", JSON_STRING, true},
    {"properties.nodeLabels", JSON_OBJECT, false},
    {"properties.nodeTaints", JSON_ARRAY, false},
    {"properties.tags", JSON_OBJECT, false},
    {"properties.gpuInstanceProfile", JSON_STRING, true},
    {"properties.gpuProfile", JSON_OBJECT, false},
    {"properties.gpuProfile.driver", JSON_STRING, true},
    {"properties.gpuProfile.driverType", JSON_STRING, true},
    {"properties.gpuProfile.nvidia", JSON_OBJECT, false},
    {"properties.gpuProfile.nvidia.managementMode", JSON_STRING, true},
    {"properties.gpuProfile.nvidia.driverMode", JSON_STRING, true},
    {"properties.gpuProfile.nvidia.migStrategy", JSON_STRING, true},
    {"properties.gpuProfile.nvidia.migProfiles", JSON_ARRAY, true},
};

static json_t *base_body(void) {
  return json_loads(
      "{\"properties\":{\"vmSize\":\"Standard_NC24ads_A100_v4\",\"count\":1,\"gpuProfile\":{"
      "\"nvidia\":{\"managementMode\":\"Managed\",\"migStrategy\":\"Mixed\",\"migProfiles\":[\"MIG3g\"]}}}}",
      0, NULL);
}

/* Sets value at a dot path, creating objects on the way. */
static void set_path(json_t *root, const char *path, json_t *value) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  char *last = strrchr(buf, '.');
  json_t *parent = root;
  if (last) {
    *last = '\0';
    for (char *save = NULL, *t = strtok_r(buf, ".", &save); t; t = strtok_r(NULL, ".", &save)) {
      json_t *next = json_object_get(parent, t);
      if (!json_is_object(next)) {
        next = json_object();
        json_object_set_new(parent, t, next);
      }
      parent = next;
    }
    json_object_set_new(parent, last + 1, value);
  } else {
    json_object_set_new(parent, buf, value);
  }
}

static void check_body(const char *what, json_t *body) {
  char *text = json_dumps(body, JSON_COMPACT);
  assert_non_null(text);
  expect_clean_error(what, text, strlen(text));
  free(text);
}

static void test_wrong_types_everywhere(void **state) {
  (void)state;
  const char *wrong[] = {"null", "true", "false", "7", "-1.5", "\"\"", "\"x\"", "[]", "[1,{}]", "{}", "{\"a\":[null]}"};
  int before = checked;
  for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
    for (size_t w = 0; w < sizeof wrong / sizeof wrong[0]; w++) {
      json_t *v = json_loads(wrong[w], JSON_DECODE_ANY, NULL);
      assert_non_null(v);
      if (json_typeof(v) == fields[f].type || (fields[f].nullable && json_is_null(v))) {
        /* not a wrong type: other tests cover bad values (and what null does) */
        json_decref(v);
        continue;
      }
      json_t *body = base_body();
      set_path(body, fields[f].path, v);
      char what[300];
      snprintf(what, sizeof what, "%s = %s", fields[f].path, wrong[w]);
      check_body(what, body);
      json_decref(body);
    }
  }
  assert_true(checked - before > 130); /* 19 fields x about 8 wrong types each */
}

static void test_deep_nesting(void **state) {
  (void)state;
  size_t depth = 100000;
  char *s = malloc(depth * 2 + 1);
  assert_non_null(s);
  memset(s, '[', depth);
  memset(s + depth, ']', depth);
  expect_clean_error("100000 nested arrays", s, depth * 2);
  /* nesting in a GPU field, within jansson's depth limit */
  char *t = malloc(depth * 2 + 256);
  size_t n = (size_t)sprintf(t, "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuProfile\":{\"driver\":");
  for (int i = 0; i < 1000; i++)
    t[n++] = '[';
  for (int i = 0; i < 1000; i++)
    t[n++] = ']';
  n += (size_t)sprintf(t + n, "}}}");
  expect_clean_error("nested arrays at gpuProfile.driver", t, n);
  free(s);
  free(t);
}

static void test_huge_strings(void **state) {
  (void)state;
  size_t big = 1000 * 1000;
  char *s = malloc(big + 1);
  assert_non_null(s);
  memset(s, 'A', big);
  s[big] = '\0';
  const char *paths[] = {"properties.vmSize",
                         "properties.orchestratorVersion",
                         "properties.osSKU",
                         "properties.gpuInstanceProfile",
                         "properties.gpuProfile.driver",
                         "properties.gpuProfile.nvidia.managementMode",
                         "properties.gpuProfile.nvidia.migStrategy"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    json_t *body = base_body();
    set_path(body, paths[i], json_string(s));
    check_body(paths[i], body);
    json_decref(body);
  }
  json_t *body = base_body();
  json_t *labels = json_object();
  json_object_set_new(labels, s, json_string("x")); /* a 1 MB key */
  set_path(body, "properties.nodeLabels", labels);
  check_body("1 MB label key", body);
  json_decref(body);
  /* a 1 MB body is refused before parsing */
  char *over = malloc(GP_BODY_MAX + 2);
  memset(over, ' ', GP_BODY_MAX + 1);
  expect_clean_error("body over 1 MiB", over, GP_BODY_MAX + 1);
  free(over);
  free(s);
}

static void test_unknown_deep_is_kept(void **state) {
  (void)state;
  /* deep or big unknown properties are not errors: they are kept and echoed */
  gp_policy_context ctx = ctx_with_feature();
  gp_error err;
  gp_error_init(&err);
  char *t = malloc(8000);
  size_t n = (size_t)sprintf(t, "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"deep\":");
  for (int i = 0; i < 1000; i++)
    t[n++] = '[';
  for (int i = 0; i < 1000; i++)
    t[n++] = ']';
  n += (size_t)sprintf(t + n, "}}");
  t[n] = '\0';
  gp_pool *p = put_text(&ctx, t, NULL, &err);
  assert_non_null(p);
  json_t *view = gp_pool_to_json(p, GP_API_PREVIEW);
  assert_non_null(json_object_get(json_object_get(view, "properties"), "deep"));
  json_decref(view);
  gp_pool_free(p);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_corpus_files),         cmocka_unit_test(test_wrong_types_everywhere),
      cmocka_unit_test(test_deep_nesting),         cmocka_unit_test(test_huge_strings),
      cmocka_unit_test(test_unknown_deep_is_kept),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
