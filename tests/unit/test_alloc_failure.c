/* test_alloc_failure.c - every allocation of the core may fail, and none may crash it, leak, or
 * turn into a wrong answer (SQLite's malloc tests, applied to gpupool).
 *
 * The binary is linked with -Wl,--wrap for malloc, calloc, realloc, free, strdup, strndup,
 * asprintf and json_loadb (see the Makefile), and jansson gets the same allocator through
 * json_set_alloc_funcs, so this file sees every allocation the library makes. For each input the
 * whole path a server or the CLI runs (parse the bodies, the cluster policy, the pool put, the GET
 * and storage views, the storage round trip, the plan and its disruption diff from the existing
 * body's plan, or from nothing) runs once as it is, then again with
 * allocation 1 failing, then allocation 2, ... until a run no longer reaches the failing allocation;
 * then the same with every allocation from the Nth on failing (memory that stays short). Each run
 * must end exactly as the first one did, or fail cleanly: no success, a NULL from a function whose
 * only failure is OOM or err->oom set, no violation that the input did not earn, and nothing leaked
 * (a live-allocation count here; ASan/LSan under `make asan`, valgrind under `make valgrind`).
 *
 * Inputs: the example bodies under examples/ (alone, in the example cluster, updated with
 * themselves, and all at once as the agentPoolProfiles of the example cluster, created and then
 * updated), short bodies, the malformed bodies of tests/corpus, and every case of tests/vectors. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "helpers.h"

/* ---- the failing allocator ---------------------------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static long fail_at;   /* the allocation (1-based, counted while armed) that fails; 0: none */
static bool fail_rest; /* and every one after it (memory stays short), not only that one */
static long allocs;    /* allocations seen while armed */
static bool failed;    /* the failing allocation was reached */
static long live;      /* allocations not yet freed (all of them, armed or not) */

static bool inject(void) {
  if (!fail_at) return false;
  ++allocs;
  if (allocs < fail_at || (allocs > fail_at && !fail_rest)) return false;
  failed = true;
  return true;
}

void *__wrap_malloc(size_t n) {
  void *p = inject() ? NULL : __real_malloc(n);
  if (p) live++;
  return p;
}

void *__wrap_calloc(size_t n, size_t size) {
  void *p = inject() ? NULL : __real_calloc(n, size);
  if (p) live++;
  return p;
}

void *__wrap_realloc(void *old, size_t n) {
  void *p = inject() ? NULL : __real_realloc(old, n);
  if (p && !old) live++;
  return p;
}

void __wrap_free(void *p) {
  if (p) live--;
  __real_free(p);
}

char *__wrap_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = __wrap_malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

char *__wrap_strndup(const char *s, size_t max) {
  size_t n = strnlen(s, max);
  char *d = __wrap_malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

int __wrap_asprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int __wrap_asprintf(char **out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !(*out = __wrap_malloc((size_t)n + 1))) return -1;
  va_start(ap, fmt);
  vsnprintf(*out, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return n;
}

/* jansson's lexer ignores a failed growth of its token buffer (load.c: lex_save does not check
 * strbuffer_append_byte; jansson issue #362): it drops the byte, and when that byte is a string's
 * closing quote it reads and writes past the buffer. The library cannot guard against that, so
 * allocations inside json_loadb fail only for texts whose tokens all fit the buffer's first 16 bytes
 * (it never grows); the inputs below include such short bodies. */
json_t *__real_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *error);
static long parses_unarmed, parses_armed;

/* The longest token of a JSON text as the lexer saves it: a string with its quotes, a number or a
 * keyword with the character after it. */
static size_t longest_token(const char *buf, size_t len) {
  size_t longest = 0;
  for (size_t i = 0; i < len;) {
    size_t start = i;
    if (buf[i] == '"') {
      for (i++; i < len && buf[i] != '"'; i++)
        if (buf[i] == '\\') i++;
      i++;
    } else if (strchr("{}[],: \t\r\n", buf[i])) {
      i++;
      continue;
    } else {
      while (i < len && !strchr("{}[],:\" \t\r\n", buf[i]))
        i++;
      i++;
    }
    if (i - start > longest) longest = i - start;
  }
  return longest;
}

static bool loadb_first_fails; /* every json_loadb call fails its first allocation, nothing else fails */

json_t *__wrap_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *error) {
  if (loadb_first_fails) {
    fail_at = 1;
    fail_rest = false;
    allocs = 0;
    json_t *v = __real_json_loadb(buf, len, flags, error);
    fail_at = 0;
    return v;
  }
  long at = fail_at;
  if (longest_token(buf, len) >= 15) {
    fail_at = 0;
    parses_unarmed += at != 0;
  } else {
    parses_armed += at != 0;
  }
  json_t *v = __real_json_loadb(buf, len, flags, error);
  fail_at = at;
  return v;
}

static void *json_alloc(size_t n) { return __wrap_malloc(n); }
static void json_release(void *p) { __wrap_free(p); }

/* ---- one input and the path it takes ---------------------------------------------------------- */

typedef struct {
  char name[300];
  json_t *pool, *cluster, *existing; /* bodies as the case gives them (a string: raw text); NULL: none */
  gp_policy_context ctx;
} input;

/* A body as request bytes, the way they reach gp_body_parse. */
static char *body_text(const json_t *v) {
  return json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* What one run produced. Everything is kept until the run is judged, then freed. */
typedef struct {
  gp_error err;
  bool null_oom; /* a function whose only failure is OOM returned NULL */
  gp_cluster_result *cluster;
  gp_pool *existing, *pool, *back;
  gp_warnings warnings;
  json_t *view, *store, *plan, *old_plan, *diff;
} run;

/* v, noting a NULL from a function whose only failure is OOM. */
static json_t *nonnull_flag(bool *null_oom, json_t *v) {
  if (!v) *null_oom = true;
  return v;
}
static json_t *nonnull(run *r, json_t *v) { return nonnull_flag(&r->null_oom, v); }

/* Parses a body's bytes under injection; NULL (with err) when gp_body_parse refuses them. */
static json_t *parse(const char *text, gp_error *err) { return text ? gp_body_parse(text, strlen(text), err) : NULL; }

/* The pool path of `gpupool validate|plan` and of a pool PUT on gpupoold. */
static void pool_path(const input *in, long fail, run *r) {
  gp_policy_context ctx = in->ctx;
  memset(r, 0, sizeof *r);
  gp_error_init(&r->err);
  /* the request bytes are the input, made before the failures start */
  fail_at = 0;
  char *text = body_text(in->pool), *ctext = in->cluster ? body_text(in->cluster) : NULL,
       *etext = in->existing ? body_text(in->existing) : NULL;
  assert_true(text && (ctext || !in->cluster) && (etext || !in->existing));
  fail_at = fail;
  allocs = 0;
  failed = false;
  json_t *body = parse(text, &r->err), *cbody = NULL, *ebody = NULL;
  if (!body) goto done;
  if (ctext) {
    gp_cluster_request *cr =
        (cbody = parse(ctext, &r->err)) ? gp_cluster_request_parse(cbody, ctx.api, false, &r->err) : NULL;
    if (cr) {
      size_t listed = cr->pool_count;
      cr->pool_count = 0; /* as the CLI does: only the cluster's own settings */
      r->cluster = gp_policy_apply_cluster(&ctx, cr, NULL, NULL, 0, &r->err);
      cr->pool_count = listed;
    }
    gp_cluster_request_free(cr);
    if (!r->cluster) goto done;
    ctx.cluster = r->cluster->cluster;
  }
  if (etext) {
    gp_warnings ignored = {0};
    r->existing = (ebody = parse(etext, &r->err)) ? gp_pool_put(&ctx, ebody, NULL, &ignored, &r->err) : NULL;
    gp_warnings_free(&ignored);
    if (!r->existing) goto done;
  }
  r->pool = gp_pool_put(&ctx, body, r->existing, &r->warnings, &r->err);
  if (!r->pool) goto done;
  r->view = nonnull(r, gp_pool_to_json(r->pool, ctx.api));
  r->store = nonnull(r, gp_pool_to_store(r->pool));
  r->back = r->store ? gp_pool_from_store(r->store, &r->err) : NULL;
  r->plan = nonnull(r, gp_plan_build(r->pool, &ctx, r->existing ? 2 : 1));
  if (r->existing) r->old_plan = nonnull(r, gp_plan_build(r->existing, &ctx, 1));
  if (r->plan && (r->old_plan || !r->existing)) r->diff = nonnull(r, gp_plan_diff(r->old_plan, r->plan, NULL));
done:
  fail_at = 0;
  json_decref(body);
  json_decref(cbody);
  json_decref(ebody);
  free(text);
  free(ctext);
  free(etext);
}

static bool pool_succeeded(const run *r) { return r->pool && r->view && r->store && r->back && r->plan && r->diff; }

/* Everything a run produced as one text: equal texts, equal results. */
static char *pool_outcome(const run *r) {
  json_t *o = json_object(), *w = json_array();
  for (size_t i = 0; i < r->warnings.count; i++)
    json_array_append_new(w, json_string(r->warnings.items[i]));
  if (pool_succeeded(r)) {
    json_t *back = gp_pool_to_store(r->back);
    json_object_set(o, "view", r->view);
    json_object_set(o, "store", r->store);
    json_object_set_new(o, "storeRoundTrip", json_boolean(json_equal(back, r->store)));
    json_object_set(o, "plan", r->plan);
    json_object_set(o, "diff", r->diff);
    json_decref(back);
  } else {
    json_object_set_new(o, "error", gp_error_to_json(&r->err));
  }
  json_object_set_new(o, "warnings", w);
  char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(o);
  return s;
}

static void pool_free(run *r) {
  gp_error_clear(&r->err);
  gp_cluster_result_free(r->cluster);
  gp_pool_free(r->existing);
  gp_pool_free(r->pool);
  gp_pool_free(r->back);
  gp_warnings_free(&r->warnings);
  json_decref(r->view);
  json_decref(r->store);
  json_decref(r->plan);
  json_decref(r->old_plan);
  json_decref(r->diff);
}

/* The cluster path of gpupoold: a cluster PUT that creates the cluster with pools listed in
 * agentPoolProfiles, then one that changes its default management mode, lists one pool and
 * re-evaluates the others; the GET view and the storage round trip of the result. */
typedef struct {
  const char *create, *update; /* bodies */
  gp_policy_context ctx;
} cluster_input;

typedef struct {
  gp_error err;
  bool null_oom;
  gp_cluster_result *created, *updated;
  json_t *view, *store;
  gp_cluster *back;
} cluster_run;

static gp_cluster_result *cluster_put(const gp_policy_context *ctx, const char *text, const gp_cluster_result *old,
                                      gp_error *err) {
  json_t *body = parse(text, err);
  gp_cluster_request *req = body ? gp_cluster_request_parse(body, ctx->api, !old, err) : NULL;
  gp_cluster_result *res = req ? gp_policy_apply_cluster(ctx, req, old ? old->cluster : NULL, old ? old->pools : NULL,
                                                         old ? old->pool_count : 0, err)
                               : NULL;
  gp_cluster_request_free(req);
  json_decref(body);
  return res;
}

static void cluster_path(const cluster_input *in, long fail, cluster_run *r) {
  memset(r, 0, sizeof *r);
  gp_error_init(&r->err);
  fail_at = fail;
  allocs = 0;
  failed = false;
  if ((r->created = cluster_put(&in->ctx, in->create, NULL, &r->err)) &&
      (r->updated = cluster_put(&in->ctx, in->update, r->created, &r->err))) {
    const gp_cluster_result *u = r->updated;
    r->view = nonnull_flag(&r->null_oom, gp_cluster_to_json(u->cluster, u->pools, u->pool_count, in->ctx.api));
    r->store = nonnull_flag(&r->null_oom, gp_cluster_to_store(u->cluster));
    r->back = r->store ? gp_cluster_from_store(r->store, &r->err) : NULL;
  }
  fail_at = 0;
}

static bool cluster_succeeded(const cluster_run *r) { return r->view && r->store && r->back; }

static char *cluster_outcome(const cluster_run *r) {
  json_t *o = json_object();
  if (cluster_succeeded(r)) {
    const gp_cluster_result *u = r->updated;
    json_t *back = gp_cluster_to_store(r->back), *pools = json_array(), *w = json_array();
    for (size_t i = 0; i < u->pool_count; i++)
      json_array_append_new(pools, json_pack("{s:o,s:b,s:b}", "stored", gp_pool_to_store(u->pools[i]), "created",
                                             u->created[i], "listed", u->listed[i]));
    for (size_t i = 0; i < u->warnings.count; i++)
      json_array_append_new(w, json_string(u->warnings.items[i]));
    json_object_set(o, "view", r->view);
    json_object_set(o, "store", r->store);
    json_object_set_new(o, "storeRoundTrip", json_boolean(json_equal(back, r->store)));
    json_object_set_new(o, "pools", pools);
    json_object_set_new(o, "warnings", w);
    json_decref(back);
  } else {
    json_object_set_new(o, "error", gp_error_to_json(&r->err));
  }
  char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(o);
  return s;
}

static void cluster_free(cluster_run *r) {
  gp_error_clear(&r->err);
  gp_cluster_result_free(r->created);
  gp_cluster_result_free(r->updated);
  json_decref(r->view);
  json_decref(r->store);
  gp_cluster_free(r->back);
}

/* ---- the loop --------------------------------------------------------------------------------- */

typedef struct {
  void (*run)(const void *in, long fail, void *result);
  bool (*succeeded)(const void *result);
  char *(*outcome)(const void *result);
  bool (*oom)(const void *result);
  void (*release)(void *result);
} checked_path;

/* Where two outcomes part, with some context (cmocka cuts long messages). */
static void show_difference(const char *want, const char *got) {
  size_t i = 0;
  while (want[i] && want[i] == got[i])
    i++;
  size_t from = i > 120 ? i - 120 : 0;
  fprintf(stderr, "  want ...%.400s\n  got  ...%.400s\n", want + from, got + from);
}

static int inputs_checked;
static long failures_injected;

/* Runs in through p with no failure, then with allocation 1, 2, ... failing. */
static void check_path_mode(const char *name, const checked_path *p, const void *in, void *r) {
  long base_live = live;
  p->run(in, 0, r);
  if (p->oom(r)) fail_msg("%s: out of memory with no failure injected", name);
  char *want = p->outcome(r);
  assert_non_null(want);
  p->release(r);
  if (live != base_live + 1) /* + want */
    fail_msg("%s: %ld allocation(s) leaked with no failure injected", name, live - base_live - 1);
  base_live = live;
  for (long n = 1;; n++) {
    p->run(in, n, r);
    if (!failed) { /* the run made fewer than n allocations: every one has failed once */
      char *got = p->outcome(r);
      if (strcmp(got, want) != 0) fail_msg("%s: a run without failure ended differently: %s", name, got);
      free(got);
      p->release(r);
      break;
    }
    failures_injected++;
    char *got = p->outcome(r);
    assert_non_null(got);
    if (p->succeeded(r) && p->oom(r)) fail_msg("%s: allocation %ld failed: a success that says out of memory", name, n);
    if (strcmp(got, want) != 0) {
      if (p->succeeded(r)) {
        show_difference(want, got);
        fail_msg("%s: allocation %ld failed, yet the result is a success that differs", name, n);
      }
      if (!p->oom(r)) {
        show_difference(want, got);
        fail_msg("%s: allocation %ld failed and the failure does not say out of memory", name, n);
      }
    }
    free(got);
    p->release(r);
    if (live != base_live)
      fail_msg("%s: allocation %ld failed and %ld allocation(s) leaked", name, n, live - base_live);
  }
  free(want);
  inputs_checked++;
}

/* Both ways memory runs out: one allocation fails, or every one from the Nth on. */
static void check_path(const char *name, const checked_path *p, const void *in, void *r) {
  char what[400];
  fail_rest = false;
  check_path_mode(name, p, in, r);
  fail_rest = true;
  snprintf(what, sizeof what, "%s (memory stays short)", name);
  check_path_mode(what, p, in, r);
  fail_rest = false;
}

static void pool_run(const void *in, long fail, void *r) { pool_path(in, fail, r); }
static bool pool_ok(const void *r) { return pool_succeeded(r); }
static char *pool_text(const void *r) { return pool_outcome(r); }
static bool pool_oom(const void *r) { return ((const run *)r)->err.oom || ((const run *)r)->null_oom; }
static void pool_release(void *r) { pool_free(r); }
static const checked_path pool_put_path = {pool_run, pool_ok, pool_text, pool_oom, pool_release};

static void cluster_run_(const void *in, long fail, void *r) { cluster_path(in, fail, r); }
static bool cluster_ok(const void *r) { return cluster_succeeded(r); }
static char *cluster_text(const void *r) { return cluster_outcome(r); }
static bool cluster_oom(const void *r) {
  return ((const cluster_run *)r)->err.oom || ((const cluster_run *)r)->null_oom;
}
static void cluster_release(void *r) { cluster_free(r); }
static const checked_path cluster_put_path = {cluster_run_, cluster_ok, cluster_text, cluster_oom, cluster_release};

/* ---- inputs ----------------------------------------------------------------------------------- */

static void context_of(const json_t *args, gp_policy_context *ctx, bool *usable) {
  gp_policy_context_init(ctx);
  *usable = true;
  const char *s;
  if ((s = json_string_value(json_object_get(args, "phase"))))
    ctx->phase = strcasecmp(s, "ga") == 0 ? GP_PHASE_GA : GP_PHASE_PREVIEW;
  if ((s = json_string_value(json_object_get(args, "gaKubernetesVersion"))))
    *usable = gp_k8s_version_parse(s, &ctx->ga_version);
  if ((s = json_string_value(json_object_get(args, "apiVersion")))) {
    ctx->api = gp_api_version_group(s);
    *usable = *usable && ctx->api != GP_API_UNKNOWN; /* the CLI refuses it before the core runs */
  }
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(args, "features"), i, v) {
    const char *n = json_string_value(v);
    if (n && strncasecmp(n, "Microsoft.ContainerService/", 27) == 0) n += 27;
    if (n && strcasecmp(n, GP_FEATURE_MANAGED_GPU) == 0) ctx->feature_managed_gpu = true;
    if (n && strcasecmp(n, GP_FEATURE_MANAGED_GPU_EXPERIENCE) == 0) ctx->feature_managed_gpu_experience = true;
  }
}

static void check_input(input *in) {
  run r;
  check_path(in->name, &pool_put_path, in, &r);
}

static void vector_file(const char *path, const char *buf, size_t len, void *arg) {
  json_error_t je;
  json_t *c = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!c) fail_msg("%s: %s", path, je.text);
  input in = {0};
  snprintf(in.name, sizeof in.name, "%s", path);
  bool usable;
  context_of(json_object_get(c, "args"), &in.ctx, &usable);
  in.pool = json_object_get(c, "pool");
  in.cluster = json_object_get(c, "cluster");
  in.existing = json_object_get(c, "existing");
  if (usable && in.pool) {
    check_input(&in);
    (*(int *)arg)++;
  }
  json_decref(c);
}

static void test_vectors(void **state) {
  (void)state;
  int cases = 0;
  assert_true(for_each_file("tests/vectors", ".json", vector_file, &cases) >= 140);
  assert_true(cases >= 140);
}

/* ---- the example bodies ----------------------------------------------------------------------- */

#define MAX_EXAMPLES 32

typedef struct {
  size_t n;
  char *names[MAX_EXAMPLES];
  json_t *pools[MAX_EXAMPLES]; /* pool bodies */
  json_t *cluster;             /* the example cluster body */
} examples;

static void example_file(const char *path, const char *buf, size_t len, void *arg) {
  examples *ex = arg;
  json_error_t je;
  json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!v) fail_msg("%s: %s", path, je.text);
  if (strstr(path, "/cluster")) {
    assert_null(ex->cluster);
    ex->cluster = v;
    return;
  }
  assert_true(ex->n < MAX_EXAMPLES);
  ex->names[ex->n] = strdup(path);
  ex->pools[ex->n++] = v;
}

static void examples_load(examples *ex) {
  memset(ex, 0, sizeof *ex);
  for_each_file("examples", ".json", example_file, ex);
  assert_non_null(ex->cluster);
  assert_true(ex->n >= 5);
}

static void examples_free(examples *ex) {
  for (size_t i = 0; i < ex->n; i++) {
    free(ex->names[i]);
    json_decref(ex->pools[i]);
  }
  json_decref(ex->cluster);
}

static void test_examples(void **state) {
  (void)state;
  examples ex;
  examples_load(&ex);
  for (size_t i = 0; i < ex.n; i++) {
    input in = {0};
    gp_policy_context_init(&in.ctx);
    in.ctx.feature_managed_gpu = true;
    in.pool = ex.pools[i];
    snprintf(in.name, sizeof in.name, "%s", ex.names[i]);
    check_input(&in); /* alone */
    in.cluster = ex.cluster;
    snprintf(in.name, sizeof in.name, "%s with --cluster", ex.names[i]);
    check_input(&in); /* in the example cluster */
    in.cluster = NULL;
    in.existing = ex.pools[i];
    snprintf(in.name, sizeof in.name, "%s updated with itself", ex.names[i]);
    check_input(&in); /* an update that changes nothing */
  }
  examples_free(&ex);
}

/* Bodies whose tokens are all short, so that their parsing runs armed too (see __wrap_json_loadb):
 * accepted, refused by the policy, and not JSON at all. */
static void test_short_bodies(void **state) {
  (void)state;
  static const char *const bodies[] = {
      "{\"properties\":{\"vmSize\":\"Standard_D4\"}}",
      "{\"name\":\"p\",\"properties\":{\"vmSize\":\"Standard_D4\",\"count\":3,\"mode\":\"System\",\"tags\":{\"a\":"
      "\"b\"},\"nodeLabels\":{\"k\":\"v\"},\"nodeTaints\":[\"x:NoSchedule\"],\"extra\":[1,2.5,true,null]}}",
      "{\"properties\":{\"vmSize\":\"Standard_D4\",\"gpuProfile\":{\"driver\":\"None\"},\"count\":1001}}",
      "{\"properties\":{\"count\":2}}",
      "{\"properties\":{\"count\":\"x\",\"osType\":\"Plan9\"}}",
      "{\"properties\":{\"vmSize\":1}}",
      "{\"properties\":{\"osType\":5,\"mode\":[]}}",
      "{\"a\":1,\"a\":2}",
      "[1,2,3]",
      "{\"properties\":",
      "{\"properties\":{\"vmSize\":\"Standard_D4\"}} trailing",
  };
  long before = parses_armed;
  for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
    input in = {0};
    gp_policy_context_init(&in.ctx);
    in.pool = json_string(bodies[i]);
    snprintf(in.name, sizeof in.name, "short body %zu: %s", i, bodies[i]);
    check_input(&in);
    json_decref(in.pool);
  }
  assert_true(parses_armed - before > 100);
}

/* The malformed bodies of tests/corpus (the fuzzers' seeds): refused cleanly, also when memory fails. */
static void corpus_file(const char *path, const char *buf, size_t len, void *arg) {
  if (strlen(buf) != len) return; /* NUL bytes: the bytes cannot travel as a C string here */
  input in = {0};
  snprintf(in.name, sizeof in.name, "%s", path);
  gp_policy_context_init(&in.ctx);
  in.ctx.feature_managed_gpu = true;
  if (!(in.pool = json_string(buf))) return; /* not UTF-8: jansson will not hold it as a string */
  check_input(&in);
  json_decref(in.pool);
  (*(int *)arg)++;
}

static void test_corpus(void **state) {
  (void)state;
  int files = 0;
  for_each_file("tests/corpus", NULL, corpus_file, &files);
  assert_true(files >= 15);
}

/* gp_policy_apply_cluster with listed, created, updated and re-evaluated pools. */
static void test_cluster_put(void **state) {
  (void)state;
  examples ex;
  examples_load(&ex);
  json_t *create = json_deep_copy(ex.cluster), *list = json_array();
  json_object_set_new(json_object_get(create, "properties"), "kubernetesVersion", json_string("1.36"));
  for (size_t i = 0; i < ex.n; i++) {
    json_t *entry = json_deep_copy(json_object_get(ex.pools[i], "properties"));
    char name[16];
    snprintf(name, sizeof name, "pool%zu", i);
    json_object_set_new(entry, "name", json_string(name));
    json_array_append_new(list, entry);
  }
  json_object_set_new(json_object_get(create, "properties"), "agentPoolProfiles", list);
  json_t *first = json_deep_copy(json_array_get(list, 0));
  json_object_set_new(first, "count", json_integer(5));
  json_t *update = json_pack("{s:s,s:{s:s,s:{s:{s:s}},s:[o]}}", "location", "eastus", "properties", "kubernetesVersion",
                             "1.36", "gpuProfile", "nvidia", "managementMode", "Unmanaged", "agentPoolProfiles", first);
  cluster_input in = {json_dumps(create, JSON_COMPACT), json_dumps(update, JSON_COMPACT), {0}};
  gp_policy_context_init(&in.ctx);
  in.ctx.feature_managed_gpu = true;
  cluster_run r;
  cluster_path(&in, 0, &r); /* the path must get through, or the test would only check errors */
  if (!cluster_succeeded(&r)) fail_msg("the cluster PUTs are refused: %s", json_dumps(gp_error_to_json(&r.err), 0));
  assert_int_equal(r.updated->pool_count, ex.n);
  cluster_free(&r);
  check_path("cluster PUTs of the examples", &cluster_put_path, &in, &r);
  free((char *)in.create);
  free((char *)in.update);
  json_decref(create);
  json_decref(update);
  examples_free(&ex);
}

/* jansson says nothing at all (an empty error text) when the first allocation of a parse fails. When
 * that happens to every parse, the retry included, while the rest of memory is fine, gp_body_parse
 * still says out of memory: a valid body is never called invalid JSON for want of memory. */
static void test_body_first_allocation(void **state) {
  (void)state;
  gp_error err;
  gp_error_init(&err);
  long base_live = live;
  loadb_first_fails = true;
  json_t *v = gp_body_parse("{\"a\":1}", 7, &err);
  loadb_first_fails = false;
  assert_null(v);
  assert_true(err.oom);
  assert_int_equal(err.count, 0);
  gp_error_clear(&err);
  assert_int_equal(live, base_live);
  /* and without the failures the same bytes parse */
  assert_non_null(v = gp_body_parse("{\"a\":1}", 7, &err));
  json_decref(v);
}

int main(void) {
  json_set_alloc_funcs(json_alloc, json_release);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_examples), cmocka_unit_test(test_short_bodies),
      cmocka_unit_test(test_corpus),   cmocka_unit_test(test_cluster_put),
      cmocka_unit_test(test_vectors),  cmocka_unit_test(test_body_first_allocation),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  printf(
      "alloc-failure: %d inputs, %ld failed allocations injected (%ld runs parsed a body with long tokens unarmed)\n",
      inputs_checked, failures_injected, parses_unarmed);
  return rc;
}
