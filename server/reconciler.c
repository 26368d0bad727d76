/* reconciler.c - carries operations to their end (see reconciler.h).
 *
 * What "provisioning" means here: for a pool, the core builds its plan (gp_plan_build) and the
 * plan is stored with the next generation, which is what node agents poll — unless it says exactly
 * what the stored plan says (a change of tags or count): then nothing is stored, the generation
 * stays, and nothing reaches the nodes (plan_unchanged); a cluster operation ends
 * when the pool operations it started have ended (it fails if one failed); deletes remove the rows.
 * The only failure left once the core accepted a request is a stored document that cannot be read
 * back, which fails the operation with an ARM error instead of retrying forever.
 *
 * An operation is claimed as soon as it can run and held (leased to this process) while it is
 * provisioned, which lasts until its not_before time (--operation-delay-ms); then it is carried out
 * and ended. A replica that dies holding operations leaves them to another one once their leases
 * ran out (--operation-lease-ms); one that stops gives its leases back. */
#include "reconciler.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "rollout.h"
#include "util.h"

#define BATCH 64          /* operations ended in one store write */
#define HOLD_MAX 512      /* operations held at once; the rest are left to other replicas or later */
#define IDLE_POLL_MS 1000 /* another replica may have queued work; look at least this often */
#define RETENTION_MS (24LL * 3600 * 1000)
#define PURGE_EVERY_MS (10LL * 60 * 1000)
#define TRIM_EVERY_MS 2000 /* give freed heap memory back to the system when work runs out */

/* A claimed operation and when its lease runs out. */
typedef struct {
  gpd_operation op;
  int64_t lease_until;
  bool rollout; /* a progressing rollout: a kick runs it before its time */
} held_op;

struct gpd_reconciler {
  gpd_server *srv;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool stop, kicked, rollout_kicked;
  char owner[160];
  held_op *held; /* claimed, in claim order */
  size_t nheld;
  int64_t last_error_log;
};

typedef gpd_outcome outcome;

static void fail(outcome *o, const char *status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(outcome *o, const char *status, const char *code, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_t *e = gp_error_body(code, NULL, msg);
  o->error = e ? json_dumps(e, JSON_COMPACT) : NULL;
  json_decref(e);
  o->r.status = status;
  o->r.error = o->error;
}

/* Does the stored plan of the pool say what plan says, apart from its generation? A plan that
 * cannot be read back counts as changed (a new generation is stored over it). */
static bool plan_unchanged(gpd_store *s, const char *pool_key, const json_t *plan, bool *store_failed) {
  int64_t gen = 0;
  char *text = NULL;
  gpd_store_rc got = s->ops->get_plan(s, pool_key, &gen, NULL, &text);
  *store_failed = got != GPD_STORE_OK && got != GPD_STORE_NOT_FOUND;
  json_t *stored = text ? json_loads(text, 0, NULL) : NULL;
  free(text);
  bool same = false;
  if (stored && !json_object_set(stored, "generation", json_object_get(plan, "generation")))
    same = json_equal(stored, plan);
  json_decref(stored);
  return same;
}

static void reconcile_pool(gpd_reconciler *rc, const gpd_operation *op, int64_t held_lease_until, outcome *o) {
  gpd_store *s = rc->srv->store;
  gpd_resource row;
  gpd_store_rc got = s->ops->get_resource(s, GPD_RES_POOL, op->res_key, &row);
  if (got == GPD_STORE_NOT_FOUND) {
    fail(o, "Canceled", "OperationCanceled", "The agent pool %s was deleted before the operation ended.", op->res_id);
    return;
  }
  if (got != GPD_STORE_OK) {
    o->r.status = NULL; /* store trouble: leave it claimed; the lease runs out and it is retried */
    return;
  }
  if (!row.op_id || strcmp(row.op_id, op->id) != 0) {
    fail(o, "Canceled", "OperationCanceled", "A later operation replaced this one on %s.", op->res_id);
    gpd_resource_clear(&row);
    return;
  }
  gp_error err;
  gp_error_init(&err);
  json_t *doc = json_loads(row.doc, 0, NULL);
  gp_pool *p = doc ? gp_pool_from_store(doc, &err) : NULL;
  json_decref(doc);
  gp_error_clear(&err);
  if (!p) {
    fail(o, "Failed", "InternalServerError",
         "The stored agent pool %s could not be read back, so no plan was computed. Send the pool's PUT again.",
         op->res_id);
    gpd_resource_clear(&row);
    return;
  }
  gp_policy_context ctx;
  gp_policy_context_init(&ctx);
  ctx.phase = rc->srv->cfg.phase;
  ctx.ga_version = rc->srv->cfg.ga_version;
  int64_t generation = row.plan_generation + 1;
  json_t *plan = NULL;
  bool store_failed = false, same = false;
  /* A progressing rollout's next step needs no plan built: it rolls out the one it stored. */
  gpd_rollout ro;
  gpd_store_rc got_ro = s->ops->get_rollout(s, op->res_key, &ro);
  bool ours = got_ro == GPD_STORE_OK && strcmp(ro.op_id, op->id) == 0;
  gpd_rollout_clear(&ro);
  if (got_ro != GPD_STORE_OK && got_ro != GPD_STORE_NOT_FOUND) {
    store_failed = true;
  } else if (!ours) {
    plan = gp_plan_build(p, &ctx, generation);
    same = plan && row.plan_generation > 0 && plan_unchanged(s, op->res_key, plan, &store_failed);
  }
  bool decided =
      !store_failed && (ours || same) && gpd_rollout_continue(rc->srv, op, &row, p, same, held_lease_until, o);
  if (!decided && !store_failed && plan && !same && row.plan_generation > 0) /* a first plan has nothing to roll */
    decided = gpd_rollout_begin(rc->srv, op, &row, plan, generation, o);
  store_failed = store_failed || o->trouble;
  if (!decided && !store_failed) o->plan = plan && !same ? json_dumps(plan, JSON_COMPACT) : NULL;
  json_decref(plan);
  gp_pool_free(p);
  gpd_resource_clear(&row);
  if (decided || store_failed) {
    if (store_failed) o->r.status = NULL; /* store trouble or out of memory: retry after the lease */
    return;
  }
  if (ours || (!same && !o->plan)) {
    o->r.status = NULL; /* out of memory (or a rollout that is no longer there): retry after the lease */
    o->trouble = true;
    return;
  }
  o->r.status = "Succeeded";
  if (same) return; /* the stored plan and generation stay */
  o->r.plan = o->plan;
  o->r.plan_generation = generation;
}

static void reconcile_cluster(gpd_reconciler *rc, const gpd_operation *op, outcome *o) {
  gpd_store *s = rc->srv->store;
  gpd_operation *children = NULL;
  size_t n = 0;
  if (s->ops->list_child_operations(s, op->id, &children, &n) != GPD_STORE_OK) {
    o->r.status = NULL;
    return;
  }
  o->r.status = "Succeeded";
  for (size_t i = 0; i < n; i++) {
    if (strcmp(children[i].status, "Failed") != 0 && strcmp(children[i].status, "Canceled") != 0) continue;
    json_t *child = children[i].error ? json_loads(children[i].error, 0, NULL) : NULL;
    char msg[600];
    snprintf(msg, sizeof msg, "The operation of agent pool %s failed; see details.", children[i].res_id);
    json_t *e = json_pack("{s:{s:s,s:s,s:[O?]}}", "error", "code", "AgentPoolOperationFailed", "message", msg,
                          "details", child ? json_object_get(child, "error") : NULL);
    o->error = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    json_decref(child);
    o->r.status = "Failed";
    o->r.error = o->error;
    break;
  }
  gpd_operations_free(children, n);
}

static void reconcile(gpd_reconciler *rc, const held_op *h, outcome *o) {
  const gpd_operation *op = &h->op;
  memset(o, 0, sizeof *o);
  o->r.op = op;
  if (op->kind == GPD_OP_DELETE)
    o->r.status = "Succeeded"; /* the store removes the rows when it ends the operation */
  else if (op->res_kind == GPD_RES_POOL)
    reconcile_pool(rc, op, h->lease_until, o);
  else
    reconcile_cluster(rc, op, o);
}

static void wait_ms(gpd_reconciler *rc, int64_t ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  pthread_mutex_lock(&rc->lock);
  while (!rc->stop && !rc->kicked) {
    if (pthread_cond_timedwait(&rc->cond, &rc->lock, &ts) == ETIMEDOUT) break;
  }
  rc->kicked = false;
  bool rollouts = rc->rollout_kicked;
  rc->rollout_kicked = false;
  pthread_mutex_unlock(&rc->lock);
  if (!rollouts) return;
  /* A machine reported: the progressing rollouts held here look at their machines now. */
  int64_t now = gpd_now_ms();
  for (size_t i = 0; i < rc->nheld; i++)
    if (rc->held[i].rollout && rc->held[i].op.not_before_ms > now) rc->held[i].op.not_before_ms = now;
}

static bool stopping(gpd_reconciler *rc) {
  pthread_mutex_lock(&rc->lock);
  bool s = rc->stop;
  pthread_mutex_unlock(&rc->lock);
  return s;
}

/* Store trouble is logged once a minute at most: PostgreSQL may be away for a while. */
static void store_trouble(gpd_reconciler *rc, const char *what) {
  int64_t now = gpd_now_ms();
  if (now - rc->last_error_log < 60000) return;
  rc->last_error_log = now;
  gpd_log_error("reconciler: the store did not answer (%s); retrying", what);
}

/* Claims what can run, up to HOLD_MAX held; *next_due is lowered to when a lease of another owner
 * runs out. False when the store failed. */
static bool claim_more(gpd_reconciler *rc, int64_t now, int64_t *next_due) {
  gpd_store *s = rc->srv->store;
  int64_t lease = rc->srv->cfg.operation_lease_ms, due = 0;
  gpd_operation *ops = NULL;
  size_t n = 0;
  if (rc->nheld >= HOLD_MAX) return true;
  if (s->ops->claim_operations(s, rc->owner, now, lease, HOLD_MAX - rc->nheld, &ops, &n, &due) != GPD_STORE_OK) {
    store_trouble(rc, "claim");
    return false;
  }
  held_op *grown = n ? realloc(rc->held, (rc->nheld + n) * sizeof *grown) : rc->held;
  if (!grown) { /* cannot hold them: their leases run out and they are claimed again */
    gpd_operations_free(ops, n);
    return true;
  }
  rc->held = grown;
  for (size_t i = 0; i < n; i++) {
    int64_t start = ops[i].not_before_ms > now ? ops[i].not_before_ms : now;
    /* An operation held past its lease (the store was away) may come back: keep one copy. */
    size_t j = 0;
    while (j < rc->nheld && strcmp(rc->held[j].op.id, ops[i].id) != 0)
      j++;
    if (j < rc->nheld)
      gpd_operation_clear(&rc->held[j].op);
    else
      rc->nheld++;
    rc->held[j].op = ops[i];
    rc->held[j].lease_until = start + lease;
    rc->held[j].rollout = false;
  }
  free(ops); /* the rows moved into held */
  if (n == 0 && due > 0 && due < *next_due) *next_due = due;
  return true;
}

/* Removes held[i] (its operation ended, or its lease is gone). */
static void drop_held(gpd_reconciler *rc, size_t i) {
  gpd_operation_clear(&rc->held[i].op);
  memmove(&rc->held[i], &rc->held[i + 1], (rc->nheld - i - 1) * sizeof *rc->held);
  rc->nheld--;
}

/* Carries out up to BATCH held operations that are due and ends them in one write. Returns how many
 * ended; *stuck is set when one could not be done now (store trouble: retried later). */
static size_t run_due(gpd_reconciler *rc, int64_t now, bool *stuck) {
  gpd_store *s = rc->srv->store;
  outcome out[BATCH];
  gpd_op_result results[BATCH];
  size_t idx[BATCH], nout = 0, done = 0;
  size_t at[BATCH];
  for (size_t i = 0; i < rc->nheld && nout < BATCH; i++) {
    if (rc->held[i].op.not_before_ms > now) continue;
    reconcile(rc, &rc->held[i], &out[nout]);
    at[nout] = i;
    if (out[nout].r.status) {
      results[done] = out[nout].r;
      idx[done++] = i;
    } else if (!out[nout].again && !out[nout].forget) {
      *stuck = true;
    }
    nout++;
  }
  bool ended = done && s->ops->finish_operations(s, rc->owner, results, done, gpd_now_ms()) == GPD_STORE_OK;
  if (done && !ended) {
    store_trouble(rc, "finish");
    *stuck = true;
  }
  /* Rollouts go on: they stay held (their lease renewed when one was written) and run again later.
   * One whose write failed runs again after the usual pause, from what the store says. */
  size_t kept = 0;
  for (size_t i = 0; i < nout; i++) {
    held_op *h = &rc->held[at[i]];
    if (out[i].again && (ended || !out[i].r.status)) {
      h->rollout = true;
      h->op.not_before_ms = out[i].again_ms;
      if (out[i].r.status) h->lease_until = out[i].r.lease_until_ms;
      if (out[i].r.status) kept++;
    } else if (out[i].again) {
      h->op.not_before_ms = gpd_now_ms() + IDLE_POLL_MS;
    }
  }
  /* Ended (or, when the lease was lost meanwhile, left to its new owner), or ended elsewhere (an
   * abort): no longer held. at[] grows with i, so dropping from the end keeps the others' places. */
  for (size_t i = nout; i-- > 0;) {
    bool written = false;
    for (size_t k = 0; ended && k < done; k++)
      if (idx[k] == at[i]) written = true;
    if ((written && !out[i].again) || out[i].forget) drop_held(rc, at[i]);
  }
  for (size_t i = 0; i < nout; i++)
    gpd_outcome_clear(&out[i]);
  return ended ? done - kept : 0;
}

static void *reconciler_main(void *arg) {
  gpd_reconciler *rc = arg;
  gpd_store *s = rc->srv->store;
  int64_t last_purge = 0, last_trim = 0;
  bool worked = false;
  while (!stopping(rc)) {
    int64_t now = gpd_now_ms(), next = now + IDLE_POLL_MS;
    bool stuck = false;
    if (now - last_purge > PURGE_EVERY_MS) {
      if (s->ops->purge_operations(s, now - RETENTION_MS) == GPD_STORE_OK) last_purge = now;
    }
    /* Leases that ran out (the store was away that long) belong to whoever claims them next. */
    for (size_t i = rc->nheld; i-- > 0;)
      if (rc->held[i].lease_until < now) drop_held(rc, i);
    if (!claim_more(rc, now, &next)) stuck = true;
    size_t ended = run_due(rc, gpd_now_ms(), &stuck);
    if (ended) {
      worked = true;
      if (!stuck) continue; /* more may be due, and parents of what ended may run now */
    }
    if (stuck) {
      wait_ms(rc, IDLE_POLL_MS); /* something could not be done now: do not spin on it */
      continue;
    }
    for (size_t i = 0; i < rc->nheld; i++)
      if (rc->held[i].op.not_before_ms < next) next = rc->held[i].op.not_before_ms;
    if (rc->nheld == 0 && worked && now - last_trim > TRIM_EVERY_MS) { /* a burst of work just ended */
      malloc_trim(0);
      last_trim = now;
      worked = false;
    }
    int64_t wait = next - gpd_now_ms();
    wait_ms(rc, wait > 1 ? wait : 1);
  }
  /* Stopping: what this process holds goes back at once rather than when the leases run out. */
  if (rc->nheld && s->ops->release_operations(s, rc->owner) != GPD_STORE_OK)
    gpd_log_error("reconciler: could not give back %zu held operations; others take them once the leases run out",
                  rc->nheld);
  while (rc->nheld)
    drop_held(rc, rc->nheld - 1);
  free(rc->held);
  rc->held = NULL;
  return NULL;
}

gpd_reconciler *gpd_reconciler_start(gpd_server *srv) {
  gpd_reconciler *rc = calloc(1, sizeof *rc);
  char id[GPD_UUID_LEN + 1], host[64] = "";
  if (!rc) return NULL;
  rc->srv = srv;
  gpd_uuid(id);
  /* Which replica holds an operation, for people reading the store: host, pid, and a random part
   * so that a pid reused after a crash is not mistaken for the dead process. */
  if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "unknown");
  host[sizeof host - 1] = '\0';
  snprintf(rc->owner, sizeof rc->owner, "%s/%ld/%.8s", host, (long)getpid(), id);
  pthread_mutex_init(&rc->lock, NULL);
  pthread_cond_init(&rc->cond, NULL);
  if (pthread_create(&rc->thread, NULL, reconciler_main, rc) != 0) {
    pthread_mutex_destroy(&rc->lock);
    pthread_cond_destroy(&rc->cond);
    free(rc);
    return NULL;
  }
  return rc;
}

void gpd_reconciler_wake(gpd_reconciler *rc) {
  if (!rc) return;
  pthread_mutex_lock(&rc->lock);
  rc->kicked = true;
  pthread_cond_signal(&rc->cond);
  pthread_mutex_unlock(&rc->lock);
}

void gpd_reconciler_kick_rollouts(gpd_reconciler *rc) {
  if (!rc) return;
  pthread_mutex_lock(&rc->lock);
  rc->kicked = rc->rollout_kicked = true;
  pthread_cond_signal(&rc->cond);
  pthread_mutex_unlock(&rc->lock);
}

void gpd_reconciler_stop(gpd_reconciler *rc) {
  if (!rc) return;
  pthread_mutex_lock(&rc->lock);
  rc->stop = true;
  pthread_cond_signal(&rc->cond);
  pthread_mutex_unlock(&rc->lock);
  pthread_join(rc->thread, NULL);
  pthread_mutex_destroy(&rc->lock);
  pthread_cond_destroy(&rc->cond);
  free(rc);
}
