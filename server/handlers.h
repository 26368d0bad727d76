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
/* 404 for the request's pool: ParentResourceNotFound when its cluster is missing too, else
 * ResourceNotFound (503 when the store fails). */
void gpd_pool_not_found(gpd_request *req, gpd_response *resp);
/* What a pool PUT body decides on the stored cluster and pool (existing NULL: a create), as the PUT
 * and the what-if both ask it: ctx receives the request's policy context, the body is parsed,
 * named by the URL (or the stored name) and the policy applied. The pool; or NULL with a refusal in
 * err (err->count or err->oom set), or with the answer already in resp (store failure, OOM). */
gp_pool *gpd_pool_decide(gpd_request *req, const json_t *body, const gp_cluster *cluster, const gp_pool *existing,
                         gp_policy_context *ctx, gp_warnings *warnings, gp_error *err, gpd_response *resp);
/* handlers_whatif.c */
void gpd_pool_whatif(gpd_request *req, gpd_response *resp);
/* handlers_rollout.c */
void gpd_pool_abort(gpd_request *req, gpd_response *resp);
/* handlers_machine.c */
void gpd_machine_get(gpd_request *req, gpd_response *resp);
void gpd_machine_put(gpd_request *req, gpd_response *resp);
void gpd_machine_delete(gpd_request *req, gpd_response *resp);
void gpd_machine_list(gpd_request *req, gpd_response *resp);
void gpd_machine_plan_get(gpd_request *req, gpd_response *resp);
/* Has the plan of the request's machine changed for an agent that holds the plan with ETag
 * if_none_match (NULL: holds none)? CHANGED (ref filled: what to send), UNCHANGED (ref->etag is
 * the current ETag: 304), NOT_READY (the pool has no plan yet: the 404 PlanNotReady is in resp) or
 * FAILED (the answer, 404/503, is in resp). ref->wake_key is the long-poll key (longpoll.h) whose
 * wake may change the answer: the pool's plan key while the machine follows the pool's generation
 * (target 0, or no plan yet), else the machine's own key (GPD_CHANGE_MACHINE, sent when its target
 * moves). One indexed read; the long-poll of GET …/machines/{m}/plan?waitSeconds=N calls it again
 * whenever it is woken. */
typedef enum { GPD_PLAN_CHANGED, GPD_PLAN_UNCHANGED, GPD_PLAN_NOT_READY, GPD_PLAN_FAILED } gpd_plan_check;
typedef struct {
  char etag[64];      /* "<generation>-<16 hex digits>", unquoted */
  int64_t generation; /* the machine's target generation */
  char pool_key[400];
  char wake_key[420];
} gpd_machine_plan_ref;
gpd_plan_check gpd_machine_plan_check(gpd_request *req, const char *if_none_match, gpd_machine_plan_ref *ref,
                                      gpd_response *resp);
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
