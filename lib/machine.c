/* machine.c - a node's machine resource (see machine.h).
 *
 * A report comes from a program on a node, which may be old, new, buggy or hostile: every member is
 * checked for its type, range and size before it is copied into the canonical document, and the
 * document is built member by member (nothing of the input is kept by reference), so what is stored
 * is exactly what was checked. Unknown members are dropped rather than refused: an agent newer than
 * the server may report more, and the report should still count. */
#include "gpupool/machine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gpupool/enums.h"
#include "json_util.h"

#define BAD "InvalidParameter"
#define MAX_VIOLATIONS 100                /* a report with thousands of bad entries gets the first hundred */
#define MAX_VALUE_TEXT 2048               /* a finding's expected/found, as JSON text */
#define GENERATION_MAX 9007199254740991LL /* 2^53 - 1: exact in every JSON reader */

static const char *const state_names[GP_MACHINE_STATE_COUNT] = {"NotReporting", "Unhealthy", "Applying", "Drifted",
                                                                "Conformant"};

const char *gp_machine_state_name(gp_machine_state s) {
  return (unsigned)s < GP_MACHINE_STATE_COUNT ? state_names[s] : "NotReporting";
}

/* Codes of the findings only the server makes; an agent sending one is ignored (it cannot vouch). */
static const char *const server_codes[] = {"vm-size", "event-time", NULL};

/* ---- checked reads ----------------------------------------------------------------------------- */

typedef struct {
  gp_error *err;
  bool oom;
} ctx;

static bool full(const ctx *c) { return c->err->count >= MAX_VIOLATIONS; }

static void bad(ctx *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad(ctx *c, const char *path, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  if (full(c)) return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  gp_error_add(c->err, BAD, path, "%s", msg);
}

/* A member, with null read as absent (an agent that does not know a value may say null). */
static const json_t *member(const json_t *o, const char *k) {
  const json_t *v = json_object_get(o, k);
  return json_is_null(v) ? NULL : v;
}

static void set(ctx *c, json_t *o, const char *k, json_t *v) {
  if (!v || json_object_set_new(o, k, v)) c->oom = true;
}

static void push(ctx *c, json_t *a, json_t *v) {
  if (!v || json_array_append_new(a, v)) c->oom = true;
}

/* An object member (NULL when absent); a violation when it is something else. */
static const json_t *object_at(ctx *c, const json_t *o, const char *k, const char *path) {
  const json_t *v = member(o, k);
  char p[GP_PATH_MAX];
  if (!v || json_is_object(v)) return v;
  gpj_path(p, sizeof p, path, k);
  bad(c, p, "'%s' must be an object, not %s.", p, gpj_type_name(v));
  return NULL;
}

/* An array member of at most max entries (NULL when absent or refused). */
static const json_t *array_at(ctx *c, const json_t *o, const char *k, const char *path, size_t max) {
  const json_t *v = member(o, k);
  char p[GP_PATH_MAX];
  if (!v) return NULL;
  gpj_path(p, sizeof p, path, k);
  if (!json_is_array(v)) {
    bad(c, p, "'%s' must be an array, not %s.", p, gpj_type_name(v));
    return NULL;
  }
  if (json_array_size(v) > max) {
    bad(c, p, "'%s' has %zu entries; at most %zu are allowed.", p, json_array_size(v), max);
    return NULL;
  }
  return v;
}

/* A string member of 1 to max bytes, copied into out[k]; its value (NULL when absent or refused). */
static const char *copy_string(ctx *c, json_t *out, const json_t *in, const char *k, const char *path, size_t max) {
  const json_t *v = member(in, k);
  char p[GP_PATH_MAX];
  if (!v) return NULL;
  size_t n = json_is_string(v) ? json_string_length(v) : 0;
  if (json_is_string(v) && n >= 1 && n <= max && strlen(json_string_value(v)) == n) {
    set(c, out, k, json_string(json_string_value(v)));
    return json_string_value(v);
  }
  gpj_path(p, sizeof p, path, k);
  if (!json_is_string(v))
    bad(c, p, "'%s' must be a string, not %s.", p, gpj_type_name(v));
  else if (n == 0 || n > max)
    bad(c, p, "'%s' must be 1 to %zu characters long, not %zu.", p, max, n);
  else
    bad(c, p, "'%s' must not contain NUL characters.", p);
  return NULL;
}

/* An enum member (case-insensitive), copied into out[k] in its canonical spelling; 0 when absent. */
static int copy_enum(ctx *c, json_t *out, const json_t *in, const char *k, const char *path, const gp_enum_names *t) {
  const json_t *v = member(in, k);
  char p[GP_PATH_MAX], list[160];
  if (!v) return 0;
  int e = json_is_string(v) ? gp_enum_parse(t, json_string_value(v)) : 0;
  if (e) {
    set(c, out, k, json_string(gp_enum_name(t, e)));
    return e;
  }
  gpj_path(p, sizeof p, path, k);
  gp_enum_list(t, list, sizeof list);
  if (json_is_string(v))
    bad(c, p, "'%.64s' is not a valid value for '%s'. Allowed values: %s.", json_string_value(v), p, list);
  else
    bad(c, p, "'%s' must be a string, not %s. Allowed values: %s.", p, gpj_type_name(v), list);
  return -1;
}

/* An integer member in [lo, hi], copied into out[k] when out is non-NULL. */
static bool copy_int(ctx *c, json_t *out, const json_t *in, const char *k, const char *path, int64_t lo, int64_t hi,
                     int64_t *val) {
  const json_t *v = member(in, k);
  char p[GP_PATH_MAX];
  if (!v) return false;
  if (json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi) {
    *val = json_integer_value(v);
    if (out) set(c, out, k, json_integer(*val));
    return true;
  }
  gpj_path(p, sizeof p, path, k);
  if (json_is_integer(v))
    bad(c, p, "'%s' must be from %lld to %lld, not %lld.", p, (long long)lo, (long long)hi,
        (long long)json_integer_value(v));
  else
    bad(c, p, "'%s' must be a whole number, not %s.", p, gpj_type_name(v));
  return false;
}

/* A boolean member copied into out[k]: 1 true, 0 false, -1 absent or refused. */
static int copy_bool(ctx *c, json_t *out, const json_t *in, const char *k, const char *path) {
  const json_t *v = member(in, k);
  char p[GP_PATH_MAX];
  if (!v) return -1;
  if (json_is_boolean(v)) {
    set(c, out, k, json_boolean(json_is_true(v)));
    return json_is_true(v);
  }
  gpj_path(p, sizeof p, path, k);
  bad(c, p, "'%s' must be true or false, not %s.", p, gpj_type_name(v));
  return -1;
}

/* An array of strings of 1 to max bytes each. */
static void copy_strings(ctx *c, json_t *out, const json_t *in, const char *k, const char *path, size_t count,
                         size_t max) {
  const json_t *a = array_at(c, in, k, path, count), *x;
  char p[GP_PATH_MAX], ip[GP_PATH_MAX];
  size_t i;
  if (!a) return;
  json_t *list = json_array();
  gpj_path(p, sizeof p, path, k);
  json_array_foreach(a, i, x) {
    size_t n = json_is_string(x) ? json_string_length(x) : 0;
    if (json_is_string(x) && n >= 1 && n <= max && strlen(json_string_value(x)) == n) {
      push(c, list, json_string(json_string_value(x)));
    } else {
      snprintf(ip, sizeof ip, "%s[%zu]", p, i);
      bad(c, ip, "'%s' must be a string of 1 to %zu characters.", ip, max);
    }
  }
  set(c, out, k, list);
}

/* A finding's expected/found: any JSON value of bounded size, copied. */
static void copy_value(ctx *c, json_t *out, const json_t *in, const char *k, const char *path) {
  const json_t *v = member(in, k);
  char p[GP_PATH_MAX];
  if (!v) return;
  char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
  if (!text) {
    c->oom = true;
    return;
  }
  if (strlen(text) > MAX_VALUE_TEXT) {
    gpj_path(p, sizeof p, path, k);
    bad(c, p, "'%s' is %zu bytes as JSON; at most %d are allowed.", p, strlen(text), MAX_VALUE_TEXT);
  } else {
    set(c, out, k, json_deep_copy(v));
  }
  free(text);
}

static void index_path(char *out, size_t size, const char *path, const char *k, size_t i) {
  char p[GP_PATH_MAX];
  gpj_path(p, sizeof p, path, k);
  snprintf(out, size, "%s[%zu]", p, i);
}

/* "gpus": [0, 3]: the GPUs a finding is about. */
static void copy_gpu_indexes(ctx *c, json_t *out, const json_t *in, const char *path) {
  const json_t *a = array_at(c, in, "gpus", path, GP_MACHINE_GPUS_MAX), *x;
  char p[GP_PATH_MAX];
  size_t i;
  if (!a) return;
  json_t *list = json_array();
  json_array_foreach(a, i, x) {
    if (json_is_integer(x) && json_integer_value(x) >= 0 && json_integer_value(x) < GP_MACHINE_GPUS_MAX) {
      push(c, list, json_integer(json_integer_value(x)));
    } else {
      index_path(p, sizeof p, path, "gpus", i);
      bad(c, p, "'%s' must be a GPU index from 0 to %d.", p, GP_MACHINE_GPUS_MAX - 1);
    }
  }
  set(c, out, "gpus", list);
}

/* ---- the parts of a report ------------------------------------------------------------------------ */

static json_t *section(ctx *c, const json_t *props, const char *k, const char *path, char *sub, size_t size) {
  const json_t *in = object_at(c, props, k, path);
  gpj_path(sub, size, path, k);
  return in ? (json_t *)in : NULL;
}

static void parse_gpu(ctx *c, const json_t *g, const char *p, size_t pos, json_t *out, uint64_t *seen, bool *failed) {
  char ip[GP_PATH_MAX];
  int64_t index = (int64_t)pos, v;
  if (!json_is_object(g)) {
    bad(c, p, "'%s' must be an object, not %s.", p, gpj_type_name(g));
    return;
  }
  json_t *o = json_object();
  if (!copy_int(c, NULL, g, "index", p, 0, GP_MACHINE_GPUS_MAX - 1, &index) && member(g, "index")) index = -1;
  if (index >= 0) {
    if (*seen & (1ull << index)) {
      gpj_path(ip, sizeof ip, p, "index");
      bad(c, ip, "'%s': GPU index %lld is listed twice.", ip, (long long)index);
    }
    *seen |= 1ull << index;
    set(c, o, "index", json_integer(index));
  }
  copy_string(c, o, g, "uuid", p, 96);
  copy_string(c, o, g, "model", p, 64);
  copy_enum(c, o, g, "migMode", p, &gp_mig_mode_names);
  const json_t *insts = array_at(c, g, "instances", p, 8), *x;
  if (insts) {
    json_t *list = json_array();
    size_t i;
    json_array_foreach(insts, i, x) {
      index_path(ip, sizeof ip, p, "instances", i);
      if (!json_is_object(x)) {
        bad(c, ip, "'%s' must be an object, not %s.", ip, gpj_type_name(x));
        continue;
      }
      json_t *inst = json_object();
      copy_string(c, inst, x, "profile", ip, 32);
      copy_int(c, inst, x, "start", ip, 0, 7, &v);
      copy_int(c, inst, x, "size", ip, 1, 8, &v);
      push(c, list, inst);
    }
    set(c, o, "instances", list);
  }
  int health = copy_enum(c, o, g, "health", p, &gp_health_names);
  if (health == 0) set(c, o, "health", json_string(gp_enum_name(&gp_health_names, GP_HEALTH_HEALTHY)));
  if (health == GP_HEALTH_FAILED) *failed = true;
  copy_strings(c, o, g, "reasons", p, 16, 256);
  push(c, out, o);
}

static void parse_gpus(ctx *c, const json_t *status, const char *path, json_t *out_status, bool *failed) {
  const json_t *gpus = array_at(c, status, "gpus", path, GP_MACHINE_GPUS_MAX), *g;
  json_t *list = json_array();
  uint64_t seen = 0;
  char p[GP_PATH_MAX];
  size_t i;
  json_array_foreach(gpus, i, g) {
    if (full(c)) break;
    index_path(p, sizeof p, path, "gpus", i);
    parse_gpu(c, g, p, i, list, &seen, failed);
  }
  set(c, out_status, "gpus", list);
}

static bool server_code(const char *code) {
  for (size_t i = 0; server_codes[i]; i++)
    if (strcmp(server_codes[i], code) == 0) return true;
  return false;
}

static void parse_findings(ctx *c, const json_t *status, const char *path, json_t *out_status, bool *error) {
  const json_t *fs = array_at(c, status, "findings", path, GP_MACHINE_FINDINGS_MAX), *f;
  json_t *list = json_array();
  char p[GP_PATH_MAX], cp[GP_PATH_MAX];
  size_t i;
  json_array_foreach(fs, i, f) {
    if (full(c)) break;
    index_path(p, sizeof p, path, "findings", i);
    if (!json_is_object(f)) {
      bad(c, p, "'%s' must be an object, not %s.", p, gpj_type_name(f));
      continue;
    }
    json_t *o = json_object();
    const char *code = copy_string(c, o, f, "code", p, 64);
    int sev = copy_enum(c, o, f, "severity", p, &gp_severity_names);
    if (!member(f, "code")) {
      gpj_path(cp, sizeof cp, p, "code");
      bad(c, cp, "'%s' is required: what the check found, e.g. 'gpu-count'.", cp);
    }
    if (sev == 0) {
      gpj_path(cp, sizeof cp, p, "severity");
      bad(c, cp, "'%s' is required. Allowed values: 'error', 'warning' or 'info'.", cp);
    }
    copy_value(c, o, f, "expected", p);
    copy_value(c, o, f, "found", p);
    copy_string(c, o, f, "message", p, 1024);
    copy_gpu_indexes(c, o, f, p);
    if (code && server_code(code)) { /* the server's to say; an agent cannot */
      json_decref(o);
      continue;
    }
    if (sev == GP_SEVERITY_ERROR) *error = true;
    set(c, o, "source", json_string("agent"));
    push(c, list, o);
  }
  set(c, out_status, "findings", list);
}

typedef struct {
  int64_t ms;
  size_t pos;
  json_t *event;
} dated;

static int by_time(const void *a, const void *b) {
  const dated *x = a, *y = b;
  if (x->ms != y->ms) return x->ms < y->ms ? -1 : 1;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void parse_health(ctx *c, const json_t *status, const char *path, json_t *out_status, bool *failed) {
  char hp[GP_PATH_MAX], p[GP_PATH_MAX], tp[GP_PATH_MAX];
  const json_t *h = object_at(c, status, "health", path);
  json_t *o = json_object();
  gpj_path(hp, sizeof hp, path, "health");
  int state = h ? copy_enum(c, o, h, "state", hp, &gp_health_names) : 0;
  if (state == 0) set(c, o, "state", json_string(gp_enum_name(&gp_health_names, GP_HEALTH_HEALTHY)));
  if (state == GP_HEALTH_FAILED) *failed = true;
  const json_t *events = h ? array_at(c, h, "events", hp, GP_MACHINE_EVENTS_MAX) : NULL, *e;
  dated *kept = calloc(json_array_size(events) + 1, sizeof *kept);
  size_t n = 0, i;
  int64_t v;
  if (!kept) c->oom = true;
  json_array_foreach(events, i, e) {
    if (full(c) || !kept) break;
    index_path(p, sizeof p, hp, "events", i);
    if (!json_is_object(e)) {
      bad(c, p, "'%s' must be an object, not %s.", p, gpj_type_name(e));
      continue;
    }
    json_t *ev = json_object();
    const json_t *t = member(e, "time");
    int64_t ms = 0;
    gpj_path(tp, sizeof tp, p, "time");
    if (!t)
      bad(c, tp, "'%s' is required: when the event happened, in RFC 3339 (2026-11-26T18:40:31Z).", tp);
    else if (!json_is_string(t) || !gp_time_parse(json_string_value(t), &ms))
      bad(c, tp, "'%s' must be an RFC 3339 date-time such as 2026-11-26T18:40:31Z, not %.64s.", tp,
          json_is_string(t) ? json_string_value(t) : gpj_type_name(t));
    else {
      char when[40];
      gp_time_format(ms, when, sizeof when);
      set(c, ev, "time", json_string(when));
    }
    copy_int(c, ev, e, "gpu", p, 0, GP_MACHINE_GPUS_MAX - 1, &v);
    copy_int(c, ev, e, "xid", p, 0, 65535, &v);
    copy_enum(c, ev, e, "class", p, &gp_health_class_names);
    copy_string(c, ev, e, "message", p, 512);
    kept[n++] = (dated){ms, i, ev};
  }
  /* The newest GP_MACHINE_EVENTS_KEPT, oldest first; equal times keep the agent's order. */
  if (kept) qsort(kept, n, sizeof *kept, by_time);
  json_t *list = json_array();
  for (size_t k = 0; k < n; k++) {
    if (k + GP_MACHINE_EVENTS_KEPT >= n)
      push(c, list, kept[k].event);
    else
      json_decref(kept[k].event);
  }
  free(kept);
  set(c, o, "events", list);
  set(c, out_status, "health", o);
}

gp_machine_report *gp_machine_report_parse(const json_t *body, gp_error *err) {
  ctx c = {err, false};
  size_t before = err->count;
  char sub[GP_PATH_MAX];
  int64_t v;
  gp_machine_report *r = calloc(1, sizeof *r);
  if (!r) {
    err->oom = true;
    return NULL;
  }
  r->interval_s = GP_MACHINE_INTERVAL_DEFAULT;
  if (!json_is_object(body)) {
    bad(&c, NULL, "The request body must be a JSON object such as {\"properties\": {...}}, not %s.",
        gpj_type_name(body));
    free(r);
    return NULL;
  }
  const json_t *props = object_at(&c, body, "properties", "");
  json_t *doc = json_object();
  if (!doc) c.oom = true;

  const json_t *in = section(&c, props, "hardware", "properties", sub, sizeof sub);
  if (in) {
    json_t *o = json_object();
    copy_string(&c, o, in, "vmSize", sub, 80);
    set(&c, doc, "hardware", o);
  }
  if ((in = section(&c, props, "operatingSystem", "properties", sub, sizeof sub))) {
    json_t *o = json_object();
    copy_enum(&c, o, in, "osType", sub, &gp_os_type_names);
    copy_enum(&c, o, in, "osSKU", sub, &gp_os_sku_names);
    set(&c, doc, "operatingSystem", o);
  }
  if ((in = section(&c, props, "kubernetes", "properties", sub, sizeof sub))) {
    json_t *o = json_object();
    copy_string(&c, o, in, "nodeName", sub, 253);
    copy_string(&c, o, in, "kubeletVersion", sub, 64);
    /* Not ready, or still cordoned: the node does not take the pool's work as it should. */
    if (copy_bool(&c, o, in, "ready", sub) == 0) r->agent_drift = true;
    if (copy_bool(&c, o, in, "unschedulable", sub) == 1) r->agent_drift = true;
    set(&c, doc, "kubernetes", o);
  }
  const json_t *status = section(&c, props, "status", "properties", sub, sizeof sub);
  json_t *st = json_object();
  copy_string(&c, st, status, "agentVersion", sub, 64);
  if (copy_int(&c, NULL, status, "reportIntervalSeconds", sub, 1, GP_MACHINE_INTERVAL_MAX, &v)) r->interval_s = (int)v;
  set(&c, st, "reportIntervalSeconds", json_integer(r->interval_s));
  if (copy_int(&c, NULL, status, "appliedGeneration", sub, 0, GENERATION_MAX, &v)) r->applied_generation = v;
  set(&c, st, "appliedGeneration", json_integer(r->applied_generation));
  parse_gpus(&c, status, sub, st, &r->health_failed);
  parse_findings(&c, status, sub, st, &r->agent_drift);
  parse_health(&c, status, sub, st, &r->health_failed);
  set(&c, doc, "status", st);

  if (c.oom) err->oom = true;
  if (c.oom || err->count > before) {
    json_decref(doc);
    free(r);
    return NULL;
  }
  r->doc = doc;
  return r;
}

void gp_machine_report_free(gp_machine_report *r) {
  if (!r) return;
  json_decref(r->doc);
  free(r);
}

char *gp_machine_report_text(const gp_machine_report *r) { return json_dumps(r->doc, JSON_COMPACT | JSON_SORT_KEYS); }

/* ---- the server's findings ------------------------------------------------------------------------ */

static json_t *finding(const char *code, json_t *expected, json_t *found, const char *message) {
  return json_pack("{s:s,s:s,s:o,s:o,s:s,s:s}", "code", code, "severity", "error", "expected",
                   expected ? expected : json_null(), "found", found ? found : json_null(), "message", message,
                   "source", "server");
}

json_t *gp_machine_server_findings(const gp_machine_report *r, const char *pool_vm_size, int64_t now_ms) {
  json_t *list = json_array();
  bool oom = !list;
  const char *vm = json_string_value(json_object_get(json_object_get(r->doc, "hardware"), "vmSize"));
  if (!oom && vm && pool_vm_size && strcasecmp(vm, pool_vm_size) != 0) {
    char msg[400];
    snprintf(msg, sizeof msg,
             "The node is a %.80s but its pool is made of %.80s: the pool's plan does not fit it. Move the node to a "
             "pool of its size, or remove it (DELETE the machine).",
             vm, pool_vm_size);
    oom = json_array_append_new(list, finding("vm-size", json_string(pool_vm_size), json_string(vm), msg)) != 0;
  }
  const json_t *events = json_object_get(json_object_get(json_object_get(r->doc, "status"), "health"), "events"), *e;
  size_t i, odd = 0;
  const char *first = NULL;
  json_array_foreach(events, i, e) {
    int64_t ms;
    const char *t = json_string_value(json_object_get(e, "time"));
    if (t && gp_time_parse(t, &ms) &&
        (ms < GP_MACHINE_EVENT_TIME_MIN_MS || ms > now_ms + GP_MACHINE_EVENT_TIME_AHEAD_MS)) {
      if (!first) first = t;
      odd++;
    }
  }
  if (!oom && odd) {
    char msg[400], now[40];
    gp_time_format(now_ms, now, sizeof now);
    snprintf(msg, sizeof msg,
             "%zu health event(s) are dated %s, before 2000 or more than a day after the server's clock (%s): the "
             "node's clock is wrong. Fix its time synchronisation (NTP).",
             odd, first, now);
    oom = json_array_append_new(list, finding("event-time", json_string("2000-01-01T00:00:00.000Z .. now + 1 day"),
                                              json_string(first), msg)) != 0;
  }
  if (oom) {
    json_decref(list);
    return NULL;
  }
  return list;
}

bool gp_machine_findings_have_error(const json_t *findings) {
  const json_t *f;
  size_t i;
  json_array_foreach(findings, i, f) {
    const char *s = json_string_value(json_object_get(f, "severity"));
    if (s && strcmp(s, "error") == 0) return true;
  }
  return false;
}

/* ---- state ------------------------------------------------------------------------------------------ */

gp_machine_state gp_machine_state_of(const gp_machine_facts *f) {
  if (!f->reporting) return GP_MACHINE_NOT_REPORTING;
  if (f->health_failed) return GP_MACHINE_UNHEALTHY;
  if (f->applying) return GP_MACHINE_APPLYING;
  if (f->drifted) return GP_MACHINE_DRIFTED;
  return GP_MACHINE_CONFORMANT;
}

int64_t gp_machine_lag_ms(int interval_s, int64_t coalesce_ms) {
  int64_t lag = coalesce_ms < GP_MACHINE_LAG_MAX_MS ? coalesce_ms : GP_MACHINE_LAG_MAX_MS;
  int64_t interval_ms = (int64_t)(interval_s > 0 ? interval_s : GP_MACHINE_INTERVAL_DEFAULT) * 1000;
  if (lag > interval_ms) lag = interval_ms;
  return lag > 0 ? lag : 0;
}

bool gp_machine_is_reporting(int64_t last_seen_ms, int interval_s, int64_t coalesce_ms, int64_t now_ms) {
  int64_t interval_ms = (int64_t)(interval_s > 0 ? interval_s : GP_MACHINE_INTERVAL_DEFAULT) * 1000;
  return now_ms - last_seen_ms <= 3 * interval_ms + gp_machine_lag_ms(interval_s, coalesce_ms);
}

/* ---- views ------------------------------------------------------------------------------------------ */

json_t *gp_machine_view(const json_t *report, const json_t *server_findings, const gp_machine_server *s) {
  char seen[40];
  const char *k;
  json_t *v;
  gp_time_format(s->last_seen_ms, seen, sizeof seen);
  /* The server's fields first, where a reader looks; then what the agent reported. */
  json_t *props = json_object(),
         *status = json_pack("{s:s,s:s,s:I}", "state", gp_machine_state_name(s->state), "lastSeen", seen,
                             "targetGeneration", (json_int_t)s->target_generation);
  bool oom = !props || !status;
  json_object_foreach((json_t *)report, k, v) {
    if (!oom && strcmp(k, "status") != 0) oom = json_object_set_new(props, k, json_deep_copy(v)) != 0;
  }
  json_object_foreach(json_object_get(report, "status"), k, v) {
    if (!oom && strcmp(k, "findings") != 0) oom = json_object_set_new(status, k, json_deep_copy(v)) != 0;
  }
  json_t *findings = json_deep_copy(json_object_get(json_object_get(report, "status"), "findings"));
  if (!findings) findings = json_array();
  if (!findings || (server_findings && json_array_extend(findings, (json_t *)server_findings))) {
    json_decref(findings);
    oom = true;
  } else if (json_object_set_new(status, "findings", findings)) { /* set_new takes the reference, always */
    oom = true;
  }
  if (oom) {
    json_decref(status);
    json_decref(props);
    return NULL;
  }
  if (json_object_set_new(props, "status", status) ||
      json_object_set_new(props, "provisioningState", json_string("Succeeded")) ||
      (s->etag && json_object_set_new(props, "eTag", json_string(s->etag)))) {
    json_decref(props);
    return NULL;
  }
  json_t *view =
      json_pack("{s:s?,s:s,s:s?,s:o}", "name", s->name, "type", GP_MACHINE_TYPE, "id", s->id, "properties", props);
  return view;
}

json_t *gp_machine_counts_json(const gp_machine_counts *c, int64_t pool_count) {
  int64_t total = 0;
  for (int i = 0; i < GP_MACHINE_STATE_COUNT; i++)
    total += c->by_state[i];
  int64_t missing = pool_count > total ? pool_count - total : 0;
  return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "total", (json_int_t)total, "conformant",
                   (json_int_t)c->by_state[GP_MACHINE_CONFORMANT], "applying",
                   (json_int_t)c->by_state[GP_MACHINE_APPLYING], "drifted", (json_int_t)c->by_state[GP_MACHINE_DRIFTED],
                   "unhealthy", (json_int_t)c->by_state[GP_MACHINE_UNHEALTHY], "notReporting",
                   (json_int_t)c->by_state[GP_MACHINE_NOT_REPORTING], "missing", (json_int_t)missing);
}

/* ---- time ------------------------------------------------------------------------------------------- */

bool gp_time_parse(const char *s, int64_t *ms) {
  static const char shape[] = "dddd-dd-ddTdd:dd:dd"; /* d: a digit */
  struct tm tm;
  char head[20];
  memset(&tm, 0, sizeof tm);
  if (!s || strlen(s) < 20) return false;
  for (size_t i = 0; i < 19; i++) {
    bool ok = shape[i] == 'd'   ? s[i] >= '0' && s[i] <= '9'
              : shape[i] == 'T' ? s[i] == 'T' || s[i] == 't'
                                : s[i] == shape[i];
    if (!ok) return false;
    head[i] = shape[i] == 'T' ? 'T' : s[i];
  }
  head[19] = '\0';
  const char *end = strptime(head, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end || *end) return false;
  const char *p = s + 19;
  int64_t frac = 0;
  if (*p == '.') { /* fractions of a second: milliseconds kept, the rest dropped */
    int digits = 0;
    for (p++; *p >= '0' && *p <= '9'; p++, digits++)
      if (digits < 3) frac = frac * 10 + (*p - '0');
    if (digits == 0 || digits > 9) return false;
    for (; digits < 3; digits++)
      frac *= 10;
  }
  int64_t offset = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if ((*p == '+' || *p == '-') && p[1] >= '0' && p[1] <= '2' && p[2] >= '0' && p[2] <= '9' && p[3] == ':' &&
             p[4] >= '0' && p[4] <= '5' && p[5] >= '0' && p[5] <= '9') {
    int h = (p[1] - '0') * 10 + (p[2] - '0'), m = (p[4] - '0') * 10 + (p[5] - '0');
    if (h > 23) return false;
    offset = (int64_t)(h * 60 + m) * 60000 * (*p == '+' ? 1 : -1);
    p += 6;
  } else {
    return false;
  }
  if (*p || tm.tm_sec > 60) return false;
  int mday = tm.tm_mday, mon = tm.tm_mon;
  time_t secs = timegm(&tm);
  if (tm.tm_mday != mday || tm.tm_mon != mon) return false; /* 2026-02-30 */
  *ms = (int64_t)secs * 1000 + frac - offset;
  return true;
}

void gp_time_format(int64_t ms, char *buf, size_t size) {
  int64_t secs = ms / 1000, rest = ms % 1000;
  if (rest < 0) {
    rest += 1000;
    secs--;
  }
  time_t t = (time_t)secs;
  struct tm tm;
  char base[40];
  if (!gmtime_r(&t, &tm) || strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
    snprintf(buf, size, "1970-01-01T00:00:00.000Z");
    return;
  }
  snprintf(buf, size, "%s.%03dZ", base, (int)rest);
}
