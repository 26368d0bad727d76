/* handlers_system.c - GET /healthz (200 when the store answers) and GET /metrics (Prometheus). */
#include <stdlib.h>

#include "fleet.h"
#include "handlers.h"
#include "metrics.h"

void gpd_healthz(gpd_request *r, gpd_response *resp) {
  gpd_store *s = r->srv->store;
  if (s->ops->ping(s) == GPD_STORE_OK)
    gpd_resp_json(resp, 200, json_pack("{s:s}", "status", "ok"));
  else {
    gpd_resp_error(resp, 503, "ServiceUnavailable", NULL, "The store does not answer.");
    gpd_resp_header(resp, "Retry-After", "1");
  }
}

void gpd_metrics_get(gpd_request *r, gpd_response *resp) {
  gpd_store *s = r->srv->store;
  gpd_store_stats st;
  size_t len = 0;
  bool have = s->ops->stats(s, &st) == GPD_STORE_OK;
  char *text = gpd_metrics_render(r->srv->metrics, have ? &st : NULL, &len);
  if (text && have) gpd_fleet_metrics(r->srv, &text, &len); /* machines by pool and state */
  gpd_resp_text(resp, 200, text, len);
  if (text) gpd_resp_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
}
