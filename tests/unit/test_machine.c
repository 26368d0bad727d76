/* test_machine.c - the machine resource in the core (machine.h): reports checked and made canonical,
 * bad reports refused with the JSON path of every problem, the server's findings (vm-size,
 * event-time), the state decision case by case, the reporting window, views, node counts, RFC 3339
 * times and machine names. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gpupool/gpupool.h"

#define NOW 1795000000000LL /* 2026-11-18T11:06:40Z: the server's clock in these tests */

static gp_machine_report *parse_ok(const char *text) {
  gp_error err;
  gp_error_init(&err);
  json_t *body = gp_body_parse(text, strlen(text), &err);
  assert_non_null(body);
  gp_machine_report *r = gp_machine_report_parse(body, &err);
  if (!r) {
    char *s = json_dumps(gp_error_to_json(&err), 0);
    fail_msg("refused: %s", s);
  }
  json_decref(body);
  gp_error_clear(&err);
  return r;
}

/* Parses a bad report; err gets the violations (caller clears). */
static void parse_bad(const char *text, gp_error *err) {
  gp_error_init(err);
  json_t *body = gp_body_parse(text, strlen(text), err);
  assert_non_null(body);
  assert_null(gp_machine_report_parse(body, err));
  json_decref(body);
  assert_true(err->count > 0);
}

static bool has_target(const gp_error *err, const char *target) {
  for (size_t i = 0; i < err->count; i++)
    if (err->items[i].target && strcmp(err->items[i].target, target) == 0) return true;
  return false;
}

static const json_t *at(const json_t *v, const char *a, const char *b) {
  const json_t *x = json_object_get(v, a);
  return b ? json_object_get(x, b) : x;
}

static const char full_report[] =
    "{\"properties\":{\"hardware\":{\"vmSize\":\"Standard_NC24ads_A100_v4\"},"
    "\"operatingSystem\":{\"osType\":\"linux\",\"osSKU\":\"ubuntu2204\"},"
    "\"kubernetes\":{\"nodeName\":\"aks-gpu1-0\",\"kubeletVersion\":\"v1.35.0\",\"ready\":true,\"unschedulable\":false}"
    ","
    "\"status\":{\"agentVersion\":\"0.9\",\"reportIntervalSeconds\":15,\"appliedGeneration\":3,"
    "\"state\":\"Conformant\",\"targetGeneration\":99,\"lastSeen\":\"2001-01-01T00:00:00Z\","
    "\"gpus\":[{\"index\":0,\"uuid\":\"GPU-1\",\"model\":\"A100-80GB\",\"migMode\":\"enabled\","
    "\"instances\":[{\"profile\":\"3g.40gb\",\"start\":0,\"size\":4}],\"health\":\"healthy\",\"reasons\":[],"
    "\"futureField\":1}],"
    "\"findings\":[{\"code\":\"mig-placement\",\"severity\":\"INFO\",\"expected\":{\"b\":1,\"a\":2},\"found\":null,"
    "\"message\":\"fine\",\"gpus\":[0]},{\"code\":\"vm-size\",\"severity\":\"info\"}],"
    "\"health\":{\"state\":\"Healthy\",\"events\":[{\"time\":\"2026-11-19T10:00:00+01:00\",\"gpu\":0,\"xid\":31,"
    "\"class\":\"application\",\"message\":\"MMU fault\"}]}},\"unknownProperty\":true}}";

static void test_full_report(void **state) {
  (void)state;
  gp_machine_report *r = parse_ok(full_report);
  assert_int_equal(r->interval_s, 15);
  assert_int_equal(r->applied_generation, 3);
  assert_false(r->health_failed);
  assert_false(r->agent_drift);
  const json_t *st = at(r->doc, "status", NULL);
  assert_string_equal(json_string_value(at(r->doc, "operatingSystem", "osType")), "Linux");
  assert_string_equal(json_string_value(at(r->doc, "operatingSystem", "osSKU")), "Ubuntu2204");
  /* server-owned fields are not taken from the agent */
  assert_null(json_object_get(st, "state"));
  assert_null(json_object_get(st, "targetGeneration"));
  assert_null(json_object_get(st, "lastSeen"));
  assert_null(json_object_get(r->doc, "unknownProperty"));
  const json_t *gpu = json_array_get(json_object_get(st, "gpus"), 0);
  assert_string_equal(json_string_value(json_object_get(gpu, "migMode")), "Enabled");
  assert_string_equal(json_string_value(json_object_get(gpu, "health")), "Healthy");
  assert_null(json_object_get(gpu, "futureField"));
  /* the agent's vm-size finding is dropped: the server says that */
  const json_t *findings = json_object_get(st, "findings");
  assert_int_equal(json_array_size(findings), 1);
  const json_t *f = json_array_get(findings, 0);
  assert_string_equal(json_string_value(json_object_get(f, "severity")), "info");
  assert_string_equal(json_string_value(json_object_get(f, "source")), "agent");
  assert_null(json_object_get(f, "found")); /* null is absent */
  const json_t *ev = json_array_get(at(st, "health", "events"), 0);
  assert_string_equal(json_string_value(json_object_get(ev, "time")), "2026-11-19T09:00:00.000Z");
  assert_string_equal(json_string_value(json_object_get(ev, "class")), "Application");
  gp_machine_report_free(r);
}

/* What a report says is kept as it said it: a finding's found value, a one-character reason, and a
 * GPU without a health is Healthy (a GPU that says nothing is not presumed broken). */
static void test_values_kept(void **state) {
  (void)state;
  gp_machine_report *r = parse_ok(
      "{\"properties\":{\"status\":{\"gpus\":[{\"index\":0,\"reasons\":[\"x\"]},{\"index\":1,\"health\":\"Failed\"}],"
      "\"findings\":[{\"code\":\"driver-version\",\"severity\":\"warning\",\"expected\":\"580\",\"found\":\"570\"}]}}}");
  const json_t *st = at(r->doc, "status", NULL);
  const json_t *g0 = json_array_get(json_object_get(st, "gpus"), 0), *g1 = json_array_get(json_object_get(st, "gpus"), 1);
  assert_string_equal(json_string_value(json_object_get(g0, "health")), "Healthy");
  assert_int_equal(json_array_size(json_object_get(g0, "reasons")), 1);
  assert_string_equal(json_string_value(json_array_get(json_object_get(g0, "reasons"), 0)), "x");
  assert_string_equal(json_string_value(json_object_get(g1, "health")), "Failed");
  assert_true(r->health_failed);
  const json_t *f = json_array_get(json_object_get(st, "findings"), 0);
  assert_string_equal(json_string_value(json_object_get(f, "expected")), "580");
  assert_string_equal(json_string_value(json_object_get(f, "found")), "570");
  gp_machine_report_free(r);
}

static void test_defaults(void **state) {
  (void)state;
  const char *bodies[] = {"{}", "{\"properties\":{}}", "{\"properties\":null}", "{\"properties\":{\"status\":null}}"};
  for (size_t i = 0; i < 4; i++) {
    gp_machine_report *r = parse_ok(bodies[i]);
    assert_int_equal(r->interval_s, GP_MACHINE_INTERVAL_DEFAULT);
    assert_int_equal(r->applied_generation, 0);
    char *t = gp_machine_report_text(r);
    assert_string_equal(t, "{\"status\":{\"appliedGeneration\":0,\"findings\":[],\"gpus\":[],\"health\":{\"events\":[],"
                           "\"state\":\"Healthy\"},\"reportIntervalSeconds\":30}}");
    free(t);
    gp_machine_report_free(r);
  }
}

static void test_canonical_text(void **state) {
  (void)state;
  /* the same report in another key order and other enum spellings reads the same */
  gp_machine_report *a = parse_ok("{\"properties\":{\"status\":{\"reportIntervalSeconds\":20,\"gpus\":[{\"index\":1,"
                                  "\"health\":\"FAILED\"}]},\"hardware\":{\"vmSize\":\"x\"}}}");
  gp_machine_report *b = parse_ok("{\"properties\":{\"hardware\":{\"vmSize\":\"x\"},\"status\":{\"gpus\":[{\"health\":"
                                  "\"Failed\",\"index\":1}],\"reportIntervalSeconds\":20,\"lastSeen\":\"x\"}}}");
  gp_machine_report *c = parse_ok("{\"properties\":{\"hardware\":{\"vmSize\":\"x\"},\"status\":{\"gpus\":[{\"health\":"
                                  "\"Degraded\",\"index\":1}],\"reportIntervalSeconds\":20}}}");
  char *ta = gp_machine_report_text(a), *tb = gp_machine_report_text(b), *tc = gp_machine_report_text(c);
  assert_string_equal(ta, tb);
  assert_string_not_equal(ta, tc);
  assert_true(a->health_failed);
  assert_false(c->health_failed);
  free(ta);
  free(tb);
  free(tc);
  gp_machine_report_free(a);
  gp_machine_report_free(b);
  gp_machine_report_free(c);
}

static void test_drift_and_health_facts(void **state) {
  (void)state;
  gp_machine_report *r = parse_ok("{\"properties\":{\"kubernetes\":{\"ready\":false}}}");
  assert_true(r->agent_drift);
  gp_machine_report_free(r);
  r = parse_ok("{\"properties\":{\"kubernetes\":{\"unschedulable\":true,\"ready\":true}}}");
  assert_true(r->agent_drift);
  gp_machine_report_free(r);
  r = parse_ok("{\"properties\":{\"kubernetes\":{\"nodeName\":\"n\"}}}"); /* not known: not drift */
  assert_false(r->agent_drift);
  gp_machine_report_free(r);
  r = parse_ok("{\"properties\":{\"status\":{\"findings\":[{\"code\":\"gpu-count\",\"severity\":\"error\"}]}}}");
  assert_true(r->agent_drift);
  gp_machine_report_free(r);
  r = parse_ok("{\"properties\":{\"status\":{\"findings\":[{\"code\":\"gpu-count\",\"severity\":\"warning\"}]}}}");
  assert_false(r->agent_drift);
  gp_machine_report_free(r);
  r = parse_ok("{\"properties\":{\"status\":{\"health\":{\"state\":\"failed\"}}}}");
  assert_true(r->health_failed);
  gp_machine_report_free(r);
}

static void test_bad_types_name_their_paths(void **state) {
  (void)state;
  gp_error err;
  parse_bad("{\"properties\":{\"hardware\":{\"vmSize\":7},\"kubernetes\":{\"ready\":\"yes\"},"
            "\"status\":{\"reportIntervalSeconds\":\"30\",\"appliedGeneration\":-1,\"gpus\":{},"
            "\"findings\":[{\"severity\":\"error\"},{\"code\":\"x\",\"severity\":\"fatal\"},3],"
            "\"health\":{\"state\":\"Broken\"}}}}",
            &err);
  const char *targets[] = {"properties.hardware.vmSize",
                           "properties.kubernetes.ready",
                           "properties.status.reportIntervalSeconds",
                           "properties.status.appliedGeneration",
                           "properties.status.gpus",
                           "properties.status.findings[0].code",
                           "properties.status.findings[1].severity",
                           "properties.status.findings[2]",
                           "properties.status.health.state"};
  for (size_t i = 0; i < sizeof targets / sizeof *targets; i++)
    if (!has_target(&err, targets[i])) fail_msg("no violation at %s", targets[i]);
  for (size_t i = 0; i < err.count; i++)
    assert_string_equal(err.items[i].code, "InvalidParameter");
  gp_error_clear(&err);
  parse_bad("[1]", &err);
  gp_error_clear(&err);
  parse_bad("{\"properties\":[]}", &err);
  assert_true(has_target(&err, "properties"));
  gp_error_clear(&err);
}

static void test_sizes(void **state) {
  (void)state;
  gp_error err;
  /* 10,000 GPUs: one violation, not ten thousand */
  size_t cap = 10000 * 16 + 100;
  char *big = malloc(cap);
  size_t n = (size_t)snprintf(big, cap, "{\"properties\":{\"status\":{\"gpus\":[");
  for (int i = 0; i < 10000; i++)
    n += (size_t)snprintf(big + n, cap - n, "%s{\"index\":%d}", i ? "," : "", i % 64);
  snprintf(big + n, cap - n, "]}}}");
  parse_bad(big, &err);
  assert_int_equal(err.count, 1);
  assert_string_equal(err.items[0].target, "properties.status.gpus");
  assert_non_null(strstr(err.items[0].message, "at most 64"));
  gp_error_clear(&err);
  free(big);

  char longname[400];
  memset(longname, 'a', 300);
  longname[300] = '\0';
  char body[600];
  snprintf(body, sizeof body, "{\"properties\":{\"kubernetes\":{\"nodeName\":\"%s\"},\"hardware\":{\"vmSize\":\"\"}}}",
           longname);
  parse_bad(body, &err);
  assert_true(has_target(&err, "properties.kubernetes.nodeName"));
  assert_true(has_target(&err, "properties.hardware.vmSize")); /* empty */
  gp_error_clear(&err);

  parse_bad("{\"properties\":{\"status\":{\"gpus\":[{\"index\":64},{\"index\":1},{\"index\":1},{\"index\":2.5},"
            "{\"index\":3,\"instances\":[{\"start\":9,\"size\":0}],\"migMode\":\"Sideways\",\"reasons\":[\"\"]}]}}}",
            &err);
  assert_true(has_target(&err, "properties.status.gpus[0].index"));
  assert_true(has_target(&err, "properties.status.gpus[2].index")); /* listed twice */
  assert_true(has_target(&err, "properties.status.gpus[3].index"));
  assert_true(has_target(&err, "properties.status.gpus[4].instances[0].start"));
  assert_true(has_target(&err, "properties.status.gpus[4].instances[0].size"));
  assert_true(has_target(&err, "properties.status.gpus[4].migMode"));
  assert_true(has_target(&err, "properties.status.gpus[4].reasons[0]"));
  gp_error_clear(&err);

  /* a finding's expected may be any JSON, within 2 KiB */
  static const char head[] = "{\"properties\":{\"status\":{\"findings\":[{\"code\":\"c\",\"severity\":\"info\","
                             "\"expected\":\"";
  char *huge = malloc(4000);
  size_t hn = strlen(head);
  memcpy(huge, head, hn);
  memset(huge + hn, 'x', 3000);
  strcpy(huge + hn + 3000, "\"}]}}}");
  parse_bad(huge, &err);
  assert_true(has_target(&err, "properties.status.findings[0].expected"));
  gp_error_clear(&err);
  free(huge);
}

static void test_many_bad_entries_are_capped(void **state) {
  (void)state;
  gp_error err;
  size_t cap = 1000 * 40 + 100;
  char *big = malloc(cap);
  size_t n = (size_t)snprintf(big, cap, "{\"properties\":{\"status\":{\"health\":{\"events\":[");
  for (int i = 0; i < 1000; i++)
    n += (size_t)snprintf(big + n, cap - n, "%s{\"time\":\"never\",\"gpu\":-1}", i ? "," : "");
  snprintf(big + n, cap - n, "]}}}}");
  parse_bad(big, &err);
  assert_true(err.count <= 100);
  assert_true(has_target(&err, "properties.status.health.events[0].time"));
  gp_error_clear(&err);
  free(big);
}

static void test_events_newest_twenty(void **state) {
  (void)state;
  size_t cap = 30 * 80 + 100;
  char *body = malloc(cap);
  size_t n = (size_t)snprintf(body, cap, "{\"properties\":{\"status\":{\"health\":{\"events\":[");
  /* 30 events given newest first: the 20 newest are kept, oldest first */
  for (int i = 29; i >= 0; i--)
    n += (size_t)snprintf(body + n, cap - n, "%s{\"time\":\"2026-11-19T10:%02d:00Z\",\"xid\":%d}", i == 29 ? "" : ",",
                          i, i);
  snprintf(body + n, cap - n, "]}}}}");
  gp_machine_report *r = parse_ok(body);
  const json_t *events = at(at(r->doc, "status", "health"), "events", NULL);
  assert_int_equal(json_array_size(events), 20);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(events, 0), "xid")), 10);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(events, 19), "xid")), 29);
  gp_machine_report_free(r);
  free(body);

  gp_error err;
  parse_bad("{\"properties\":{\"status\":{\"health\":{\"events\":[{\"time\":\"2026-02-30T00:00:00Z\"},{\"xid\":79},"
            "{\"time\":\"2026-11-19T10:00:00Z\",\"class\":\"Catastrophic\",\"gpu\":99}]}}}}",
            &err);
  assert_true(has_target(&err, "properties.status.health.events[0].time"));
  assert_true(has_target(&err, "properties.status.health.events[1].time")); /* required */
  assert_true(has_target(&err, "properties.status.health.events[2].class"));
  assert_true(has_target(&err, "properties.status.health.events[2].gpu"));
  gp_error_clear(&err);
}

static void test_server_findings(void **state) {
  (void)state;
  gp_machine_report *r = parse_ok(
      "{\"properties\":{\"hardware\":{\"vmSize\":\"Standard_NC4as_T4_v3\"},\"status\":{\"health\":{\"events\":["
      "{\"time\":\"1970-01-01T00:00:00Z\"},{\"time\":\"9999-12-31T23:59:59Z\"},{\"time\":\"2026-11-19T00:00:00Z\"}]}}}"
      "}");
  json_t *f = gp_machine_server_findings(r, "Standard_NC24ads_A100_v4", NOW);
  assert_int_equal(json_array_size(f), 2);
  const json_t *vm = json_array_get(f, 0), *t = json_array_get(f, 1);
  assert_string_equal(json_string_value(json_object_get(vm, "code")), "vm-size");
  assert_string_equal(json_string_value(json_object_get(vm, "expected")), "Standard_NC24ads_A100_v4");
  assert_string_equal(json_string_value(json_object_get(vm, "found")), "Standard_NC4as_T4_v3");
  assert_string_equal(json_string_value(json_object_get(vm, "source")), "server");
  assert_string_equal(json_string_value(json_object_get(t, "code")), "event-time");
  assert_non_null(strstr(json_string_value(json_object_get(t, "message")), "2 health event(s)"));
  assert_true(gp_machine_findings_have_error(f));
  json_decref(f);
  /* the same size in another case, and no pool size to compare with: nothing */
  f = gp_machine_server_findings(r, "standard_nc4as_t4_v3", 2000000000000000LL);
  assert_int_equal(json_array_size(f), 1); /* only the 1970 event, now that 9999 is "not ahead" */
  json_decref(f);
  gp_machine_report_free(r);
  r = parse_ok("{\"properties\":{\"hardware\":{\"vmSize\":\"Standard_NC4as_T4_v3\"}}}");
  f = gp_machine_server_findings(r, NULL, NOW);
  assert_int_equal(json_array_size(f), 0);
  assert_false(gp_machine_findings_have_error(f));
  json_decref(f);
  gp_machine_report_free(r);
}

static void test_state_order(void **state) {
  (void)state;
  /* every combination of the four facts: the first that holds wins */
  for (int bits = 0; bits < 16; bits++) {
    gp_machine_facts f = {.reporting = bits & 1, .health_failed = bits & 2, .applying = bits & 4, .drifted = bits & 8};
    gp_machine_state want = !f.reporting      ? GP_MACHINE_NOT_REPORTING
                            : f.health_failed ? GP_MACHINE_UNHEALTHY
                            : f.applying      ? GP_MACHINE_APPLYING
                            : f.drifted       ? GP_MACHINE_DRIFTED
                                              : GP_MACHINE_CONFORMANT;
    assert_int_equal(gp_machine_state_of(&f), want);
  }
  assert_string_equal(gp_machine_state_name(GP_MACHINE_NOT_REPORTING), "NotReporting");
  assert_string_equal(gp_machine_state_name(GP_MACHINE_CONFORMANT), "Conformant");
}

static void test_reporting_window(void **state) {
  (void)state;
  /* lag = min(coalesce, interval, 30 s) */
  assert_int_equal(gp_machine_lag_ms(60, 10000), 10000);
  assert_int_equal(gp_machine_lag_ms(5, 10000), 5000);
  assert_int_equal(gp_machine_lag_ms(600, 100000), 30000);
  assert_int_equal(gp_machine_lag_ms(2, 0), 0);
  /* interval 2 s, coalescing 500 ms: reporting up to 6.5 s after the last report */
  assert_true(gp_machine_is_reporting(NOW, 2, 500, NOW + 6500));
  assert_false(gp_machine_is_reporting(NOW, 2, 500, NOW + 6501));
  assert_true(gp_machine_is_reporting(NOW, 60, 10000, NOW + 190000));
  assert_false(gp_machine_is_reporting(NOW, 60, 10000, NOW + 190001));
}

static void test_view(void **state) {
  (void)state;
  gp_machine_report *r = parse_ok(full_report);
  json_t *sf = gp_machine_server_findings(r, "Standard_ND96isr_H100_v5", NOW);
  gp_machine_server s = {"/subscriptions/x/machines/Node-1", "Node-1", "e1", NOW, 4, GP_MACHINE_APPLYING};
  json_t *v = gp_machine_view(r->doc, sf, &s);
  assert_string_equal(json_string_value(json_object_get(v, "type")), GP_MACHINE_TYPE);
  assert_string_equal(json_string_value(json_object_get(v, "name")), "Node-1");
  const json_t *p = json_object_get(v, "properties"), *st = json_object_get(p, "status");
  assert_string_equal(json_string_value(json_object_get(st, "state")), "Applying");
  assert_int_equal(json_integer_value(json_object_get(st, "targetGeneration")), 4);
  assert_string_equal(json_string_value(json_object_get(st, "lastSeen")), "2026-11-18T11:06:40.000Z");
  assert_string_equal(json_string_value(json_object_get(p, "provisioningState")), "Succeeded");
  assert_string_equal(json_string_value(json_object_get(p, "eTag")), "e1");
  const json_t *findings = json_object_get(st, "findings");
  assert_int_equal(json_array_size(findings), 2); /* the agent's, then the server's */
  assert_string_equal(json_string_value(json_object_get(json_array_get(findings, 1), "code")), "vm-size");
  /* the stored report is not changed by a view */
  assert_int_equal(json_array_size(json_object_get(json_object_get(r->doc, "status"), "findings")), 1);
  json_decref(v);
  json_decref(sf);
  gp_machine_report_free(r);
}

static void test_counts(void **state) {
  (void)state;
  gp_machine_counts c = {{1, 2, 3, 4, 5}};
  json_t *j = gp_machine_counts_json(&c, 20);
  assert_int_equal(json_integer_value(json_object_get(j, "total")), 15);
  assert_int_equal(json_integer_value(json_object_get(j, "notReporting")), 1);
  assert_int_equal(json_integer_value(json_object_get(j, "unhealthy")), 2);
  assert_int_equal(json_integer_value(json_object_get(j, "applying")), 3);
  assert_int_equal(json_integer_value(json_object_get(j, "drifted")), 4);
  assert_int_equal(json_integer_value(json_object_get(j, "conformant")), 5);
  assert_int_equal(json_integer_value(json_object_get(j, "missing")), 5);
  json_decref(j);
  j = gp_machine_counts_json(&c, 3); /* more registered than the pool's count: none missing */
  assert_int_equal(json_integer_value(json_object_get(j, "missing")), 0);
  json_decref(j);
}

static void test_time(void **state) {
  (void)state;
  int64_t ms;
  char buf[40];
  assert_true(gp_time_parse("2026-11-18T11:06:40Z", &ms));
  assert_int_equal(ms, NOW);
  assert_true(gp_time_parse("2026-11-18t11:06:40.5z", &ms));
  assert_int_equal(ms, NOW + 500);
  assert_true(gp_time_parse("2026-11-18T13:06:40.123456789+02:00", &ms));
  assert_int_equal(ms, NOW + 123);
  assert_true(gp_time_parse("2026-11-18T10:36:40-00:30", &ms));
  assert_int_equal(ms, NOW);
  const char *bad[] = {"2026-11-18T11:06:40",      "2026-11-19 11:06:40Z",
                       "2026-13-01T00:00:00Z",     "2026-02-30T00:00:00Z",
                       "2026-11-19T25:00:00Z",     "2026-11-18T11:06:40.Z",
                       "2026-11-18T11:06:40+0200", "+026-11-19T11:06:40Z",
                       "2026-11-18T11:06:40Zjunk", "",
                       "2026-1-19T11:06:40Z",      "2026-11-18T11:06:40+0/:00",
                       "2026-11-18T11:06:40+3:00"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (gp_time_parse(bad[i], &ms)) fail_msg("accepted %s", bad[i]);
  gp_time_format(NOW + 7, buf, sizeof buf);
  assert_string_equal(buf, "2026-11-18T11:06:40.007Z");
  gp_time_format(0, buf, sizeof buf);
  assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

static void test_machine_names(void **state) {
  (void)state;
  const char *good[] = {"a", "aks-gpu1-12345678-vmss000000", "0", "node-1",
                        "a23456789012345678901234567890123456789012345"
                        "678901234567890123"};
  const char *bad[] = {"",
                       "-a",
                       "a-",
                       "Node",
                       "a_b",
                       "a.b",
                       "a23456789012345678901234567890123456789012345678901234567890"
                       "12345",
                       "a b"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    if (!gp_name_valid_machine(good[i])) fail_msg("refused %s", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (gp_name_valid_machine(bad[i])) fail_msg("accepted %s", bad[i]);
  assert_false(gp_name_valid_machine(NULL)); /* no name: refused, nothing read */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_report),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_values_kept),
      cmocka_unit_test(test_canonical_text),
      cmocka_unit_test(test_drift_and_health_facts),
      cmocka_unit_test(test_bad_types_name_their_paths),
      cmocka_unit_test(test_sizes),
      cmocka_unit_test(test_many_bad_entries_are_capped),
      cmocka_unit_test(test_events_newest_twenty),
      cmocka_unit_test(test_server_findings),
      cmocka_unit_test(test_state_order),
      cmocka_unit_test(test_reporting_window),
      cmocka_unit_test(test_view),
      cmocka_unit_test(test_counts),
      cmocka_unit_test(test_time),
      cmocka_unit_test(test_machine_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
