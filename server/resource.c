/* resource.c - helpers the resource handlers share (see resource.h). */
#include "resource.h"

#include "fleet.h"
#include "rollout.h"
#include "view_cache.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void lower(char *s) {
  for (; *s; s++)
    *s = (char)tolower((unsigned char)*s);
}

void gpd_cluster_key(const gpd_request *r, char *out, size_t size) {
  snprintf(out, size, "%s/%s/%s", r->sub, r->rg, r->cluster);
  lower(out);
}

void gpd_pool_key(const gpd_request *r, char *out, size_t size) {
  snprintf(out, size, "%s/%s/%s/%s", r->sub, r->rg, r->cluster, r->pool);
  lower(out);
}

void gpd_machine_key(const gpd_request *r, char *out, size_t size) {
  snprintf(out, size, "%s/%s/%s/%s/%s", r->sub, r->rg, r->cluster, r->pool, r->machine);
  lower(out);
}

void gpd_cluster_id(const char *sub, const char *rg, const char *cluster, char *out, size_t size) {
  char lsub[64];
  snprintf(lsub, sizeof lsub, "%s", sub);
  for (char *p = lsub; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  snprintf(out, size, "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/%s",
           lsub, rg, cluster);
}

bool gpd_load_row(const gpd_request *r, gpd_res_kind kind, const char *key, gpd_resource *row, bool *found,
                  gpd_response *resp) {
  gpd_store *s = r->srv->store;
  memset(row, 0, sizeof *row);
  gpd_store_rc rc = s->ops->get_resource(s, kind, key, row);
  *found = rc == GPD_STORE_OK;
  if (rc == GPD_STORE_OK || rc == GPD_STORE_NOT_FOUND) return true;
  gpd_resp_store_error(resp);
  return false;
}

bool gpd_policy_context(const gpd_request *r, gp_policy_context *ctx, gpd_response *resp) {
  gpd_feature f[8];
  size_t n = 0;
  char sub[64];
  gp_policy_context_init(ctx);
  ctx->phase = r->srv->cfg.phase;
  ctx->ga_version = r->srv->cfg.ga_version;
  ctx->api = r->api;
  snprintf(sub, sizeof sub, "%s", r->sub);
  for (char *p = sub; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  gpd_store *s = r->srv->store;
  if (s->ops->get_features(s, sub, f, 8, &n) != GPD_STORE_OK) {
    gpd_resp_store_error(resp);
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    if (strcmp(f[i].state, "Registered") != 0) continue;
    if (strcasecmp(f[i].name, GP_FEATURE_MANAGED_GPU) == 0) ctx->feature_managed_gpu = true;
    if (strcasecmp(f[i].name, GP_FEATURE_MANAGED_GPU_EXPERIENCE) == 0) ctx->feature_managed_gpu_experience = true;
  }
  return true;
}

static json_t *parse_doc(const gpd_resource *row) { return json_loads(row->doc, 0, NULL); }

gp_pool *gpd_pool_load(const gpd_resource *row, gpd_response *resp) {
  gp_error err;
  gp_error_init(&err);
  json_t *doc = parse_doc(row);
  gp_pool *p = doc ? gp_pool_from_store(doc, &err) : NULL;
  json_decref(doc);
  gp_error_clear(&err);
  if (!p)
    gpd_resp_error(resp, 500, "InternalServerError", NULL, "The stored agent pool '%s' could not be read back.",
                   row->name ? row->name : "");
  return p;
}

gp_cluster *gpd_cluster_load(const gpd_resource *row, gpd_response *resp) {
  gp_error err;
  gp_error_init(&err);
  json_t *doc = parse_doc(row);
  gp_cluster *c = doc ? gp_cluster_from_store(doc, &err) : NULL;
  json_decref(doc);
  gp_error_clear(&err);
  if (!c)
    gpd_resp_error(resp, 500, "InternalServerError", NULL, "The stored managed cluster '%s' could not be read back.",
                   row->name ? row->name : "");
  return c;
}

bool gpd_cluster_pools(const gpd_request *r, const char *cluster_key, gpd_resource **rows, size_t *n,
                       gpd_response *resp) {
  char prefix[GPD_KEY_MAX + 2];
  gpd_store *s = r->srv->store;
  gpd_resource *all = NULL;
  size_t count = 0;
  snprintf(prefix, sizeof prefix, "%s/", cluster_key);
  for (;;) {
    gpd_resource *page;
    size_t got;
    const char *after = count ? all[count - 1].key : NULL;
    if (s->ops->list_resources(s, GPD_RES_POOL, prefix, after, 1000, &page, &got) != GPD_STORE_OK) {
      gpd_resources_free(all, count);
      gpd_resp_store_error(resp);
      return false;
    }
    if (got) {
      gpd_resource *grown = realloc(all, (count + got) * sizeof *grown);
      if (!grown) {
        gpd_resources_free(page, got);
        gpd_resources_free(all, count);
        gpd_resp_oom(resp);
        return false;
      }
      all = grown;
      memcpy(all + count, page, got * sizeof *page);
      count += got;
    }
    free(page);
    if (got < 1000) break;
  }
  *rows = all;
  *n = count;
  return true;
}

void gpd_pool_set_free(gpd_pool_set *ps) {
  for (size_t i = 0; ps->pools && i < ps->n; i++)
    gp_pool_free(ps->pools[i]);
  free(ps->pools);
  gpd_resources_free(ps->rows, ps->n);
  memset(ps, 0, sizeof *ps);
}

bool gpd_pool_set_load(const gpd_request *r, const char *cluster_key, gpd_pool_set *ps, gpd_response *resp) {
  memset(ps, 0, sizeof *ps);
  if (!gpd_cluster_pools(r, cluster_key, &ps->rows, &ps->n, resp)) return false;
  if (!(ps->pools = calloc(ps->n ? ps->n : 1, sizeof *ps->pools))) {
    gpd_resp_oom(resp);
    gpd_pool_set_free(ps);
    return false;
  }
  for (size_t i = 0; i < ps->n; i++)
    if (!(ps->pools[i] = gpd_pool_load(&ps->rows[i], resp))) {
      gpd_pool_set_free(ps);
      return false;
    }
  return true;
}

json_t *gpd_stored_cluster_view(const gpd_request *r, const gpd_resource *row, gp_api_group api, gpd_response *resp) {
  gpd_pool_set ps;
  gp_cluster *c = gpd_cluster_load(row, resp);
  json_t *v = NULL;
  if (c && gpd_pool_set_load(r, row->key, &ps, resp)) {
    if (!(v = gpd_cluster_view(row, c, ps.rows, ps.pools, ps.n, api))) gpd_resp_oom(resp);
    gpd_pool_set_free(&ps);
  }
  gp_cluster_free(c);
  return v;
}

/* Adds id, properties.eTag and properties.provisioningState to a view. */
static json_t *with_server_fields(json_t *v, const gpd_resource *row) {
  json_t *props = v ? json_object_get(v, "properties") : NULL;
  if (!props || json_object_set_new(v, "id", json_string(row->id)) ||
      json_object_set_new(props, "provisioningState", json_string(row->state)) ||
      json_object_set_new(props, "eTag", json_string(row->etag))) {
    json_decref(v);
    return NULL;
  }
  return v;
}

json_t *gpd_pool_view(const gpd_resource *row, const gp_pool *p, gp_api_group api) {
  return with_server_fields(gp_pool_to_json(p, api), row);
}

json_t *gpd_cluster_view(const gpd_resource *row, const gp_cluster *c, const gpd_resource *pool_rows,
                         gp_pool *const *pools, size_t npools, gp_api_group api) {
  json_t *v = with_server_fields(gp_cluster_to_json(c, pools, npools, api), row);
  json_t *list = v ? json_object_get(json_object_get(v, "properties"), "agentPoolProfiles") : NULL;
  for (size_t i = 0; list && i < npools && i < json_array_size(list); i++) {
    if (json_object_set_new(json_array_get(list, i), "provisioningState", json_string(pool_rows[i].state))) {
      json_decref(v);
      return NULL;
    }
  }
  return v;
}

bool gpd_pool_view_set_nodes(json_t *view, const gp_machine_counts *c, int64_t count) {
  json_t *props = json_object_get(view, "properties");
  json_t *status = json_pack("{s:o}", "nodes", gp_machine_counts_json(c, count));
  return props && status && json_object_set_new(props, "status", status) == 0;
}

json_t *gpd_pool_rollout_status(const gpd_server *srv, const char *pool_key, const gp_machine_counts *counts,
                                bool *store_failed) {
  gpd_rollout ro;
  gpd_store_rc got = srv->store->ops->get_rollout(srv->store, pool_key, &ro);
  *store_failed = got != GPD_STORE_OK && got != GPD_STORE_NOT_FOUND;
  if (*store_failed) return NULL;
  json_t *v = gpd_rollout_status(got == GPD_STORE_OK ? &ro : NULL, counts);
  gpd_rollout_clear(&ro);
  return v;
}

bool gpd_pool_view_set_rollout(json_t *view, const json_t *rollout) {
  json_t *status = json_object_get(json_object_get(view, "properties"), "status");
  return status && rollout && json_object_set(status, "rollout", (json_t *)rollout) == 0;
}

char *gpd_pool_view_text(const gpd_request *r, const gpd_resource *row, gp_api_group api, size_t *len,
                         gpd_response *resp) {
  /* The view shows what the row and, in preview versions, the counts of its machines say: a cached
   * view is used for exactly those. */
  gp_machine_counts counts;
  char version[200];
  bool nodes = api == GP_API_PREVIEW, store_failed = false;
  json_t *rollout = NULL;
  snprintf(version, sizeof version, "%s", row->state);
  if (nodes) {
    if (!gpd_fleet_pool_counts(r->srv, row->key, &counts) ||
        !(rollout = gpd_pool_rollout_status(r->srv, row->key, &counts, &store_failed))) {
      if (store_failed)
        gpd_resp_store_error(resp);
      else
        gpd_resp_oom(resp);
      return NULL;
    }
    size_t n = strlen(version);
    for (int i = 0; i < GP_MACHINE_STATE_COUNT; i++)
      n += (size_t)snprintf(version + n, sizeof version - n, "|%lld", (long long)counts.by_state[i]);
    /* the rollout as it stands: its text's hash */
    char *rt = json_dumps(rollout, JSON_COMPACT | JSON_SORT_KEYS);
    if (!rt) {
      json_decref(rollout);
      gpd_resp_oom(resp);
      return NULL;
    }
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = rt; *c; c++)
      h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    free(rt);
    snprintf(version + n, sizeof version - n, "|%016llx", (unsigned long long)h);
  }
  char *text = gpd_view_cache_get(r->srv->views, row->key, api, row->etag, version, len);
  if (text) {
    json_decref(rollout);
    return text;
  }
  gp_pool *p = gpd_pool_load(row, resp);
  json_t *v = p ? gpd_pool_view(row, p, api) : NULL;
  if (v && nodes && (!gpd_pool_view_set_nodes(v, &counts, p->count) || !gpd_pool_view_set_rollout(v, rollout))) {
    json_decref(v);
    v = NULL;
  }
  json_decref(rollout);
  gp_pool_free(p);
  if (!p) return NULL;
  text = v ? json_dumps(v, JSON_COMPACT) : NULL;
  json_decref(v);
  if (!text) {
    gpd_resp_oom(resp);
    return NULL;
  }
  *len = strlen(text);
  gpd_view_cache_put(r->srv->views, row->key, api, row->etag, version, text, *len);
  return text;
}

const char *gpd_pool_management_mode(const gp_pool *p) {
  const char *m = gp_enum_name(&gp_mgmt_mode_names, p->effective.management_mode);
  return p->size && m ? m : "None";
}

/* ---- preconditions ------------------------------------------------------------------------------ */

bool gpd_etag_listed(const char *list, const char *etag) {
  const char *p = list;
  while (*p) {
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    if (!*p) break;
    const char *start = p;
    size_t len;
    if (strncmp(p, "W/", 2) == 0) start = p += 2; /* weak tags compare by their opaque value */
    if (*p == '"') {
      start = ++p;
      while (*p && *p != '"')
        p++;
      len = (size_t)(p - start);
      if (*p) p++;
    } else {
      while (*p && *p != ',' && *p != ' ' && *p != '\t')
        p++;
      len = (size_t)(p - start);
    }
    if (len == 1 && *start == '*') return true;
    if (etag && len == strlen(etag) && strncmp(start, etag, len) == 0) return true;
    while (*p && *p != ',')
      p++;
  }
  return false;
}

bool gpd_preconditions(const gpd_request *r, const char *etag, gpd_response *resp) {
  const char *im = gpd_req_header(r, "If-Match"), *inm = gpd_req_header(r, "If-None-Match");
  if (!etag) {
    if (im) {
      gpd_resp_error(resp, 412, "PreconditionFailed", NULL,
                     "Resource not found but ETag header is provided. If this is a request to create, please do not "
                     "provide ETag.");
      return false;
    }
    return true;
  }
  if (inm && gpd_etag_listed(inm, etag)) {
    gpd_resp_error(resp, 412, "PreconditionFailed", NULL,
                   "The resource already exists and If-None-Match is '%.64s'. Leave If-None-Match out to update it.",
                   inm);
    return false;
  }
  if (im && !gpd_etag_listed(im, etag)) {
    gpd_resp_error(resp, 412, "PreconditionFailed", NULL,
                   "The ETag in If-Match (%.80s) does not match the resource's current ETag; someone changed it. GET "
                   "the resource and retry with its current ETag.",
                   im);
    return false;
  }
  return true;
}

bool gpd_not_busy(const gpd_resource *row, const char *what, gpd_response *resp) {
  if (gpd_state_terminal(row->state)) return true;
  gpd_resp_error(resp, 409, "OperationNotAllowed", NULL,
                 "Operation is not allowed because %s '%s' is in provisioning state '%s'. Wait for its operation (%s) "
                 "to end, then retry.",
                 what, row->name ? row->name : "", row->state, row->op_id ? row->op_id : "unknown");
  return false;
}

/* ---- operations --------------------------------------------------------------------------------- */

void gpd_new_op_init(gpd_new_op *n, const gpd_request *r, gpd_res_kind kind, const char *res_key, const char *res_id,
                     gpd_op_kind k, const char *location, const char *parent) {
  memset(n, 0, sizeof *n);
  gpd_uuid(n->id);
  /* ARM location names are lowercase without spaces ("East US" is "eastus"). */
  size_t j = 0;
  for (const char *p = location ? location : ""; *p && j + 1 < sizeof n->location; p++)
    if (isalnum((unsigned char)*p)) n->location[j++] = (char)tolower((unsigned char)*p);
  n->location[j] = '\0';
  if (!j) snprintf(n->location, sizeof n->location, "global");
  int64_t now = gpd_now_ms();
  n->op.id = n->id;
  snprintf(n->sub, sizeof n->sub, "%s", r->sub);
  for (char *p = n->sub; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  n->op.sub = n->sub;
  n->op.location = n->location;
  n->op.res_kind = kind;
  n->op.res_key = (char *)res_key;
  n->op.res_id = (char *)res_id;
  n->op.kind = k;
  n->op.status = "InProgress";
  n->op.start_ms = now;
  n->op.not_before_ms = now + r->srv->cfg.operation_delay_ms;
  n->op.parent = (char *)parent;
  n->op.api_version = (char *)r->api_version;
}

void gpd_async_headers(const gpd_request *r, gpd_response *resp, const char *location, const char *op_id,
                       bool with_location) {
  char base[600], sub[64];
  gpd_req_base_url(r, base, sizeof base);
  snprintf(sub, sizeof sub, "%s", r->sub);
  for (char *p = sub; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  gpd_resp_header(resp, "Azure-AsyncOperation",
                  "%s/subscriptions/%s/providers/Microsoft.ContainerService/locations/%s/operations/%s?api-version=%s",
                  base, sub, location, op_id, r->api_version);
  if (with_location)
    gpd_resp_header(resp, "Location",
                    "%s/subscriptions/%s/providers/Microsoft.ContainerService/locations/%s/operationresults/%s"
                    "?api-version=%s",
                    base, sub, location, op_id, r->api_version);
  /* a new operation is due after --operation-delay-ms */
  gpd_resp_header(resp, "Retry-After", "%d", gpd_retry_after(r->srv, gpd_now_ms() + r->srv->cfg.operation_delay_ms));
}

int gpd_retry_after(const gpd_server *srv, int64_t due_ms) {
  int64_t left = due_ms - gpd_now_ms();
  if (left <= 0) return 0;
  int64_t s = (left + 999) / 1000;
  return s < srv->cfg.retry_after ? (int)s : srv->cfg.retry_after;
}

void gpd_warning_headers(gpd_response *resp, const gp_warnings *w) {
  for (size_t i = 0; i < w->count; i++) {
    char msg[600];
    size_t j = 0;
    for (const char *p = w->items[i]; *p && j + 2 < sizeof msg; p++) {
      if (*p == '"' || *p == '\\') msg[j++] = '\\'; /* a quoted-string per RFC 7234 */
      msg[j++] = *p;
    }
    msg[j] = '\0';
    gpd_resp_header(resp, "Warning", "299 - \"%s\"", msg);
  }
}

/* ---- long-polls and paging ---------------------------------------------------------------------- */

bool gpd_wait_seconds(const gpd_request *r, gpd_response *resp, int *out) {
  const char *w = gpd_req_query(r, "waitSeconds");
  char *end;
  *out = 0;
  if (!w) return true;
  long v = strtol(w, &end, 10);
  if (*w >= '0' && *w <= '9' && !*end && v <= 60) {
    *out = (int)v;
    return true;
  }
  bool printable = strlen(w) <= 32;
  for (const char *p = w; printable && *p; p++)
    printable = *p >= 0x20 && *p < 0x7f;
  gpd_resp_error(resp, 400, "InvalidParameter", "waitSeconds",
                 "waitSeconds must be a whole number of seconds from 0 to 60%s%s%s.", printable ? ", not '" : "",
                 printable ? w : "", printable ? "'" : "");
  return false;
}

static const char hexdigits[] = "0123456789abcdef";

bool gpd_page_params(const gpd_request *r, gpd_response *resp, size_t *top, char *after, size_t after_size) {
  const char *t = gpd_req_query(r, "$top"), *tok = gpd_req_query(r, "$skiptoken");
  *top = 100;
  after[0] = '\0';
  if (t) {
    char *end;
    long v = strtol(t, &end, 10);
    if (!*t || *end || v < 1 || v > 1000) {
      gpd_resp_error(resp, 400, "InvalidParameter", "$top", "$top must be a whole number from 1 to 1000, not '%.32s'.",
                     t);
      return false;
    }
    *top = (size_t)v;
  }
  if (tok) {
    size_t n = strlen(tok), j = 0;
    bool ok = n % 2 == 0 && n / 2 < after_size && n > 0;
    for (size_t i = 0; ok && i < n; i += 2) {
      const char *hi = strchr(hexdigits, tok[i]), *lo = strchr(hexdigits, tok[i + 1]);
      if (!hi || !lo || !tok[i] || !tok[i + 1]) {
        ok = false;
        break;
      }
      char c = (char)(((hi - hexdigits) << 4) | (lo - hexdigits));
      if (c == '\0') ok = false;
      after[j++] = c;
    }
    if (!ok) {
      gpd_resp_error(resp, 400, "InvalidParameter", "$skiptoken",
                     "$skiptoken is not valid; use the nextLink of the previous page as it is.");
      return false;
    }
    after[j] = '\0';
  }
  return true;
}

typedef struct {
  char *s;
  size_t len, cap;
  bool oom;
} text_buf;

static void append(text_buf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *g = realloc(b->s, cap);
    if (!g) {
      b->oom = true;
      return;
    }
    b->s = g;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

char *gpd_page_text(const gpd_request *r, char *const *items, const size_t *lens, size_t n, size_t top,
                    const char *last_key, bool more, size_t *len) {
  text_buf b = {0};
  append(&b, "{\"value\":[", 10);
  for (size_t i = 0; i < n; i++) {
    if (i) append(&b, ",", 1);
    append(&b, items[i], lens[i]);
  }
  append(&b, "]", 1);
  if (more && last_key) {
    size_t kn = strlen(last_key);
    char *tok = malloc(2 * kn + 1), base[600], *link = malloc(2 * kn + 2048);
    json_t *js = NULL;
    char *quoted = NULL;
    if (tok && link) {
      for (size_t i = 0; i < kn; i++) {
        tok[2 * i] = hexdigits[(unsigned char)last_key[i] >> 4];
        tok[2 * i + 1] = hexdigits[(unsigned char)last_key[i] & 15];
      }
      tok[2 * kn] = '\0';
      gpd_req_base_url(r, base, sizeof base);
      snprintf(link, 2 * kn + 2048, "%s%.1000s?api-version=%s&$top=%zu&$skiptoken=%s", base, r->path, r->api_version,
               top, tok);
      js = json_string(link);
      quoted = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
    }
    if (quoted) {
      append(&b, ",\"nextLink\":", 12);
      append(&b, quoted, strlen(quoted));
    } else {
      b.oom = true;
    }
    free(quoted);
    json_decref(js);
    free(tok);
    free(link);
  }
  append(&b, "}", 1);
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  *len = b.len;
  return b.s;
}

void gpd_write_retrying(gpd_request *r, gpd_response *resp, gpd_write_attempt attempt, const void *arg,
                        const char *what) {
  for (int tries = 1; attempt(r, resp, arg) == GPD_RETRY; tries++) {
    if (tries == GPD_WRITE_ATTEMPTS) {
      gpd_resp_error(resp, 409, "Conflict", NULL, "%s kept changing while this request was applied; retry it.", what);
      return;
    }
  }
}
