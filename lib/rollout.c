/* rollout.c - upgradeSettings and the batch decision of a rollout (see rollout.h). */
#include "gpupool/rollout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"

#define MAX_UNAVAILABLE_MAX 1000000 /* a count above any pool's machines is still a count */

void gp_upgrade_settings_default(gp_upgrade_settings *s) {
  s->max_unavailable = 1;
  s->percent = false;
  s->drain_timeout_minutes = GP_UPGRADE_DRAIN_TIMEOUT_DEFAULT;
  s->soak_minutes = 0;
}

/* "2" or "25%": digits only (no sign, no space), a percent 0-100. False when it is neither. */
static bool parse_amount(const char *s, int64_t *v, bool *percent) {
  size_t n = strlen(s);
  *percent = n > 0 && s[n - 1] == '%';
  if (*percent) n--;
  if (n == 0 || n > 7) return false;
  int64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    x = x * 10 + (s[i] - '0');
  }
  if (*percent ? x > 100 : x > MAX_UNAVAILABLE_MAX) return false;
  *v = x;
  return true;
}

static void parse_max_unavailable(const json_t *v, const char *path, gp_upgrade_settings *out, gp_error *err,
                                  bool *ok) {
  char p[GP_PATH_MAX];
  gpj_path(p, sizeof p, path, "maxUnavailable");
  if (!v || json_is_null(v)) return;
  int64_t x = 0;
  bool percent = false;
  if (!json_is_string(v) || !parse_amount(json_string_value(v), &x, &percent)) {
    gp_error_add(err, "InvalidParameter", p,
                 "'%s' must be a count of machines like \"2\" or a percent of the pool's machines like \"25%%\" "
                 "(at most 100%%), as a string.",
                 p);
    *ok = false;
    return;
  }
  if (x == 0) {
    gp_error_add(err, "InvalidParameter", p,
                 "'%s' must be at least \"1\" (or \"1%%\"): gpupool updates the pool's nodes in place, it does not "
                 "add surge nodes, so with no node allowed to be unavailable nothing could ever be updated. Leave it "
                 "out for the default \"1\".",
                 p);
    *ok = false;
    return;
  }
  out->max_unavailable = x;
  out->percent = percent;
}

static void parse_minutes(const json_t *obj, const char *key, const char *path, int lo, int hi, int *out, gp_error *err,
                          bool *ok) {
  const json_t *v = json_object_get(obj, key);
  char p[GP_PATH_MAX];
  gpj_path(p, sizeof p, path, key);
  if (!v || json_is_null(v)) return;
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
    gp_error_add(err, "InvalidParameter", p, "'%s' must be a whole number of minutes from %d to %d.", p, lo, hi);
    *ok = false;
    return;
  }
  *out = (int)json_integer_value(v);
}

bool gp_upgrade_settings_parse(const json_t *v, const char *path, gp_upgrade_settings *out, gp_error *err) {
  gp_upgrade_settings_default(out);
  if (!v || json_is_null(v)) return true;
  if (!json_is_object(v)) {
    gp_error_add(err, "InvalidParameter", path, "'%s' must be an object, not %s.", path, gpj_type_name(v));
    return false;
  }
  bool ok = true;
  parse_max_unavailable(json_object_get(v, "maxUnavailable"), path, out, err, &ok);
  parse_minutes(v, "drainTimeoutInMinutes", path, 1, GP_UPGRADE_DRAIN_TIMEOUT_MAX, &out->drain_timeout_minutes, err,
                &ok);
  parse_minutes(v, "nodeSoakDurationInMinutes", path, 0, GP_UPGRADE_SOAK_MAX, &out->soak_minutes, err, &ok);
  return ok;
}

gp_upgrade_settings gp_pool_upgrade_settings(const gp_pool *p) {
  gp_upgrade_settings us;
  gp_error err;
  gp_error_init(&err);
  if (!gp_upgrade_settings_parse(p && p->extra ? json_object_get(p->extra, "upgradeSettings") : NULL,
                                 "upgradeSettings", &us, &err))
    gp_upgrade_settings_default(&us);
  gp_error_clear(&err);
  return us;
}

int64_t gp_upgrade_max_unavailable(const gp_upgrade_settings *s, size_t machines) {
  int64_t v = s->percent ? ((int64_t)machines * s->max_unavailable + 99) / 100 : s->max_unavailable;
  return v < 1 ? 1 : v;
}

static bool unavailable(gp_machine_state s) { return s == GP_MACHINE_UNHEALTHY || s == GP_MACHINE_NOT_REPORTING; }

/* Moved and back: Conformant at the new generation. */
static bool arrived(const gp_rollout_machine *m, int64_t to) {
  return m->target == to && m->applied == to && m->state == GP_MACHINE_CONFORMANT;
}

/* A machine at the new generation whose move takes it out of service and that has not come back. */
static bool moving(const gp_rollout_machine *m, int64_t to) {
  if (m->target != to || arrived(m, to)) return false;
  if (m->in_batch) return true;
  return !unavailable(m->state) && m->cls >= GP_DISRUPTION_RESTART;
}

/* Appends to out the k candidates (cand[0..nc)) whose names sort first, in that order: the
 * candidates come in any order; k is small beside n (a batch), so a partial selection will do. */
static size_t take_first(const gp_rollout_machine *m, size_t *cand, size_t nc, size_t k, size_t *out) {
  size_t taken = 0;
  for (; taken < k && taken < nc; taken++) {
    size_t best = taken;
    for (size_t j = taken + 1; j < nc; j++)
      if (strcmp(m[cand[j]].name, m[cand[best]].name) < 0) best = j;
    size_t t = cand[taken];
    cand[taken] = cand[best];
    cand[best] = t;
    out[taken] = cand[taken];
  }
  return taken;
}

bool gp_rollout_step(const gp_rollout_machine *m, size_t n, const gp_rollout_input *in, gp_rollout_decision *d) {
  if (!d || !d->move || !d->halted || !d->why || (n && !m) || !in || in->minute_ms <= 0) return false;
  int64_t to = in->to_generation;
  int64_t halt_after = (int64_t)(in->drain_timeout_minutes + GP_UPGRADE_HALT_GRACE_MINUTES) * in->minute_ms;
  d->verdict = GP_ROLLOUT_WAIT;
  d->nmove = d->nbatch = d->nhalted = 0;
  d->updated = d->pending = 0;
  d->batch_done = true;
  int64_t busy = 0;
  size_t remaining = 0, in_batch = 0;
  for (size_t i = 0; i < n; i++) {
    if (m[i].in_batch) in_batch++;
    if (arrived(&m[i], to))
      d->updated++;
    else
      d->pending++;
    if (moving(&m[i], to)) busy++;
    if (m[i].target != to) remaining++;
    if (!m[i].in_batch || arrived(&m[i], to)) continue;
    d->batch_done = false;
    gp_halt_reason why = GP_HALT_NONE;
    if (m[i].state == GP_MACHINE_UNHEALTHY)
      why = GP_HALT_UNHEALTHY;
    else if (in->now_ms - m[i].moved_ms > halt_after)
      why = GP_HALT_TIMEOUT;
    if (why == GP_HALT_NONE) continue;
    d->why[d->nhalted] = why;
    d->halted[d->nhalted++] = i;
  }
  if (d->nhalted) {
    d->verdict = GP_ROLLOUT_HALT;
    return true;
  }
  /* Free moves: nothing to wait for. */
  for (size_t i = 0; i < n; i++)
    if (m[i].target != to && (m[i].cls <= GP_DISRUPTION_IN_PLACE || unavailable(m[i].state))) d->move[d->nmove++] = i;
  remaining -= d->nmove;
  bool soaked = d->batch_done && in->batch_done_ms > 0 &&
                in->now_ms - in->batch_done_ms >= (int64_t)in->soak_minutes * in->minute_ms;
  /* A batch that has just come back soaks from now (the caller records when); the first has none. */
  if (d->batch_done && ((in->batch_done_ms == 0 && in->soak_minutes == 0) || in_batch == 0)) soaked = true;
  int64_t budget = in->max_unavailable - busy;
  if (remaining && soaked && budget > 0) {
    size_t nc = 0, *cand = d->halted; /* halted[] is free unless halting: room for the candidates */
    for (size_t i = 0; i < n; i++)
      if (m[i].target != to && !(m[i].cls <= GP_DISRUPTION_IN_PLACE || unavailable(m[i].state))) cand[nc++] = i;
    d->nbatch = take_first(m, cand, nc, (size_t)budget, d->move + d->nmove);
    d->nmove += d->nbatch;
  }
  if (d->nmove)
    d->verdict = GP_ROLLOUT_MOVE;
  else if (!remaining && d->batch_done)
    d->verdict = GP_ROLLOUT_DONE;
  return true;
}
