/* resource.h - what the resource handlers share: store keys and ARM ids, the policy context of a
 * request (phase, GA version, the subscription's features), GET views with the server's fields
 * (id, eTag, provisioningState), preconditions (If-Match / If-None-Match), new operations with their
 * Azure-AsyncOperation / Location headers, and paging. */
#ifndef GPUPOOLD_RESOURCE_H
#define GPUPOOLD_RESOURCE_H

#include "request.h"
#include "store/store.h"

#define GPD_KEY_MAX 400
#define GPD_ID_MAX 512
#define GPD_WRITE_ATTEMPTS 8 /* a write that lost a race is decided again on fresh state */

/* One try of a write: DONE (answered, whatever the outcome) or RETRY (lost a race: decide again). */
enum { GPD_DONE = 0, GPD_RETRY };
typedef int (*gpd_write_attempt)(gpd_request *r, gpd_response *resp, const void *arg);
/* Runs attempt until it is DONE; after GPD_WRITE_ATTEMPTS lost races answers 409 Conflict with
 * "<what> kept changing ...; retry". */
void gpd_write_retrying(gpd_request *r, gpd_response *resp, gpd_write_attempt attempt, const void *arg,
                        const char *what);

/* Lowercase store keys of the request's cluster and pool. */
void gpd_cluster_key(const gpd_request *r, char *out, size_t size);
void gpd_pool_key(const gpd_request *r, char *out, size_t size);
void gpd_machine_key(const gpd_request *r, char *out, size_t size);
/* ARM ids with the casing given. */
void gpd_cluster_id(const char *sub, const char *rg, const char *cluster, char *out, size_t size);

/* Reads one row. True with *found set, or false with 503 in resp when the store fails. */
bool gpd_load_row(const gpd_request *r, gpd_res_kind kind, const char *key, gpd_resource *row, bool *found,
                  gpd_response *resp);

/* Server settings plus the subscription's registered features. False (503 in resp) if the store fails. */
bool gpd_policy_context(const gpd_request *r, gp_policy_context *ctx, gpd_response *resp);

/* A stored document as the core's struct; NULL with a 500 in resp when it cannot be read back. */
gp_pool *gpd_pool_load(const gpd_resource *row, gpd_response *resp);
gp_cluster *gpd_cluster_load(const gpd_resource *row, gpd_response *resp);
/* Every pool of a cluster, in key order. False (error in resp) on failure. */
bool gpd_cluster_pools(const gpd_request *r, const char *cluster_key, gpd_resource **rows, size_t *n,
                       gpd_response *resp);

/* The stored pools of a cluster, as rows and as core structs (same order). */
typedef struct {
  gpd_resource *rows;
  gp_pool **pools;
  size_t n;
} gpd_pool_set;
bool gpd_pool_set_load(const gpd_request *r, const char *cluster_key, gpd_pool_set *ps, gpd_response *resp);
void gpd_pool_set_free(gpd_pool_set *ps);
/* The GET view of a stored cluster row with its current pools; NULL with the error in resp. */
json_t *gpd_stored_cluster_view(const gpd_request *r, const gpd_resource *row, gp_api_group api, gpd_response *resp);

/* The GET views: the core's JSON for the api group plus id, properties.eTag and provisioningState. */
json_t *gpd_pool_view(const gpd_resource *row, const gp_pool *p, gp_api_group api);
json_t *gpd_cluster_view(const gpd_resource *row, const gp_cluster *c, const gpd_resource *pool_rows,
                         gp_pool *const *pools, size_t npools, gp_api_group api);
/* Sets a pool view's properties.status.nodes (preview api-versions: the machines by state, and how
 * many of `count` have not registered). False on OOM. */
bool gpd_pool_view_set_nodes(json_t *view, const gp_machine_counts *c, int64_t count);
/* properties.status.rollout of a pool as stored now (Idle when it never had one); NULL with
 * *store_failed, or on OOM. */
json_t *gpd_pool_rollout_status(const gpd_server *srv, const char *pool_key, const gp_machine_counts *counts,
                                bool *store_failed);
/* Adds it to a view that has properties.status (gpd_pool_view_set_nodes first). False on OOM. */
bool gpd_pool_view_set_rollout(json_t *view, const json_t *rollout);
/* A pool's GET view as JSON text (malloc'd), from the view cache when the row and (preview) the
 * counts of its machines have not changed since it was rendered. NULL with the error in resp. */
char *gpd_pool_view_text(const gpd_request *r, const gpd_resource *row, gp_api_group api, size_t *len,
                         gpd_response *resp);
/* Effective management mode of a pool for metrics: Managed, Unmanaged or None. */
const char *gpd_pool_management_mode(const gp_pool *p);

/* ARM's conditional request table (reference/arm-protocol.md) for a write on a resource whose
 * current etag is etag (NULL: it does not exist). False with 412 in resp when it must not proceed. */
bool gpd_preconditions(const gpd_request *r, const char *etag, gpd_response *resp);
/* Does an If-Match / If-None-Match list name this etag ("*" names any)? */
bool gpd_etag_listed(const char *list, const char *etag);
/* 409 OperationNotAllowed when a resource is in a non-terminal provisioning state. */
bool gpd_not_busy(const gpd_resource *row, const char *what, gpd_response *resp);

/* A new operation: the strings it points to live in the struct or with the caller. */
typedef struct {
  char id[GPD_UUID_LEN + 1];
  char location[64];
  char sub[64];
  gpd_operation op;
} gpd_new_op;
void gpd_new_op_init(gpd_new_op *n, const gpd_request *r, gpd_res_kind kind, const char *res_key, const char *res_id,
                     gpd_op_kind k, const char *location, const char *parent);
/* Azure-AsyncOperation (+ Location when location is true) and Retry-After for an operation. */
void gpd_async_headers(const gpd_request *r, gpd_response *resp, const char *location, const char *op_id,
                       bool with_location);
/* Retry-After of an operation due at due_ms: the whole seconds until then, rounded up, at most
 * --retry-after; 0 once it is due (it ends within milliseconds then), so clients poll at once. */
int gpd_retry_after(const gpd_server *srv, int64_t due_ms);
/* Warning: 299 headers for the core's deprecation warnings. */
void gpd_warning_headers(gpd_response *resp, const gp_warnings *w);

/* ?waitSeconds=N of a long-poll (longpoll.h): how long a request whose If-None-Match still matches
 * may be held, a whole number 0-60 (0 when absent). False with 400 InvalidParameter in resp. */
bool gpd_wait_seconds(const gpd_request *r, gpd_response *resp, int *out);
/* Paging: $top (1-1000, default 100) and $skiptoken. False with 400 in resp when malformed. */
bool gpd_page_params(const gpd_request *r, gpd_response *resp, size_t *top, char *after, size_t after_size);
/* The text of {"value": [items…], "nextLink": …}, nextLink when more rows follow last_key. NULL on OOM. */
char *gpd_page_text(const gpd_request *r, char *const *items, const size_t *lens, size_t n, size_t top,
                    const char *last_key, bool more, size_t *len);

#endif
