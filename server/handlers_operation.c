/* handlers_operation.c - the asynchronous operation resources ARM clients poll: the status resource
 * (Azure-AsyncOperation URL, always 200 with a status) and the result resource (Location URL: 202
 * while running, then the resource or 204). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "resource.h"
#include "security/authz.h"

/* The operation of the URL, when it belongs to the URL's subscription. */
static bool load_op(gpd_request *r, gpd_operation *op, gpd_response *resp) {
  char sub[64];
  gpd_store *s = r->srv->store;
  snprintf(sub, sizeof sub, "%s", r->sub);
  for (char *p = sub; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  gpd_store_rc rc = s->ops->get_operation(s, r->op_id, op);
  if (rc == GPD_STORE_OK && strcmp(op->sub, sub) == 0) {
    if (gpd_authz_visible(r, op->res_id)) return true; /* the caller may read the operation's resource */
    gpd_resp_error(resp, 403, "AuthorizationFailed", NULL,
                   "The client does not have authorization to read operation '%.64s': it belongs to a resource "
                   "outside the client's scopes.",
                   r->op_id);
    gpd_operation_clear(op);
    return false;
  }
  if (rc == GPD_STORE_OK) gpd_operation_clear(op);
  if (rc == GPD_STORE_OK || rc == GPD_STORE_NOT_FOUND)
    gpd_resp_error(resp, 404, "ResourceNotFound", NULL, "The operation '%.64s' was not found in subscription '%s'.",
                   r->op_id, r->sub);
  else
    gpd_resp_store_error(resp);
  return false;
}

void gpd_operation_get(gpd_request *r, gpd_response *resp) {
  gpd_operation op;
  char id[GPD_ID_MAX], start[40], end[40];
  if (!load_op(r, &op, resp)) return;
  bool running = strcmp(op.status, "InProgress") == 0;
  snprintf(id, sizeof id, "/subscriptions/%s/providers/Microsoft.ContainerService/locations/%s/operations/%s", op.sub,
           op.location ? op.location : "global", op.id);
  gpd_format_time(op.start_ms, start, sizeof start);
  json_t *body = json_pack("{s:s,s:s,s:s,s:s,s:i}", "id", id, "name", op.id, "status", op.status, "startTime", start,
                           "percentComplete", running ? 0 : 100);
  if (body && !running) {
    gpd_format_time(op.end_ms, end, sizeof end);
    if (json_object_set_new(body, "endTime", json_string(end))) {
      json_decref(body);
      body = NULL;
    }
  }
  if (body && op.error) {
    /* The stored ARM error body is {"error":{…}}: the status resource carries the inner object. */
    json_t *e = json_loads(op.error, 0, NULL);
    json_t *inner = json_object_get(e, "error");
    if (!inner || json_object_set(body, "error", inner)) {
      json_decref(body);
      body = NULL;
    }
    json_decref(e);
  }
  if (body && running) gpd_resp_header(resp, "Retry-After", "%d", gpd_retry_after(r->srv, op.not_before_ms));
  gpd_resp_json(resp, 200, body);
  gpd_operation_clear(&op);
}

void gpd_operation_result_get(gpd_request *r, gpd_response *resp) {
  gpd_operation op;
  if (!load_op(r, &op, resp)) return;
  if (strcmp(op.status, "InProgress") == 0) {
    char base[600];
    gpd_req_base_url(r, base, sizeof base);
    gpd_resp_empty(resp, 202);
    gpd_resp_header(resp, "Location", "%s%.1000s?api-version=%s", base, r->path, r->api_version);
    gpd_resp_header(resp, "Retry-After", "%d", gpd_retry_after(r->srv, op.not_before_ms));
  } else if (strcmp(op.status, "Succeeded") != 0) {
    json_t *e = op.error ? json_loads(op.error, 0, NULL) : NULL;
    if (!e) e = gp_error_body("InternalServerError", NULL, "The operation did not succeed.");
    gpd_resp_json(resp, 500, e);
  } else if (op.kind == GPD_OP_DELETE) {
    gpd_resp_empty(resp, 204);
  } else {
    /* The resource as it is now, in the api-version of the request that started the operation. */
    gpd_resource row;
    bool found;
    gp_api_group api = gp_api_version_group(op.api_version);
    if (api == GP_API_UNKNOWN) api = r->api;
    if (gpd_load_row(r, op.res_kind, op.res_key, &row, &found, resp)) {
      if (!found) {
        gpd_resp_empty(resp, 204);
      } else if (op.res_kind == GPD_RES_POOL) {
        gp_pool *p = gpd_pool_load(&row, resp);
        if (p) gpd_resp_json(resp, 200, gpd_pool_view(&row, p, api));
        gp_pool_free(p);
      } else {
        json_t *v = gpd_stored_cluster_view(r, &row, api, resp);
        if (v) gpd_resp_json(resp, 200, v);
      }
      gpd_resource_clear(&row);
    }
  }
  gpd_operation_clear(&op);
}
