/* test_error.c - ARM error bodies and the violation list: the first violation repeated on top, all
 * of them in details and in order, targets only where given, lists moved from one error to another,
 * the status kept across a clear; and the UTF-8 clean-up every message and target goes through,
 * one class of byte sequence at a time (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF, no cut sequences); and warning lists, which are freed to be used again. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "helpers.h"

static void test_body_lists_every_violation(void **state) {
  (void)state;
  gp_error e;
  gp_error_init(&e);
  assert_int_equal(e.status, 400);
  assert_false(gp_error_has(&e, "A"));
  for (int i = 0; i < 9; i++) /* more than the first allocation holds */
    gp_error_add(&e, i % 2 ? "Odd" : "Even", i == 4 ? NULL : "t", "message %d", i);
  assert_int_equal(e.count, 9);
  assert_true(gp_error_has(&e, "Odd") && gp_error_has(&e, "Even") && !gp_error_has(&e, "odd"));
  json_t *body = gp_error_to_json(&e);
  json_t *top = json_object_get(body, "error");
  assert_string_equal(json_string_value(json_object_get(top, "code")), "Even");
  assert_string_equal(json_string_value(json_object_get(top, "message")), "message 0");
  json_t *details = json_object_get(top, "details");
  assert_int_equal(json_array_size(details), 9);
  for (size_t i = 0; i < 9; i++) {
    json_t *d = json_array_get(details, i);
    char want[32];
    snprintf(want, sizeof want, "message %zu", i);
    assert_string_equal(json_string_value(json_object_get(d, "message")), want);
    assert_int_equal(json_object_get(d, "target") == NULL, i == 4);
    assert_null(json_object_get(d, "details"));
  }
  json_decref(body);

  /* moving a list appends it, in order, and leaves the source empty */
  gp_error other;
  gp_error_init(&other);
  gp_error_add(&other, "First", NULL, "one");
  gp_error_take(&other, &e);
  assert_int_equal(other.count, 10);
  assert_int_equal(e.count, 0);
  assert_false(other.oom); /* a complete list stays complete */
  assert_string_equal(other.items[0].code, "First");
  assert_string_equal(other.items[9].message, "message 8");
  e.oom = true;              /* a list that lost a violation makes the whole list incomplete */
  gp_error_take(&other, &e); /* an empty list moves nothing */
  assert_int_equal(other.count, 10);
  assert_true(other.oom);
  other.status = 500;
  gp_error_clear(&other);
  assert_int_equal(other.count, 0);
  assert_int_equal(other.status, 500);
  gp_error_clear(&e);

  /* an empty list still renders a body */
  body = gp_error_to_json(&e);
  assert_string_equal(json_string_value(json_object_get(json_object_get(body, "error"), "code")), "InvalidParameter");
  json_decref(body);
  body = gp_error_body("Conflict", "x.y", "busy");
  top = json_object_get(body, "error");
  assert_string_equal(json_string_value(json_object_get(top, "target")), "x.y");
  assert_int_equal(json_array_size(json_object_get(top, "details")), 1);
  json_decref(body);
}

static void test_utf8_sequences(void **state) {
  (void)state;
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"plain ASCII ~\x7f", "plain ASCII ~\x7f"},
      {"\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9"},                 /* U+00E9, two bytes */
      {"\xc2\x80|\xdf\xbf", "\xc2\x80|\xdf\xbf"},                 /* the first and last two-byte characters */
      {"\xc3(x", "(x"},                                           /* lead byte without its continuation */
      {"\xc0\xaf|\xc1\x81", "|"},                                 /* overlong two-byte forms */
      {"\xe2\x82\xac", "\xe2\x82\xac"},                           /* U+20AC, three bytes */
      {"\xe0\xa0\x80|\xef\xbf\xbf", "\xe0\xa0\x80|\xef\xbf\xbf"}, /* first and last three-byte */
      {"\xe0\x9f\xbf", ""},                                       /* overlong three-byte */
      {"\xed\x9f\xbf|\xed\xa0\x80", "\xed\x9f\xbf|"},             /* U+D7FF kept, a surrogate dropped */
      {"\xe2\x82", ""},                                           /* cut three-byte */
      {"\xe2(\xac", "("},                                         /* bad second byte */
      {"\xe2\x82(", "("},                                         /* bad third byte */
      {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},                   /* U+1F600, four bytes */
      {"\xf0\x90\x80\x80|\xf4\x8f\xbf\xbf", "\xf0\x90\x80\x80|\xf4\x8f\xbf\xbf"}, /* first and last four-byte */
      {"\xf0\x8f\xbf\xbf", ""},                                                   /* overlong four-byte */
      {"\xf4\x90\x80\x80", ""},                                                   /* above U+10FFFF */
      {"\xf5\x80\x80\x80|\xff", "|"}, /* bytes that never start a character */
      {"\xf0\x9f\x98(", "("},         /* bad fourth byte */
      {"\xf0(\x98\x80", "("},         /* bad second byte */
      {"\x80\xbf", ""},               /* lone continuation bytes */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", cases[i].in);
    gp_utf8_sanitize(buf);
    if (strcmp(buf, cases[i].out) != 0) fail_msg("case %zu: got '%s', want '%s'", i, buf, cases[i].out);
  }
  /* a target or message with bad bytes comes out clean in the body */
  gp_error e;
  gp_error_init(&e);
  gp_error_add(&e, "C",
               "a\xff"
               "b",
               "m\xc3");
  assert_string_equal(e.items[0].target, "ab");
  assert_string_equal(e.items[0].message, "m");
  gp_error_clear(&e);
}

/* A warning list freed with gp_warnings_free is empty and can collect warnings again. */
static void test_warnings_reusable(void **state) {
  (void)state;
  gp_policy_context ctx;
  gp_policy_context_init(&ctx);
  ctx.feature_managed_gpu_experience = true;
  const char *text =
      "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"tags\":{\"EnableManagedGPUExperience\":\"true\"}}}";
  gp_error err;
  gp_error_init(&err);
  json_t *body = gp_body_parse(text, strlen(text), &err);
  gp_warnings w = {0};
  for (int round = 0; round < 2; round++) {
    gp_pool *p = gp_pool_put(&ctx, body, NULL, &w, &err);
    assert_non_null(p);
    gp_pool_free(p);
    p = gp_pool_put(&ctx, body, NULL, &w, &err); /* the same warning twice is listed once */
    gp_pool_free(p);
    assert_int_equal(w.count, 1);
    assert_non_null(strstr(w.items[0], "EnableManagedGPUExperience=true is deprecated"));
    gp_warnings_free(&w);
    assert_int_equal(w.count, 0);
    assert_null(w.items);
  }
  gp_warnings_free(NULL);
  json_decref(body);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_body_lists_every_violation),
      cmocka_unit_test(test_utf8_sequences),
      cmocka_unit_test(test_warnings_reusable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
