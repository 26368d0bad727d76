/* state.c - what `gpupool-agent run` keeps in its state directory, so that a restart resumes where
 * it stopped and a server that is away costs nothing:
 *   state.json         {version, machine, appliedGeneration, etag, lastReport}
 *   plan.json          the latest plan received (validated before it is kept)
 *   applied-plan.json  the plan of the last finished apply (what a plan change is compared with)
 *   last-report.json   the last report the server accepted
 *   health.json        the GPU health memory (health_state.c)
 * Every write is atomic: a temporary file, fsync, rename, then fsync of the directory. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "daemon.h"

#define STATE_FILE_MAX (1024u * 1024u)

static char *path_of(const char *dir, const char *name) { return ag_fmt("%s/%s", dir, name); }

bool ag_state_write(const char *dir, const char *name, const char *text, ag_err *err) {
  char *path = path_of(dir, name);
  if (!path) {
    ag_seterr(err, "out of memory");
    return false;
  }
  bool ok = ag_write_file(path, text, strlen(text), err);
  free(path);
  if (ok) {
    /* the rename itself must survive a crash */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      fsync(fd);
      close(fd);
    }
  }
  return ok;
}

static char *read_in(const char *dir, const char *name) {
  char *path = path_of(dir, name);
  ag_err e;
  char *text = path ? ag_read_file(path, STATE_FILE_MAX, NULL, &e) : NULL;
  free(path);
  return text;
}

/* A plan file that still parses as a plan, else NULL (logged). */
static char *read_plan(const char *dir, const char *name) {
  char *text = read_in(dir, name);
  if (!text) return NULL;
  ag_plan p;
  ag_err err;
  if (!ag_plan_parse(text, strlen(text), name, &p, &err)) {
    ag_log("warn", "state", "%s/%s is not a usable plan (%s); ignored", dir, name, err.msg);
    free(text);
    text = NULL;
  }
  ag_plan_free(&p);
  return text;
}

void ag_state_load(const char *dir, const char *machine, ag_saved *s) {
  memset(s, 0, sizeof *s);
  char *text = read_in(dir, "state.json");
  if (!text) return; /* first start */
  json_t *root = json_loads(text, 0, NULL);
  free(text);
  const char *m = json_string_value(json_object_get(root, "machine"));
  if (!json_is_object(root) || !m) {
    ag_log("warn", "state", "%s/state.json is not the agent's state; starting afresh", dir);
  } else if (strcasecmp(m, machine) != 0) {
    ag_log("warn", "state", "%s/state.json belongs to %s, not %s; starting afresh", dir, m, machine);
  } else {
    json_t *g = json_object_get(root, "appliedGeneration");
    const char *etag = json_string_value(json_object_get(root, "etag"));
    s->applied_generation = json_is_integer(g) && json_integer_value(g) > 0 ? json_integer_value(g) : 0;
    s->plan_text = read_plan(dir, "plan.json");
    s->applied_text = read_plan(dir, "applied-plan.json");
    if (etag && s->plan_text && strlen(etag) < sizeof s->etag) snprintf(s->etag, sizeof s->etag, "%s", etag);
    if (s->applied_generation && !s->applied_text) {
      ag_log("warn", "state", "applied generation %lld has no applied-plan.json; it will be applied again",
             s->applied_generation);
      s->applied_generation = 0;
    }
  }
  json_decref(root);
}

bool ag_state_save(const char *dir, const char *machine, const ag_saved *s, const char *last_report, ag_err *err) {
  json_t *root = json_pack("{s:i,s:s,s:I,s:s,s:s?}", "version", 1, "machine", machine, "appliedGeneration",
                           (json_int_t)s->applied_generation, "etag", s->etag, "lastReport", last_report);
  char *text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
  json_decref(root);
  if (!text) {
    ag_seterr(err, "out of memory");
    return false;
  }
  bool ok = ag_state_write(dir, "state.json", text, err);
  free(text);
  return ok;
}

void ag_saved_free(ag_saved *s) {
  free(s->plan_text);
  free(s->applied_text);
  memset(s, 0, sizeof *s);
}
