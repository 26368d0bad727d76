/* handlers_system.c - GET /healthz (200 when the store would serve the API, else 503 saying why)
 * and GET /metrics (Prometheus). */
#include <stdlib.h>

#include "fleet.h"
#include "handlers.h"
#include "metrics.h"

void gpd_healthz(gpd_request *r, gpd_response *resp) {
  gpd_store *s = r->srv->store;
  char why[600] = "";
  if (s->ops->ping(s, why, sizeof why) == GPD_STORE_OK) {
    gpd_resp_json(resp, 200, json_pack("{s:s}", "status", "ok"));
  } else {
    gpd_resp_error(resp, 503, "ServiceUnavailable", NULL, "The store cannot serve requests: %s.",
                   *why ? why : "it does not answer");
    gpd_resp_header(resp, "Retry-After", "1");
  }
}

void gpd_metrics_get(gpd_request *r, gpd_response *resp) {
  size_t len = 0;
  char *text = gpd_metrics_render(r->srv->metrics, r->srv, &len);
  gpd_resp_text(resp, 200, text, len);
  if (text) gpd_resp_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
}
