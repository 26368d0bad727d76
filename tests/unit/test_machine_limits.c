/* test_machine_limits.c - every limit of a machine report (machine.h, lib/machine.c) at both of its
 * edges: the longest string, the largest and smallest number and the longest array a report may
 * carry are accepted and kept, one more is refused with a violation at that member's path. An agent
 * is told exactly where its report stops being valid; a limit that moved by one would go unnoticed
 * by tests that only look far inside or far outside it. */
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

/* The body is TMPL with its one %s replaced by VALUE. Accepted: the canonical report contains
 * KEPT (when given). Refused: a violation names TARGET. */
static char *body_of(const char *tmpl, const char *value) {
  const char *at = strstr(tmpl, "%s");
  assert_non_null(at);
  size_t head = (size_t)(at - tmpl), n = strlen(tmpl) + strlen(value) + 1;
  char *b = malloc(n);
  assert_non_null(b);
  memcpy(b, tmpl, head);
  strcpy(b + head, value);
  strcat(b, at + 2);
  return b;
}

/* TEXT with its one %d replaced by i (written into out). */
static void with_number(char *out, size_t size, const char *text, int i) {
  const char *at = strstr(text, "%d");
  if (!at) {
    snprintf(out, size, "%s", text);
    return;
  }
  snprintf(out, size, "%.*s%d%s", (int)(at - text), text, i, at + 2);
}

static void accepted(const char *tmpl, const char *value, const char *kept) {
  char *body = body_of(tmpl, value);
  gp_error err;
  gp_error_init(&err);
  json_t *j = gp_body_parse(body, strlen(body), &err);
  assert_non_null(j);
  gp_machine_report *r = gp_machine_report_parse(j, &err);
  if (!r) {
    char *e = json_dumps(gp_error_to_json(&err), 0);
    fail_msg("refused %.200s...: %s", body, e);
  }
  if (kept) {
    char *text = gp_machine_report_text(r);
    if (!strstr(text, kept)) fail_msg("%.200s...: the report does not keep %.80s...", body, kept);
    free(text);
  }
  gp_machine_report_free(r);
  json_decref(j);
  gp_error_clear(&err);
  free(body);
}

static void refused(const char *tmpl, const char *value, const char *target) {
  char *body = body_of(tmpl, value);
  gp_error err;
  gp_error_init(&err);
  json_t *j = gp_body_parse(body, strlen(body), &err);
  assert_non_null(j);
  gp_machine_report *r = gp_machine_report_parse(j, &err);
  if (r) fail_msg("accepted %.200s...", body);
  bool found = false;
  for (size_t i = 0; i < err.count; i++)
    found = found || (err.items[i].target && strcmp(err.items[i].target, target) == 0);
  if (!found) fail_msg("%.200s...: no violation at %s (%zu others)", body, target, err.count);
  json_decref(j);
  gp_error_clear(&err);
  free(body);
}

/* "aaa…" (n characters) as a JSON string */
static char *jstring(size_t n) {
  char *s = malloc(n + 3);
  assert_non_null(s);
  s[0] = '"';
  memset(s + 1, 'a', n);
  s[n + 1] = '"';
  s[n + 2] = '\0';
  return s;
}

/* A JSON array of n copies of ITEM, where ITEM may hold one %d (the entry's position). */
static char *jarray(size_t n, const char *item) {
  size_t cap = n * (strlen(item) + 24) + 3, used = 1;
  char *s = malloc(cap);
  assert_non_null(s);
  s[0] = '[';
  for (size_t i = 0; i < n; i++) {
    if (i) s[used++] = ',';
    with_number(s + used, cap - used, item, (int)i);
    used += strlen(s + used);
  }
  snprintf(s + used, cap - used, "]");
  return s;
}

static const struct {
  const char *tmpl, *target;
  size_t max;
} strings[] = {
    {"{\"properties\":{\"hardware\":{\"vmSize\":%s}}}", "properties.hardware.vmSize", 80},
    {"{\"properties\":{\"kubernetes\":{\"nodeName\":%s}}}", "properties.kubernetes.nodeName", 253},
    {"{\"properties\":{\"kubernetes\":{\"kubeletVersion\":%s}}}", "properties.kubernetes.kubeletVersion", 64},
    {"{\"properties\":{\"status\":{\"agentVersion\":%s}}}", "properties.status.agentVersion", 64},
    {"{\"properties\":{\"status\":{\"gpus\":[{\"index\":0,\"uuid\":%s}]}}}", "properties.status.gpus[0].uuid", 96},
    {"{\"properties\":{\"status\":{\"gpus\":[{\"index\":0,\"model\":%s}]}}}", "properties.status.gpus[0].model", 64},
    {"{\"properties\":{\"status\":{\"gpus\":[{\"index\":0,\"instances\":[{\"profile\":%s}]}]}}}",
     "properties.status.gpus[0].instances[0].profile", 32},
    {"{\"properties\":{\"status\":{\"gpus\":[{\"index\":0,\"reasons\":[%s]}]}}}",
     "properties.status.gpus[0].reasons[0]", 256},
    {"{\"properties\":{\"status\":{\"findings\":[{\"severity\":\"info\",\"code\":%s}]}}}",
     "properties.status.findings[0].code", 64},
    {"{\"properties\":{\"status\":{\"findings\":[{\"code\":\"c\",\"severity\":\"info\",\"message\":%s}]}}}",
     "properties.status.findings[0].message", 1024},
    {"{\"properties\":{\"status\":{\"health\":{\"events\":[{\"time\":\"2026-11-19T10:00:00Z\",\"message\":%s}]}}}}",
     "properties.status.health.events[0].message", 512},
};

/* Strings: 1 and max characters kept; empty and max + 1 refused. */
static void test_string_limits(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) {
    size_t max = strings[i].max;
    char *one = jstring(1), *longest = jstring(max), *empty = jstring(0), *over = jstring(max + 1);
    accepted(strings[i].tmpl, one, NULL);
    accepted(strings[i].tmpl, longest, longest);
    refused(strings[i].tmpl, empty, strings[i].target);
    refused(strings[i].tmpl, over, strings[i].target);
    free(one);
    free(longest);
    free(empty);
    free(over);
  }
}

static const struct {
  const char *tmpl, *target;
  const char *lo, *hi, *below, *above;
} numbers[] = {
    {"{\"properties\":{\"status\":{\"reportIntervalSeconds\":%s}}}", "properties.status.reportIntervalSeconds", "1",
     "3600", "0", "3601"},
    {"{\"properties\":{\"status\":{\"appliedGeneration\":%s}}}", "properties.status.appliedGeneration", "0",
     "9007199254740991", "-1", "9007199254740992"},
    {"{\"properties\":{\"status\":{\"gpus\":[{\"index\":%s}]}}}", "properties.status.gpus[0].index", "0", "63", "-1",
     "64"},
    {"{\"properties\":{\"status\":{\"gpus\":[{\"index\":0,\"instances\":[{\"start\":%s}]}]}}}",
     "properties.status.gpus[0].instances[0].start", "0", "7", "-1", "8"},
    {"{\"properties\":{\"status\":{\"gpus\":[{\"index\":0,\"instances\":[{\"size\":%s}]}]}}}",
     "properties.status.gpus[0].instances[0].size", "1", "8", "0", "9"},
    {"{\"properties\":{\"status\":{\"findings\":[{\"code\":\"c\",\"severity\":\"info\",\"gpus\":[%s]}]}}}",
     "properties.status.findings[0].gpus[0]", "0", "63", "-1", "64"},
    {"{\"properties\":{\"status\":{\"health\":{\"events\":[{\"time\":\"2026-11-19T10:00:00Z\",\"gpu\":%s}]}}}}",
     "properties.status.health.events[0].gpu", "0", "63", "-1", "64"},
    {"{\"properties\":{\"status\":{\"health\":{\"events\":[{\"time\":\"2026-11-19T10:00:00Z\",\"xid\":%s}]}}}}",
     "properties.status.health.events[0].xid", "0", "65535", "-1", "65536"},
};

/* Numbers: both ends of the range kept; one below and one above refused. */
static void test_number_limits(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++) {
    char kept[64];
    const char *key = strrchr(numbers[i].target, '.') + 1;
    bool in_list = strchr(key, '[') != NULL; /* findings[0].gpus[0]: kept as a list entry */
    snprintf(kept, sizeof kept, in_list ? "[%s]" : "\"%s\":%s", in_list ? numbers[i].lo : key, numbers[i].lo);
    accepted(numbers[i].tmpl, numbers[i].lo, kept);
    snprintf(kept, sizeof kept, in_list ? "[%s]" : "\"%s\":%s", in_list ? numbers[i].hi : key, numbers[i].hi);
    accepted(numbers[i].tmpl, numbers[i].hi, kept);
    refused(numbers[i].tmpl, numbers[i].below, numbers[i].target);
    refused(numbers[i].tmpl, numbers[i].above, numbers[i].target);
  }
}

/* ITEM and KEPT may hold one %d: the entry's position, and the last entry's in the canonical report. */
static const struct {
  const char *tmpl, *target, *item, *kept;
  size_t max;
} arrays[] = {
    {"{\"properties\":{\"status\":{\"gpus\":%s}}}", "properties.status.gpus", "{\"index\":%d}", "\"index\":%d}",
     GP_MACHINE_GPUS_MAX},
    {"{\"properties\":{\"status\":{\"gpus\":[{\"index\":0,\"instances\":%s}]}}}", "properties.status.gpus[0].instances",
     "{\"start\":0,\"size\":1}", NULL, 8},
    {"{\"properties\":{\"status\":{\"gpus\":[{\"index\":0,\"reasons\":%s}]}}}", "properties.status.gpus[0].reasons",
     "\"r%d\"", "\"r%d\"]", 16},
    {"{\"properties\":{\"status\":{\"findings\":%s}}}", "properties.status.findings",
     "{\"code\":\"c%d\",\"severity\":\"info\"}", "\"c%d\"", GP_MACHINE_FINDINGS_MAX},
    {"{\"properties\":{\"status\":{\"findings\":[{\"code\":\"c\",\"severity\":\"info\",\"gpus\":%s}]}}}",
     "properties.status.findings[0].gpus", "%d", ",%d]", GP_MACHINE_GPUS_MAX},
    {"{\"properties\":{\"status\":{\"health\":{\"events\":%s}}}}", "properties.status.health.events",
     "{\"time\":\"2026-11-19T10:00:00Z\",\"xid\":%d}", "\"xid\":%d}", GP_MACHINE_EVENTS_MAX},
};

/* Arrays: max entries accepted (the last one is kept), max + 1 refused as a whole. */
static void test_array_limits(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++) {
    char *full = jarray(arrays[i].max, arrays[i].item), *over = jarray(arrays[i].max + 1, arrays[i].item);
    char last[64];
    if (arrays[i].kept) with_number(last, sizeof last, arrays[i].kept, (int)arrays[i].max - 1);
    accepted(arrays[i].tmpl, full, arrays[i].kept ? last : NULL);
    refused(arrays[i].tmpl, over, arrays[i].target);
    free(full);
    free(over);
  }
}

/* A finding's expected and found: any JSON up to 2048 bytes as compact text. */
static void test_value_limits(void **state) {
  (void)state;
  static const char *const tmpl[] = {
      "{\"properties\":{\"status\":{\"findings\":[{\"code\":\"c\",\"severity\":\"info\",\"expected\":%s}]}}}",
      "{\"properties\":{\"status\":{\"findings\":[{\"code\":\"c\",\"severity\":\"info\",\"found\":%s}]}}}"};
  static const char *const target[] = {"properties.status.findings[0].expected", "properties.status.findings[0].found"};
  for (size_t i = 0; i < 2; i++) {
    char *fits = jstring(2046), *over = jstring(2047); /* 2048 and 2049 bytes with the quotes */
    accepted(tmpl[i], fits, fits);
    refused(tmpl[i], over, target[i]);
    free(fits);
    free(over);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_string_limits),
      cmocka_unit_test(test_number_limits),
      cmocka_unit_test(test_array_limits),
      cmocka_unit_test(test_value_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
