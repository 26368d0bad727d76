/* handlers_rollout.c - POST …/agentPools/{p}/abort (preview api-versions; AKS's operation-abort):
 * stops the pool's operation in progress where it stands. For a rollout that is the end of it: no
 * further machine is moved (machines already moved keep their target), the operation ends
 * Canceled, the rollout Aborted, the pool Canceled. A PUT with the same body resumes it, a PUT of
 * the earlier settings rolls it back. */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "resource.h"
#include "util.h"

void gpd_pool_abort(gpd_request *r, gpd_response *resp) {
  char ckey[GPD_KEY_MAX], pkey[GPD_KEY_MAX];
  gpd_resource crow, prow;
  gpd_operation op;
  bool cfound = false, pfound = false;
  memset(&crow, 0, sizeof crow);
  memset(&prow, 0, sizeof prow);
  memset(&op, 0, sizeof op);
  gpd_cluster_key(r, ckey, sizeof ckey);
  gpd_pool_key(r, pkey, sizeof pkey);
  gpd_store *s = r->srv->store;
  if (!gpd_load_row(r, GPD_RES_CLUSTER, ckey, &crow, &cfound, resp)) goto out;
  if (cfound && !gpd_load_row(r, GPD_RES_POOL, pkey, &prow, &pfound, resp)) goto out;
  if (!pfound) {
    gpd_pool_not_found(r, resp);
    goto out;
  }
  gpd_store_rc got = prow.op_id ? s->ops->get_operation(s, prow.op_id, &op) : GPD_STORE_NOT_FOUND;
  if (got != GPD_STORE_OK && got != GPD_STORE_NOT_FOUND) {
    gpd_resp_store_error(resp);
    goto out;
  }
  bool running = got == GPD_STORE_OK && strcmp(op.status, "InProgress") == 0 && op.kind != GPD_OP_DELETE;
  char error[700] = "";
  if (running) {
    json_t *e =
        gp_error_body("OperationCanceled", NULL,
                      "The operation was aborted (POST .../abort, gpupool nodepool abort): no further machine "
                      "is moved. Send the pool's PUT again to resume, or PUT the earlier settings to roll back.");
    char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    if (!text) {
      gpd_resp_oom(resp);
      goto out;
    }
    snprintf(error, sizeof error, "%s", text);
    free(text);
    got = s->ops->abort_rollout(s, pkey, op.id, error, gpd_now_ms());
    if (got != GPD_STORE_OK && got != GPD_STORE_CONFLICT) {
      gpd_resp_store_error(resp);
      goto out;
    }
    running = got == GPD_STORE_OK;
  }
  if (!running) {
    gpd_resp_error(resp, 409, "OperationNotAllowed", NULL,
                   "Agent pool '%s' has no operation in progress to abort (its provisioning state is '%s'). To change "
                   "it, send a PUT (gpupool nodepool update ...).",
                   prow.name ? prow.name : "", prow.state ? prow.state : "");
    goto out;
  }
  gpd_resp_empty(resp, 202);
  gpd_async_headers(r, resp, op.location, op.id, true);
out:
  gpd_operation_clear(&op);
  gpd_resource_clear(&crow);
  gpd_resource_clear(&prow);
}
