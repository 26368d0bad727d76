/* gpupool.h - the public API of libgpupool, the pure core of gpupool: model, catalog, policy and
 * plan. No I/O, no globals that change, no clock: structs in, structs or errors out. */
#ifndef GPUPOOL_GPUPOOL_H
#define GPUPOOL_GPUPOOL_H

#include "gpupool/api_version.h"
#include "gpupool/body.h"
#include "gpupool/catalog.h"
#include "gpupool/cluster.h"
#include "gpupool/enums.h"
#include "gpupool/error.h"
#include "gpupool/health.h"
#include "gpupool/k8s_version.h"
#include "gpupool/machine.h"
#include "gpupool/mig.h"
#include "gpupool/mig_layouts.h"
#include "gpupool/names.h"
#include "gpupool/plan.h"
#include "gpupool/plan_diff.h"
#include "gpupool/policy.h"
#include "gpupool/pool.h"
#include "gpupool/version.h"

#endif
