/* router.c - ARM URL routing (SPEC §8).
 *
 * Paths are matched segment by segment on the raw request path, each segment percent-decoded on its
 * own (so "%2F" inside a name stays inside that name and is refused as a bad name, instead of
 * changing the route). Fixed segments match case-insensitively, as ARM does. */
#include "router.h"

#include <ctype.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"

/* API_PREVIEW_ONLY: Microsoft.ContainerService resource types that only preview versions know. */
typedef enum { API_NONE, API_CONTAINER_SERVICE, API_PREVIEW_ONLY, API_FEATURES } api_rule;

typedef struct {
  gpd_route_id id;
  const char *template;
  const char *const *pattern; /* NULL-terminated segments; "{x}" are names */
  api_rule api;
  gpd_handler handlers[GPD_METHOD_COUNT];
} route;

#define SUB "subscriptions", "{sub}"
#define RG SUB, "resourceGroups", "{rg}"
#define CS "providers", "Microsoft.ContainerService"
#define CLUSTER RG, CS, "managedClusters", "{cluster}"
#define POOL CLUSTER, "agentPools", "{pool}"
#define MACHINE POOL, "machines", "{machine}"
#define FEATURES SUB, "providers", "Microsoft.Features", CS, "features"
#define T_SUB "/subscriptions/{subscriptionId}"
#define T_RG T_SUB "/resourceGroups/{resourceGroupName}"
#define T_CLUSTER T_RG "/providers/Microsoft.ContainerService/managedClusters/{resourceName}"
#define T_POOL T_CLUSTER "/agentPools/{agentPoolName}"
#define T_MACHINE T_POOL "/machines/{machineName}"
#define T_LOC T_SUB "/providers/Microsoft.ContainerService/locations/{location}"
#define T_FEATURES T_SUB "/providers/Microsoft.Features/providers/Microsoft.ContainerService/features"

static const char *const p_root[] = {NULL};
static const char *const p_ui[] = {"ui", NULL};
static const char *const p_ui_file[] = {"ui", "{file}", NULL};
static const char *const p_healthz[] = {"healthz", NULL};
static const char *const p_metrics[] = {"metrics", NULL};
static const char *const p_clusters_sub[] = {SUB, CS, "managedClusters", NULL};
static const char *const p_clusters_rg[] = {RG, CS, "managedClusters", NULL};
static const char *const p_cluster[] = {CLUSTER, NULL};
static const char *const p_pools[] = {CLUSTER, "agentPools", NULL};
static const char *const p_pool[] = {POOL, NULL};
static const char *const p_plan[] = {POOL, "plan", NULL};
static const char *const p_operation[] = {SUB, CS, "locations", "{loc}", "operations", "{op}", NULL};
static const char *const p_operation_result[] = {SUB, CS, "locations", "{loc}", "operationresults", "{op}", NULL};
static const char *const p_vm_sizes[] = {SUB, CS, "gpuVMSizes", NULL};
static const char *const p_vm_size[] = {SUB, CS, "gpuVMSizes", "{vmSize}", NULL};
static const char *const p_features[] = {FEATURES, NULL};
static const char *const p_feature[] = {FEATURES, "{feature}", NULL};
static const char *const p_register[] = {FEATURES, "{feature}", "register", NULL};
static const char *const p_unregister[] = {FEATURES, "{feature}", "unregister", NULL};
static const char *const p_machines[] = {POOL, "machines", NULL};
static const char *const p_machine[] = {MACHINE, NULL};
static const char *const p_machine_plan[] = {MACHINE, "plan", NULL};
static const char *const p_whatif[] = {POOL, "whatIf", NULL};
static const char *const p_abort[] = {POOL, "abort", NULL};

static const route routes[] = {
    /* the web console (ui.c): static files, open like /healthz */
    {GPD_ROUTE_UI_ROOT, "/", p_root, API_NONE, {[GPD_GET] = gpd_ui_root}},
    {GPD_ROUTE_UI, "/ui/", p_ui, API_NONE, {[GPD_GET] = gpd_ui_get}},
    {GPD_ROUTE_UI_FILE, "/ui/{file}", p_ui_file, API_NONE, {[GPD_GET] = gpd_ui_get}},
    {GPD_ROUTE_HEALTHZ, "/healthz", p_healthz, API_NONE, {[GPD_GET] = gpd_healthz}},
    {GPD_ROUTE_METRICS, "/metrics", p_metrics, API_NONE, {[GPD_GET] = gpd_metrics_get}},
    {GPD_ROUTE_CLUSTERS_SUB,
     T_SUB "/providers/Microsoft.ContainerService/managedClusters",
     p_clusters_sub,
     API_CONTAINER_SERVICE,
     {[GPD_GET] = gpd_cluster_list}},
    {GPD_ROUTE_CLUSTERS_RG,
     T_RG "/providers/Microsoft.ContainerService/managedClusters",
     p_clusters_rg,
     API_CONTAINER_SERVICE,
     {[GPD_GET] = gpd_cluster_list}},
    {GPD_ROUTE_CLUSTER,
     T_CLUSTER,
     p_cluster,
     API_CONTAINER_SERVICE,
     {[GPD_GET] = gpd_cluster_get,
      [GPD_PUT] = gpd_cluster_put,
      [GPD_PATCH] = gpd_cluster_patch,
      [GPD_DELETE] = gpd_cluster_delete}},
    {GPD_ROUTE_POOLS, T_CLUSTER "/agentPools", p_pools, API_CONTAINER_SERVICE, {[GPD_GET] = gpd_pool_list}},
    {GPD_ROUTE_POOL,
     T_POOL,
     p_pool,
     API_CONTAINER_SERVICE,
     {[GPD_GET] = gpd_pool_get, [GPD_PUT] = gpd_pool_put, [GPD_DELETE] = gpd_pool_delete}},
    {GPD_ROUTE_PLAN, T_POOL "/plan", p_plan, API_CONTAINER_SERVICE, {[GPD_GET] = gpd_plan_get}},
    {GPD_ROUTE_OPERATION,
     T_LOC "/operations/{operationId}",
     p_operation,
     API_CONTAINER_SERVICE,
     {[GPD_GET] = gpd_operation_get}},
    {GPD_ROUTE_OPERATION_RESULT,
     T_LOC "/operationresults/{operationId}",
     p_operation_result,
     API_CONTAINER_SERVICE,
     {[GPD_GET] = gpd_operation_result_get}},
    {GPD_ROUTE_GPU_VM_SIZES,
     T_SUB "/providers/Microsoft.ContainerService/gpuVMSizes",
     p_vm_sizes,
     API_CONTAINER_SERVICE,
     {[GPD_GET] = gpd_gpu_vm_size_list}},
    {GPD_ROUTE_GPU_VM_SIZE,
     T_SUB "/providers/Microsoft.ContainerService/gpuVMSizes/{vmSize}",
     p_vm_size,
     API_CONTAINER_SERVICE,
     {[GPD_GET] = gpd_gpu_vm_size_get}},
    {GPD_ROUTE_FEATURES, T_FEATURES, p_features, API_FEATURES, {[GPD_GET] = gpd_feature_list}},
    {GPD_ROUTE_FEATURE, T_FEATURES "/{featureName}", p_feature, API_FEATURES, {[GPD_GET] = gpd_feature_get}},
    {GPD_ROUTE_FEATURE_REGISTER,
     T_FEATURES "/{featureName}/register",
     p_register,
     API_FEATURES,
     {[GPD_POST] = gpd_feature_register}},
    {GPD_ROUTE_FEATURE_UNREGISTER,
     T_FEATURES "/{featureName}/unregister",
     p_unregister,
     API_FEATURES,
     {[GPD_POST] = gpd_feature_unregister}},
    {GPD_ROUTE_MACHINES, T_POOL "/machines", p_machines, API_PREVIEW_ONLY, {[GPD_GET] = gpd_machine_list}},
    {GPD_ROUTE_MACHINE,
     T_MACHINE,
     p_machine,
     API_PREVIEW_ONLY,
     {[GPD_GET] = gpd_machine_get, [GPD_PUT] = gpd_machine_put, [GPD_DELETE] = gpd_machine_delete}},
    {GPD_ROUTE_MACHINE_PLAN, T_MACHINE "/plan", p_machine_plan, API_PREVIEW_ONLY, {[GPD_GET] = gpd_machine_plan_get}},
    {GPD_ROUTE_POOL_WHATIF, T_POOL "/whatIf", p_whatif, API_PREVIEW_ONLY, {[GPD_POST] = gpd_pool_whatif}},
    {GPD_ROUTE_POOL_ABORT, T_POOL "/abort", p_abort, API_PREVIEW_ONLY, {[GPD_POST] = gpd_pool_abort}},
};
#define NROUTES (sizeof routes / sizeof routes[0])

static const char *const method_names[GPD_METHOD_COUNT] = {"GET", "PUT", "PATCH", "DELETE", "POST", "OTHER"};

gpd_method gpd_method_parse(const char *m) {
  for (int i = 0; i < GPD_OTHER; i++)
    if (strcmp(m, method_names[i]) == 0) return (gpd_method)i;
  return GPD_OTHER;
}

const char *gpd_method_name(gpd_method m) { return (unsigned)m < GPD_METHOD_COUNT ? method_names[m] : "OTHER"; }

const char *gpd_route_template(int id) {
  for (size_t i = 0; i < NROUTES; i++)
    if ((int)routes[i].id == id) return routes[i].template;
  return "unknown";
}

static const route *find_route(int id) {
  for (size_t i = 0; i < NROUTES; i++)
    if ((int)routes[i].id == id) return &routes[i];
  return NULL;
}

/* Splits the raw path into decoded segments. A segment that decodes to a NUL or another control
 * byte is replaced by "\x01", which no fixed segment and no name rule accepts. */
static bool split_path(gpd_request *req) {
  if (req->path[0] != '/' || !(req->segbuf = strdup(req->path))) return false;
  char *p = req->segbuf;
  p++;
  size_t len = strlen(p);
  if (len > 0 && p[len - 1] == '/') p[len - 1] = '\0'; /* one trailing slash is tolerated */
  if (!*p) return req->nseg == 0;
  while (p) {
    char *slash = strchr(p, '/');
    if (slash) *slash = '\0';
    if (!*p || req->nseg == GPD_MAX_SEGMENTS) return false;
    size_t n = MHD_http_unescape(p);
    bool bad = strlen(p) != n;
    for (size_t i = 0; i < n && !bad; i++)
      if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) bad = true;
    if (bad) strcpy(p, "\x01");
    req->seg[req->nseg++] = p;
    p = slash ? slash + 1 : NULL;
  }
  return true;
}

static bool match_pattern(gpd_request *req, const route *rt) {
  size_t i = 0;
  for (; rt->pattern[i]; i++) {
    if (i >= req->nseg) return false;
    const char *pat = rt->pattern[i];
    if (pat[0] == '{') continue;
    if (strcasecmp(pat, req->seg[i]) != 0) return false;
  }
  if (i != req->nseg) return false;
  for (i = 0; rt->pattern[i]; i++) {
    const char *pat = rt->pattern[i], *v = req->seg[i];
    if (strcmp(pat, "{sub}") == 0)
      req->sub = v;
    else if (strcmp(pat, "{rg}") == 0)
      req->rg = v;
    else if (strcmp(pat, "{cluster}") == 0)
      req->cluster = v;
    else if (strcmp(pat, "{pool}") == 0)
      req->pool = v;
    else if (strcmp(pat, "{machine}") == 0)
      req->machine = v;
    else if (strcmp(pat, "{loc}") == 0)
      req->location = v;
    else if (strcmp(pat, "{op}") == 0)
      req->op_id = v;
    else if (strcmp(pat, "{feature}") == 0)
      req->feature = v;
  }
  return true;
}

bool gpd_route_match(gpd_request *req, gpd_response *resp) {
  req->route = GPD_ROUTE_UNKNOWN;
  if (!split_path(req)) {
    gpd_resp_error(resp, 404, "NotFound", NULL, "No resource matches the path '%.200s'.", req->path);
    return false;
  }
  for (size_t i = 0; i < NROUTES; i++) {
    const route *rt = &routes[i];
    if (!match_pattern(req, rt)) {
      req->sub = req->rg = req->cluster = req->pool = req->machine = req->location = req->op_id = req->feature = NULL;
      continue;
    }
    req->route = rt->id;
    if (!rt->handlers[req->method]) {
      char allow[64] = "";
      for (int m = 0; m < GPD_OTHER; m++) {
        if (!rt->handlers[m]) continue;
        if (*allow) strcat(allow, ", ");
        strcat(allow, method_names[m]);
      }
      gpd_resp_error(resp, 405, "MethodNotAllowed", NULL,
                     "The method '%.16s' is not supported on this resource. Allowed: %s.", req->method_name, allow);
      gpd_resp_header(resp, "Allow", "%s", allow);
      return false;
    }
    return true;
  }
  gpd_resp_error(resp, 404, "NotFound", NULL,
                 "No resource type of gpupoold matches the path '%.200s'. Resource paths start with "
                 "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
                 "Microsoft.ContainerService/managedClusters.",
                 req->path);
  return false;
}

/* The resource type of a preview-only route, as ARM's error for an api-version names it. */
static const char *preview_type(int id) {
  return id == GPD_ROUTE_POOL_WHATIF  ? "managedClusters/agentPools/whatIf"
         : id == GPD_ROUTE_POOL_ABORT ? "managedClusters/agentPools/abort"
                                      : "managedClusters/agentPools/machines";
}

static bool check_api_version(gpd_request *req, gpd_response *resp, api_rule rule) {
  if (rule == API_NONE) return true;
  req->api_version = gpd_req_query(req, "api-version");
  if (!req->api_version || !*req->api_version) {
    gpd_resp_error(resp, 400, "MissingApiVersionParameter", NULL,
                   "The api-version query parameter (?api-version=) is required for all requests.");
    return false;
  }
  if (rule == API_FEATURES) {
    if (strcmp(req->api_version, GP_FEATURES_API_VERSION) == 0) return true;
    gpd_resp_error(resp, 400, "NoRegisteredProviderFound", NULL,
                   "No registered resource provider found for API version '%.64s' and type 'features' of namespace "
                   "'Microsoft.Features'. The supported api-versions are '" GP_FEATURES_API_VERSION "'.",
                   req->api_version);
    return false;
  }
  req->api = gp_api_version_group(req->api_version);
  if (rule == API_PREVIEW_ONLY && req->api != GP_API_UNKNOWN && req->api != GP_API_PREVIEW) {
    /* ARM's answer for a resource type an api-version does not have */
    gpd_resp_error(resp, 400, "NoRegisteredProviderFound", NULL,
                   "No registered resource provider found for API version '%.64s' and type '%s' of namespace "
                   "'Microsoft.ContainerService'. The supported api-versions are '%s'.",
                   req->api_version, preview_type(req->route), gp_api_versions_preview());
    return false;
  }
  if (req->api != GP_API_UNKNOWN) return true;
  gpd_resp_error(resp, 400, "NoRegisteredProviderFound", NULL,
                 "No registered resource provider found for API version '%.64s' of namespace "
                 "'Microsoft.ContainerService'. The supported api-versions are '%s'.",
                 req->api_version, gp_api_versions_supported());
  return false;
}

/* Pools and machines match case-insensitively: an existing one is found whatever casing the URL uses,
 * so the rule is checked on the name lowercased (at most max characters). */
static bool valid_lowercased(const char *name, size_t max, bool (*rule)(const char *)) {
  char lower[72];
  size_t n = strlen(name);
  if (n > max || n >= sizeof lower) return false;
  for (size_t i = 0; i <= n; i++)
    lower[i] = (char)tolower((unsigned char)name[i]);
  return rule(lower);
}

static bool check_names(gpd_request *req, gpd_response *resp) {
  if (req->sub && !gp_name_valid_subscription(req->sub)) {
    gpd_resp_error(resp, 400, "InvalidSubscriptionId", NULL,
                   "The provided subscription identifier '%.64s' is malformed or invalid. A subscription id is a "
                   "GUID such as 00000000-0000-0000-0000-000000000000.",
                   req->sub);
    return false;
  }
  if (req->rg && !gp_name_valid_resource_group(req->rg)) {
    gpd_resp_error(resp, 400, "InvalidResourceName", "resourceGroupName",
                   "Resource group name '%.100s' is not valid: use 1 to 90 letters, digits, '_', '-', '.', '(' or "
                   "')', not ending in '.'.",
                   req->rg);
    return false;
  }
  if (req->cluster && !gp_name_valid_cluster(req->cluster)) {
    gpd_resp_error(resp, 400, "InvalidResourceName", "resourceName",
                   "Managed cluster name '%.100s' is not valid: use 1 to 63 letters, digits, '-' and '_', starting "
                   "and ending with a letter or digit.",
                   req->cluster);
    return false;
  }
  if (req->pool) {
    if (!valid_lowercased(req->pool, GP_POOL_NAME_MAX, gp_name_valid_pool)) {
      gpd_resp_error(resp, 400, "InvalidResourceName", "agentPoolName",
                     "Agent pool name '%.100s' is not valid: use 1 to 12 lowercase letters and digits, starting "
                     "with a letter.",
                     req->pool);
      return false;
    }
  }
  if (req->machine) {
    if (!valid_lowercased(req->machine, 63, gp_name_valid_machine)) {
      gpd_resp_error(resp, 400, "InvalidResourceName", "machineName",
                     "Machine name '%.100s' is not valid: a machine is named after its Kubernetes node, an RFC 1123 "
                     "label of 1 to 63 letters, digits and '-', starting and ending with a letter or digit.",
                     req->machine);
      return false;
    }
  }
  return true;
}

void gpd_route_dispatch(gpd_request *req, gpd_response *resp) {
  const route *rt = find_route(req->route);
  if (!rt || !check_api_version(req, resp, rt->api) || !check_names(req, resp)) return;
  rt->handlers[req->method](req, resp);
}
