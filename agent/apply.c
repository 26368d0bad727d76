/* apply.c - `gpupool-agent apply`: makes the node what its plan says. It writes the rendered files,
 * stops and disables the services an earlier plan had and this one has not, sets MIG mode and
 * (re)creates the MIG instances where the node differs from the layout, and enables and restarts
 * the plan's services.
 *
 * It is idempotent: only what differs is done. A file that already says what the plan says is not
 * written again; a service is restarted only when what it runs with changed since the last
 * finished apply (its fingerprint: component version and image, drop-in; or the driver; or a MIG
 * change stopped it) and enabled only when that apply did not run it; on a node that matches the
 * plan nothing runs at all. The last finished apply is what its bootstrap.env under the root says:
 * that file is written last, so an apply that stops half-way (a failed command, the MIG reboot
 * gate) leaves the record of the one before, and the next run does again what was left undone. A plan the node cannot
 * take (another GPU model or count: check's ag_finding_refuses) is refused before any step is planned.
 *
 * The steps are computed first, from the plan and the node as NVML sees it, so that a dry run
 * (the default) prints exactly what --execute would do. Commands run without a shell. MIG mode
 * changes take effect only after a reboot on Azure VMs: after `nvidia-smi -mig`, --execute reads
 * the node again and stops (exit 5) until the mode is active; running apply again after the
 * reboot finishes the job. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"

typedef enum { STEP_WRITE, STEP_REMOVE, STEP_RUN, STEP_GATE, STEP_NOTE } step_kind;

/* The rendered file that records a finished apply (render.c writes it). */
#define AG_RECORD_PATH "etc/gpupool/bootstrap.env"

#define MAX_ARGS 24

typedef struct {
  step_kind kind;
  char *path;          /* WRITE/REMOVE: the full path */
  const char *content; /* WRITE */
  char *argv[MAX_ARGS];
  bool may_fail; /* RUN: a failure is reported but does not stop apply */
  bool want_mig; /* GATE: MIG must be (true) or not be (false) active on the gate's GPUs */
  char *text;    /* NOTE / GATE description */
} step;

typedef struct {
  step *s;
  size_t n;
  bool oom;
} steps;

static step *add_step(steps *st, step_kind kind) {
  step *s = realloc(st->s, (st->n + 1) * sizeof *s);
  if (!s) {
    st->oom = true;
    return NULL;
  }
  st->s = s;
  memset(&s[st->n], 0, sizeof *s);
  s[st->n].kind = kind;
  return &s[st->n++];
}

/* A command from a NULL-terminated list of words; words are copied. */
static void run(steps *st, bool may_fail, const char *const *words) {
  step *s = add_step(st, STEP_RUN);
  if (!s) return;
  s->may_fail = may_fail;
  for (size_t i = 0; words[i] && i < MAX_ARGS - 1; i++)
    if (!(s->argv[i] = strdup(words[i]))) st->oom = true;
}

static void note(steps *st, char *text) {
  step *s = add_step(st, STEP_NOTE);
  if (!text) st->oom = true;
  if (s)
    s->text = text;
  else
    free(text);
}

static void steps_free(steps *st) {
  for (size_t i = 0; i < st->n; i++) {
    free(st->s[i].path);
    free(st->s[i].text);
    for (size_t j = 0; j < MAX_ARGS; j++)
      free(st->s[i].argv[j]);
  }
  free(st->s);
}

/* "0,1,2" */
static char *index_list(const ag_inventory *inv, const bool *sel) {
  ag_buf b = {0};
  for (size_t i = 0; i < inv->ngpus; i++)
    if (sel[i]) ag_buf_addf(&b, "%s%u", b.len ? "," : "", inv->gpus[i].index);
  return ag_buf_take(&b);
}

static bool any(const bool *sel, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (sel[i]) return true;
  return false;
}

/* True when a GPU's instances are the layout (profiles and counts). */
static bool layout_matches(const ag_plan *p, const ag_gpu *g) {
  size_t want = 0;
  for (size_t i = 0; i < p->ngroups; i++) {
    size_t have = 0;
    for (size_t j = 0; j < g->ninst; j++)
      if (g->inst[j].profile && strcmp(g->inst[j].profile, p->groups[i].profile) == 0) have++;
    if (have != (size_t)p->groups[i].count) return false;
    want += have;
  }
  return want == g->ninst;
}

/* What the last finished apply left under root, from its bootstrap.env: the components it ran, the
 * fingerprints of its units (NULL when an older agent wrote it) and the driver version. known is
 * false on a first apply. */
typedef struct {
  bool known;
  char *components, *units, *driver_version;
} previous;

static void previous_load(const char *root, previous *pr) {
  memset(pr, 0, sizeof *pr);
  char *path = ag_join(root, AG_RECORD_PATH);
  ag_err e;
  char *text = path ? ag_read_file(path, 1 << 16, NULL, &e) : NULL;
  free(path);
  if (!text) return;
  pr->known = true;
  for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char **to = strncmp(line, "GPUPOOL_COMPONENTS=", 19) == 0       ? &pr->components
                : strncmp(line, "GPUPOOL_UNIT_CONFIGS=", 21) == 0   ? &pr->units
                : strncmp(line, "GPUPOOL_DRIVER_VERSION=", 23) == 0 ? &pr->driver_version
                                                                    : NULL;
    if (!to) continue;
    free(*to);
    *to = strdup(strchr(line, '=') + 1);
  }
  free(text);
}

static void previous_free(previous *pr) {
  free(pr->components);
  free(pr->units);
  free(pr->driver_version);
}

/* Is item one of the comma-separated entries of list? */
static bool listed(const char *list, const char *item) {
  size_t n = strlen(item);
  for (const char *q = list; q && *q;) {
    const char *comma = strchr(q, ',');
    size_t len = comma ? (size_t)(comma - q) : strlen(q);
    if (len == n && strncmp(q, item, n) == 0) return true;
    q = comma ? comma + 1 : NULL;
  }
  return false;
}

/* Did the previous apply run the unit (one of its components runs as it)? */
static bool ran_before(const previous *pr, const char *unit) {
  for (const char *q = pr->components; q && *q;) {
    const char *comma = strchr(q, ',');
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(comma ? (size_t)(comma - q) : strlen(q)), q);
    if (ag_component_unit(name) && strcmp(ag_component_unit(name), unit) == 0) return true;
    q = comma ? comma + 1 : NULL;
  }
  return false;
}

/* Does the unit run with something else than at the last finished apply? Unknown (an older agent
 * recorded nothing) counts as changed. */
static bool config_changed(const previous *pr, const ag_plan *p, const ag_fileset *fs, const char *unit) {
  char entry[128], fp[17];
  ag_unit_fingerprint(p, fs, unit, fp);
  snprintf(entry, sizeof entry, "%s=%s", unit, fp);
  return !pr->units || !listed(pr->units, entry);
}

static bool file_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* Does the file at path say exactly content? */
static bool file_says(const char *path, const char *content) {
  ag_err e;
  size_t len = 0, want = strlen(content);
  char *text = ag_read_file(path, want + 1, &len, &e);
  bool same = text && len == want && memcmp(text, content, len) == 0;
  free(text);
  return same;
}

/* The MIG part: what to run so that every GPU has the plan's MIG mode and layout. */
static bool mig_steps(steps *st, const ag_plan *p, const ag_inventory *inv, bool known, ag_err *err) {
  const char *ids = ag_plan_cgi_ids(p);
  size_t n = inv->ngpus;
  bool enable[64] = {0}, destroy[64] = {0}, create[64] = {0}, disable[64] = {0};
  if (!p->has_gpu || !ag_plan_component(p, GP_COMPONENT_DRIVER)) return true;
  if (!known) {
    if (!p->has_layout) return true;
    /* No NVML to ask (the driver comes with this boot): the whole sequence, as AKS runs it. */
    note(st, ag_fmt("# the node's MIG state is unknown (%s): the full MIG sequence",
                    inv->driver_absent_reason ? inv->driver_absent_reason : "no NVML"));
    run(st, false, (const char *[]){"nvidia-smi", "-mig", "1", NULL});
    step *g = add_step(st, STEP_GATE);
    if (g) {
      g->want_mig = true;
      g->text = ag_fmt("MIG mode active on every GPU (Azure VMs need a reboot after nvidia-smi -mig 1)");
      if (!g->text) st->oom = true;
    }
    run(st, false, (const char *[]){"nvidia-smi", "mig", "-cgi", ids, "-C", NULL});
    return true;
  }
  for (size_t i = 0; i < n; i++) {
    const ag_gpu *g = &inv->gpus[i];
    if (p->has_layout) {
      if (!g->mig_capable) {
        ag_seterr(err, "GPU %u (%s) cannot run MIG, but the plan has a MIG layout: the plan is not for this node",
                  g->index, g->name ? g->name : "unnamed");
        return false;
      }
      if (g->mig_current != 1) {
        enable[i] = create[i] = true;
      } else if (!layout_matches(p, g)) {
        destroy[i] = g->ninst > 0;
        create[i] = true;
      }
    } else if (g->mig_capable && (g->mig_current == 1 || g->mig_pending == 1)) {
      destroy[i] = g->mig_current == 1 && g->ninst > 0;
      disable[i] = true;
    }
  }
  if (!any(enable, n) && !any(destroy, n) && !any(create, n) && !any(disable, n)) {
    note(st, ag_fmt("# MIG: every GPU already has the plan's MIG mode%s", p->has_layout ? " and layout" : ""));
    return true;
  }
  char *list;
  if (any(destroy, n)) {
    if (!(list = index_list(inv, destroy))) goto nomem;
    run(st, true, (const char *[]){"nvidia-smi", "mig", "-i", list, "-dci", NULL});
    run(st, false, (const char *[]){"nvidia-smi", "mig", "-i", list, "-dgi", NULL});
    free(list);
  }
  if (any(disable, n)) {
    if (!(list = index_list(inv, disable))) goto nomem;
    run(st, false, (const char *[]){"nvidia-smi", "-i", list, "-mig", "0", NULL});
    step *g = add_step(st, STEP_GATE);
    if (g) {
      g->want_mig = false;
      g->text = ag_fmt("MIG mode disabled on GPU %s (Azure VMs need a reboot after nvidia-smi -mig 0)", list);
      if (!g->text) st->oom = true;
    }
    free(list);
  }
  if (any(enable, n)) {
    if (!(list = index_list(inv, enable))) goto nomem;
    run(st, false, (const char *[]){"nvidia-smi", "-i", list, "-mig", "1", NULL});
    step *g = add_step(st, STEP_GATE);
    if (g) {
      g->want_mig = true;
      g->text = ag_fmt("MIG mode active on GPU %s (Azure VMs need a reboot after nvidia-smi -mig 1)", list);
      if (!g->text) st->oom = true;
    }
    free(list);
  }
  if (any(create, n)) {
    if (!(list = index_list(inv, create))) goto nomem;
    run(st, false, (const char *[]){"nvidia-smi", "mig", "-i", list, "-cgi", ids, "-C", NULL});
    free(list);
  }
  return true;
nomem:
  ag_seterr(err, "out of memory");
  return false;
}

/* The unit a drop-in path belongs to, or NULL. */
static const char *dropin_unit(const char *rel) {
  for (size_t i = 0; i < ag_managed_unit_count; i++) {
    const char *d = ag_dropin_path(ag_managed_units[i]);
    if (d && strcmp(d, rel) == 0) return ag_managed_units[i];
  }
  return NULL;
}

static bool in_list(const char *const *list, size_t n, const char *unit) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(list[i], unit) == 0) return true;
  return false;
}

/* systemctl VERB units... (nothing when there are none). */
static void systemctl(steps *st, const char *verb, const char *const *units, size_t n, bool may_fail) {
  const char *argv[AG_MAX_COMPONENTS + 4] = {"systemctl", verb};
  size_t k = 2;
  for (size_t i = 0; i < n && k < AG_MAX_COMPONENTS + 3; i++)
    argv[k++] = units[i];
  argv[k] = NULL;
  if (k > 2) run(st, may_fail, argv);
}

static bool plan_steps(steps *st, const ag_plan *p, const ag_fileset *fs, const char *root, const ag_inventory *inv,
                       bool known, ag_err *err) {
  previous prev;
  previous_load(root, &prev);
  /* systemd reads unit files again when a drop-in is written or removed, or when a unit's drop-in
   * differs from the last finished apply's (an apply that stopped half-way may have written it) */
  bool reload = false;
  size_t unchanged = 0;
  const ag_file *record = NULL; /* bootstrap.env: written last, once the rest is done */
  /* 1. files that do not already say what the plan says */
  for (size_t i = 0; i < fs->n; i++) {
    if (strcmp(fs->files[i].path, AG_RECORD_PATH) == 0) {
      record = &fs->files[i];
      continue;
    }
    char *path = ag_join(root, fs->files[i].path);
    if (!path) {
      st->oom = true;
      break;
    }
    if (file_says(path, fs->files[i].content)) {
      unchanged++;
      free(path);
      continue;
    }
    step *s = add_step(st, STEP_WRITE);
    if (!s) {
      free(path);
      break;
    }
    s->path = path;
    s->content = fs->files[i].content;
    reload = reload || dropin_unit(fs->files[i].path);
  }
  /* 2. what an earlier plan had and this one has not */
  const char *units[AG_MAX_COMPONENTS], *gone[AG_MAX_COMPONENTS + 8];
  size_t nunits = ag_plan_units(p, units, AG_MAX_COMPONENTS), ngone = 0;
  for (size_t i = 0; i < ag_managed_unit_count; i++) {
    const char *unit = ag_managed_units[i], *dropin = ag_dropin_path(unit);
    if (in_list(units, nunits, unit)) continue;
    if (ran_before(&prev, unit)) gone[ngone++] = unit;
    char *path = dropin ? ag_join(root, dropin) : NULL;
    step *s = path && file_exists(path) ? add_step(st, STEP_REMOVE) : NULL;
    if (s) {
      s->path = path;
      reload = true;
    } else {
      free(path);
    }
  }
  for (size_t i = 0; i < nunits; i++)
    reload = reload || (ag_dropin_path(units[i]) && config_changed(&prev, p, fs, units[i]));
  if (reload) run(st, false, (const char *[]){"systemctl", "daemon-reload", NULL});
  for (size_t i = 0; i < ngone; i++)
    run(st, true, (const char *[]){"systemctl", "disable", "--now", gone[i], NULL});

  /* 3. MIG, with the GPU services stopped when it changes anything */
  steps mig = {0};
  bool ok = mig_steps(&mig, p, inv, known, err);
  bool mig_changes = false;
  for (size_t i = 0; i < mig.n; i++)
    mig_changes = mig_changes || mig.s[i].kind != STEP_NOTE;
  const char *stopped[AG_MAX_COMPONENTS];
  size_t nstopped = 0;
  if (ok && mig_changes) {
    for (size_t i = 0; i < nunits; i++)
      if (strcmp(units[i], "mig-partition.service") != 0 && strcmp(units[i], "nvidia-fabricmanager.service") != 0)
        stopped[nstopped++] = units[i];
    if (nstopped) {
      note(st, ag_fmt("# the GPU services hold the GPUs: stop them while MIG changes"));
      systemctl(st, "stop", stopped, nstopped, true);
    }
  }
  for (size_t i = 0; ok && i < mig.n; i++) {
    step *s = add_step(st, mig.s[i].kind);
    if (!s) break;
    *s = mig.s[i];
    memset(&mig.s[i], 0, sizeof mig.s[i]);
  }
  steps_free(&mig);

  /* 4. the plan's services: enabled when new, restarted when what they run with changed */
  const ag_component *drv = ag_plan_component(p, GP_COMPONENT_DRIVER);
  const char *drv_version = drv && drv->version ? drv->version : "";
  bool driver_changed = prev.known && strcmp(prev.driver_version ? prev.driver_version : "", drv_version) != 0;
  const char *enable[AG_MAX_COMPONENTS] = {0}, *restart[AG_MAX_COMPONENTS] = {0};
  size_t nenable = 0, nrestart = 0;
  for (size_t c = 0; ok && c < p->ncomps; c++) {
    const char *unit = ag_component_unit(p->comps[c].name);
    if (!unit) continue;
    bool fresh = !prev.known || !ran_before(&prev, unit);
    if (fresh) enable[nenable++] = unit;
    /* mig-partition is a oneshot for boot; apply has just done its work */
    if (strcmp(unit, "mig-partition.service") == 0) continue;
    if (fresh || driver_changed || in_list(stopped, nstopped, unit) || config_changed(&prev, p, fs, unit))
      restart[nrestart++] = unit;
  }
  systemctl(st, "enable", enable, nenable, false);
  systemctl(st, "restart", restart, nrestart, false);
  /* 5. the record of this apply */
  char *rpath = record ? ag_join(root, record->path) : NULL;
  if (rpath && file_says(rpath, record->content)) {
    unchanged++;
    free(rpath);
  } else if (rpath) {
    step *s = add_step(st, STEP_WRITE);
    if (s) {
      s->path = rpath;
      s->content = record->content;
    } else {
      free(rpath);
    }
  } else if (record) {
    st->oom = true;
  }
  bool work = false;
  for (size_t i = 0; i < st->n; i++)
    work = work || st->s[i].kind != STEP_NOTE;
  if (ok && !work)
    note(st, ag_fmt("# nothing to do: the node already is what the plan says (%zu file%s unchanged)", unchanged,
                    unchanged == 1 ? "" : "s"));
  else if (ok && unchanged)
    note(st, ag_fmt("# %zu file%s already as planned: not written again", unchanged, unchanged == 1 ? "" : "s"));
  previous_free(&prev);
  if (!ok) return false;
  if (st->oom) {
    ag_seterr(err, "out of memory");
    return false;
  }
  return true;
}

static void print_step(FILE *out, const step *s) {
  switch (s->kind) {
  case STEP_WRITE: fprintf(out, "write %s (%zu bytes)\n", s->path, strlen(s->content)); break;
  case STEP_REMOVE: fprintf(out, "remove %s\n", s->path); break;
  case STEP_NOTE: fprintf(out, "%s\n", s->text); break;
  case STEP_GATE:
    fprintf(out, "check %s; otherwise stop here (exit %d) and run apply again after the reboot\n", s->text,
            AG_EXIT_REBOOT);
    break;
  case STEP_RUN:
    fputs("run", out);
    for (size_t i = 0; s->argv[i]; i++)
      fprintf(out, " %s", s->argv[i]);
    if (s->may_fail) fputs("   # a failure here is reported, not fatal", out);
    fputc('\n', out);
    break;
  }
}

static int exec_argv(char *const *argv) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execvp(argv[0], argv);
    fprintf(stderr, "gpupool-agent: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static bool gate_passes(const step *s) {
  ag_inventory inv;
  ag_err err;
  ag_inventory_init(&inv, "nvml");
  bool ok = ag_nvml_discover(&inv, &err) && inv.driver_present;
  for (size_t i = 0; ok && i < inv.ngpus; i++) {
    const ag_gpu *g = &inv.gpus[i];
    if (!g->mig_capable) continue;
    if ((g->mig_current == 1) != s->want_mig) ok = false;
  }
  ag_inventory_free(&inv);
  return ok;
}

static int execute(const steps *st, FILE *out, FILE *errout) {
  for (size_t i = 0; i < st->n; i++) {
    const step *s = &st->s[i];
    ag_err err;
    print_step(out, s);
    fflush(out);
    switch (s->kind) {
    case STEP_WRITE:
      if (!ag_write_file(s->path, s->content, strlen(s->content), &err)) {
        fprintf(errout, "gpupool-agent apply: %s\n", err.msg);
        return AG_EXIT_ERROR;
      }
      break;
    case STEP_REMOVE:
      if (unlink(s->path) != 0 && errno != ENOENT) {
        fprintf(errout, "gpupool-agent apply: cannot remove %s: %s\n", s->path, strerror(errno));
        return AG_EXIT_ERROR;
      }
      break;
    case STEP_RUN: {
      int rc = exec_argv(s->argv);
      if (rc != 0 && !s->may_fail) {
        fprintf(errout, "gpupool-agent apply: '%s' failed (exit %d); stopping\n", s->argv[0], rc);
        return AG_EXIT_ERROR;
      }
      if (rc != 0) fprintf(errout, "gpupool-agent apply: '%s' failed (exit %d); going on\n", s->argv[0], rc);
      break;
    }
    case STEP_GATE:
      if (!gate_passes(s)) {
        fprintf(errout,
                "gpupool-agent apply: the MIG mode change is pending: reboot the node, then run gpupool-agent apply "
                "again\n");
        return AG_EXIT_REBOOT;
      }
      break;
    case STEP_NOTE: break;
    }
  }
  return AG_EXIT_OK;
}

static const char apply_help[] =
    "Usage: gpupool-agent apply --plan PLAN.json [--root DIR] [--from-xml FILE] [--execute]\n"
    "\n"
    "Makes this node what its plan says: writes the node files (see render), disables the services an\n"
    "earlier apply enabled that the plan no longer has, sets MIG mode and creates the MIG instances\n"
    "where the node differs from the plan's layout (nvidia-smi), then enables and restarts the plan's\n"
    "services (systemctl). The node is read through NVML (or --from-xml, for a what-if).\n"
    "\n"
    "Only what differs is done: files that already say what the plan says are not written, a service\n"
    "restarts only when what it runs with changed, and on a node that matches the plan nothing runs.\n"
    "A plan for another GPU model or count is refused (exit 1, with check's findings) before anything.\n"
    "\n"
    "Without --execute nothing is changed: the exact file writes and commands are printed.\n"
    "\n"
    "  --plan FILE      the plan (gpupool plan, or gpupool-agent fetch)\n"
    "  --root DIR       prefix for every file path (default /)\n"
    "  --from-xml FILE  read the node from nvidia-smi -q -x output instead of NVML\n"
    "  --execute        do it (needs root when --root is /)\n"
    "\n"
    "Exit status: 0 done (or printed), 1 error or a plan this node cannot take, 2 usage, 5 a MIG mode\n"
    "change waits for a reboot:\n"
    "reboot, then run apply again.\n";

int ag_cmd_apply(int argc, char **argv) {
  const char *plan_path = NULL, *root = "/", *xml = NULL;
  bool exec = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(apply_help, stdout);
      return AG_EXIT_OK;
    } else if (strcmp(a, "--execute") == 0) {
      exec = true;
    } else if (strcmp(a, "--plan") == 0 || strcmp(a, "--root") == 0 || strcmp(a, "--from-xml") == 0) {
      if (i + 1 >= argc) return ag_usage_error("apply", "option '%s' needs a value", a);
      const char *v = argv[++i];
      if (strcmp(a, "--plan") == 0)
        plan_path = v;
      else if (strcmp(a, "--root") == 0)
        root = v;
      else
        xml = v;
    } else {
      return ag_usage_error("apply", "unknown argument '%s'", a);
    }
  }
  if (!plan_path) return ag_usage_error("apply", "--plan is required");
  if (!*root) return ag_usage_error("apply", "--root must not be empty");
  /* as for `run`: a root of its own (a test, an image being built) needs no root privileges */
  if (exec && strcmp(root, "/") == 0 && geteuid() != 0) {
    fprintf(stderr, "gpupool-agent apply: --execute needs root (it writes systemd files, runs nvidia-smi and "
                    "systemctl)\n");
    return AG_EXIT_ERROR;
  }
  ag_plan p;
  ag_err err;
  ag_inventory inv;
  int rc = AG_EXIT_ERROR;
  ag_inventory_init(&inv, xml ? "nvidia-smi-xml" : "nvml");
  if (!ag_plan_load(plan_path, &p, &err)) {
    fprintf(stderr, "gpupool-agent apply: %s\n", err.msg);
    goto out;
  }
  if (!ag_discover(xml, &inv, &err)) {
    fprintf(stderr, "gpupool-agent apply: %s\n", err.msg);
    goto out;
  }
  rc = ag_apply_plan(&p, &inv, root, exec, stdout, stderr);
out:
  ag_inventory_free(&inv);
  ag_plan_free(&p);
  return rc;
}

json_t *ag_apply_refusal(const ag_plan *p, const ag_inventory *inv) {
  bool drift;
  json_t *r = ag_check(p, inv, &drift), *list = json_array(), *f;
  size_t i;
  json_array_foreach(json_object_get(r, "findings"), i, f) {
    if (list && ag_finding_refuses(f) && json_array_append(list, f)) {
      json_decref(list);
      list = NULL;
    }
  }
  json_decref(r);
  if (json_array_size(list) == 0) {
    json_decref(list);
    return NULL;
  }
  return list;
}

int ag_apply_plan(const ag_plan *p, const ag_inventory *inv, const char *root, bool exec, FILE *out, FILE *errout) {
  ag_err err;
  ag_fileset fs = {0};
  steps st = {0};
  int rc = AG_EXIT_ERROR;
  json_t *refusal = ag_apply_refusal(p, inv);
  if (refusal) {
    fprintf(errout,
            "gpupool-agent apply: this node cannot take the plan of %s (generation %lld): nothing was done. Its "
            "GPUs are not what that VM size has (the findings below say what differs and what to do). A node of "
            "another size belongs in a pool of its size: remove its machine from this pool (REST: DELETE "
            "…/agentPools/{pool}/machines/{node}; gpupool machine list --nodepool-name {pool} shows it).\n\n",
            p->vm_size, p->generation);
    ag_check_print_findings(errout, refusal);
    json_decref(refusal);
    return AG_EXIT_ERROR;
  }
  if (!ag_render_node(p, &fs, &err) || !plan_steps(&st, p, &fs, root, inv, inv->driver_present, &err)) {
    fprintf(errout, "gpupool-agent apply: %s\n", err.msg);
    goto out;
  }
  fprintf(out, "# gpupool-agent apply%s: plan of %s (generation %lld) on this node (%s, ", exec ? "" : " (dry run)",
          p->vm_size, p->generation, inv->source);
  if (inv->driver_present)
    fprintf(out, "driver %s, %zu GPU%s)\n", inv->driver_version ? inv->driver_version : "?", inv->ngpus,
            inv->ngpus == 1 ? "" : "s");
  else
    fprintf(out, "no NVIDIA driver)\n");
  if (exec) {
    rc = execute(&st, out, errout);
  } else {
    for (size_t i = 0; i < st.n; i++)
      print_step(out, &st.s[i]);
    rc = AG_EXIT_OK;
  }
out:
  steps_free(&st);
  ag_fileset_free(&fs);
  return rc;
}
