/* handlers.h - the resource handlers the router calls, one file per resource type. */
#ifndef GPUPOOLD_HANDLERS_H
#define GPUPOOLD_HANDLERS_H

#include "request.h"

typedef void (*gpd_handler)(gpd_request *req, gpd_response *resp);

/* handlers_cluster.c */
void gpd_cluster_get(gpd_request *req, gpd_response *resp);
void gpd_cluster_put(gpd_request *req, gpd_response *resp);
void gpd_cluster_patch(gpd_request *req, gpd_response *resp);
void gpd_cluster_delete(gpd_request *req, gpd_response *resp);
void gpd_cluster_list(gpd_request *req, gpd_response *resp);
/* handlers_pool.c */
void gpd_pool_get(gpd_request *req, gpd_response *resp);
void gpd_pool_put(gpd_request *req, gpd_response *resp);
void gpd_pool_delete(gpd_request *req, gpd_response *resp);
void gpd_pool_list(gpd_request *req, gpd_response *resp);
void gpd_plan_get(gpd_request *req, gpd_response *resp);
/* handlers_operation.c */
void gpd_operation_get(gpd_request *req, gpd_response *resp);
void gpd_operation_result_get(gpd_request *req, gpd_response *resp);
/* handlers_feature.c */
void gpd_feature_list(gpd_request *req, gpd_response *resp);
void gpd_feature_get(gpd_request *req, gpd_response *resp);
void gpd_feature_register(gpd_request *req, gpd_response *resp);
void gpd_feature_unregister(gpd_request *req, gpd_response *resp);
/* handlers_catalog.c */
void gpd_gpu_vm_size_list(gpd_request *req, gpd_response *resp);
void gpd_gpu_vm_size_get(gpd_request *req, gpd_response *resp);
/* ui.c */
void gpd_ui_root(gpd_request *req, gpd_response *resp);
void gpd_ui_get(gpd_request *req, gpd_response *resp);
/* handlers_system.c */
void gpd_healthz(gpd_request *req, gpd_response *resp);
void gpd_metrics_get(gpd_request *req, gpd_response *resp);

#endif
