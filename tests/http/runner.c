/* runner.c - runs the HTTP scenario files under tests/http/ against a fresh gpupoold each.
 *
 * A scenario is a readable JSON file: a list of steps, each an HTTP request, what the answer must be
 * (status, error code, headers, fields by JSON path) and values to capture for later steps (etags,
 * operation URLs). See tests/http/README.md for the format. Usage:
 *   http-runner --server build/gpupoold [--pg URL] [--vars FILE] [--cacert CA.pem] tests/http/SCENARIO.json...
 * With --pg each file gets a new database on that PostgreSQL server instead of a SQLite file. */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "defaults.h"
#include "harness.h"

#define POLL_TIMEOUT_MS 20000
#define MAX_VARS 256
#define MAX_BACKGROUND 16

typedef struct {
  char *name[MAX_VARS], *value[MAX_VARS];
  size_t n;
} vars;

/* A request built from a step, ready to send. */
typedef struct {
  char *method, *url, *body;
  size_t body_len;
  char *headers[32];
  size_t nheaders;
  long timeout_ms; /* "timeoutMs": give up (the client disconnects) after this long */
} request;

/* A request started by a "background" step and collected by a "join" step. */
typedef struct {
  char *name;
  pthread_t thread;
  request q;
  gpt_response r;
  bool sent, joined;
  int64_t start_ms, end_ms;
} background;

typedef struct {
  const char *file;
  gpt_server srv;
  vars v;
  char why[4096];
  background bg[MAX_BACKGROUND];
  size_t nbg;
} scenario;

static const char *or_default(const char *s, const char *d) { return s ? s : d; }

static void set_var(vars *v, const char *name, const char *value) {
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->name[i], name) == 0) {
      free(v->value[i]);
      v->value[i] = strdup(value);
      return;
    }
  if (v->n == MAX_VARS) return;
  v->name[v->n] = strdup(name);
  v->value[v->n++] = strdup(value);
}

static const char *get_var(const vars *v, const char *name) {
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->name[i], name) == 0) return v->value[i];
  return NULL;
}

static void free_vars(vars *v) {
  for (size_t i = 0; i < v->n; i++) {
    free(v->name[i]);
    free(v->value[i]);
  }
  v->n = 0;
}

/* Growing string buffer. */
typedef struct {
  char *s;
  size_t len, cap;
} buf;

static void put(buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->cap ? b->cap * 2 : 256) + n;
    char *g = realloc(b->s, cap);
    if (!g) abort();
    b->s = g;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

/* {{name}} → variable; {{repeat:N:text}} → text N times. Unknown names are an error. */
static char *subst(scenario *sc, const vars *v, const char *in, bool *ok) {
  buf b = {0};
  put(&b, "", 0);
  while (*in) {
    const char *open = strstr(in, "{{");
    if (!open) {
      put(&b, in, strlen(in));
      break;
    }
    put(&b, in, (size_t)(open - in));
    const char *close = strstr(open, "}}");
    if (!close) {
      put(&b, open, strlen(open));
      break;
    }
    char name[256];
    size_t n = (size_t)(close - open - 2);
    snprintf(name, sizeof name, "%.*s", (int)n, open + 2);
    const char *val = get_var(v, name);
    if (strncmp(name, "repeat:", 7) == 0) {
      char *colon;
      long times = strtol(name + 7, &colon, 10);
      if (*colon == ':')
        for (long i = 0; i < times; i++)
          put(&b, colon + 1, strlen(colon + 1));
    } else if (val) {
      put(&b, val, strlen(val));
    } else {
      snprintf(sc->why, sizeof sc->why, "unknown variable {{%s}}", name);
      *ok = false;
    }
    in = close + 2;
  }
  return b.s;
}

static json_t *subst_json(scenario *sc, const vars *v, const json_t *in, bool *ok) {
  if (json_is_string(in)) {
    /* "$int:{{i}}" becomes the number */
    bool number = strncmp(json_string_value(in), "$int:", 5) == 0;
    char *s = subst(sc, v, json_string_value(in) + (number ? 5 : 0), ok);
    json_t *r = number ? json_integer(atoll(s)) : json_string(s);
    free(s);
    return r;
  }
  if (json_is_object(in)) {
    json_t *o = json_object();
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)in, k, x) json_object_set_new(o, k, subst_json(sc, v, x, ok));
    return o;
  }
  if (json_is_array(in)) {
    json_t *a = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(in, i, x) json_array_append_new(a, subst_json(sc, v, x, ok));
    return a;
  }
  return json_deep_copy(in);
}

/* a.b[0]["k.with.dots"].c */
static json_t *jpath(json_t *root, const char *path) {
  json_t *cur = root;
  const char *p = path;
  while (cur && *p) {
    if (*p == '.') p++;
    if (*p == '[') {
      p++;
      if (*p == '"') {
        const char *end = strchr(p + 1, '"');
        if (!end) return NULL;
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(end - p - 1), p + 1);
        cur = json_object_get(cur, key);
        p = end + 1;
      } else {
        char *end;
        long i = strtol(p, &end, 10);
        cur = json_array_get(cur, (size_t)i);
        p = end;
      }
      if (*p != ']') return NULL;
      p++;
      continue;
    }
    size_t n = strcspn(p, ".[");
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)n, p);
    cur = json_object_get(cur, key);
    p += n;
  }
  return cur;
}

static bool regex_match(const char *pattern, const char *s) {
  regex_t re;
  if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) return false;
  bool m = regexec(&re, s, 0, NULL, 0) == 0;
  regfree(&re);
  return m;
}

/* Text form of a JSON value (strings without quotes). */
static char *text_of(const json_t *v) {
  if (!v) return strdup("(absent)");
  if (json_is_string(v)) return strdup(json_string_value(v));
  return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Matches an actual value (NULL = absent) against an expectation; explains a mismatch in why. */
static bool match(scenario *sc, const vars *v, const char *what, json_t *actual, const json_t *expected) {
  bool ok = true;
  if (json_is_string(expected) && json_string_value(expected)[0] == '$') {
    char *e_owned = subst(sc, v, json_string_value(expected), &ok);
    const char *e = e_owned;
    char *a = text_of(actual);
    bool m;
    if (strcmp(e, "$absent") == 0)
      m = actual == NULL;
    else if (strcmp(e, "$present") == 0)
      m = actual != NULL;
    else if (strncmp(e, "$len:", 5) == 0)
      m = actual && (json_is_array(actual) ? json_array_size(actual) : json_object_size(actual)) == (size_t)atol(e + 5);
    else if (strncmp(e, "$contains:", 10) == 0)
      m = actual && strstr(a, e + 10) != NULL;
    else if (strncmp(e, "$regex:", 7) == 0)
      m = actual && regex_match(e + 7, a);
    else if (strncmp(e, "$not:", 5) == 0)
      m = actual && strcmp(a, e + 5) != 0;
    else if (strncmp(e, "$eq:", 4) == 0) /* a literal that starts with '$' */
      m = actual && strcmp(a, e + 4) == 0;
    else {
      snprintf(sc->why, sizeof sc->why, "%s: unknown matcher %s", what, e);
      free(a);
      free(e_owned);
      return false;
    }
    if (!m) snprintf(sc->why, sizeof sc->why, "%s: expected %s, got %.1500s", what, e, a);
    free(a);
    free(e_owned);
    return m && ok;
  }
  json_t *want = subst_json(sc, v, expected, &ok);
  bool m = actual && json_equal(actual, want);
  if (!m) {
    char *a = text_of(actual), *w = text_of(want);
    snprintf(sc->why, sizeof sc->why, "%s: expected %.1000s, got %.1500s", what, w, a);
    free(a);
    free(w);
  }
  json_decref(want);
  return m && ok;
}

static void request_free(request *q) {
  free(q->method);
  free(q->url);
  free(q->body);
  for (size_t i = 0; i < q->nheaders; i++)
    free(q->headers[i]);
  memset(q, 0, sizeof *q);
}

static bool build_request(scenario *sc, const vars *v, const json_t *step, request *q) {
  bool ok = true, typed = false;
  memset(q, 0, sizeof *q);
  const char *m = json_string_value(json_object_get(step, "method"));
  q->method = strdup(m ? m : "GET");
  char *path = subst(sc, v, or_default(json_string_value(json_object_get(step, "path")), "/"), &ok);
  if (strncmp(path, "http", 4) == 0) {
    q->url = path;
  } else {
    size_t n = strlen(sc->srv.base) + strlen(path) + 1;
    q->url = malloc(n);
    snprintf(q->url, n, "%s%s", sc->srv.base, path);
    free(path);
  }
  const json_t *h = json_object_get(step, "headers");
  const char *k;
  json_t *x;
  json_object_foreach((json_t *)h, k, x) {
    /* an array sends the header once per value (two Authorization headers) */
    size_t nv = json_is_array(x) ? json_array_size(x) : 1;
    for (size_t j = 0; j < nv && q->nheaders < 30; j++) {
      const json_t *xv = json_is_array(x) ? json_array_get(x, j) : x;
      if (strcasecmp(k, "Content-Type") == 0) typed = true;
      char *val = json_is_string(xv) ? subst(sc, v, json_string_value(xv), &ok) : strdup("");
      size_t n = strlen(k) + strlen(val) + 3;
      q->headers[q->nheaders] = malloc(n);
      /* "Name:" with nothing after it makes curl drop a header it would add itself */
      snprintf(q->headers[q->nheaders++], n, json_is_null(xv) ? "%s:" : "%s: %s", k, val);
      free(val);
    }
  }
  const json_t *body = json_object_get(step, "body"), *raw = json_object_get(step, "raw"),
               *size = json_object_get(step, "rawSize");
  if (body) {
    json_t *b = subst_json(sc, v, body, &ok);
    q->body = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(b);
  } else if (raw) {
    q->body = subst(sc, v, or_default(json_string_value(raw), ""), &ok);
  } else if (json_is_string(json_object_get(step, "rawHex"))) {
    /* bytes JSON strings cannot carry: invalid UTF-8, NUL */
    const char *hex = json_string_value(json_object_get(step, "rawHex"));
    size_t n = strlen(hex) / 2;
    q->body = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
      unsigned byte = 0;
      sscanf(hex + 2 * i, "%2x", &byte);
      q->body[i] = (char)byte;
    }
    q->body[n] = '\0';
    q->body_len = n;
  } else if (size) {
    /* a syntactically valid JSON object of exactly N bytes */
    size_t n = (size_t)json_integer_value(size);
    if (n < 32) n = 32;
    q->body = malloc(n + 1);
    memset(q->body, 'a', n);
    memcpy(q->body, "{\"properties\":{\"x\":\"", 20);
    memcpy(q->body + n - 3, "\"}}", 3);
    q->body[n] = '\0';
  }
  if (q->body) {
    if (!q->body_len) q->body_len = strlen(q->body);
    if (!typed) q->headers[q->nheaders++] = strdup("Content-Type: application/json");
  }
  q->headers[q->nheaders] = NULL;
  q->timeout_ms = (long)json_integer_value(json_object_get(step, "timeoutMs"));
  return ok;
}

/* False when no answer came; with timeoutMs, running out of time is an answer of status 0 (the
 * client gave up and closed the connection), which "expect" can check. */
static bool send_request(const request *q, gpt_response *r) {
  bool ok =
      gpt_http_timeout(q->method, q->url, (const char *const *)q->headers, q->body, q->body_len, q->timeout_ms, r);
  if (!ok && q->timeout_ms > 0 && r->timed_out) {
    r->status = 0;
    return true;
  }
  return ok;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* GETs url until the JSON field is one of the values (or the time runs out), with the request's
 * Authorization header when it has one. */
static bool poll_until(scenario *sc, const request *q, const char *url, const char *field, const json_t *in,
                       gpt_response *r) {
  int64_t deadline = now_ms() + POLL_TIMEOUT_MS;
  const char *auth[2] = {NULL, NULL};
  for (size_t i = 0; i < q->nheaders && !auth[0]; i++)
    if (strncasecmp(q->headers[i], "Authorization:", 14) == 0) auth[0] = q->headers[i];
  for (;;) {
    gpt_response_free(r);
    if (!gpt_http("GET", url, auth, NULL, 0, r)) {
      snprintf(sc->why, sizeof sc->why, "poll %s: %s", url, r->error);
      return false;
    }
    json_t *f = r->json ? jpath(r->json, field) : NULL;
    size_t i;
    json_t *x;
    json_array_foreach(in, i, x) if (f && json_equal(f, x)) return true;
    if (now_ms() > deadline) {
      char *t = text_of(f);
      snprintf(sc->why, sizeof sc->why, "poll %s: %s still %s after %d ms", url, field, t, POLL_TIMEOUT_MS);
      free(t);
      return false;
    }
    sleep_ms(20);
  }
}

static bool check(scenario *sc, const vars *v, const json_t *expect, gpt_response *r) {
  const json_t *st = json_object_get(expect, "status");
  if (st && json_integer_value(st) != r->status) {
    snprintf(sc->why, sizeof sc->why, "status: expected %lld, got %ld", (long long)json_integer_value(st), r->status);
    return false;
  }
  const json_t *code = json_object_get(expect, "code");
  if (code && !match(sc, v, "error.code", r->json ? jpath(r->json, "error.code") : NULL, code)) return false;
  const char *k;
  json_t *x;
  json_object_foreach((json_t *)json_object_get(expect, "headers"), k, x) {
    const char *h = gpt_header(r, k);
    json_t *a = h ? json_string(h) : NULL;
    char what[300];
    snprintf(what, sizeof what, "header %s", k);
    bool m = match(sc, v, what, a, x);
    json_decref(a);
    if (!m) return false;
  }
  json_object_foreach((json_t *)json_object_get(expect, "json"), k, x) {
    if (!r->json) {
      snprintf(sc->why, sizeof sc->why, "expected a JSON body, got %.300s", r->body ? r->body : "(empty)");
      return false;
    }
    if (!match(sc, v, k, jpath(r->json, k), x)) return false;
  }
  size_t i;
  json_array_foreach(json_object_get(expect, "bodyContains"), i, x) {
    bool ok = true;
    char *needle = subst(sc, v, json_string_value(x) ? json_string_value(x) : "", &ok);
    bool found = r->body && strstr(r->body, needle);
    if (!found) snprintf(sc->why, sizeof sc->why, "body does not contain %.500s", needle);
    free(needle);
    if (!found || !ok) return false;
  }
  const json_t *empty = json_object_get(expect, "emptyBody");
  if (json_is_true(empty) && r->body_len) {
    snprintf(sc->why, sizeof sc->why, "expected no body, got %.300s", r->body);
    return false;
  }
  return true;
}

static void capture(scenario *sc, const json_t *cap, gpt_response *r) {
  const char *k;
  json_t *x;
  json_object_foreach((json_t *)cap, k, x) {
    const char *src = json_string_value(x);
    if (!src) continue;
    if (strncmp(src, "header:", 7) == 0) {
      const char *h = gpt_header(r, src + 7);
      set_var(&sc->v, k, h ? h : "");
    } else if (strncmp(src, "unquoted:", 9) == 0) { /* an ETag's opaque value: "x" -> x */
      const char *h = gpt_header(r, src + 9);
      char v[512];
      size_t n = h ? strlen(h) : 0;
      if (n >= 2 && h[0] == '"' && h[n - 1] == '"')
        snprintf(v, sizeof v, "%.*s", (int)(n - 2), h + 1);
      else
        snprintf(v, sizeof v, "%s", h ? h : "");
      set_var(&sc->v, k, v);
    } else if (strncmp(src, "json:", 5) == 0) {
      char *t = text_of(r->json ? jpath(r->json, src + 5) : NULL);
      set_var(&sc->v, k, t);
      free(t);
    }
  }
}

/* ---- repeated and parallel requests -------------------------------------------------------------- */

typedef struct {
  scenario *sc;
  const json_t *step;
  int index;
  long status;
  pthread_barrier_t *barrier;
  char why[512];
} worker;

static void *run_worker(void *arg) {
  worker *w = arg;
  vars v = {0};
  char idx[16];
  request q;
  gpt_response r;
  bool ok = true;
  for (size_t i = 0; i < w->sc->v.n; i++)
    set_var(&v, w->sc->v.name[i], w->sc->v.value[i]);
  snprintf(idx, sizeof idx, "%d", w->index);
  set_var(&v, "i", idx);
  scenario local = *w->sc; /* subst reports into why; keep threads apart */
  build_request(&local, &v, w->step, &q);
  pthread_barrier_wait(w->barrier);
  ok = send_request(&q, &r);
  w->status = ok ? r.status : 0;
  if (!ok) snprintf(w->why, sizeof w->why, "%s", r.error);
  gpt_response_free(&r);
  request_free(&q);
  free_vars(&v);
  return NULL;
}

/* "expectCounts": {"200": 1, "409|412": 31} */
static bool check_counts(scenario *sc, const json_t *counts, const long *statuses, size_t n) {
  const char *k;
  json_t *x;
  size_t matched = 0;
  json_object_foreach((json_t *)counts, k, x) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
      char st[16];
      snprintf(st, sizeof st, "%ld", statuses[i]);
      const char *p = k;
      while (*p) {
        size_t len = strcspn(p, "|");
        if (len == strlen(st) && strncmp(p, st, len) == 0) c++;
        p += len;
        if (*p) p++;
      }
    }
    matched += c;
    if (c != (size_t)json_integer_value(x)) {
      buf b = {0};
      put(&b, "", 0);
      for (size_t i = 0; i < n; i++) {
        char st[16];
        snprintf(st, sizeof st, "%ld ", statuses[i]);
        put(&b, st, strlen(st));
      }
      snprintf(sc->why, sizeof sc->why, "expected %lld responses with status %s, got %zu (statuses: %s)",
               (long long)json_integer_value(x), k, c, b.s);
      free(b.s);
      return false;
    }
  }
  if (matched != n) {
    snprintf(sc->why, sizeof sc->why, "%zu of %zu responses had a status expectCounts does not list", n - matched, n);
    return false;
  }
  return true;
}

static bool run_parallel(scenario *sc, const json_t *step, int n) {
  pthread_t *t = calloc((size_t)n, sizeof *t);
  worker *w = calloc((size_t)n, sizeof *w);
  long *statuses = calloc((size_t)n, sizeof *statuses);
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, (unsigned)n);
  for (int i = 0; i < n; i++) {
    w[i] = (worker){sc, step, i, 0, &barrier, ""};
    pthread_create(&t[i], NULL, run_worker, &w[i]);
  }
  for (int i = 0; i < n; i++) {
    pthread_join(t[i], NULL);
    statuses[i] = w[i].status;
  }
  pthread_barrier_destroy(&barrier);
  bool ok = check_counts(sc, json_object_get(step, "expectCounts"), statuses, (size_t)n);
  free(t);
  free(w);
  free(statuses);
  return ok;
}

/* ---- one step ------------------------------------------------------------------------------------ */

/* "elapsedMs": {"min": N, "max": M}: how long the answer took. */
static bool check_elapsed(scenario *sc, const json_t *limits, int64_t ms) {
  const json_t *lo = json_object_get(limits, "min"), *hi = json_object_get(limits, "max");
  if ((lo && ms < json_integer_value(lo)) || (hi && ms > json_integer_value(hi))) {
    snprintf(sc->why, sizeof sc->why, "the answer took %lld ms, expected %lld to %lld ms", (long long)ms,
             (long long)(lo ? json_integer_value(lo) : 0), (long long)(hi ? json_integer_value(hi) : -1));
    return false;
  }
  return true;
}

static void *run_background(void *arg) {
  background *b = arg;
  b->sent = send_request(&b->q, &b->r);
  b->end_ms = now_ms();
  return NULL;
}

/* "background": "NAME" starts the step's request and goes on at once; "join": "NAME" waits for it
 * and checks its answer with the join step's expect, elapsedMs and capture. */
static bool start_background(scenario *sc, const json_t *step, const char *name) {
  if (sc->nbg == MAX_BACKGROUND) {
    snprintf(sc->why, sizeof sc->why, "more than %d background requests", MAX_BACKGROUND);
    return false;
  }
  background *b = &sc->bg[sc->nbg];
  memset(b, 0, sizeof *b);
  if (!build_request(sc, &sc->v, step, &b->q)) {
    request_free(&b->q);
    return false;
  }
  b->name = strdup(name);
  b->start_ms = now_ms();
  if (pthread_create(&b->thread, NULL, run_background, b) != 0) {
    snprintf(sc->why, sizeof sc->why, "cannot start a thread");
    request_free(&b->q);
    free(b->name);
    return false;
  }
  sc->nbg++;
  return true;
}

static void join_all(scenario *sc) {
  for (size_t i = 0; i < sc->nbg; i++) {
    if (!sc->bg[i].joined) pthread_join(sc->bg[i].thread, NULL);
    request_free(&sc->bg[i].q);
    gpt_response_free(&sc->bg[i].r);
    free(sc->bg[i].name);
  }
  sc->nbg = 0;
}

static bool join_background(scenario *sc, const json_t *step, const char *name) {
  background *b = NULL;
  for (size_t i = 0; i < sc->nbg && !b; i++)
    if (sc->bg[i].name && strcmp(sc->bg[i].name, name) == 0) b = &sc->bg[i];
  if (!b) {
    snprintf(sc->why, sizeof sc->why, "join: no background request named %s", name);
    return false;
  }
  pthread_join(b->thread, NULL);
  b->joined = true;
  free(b->name);
  b->name = NULL;
  bool ok = b->sent;
  if (!ok) snprintf(sc->why, sizeof sc->why, "%s %s: %s", b->q.method, b->q.url, b->r.error);
  if (ok) ok = check(sc, &sc->v, json_object_get(step, "expect"), &b->r);
  if (ok) ok = check_elapsed(sc, json_object_get(step, "elapsedMs"), b->end_ms - b->start_ms);
  if (ok) capture(sc, json_object_get(step, "capture"), &b->r);
  return ok;
}

static bool run_once(scenario *sc, const json_t *step) {
  request q;
  gpt_response r;
  const char *bg = json_string_value(json_object_get(step, "background")),
             *join = json_string_value(json_object_get(step, "join"));
  if (bg) return start_background(sc, step, bg);
  if (join) return join_background(sc, step, join);
  bool ok = build_request(sc, &sc->v, step, &q);
  if (!ok) {
    request_free(&q);
    return false;
  }
  int64_t started = now_ms();
  if (!send_request(&q, &r)) {
    snprintf(sc->why, sizeof sc->why, "%s %s: %s", q.method, q.url, r.error);
    request_free(&q);
    gpt_response_free(&r);
    return false;
  }
  const json_t *poll = json_object_get(step, "poll");
  if (ok && poll) {
    const json_t *in = json_object_get(poll, "in");
    ok = poll_until(sc, &q, q.url, or_default(json_string_value(json_object_get(poll, "until")), "status"), in, &r);
  }
  if (ok) ok = check(sc, &sc->v, json_object_get(step, "expect"), &r);
  if (ok && !poll) ok = check_elapsed(sc, json_object_get(step, "elapsedMs"), now_ms() - started);
  if (ok) capture(sc, json_object_get(step, "capture"), &r);
  const json_t *await = json_object_get(step, "await");
  if (ok && await) {
    /* follow Azure-AsyncOperation to the end and check the final status */
    const char *url = gpt_header(&r, "Azure-AsyncOperation");
    if (!url) {
      snprintf(sc->why, sizeof sc->why, "await: the response has no Azure-AsyncOperation header");
      ok = false;
    } else {
      char *u = strdup(url);
      json_t *terminal = json_pack("[sss]", "Succeeded", "Failed", "Canceled");
      gpt_response pr = {0};
      ok = poll_until(sc, &q, u, "status", terminal, &pr);
      if (ok && !json_equal(jpath(pr.json, "status"), await)) {
        snprintf(sc->why, sizeof sc->why, "await: operation ended %s, expected %s (%.500s)",
                 json_string_value(jpath(pr.json, "status")), json_string_value(await), pr.body);
        ok = false;
      }
      json_decref(terminal);
      gpt_response_free(&pr);
      free(u);
    }
  }
  if (!ok) {
    size_t n = strlen(sc->why);
    snprintf(sc->why + n, sizeof sc->why - n, "\n      request: %s %.300s\n      response: %ld %.1200s", q.method,
             q.url, r.status, r.body ? r.body : "");
  }
  request_free(&q);
  gpt_response_free(&r);
  return ok;
}

static bool run_step(scenario *sc, const json_t *step) {
  int repeat = (int)json_integer_value(json_object_get(step, "repeat"));
  const json_t *sleep = json_object_get(step, "sleepMs");
  if (sleep) sleep_ms((long)json_integer_value(sleep));
  if (json_is_true(json_object_get(step, "parallel"))) return run_parallel(sc, step, repeat > 0 ? repeat : 1);
  if (repeat <= 0) return run_once(sc, step);
  for (int i = 0; i < repeat; i++) {
    char idx[16];
    snprintf(idx, sizeof idx, "%d", i);
    set_var(&sc->v, "i", idx);
    if (!run_once(sc, step)) return false;
  }
  return true;
}

/* name=value lines given with --vars (made by the test that runs the scenarios: keys, tokens). */
static const char *vars_file;

static bool load_vars(vars *v, const char *path) {
  FILE *f = fopen(path, "r");
  char line[16384];
  if (!f) return false;
  while (fgets(line, sizeof line, f)) {
    char *eq = strchr(line, '=');
    line[strcspn(line, "\r\n")] = '\0';
    if (eq && eq > line && *line != '#') {
      *eq = '\0';
      set_var(v, line, eq + 1);
    }
  }
  fclose(f);
  return true;
}

static bool run_file(const char *bin, const char *file) {
  json_error_t je;
  json_t *doc = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
  scenario sc;
  memset(&sc, 0, sizeof sc);
  sc.file = file;
  if (!doc) {
    fprintf(stderr, "FAIL %s: not valid JSON: %s (line %d)\n", file, je.text, je.line);
    return false;
  }
  for (size_t k = 0; k < GPT_NDEFAULT_VARS; k++)
    set_var(&sc.v, gpt_default_vars[k][0], gpt_default_vars[k][1]);
  if (vars_file && !load_vars(&sc.v, vars_file)) {
    fprintf(stderr, "FAIL %s: cannot read --vars %s\n", file, vars_file);
    json_decref(doc);
    return false;
  }
  char *args[32];
  size_t na = 0;
  size_t i;
  json_t *x;
  bool args_ok = true;
  json_array_foreach(json_object_get(doc, "server"), i, x) if (na < 31) args[na++] =
      subst(&sc, &sc.v, or_default(json_string_value(x), ""), &args_ok);
  args[na] = NULL;
  bool started = args_ok && gpt_dir_make(&sc.srv) && gpt_server_start(&sc.srv, bin, (const char *const *)args);
  for (size_t k = 0; k < na; k++)
    free(args[k]);
  if (!started) {
    fprintf(stderr, "FAIL %s: could not start %s%s%s\n", file, bin, args_ok ? "" : ": ", args_ok ? "" : sc.why);
    gpt_dir_remove(&sc.srv);
    free_vars(&sc.v);
    json_decref(doc);
    return false;
  }
  set_var(&sc.v, "base", sc.srv.base);
  char rg[512];
  snprintf(rg, sizeof rg, "/subscriptions/%s/resourceGroups/rg1/providers/Microsoft.ContainerService",
           get_var(&sc.v, "sub"));
  set_var(&sc.v, "rg", rg);
  const char *k;
  bool vars_ok = true;
  json_object_foreach(json_object_get(doc, "vars"), k, x) if (json_is_string(x)) {
    char *val = subst(&sc, &sc.v, json_string_value(x), &vars_ok); /* may use the ones defined before */
    set_var(&sc.v, k, val);
    free(val);
  }

  bool ok = true;
  size_t nsteps = json_array_size(json_object_get(doc, "steps"));
  json_array_foreach(json_object_get(doc, "steps"), i, x) {
    if (!run_step(&sc, x)) {
      const char *name = json_string_value(json_object_get(x, "name"));
      fprintf(stderr, "FAIL %s: step %zu (%s): %s\n", file, i + 1, name ? name : "", sc.why);
      ok = false;
      break;
    }
  }
  int status = gpt_server_stop(&sc.srv);
  join_all(&sc); /* background requests still open ended with the server */
  if (status != 0) {
    fprintf(stderr, "FAIL %s: gpupoold exited with status %d\n", file, status);
    ok = false;
  }
  if (!ok)
    gpt_server_log_tail(&sc.srv, 15);
  else
    printf("ok   %s (%zu steps, %s)\n", file, nsteps, gpt_store_kind());
  gpt_dir_remove(&sc.srv);
  free_vars(&sc.v);
  json_decref(doc);
  return ok;
}

int main(int argc, char **argv) {
  const char *bin = NULL, *cacert = NULL;
  int first = 1, failed = 0, total = 0;
  gpt_store_args(&argc, argv);
  for (; first + 1 < argc && strncmp(argv[first], "--", 2) == 0; first += 2) {
    if (strcmp(argv[first], "--server") == 0)
      bin = argv[first + 1];
    else if (strcmp(argv[first], "--vars") == 0)
      vars_file = argv[first + 1];
    else if (strcmp(argv[first], "--cacert") == 0)
      cacert = argv[first + 1];
    else
      break;
  }
  if (!bin || first >= argc) {
    fprintf(stderr, "usage: http-runner --server BUILD/gpupoold [--pg URL] [--vars FILE] [--cacert CA.pem] "
                    "SCENARIO.json...\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  gpt_client_init();
  if (cacert) gpt_client_set_cacert(cacert);
  for (int i = first; i < argc; i++, total++)
    if (!run_file(bin, argv[i])) failed++;
  printf("%d of %d scenario files passed\n", total - failed, total);
  return failed ? 1 : 0;
}
