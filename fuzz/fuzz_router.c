/* fuzz_router.c - libFuzzer harness for gpupoold's router: an input is "METHOD URI" (the request
 * line's method and its raw path?query). It runs what http.c runs before a handler: the route match
 * (splitting and percent-decoding each segment, the 404/405 answers), then the router's api-version
 * and name checks (gpd_route_dispatch), and the authorization decision for a principal with
 * assignments at every kind of scope. Handlers are stubs here: they are fuzzed through the body
 * harness and the HTTP tests. The query is parsed as libmicrohttpd does for gpd_req_query: split on
 * '&' and '=', '+' as space, then MHD_http_unescape. */
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "router.h"
#include "security/authz.h"
#include "security/credentials.h"

#define MAX_ARGS 16

static char *qk[MAX_ARGS], *qv[MAX_ARGS];
static size_t nq;

const char *gpd_req_query(const gpd_request *r, const char *name) {
  (void)r;
  for (size_t i = 0; i < nq; i++)
    if (strcmp(qk[i], name) == 0) return qv[i];
  return NULL;
}

const char *gpd_req_header(const gpd_request *r, const char *name) {
  (void)r;
  (void)name;
  return NULL;
}

/* Every handler answers 200: the router decided to call it. */
#define STUB(name)                                                                                                     \
  void name(gpd_request *req, gpd_response *resp) {                                                                    \
    (void)req;                                                                                                         \
    gpd_resp_empty(resp, 200);                                                                                         \
  }
STUB(gpd_cluster_get)
STUB(gpd_cluster_put)
STUB(gpd_cluster_patch)
STUB(gpd_cluster_delete)
STUB(gpd_cluster_list)
STUB(gpd_pool_get)
STUB(gpd_pool_put)
STUB(gpd_pool_delete)
STUB(gpd_pool_list)
STUB(gpd_plan_get)
STUB(gpd_operation_get)
STUB(gpd_operation_result_get)
STUB(gpd_feature_list)
STUB(gpd_feature_get)
STUB(gpd_feature_register)
STUB(gpd_feature_unregister)
STUB(gpd_healthz)
STUB(gpd_metrics_get)
STUB(gpd_machine_get)
STUB(gpd_machine_put)
STUB(gpd_machine_delete)
STUB(gpd_machine_list)
STUB(gpd_machine_plan_get)
STUB(gpd_gpu_vm_size_list)
STUB(gpd_gpu_vm_size_get)
STUB(gpd_ui_root)
STUB(gpd_ui_get)
STUB(gpd_pool_whatif)
STUB(gpd_pool_abort)

static gpd_credentials *creds;

static void parse_query(char *q) {
  nq = 0;
  for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv && nq < MAX_ARGS; kv = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(kv, '=');
    char *v = eq ? eq + 1 : kv + strlen(kv);
    if (eq) *eq = '\0';
    for (char *p = v; *p; p++)
      if (*p == '+') *p = ' ';
    MHD_http_unescape(kv);
    MHD_http_unescape(v);
    qk[nq] = kv;
    qv[nq++] = v;
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  static const char assignments[] =
      "p1 everything Contributor /\n"
      "p2 sub Reader /subscriptions/0b3c8a1e-5f7d-4c2a-9e61-3d8f2b7a4c10\n"
      "p3 rg Contributor /subscriptions/0b3c8a1e-5f7d-4c2a-9e61-3d8f2b7a4c10/resourceGroups/RG1\n"
      "p4 pool Agent /subscriptions/0b3c8a1e-5f7d-4c2a-9e61-3d8f2b7a4c10/resourceGroups/rg1/providers/"
      "Microsoft.ContainerService/managedClusters/c1/agentPools/gpu1\n"
      "p4 pool Reader /subscriptions/x/resourceGroups/rg2/providers/Microsoft.ContainerService/managedClusters/c2\n"
      "p5 node Agent /subscriptions/0b3c8a1e-5f7d-4c2a-9e61-3d8f2b7a4c10/resourceGroups/rg1/providers/"
      "Microsoft.ContainerService/managedClusters/c1/agentPools/gpu1/machines/node-1\n";
  char err[256];
  creds = gpd_credentials_parse(assignments, sizeof assignments - 1, GPD_CREDS_ASSIGNMENTS, "fuzz", err, sizeof err);
  if (!creds) {
    fprintf(stderr, "fuzz_router: %s\n", err);
    abort();
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536) return 0;
  char *line = malloc(size + 1);
  if (!line) return 0;
  memcpy(line, data, size);
  line[size] = '\0'; /* an embedded NUL ends the request line, as it would on the wire */
  char *sp = strchr(line, ' ');
  const char *method = sp ? line : "GET";
  char *uri = sp ? sp + 1 : line;
  if (sp) *sp = '\0';

  gpd_server srv;
  gpd_request req;
  gpd_response resp;
  memset(&srv, 0, sizeof srv);
  memset(&req, 0, sizeof req);
  memset(&resp, 0, sizeof resp);
  req.srv = &srv;
  req.method = gpd_method_parse(method);
  req.method_name = method;
  req.uri = uri;
  size_t plen = strcspn(uri, "?#");
  char *query = uri[plen] == '?' ? strdup(uri + plen + 1) : strdup("");
  req.path = strndup(uri, plen);
  if (query && req.path) {
    parse_query(query);
    bool routed = gpd_route_match(&req, &resp);
    for (size_t i = 0; i < 5; i++) {
      const gpd_principal *p = gpd_credentials_find(creds, (const char *[]){"p1", "p2", "p3", "p4", "p5"}[i]);
      const char *action = NULL;
      if (p && routed)
        (void)gpd_authz_decide(p, req.route, req.method, (const char *const *)req.seg, req.nseg, &action);
    }
    if (routed) gpd_route_dispatch(&req, &resp);
    (void)gpd_route_template(req.route);
  }
  gpd_resp_clear(&resp);
  free(req.path);
  free(req.segbuf);
  free(query);
  free(line);
  return 0;
}
