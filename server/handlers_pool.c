/* handlers_pool.c - agent pools: GET, PUT (create or update, asynchronous), DELETE (asynchronous),
 * the list of a cluster's pools, and the plan node agents poll.
 *
 * A write reads the cluster and the pool, lets the core decide (gp_policy_apply_pool), and commits
 * the new pool and its operation on condition that neither row changed since it was read; if one
 * did, the request is decided again on the fresh state (so If-Match races end in exactly one
 * winner and nobody's update is lost). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "handlers.h"
#include "longpoll.h"
#include "reconciler.h"
#include "resource.h"
#include "visible.h"

void gpd_pool_not_found(gpd_request *r, gpd_response *resp) {
  char ckey[GPD_KEY_MAX];
  gpd_resource crow;
  bool found = false;
  gpd_cluster_key(r, ckey, sizeof ckey);
  if (!gpd_load_row(r, GPD_RES_CLUSTER, ckey, &crow, &found, resp)) return;
  gpd_resource_clear(&crow);
  if (!found)
    gpd_resp_error(resp, 404, "ParentResourceNotFound", NULL,
                   "The managed cluster '%s' of agent pool '%s' was not found in resource group '%s'. gpupool cluster "
                   "list -g %s shows the clusters there.",
                   r->cluster, r->pool, r->rg, r->rg);
  else
    gpd_resp_error(resp, 404, "ResourceNotFound", NULL,
                   "The agent pool '%s' was not found in managed cluster '%s' (resource group '%s'). gpupool nodepool "
                   "list -g %s --cluster-name %s shows its pools.",
                   r->pool, r->cluster, r->rg, r->rg, r->cluster);
}

static void cluster_missing(gpd_request *r, gpd_response *resp) {
  gpd_resp_error(resp, 404, "ParentResourceNotFound", NULL,
                 "The managed cluster '%s' was not found in resource group '%s'. Create it first: gpupool cluster "
                 "create -g %s -n %s (REST: PUT …/managedClusters/%s).",
                 r->cluster, r->rg, r->rg, r->cluster, r->cluster);
}

void gpd_pool_get(gpd_request *r, gpd_response *resp) {
  char key[GPD_KEY_MAX];
  gpd_resource row;
  bool found;
  size_t len;
  gpd_pool_key(r, key, sizeof key);
  if (!gpd_load_row(r, GPD_RES_POOL, key, &row, &found, resp)) return;
  if (!found) {
    gpd_pool_not_found(r, resp);
    return;
  }
  char *text = gpd_pool_view_text(r, &row, r->api, &len, resp);
  if (text) {
    gpd_resp_text(resp, 200, text, len);
    gpd_resp_header(resp, "ETag", "\"%s\"", row.etag);
  }
  gpd_resource_clear(&row);
}

gp_pool *gpd_pool_decide(gpd_request *r, const json_t *body, const gp_cluster *cluster, const gp_pool *existing,
                         gp_policy_context *ctx, gp_warnings *warnings, gp_error *err, gpd_response *resp) {
  gp_pool *pool = NULL;
  gp_pool_request *preq = NULL;
  if (!gpd_policy_context(r, ctx, resp)) return NULL;
  ctx->cluster = cluster;
  if (!(preq = gp_pool_request_parse(body, r->api, err))) return NULL;
  free(preq->name); /* the URL names the pool; a name in the body is ignored */
  if (!(preq->name = strdup(existing ? existing->name : r->pool)))
    gpd_resp_oom(resp);
  else
    pool = gp_policy_apply_pool(ctx, preq, existing, warnings, err);
  gp_pool_request_free(preq);
  return pool;
}

static int put_once(gpd_request *r, gpd_response *resp, const void *arg) {
  const json_t *body = arg;
  char ckey[GPD_KEY_MAX], pkey[GPD_KEY_MAX], etag[GPD_UUID_LEN + 1], id[GPD_ID_MAX], incarnation[GPD_UUID_LEN + 1];
  gpd_resource crow, prow, row;
  bool cfound = false, pfound = false;
  gp_cluster *cluster = NULL;
  gp_pool *existing = NULL, *pool = NULL;
  gp_warnings warnings = {0};
  gp_policy_context ctx;
  gp_error err;
  char *doc = NULL;
  int result = GPD_DONE;
  gp_error_init(&err);
  memset(&crow, 0, sizeof crow);
  memset(&prow, 0, sizeof prow);
  gpd_cluster_key(r, ckey, sizeof ckey);
  gpd_pool_key(r, pkey, sizeof pkey);

  if (!gpd_load_row(r, GPD_RES_CLUSTER, ckey, &crow, &cfound, resp)) goto out;
  if (!cfound) {
    cluster_missing(r, resp);
    goto out;
  }
  if (!gpd_load_row(r, GPD_RES_POOL, pkey, &prow, &pfound, resp)) goto out;
  if (!gpd_preconditions(r, pfound ? prow.etag : NULL, resp)) goto out;
  if (!gpd_not_busy(&crow, "managed cluster", resp) || (pfound && !gpd_not_busy(&prow, "agent pool", resp))) goto out;
  if (!pfound && !gp_name_valid_pool(r->pool)) {
    gpd_resp_error(resp, 400, "InvalidResourceName", "agentPoolName",
                   "Agent pool name '%s' is not valid: use 1 to 12 lowercase letters and digits, starting with a "
                   "letter.",
                   r->pool);
    goto out;
  }
  if (!(cluster = gpd_cluster_load(&crow, resp))) goto out;
  if (pfound && !(existing = gpd_pool_load(&prow, resp))) goto out;
  if (!(pool = gpd_pool_decide(r, body, cluster, existing, &ctx, &warnings, &err, resp))) {
    if (err.count || err.oom) gpd_resp_gp_error(resp, &err);
    goto out;
  }
  json_t *stored = gp_pool_to_store(pool);
  doc = stored ? json_dumps(stored, JSON_COMPACT) : NULL;
  json_decref(stored);
  if (!doc) {
    gpd_resp_oom(resp);
    goto out;
  }

  gpd_new_op op;
  snprintf(id, sizeof id, "%s/agentPools/%s", crow.id, pool->name);
  gpd_new_op_init(&op, r, GPD_RES_POOL, pkey, id, pfound ? GPD_OP_UPDATE : GPD_OP_CREATE, cluster->location, NULL);
  gpd_uuid(etag);
  gpd_uuid(incarnation); /* used only when the pool is new: an update keeps the stored one */
  row = (gpd_resource){.key = pkey,
                       .id = id,
                       .name = pool->name,
                       .doc = doc,
                       .etag = etag,
                       .state = pfound ? "Updating" : "Creating",
                       .op_id = op.id,
                       .management_mode = (char *)gpd_pool_management_mode(pool),
                       .plan_generation = prow.plan_generation,
                       .incarnation = incarnation};
  gpd_write writes[2] = {
      {GPD_W_CHECK, GPD_RES_CLUSTER, ckey, crow.etag, NULL},
      {GPD_W_PUT, GPD_RES_POOL, pkey, pfound ? prow.etag : NULL, &row},
  };
  gpd_changeset cs = {writes, 2, NULL, 0, &op.op, 1};
  gpd_store_rc rc = r->srv->store->ops->commit(r->srv->store, &cs);
  if (rc == GPD_STORE_CONFLICT) {
    result = GPD_RETRY;
    goto out;
  }
  if (rc != GPD_STORE_OK) {
    gpd_resp_store_error(resp);
    goto out;
  }
  gpd_reconciler_wake(r->srv->reconciler);
  json_t *view = gpd_pool_view(&row, pool, r->api);
  gp_machine_counts counts;
  if (view && r->api == GP_API_PREVIEW && gpd_fleet_pool_counts(r->srv, pkey, &counts) &&
      gpd_pool_view_set_nodes(view, &counts,
                              pool->count)) { /* the write is done: a failed count only leaves them out */
    bool store_failed;
    json_t *rollout = gpd_pool_rollout_status(r->srv, pkey, &counts, &store_failed);
    gpd_pool_view_set_rollout(view, rollout);
    json_decref(rollout);
  }
  gpd_resp_json(resp, pfound ? 200 : 201, view);
  gpd_resp_header(resp, "ETag", "\"%s\"", etag);
  gpd_async_headers(r, resp, op.location, op.id, false);
  gpd_warning_headers(resp, &warnings);
out:
  free(doc);
  gp_pool_free(pool);
  gp_pool_free(existing);
  gp_cluster_free(cluster);
  gp_warnings_free(&warnings);
  gp_error_clear(&err);
  gpd_resource_clear(&crow);
  gpd_resource_clear(&prow);
  return result;
}

void gpd_pool_put(gpd_request *r, gpd_response *resp) {
  json_t *body = gpd_req_json(r, resp);
  if (!body) return;
  gpd_write_retrying(r, resp, put_once, body, "The agent pool");
  json_decref(body);
}

static int delete_once(gpd_request *r, gpd_response *resp, const void *arg) {
  (void)arg;
  char ckey[GPD_KEY_MAX], pkey[GPD_KEY_MAX], etag[GPD_UUID_LEN + 1];
  gpd_resource crow, prow;
  bool cfound = false, pfound = false;
  gp_cluster *cluster = NULL;
  int result = GPD_DONE;
  memset(&crow, 0, sizeof crow);
  memset(&prow, 0, sizeof prow);
  gpd_cluster_key(r, ckey, sizeof ckey);
  gpd_pool_key(r, pkey, sizeof pkey);
  if (!gpd_load_row(r, GPD_RES_CLUSTER, ckey, &crow, &cfound, resp)) goto out;
  if (cfound && !gpd_load_row(r, GPD_RES_POOL, pkey, &prow, &pfound, resp)) goto out;
  if (!pfound) {
    gpd_resp_empty(resp, 204); /* ARM: deleting what is not there succeeds, whatever If-Match says */
    goto out;
  }
  if (!gpd_preconditions(r, prow.etag, resp)) goto out;
  if (!gpd_not_busy(&crow, "managed cluster", resp) || !gpd_not_busy(&prow, "agent pool", resp)) goto out;
  if (!(cluster = gpd_cluster_load(&crow, resp))) goto out;
  gpd_new_op op;
  gpd_new_op_init(&op, r, GPD_RES_POOL, pkey, prow.id, GPD_OP_DELETE, cluster->location, NULL);
  gpd_uuid(etag);
  gpd_resource row = {.etag = etag, .state = "Deleting", .op_id = op.id};
  gpd_write writes[2] = {
      {GPD_W_CHECK, GPD_RES_CLUSTER, ckey, crow.etag, NULL},
      {GPD_W_DELETING, GPD_RES_POOL, pkey, prow.etag, &row},
  };
  gpd_changeset cs = {writes, 2, NULL, 0, &op.op, 1};
  gpd_store_rc rc = r->srv->store->ops->commit(r->srv->store, &cs);
  if (rc == GPD_STORE_CONFLICT) {
    result = GPD_RETRY;
  } else if (rc != GPD_STORE_OK) {
    gpd_resp_store_error(resp);
  } else {
    gpd_reconciler_wake(r->srv->reconciler);
    gpd_resp_empty(resp, 202);
    gpd_async_headers(r, resp, op.location, op.id, true);
  }
out:
  gp_cluster_free(cluster);
  gpd_resource_clear(&crow);
  gpd_resource_clear(&prow);
  return result;
}

void gpd_pool_delete(gpd_request *r, gpd_response *resp) {
  gpd_write_retrying(r, resp, delete_once, NULL, "The agent pool");
}

void gpd_pool_list(gpd_request *r, gpd_response *resp) {
  char ckey[GPD_KEY_MAX], prefix[GPD_KEY_MAX + 2], after[GPD_KEY_MAX * 2];
  size_t top;
  gpd_resource crow;
  gpd_visible_page pg;
  bool found;
  if (!gpd_page_params(r, resp, &top, after, sizeof after)) return;
  gpd_cluster_key(r, ckey, sizeof ckey);
  if (!gpd_load_row(r, GPD_RES_CLUSTER, ckey, &crow, &found, resp)) return;
  gpd_resource_clear(&crow);
  if (!found) {
    cluster_missing(r, resp);
    return;
  }
  snprintf(prefix, sizeof prefix, "%s/", ckey);
  /* only the pools the caller may read (visible.h) */
  if (!gpd_list_visible(r, GPD_RES_POOL, prefix, *after ? after : NULL, top, &pg, resp)) return;
  gpd_resource *rows = pg.rows;
  size_t shown = pg.n, len;
  char **items = calloc(shown ? shown : 1, sizeof *items);
  size_t *lens = calloc(shown ? shown : 1, sizeof *lens);
  bool ok = items && lens;
  if (!ok) gpd_resp_oom(resp);
  for (size_t i = 0; ok && i < shown; i++)
    ok = (items[i] = gpd_pool_view_text(r, &rows[i], r->api, &lens[i], resp));
  if (ok) {
    char *text = gpd_page_text(r, items, lens, shown, top, pg.last_key, pg.more, &len);
    gpd_resp_text(resp, 200, text, len);
  }
  for (size_t i = 0; items && i < shown; i++)
    free(items[i]);
  free(items);
  free(lens);
  gpd_visible_page_free(&pg);
}

/* GET …/plan. Node agents poll it with If-None-Match (the ETag they have): 304 while it is current,
 * answered from the pool's row alone (generation and incarnation: gpd_plan_etag). With
 * ?waitSeconds=N the 304 is held (longpoll.h) until the reconciler stores a new plan for the pool,
 * or the pool goes (200 / 404 at once), or N seconds pass (304). If-None-Match: * matches every
 * plan, so it is never held. */
void gpd_plan_get(gpd_request *r, gpd_response *resp) {
  char key[GPD_KEY_MAX], etag[GPD_PLAN_ETAG_MAX], change[GPD_KEY_MAX + 16], incarnation[GPD_INCARNATION_MAX];
  int64_t gen = 0;
  int wait = 0;
  char *plan = NULL;
  gpd_store *s = r->srv->store;
  const char *inm = gpd_req_header(r, "If-None-Match");
  if (!gpd_wait_seconds(r, resp, &wait)) return;
  gpd_pool_key(r, key, sizeof key);
  gpd_store_rc rc = s->ops->get_plan(s, key, &gen, incarnation, inm ? NULL : &plan);
  if (rc == GPD_STORE_OK && inm && gen > 0) {
    gpd_plan_etag(incarnation, gen, NULL, etag, sizeof etag);
    if (gpd_etag_listed(inm, etag)) {
      snprintf(change, sizeof change, GPD_CHANGE_PLAN "%s", key);
      if (wait > 0 && !gpd_etag_listed(inm, NULL) && gpd_longpoll_hold(r, change, wait)) return;
      gpd_resp_empty(resp, 304);
      gpd_resp_header(resp, "ETag", "\"%s\"", etag);
      return;
    }
    rc = s->ops->get_plan(s, key, &gen, incarnation, &plan);
  }
  if (rc == GPD_STORE_NOT_FOUND) {
    gpd_pool_not_found(r, resp);
  } else if (rc != GPD_STORE_OK) {
    gpd_resp_store_error(resp);
  } else if (gen == 0 || !plan) {
    gpd_resp_error(resp, 404, "PlanNotReady", NULL,
                   "Agent pool '%s' has no plan yet: its first operation is still running. Retry shortly.", r->pool);
    gpd_resp_header(resp, "Retry-After", "%d", r->srv->cfg.retry_after);
  } else {
    gpd_plan_etag(incarnation, gen, NULL, etag, sizeof etag);
    gpd_resp_text(resp, 200, plan, strlen(plan));
    plan = NULL;
    gpd_resp_header(resp, "ETag", "\"%s\"", etag);
  }
  free(plan);
}
