/* policy.h - validation and defaulting: the decision matrix of SPEC §4 and the rules of §5.
 *
 * Pure functions: a request and the stored state go in, the new state or every violation comes out.
 * The server, the CLI and the tests call exactly these. */
#ifndef GPUPOOL_POLICY_H
#define GPUPOOL_POLICY_H

#include <jansson.h>
#include <stdbool.h>

#include "gpupool/cluster.h"
#include "gpupool/error.h"
#include "gpupool/pool.h"

#define GP_LEGACY_TAG "EnableManagedGPUExperience"
#define GP_FEATURE_MANAGED_GPU "ManagedGPU"
#define GP_FEATURE_MANAGED_GPU_EXPERIENCE "ManagedGPUExperience"
#define GP_DEFAULT_GA_KUBERNETES_VERSION "1.36"

typedef struct {
  gp_phase phase;
  gp_k8s_version ga_version;           /* ga-kubernetes-version */
  bool feature_managed_gpu;            /* Microsoft.ContainerService/ManagedGPU is Registered */
  bool feature_managed_gpu_experience; /* Microsoft.ContainerService/ManagedGPUExperience is Registered */
  gp_api_group api;                    /* api-version of the request */
  /* The cluster the pool belongs to; NULL = none (offline, no --cluster). */
  const gp_cluster *cluster;
} gp_policy_context;

/* Defaults: preview phase, GA version 1.36, no features, newest preview api-version. */
void gp_policy_context_init(gp_policy_context *ctx);

/* Non-fatal advice produced while deciding (e.g. the legacy tag's deprecation). */
typedef struct {
  char **items;
  size_t count;
} gp_warnings;
void gp_warnings_free(gp_warnings *w);

/* Decides an agent pool PUT. existing NULL = create. req NULL = re-evaluate existing under ctx
 * (its cluster changed). Returns the new pool, or NULL with every violation in err. Deprecation
 * warnings (if w non-NULL) are appended to w. */
gp_pool *gp_policy_apply_pool(const gp_policy_context *ctx, const gp_pool_request *req, const gp_pool *existing,
                              gp_warnings *w, gp_error *err);

/* Result of a managed cluster PUT: the new cluster and the new state of every pool. */
typedef struct {
  gp_cluster *cluster;
  gp_pool **pools; /* for each pool: listed in the body first (in body order), then the others */
  bool *created;   /* pools[i] is new */
  bool *listed;    /* pools[i] was in agentPoolProfiles */
  size_t pool_count;
  gp_warnings warnings;
} gp_cluster_result;
void gp_cluster_result_free(gp_cluster_result *r);

/* Decides a managed cluster PUT: the cluster, its listed pools (created or updated under the same
 * rules as a pool PUT) and its other pools re-evaluated under the new default / version. Any
 * violation anywhere fails the whole request (nothing is half-applied). */
gp_cluster_result *gp_policy_apply_cluster(const gp_policy_context *ctx, const gp_cluster_request *req,
                                           const gp_cluster *existing, gp_pool *const *pools, size_t npools,
                                           gp_error *err);

/* Convenience for callers that start from JSON: parse + apply in one call. */
gp_pool *gp_pool_put(const gp_policy_context *ctx, const json_t *body, const gp_pool *existing, gp_warnings *w,
                     gp_error *err);

#endif
