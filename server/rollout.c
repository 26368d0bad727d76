/* rollout.c - the rollout controller (see rollout.h).
 *
 * The rollout's state is the pool's row of the rollouts table: its state column (Progressing,
 * Halted, Aborted, Completed) and a document of the controller's:
 *   {"fromGeneration", "toGeneration", "class", "batch": [{"key", "movedMs"}], "batchDoneMs",
 *    "failed": [names], "reason", "updated", "pending"}
 * Every step that moves machines writes their targets and this row in the transaction that keeps
 * (or ends) the operation, and only while this replica still holds the operation's lease: a replica
 * that dies between two steps leaves the last written batch, which the next holder watches on; one
 * that loses its lease writes nothing. So a batch is never moved twice, and never lost. */
#include "rollout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpupool/machine.h"
#include "gpupool/plan_diff.h"
#include "gpupool/rollout.h"
#include "log.h"
#include "util.h"

#define PAGE 1000         /* machines listed at once */
#define NAMES_IN_REASON 5 /* machines a halt's message names, then "and N more" */

void gpd_outcome_clear(gpd_outcome *o) {
  free(o->error);
  free(o->plan);
  free(o->doc);
  for (size_t i = 0; i < o->nkeys; i++)
    free(o->keys[i]);
  free(o->keys);
  memset(o, 0, sizeof *o);
}

int64_t gpd_rollout_tick_ms(const gpd_server *srv) {
  int64_t t = srv->cfg.rollout_minute_ms / 10;
  return t < 50 ? 50 : t > 1000 ? 1000 : t;
}

/* Every machine of the pool, in key (= lower-cased name) order. */
static bool list_all(gpd_store *s, const char *pool_key, gpd_machine **out, size_t *n) {
  char prefix[600];
  snprintf(prefix, sizeof prefix, "%s/", pool_key);
  gpd_machine *all = NULL;
  size_t nall = 0;
  for (;;) {
    gpd_machine *page = NULL;
    size_t np = 0;
    if (s->ops->list_machines(s, prefix, nall ? all[nall - 1].key : NULL, PAGE, &page, &np) != GPD_STORE_OK) {
      gpd_machines_free(all, nall);
      return false;
    }
    gpd_machine *grown = np ? realloc(all, (nall + np) * sizeof *all) : all;
    if (!grown) {
      gpd_machines_free(page, np);
      gpd_machines_free(all, nall);
      return false;
    }
    all = grown;
    memcpy(all + nall, page, np * sizeof *page);
    nall += np;
    free(page); /* the rows moved */
    if (np < PAGE) break;
  }
  *out = all;
  *n = nall;
  return true;
}

static int64_t num(const json_t *doc, const char *k) { return json_integer_value(json_object_get(doc, k)); }

/* The outcome that keeps the operation going with the rollout's row written (and machines moved). */
static void keep_going(gpd_server *srv, gpd_outcome *o, const char *state, json_t *doc, int64_t now) {
  o->doc = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
  if (!o->doc) {
    o->trouble = true;
    return;
  }
  o->r.status = "InProgress";
  o->r.lease_until_ms = now + srv->cfg.operation_lease_ms;
  o->r.rollout_state = state;
  o->r.rollout_doc = o->doc;
  o->again = true;
  o->again_ms = now + gpd_rollout_tick_ms(srv);
}

/* Ends the operation (and the rollout) with doc written: Succeeded, or Failed with error. */
static void end_with(gpd_outcome *o, const char *status, const char *state, json_t *doc, json_t *error) {
  o->doc = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
  if (error) o->error = json_dumps(error, JSON_COMPACT);
  if (!o->doc || (error && !o->error)) {
    o->trouble = true;
    return;
  }
  o->r.status = status;
  o->r.error = o->error;
  o->r.rollout_state = state;
  o->r.rollout_doc = o->doc;
}


/* The class of a move from generation `from` to the plan `to`, one diff per distinct generation. */
typedef struct {
  int64_t gen;
  gp_disruption cls;
} class_memo;

static gp_disruption class_of(gpd_store *s, const char *pool_key, int64_t from, const json_t *to, class_memo *memo,
                              size_t *nmemo, size_t cap, bool *trouble) {
  for (size_t i = 0; i < *nmemo; i++)
    if (memo[i].gen == from) return memo[i].cls;
  char *text = NULL;
  gpd_store_rc got = from > 0 ? s->ops->get_plan_at(s, pool_key, from, &text) : GPD_STORE_NOT_FOUND;
  if (got != GPD_STORE_OK && got != GPD_STORE_NOT_FOUND) *trouble = true;
  json_t *plan = text ? json_loads(text, 0, NULL) : NULL;
  free(text);
  /* A machine that applied nothing, or a generation no longer kept: from nothing (the cautious answer). */
  gp_disruption c = gp_plan_disruption(plan, to);
  json_decref(plan);
  if (c == GP_DISRUPTION_UNSET) c = GP_DISRUPTION_REBOOT;
  if (*nmemo < cap) memo[(*nmemo)++] = (class_memo){from, c};
  return c;
}

static const char *name_of(const char *key) {
  const char *slash = strrchr(key, '/');
  return slash ? slash + 1 : key;
}

/* The halt's message: each machine and why. */
static json_t *halt_error(const gpd_operation *op, const gp_rollout_machine *m, const gp_rollout_decision *d,
                          int64_t to, const gp_upgrade_settings *us, json_t *failed, char *reason, size_t rlen) {
  size_t n = 0;
  n += (size_t)snprintf(reason + n, rlen - n, "The rollout to plan generation %lld halted:", (long long)to);
  for (size_t k = 0; k < d->nhalted; k++) {
    const gp_rollout_machine *h = &m[d->halted[k]];
    json_array_append_new(failed, json_string(h->name));
    if (k >= NAMES_IN_REASON) continue;
    if (n < rlen) {
      if (d->why[k] == GP_HALT_UNHEALTHY)
        n += (size_t)snprintf(reason + n, rlen - n, "%s machine %s became Unhealthy during its update", k ? ";" : "",
                              h->name);
      else
        n += (size_t)snprintf(reason + n, rlen - n,
                              "%s machine %s was not Conformant at generation %lld within %d minutes of being moved "
                              "(drainTimeoutInMinutes %d + 10)",
                              k ? ";" : "", h->name, (long long)to,
                              us->drain_timeout_minutes + GP_UPGRADE_HALT_GRACE_MINUTES, us->drain_timeout_minutes);
    }
  }
  if (d->nhalted > NAMES_IN_REASON && n < rlen)
    n += (size_t)snprintf(reason + n, rlen - n, "; and %zu more", d->nhalted - NAMES_IN_REASON);
  if (n < rlen) snprintf(reason + n, rlen - n, ".");
  char msg[2600];
  snprintf(msg, sizeof msg,
           "%s No further machine of %s is moved. Look at the machines (gpupool machine show ... -n NAME), fix or "
           "DELETE them, then send the pool's PUT again unchanged to resume the rollout, or PUT the earlier "
           "settings to roll back (gpupool nodepool update ...).",
           reason, op->res_id);
  return gp_error_body("RolloutHalted", NULL, msg);
}

/* One step of a progressing rollout. */
static void step(gpd_server *srv, const gpd_operation *op, const gp_pool *p, const gpd_rollout *ro,
                 int64_t held_lease_until, gpd_outcome *o) {
  gpd_store *s = srv->store;
  json_t *doc = json_loads(ro->doc, 0, NULL);
  int64_t to = doc ? num(doc, "toGeneration") : 0;
  char *to_text = NULL;
  gpd_machine *ms = NULL;
  size_t n = 0;
  if (!doc || s->ops->get_plan_at(s, op->res_key, to, &to_text) != GPD_STORE_OK || !list_all(s, op->res_key, &ms, &n)) {
    /* The stored rollout cannot be read back (or its plan is gone): end it rather than loop. */
    if (doc && to_text == NULL && to > 0) {
      json_t *e = gp_error_body("InternalServerError", NULL,
                                "The rollout's plan could not be read back; send the pool's PUT again.");
      end_with(o, "Failed", "Halted", doc, e);
      json_decref(e);
    } else {
      o->trouble = true;
    }
    json_decref(doc);
    free(to_text);
    return;
  }
  json_t *to_plan = json_loads(to_text, 0, NULL);
  free(to_text);
  gp_upgrade_settings us = gp_pool_upgrade_settings(p);
  int64_t now = gpd_now_ms();
  gp_rollout_machine *m = calloc(n ? n : 1, sizeof *m);
  size_t *move = calloc(n ? n : 1, sizeof *move), *halted = calloc(n ? n : 1, sizeof *halted);
  gp_halt_reason *why = calloc(n ? n : 1, sizeof *why);
  class_memo memo[64];
  size_t nmemo = 0;
  bool trouble = !m || !move || !halted || !why || !to_plan;
  json_t *batch = json_object_get(doc, "batch");
  for (size_t i = 0; !trouble && i < n; i++) {
    const gpd_machine *x = &ms[i];
    int64_t target = x->target_generation > 0 ? x->target_generation : x->pool_generation;
    gp_machine_facts f = {
        gp_machine_is_reporting(x->last_seen_ms, (int)x->interval_s, srv->cfg.report_coalesce_ms, now),
        x->health_failed, x->applied_generation != target, x->drifted};
    m[i].name = name_of(x->key);
    m[i].state = gp_machine_state_of(&f);
    m[i].applied = x->applied_generation;
    m[i].target = target;
    m[i].cls = class_of(s, op->res_key, x->applied_generation, to_plan, memo, &nmemo, 64, &trouble);
    size_t j;
    json_t *b;
    json_array_foreach(batch, j, b) {
      if (strcmp(json_string_value(json_object_get(b, "key")) ? json_string_value(json_object_get(b, "key")) : "",
                 x->key) == 0) {
        /* a machine of a resumed batch that is down is not waited for (it halted the rollout that
         * the user resumed); it moved already and spends no budget, as any unavailable machine */
        bool down = m[i].state == GP_MACHINE_UNHEALTHY || m[i].state == GP_MACHINE_NOT_REPORTING;
        if (json_is_true(json_object_get(b, "resumed")) && down) continue;
        m[i].in_batch = true;
        m[i].moved_ms = num(b, "movedMs");
      }
    }
  }
  gp_rollout_input in = {.to_generation = to,
                         .max_unavailable = gp_upgrade_max_unavailable(&us, n),
                         .drain_timeout_minutes = us.drain_timeout_minutes,
                         .soak_minutes = us.soak_minutes,
                         .minute_ms = srv->cfg.rollout_minute_ms,
                         .batch_done_ms = num(doc, "batchDoneMs"),
                         .now_ms = now};
  gp_rollout_decision d = {.move = move, .halted = halted, .why = why};
  if (!trouble && !gp_rollout_step(m, n, &in, &d)) trouble = true;
  if (trouble) {
    o->trouble = true;
  } else {
    bool changed = num(doc, "updated") != (int64_t)d.updated || num(doc, "pending") != (int64_t)d.pending;
    json_object_set_new(doc, "updated", json_integer((json_int_t)d.updated));
    json_object_set_new(doc, "pending", json_integer((json_int_t)d.pending));
    if (d.verdict == GP_ROLLOUT_HALT) {
      char reason[2048];
      json_t *failed = json_array();
      json_t *e = failed ? halt_error(op, m, &d, to, &us, failed, reason, sizeof reason) : NULL;
      json_object_set_new(doc, "failed", failed ? failed : json_array());
      json_object_set_new(doc, "reason", json_string(reason));
      if (e)
        end_with(o, "Failed", "Halted", doc, e);
      else
        o->trouble = true;
      json_decref(e);
      gpd_log_info("rollout of %s halted: %s", op->res_id, reason);
    } else if (d.verdict == GP_ROLLOUT_DONE) {
      json_object_set_new(doc, "batch", json_array());
      end_with(o, "Succeeded", "Completed", doc, NULL);
      o->r.unpin_generation = to; /* they follow the pool again, as before the rollout */
    } else {
      if (d.verdict == GP_ROLLOUT_MOVE) {
        o->keys = calloc(d.nmove, sizeof *o->keys);
        for (size_t k = 0; o->keys && k < d.nmove; k++)
          if ((o->keys[k] = strdup(ms[d.move[k]].key))) o->nkeys++;
        if (!o->keys || o->nkeys != d.nmove) trouble = true;
        if (d.nbatch) { /* the new batch replaces the one that came back */
          json_t *nb = json_array();
          for (size_t k = d.nmove - d.nbatch; nb && k < d.nmove; k++)
            json_array_append_new(nb, json_pack("{s:s,s:I}", "key", ms[d.move[k]].key, "movedMs", (json_int_t)now));
          json_object_set_new(doc, "batch", nb ? nb : json_array());
          json_object_set_new(doc, "batchDoneMs", json_integer(0));
        }
        changed = true;
      } else if (d.batch_done && in.batch_done_ms == 0 && json_array_size(batch)) {
        json_object_set_new(doc, "batchDoneMs", json_integer((json_int_t)now)); /* the soak starts */
        changed = true;
      }
      if (trouble) {
        o->trouble = true;
      } else if (changed || held_lease_until - now < srv->cfg.operation_lease_ms / 2) {
        keep_going(srv, o, "Progressing", doc, now);
        o->r.move_keys = o->keys;
        o->r.nmove = o->nkeys;
        o->r.move_target = to;
      } else {
        o->again = true; /* nothing to write: look again soon */
        o->again_ms = now + gpd_rollout_tick_ms(srv);
      }
    }
  }
  json_decref(to_plan);
  json_decref(doc);
  free(m);
  free(move);
  free(halted);
  free(why);
  gpd_machines_free(ms, n);
}

bool gpd_rollout_continue(gpd_server *srv, const gpd_operation *op, const gpd_resource *row, const gp_pool *p,
                          bool plan_unchanged, int64_t held_lease_until, gpd_outcome *o) {
  gpd_store *s = srv->store;
  gpd_rollout ro;
  gpd_store_rc got = s->ops->get_rollout(s, op->res_key, &ro);
  if (got == GPD_STORE_NOT_FOUND) return false;
  if (got != GPD_STORE_OK) {
    o->trouble = true;
    return true;
  }
  bool decided = false;
  if (strcmp(ro.op_id, op->id) == 0 && strcmp(ro.state, "Progressing") == 0) {
    step(srv, op, p, &ro, held_lease_until, o);
    decided = true;
  } else if (strcmp(ro.op_id, op->id) == 0) {
    o->forget = true; /* aborted meanwhile: the abort ended the operation */
    decided = true;
  } else if (plan_unchanged && (strcmp(ro.state, "Halted") == 0 || strcmp(ro.state, "Aborted") == 0)) {
    json_t *doc = json_loads(ro.doc, 0, NULL);
    if (doc && num(doc, "toGeneration") == row->plan_generation) {
      /* Resumed under this operation: the halted or aborted batch is watched again from now (a fresh
       * drain timeout), so the rollout does not complete before its machines came back; those that
       * are down (the ones that halted it, unless repaired) are left out of it when read (step). */
      int64_t now = gpd_now_ms();
      size_t j;
      json_t *b;
      json_array_foreach(json_object_get(doc, "batch"), j, b) {
        json_object_set_new(b, "movedMs", json_integer((json_int_t)now));
        json_object_set_new(b, "resumed", json_true());
      }
      json_object_set_new(doc, "batchDoneMs", json_integer(0));
      json_object_set_new(doc, "failed", json_array());
      json_object_set_new(doc, "reason", json_null());
      keep_going(srv, o, "Progressing", doc, gpd_now_ms());
      o->again_ms = gpd_now_ms();
      decided = true;
    }
    json_decref(doc);
  }
  gpd_rollout_clear(&ro);
  return decided;
}

bool gpd_rollout_begin(gpd_server *srv, const gpd_operation *op, const gpd_resource *row, const json_t *plan,
                       int64_t generation, gpd_outcome *o) {
  gpd_store *s = srv->store;
  char prefix[600];
  snprintf(prefix, sizeof prefix, "%s/", op->res_key);
  gpd_machine *one = NULL;
  size_t n = 0;
  if (s->ops->list_machines(s, prefix, NULL, 1, &one, &n) != GPD_STORE_OK) {
    o->trouble = true;
    return false;
  }
  gpd_machines_free(one, n);
  if (n == 0) return false;
  /* The class of the pool's change (its machines' own classes come from what each applied). */
  char *old_text = NULL;
  if (row->plan_generation > 0 && s->ops->get_plan_at(s, op->res_key, row->plan_generation, &old_text) != GPD_STORE_OK)
    old_text = NULL;
  json_t *old = old_text ? json_loads(old_text, 0, NULL) : NULL;
  free(old_text);
  gp_disruption c = gp_plan_disruption(old, plan);
  json_decref(old);
  const char *cls = gp_enum_name(&gp_disruption_names, c);
  json_t *doc =
      json_pack("{s:I,s:I,s:s?,s:[],s:I,s:[],s:n,s:I,s:I}", "fromGeneration", (json_int_t)row->plan_generation,
                "toGeneration", (json_int_t)generation, "class", c == GP_DISRUPTION_UNSET ? NULL : cls, "batch",
                "batchDoneMs", (json_int_t)0, "failed", "reason", "updated", (json_int_t)0, "pending", (json_int_t)0);
  o->plan = json_dumps(plan, JSON_COMPACT);
  if (!doc || !o->plan) {
    json_decref(doc);
    o->trouble = true;
    return false;
  }
  keep_going(srv, o, "Progressing", doc, gpd_now_ms());
  json_decref(doc);
  if (o->trouble) return false;
  o->r.plan = o->plan;
  o->r.plan_generation = generation;
  o->r.pin = true;
  o->again_ms = gpd_now_ms(); /* the first batch at once */
  return true;
}

json_t *gpd_rollout_status(const gpd_rollout *r, const gp_machine_counts *counts) {
  json_t *doc = r ? json_loads(r->doc, 0, NULL) : NULL;
  if (!doc)
    return json_pack("{s:s,s:n,s:n,s:n,s:i,s:i,s:[],s:n}", "state", "Idle", "fromGeneration", "toGeneration", "class",
                     "updated", 0, "pending", 0, "failed", "reason");
  json_t *failed = json_object_get(doc, "failed");
  failed = json_is_array(failed) ? json_incref(failed) : json_array();
  json_t *v = json_pack("{s:s,s:O?,s:O?,s:O?,s:O?,s:O?,s:o,s:O?}", "state", r->state, "fromGeneration",
                        json_object_get(doc, "fromGeneration"), "toGeneration", json_object_get(doc, "toGeneration"),
                        "class", json_object_get(doc, "class"), "updated", json_object_get(doc, "updated"), "pending",
                        json_object_get(doc, "pending"), "failed", failed, "reason", json_object_get(doc, "reason"));
  json_decref(doc);
  if (v && counts && strcmp(r->state, "Completed") == 0) {
    int64_t total = 0;
    for (int i = 0; i < GP_MACHINE_STATE_COUNT; i++)
      total += counts->by_state[i];
    int64_t done = counts->by_state[GP_MACHINE_CONFORMANT];
    if (json_object_set_new(v, "updated", json_integer(done)) ||
        json_object_set_new(v, "pending", json_integer(total - done))) {
      json_decref(v);
      return NULL;
    }
  }
  return v;
}
