/* step.c - one plan change on the node, as `gpupool-agent run --execute` makes it: drain when the
 * change needs idle GPUs (disruption.c), reset the GPUs whose health asks for a reset while they
 * are idle, apply the plan (apply.c, in process), check the node against it (check.c), uncordon.
 * It runs in a worker thread so that the main loop keeps reporting health and long-polling while
 * a drain takes minutes; the daemon's stop is honoured between phases and ends a running drain.
 * A plan the node cannot take (another GPU model or count) is refused before the drain: draining a
 * node for a plan apply will refuse would only take its work away.
 * Without --execute, ag_step_preview says what this would do and runs nothing. */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

static void log_lines(const char *event, const char *text) {
  if (!text) return;
  char *copy = strdup(text);
  if (!copy) return;
  for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    ag_log("info", event, "%s", line);
  free(copy);
}

/* The inventory without its lost GPUs (a shallow view: free with ag_inventory_view_free). */
bool ag_inventory_usable(const ag_inventory *in, ag_inventory *view) {
  *view = *in;
  view->gpus = calloc(in->ngpus ? in->ngpus : 1, sizeof *view->gpus);
  if (!view->gpus) return false;
  view->ngpus = 0;
  for (size_t i = 0; i < in->ngpus; i++)
    if (!in->gpus[i].lost) view->gpus[view->ngpus++] = in->gpus[i];
  return true;
}

void ag_inventory_view_free(ag_inventory *view) {
  free(view->gpus);
  view->gpus = NULL;
  view->ngpus = 0;
}

json_t *ag_step_findings(const ag_plan *p, const ag_inventory *inv) {
  ag_inventory view;
  if (!ag_inventory_usable(inv, &view)) return NULL;
  bool drift = false;
  json_t *r = ag_check(p, &view, &drift);
  ag_inventory_view_free(&view);
  json_t *f = json_incref(json_object_get(r, "findings"));
  json_decref(r);
  return f;
}

static int run_cmd(const char *event, const char *cmd, const char *const *args, double timeout,
                   const atomic_bool *stop) {
  ag_buf b = {0};
  ag_buf_add(&b, cmd);
  for (size_t i = 0; args[i]; i++)
    ag_buf_addf(&b, " %s", args[i]);
  char *line = ag_buf_take(&b);
  ag_log("info", event, "run %s", line ? line : cmd);
  int rc = ag_exec_run(cmd, args, timeout, NULL, stop);
  if (rc != 0)
    ag_log("error", event, "%s %s (exit %d)", line ? line : cmd,
           rc == 124 ? "was stopped (deadline or shutdown)"
           : rc < 0  ? "could not be started"
                     : "failed",
           rc);
  free(line);
  return rc;
}

static int drain_minutes(const ag_plan *p) {
  json_t *m = json_object_get(json_object_get(p->root, "rollout"), "drainTimeoutInMinutes");
  json_int_t v = json_is_integer(m) ? json_integer_value(m) : 30;
  return v < 1 ? 1 : v > 24 * 60 ? 24 * 60 : (int)v;
}

static bool uncordon(const ag_run_opts *o) {
  const char *args[] = {o->node_name, NULL};
  return run_cmd("uncordon", o->uncordon_cmd, args, 120, NULL) == 0;
}

/* The GPU services the plan runs stop (they hold the GPUs), then each GPU that needs it is reset;
 * apply restarts the services. */
static void reset_gpus(ag_step_job *j, const ag_plan *p, const atomic_bool *stop) {
  const char *units[AG_MAX_COMPONENTS + 2] = {"stop"};
  size_t n = 1;
  const char *list[AG_MAX_COMPONENTS];
  size_t nl = ag_plan_units(p, list, AG_MAX_COMPONENTS);
  for (size_t i = 0; i < nl; i++)
    if (strcmp(list[i], "mig-partition.service") != 0 && strcmp(list[i], "nvidia-fabricmanager.service") != 0)
      units[n++] = list[i];
  units[n] = NULL;
  if (n > 1) run_cmd("reset", "systemctl", units, 120, stop);
  for (unsigned g = 0; g < AG_WATCH_MAX_GPUS; g++) {
    if (!j->reset[g]) continue;
    char idx[16];
    snprintf(idx, sizeof idx, "%u", g);
    const char *args[] = {"--gpu-reset", "-i", idx, NULL};
    j->reset_done[g] = run_cmd("reset", "nvidia-smi", args, 300, stop) == 0;
  }
}

/* Can the node not take the plan (ag_apply_refusal)? Logged with the findings that say why. */
static bool refused(const ag_plan *p) {
  ag_inventory inv, view;
  ag_err err;
  json_t *why = NULL;
  ag_inventory_init(&inv, "nvml");
  if (ag_nvml_discover_keep_lost(&inv, &err) && ag_inventory_usable(&inv, &view)) {
    why = ag_apply_refusal(p, &view);
    ag_inventory_view_free(&view);
  }
  ag_inventory_free(&inv);
  size_t i;
  json_t *f;
  json_array_foreach(why, i, f) {
    char *expected = json_dumps(json_object_get(f, "expected"), JSON_ENCODE_ANY | JSON_COMPACT),
         *found = json_dumps(json_object_get(f, "found"), JSON_ENCODE_ANY | JSON_COMPACT);
    ag_log("error", "apply", "generation %lld refused, the node cannot take it: %s: expected %s, found %s",
           p->generation, json_string_value(json_object_get(f, "what")), expected ? expected : "?",
           found ? found : "?");
    free(expected);
    free(found);
  }
  bool refuse = why != NULL;
  json_decref(why);
  return refuse;
}

void ag_step_run(ag_step_job *j, const atomic_bool *stop) {
  const ag_run_opts *o = j->opts;
  ag_plan plan, from;
  ag_err err;
  bool have_from = false, drained = false;
  memset(&from, 0, sizeof from);
  j->outcome = AG_STEP_FAILED;
  if (!ag_plan_parse(j->plan_text, strlen(j->plan_text), "the plan", &plan, &err)) {
    ag_log("error", "apply", "%s", err.msg);
    return;
  }
  j->generation = plan.generation;
  if (j->applied_text)
    have_from = ag_plan_parse(j->applied_text, strlen(j->applied_text), "the applied plan", &from, &err);
  if (refused(&plan)) goto out;
  char why[256];
  bool drain = ag_plan_change_needs_drain(have_from ? &from : NULL, &plan, why, sizeof why);
  ag_log("info", "apply", "generation %lld: %s; %s", plan.generation, why, drain ? "draining first" : "no drain");
  if (drain) {
    char timeout[32];
    int minutes = drain_minutes(&plan);
    snprintf(timeout, sizeof timeout, "--timeout=%ds", minutes * 60);
    const char *args[] = {timeout, o->node_name, NULL};
    int rc = run_cmd("drain", o->drain_cmd, args, minutes * 60.0 + 60, stop);
    drained = true; /* even a failed drain may have cordoned the node */
    if (rc != 0) {
      j->outcome = atomic_load(stop) ? AG_STEP_ABANDONED : AG_STEP_DRAIN_FAILED;
      uncordon(o);
      goto out;
    }
    bool any = false;
    for (unsigned g = 0; g < AG_WATCH_MAX_GPUS; g++)
      any = any || j->reset[g];
    if (any) reset_gpus(j, &plan, stop);
  }
  if (atomic_load(stop)) {
    j->outcome = AG_STEP_ABANDONED;
    if (drained) uncordon(o);
    goto out;
  }
  ag_inventory inv, view;
  ag_inventory_init(&inv, "nvml");
  if (!ag_nvml_discover_keep_lost(&inv, &err) || !ag_inventory_usable(&inv, &view)) {
    ag_log("error", "apply", "cannot read the node: %s", err.msg);
    ag_inventory_free(&inv);
    goto out; /* stays cordoned: the node is in no state to take work */
  }
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  int rc = mem ? ag_apply_plan(&plan, &view, o->root, true, mem, mem) : AG_EXIT_ERROR;
  if (mem) fclose(mem);
  log_lines("apply", text);
  free(text);
  ag_inventory_view_free(&view);
  ag_inventory_free(&inv);
  if (rc == AG_EXIT_REBOOT) {
    j->outcome = AG_STEP_REBOOT;
    ag_log("warn", "apply", "generation %lld waits for a reboot (MIG mode change); the node stays %s", plan.generation,
           drained ? "cordoned" : "as it is");
    goto out;
  }
  if (rc != AG_EXIT_OK) {
    ag_log("error", "apply", "generation %lld failed; the node stays %s and the agent tries again later",
           plan.generation, drained ? "cordoned" : "as it is");
    goto out;
  }
  /* the check after the apply, on a fresh reading of the node */
  ag_inventory_init(&inv, "nvml");
  if (ag_nvml_discover_keep_lost(&inv, &err))
    j->findings = ag_step_findings(&plan, &inv);
  else
    ag_log("error", "check", "cannot read the node after the apply: %s", err.msg);
  ag_inventory_free(&inv);
  j->outcome = AG_STEP_APPLIED;
  if (drained && !uncordon(o)) j->left_cordoned = true;
out:
  ag_plan_free(&plan);
  if (have_from) ag_plan_free(&from);
}

void ag_step_preview(const ag_run_opts *o, const char *plan_text, const char *applied_text, const ag_inventory *inv) {
  ag_plan plan, from;
  ag_err err;
  if (!ag_plan_parse(plan_text, strlen(plan_text), "the plan", &plan, &err)) {
    ag_log("error", "dry-run", "%s", err.msg);
    return;
  }
  bool have_from = applied_text && ag_plan_parse(applied_text, strlen(applied_text), "the applied plan", &from, &err);
  char why[256];
  bool drain = ag_plan_change_needs_drain(have_from ? &from : NULL, &plan, why, sizeof why);
  ag_log("info", "dry-run", "generation %lld would be applied (without --execute nothing is changed): %s; %s",
         plan.generation, why, drain ? "the node would be drained first" : "no drain");
  if (drain)
    ag_log("info", "dry-run", "would run: %s --timeout=%ds %s", o->drain_cmd, drain_minutes(&plan) * 60, o->node_name);
  ag_inventory view;
  if (ag_inventory_usable(inv, &view)) {
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
      ag_apply_plan(&plan, &view, o->root, false, mem, mem);
      fclose(mem);
    }
    log_lines("dry-run", text);
    free(text);
    ag_inventory_view_free(&view);
  }
  if (drain) ag_log("info", "dry-run", "would run: %s %s", o->uncordon_cmd, o->node_name);
  ag_plan_free(&plan);
  if (have_from) ag_plan_free(&from);
}
