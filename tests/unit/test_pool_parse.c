/* test_pool_parse.c - the limits of an agent pool body, each at its edge: the longest value (or the
 * most entries) accepted, one more refused with InvalidParameter at the field's JSON path and a
 * message that gives the limit; and the messages of the list fields, which name the allowed values.
 * test_malformed.c checks that wrong types never crash; this file checks what the user is told. */
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

/* Parses properties (a JSON object) as a pool PUT body; NULL with err filled when refused. */
static gp_pool_request *parse_props(json_t *props, gp_error *err) {
  json_t *body = json_pack("{s:s,s:O}", "name", "gpu", "properties", props);
  assert_non_null(body);
  gp_pool_request *r = gp_pool_request_parse(body, GP_API_PREVIEW, err);
  json_decref(body);
  return r;
}

static json_t *base_props(void) { return json_pack("{s:s}", "vmSize", "Standard_NC4as_T4_v3"); }

static char *repeat(char c, size_t n) {
  char *s = malloc(n + 1);
  assert_non_null(s);
  memset(s, c, n);
  s[n] = '\0';
  return s;
}

/* n accepted, n + 1 refused at target with "limit_text" in the message. make(n) builds the properties. */
static void edge(const char *what, json_t *(*make)(size_t n), size_t n, const char *target, const char *limit_text) {
  gp_error err;
  gp_error_init(&err);
  json_t *ok = make(n), *over = make(n + 1);
  gp_pool_request *r = parse_props(ok, &err);
  if (!r) fail_msg("%s: %zu refused: %s", what, n, err.items[0].message);
  gp_pool_request_free(r);
  /* Over the limit is a violation; the parser may still return the request so that the policy lists
   * every other violation too (a request with a violation is never applied). */
  r = parse_props(over, &err);
  gp_pool_request_free(r);
  if (err.count == 0) fail_msg("%s: %zu accepted", what, n + 1);
  assert_string_equal(err.items[0].code, "InvalidParameter");
  if (!err.items[0].target || strcmp(err.items[0].target, target) != 0)
    fail_msg("%s: target %s, want %s", what, err.items[0].target ? err.items[0].target : "(none)", target);
  if (!strstr(err.items[0].message, limit_text))
    fail_msg("%s: message '%s' lacks '%s'", what, err.items[0].message, limit_text);
  gp_error_clear(&err);
  json_decref(ok);
  json_decref(over);
}

static json_t *string_field(const char *key, size_t n) {
  json_t *p = base_props();
  char *s = repeat('1', n);
  json_object_set_new(p, key, json_string(s));
  free(s);
  return p;
}
static json_t *orchestrator(size_t n) { return string_field("orchestratorVersion", n); }

static json_t *vm_size(size_t n) {
  json_t *p = base_props();
  char *s = repeat('x', n);
  memcpy(s, "Standard_D4s_v5_", n < 16 ? n : 16);
  json_object_set_new(p, "vmSize", json_string(s));
  free(s);
  return p;
}

/* A map (nodeLabels or tags) of `entries` entries, or one entry with a key / value of the given length. */
static json_t *map(const char *key, size_t entries, size_t key_len, size_t value_len) {
  json_t *p = base_props(), *m = json_object();
  for (size_t i = 0; i < entries; i++) {
    char *k = repeat('k', key_len), *v = repeat('v', value_len);
    if (entries > 1) snprintf(k, key_len + 1, "k%zu", i);
    json_object_set_new(m, k, json_string(v));
    free(k);
    free(v);
  }
  json_object_set_new(p, key, m);
  return p;
}
static json_t *labels_count(size_t n) { return map("nodeLabels", n, 8, 1); }
static json_t *label_key(size_t n) { return map("nodeLabels", 1, n, 1); }
static json_t *label_value(size_t n) { return map("nodeLabels", 1, 4, n); }
static json_t *tags_count(size_t n) { return map("tags", n, 8, 1); }
static json_t *tag_key(size_t n) { return map("tags", 1, n, 1); }
static json_t *tag_value(size_t n) { return map("tags", 1, 4, n); }

static json_t *taints(size_t count, size_t len) {
  json_t *p = base_props(), *a = json_array();
  for (size_t i = 0; i < count; i++) {
    char *s = repeat('k', len);
    memcpy(s + len - 11, ":NoSchedule", 11);
    json_array_append_new(a, json_string(s));
    free(s);
  }
  json_object_set_new(p, "nodeTaints", a);
  return p;
}
static json_t *taints_count(size_t n) { return taints(n, 16); }
static json_t *taint_length(size_t n) { return taints(1, n); }

static void test_limits_at_their_edges(void **state) {
  (void)state;
  edge("orchestratorVersion", orchestrator, 32, "properties.orchestratorVersion", "at most 32");
  edge("vmSize", vm_size, 128, "properties.vmSize", "at most 128");
  edge("nodeLabels entries", labels_count, 100, "properties.nodeLabels", "at most 100");
  edge("nodeLabels key", label_key, 316, "properties.nodeLabels", "1 to 316 characters");
  edge("nodeLabels value", label_value, 63, "properties.nodeLabels", "at most 63 characters");
  edge("tags entries", tags_count, 50, "properties.tags", "at most 50");
  edge("tags key", tag_key, 512, "properties.tags", "1 to 512 characters");
  edge("tags value", tag_value, 256, "properties.tags", "at most 256 characters");
  edge("nodeTaints entries", taints_count, 50, "properties.nodeTaints", "at most 50");
  edge("nodeTaints length", taint_length, 400, "properties.nodeTaints[0]", "must be a string like");
}

static void test_name_limit(void **state) {
  (void)state;
  gp_policy_context ctx = ctx_with_feature();
  for (size_t n = 256; n <= 257; n++) {
    char *name = repeat('n', n);
    json_t *body = json_pack("{s:s,s:{s:s}}", "name", name, "properties", "vmSize", "Standard_D4s_v5");
    gp_error err;
    gp_error_init(&err);
    gp_pool_request *r = gp_pool_request_parse(body, ctx.api, &err);
    if (n == 256) {
      assert_non_null(r);
    } else {
      assert_null(r);
      assert_string_equal(err.items[0].target, "name");
      assert_non_null(strstr(err.items[0].message, "at most 256"));
    }
    gp_pool_request_free(r);
    gp_error_clear(&err);
    json_decref(body);
    free(name);
  }
}

/* The first violation of a refused body given as JSON text. */
static void expect(const char *text, const char *code, const char *target, const char *says) {
  gp_policy_context ctx = ctx_with_feature();
  gp_error err;
  gp_error_init(&err);
  gp_pool *p = put_text(&ctx, text, NULL, &err);
  if (p) fail_msg("accepted: %s", text);
  if (strcmp(err.items[0].code, code) != 0) fail_msg("%s: code %s, want %s", text, err.items[0].code, code);
  if (!err.items[0].target || strcmp(err.items[0].target, target) != 0)
    fail_msg("%s: target %s, want %s", text, err.items[0].target ? err.items[0].target : "(none)", target);
  if (!strstr(err.items[0].message, says)) fail_msg("%s: message '%s' lacks '%s'", text, err.items[0].message, says);
  gp_error_clear(&err);
}

static void test_messages_name_the_allowed_values(void **state) {
  (void)state;
  static const char *const profiles = "'MIG1g', 'MIG2g', 'MIG3g', 'MIG4g' or 'MIG7g'";
  char text[512];
#define MIG(list)                                                                                                      \
  "{\"properties\":{\"vmSize\":\"Standard_NC24ads_A100_v4\",\"gpuProfile\":{\"nvidia\":{\"migProfiles\":" list "}}}}"
  expect(MIG("[]"), "InvalidParameter", "properties.gpuProfile.nvidia.migProfiles", profiles);
  expect(MIG("[]"), "InvalidParameter", "properties.gpuProfile.nvidia.migProfiles", "at least one MIG profile");
  expect(MIG("\"MIG1g\""), "InvalidParameter", "properties.gpuProfile.nvidia.migProfiles", profiles);
  expect(MIG("[\"MIG1g\",\"MIG9g\"]"), "InvalidParameter", "properties.gpuProfile.nvidia.migProfiles[1]",
         "'MIG9g' is not a valid value");
  expect(MIG("[\"MIG1g\",1]"), "InvalidParameter", "properties.gpuProfile.nvidia.migProfiles[1]",
         "must be a string, not a number");
  /* 16 entries parse (placement then refuses them), 17 do not */
  for (size_t n = 16; n <= 17; n++) {
    char list[256] = "[";
    for (size_t i = 0; i < n; i++)
      strcat(list, i ? ",\"MIG1g\"" : "\"MIG1g\"");
    strcat(list, "]");
    snprintf(text, sizeof text, MIG("%s"), list);
    if (n == 16)
      expect(text, "InvalidMIGLayout", "properties.gpuProfile.nvidia.migProfiles", "cannot all be placed");
    else
      expect(text, "InvalidParameter", "properties.gpuProfile.nvidia.migProfiles", "lists 17 profiles");
  }
#undef MIG
  expect("{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuProfile\":{\"driver\":\"Maybe\"}}}",
         "InvalidParameter", "properties.gpuProfile.driver", "'Install' or 'None'");
  expect("{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuProfile\":{\"driver\":7}}}", "InvalidParameter",
         "properties.gpuProfile.driver", "Allowed values: 'Install' or 'None'.");
  expect("{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"nodeLabels\":[]}}", "InvalidParameter",
         "properties.nodeLabels", "must be an object of strings, not an array");
  expect("{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"nodeLabels\":{\"a\":1}}}", "InvalidParameter",
         "properties.nodeLabels", "'a' is a number");
  expect("{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"nodeTaints\":{}}}", "InvalidParameter",
         "properties.nodeTaints", "must be an array of strings");
  expect("{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"nodeTaints\":[\"a=b:Sometimes\"]}}",
         "InvalidParameter", "properties.nodeTaints[0]", "NoSchedule, PreferNoSchedule or NoExecute");
  expect("{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"count\":1.5}}", "InvalidParameter", "properties.count",
         "whole number from 0 to 1000");
  expect("{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuProfile\":{\"nvidia\":{\"x\":1}}}}",
         "InvalidParameter", "properties.gpuProfile.nvidia.x",
         "accepts only 'managementMode', 'driverMode', 'migStrategy', 'migProfiles'");
  expect("{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuProfile\":[]}}", "InvalidParameter",
         "properties.gpuProfile", "must be an object, not an array");
  expect("{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"gpuProfile\":{\"nvidia\":1}}}", "InvalidParameter",
         "properties.gpuProfile.nvidia", "must be an object, not a number");
  expect("{\"properties\":7}", "InvalidParameter", "properties", "'properties' must be an object, not a number");
  expect("{\"properties\":{\"vmSize\":\"Standard_D4s_v5\",\"orchestratorVersion\":[1]}}", "InvalidParameter",
         "properties.orchestratorVersion", "'properties.orchestratorVersion' must be a string, not an array.");
}

/* gp_body_parse refuses NUL in strings, but a caller may hand the core JSON built otherwise. */
static void test_nul_in_a_string(void **state) {
  (void)state;
  json_t *props = base_props();
  json_object_set_new(props, "orchestratorVersion", json_stringn("1.35\0.1", 8));
  gp_error err;
  gp_error_init(&err);
  assert_null(parse_props(props, &err));
  assert_int_equal(err.count, 1);
  assert_string_equal(err.items[0].target, "properties.orchestratorVersion");
  assert_string_equal(err.items[0].message, "'properties.orchestratorVersion' must not contain NUL characters.");
  gp_error_clear(&err);
  json_decref(props);
}

/* Every taint form the API allows, and each way to get one wrong. */
static void test_taint_forms(void **state) {
  (void)state;
  static const char *const ok[] = {"k=v:NoSchedule", "k:NoSchedule",     "k=v:PreferNoSchedule",
                                   "k:NoExecute",    "a=b=c:NoSchedule", "k=:NoSchedule"};
  static const char *const bad[] = {":NoSchedule",     "=v:NoSchedule",  "k=v",    "k=v:",       "k=v:noschedule",
                                    "k=v:NoSchedule ", "k:v=NoSchedule", "k:Nope", "NoSchedule", ""};
  gp_policy_context ctx = ctx_with_feature();
  char text[256];
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    snprintf(text, sizeof text, "{\"properties\":{\"vmSize\":\"Standard_D4s_v5\",\"nodeTaints\":[\"%s\"]}}", ok[i]);
    gp_pool *p = put_accepted(&ctx, text, NULL);
    gp_pool_free(p);
  }
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    snprintf(text, sizeof text,
             "{\"properties\":{\"vmSize\":\"Standard_D4s_v5\",\"nodeTaints\":[\"k=v:NoSchedule\",\"%s\"]}}", bad[i]);
    expect(text, "InvalidParameter", "properties.nodeTaints[1]", "is not valid");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_limits_at_their_edges),
      cmocka_unit_test(test_name_limit),
      cmocka_unit_test(test_messages_name_the_allowed_values),
      cmocka_unit_test(test_taint_forms),
      cmocka_unit_test(test_nul_in_a_string),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
