/* run_vectors.c - runs the decision-matrix case files under tests/vectors/ through the real CLI.
 *
 * A case is one JSON file: the inputs (pool body, optional cluster and existing bodies), the CLI
 * flags, and what must come out: the exit status, the error code/target/details, a subset of the
 * output JSON, paths that must be absent ("a.b.c", or ["a", "key.with.dots"]), and for plans the
 * exact component list and the whole lists of decisions (rule, outcome, a text of the reason) and
 * of warnings (a text of each). The runner writes the inputs to temporary files, runs
 * `gpupool validate|plan`, and compares.
 *
 * Usage: run-vectors --cli "CMD" DIR [FILTER]   (CMD may carry a wrapper such as valgrind) */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
static char tmpdir[256];

static void fail(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(const char *file, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "FAIL %s: ", file);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  failures++;
}

/* Is `want` a subset of `got`? Objects: every key of want matches, and an empty object matches
 * only an empty one ("allocatable": {} means nothing is advertised); arrays: same length, each
 * element a subset; scalars: equal. On mismatch, *where receives the path. */
static int subset(const json_t *want, const json_t *got, char *where, size_t size) {
  if (json_is_object(want)) {
    const char *k;
    json_t *v;
    if (!json_is_object(got) || (json_object_size(want) == 0 && json_object_size(got) != 0)) return 0;
    json_object_foreach((json_t *)want, k, v) {
      size_t len = strlen(where);
      snprintf(where + len, size - len, ".%s", k);
      if (!subset(v, json_object_get(got, k), where, size)) return 0;
      where[len] = '\0';
    }
    return 1;
  }
  if (json_is_array(want)) {
    if (!json_is_array(got) || json_array_size(got) != json_array_size(want)) return 0;
    for (size_t i = 0; i < json_array_size(want); i++) {
      size_t len = strlen(where);
      snprintf(where + len, size - len, "[%zu]", i);
      if (!subset(json_array_get(want, i), json_array_get(got, i), where, size)) return 0;
      where[len] = '\0';
    }
    return 1;
  }
  return got && json_equal(want, got);
}

/* Looks up a dotted path ("properties.gpuProfile.nvidia"), or an array of keys for keys that hold
 * dots (["nodeLabels", "nvidia.com/mig.strategy"]). */
static json_t *lookup(json_t *root, const json_t *path) {
  char buf[512];
  if (json_is_array(path)) {
    size_t i;
    json_t *k;
    json_t *cur = root;
    json_array_foreach(path, i, k) cur = json_object_get(cur, json_string_value(k) ? json_string_value(k) : "");
    return json_array_size(path) ? cur : NULL;
  }
  snprintf(buf, sizeof buf, "%s", json_string_value(path) ? json_string_value(path) : "");
  json_t *cur = root;
  for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save))
    cur = json_object_get(cur, tok);
  return cur;
}

static int write_json(const char *path, json_t *v) { return json_dump_file(v, path, JSON_INDENT(1)); }

static char *read_all(FILE *f) {
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len < 2) {
      char *b = realloc(buf, cap * 2);
      if (!b) {
        free(buf);
        return NULL;
      }
      buf = b;
      cap *= 2;
    }
  }
  if (buf) buf[len] = '\0';
  return buf;
}

static void run_case(const char *cli, const char *path, const char *name) {
  json_error_t je;
  json_t *c = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  if (!c) {
    fail(name, "cannot parse case: %s", je.text);
    return;
  }
  const char *cmd = json_string_value(json_object_get(c, "command"));
  json_t *args = json_object_get(c, "args"), *expect = json_object_get(c, "expect");
  if (!cmd) cmd = "validate";
  if (!json_is_object(expect) || !json_object_get(c, "pool")) {
    fail(name, "case needs 'pool' and 'expect'");
    json_decref(c);
    return;
  }
  char line[8192], f_pool[300], f_cluster[300], f_existing[300], f_err[300];
  snprintf(f_pool, sizeof f_pool, "%s/pool.json", tmpdir);
  snprintf(f_cluster, sizeof f_cluster, "%s/cluster.json", tmpdir);
  snprintf(f_existing, sizeof f_existing, "%s/existing.json", tmpdir);
  snprintf(f_err, sizeof f_err, "%s/stderr.txt", tmpdir);
  json_t *pool = json_object_get(c, "pool");
  if (json_is_string(pool)) { /* raw text, for malformed-input cases */
    FILE *f = fopen(f_pool, "w");
    if (f) {
      fputs(json_string_value(pool), f);
      fclose(f);
    }
  } else {
    write_json(f_pool, pool);
  }
  int n = snprintf(line, sizeof line, "%s %s -f %s", cli, cmd, f_pool);
  if (json_object_get(c, "cluster")) {
    write_json(f_cluster, json_object_get(c, "cluster"));
    n += snprintf(line + n, sizeof line - n, " --cluster %s", f_cluster);
  }
  if (json_object_get(c, "existing")) {
    write_json(f_existing, json_object_get(c, "existing"));
    n += snprintf(line + n, sizeof line - n, " --existing %s", f_existing);
  }
  const char *s;
  if ((s = json_string_value(json_object_get(args, "phase"))))
    n += snprintf(line + n, sizeof line - n, " --phase %s", s);
  if ((s = json_string_value(json_object_get(args, "gaKubernetesVersion"))))
    n += snprintf(line + n, sizeof line - n, " --ga-kubernetes-version %s", s);
  if ((s = json_string_value(json_object_get(args, "apiVersion"))))
    n += snprintf(line + n, sizeof line - n, " --api-version %s", s);
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(args, "features"), i, v) {
    n += snprintf(line + n, sizeof line - n, " --feature %s", json_string_value(v));
  }
  snprintf(line + n, sizeof line - n, " 2>%s", f_err);

  FILE *p = popen(line, "r");
  if (!p) {
    fail(name, "cannot run %s", line);
    json_decref(c);
    return;
  }
  char *out = read_all(p);
  int st = pclose(p);
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  FILE *ef = fopen(f_err, "r");
  char *err = ef ? read_all(ef) : NULL;
  if (ef) fclose(ef);

  json_int_t want_exit = json_integer_value(json_object_get(expect, "exit"));
  char buf[64], buf2[64];
  if (code != want_exit) {
    snprintf(buf, sizeof buf, "%d", code);
    snprintf(buf2, sizeof buf2, "%lld", (long long)want_exit);
    fail(name, "exit status %s, expected %s", buf, buf2);
    fprintf(stderr, "  command: %s\n  stdout: %.2000s\n  stderr: %.500s\n", line, out ? out : "", err ? err : "");
    goto done;
  }
  json_t *got = out && *out ? json_loads(out, 0, &je) : NULL;
  if (want_exit != 2 && !got) {
    fail(name, "output is not JSON: %.300s", out ? out : "");
    goto done;
  }
  json_t *we = json_object_get(expect, "error");
  if (we) {
    json_t *ge = json_object_get(got, "error");
    const char *wc = json_string_value(json_object_get(we, "code"));
    if (wc && !json_equal(json_object_get(we, "code"), json_object_get(ge, "code")))
      fail(name, "error code %s, expected %s", json_string_value(json_object_get(ge, "code")), wc);
    json_t *wt = json_object_get(we, "target");
    if (wt && !json_equal(wt, json_object_get(ge, "target")))
      fail(name, "error target %s, expected %s", json_string_value(json_object_get(ge, "target")),
           json_string_value(wt));
    json_t *wd = json_object_get(we, "details"); /* list of codes, in order */
    if (wd) {
      json_t *gd = json_object_get(ge, "details");
      int ok = json_array_size(gd) == json_array_size(wd);
      for (size_t k = 0; ok && k < json_array_size(wd); k++)
        ok = json_equal(json_array_get(wd, k), json_object_get(json_array_get(gd, k), "code"));
      if (!ok) {
        char *g = json_dumps(gd, JSON_COMPACT);
        char *w = json_dumps(wd, JSON_COMPACT);
        fail(name, "error details %s, expected codes %s", g ? g : "", w ? w : "");
        free(g);
        free(w);
      }
    }
    json_t *mc = json_object_get(we, "messageContains");
    if (json_is_string(mc)) {
      const char *m = json_string_value(json_object_get(ge, "message"));
      if (!m || !strstr(m, json_string_value(mc)))
        fail(name, "error message '%s' lacks '%s'", m ? m : "", json_string_value(mc));
    }
  }
  json_t *wo = json_object_get(expect, "output");
  if (wo) {
    char where[1024] = "";
    if (!subset(wo, got, where, sizeof where)) {
      char *g = json_dumps(got, JSON_COMPACT);
      fail(name, "output differs at '%s'; got %.3000s", where, g ? g : "");
      free(g);
    }
  }
  json_array_foreach(json_object_get(expect, "absent"), i, v) {
    if (lookup(got, v)) {
      char *what = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
      fail(name, "%s should be absent", what ? what : "?");
      free(what);
    }
  }
  json_t *wcomp = json_object_get(expect, "components");
  if (wcomp) {
    json_t *names = json_array();
    json_t *comp;
    size_t k;
    json_array_foreach(json_object_get(got, "components"), k, comp) {
      json_array_append(names, json_object_get(comp, "name"));
    }
    if (!json_equal(names, wcomp)) {
      char *g = json_dumps(names, JSON_COMPACT);
      char *w = json_dumps(wcomp, JSON_COMPACT);
      fail(name, "components %s, expected %s", g ? g : "", w ? w : "");
      free(g);
      free(w);
    }
    json_decref(names);
  }
  /* "decisions": [[rule, outcome, text the reason contains], ...]: the plan's whole list, in order */
  json_t *wdec = json_object_get(expect, "decisions");
  if (wdec) {
    json_t *gdec = json_object_get(got, "decisions");
    if (json_array_size(gdec) != json_array_size(wdec))
      fail(name, "%zu decisions, expected %zu", json_array_size(gdec), json_array_size(wdec));
    for (size_t k = 0; k < json_array_size(wdec) && k < json_array_size(gdec); k++) {
      json_t *w = json_array_get(wdec, k), *g = json_array_get(gdec, k);
      const char *rule = json_string_value(json_object_get(g, "rule"));
      const char *outcome = json_string_value(json_object_get(g, "outcome"));
      const char *reason = json_string_value(json_object_get(g, "reason"));
      const char *wr = json_string_value(json_array_get(w, 0)), *wout = json_string_value(json_array_get(w, 1));
      const char *wt = json_string_value(json_array_get(w, 2));
      if (!rule || !outcome || !reason || !wr || !wout || !wt || strcmp(rule, wr) != 0 || strcmp(outcome, wout) != 0 ||
          !strstr(reason, wt))
        fail(name, "decision %zu is {%s, %s, \"%s\"}, expected {%s, %s, ...%s...}", k, rule ? rule : "?",
             outcome ? outcome : "?", reason ? reason : "?", wr ? wr : "?", wout ? wout : "?", wt ? wt : "?");
    }
  }
  /* "warnings": [text, ...]: exactly that many plan warnings, the i-th containing the i-th text */
  json_t *wwarn = json_object_get(expect, "warnings");
  if (wwarn) {
    json_t *gw = json_object_get(got, "warnings");
    if (json_array_size(gw) != json_array_size(wwarn))
      fail(name, "%zu warnings, expected %zu", json_array_size(gw), json_array_size(wwarn));
    for (size_t k = 0; k < json_array_size(wwarn) && k < json_array_size(gw); k++) {
      const char *g = json_string_value(json_array_get(gw, k)), *w = json_string_value(json_array_get(wwarn, k));
      if (!g || !w || !strstr(g, w))
        fail(name, "warning %zu is \"%s\", expected it to contain \"%s\"", k, g ? g : "?", w ? w : "?");
    }
  }
  json_t *wc = json_object_get(expect, "warningContains"); /* some plan warning contains this text */
  if (json_is_string(wc)) {
    int found = 0;
    json_array_foreach(json_object_get(got, "warnings"), i, v) {
      if (json_is_string(v) && strstr(json_string_value(v), json_string_value(wc))) found = 1;
    }
    if (!found) fail(name, "no plan warning contains '%s'", json_string_value(wc));
  }
  json_t *sc = json_object_get(expect, "stderrContains");
  if (json_is_string(sc) && (!err || !strstr(err, json_string_value(sc))))
    fail(name, "stderr lacks '%s': %.300s", json_string_value(sc), err ? err : "");
  json_decref(got);
done:
  free(out);
  free(err);
  json_decref(c);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

int main(int argc, char **argv) {
  const char *cli = "build/gpupool", *dir = NULL, *filter = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--cli") == 0 && i + 1 < argc)
      cli = argv[++i];
    else if (!dir)
      dir = argv[i];
    else
      filter = argv[i];
  }
  if (!dir) {
    fprintf(stderr, "usage: run-vectors --cli CMD DIR [FILTER]\n");
    return 2;
  }
  snprintf(tmpdir, sizeof tmpdir, "/tmp/gpupool-vectors-XXXXXX");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 2;
  }
  struct dirent **list;
  int n = scandir(dir, &list, NULL, by_name);
  if (n < 0) {
    fprintf(stderr, "cannot list %s: %s\n", dir, strerror(errno));
    return 2;
  }
  int cases = 0;
  for (int i = 0; i < n; i++) {
    const char *d = list[i]->d_name;
    size_t len = strlen(d);
    if (len > 5 && strcmp(d + len - 5, ".json") == 0 && (!filter || strstr(d, filter))) {
      char path[1024];
      snprintf(path, sizeof path, "%s/%s", dir, d);
      run_case(cli, path, d);
      cases++;
    }
    free(list[i]);
  }
  free(list);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tmpdir);
  printf("vectors: %d cases, %d failures\n", cases, failures);
  return failures || cases == 0 ? 1 : 0;
}
