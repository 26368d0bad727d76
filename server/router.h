/* router.h - ARM URL routing (SPEC §8): path templates, allowed methods, api-version rules per
 * resource type, and the name checks every route shares. */
#ifndef GPUPOOLD_ROUTER_H
#define GPUPOOLD_ROUTER_H

#include "request.h"

typedef enum {
  GPD_ROUTE_UNKNOWN = 0,
  GPD_ROUTE_HEALTHZ,
  GPD_ROUTE_METRICS,
  GPD_ROUTE_CLUSTERS_SUB,
  GPD_ROUTE_CLUSTERS_RG,
  GPD_ROUTE_CLUSTER,
  GPD_ROUTE_POOLS,
  GPD_ROUTE_POOL,
  GPD_ROUTE_PLAN,
  GPD_ROUTE_OPERATION,
  GPD_ROUTE_OPERATION_RESULT,
  GPD_ROUTE_FEATURES,
  GPD_ROUTE_FEATURE,
  GPD_ROUTE_FEATURE_REGISTER,
  GPD_ROUTE_FEATURE_UNREGISTER,
  GPD_ROUTE_MACHINES,
  GPD_ROUTE_MACHINE,
  GPD_ROUTE_MACHINE_PLAN,
  GPD_ROUTE_UI_ROOT, /* the web console (ui.c) */
  GPD_ROUTE_UI,
  GPD_ROUTE_UI_FILE,
  GPD_ROUTE_GPU_VM_SIZES, /* the GPU VM catalog (handlers_catalog.c) */
  GPD_ROUTE_GPU_VM_SIZE,
  GPD_ROUTE_POOL_WHATIF,
  GPD_ROUTE_POOL_ABORT,
  GPD_ROUTE_COUNT
} gpd_route_id;

/* Splits and decodes req->path, then finds the route and fills the names. Returns false (with the
 * error in resp) when the path matches no route or the method is not allowed. */
bool gpd_route_match(gpd_request *req, gpd_response *resp);
/* Checks api-version and names, then runs the route's handler. */
void gpd_route_dispatch(gpd_request *req, gpd_response *resp);
/* The path template of a route, for metrics ("unknown" for GPD_ROUTE_UNKNOWN). */
const char *gpd_route_template(int route);

gpd_method gpd_method_parse(const char *m);
const char *gpd_method_name(gpd_method m);

#endif
