/* policy_internal.h - helpers shared by the pool and cluster policies (internal). */
#ifndef GPUPOOL_POLICY_INTERNAL_H
#define GPUPOOL_POLICY_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "gpupool/policy.h"

/* How to register the preview feature, in gpupool's own words (CLI command and REST call): error
 * messages never name an `az` command, which would act on real Azure. */
#define GPP_REGISTER_FEATURE_HINT                                                                                      \
  "Register the feature first: gpupool feature register --name " GP_FEATURE_MANAGED_GPU                                \
  " (REST: POST /subscriptions/{subscriptionId}/providers/Microsoft.Features/providers/"                               \
  "Microsoft.ContainerService/features/" GP_FEATURE_MANAGED_GPU "/register?api-version=2021-07-01), then retry."

/* Appends msg to w once (NULL w: ignored). A warning that cannot be stored sets err->oom: a
 * decision is never returned without the advice that goes with it. */
void gpp_warn(gp_warnings *w, const char *msg, gp_error *err);
/* Does a pool's tags carry EnableManagedGPUExperience=true (key and value in any case)? */
bool gpp_legacy_tag(const json_t *tags);
/* Why the legacy tag did nothing, when an earlier rule of the default (the cluster's default, the GA
 * version) decided a pool's mode: the warning of the PUT and of the plan. */
const char *gpp_legacy_tag_ignored(gp_source decided_by);

#endif
