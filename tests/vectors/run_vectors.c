/* run_vectors.c - runs the decision-matrix case files under tests/vectors/, and the disruption-class
 * case files under tests/diff/, through the real CLI and node agent.
 *
 * A case is one JSON file: the inputs (pool body, optional cluster and existing bodies), the CLI
 * flags, and what must come out: the exit status, the error code/target/details, a subset of the
 * output JSON, paths that must be absent ("a.b.c", or ["a", "key.with.dots"]), and for plans the
 * exact component list and the whole lists of decisions (rule, outcome, a text of the reason) and
 * of warnings (a text of each). The runner writes the inputs to temporary files, runs
 * `gpupool validate|plan`, and compares. A case whose command is "diff" (tests/diff/README.md) runs
 * `gpupool plan --diff` and `gpupool-agent diff`.
 *
 * Usage: run-vectors --cli "CMD" [--agent "CMD"] DIR [FILTER]   (CMD may carry a wrapper such as
 * valgrind) */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
static char tmpdir[256];
static const char *agent; /* --agent: gpupool-agent, for the diff cases */

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

/* The first member of obj whose key is not in allowed (NULL-terminated); NULL when there is none.
 * A misspelt expectation would otherwise check nothing. */
static const char *unknown_key(json_t *obj, const char *const *allowed) {
  const char *k;
  json_t *v;
  json_object_foreach(obj, k, v) {
    size_t i = 0;
    while (allowed[i] && strcmp(allowed[i], k) != 0)
      i++;
    if (!allowed[i]) return k;
  }
  return NULL;
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

/* Runs a shell command line with stderr to `errfile`; its stdout, stderr and exit status. */
static void run_line(const char *line, const char *errfile, char **out, char **err, int *code) {
  *out = *err = NULL;
  *code = -1;
  FILE *p = popen(line, "r");
  if (!p) return;
  *out = read_all(p);
  int st = pclose(p);
  *code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  FILE *ef = fopen(errfile, "r");
  *err = ef ? read_all(ef) : NULL;
  if (ef) fclose(ef);
}

/* The CLI flags of a case's args, appended at line[n]; the new length. */
static int append_flags(const json_t *args, char *line, size_t size, int n) {
  const char *s;
  if ((s = json_string_value(json_object_get(args, "phase")))) n += snprintf(line + n, size - n, " --phase %s", s);
  if ((s = json_string_value(json_object_get(args, "gaKubernetesVersion"))))
    n += snprintf(line + n, size - n, " --ga-kubernetes-version %s", s);
  if ((s = json_string_value(json_object_get(args, "apiVersion"))))
    n += snprintf(line + n, size - n, " --api-version %s", s);
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(args, "features"), i, v) {
    n += snprintf(line + n, size - n, " --feature %s", json_string_value(v));
  }
  return n;
}

/* ---- disruption-class cases (tests/diff/README.md) ----------------------------------------------- */

/* Sets the value at a path of a plan written as the diff writes paths ("member", "member[key]",
 * "member[key].field"; in components the key is a component's name); null removes. 0 when the
 * path cannot be followed. */
static int patch_plan(json_t *plan, const char *path, json_t *value) {
  char member[128], key[256], field[128] = "";
  const char *br = strchr(path, '['), *end = br ? strchr(br, ']') : NULL;
  bool del = json_is_null(value);
  if (!br) return del ? json_object_del(plan, path) == 0 : json_object_set(plan, path, value) == 0;
  if (!end || (end[1] && end[1] != '.')) return 0;
  snprintf(member, sizeof member, "%.*s", (int)(br - path), path);
  snprintf(key, sizeof key, "%.*s", (int)(end - br - 1), br + 1);
  if (end[1] == '.') snprintf(field, sizeof field, "%s", end + 2);
  json_t *m = json_object_get(plan, member);
  if (json_is_object(m) && !*field) return del ? json_object_del(m, key) == 0 : json_object_set(m, key, value) == 0;
  if (!json_is_array(m)) return 0;
  size_t i, at = 0;
  json_t *x, *found = NULL;
  json_array_foreach(m, i, x) {
    const char *nm = json_string_value(json_object_get(x, "name"));
    if (nm && strcmp(nm, key) == 0) found = x, at = i;
  }
  if (*field) {
    if (!found) return 0;
    return del ? json_object_del(found, field) == 0 : json_object_set(found, field, value) == 0;
  }
  if (del) return found && json_array_remove(m, at) == 0;
  return (found ? json_array_set(m, at, value) : json_array_append(m, value)) == 0;
}

/* `CLI plan -f BODY [--existing OLD] FLAGS > OUT`, then the patches; 0 when it failed (said). */
static int make_plan(const char *cli, const char *name, const char *body, const char *old, const json_t *args,
                     const json_t *patches, const char *out_path) {
  char line[4096], f_err[300];
  snprintf(f_err, sizeof f_err, "%s/stderr.txt", tmpdir);
  int n = snprintf(line, sizeof line, "%s plan -f %s", cli, body);
  if (old) n += snprintf(line + n, sizeof line - n, " --existing %s", old);
  n = append_flags(args, line, sizeof line, n);
  snprintf(line + n, sizeof line - n, " >%s 2>%s", out_path, f_err);
  char *out, *err;
  int code;
  run_line(line, f_err, &out, &err, &code);
  free(out);
  if (code != 0) {
    fail(name, "%s: exit %d (the case's bodies must be valid): %.300s", line, code, err ? err : "");
    free(err);
    return 0;
  }
  free(err);
  if (!patches) return 1;
  json_error_t je;
  json_t *plan = json_load_file(out_path, 0, &je);
  const char *k;
  json_t *v;
  int ok = plan != NULL;
  json_object_foreach((json_t *)patches, k, v) {
    if (ok && !patch_plan(plan, k, v)) {
      fail(name, "patch '%s' does not apply to the plan", k);
      ok = 0;
    }
  }
  if (ok) ok = write_json(out_path, plan) == 0;
  json_decref(plan);
  return ok;
}

/* A diff's changes without the generation's (plans of one update, printed apart, carry 1 and 2). */
static json_t *without_generation(const json_t *d) {
  json_t *out = json_array(), *c;
  size_t i;
  json_array_foreach(json_object_get(d, "changes"), i, c) {
    const char *path = json_string_value(json_object_get(c, "path"));
    if (!path || strcmp(path, "generation") != 0) json_array_append(out, c);
  }
  return out;
}

static void run_diff_case(const char *cli, json_t *c, const char *name) {
  static const char *const case_keys[] = {"description", "row",       "command", "args",   "from", "to",
                                          "update",      "fromPatch", "toPatch", "expect", NULL};
  static const char *const expect_keys[] = {"exit", "class", "changes", "none", "error", "stderrContains", NULL};
  json_t *args = json_object_get(c, "args"), *expect = json_object_get(c, "expect"), *from = json_object_get(c, "from"),
         *to = json_object_get(c, "to"), *fpatch = json_object_get(c, "fromPatch"),
         *tpatch = json_object_get(c, "toPatch");
  const char *bad = unknown_key(c, case_keys);
  if (!bad && json_is_object(expect)) bad = unknown_key(expect, expect_keys);
  if (bad) {
    fail(name, "unknown key '%s' (tests/diff/README.md lists the keys)", bad);
    return;
  }
  if (!agent) {
    fail(name, "a diff case needs --agent (gpupool-agent)");
    return;
  }
  if (!json_is_object(to) || !from || !(json_is_object(from) || json_is_null(from)) || !json_is_object(expect)) {
    fail(name, "a diff case needs 'to' (a body), 'from' (a body or null) and 'expect'");
    return;
  }
  json_t *u = json_object_get(c, "update");
  bool update = u ? json_is_true(u) : json_is_object(from) && !fpatch && !tpatch;
  if (update && (fpatch || tpatch || !json_is_object(from))) {
    fail(name, "an update case (gpupool plan --existing --diff) takes a 'from' body and no patches");
    return;
  }
  char f_from[300], f_to[300], p_from[300], p_to[300], f_err[300], line[4096];
  snprintf(f_from, sizeof f_from, "%s/from.json", tmpdir);
  snprintf(f_to, sizeof f_to, "%s/to.json", tmpdir);
  snprintf(p_from, sizeof p_from, "%s/from-plan.json", tmpdir);
  snprintf(p_to, sizeof p_to, "%s/to-plan.json", tmpdir);
  snprintf(f_err, sizeof f_err, "%s/stderr.txt", tmpdir);
  if (json_is_object(from)) write_json(f_from, from);
  write_json(f_to, to);
  char *out = NULL, *err = NULL, *aout = NULL, *aerr = NULL;
  int code = 0, acode = -1;
  json_t *got = NULL, *agot = NULL;
  if (update) { /* the offline CLI's diff of an update */
    int n = snprintf(line, sizeof line, "%s plan -f %s --existing %s --diff", cli, f_to, f_from);
    n = append_flags(args, line, sizeof line, n);
    snprintf(line + n, sizeof line - n, " 2>%s", f_err);
    run_line(line, f_err, &out, &err, &code);
  }
  /* the agent's diff of the two plans (for an update, the plans gpupool prints for it) */
  if (code == 0 && (!json_is_object(from) || make_plan(cli, name, f_from, NULL, args, fpatch, p_from)) &&
      make_plan(cli, name, f_to, update ? f_from : NULL, args, tpatch, p_to)) {
    int n = snprintf(line, sizeof line, "%s diff", agent);
    if (json_is_object(from)) n += snprintf(line + n, sizeof line - n, " --from %s", p_from);
    snprintf(line + n, sizeof line - n, " --to %s 2>%s", p_to, f_err);
    run_line(line, f_err, &aout, &aerr, &acode);
    if (acode != 0) fail(name, "gpupool-agent diff: exit %d: %.300s", acode, aerr ? aerr : "");
    agot = aout ? json_loads(aout, 0, NULL) : NULL;
  }
  if (!update) {
    code = acode;
    out = aout, aout = NULL;
    err = aerr, aerr = NULL;
  }
  got = out && *out ? json_loads(out, 0, NULL) : NULL;
  json_int_t want_exit = json_integer_value(json_object_get(expect, "exit"));
  if (code != want_exit) {
    fail(name, "exit status %d, expected %lld", code, (long long)want_exit);
    fprintf(stderr, "  stdout: %.2000s\n  stderr: %.500s\n", out ? out : "", err ? err : "");
    goto done;
  }
  if (!got) {
    fail(name, "output is not JSON: %.300s", out ? out : "");
    goto done;
  }
  json_t *we = json_object_get(expect, "error");
  const char *wc = json_string_value(json_object_get(we, "code"));
  if (wc && !json_equal(json_object_get(we, "code"), json_object_get(json_object_get(got, "error"), "code")))
    fail(name, "error code %s, expected %s",
         json_string_value(json_object_get(json_object_get(got, "error"), "code")) ?: "(none)", wc);
  json_t *sc = json_object_get(expect, "stderrContains");
  if (json_is_string(sc) && (!err || !strstr(err, json_string_value(sc))))
    fail(name, "stderr lacks '%s': %.300s", json_string_value(sc), err ? err : "");
  if (want_exit != 0) goto done;
  /* both ways of asking say the same (the CLI keeps generation 1 for an update that changes nothing) */
  if (update) {
    json_t *a = without_generation(got), *b = without_generation(agot);
    if (!agot || !json_equal(json_object_get(got, "class"), json_object_get(agot, "class")) || !json_equal(a, b))
      fail(name, "gpupool plan --diff and gpupool-agent diff of its plans disagree: %.500s | %.500s", out,
           aout ? aout : "");
    json_decref(a);
    json_decref(b);
  }
  json_t *wclass = json_object_get(expect, "class");
  if (wclass && !json_equal(wclass, json_object_get(got, "class")))
    fail(name, "class %s, expected %s", json_string_value(json_object_get(got, "class")) ?: "?",
         json_string_value(wclass) ?: "?");
  /* the changes that are not None, in order; the paths of those that are */
  json_t *real = json_array(), *none = json_array(), *x;
  size_t i;
  json_array_foreach(json_object_get(got, "changes"), i, x) {
    const char *cls = json_string_value(json_object_get(x, "class"));
    if (cls && strcmp(cls, "None") == 0)
      json_array_append(none, json_object_get(x, "path"));
    else
      json_array_append(real, x);
  }
  json_t *wch = json_object_get(expect, "changes"), *wnone = json_object_get(expect, "none");
  char where[1024] = "";
  if (wch && !subset(wch, real, where, sizeof where)) {
    char *g = json_dumps(real, JSON_COMPACT);
    fail(name, "changes differ at '%s'; got %.3000s", where, g ? g : "");
    free(g);
  }
  if (wnone && !json_equal(wnone, none)) {
    char *g = json_dumps(none, JSON_COMPACT);
    fail(name, "None changes %s differ from 'none'", g ? g : "");
    free(g);
  }
  json_decref(real);
  json_decref(none);
done:
  json_decref(got);
  json_decref(agot);
  free(out);
  free(err);
  free(aout);
  free(aerr);
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
  if (strcmp(cmd, "diff") == 0) {
    run_diff_case(cli, c, name);
    json_decref(c);
    return;
  }
  if (!json_is_object(expect) || !json_object_get(c, "pool")) {
    fail(name, "case needs 'pool' and 'expect'");
    json_decref(c);
    return;
  }
  static const char *const case_keys[] = {"description", "spec",     "command", "args", "pool",
                                          "cluster",     "existing", "expect",  NULL};
  static const char *const args_keys[] = {"phase", "gaKubernetesVersion", "apiVersion", "features", NULL};
  static const char *const expect_keys[] = {"exit",           "error",     "output",   "absent", "components",
                                            "warningContains", "decisions", "warnings", "stderrContains", NULL};
  static const char *const error_keys[] = {"code", "target", "details", "messageContains", NULL};
  const char *bad = unknown_key(c, case_keys);
  const char *in = "the case";
  if (!bad && json_is_object(args)) bad = unknown_key(args, args_keys), in = "args";
  if (!bad) bad = unknown_key(expect, expect_keys), in = "expect";
  if (!bad && json_is_object(json_object_get(expect, "error")))
    bad = unknown_key(json_object_get(expect, "error"), error_keys), in = "expect.error";
  if (bad) {
    fail(name, "unknown key '%s' in %s (tests/vectors/README.md lists the keys)", bad, in);
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
  n = append_flags(args, line, sizeof line, n);
  size_t i;
  json_t *v;
  snprintf(line + n, sizeof line - n, " 2>%s", f_err);

  char *out, *err;
  int code;
  run_line(line, f_err, &out, &err, &code);
  if (code < 0) {
    fail(name, "cannot run %s", line);
    json_decref(c);
    return;
  }

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
    else if (strcmp(argv[i], "--agent") == 0 && i + 1 < argc)
      agent = argv[++i];
    else if (!dir)
      dir = argv[i];
    else
      filter = argv[i];
  }
  if (!dir) {
    fprintf(stderr, "usage: run-vectors --cli CMD [--agent CMD] DIR [FILTER]\n");
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
