/* pool.h - the agent pool model: a parsed PUT body (gp_pool_request) and the stored pool
 * (gp_pool: what was declared, the effective values and where they came from).
 *
 * JSON in and out goes through jansson. JSON values are immutable once parsed: pools, requests and
 * the JSON the core returns share unchanged sub-values (labels, tags, unknown properties) by
 * reference count instead of copying them, so callers must treat nested values as read-only. Which GPU fields exist
 * depends on the api-version (gp_api_group): a body may only use the fields of its version, a response shows only them.
 */
#ifndef GPUPOOL_POOL_H
#define GPUPOOL_POOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "gpupool/api_version.h"
#include "gpupool/catalog.h"
#include "gpupool/enums.h"
#include "gpupool/error.h"
#include "gpupool/k8s_version.h"

/* Longest migProfiles list accepted by the parser; layouts of more than 7 fail placement. */
#define GP_MAX_MIG_PROFILES 16
#define GP_POOL_NAME_MAX 12

/* GPU settings of a pool. In a request or a declaration, UNSET/0 means "not given". */
typedef struct {
  gp_driver driver;
  gp_driver_type driver_type;
  gp_mgmt_mode management_mode; /* gpuProfile.nvidia.managementMode */
  gp_driver_mode driver_mode;
  gp_mig_strategy mig_strategy;
  gp_mig_profile instance_profile; /* properties.gpuInstanceProfile */
  size_t mig_profile_count;        /* properties.gpuProfile.nvidia.migProfiles; 0 = absent */
  gp_mig_profile mig_profiles[GP_MAX_MIG_PROFILES];
} gp_gpu_settings;

/* Fields a request sets to null (gp_pool_request.cleared): null removes a declaration. On the
 * fields fixed at creation (driver, driverType, gpuInstanceProfile, migProfiles) it is a change the
 * policy refuses once they hold a value. */
enum {
  GP_CLEAR_DRIVER = 1u << 0,
  GP_CLEAR_DRIVER_TYPE = 1u << 1,
  GP_CLEAR_MANAGEMENT_MODE = 1u << 2,
  GP_CLEAR_DRIVER_MODE = 1u << 3,
  GP_CLEAR_MIG_STRATEGY = 1u << 4,
  GP_CLEAR_INSTANCE_PROFILE = 1u << 5,
  GP_CLEAR_MIG_PROFILES = 1u << 6,
  GP_CLEAR_ORCHESTRATOR_VERSION = 1u << 7,
  GP_CLEAR_UPGRADE_SETTINGS = 1u << 8 /* the pool's rollout settings go back to the defaults */
};

/* A parsed agent pool PUT body (or one entry of a cluster's agentPoolProfiles). Absent fields are
 * NULL / UNSET / has_count false; fields sent as null are in `cleared`. */
typedef struct gp_pool_request {
  char *name;
  char *vm_size;
  bool has_count;
  int64_t count;
  gp_os_type os_type;
  gp_os_sku os_sku;
  gp_pool_mode pool_mode; /* properties.mode: System or User */
  char *orchestrator_version;
  json_t *node_labels; /* object of strings */
  json_t *node_taints; /* array of strings */
  json_t *tags;        /* object of strings */
  json_t *extra;       /* properties gpupool does not model, echoed back unchanged */
  json_t *extra_top;   /* top-level members other than name/id/type/properties */
  gp_gpu_settings gpu;
  unsigned cleared; /* GP_CLEAR_* bits */
  /* The parser recorded violations (in its gp_error) for fields it then left out, fields that decide
   * nothing else (count, mode, labels, taints, unknown members under gpuProfile): the policy still
   * judges the rest, so that every violation is listed, and refuses the request. */
  bool invalid;
  char *path; /* JSON path prefix of the properties ("properties" or "properties.agentPoolProfiles[2]") */
} gp_pool_request;

/* The stored agent pool. */
typedef struct gp_pool {
  char *name;
  char *vm_size;          /* as the user spelled it at creation */
  const gp_vm_size *size; /* catalog entry; NULL for CPU-only sizes */
  int64_t count;
  gp_os_type os_type;
  gp_os_sku os_sku;
  gp_pool_mode pool_mode;     /* properties.mode: System or User */
  char *orchestrator_version; /* declared; NULL = follows the cluster */
  gp_k8s_version k8s;         /* effective */
  json_t *node_labels, *node_taints, *tags, *extra, *extra_top;
  gp_gpu_settings declared;  /* what the user declared: GET shows these in the writable fields */
  gp_gpu_settings effective; /* what applies: GET shows them in the read-only current* fields */
  gp_source src_driver, src_management_mode, src_driver_mode, src_mig_strategy;
  bool legacy_tag;         /* managed through the deprecated EnableManagedGPUExperience tag */
  bool legacy_tag_ignored; /* the tag is there and counts, but the cluster default or the GA version decided */
} gp_pool;

/* Parses an agent pool PUT body ({"properties":{...}}). NULL with violations in err on bad input
 * that leaves nothing to judge; a request marked `invalid` (violations in err too) when only
 * independent fields were bad. Every type, enum and size is checked; nothing is trusted. */
gp_pool_request *gp_pool_request_parse(const json_t *body, gp_api_group api, gp_error *err);
/* Parses a flat pool object (an agentPoolProfiles entry) whose fields sit at `path`. */
gp_pool_request *gp_pool_request_parse_flat(const json_t *obj, gp_api_group api, const char *path, gp_error *err);
void gp_pool_request_free(gp_pool_request *r);

gp_pool *gp_pool_clone(const gp_pool *p);
void gp_pool_free(gp_pool *p);

/* The pool's `properties` as a GET in api group `api` shows them (no server fields). */
json_t *gp_pool_properties_json(const gp_pool *p, gp_api_group api);
/* {"name","type","properties"} as a GET shows it (the server adds id and eTag). */
json_t *gp_pool_to_json(const gp_pool *p, gp_api_group api);

/* Lossless storage form, independent of api-versions; round-trips through gp_pool_from_store. */
json_t *gp_pool_to_store(const gp_pool *p);
gp_pool *gp_pool_from_store(const json_t *doc, gp_error *err);

/* True when the pool is a GPU pool of the given vendor. */
bool gp_pool_is_gpu(const gp_pool *p);

#endif
