/* handlers_machine.c - machines, the nodes of an agent pool as their node agents report them
 * (preview api-versions): GET, the pool's list, PUT (an agent's registration and each report,
 * answered synchronously: nodes are brought by their owners, gpupool creates no VM), DELETE (the
 * node is gone, synchronous) and the plan of one machine.
 *
 * The core checks a report and decides the state (machine.h); here a report is compared with the
 * stored one: when it says nothing new, only its time is kept, in memory (heartbeats.h), and no
 * durable write is made; anything else is written, conditionally on the etag read, before the
 * answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "gpupool/rollout.h"
#include "handlers.h"
#include "heartbeats.h"
#include "longpoll.h"
#include "reconciler.h"
#include "resource.h"
#include "security/authz.h"

/* 404 for what is not there: the machine's pool (or cluster), or the machine itself. */
static void machine_not_found(gpd_request *r, gpd_response *resp) {
  char pkey[GPD_KEY_MAX];
  gpd_resource prow;
  bool found = false;
  gpd_pool_key(r, pkey, sizeof pkey);
  if (!gpd_load_row(r, GPD_RES_POOL, pkey, &prow, &found, resp)) return;
  gpd_resource_clear(&prow);
  if (!found)
    gpd_resp_error(resp, 404, "ParentResourceNotFound", NULL,
                   "The agent pool '%s' of machine '%s' was not found in managed cluster '%s' (resource group '%s'). "
                   "Create the pool first (gpupool nodepool add); its nodes then register themselves.",
                   r->pool, r->machine ? r->machine : "", r->cluster, r->rg);
  else
    gpd_resp_error(resp, 404, "ResourceNotFound", NULL,
                   "The machine '%s' was not found in agent pool '%s' of managed cluster '%s'. A node's agent "
                   "registers it (PUT …/machines/%s); gpupool machine list shows those that did.",
                   r->machine, r->pool, r->cluster, r->machine);
}

static void pool_not_found(gpd_request *r, gpd_response *resp) {
  gpd_resp_error(resp, 404, "ParentResourceNotFound", NULL,
                 "The agent pool '%s' was not found in managed cluster '%s' (resource group '%s'). Create the pool "
                 "first (gpupool nodepool add); its nodes then register themselves.",
                 r->pool, r->cluster, r->rg);
}

static int64_t target_of(const gpd_machine *m) {
  return m->target_generation > 0 ? m->target_generation : m->pool_generation;
}

/* The newest lastSeen: the store's, or a newer one this replica still holds. */
static int64_t seen_of(const gpd_server *srv, const gpd_machine *m) {
  int64_t pending = gpd_heartbeats_pending(gpd_fleet_heartbeats(srv), m->key);
  return pending > m->last_seen_ms ? pending : m->last_seen_ms;
}

static gp_machine_state state_of(const gpd_server *srv, const gpd_machine *m, int64_t seen, int64_t now) {
  gp_machine_facts f = {gp_machine_is_reporting(seen, (int)m->interval_s, srv->cfg.report_coalesce_ms, now),
                        m->health_failed, m->applied_generation != target_of(m), m->drifted};
  return gp_machine_state_of(&f);
}

/* The GET view of a machine read with its documents; NULL on OOM or a document that cannot be read.
 * report: the stored report's JSON when the caller has it already (a report that repeats it), else
 * NULL and it is parsed from m->report. */
static json_t *machine_view(const gpd_server *srv, const gpd_machine *m, const json_t *report, int64_t seen) {
  json_t *parsed = report ? NULL : m->report ? json_loads(m->report, 0, NULL) : NULL;
  json_t *findings = m->findings ? json_loads(m->findings, 0, NULL) : NULL;
  gp_machine_server s = {m->id, m->name, m->etag, seen, target_of(m), state_of(srv, m, seen, gpd_now_ms())};
  const json_t *doc = report ? report : parsed;
  json_t *v = doc ? gp_machine_view(doc, findings, &s) : NULL;
  json_decref(parsed);
  json_decref(findings);
  return v;
}

static void answer_view(const gpd_request *r, gpd_response *resp, int status, const gpd_machine *m,
                        const json_t *report, int64_t seen) {
  json_t *v = machine_view(r->srv, m, report, seen);
  if (!v) {
    gpd_resp_error(resp, 500, "InternalServerError", NULL, "The stored machine '%s' could not be read back.", m->name);
    return;
  }
  gpd_resp_json(resp, status, v);
  gpd_resp_header(resp, "ETag", "\"%s\"", m->etag);
}

void gpd_machine_get(gpd_request *r, gpd_response *resp) {
  char key[GPD_KEY_MAX];
  gpd_machine m;
  gpd_store *s = r->srv->store;
  gpd_machine_key(r, key, sizeof key);
  gpd_store_rc rc = s->ops->get_machine(s, key, true, &m);
  if (rc == GPD_STORE_NOT_FOUND)
    machine_not_found(r, resp);
  else if (rc != GPD_STORE_OK)
    gpd_resp_store_error(resp);
  else
    answer_view(r, resp, 200, &m, NULL, seen_of(r->srv, &m));
  gpd_machine_clear(&m);
}

/* ---- PUT: registration and reports ---------------------------------------------------------------- */

typedef struct {
  const gp_machine_report *report;
  const char *text; /* its canonical text */
} report_arg;

/* A report that says what the stored one says: only the time moves, and it waits in memory — unless
 * the machine was not reporting (by the time the coalesced time were stored, the store would still
 * say NotReporting: every replica's counts would lag its return), or memory ran out: then the time
 * is stored at once. */
static void heartbeat(gpd_request *r, gpd_response *resp, const gpd_machine *old, const json_t *report,
                      const char *pool_key, int64_t now) {
  gpd_store *s = r->srv->store;
  int interval = (int)old->interval_s;
  int64_t lag = gp_machine_lag_ms(interval, r->srv->cfg.report_coalesce_ms);
  bool back = !gp_machine_is_reporting(seen_of(r->srv, old), interval, r->srv->cfg.report_coalesce_ms, now + lag);
  if (back || !gpd_heartbeats_note(gpd_fleet_heartbeats(r->srv), old->key, now, lag)) {
    char *keys[] = {old->key};
    if (s->ops->touch_machines(s, keys, &now, 1) != GPD_STORE_OK) {
      gpd_resp_store_error(resp);
      return;
    }
    gpd_fleet_changed(r->srv, pool_key);
  }
  answer_view(r, resp, 200, old, report, now); /* the stored report is this one: no need to parse it */
}

static int put_once(gpd_request *r, gpd_response *resp, const void *arg) {
  const report_arg *a = arg;
  char pkey[GPD_KEY_MAX], mkey[GPD_KEY_MAX], id[GPD_ID_MAX], etag[GPD_UUID_LEN + 1], incarnation[GPD_UUID_LEN + 1];
  gpd_store *s = r->srv->store;
  gpd_resource prow;
  gpd_machine old;
  bool pfound = false;
  gp_pool *pool = NULL;
  json_t *findings = NULL;
  char *findings_text = NULL;
  int result = GPD_DONE;
  memset(&old, 0, sizeof old);
  memset(&prow, 0, sizeof prow);
  gpd_pool_key(r, pkey, sizeof pkey);
  gpd_machine_key(r, mkey, sizeof mkey);
  /* The machine first: a report that repeats the stored one (most of them) is answered from it
   * alone. Its pool is there: a machine is read joined with its pool, and deleting a pool deletes
   * its machines in the same transaction (while the pool is being deleted, such a report is noted
   * like any other; the machine goes with the pool). */
  gpd_store_rc got = s->ops->get_machine(s, mkey, true, &old);
  if (got != GPD_STORE_OK && got != GPD_STORE_NOT_FOUND) {
    gpd_resp_store_error(resp);
    goto out;
  }
  bool exists = got == GPD_STORE_OK;
  int64_t now = gpd_now_ms();
  if (exists && old.report && strcmp(old.report, a->text) == 0) {
    if (gpd_preconditions(r, old.etag, resp)) heartbeat(r, resp, &old, a->report->doc, pkey, now);
    goto out;
  }
  if (!gpd_load_row(r, GPD_RES_POOL, pkey, &prow, &pfound, resp)) goto out;
  if (!pfound) {
    pool_not_found(r, resp);
    goto out;
  }
  if (strcmp(prow.state, "Deleting") == 0) {
    gpd_resp_error(resp, 409, "OperationNotAllowed", NULL,
                   "The agent pool '%s' is being deleted (operation %s): its machines are deleted with it and no "
                   "machine can register now.",
                   prow.name, prow.op_id ? prow.op_id : "unknown");
    goto out;
  }
  if (!gpd_preconditions(r, exists ? old.etag : NULL, resp)) goto out;

  /* Something changed: the server's findings again (the pool's VM size, the node's clock), then a
   * durable write on condition that nobody wrote the machine since it was read. */
  if (!(pool = gpd_pool_load(&prow, resp))) goto out;
  findings = gp_machine_server_findings(a->report, pool->vm_size, now);
  findings_text = findings ? json_dumps(findings, JSON_COMPACT) : NULL;
  if (!findings_text) {
    gpd_resp_oom(resp);
    goto out;
  }
  gpd_uuid(etag);
  gpd_uuid(incarnation);
  snprintf(id, sizeof id, "%s/machines/%s", prow.id, r->machine);
  gpd_machine m = {.key = mkey,
                   .pool_key = pkey,
                   .id = exists ? old.id : id,
                   .name = exists ? old.name : (char *)r->machine,
                   .etag = etag,
                   .incarnation = exists ? old.incarnation : incarnation,
                   .report = (char *)a->text,
                   .findings = findings_text,
                   .last_seen_ms = now,
                   .interval_s = a->report->interval_s,
                   .applied_generation = a->report->applied_generation,
                   .target_generation = exists ? old.target_generation : 0,
                   .health_failed = a->report->health_failed,
                   .drifted = a->report->agent_drift || gp_machine_findings_have_error(findings),
                   .pool_generation = prow.plan_generation};
  gpd_store_rc rc = s->ops->put_machine(s, &m, exists ? old.etag : NULL);
  if (rc == GPD_STORE_CONFLICT) {
    result = GPD_RETRY;
  } else if (rc != GPD_STORE_OK) {
    gpd_resp_store_error(resp);
  } else {
    gpd_fleet_changed(r->srv, pkey);
    gpd_reconciler_kick_rollouts(r->srv->reconciler); /* a rollout may wait for this machine */
    answer_view(r, resp, exists ? 200 : 201, &m, a->report->doc, now);
  }
out:
  free(findings_text);
  json_decref(findings);
  gp_pool_free(pool);
  gpd_machine_clear(&old);
  gpd_resource_clear(&prow);
  return result;
}

void gpd_machine_put(gpd_request *r, gpd_response *resp) {
  gp_error err;
  json_t *body = gpd_req_json(r, resp);
  if (!body) return;
  gp_error_init(&err);
  gp_machine_report *report = gp_machine_report_parse(body, &err);
  char *text = report ? gp_machine_report_text(report) : NULL;
  if (!report)
    gpd_resp_gp_error(resp, &err);
  else if (!text)
    gpd_resp_oom(resp);
  else {
    report_arg a = {report, text};
    gpd_write_retrying(r, resp, put_once, &a, "The machine");
  }
  free(text);
  gp_machine_report_free(report);
  gp_error_clear(&err);
  json_decref(body);
}

/* ---- DELETE ---------------------------------------------------------------------------------------- */

static int delete_once(gpd_request *r, gpd_response *resp, const void *arg) {
  (void)arg;
  char key[GPD_KEY_MAX], pkey[GPD_KEY_MAX];
  gpd_store *s = r->srv->store;
  gpd_machine old;
  int result = GPD_DONE;
  gpd_machine_key(r, key, sizeof key);
  gpd_store_rc got = s->ops->get_machine(s, key, false, &old);
  if (got == GPD_STORE_NOT_FOUND) {
    gpd_resp_empty(resp, 204); /* ARM: deleting what is not there succeeds, whatever If-Match says */
    return GPD_DONE;
  }
  if (got != GPD_STORE_OK) {
    gpd_resp_store_error(resp);
    return GPD_DONE;
  }
  if (gpd_preconditions(r, old.etag, resp)) {
    gpd_store_rc rc = s->ops->delete_machine(s, key, old.etag);
    if (rc == GPD_STORE_CONFLICT) {
      result = GPD_RETRY;
    } else if (rc != GPD_STORE_OK) {
      gpd_resp_store_error(resp);
    } else {
      gpd_heartbeats_forget(gpd_fleet_heartbeats(r->srv), key);
      gpd_pool_key(r, pkey, sizeof pkey);
      gpd_fleet_changed(r->srv, pkey);
      gpd_resp_empty(resp, 200);
    }
  }
  gpd_machine_clear(&old);
  return result;
}

void gpd_machine_delete(gpd_request *r, gpd_response *resp) {
  gpd_write_retrying(r, resp, delete_once, NULL, "The machine");
}

/* ---- the list of a pool's machines ------------------------------------------------------------------ */

void gpd_machine_list(gpd_request *r, gpd_response *resp) {
  char pkey[GPD_KEY_MAX], prefix[GPD_KEY_MAX + 2], after[GPD_KEY_MAX * 2];
  size_t top, n = 0, shown = 0, len;
  gpd_resource prow;
  gpd_machine *rows = NULL;
  bool found;
  gpd_store *s = r->srv->store;
  if (!gpd_page_params(r, resp, &top, after, sizeof after)) return;
  gpd_pool_key(r, pkey, sizeof pkey);
  if (!gpd_load_row(r, GPD_RES_POOL, pkey, &prow, &found, resp)) return;
  gpd_resource_clear(&prow);
  if (!found) {
    pool_not_found(r, resp);
    return;
  }
  snprintf(prefix, sizeof prefix, "%s/", pkey);
  if (s->ops->list_machines(s, prefix, *after ? after : NULL, top + 1, &rows, &n) != GPD_STORE_OK) {
    gpd_resp_store_error(resp);
    return;
  }
  bool more = n > top, all = gpd_authz_reads_all(r), ok = true;
  size_t page = more ? top : n;
  char **items = calloc(page ? page : 1, sizeof *items);
  size_t *lens = calloc(page ? page : 1, sizeof *lens);
  if (!items || !lens) ok = false;
  for (size_t i = 0; ok && i < page; i++) {
    if (!all && !gpd_authz_visible(r, rows[i].id)) continue; /* a Reader of some machines sees those */
    json_t *v = machine_view(r->srv, &rows[i], NULL, seen_of(r->srv, &rows[i]));
    items[shown] = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!items[shown]) {
      ok = false;
    } else {
      lens[shown] = strlen(items[shown]);
      shown++;
    }
  }
  char *text = ok ? gpd_page_text(r, items, lens, shown, top, more ? rows[top - 1].key : NULL, more, &len) : NULL;
  if (text)
    gpd_resp_text(resp, 200, text, len);
  else
    gpd_resp_oom(resp);
  for (size_t i = 0; items && i < shown; i++)
    free(items[i]);
  free(items);
  free(lens);
  gpd_machines_free(rows, n);
}

/* ---- the plan of one machine ------------------------------------------------------------------------- */

/* The ETag of a machine's plan: the generation (readable), then a hash of the machine's incarnation
 * (so that a pool deleted and created again, whose machines are registered anew, never matches an
 * ETag of the old one) and a rollout part that stays the default's, so ETags are what they were: the
 * pool's drain timeout sent with a plan is read when it is sent (pool_drain_minutes). Stored values
 * only: every replica computes the same. */
static void plan_etag(const gpd_machine *m, int64_t generation, int drain_minutes, char *out, size_t size) {
  char rollout[16];
  snprintf(rollout, sizeof rollout, "%d", drain_minutes);
  gpd_plan_etag(m->incarnation, generation, rollout, out, size); /* the pool plan's scheme (util.h) */
}

gpd_plan_check gpd_machine_plan_check(gpd_request *r, const char *if_none_match, gpd_machine_plan_ref *ref,
                                      gpd_response *resp) {
  char key[GPD_KEY_MAX];
  gpd_machine m;
  gpd_store *s = r->srv->store;
  gpd_machine_key(r, key, sizeof key);
  gpd_store_rc rc = s->ops->get_machine(s, key, false, &m);
  if (rc != GPD_STORE_OK) {
    if (rc == GPD_STORE_NOT_FOUND)
      machine_not_found(r, resp);
    else
      gpd_resp_store_error(resp);
    return GPD_PLAN_FAILED;
  }
  ref->generation = target_of(&m);
  snprintf(ref->pool_key, sizeof ref->pool_key, "%s", m.pool_key);
  if (m.target_generation > 0)
    snprintf(ref->wake_key, sizeof ref->wake_key, GPD_CHANGE_MACHINE "%s", m.key);
  else
    snprintf(ref->wake_key, sizeof ref->wake_key, GPD_CHANGE_PLAN "%s", m.pool_key);
  plan_etag(&m, ref->generation, GP_MACHINE_DRAIN_TIMEOUT_DEFAULT, ref->etag, sizeof ref->etag);
  gpd_machine_clear(&m);
  if (ref->generation == 0) {
    gpd_resp_error(resp, 404, "PlanNotReady", NULL,
                   "Agent pool '%s' has no plan yet: its first operation is still running. Retry shortly.", r->pool);
    gpd_resp_header(resp, "Retry-After", "%d", r->srv->cfg.retry_after);
    return GPD_PLAN_NOT_READY;
  }
  return if_none_match && gpd_etag_listed(if_none_match, ref->etag) ? GPD_PLAN_UNCHANGED : GPD_PLAN_CHANGED;
}

/* The pool's drainTimeoutInMinutes, for the plan it sends (the agent drains with it). Read only for
 * a 200: a change of the settings alone makes no new plan generation, and the next move of the
 * machine (a new target: a 200) carries the settings as they are then. The default when the pool
 * cannot be read (it was there a moment ago; a 200 with the default beats an error). */
static int pool_drain_minutes(gpd_request *r, const char *pool_key) {
  gpd_resource row;
  bool found = false;
  gpd_response scratch = {0};
  int minutes = GP_MACHINE_DRAIN_TIMEOUT_DEFAULT;
  if (gpd_load_row(r, GPD_RES_POOL, pool_key, &row, &found, &scratch) && found) {
    gp_pool *p = gpd_pool_load(&row, &scratch);
    if (p) minutes = gp_pool_upgrade_settings(p).drain_timeout_minutes;
    gp_pool_free(p);
    gpd_resource_clear(&row);
  }
  gpd_resp_clear(&scratch);
  return minutes;
}

/* The plan JSON with "rollout": {...} added as its last member (the stored text is a JSON object). */
static char *with_rollout(const char *plan, int drain_minutes, size_t *len) {
  size_t n = strlen(plan);
  while (n && (plan[n - 1] == ' ' || plan[n - 1] == '\n'))
    n--;
  if (n < 2 || plan[0] != '{' || plan[n - 1] != '}') return NULL;
  char tail[80];
  int t = snprintf(tail, sizeof tail, "%s\"rollout\":{\"drainTimeoutInMinutes\":%d}}", n > 2 ? "," : "", drain_minutes);
  char *out = malloc(n - 1 + (size_t)t + 1);
  if (!out) return NULL;
  memcpy(out, plan, n - 1);
  memcpy(out + n - 1, tail, (size_t)t + 1);
  *len = n - 1 + (size_t)t;
  return out;
}

/* GET …/machines/{m}/plan. With ?waitSeconds=N and an If-None-Match that still matches, the 304
 * is held (longpoll.h) on the key that can change it (gpd_machine_plan_check): answered 200 at once
 * when the pool stores a new plan (a machine that follows the pool) or the machine's target moves
 * (rollouts), 404 at once when the machine's pool goes, 304 after N seconds. A machine whose pool
 * has no plan yet is held the same way, without If-None-Match: 200 as soon as the first plan is
 * stored, else 404 PlanNotReady after N seconds. If-None-Match: * matches every plan, so it is
 * answered 304 at once rather than held for nothing. */
void gpd_machine_plan_get(gpd_request *r, gpd_response *resp) {
  int wait = 0;
  if (!gpd_wait_seconds(r, resp, &wait)) return;
  const char *inm = gpd_req_header(r, "If-None-Match");
  gpd_store *s = r->srv->store;
  for (int attempt = 0; attempt < 3; attempt++) {
    gpd_machine_plan_ref ref;
    gpd_plan_check c = gpd_machine_plan_check(r, inm, &ref, resp);
    if (c == GPD_PLAN_NOT_READY && wait > 0 && gpd_longpoll_hold(r, ref.wake_key, wait)) {
      gpd_resp_clear(resp);
      return;
    }
    if (c == GPD_PLAN_FAILED || c == GPD_PLAN_NOT_READY) return;
    if (c == GPD_PLAN_UNCHANGED) {
      if (wait > 0 && !gpd_etag_listed(inm, NULL) && gpd_longpoll_hold(r, ref.wake_key, wait)) return;
      gpd_resp_empty(resp, 304);
      gpd_resp_header(resp, "ETag", "\"%s\"", ref.etag);
      return;
    }
    char *plan = NULL, *body;
    size_t len = 0;
    gpd_store_rc rc = s->ops->get_plan_at(s, ref.pool_key, ref.generation, &plan);
    if (rc == GPD_STORE_NOT_FOUND) continue; /* the pool moved on between the two reads: read again */
    if (rc != GPD_STORE_OK) {
      gpd_resp_store_error(resp);
      return;
    }
    body = with_rollout(plan, pool_drain_minutes(r, ref.pool_key), &len);
    free(plan);
    if (!body) {
      gpd_resp_error(resp, 500, "InternalServerError", NULL, "The stored plan of agent pool '%s' could not be read.",
                     r->pool);
      return;
    }
    gpd_resp_text(resp, 200, body, len);
    gpd_resp_header(resp, "ETag", "\"%s\"", ref.etag);
    return;
  }
  gpd_resp_error(resp, 503, "ServiceUnavailable", NULL, "The plan of agent pool '%s' kept changing; retry.", r->pool);
  gpd_resp_header(resp, "Retry-After", "1");
}
