/* handlers_cluster.c - managed clusters: GET, PUT (with agentPoolProfiles; asynchronous), PATCH of
 * tags, DELETE (asynchronous, with its pools) and the lists per resource group and subscription.
 *
 * A cluster PUT is decided by the core over the cluster and all its pools at once
 * (gp_policy_apply_cluster); the cluster, every pool it creates or changes and their operations
 * are committed in one changeset, on condition that the cluster and every one of its pools are
 * still as they were read (and no pool appeared meanwhile). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"
#include "reconciler.h"
#include "resource.h"
#include "visible.h"

static void cluster_not_found(gpd_request *r, gpd_response *resp) {
  gpd_resp_error(resp, 404, "ResourceNotFound", NULL,
                 "The managed cluster '%s' was not found in resource group '%s'. gpupool cluster list -g %s shows the "
                 "clusters there.",
                 r->cluster, r->rg, r->rg);
}

void gpd_cluster_get(gpd_request *r, gpd_response *resp) {
  char key[GPD_KEY_MAX];
  gpd_resource row;
  bool found;
  gpd_cluster_key(r, key, sizeof key);
  if (!gpd_load_row(r, GPD_RES_CLUSTER, key, &row, &found, resp)) return;
  if (!found) {
    cluster_not_found(r, resp);
    return;
  }
  json_t *v = gpd_stored_cluster_view(r, &row, r->api, resp);
  if (v) {
    gpd_resp_json(resp, 200, v);
    gpd_resp_header(resp, "ETag", "\"%s\"", row.etag);
  }
  gpd_resource_clear(&row);
}

/* What a cluster PUT writes for one pool of the core's result. */
typedef struct {
  char *key, *id, *doc;
  char etag[GPD_UUID_LEN + 1], incarnation[GPD_UUID_LEN + 1];
  const gpd_resource *old; /* NULL for a new pool */
  bool write;
  gpd_new_op op;
  gpd_resource row;
} pool_change;

static char *pool_key_of(const char *ckey, const char *name) {
  size_t n = strlen(ckey) + strlen(name) + 2;
  char *k = malloc(n);
  if (!k) return NULL;
  snprintf(k, n, "%s/%s", ckey, name);
  for (char *p = k + strlen(ckey); *p; p++)
    *p = (char)tolower((unsigned char)*p);
  return k;
}

static char *dumps_store(json_t *stored) {
  char *s = stored ? json_dumps(stored, JSON_COMPACT) : NULL;
  json_decref(stored);
  return s;
}

static int put_once(gpd_request *r, gpd_response *resp, const void *arg) {
  const json_t *body = arg;
  char ckey[GPD_KEY_MAX], cid[GPD_ID_MAX], etag[GPD_UUID_LEN + 1];
  gpd_resource crow, row;
  bool cfound = false;
  gpd_pool_set ps = {0};
  gp_cluster *existing = NULL;
  gp_cluster_request *creq = NULL;
  gp_cluster_result *res = NULL;
  gp_policy_context ctx;
  gp_error err;
  pool_change *ch = NULL;
  gpd_write *writes = NULL;
  gpd_operation *ops = NULL;
  gp_pool **view_pools = NULL;
  gpd_resource *view_rows = NULL;
  char *doc = NULL;
  int result = GPD_DONE;
  gp_error_init(&err);
  memset(&crow, 0, sizeof crow);
  gpd_cluster_key(r, ckey, sizeof ckey);

  if (!gpd_load_row(r, GPD_RES_CLUSTER, ckey, &crow, &cfound, resp)) goto out;
  if (!gpd_preconditions(r, cfound ? crow.etag : NULL, resp)) goto out;
  if (cfound && !gpd_not_busy(&crow, "managed cluster", resp)) goto out;
  if (cfound && !(existing = gpd_cluster_load(&crow, resp))) goto out;
  if (!gpd_pool_set_load(r, ckey, &ps, resp)) goto out;
  if (!gpd_policy_context(r, &ctx, resp)) goto out;
  if (!(creq = gp_cluster_request_parse(body, r->api, !cfound, &err))) {
    gpd_resp_gp_error(resp, &err);
    goto out;
  }
  free(creq->name); /* the URL names the cluster */
  if (!(creq->name = strdup(cfound ? crow.name : r->cluster))) {
    gpd_resp_oom(resp);
    goto out;
  }
  if (!(res = gp_policy_apply_cluster(&ctx, creq, existing, ps.pools, ps.n, &err))) {
    gpd_resp_gp_error(resp, &err);
    goto out;
  }

  /* The cluster row and its operation. */
  if (cfound)
    snprintf(cid, sizeof cid, "%s", crow.id);
  else
    gpd_cluster_id(r->sub, r->rg, r->cluster, cid, sizeof cid);
  if (!(doc = dumps_store(gp_cluster_to_store(res->cluster)))) {
    gpd_resp_oom(resp);
    goto out;
  }
  gpd_new_op cop;
  gpd_new_op_init(&cop, r, GPD_RES_CLUSTER, ckey, cid, cfound ? GPD_OP_UPDATE : GPD_OP_CREATE, res->cluster->location,
                  NULL);
  gpd_uuid(etag);
  row = (gpd_resource){.key = ckey,
                       .id = cid,
                       .name = cfound ? crow.name : (char *)r->cluster,
                       .doc = doc,
                       .etag = etag,
                       .state = cfound ? "Updating" : "Creating",
                       .op_id = cop.id};

  /* Each pool of the result: written (with an operation) when new, listed or changed; otherwise
   * only checked to be unchanged. Every stored pool appears in the result. */
  size_t np = res->pool_count, nw = 0, nops = 0;
  ch = calloc(np ? np : 1, sizeof *ch);
  writes = calloc(np + 1, sizeof *writes);
  ops = calloc(np + 1, sizeof *ops);
  view_pools = calloc(np ? np : 1, sizeof *view_pools);
  view_rows = calloc(np ? np : 1, sizeof *view_rows);
  if (!ch || !writes || !ops || !view_pools || !view_rows) {
    gpd_resp_oom(resp);
    goto out;
  }
  writes[nw++] = (gpd_write){GPD_W_PUT, GPD_RES_CLUSTER, ckey, cfound ? crow.etag : NULL, &row};
  ops[nops++] = cop.op;
  for (size_t i = 0; i < np; i++) {
    const gp_pool *p = res->pools[i];
    pool_change *c = &ch[i];
    if (!(c->key = pool_key_of(ckey, p->name)) || !(c->doc = dumps_store(gp_pool_to_store(p)))) {
      gpd_resp_oom(resp);
      goto out;
    }
    for (size_t j = 0; j < ps.n && !c->old; j++)
      if (strcmp(ps.rows[j].key, c->key) == 0) c->old = &ps.rows[j];
    c->write = !c->old || res->listed[i] || strcmp(c->doc, c->old->doc) != 0;
    if (!c->write) {
      writes[nw++] = (gpd_write){GPD_W_CHECK, GPD_RES_POOL, c->key, c->old->etag, NULL};
      view_rows[i] = *c->old;
      view_pools[i] = res->pools[i];
      continue;
    }
    if (c->old && !gpd_not_busy(c->old, "agent pool", resp)) goto out;
    size_t idlen = strlen(cid) + strlen(p->name) + 16;
    if (!(c->id = malloc(idlen))) {
      gpd_resp_oom(resp);
      goto out;
    }
    snprintf(c->id, idlen, "%s/agentPools/%s", cid, p->name);
    gpd_new_op_init(&c->op, r, GPD_RES_POOL, c->key, c->id, c->old ? GPD_OP_UPDATE : GPD_OP_CREATE,
                    res->cluster->location, cop.id);
    gpd_uuid(c->etag);
    gpd_uuid(c->incarnation); /* kept by the store unless the pool is new */
    c->row = (gpd_resource){.key = c->key,
                            .id = c->id,
                            .name = p->name,
                            .doc = c->doc,
                            .etag = c->etag,
                            .state = c->old ? "Updating" : "Creating",
                            .op_id = c->op.id,
                            .management_mode = (char *)gpd_pool_management_mode(p),
                            .plan_generation = c->old ? c->old->plan_generation : 0,
                            .incarnation = c->incarnation};
    writes[nw++] = (gpd_write){GPD_W_PUT, GPD_RES_POOL, c->key, c->old ? c->old->etag : NULL, &c->row};
    ops[nops++] = c->op.op;
    view_rows[i] = c->row;
    view_pools[i] = res->pools[i];
  }
  gpd_changeset cs = {writes, nw, ckey, ps.n, ops, nops};
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
  gpd_resp_json(resp, cfound ? 200 : 201, gpd_cluster_view(&row, res->cluster, view_rows, view_pools, np, r->api));
  gpd_resp_header(resp, "ETag", "\"%s\"", etag);
  gpd_async_headers(r, resp, cop.location, cop.id, false);
  gpd_warning_headers(resp, &res->warnings);
out:
  for (size_t i = 0; ch && res && i < res->pool_count; i++) {
    free(ch[i].key);
    free(ch[i].id);
    free(ch[i].doc);
  }
  free(ch);
  free(writes);
  free(ops);
  free(view_pools);
  free(view_rows);
  free(doc);
  gp_cluster_result_free(res);
  gp_cluster_request_free(creq);
  gp_cluster_free(existing);
  gpd_pool_set_free(&ps);
  gp_error_clear(&err);
  gpd_resource_clear(&crow);
  return result;
}

void gpd_cluster_put(gpd_request *r, gpd_response *resp) {
  json_t *body = gpd_req_json(r, resp);
  if (!body) return;
  gpd_write_retrying(r, resp, put_once, body, "The managed cluster or its pools");
  json_decref(body);
}

/* PATCH replaces the tags (ARM TagsObject); nothing else changes, so no operation runs. */
static int patch_once(gpd_request *r, gpd_response *resp, const void *arg) {
  const gp_cluster_request *creq = arg;
  char ckey[GPD_KEY_MAX], etag[GPD_UUID_LEN + 1];
  gpd_resource crow;
  bool found = false;
  gp_cluster *c = NULL;
  char *doc = NULL;
  int result = GPD_DONE;
  gpd_cluster_key(r, ckey, sizeof ckey);
  if (!gpd_load_row(r, GPD_RES_CLUSTER, ckey, &crow, &found, resp)) return GPD_DONE;
  if (!found) {
    cluster_not_found(r, resp);
    return GPD_DONE;
  }
  if (!gpd_preconditions(r, crow.etag, resp) || !gpd_not_busy(&crow, "managed cluster", resp)) goto out;
  if (!(c = gpd_cluster_load(&crow, resp))) goto out;
  gpd_resource row = crow;
  if (creq->tags) {
    json_t *tags = json_deep_copy(creq->tags);
    if (!tags) {
      gpd_resp_oom(resp);
      goto out;
    }
    json_decref(c->tags);
    c->tags = tags;
    if (!(doc = dumps_store(gp_cluster_to_store(c)))) {
      gpd_resp_oom(resp);
      goto out;
    }
    gpd_uuid(etag);
    row.doc = doc;
    row.etag = etag;
    gpd_write w = {GPD_W_PUT, GPD_RES_CLUSTER, ckey, crow.etag, &row};
    gpd_changeset cs = {&w, 1, NULL, 0, NULL, 0};
    gpd_store_rc rc = r->srv->store->ops->commit(r->srv->store, &cs);
    if (rc == GPD_STORE_CONFLICT) {
      result = GPD_RETRY;
      goto out;
    }
    if (rc != GPD_STORE_OK) {
      gpd_resp_store_error(resp);
      goto out;
    }
  }
  json_t *v = gpd_stored_cluster_view(r, &row, r->api, resp);
  if (v) {
    gpd_resp_json(resp, 200, v);
    gpd_resp_header(resp, "ETag", "\"%s\"", row.etag);
  }
out:
  free(doc);
  gp_cluster_free(c);
  gpd_resource_clear(&crow);
  return result;
}

void gpd_cluster_patch(gpd_request *r, gpd_response *resp) {
  gp_error err;
  json_t *body = gpd_req_json(r, resp);
  if (!body) return;
  gp_error_init(&err);
  /* The core's parser checks the tags (types and sizes); only they are used. */
  gp_cluster_request *creq = gp_cluster_request_parse(body, r->api, false, &err);
  if (!creq || err.count) { /* an agentPoolProfiles entry may be returned with its violations recorded */
    gpd_resp_gp_error(resp, &err);
  } else {
    gpd_write_retrying(r, resp, patch_once, creq, "The managed cluster");
  }
  gp_cluster_request_free(creq);
  gp_error_clear(&err);
  json_decref(body);
}

static int delete_once(gpd_request *r, gpd_response *resp, const void *arg) {
  (void)arg;
  char ckey[GPD_KEY_MAX], etag[GPD_UUID_LEN + 1];
  gpd_resource crow;
  bool found = false;
  gpd_pool_set ps = {0};
  gp_cluster *c = NULL;
  gpd_write *writes = NULL;
  int result = GPD_DONE;
  gpd_cluster_key(r, ckey, sizeof ckey);
  if (!gpd_load_row(r, GPD_RES_CLUSTER, ckey, &crow, &found, resp)) return GPD_DONE;
  if (!found) {
    gpd_resp_empty(resp, 204);
    return GPD_DONE;
  }
  if (!gpd_preconditions(r, crow.etag, resp) || !gpd_not_busy(&crow, "managed cluster", resp)) goto out;
  if (!(c = gpd_cluster_load(&crow, resp))) goto out;
  if (!gpd_cluster_pools(r, ckey, &ps.rows, &ps.n, resp)) goto out;
  for (size_t i = 0; i < ps.n; i++)
    if (!gpd_not_busy(&ps.rows[i], "agent pool", resp)) goto out;
  if (!(writes = calloc(ps.n + 1, sizeof *writes))) {
    gpd_resp_oom(resp);
    goto out;
  }
  gpd_new_op op;
  gpd_new_op_init(&op, r, GPD_RES_CLUSTER, ckey, crow.id, GPD_OP_DELETE, c->location, NULL);
  gpd_uuid(etag);
  gpd_resource row = {.etag = etag, .state = "Deleting", .op_id = op.id};
  writes[0] = (gpd_write){GPD_W_DELETING, GPD_RES_CLUSTER, ckey, crow.etag, &row};
  for (size_t i = 0; i < ps.n; i++)
    writes[i + 1] = (gpd_write){GPD_W_CHECK, GPD_RES_POOL, ps.rows[i].key, ps.rows[i].etag, NULL};
  gpd_changeset cs = {writes, ps.n + 1, ckey, ps.n, &op.op, 1};
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
  free(writes);
  gpd_pool_set_free(&ps);
  gp_cluster_free(c);
  gpd_resource_clear(&crow);
  return result;
}

void gpd_cluster_delete(gpd_request *r, gpd_response *resp) {
  gpd_write_retrying(r, resp, delete_once, NULL, "The managed cluster");
}

void gpd_cluster_list(gpd_request *r, gpd_response *resp) {
  char prefix[GPD_KEY_MAX], after[GPD_KEY_MAX * 2];
  size_t top;
  gpd_visible_page pg;
  if (!gpd_page_params(r, resp, &top, after, sizeof after)) return;
  if (r->rg)
    snprintf(prefix, sizeof prefix, "%s/%s/", r->sub, r->rg);
  else
    snprintf(prefix, sizeof prefix, "%s/", r->sub);
  for (char *p = prefix; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  /* only the clusters the caller may read (visible.h) */
  if (!gpd_list_visible(r, GPD_RES_CLUSTER, prefix, *after ? after : NULL, top, &pg, resp)) return;
  gpd_resource *rows = pg.rows;
  size_t shown = pg.n, len;
  char **items = calloc(shown ? shown : 1, sizeof *items);
  size_t *lens = calloc(shown ? shown : 1, sizeof *lens);
  bool ok = items && lens;
  if (!ok) gpd_resp_oom(resp);
  for (size_t i = 0; ok && i < shown; i++) {
    json_t *v = gpd_stored_cluster_view(r, &rows[i], r->api, resp);
    ok = v && (items[i] = json_dumps(v, JSON_COMPACT));
    if (v && !items[i]) gpd_resp_oom(resp);
    if (ok) lens[i] = strlen(items[i]);
    json_decref(v);
  }
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
