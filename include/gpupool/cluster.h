/* cluster.h - the managed cluster model: location, Kubernetes version, the cluster-level default
 * management mode (preview) and the agentPoolProfiles a PUT may carry. */
#ifndef GPUPOOL_CLUSTER_H
#define GPUPOOL_CLUSTER_H

#include <jansson.h>
#include <stdbool.h>

#include "gpupool/api_version.h"
#include "gpupool/enums.h"
#include "gpupool/error.h"
#include "gpupool/k8s_version.h"
#include "gpupool/pool.h"

#define GP_DEFAULT_KUBERNETES_VERSION "1.35"

typedef struct gp_cluster_request {
  char *name;
  char *location;
  char *kubernetes_version;
  char *dns_prefix;
  json_t *tags;
  json_t *extra;                /* unknown members of properties */
  json_t *extra_top;            /* unknown top-level members */
  gp_mgmt_mode management_mode; /* properties.gpuProfile.nvidia.managementMode, UNSET when absent */
  bool clear_management_mode;   /* it was null: the cluster default is removed */
  gp_pool_request **pools;      /* properties.agentPoolProfiles */
  size_t pool_count;
  bool has_pools;
} gp_cluster_request;

typedef struct gp_cluster {
  char *name;
  char *location;
  char *kubernetes_version; /* declared; NULL → GP_DEFAULT_KUBERNETES_VERSION */
  gp_k8s_version k8s;       /* effective */
  char *dns_prefix;
  json_t *tags, *extra, *extra_top;
  gp_mgmt_mode management_mode; /* declared cluster default, UNSET when none */
} gp_cluster;

/* Parses a managed cluster PUT body. `location` is required only when require_location. */
gp_cluster_request *gp_cluster_request_parse(const json_t *body, gp_api_group api, bool require_location,
                                             gp_error *err);
void gp_cluster_request_free(gp_cluster_request *r);

gp_cluster *gp_cluster_clone(const gp_cluster *c);
void gp_cluster_free(gp_cluster *c);

/* The cluster as a GET shows it: pools (may be NULL/0) become properties.agentPoolProfiles. */
json_t *gp_cluster_to_json(const gp_cluster *c, gp_pool *const *pools, size_t npools, gp_api_group api);
json_t *gp_cluster_to_store(const gp_cluster *c);
gp_cluster *gp_cluster_from_store(const json_t *doc, gp_error *err);

#endif
