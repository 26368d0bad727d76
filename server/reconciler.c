/* reconciler.c - carries operations to their end (see reconciler.h).
 *
 * What "provisioning" means here: for a pool, the core builds its plan (gp_plan_build) and the
 * plan is stored with the next generation, which is what node agents poll; a cluster operation ends
 * when the pool operations it started have ended (it fails if one failed); deletes remove the rows.
 * The only failure left once the core accepted a request is a stored document that cannot be read
 * back, which fails the operation with an ARM error instead of retrying forever. */
#include "reconciler.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

#define BATCH 64
#define LEASE_MS 30000
#define IDLE_POLL_MS 1000 /* another replica may have queued work; look at least this often */
#define RETENTION_MS (24LL * 3600 * 1000)
#define PURGE_EVERY_MS (10LL * 60 * 1000)
#define TRIM_EVERY_MS 2000 /* give freed heap memory back to the system when work runs out */

struct gpd_reconciler {
  gpd_server *srv;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool stop, kicked;
  char owner[64];
};

/* What one operation came to; owns its strings. */
typedef struct {
  gpd_op_result r;
  char *error, *plan;
} outcome;

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

static void reconcile_pool(gpd_reconciler *rc, const gpd_operation *op, outcome *o) {
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
  json_t *plan = gp_plan_build(p, &ctx, generation);
  o->plan = plan ? json_dumps(plan, JSON_COMPACT) : NULL;
  json_decref(plan);
  gp_pool_free(p);
  gpd_resource_clear(&row);
  if (!o->plan) {
    o->r.status = NULL; /* out of memory: retry after the lease */
    return;
  }
  o->r.status = "Succeeded";
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
    if (strcmp(children[i].status, "Failed") != 0) continue;
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

static void reconcile(gpd_reconciler *rc, const gpd_operation *op, outcome *o) {
  memset(o, 0, sizeof *o);
  o->r.op = op;
  if (op->kind == GPD_OP_DELETE)
    o->r.status = "Succeeded"; /* the store removes the rows when it ends the operation */
  else if (op->res_kind == GPD_RES_POOL)
    reconcile_pool(rc, op, o);
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
  pthread_mutex_unlock(&rc->lock);
}

static bool stopping(gpd_reconciler *rc) {
  pthread_mutex_lock(&rc->lock);
  bool s = rc->stop;
  pthread_mutex_unlock(&rc->lock);
  return s;
}

static void *reconciler_main(void *arg) {
  gpd_reconciler *rc = arg;
  gpd_store *s = rc->srv->store;
  int64_t last_purge = 0, last_trim = 0;
  bool worked = false;
  while (!stopping(rc)) {
    int64_t now = gpd_now_ms(), next_due = 0;
    if (now - last_purge > PURGE_EVERY_MS) {
      s->ops->purge_operations(s, now - RETENTION_MS);
      last_purge = now;
    }
    gpd_operation *ops = NULL;
    size_t n = 0;
    if (s->ops->claim_operations(s, rc->owner, now, LEASE_MS, BATCH, &ops, &n, &next_due) != GPD_STORE_OK) {
      gpd_log_error("reconciler: the store did not answer; retrying");
      wait_ms(rc, IDLE_POLL_MS);
      continue;
    }
    if (n == 0) {
      if (worked && now - last_trim > TRIM_EVERY_MS) { /* a burst of work just ended */
        malloc_trim(0);
        last_trim = now;
        worked = false;
      }
      int64_t wait = IDLE_POLL_MS;
      if (next_due > 0 && next_due - now < wait) wait = next_due - now > 1 ? next_due - now : 1;
      wait_ms(rc, wait);
      continue;
    }
    worked = true;
    outcome *out = calloc(n, sizeof *out);
    gpd_op_result *results = calloc(n, sizeof *results);
    size_t done = 0;
    for (size_t i = 0; out && results && i < n; i++) {
      reconcile(rc, &ops[i], &out[i]);
      if (out[i].r.status) results[done++] = out[i].r;
    }
    if (done && s->ops->finish_operations(s, rc->owner, results, done, gpd_now_ms()) != GPD_STORE_OK)
      gpd_log_error("reconciler: could not store the end of %zu operations; they will be retried", done);
    for (size_t i = 0; out && i < n; i++) {
      free(out[i].error);
      free(out[i].plan);
    }
    free(out);
    free(results);
    gpd_operations_free(ops, n);
    if (done < n) wait_ms(rc, IDLE_POLL_MS); /* something could not be done now: do not spin on it */
  }
  return NULL;
}

gpd_reconciler *gpd_reconciler_start(gpd_server *srv) {
  gpd_reconciler *rc = calloc(1, sizeof *rc);
  char id[GPD_UUID_LEN + 1];
  if (!rc) return NULL;
  rc->srv = srv;
  gpd_uuid(id);
  snprintf(rc->owner, sizeof rc->owner, "gpupoold-%s", id);
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
