/* plan_diff.h - the disruption class of a plan change: what moving a node from one plan to another
 * does to it (nothing, labels, a service restart, a drain, a reboot), with the list of changes that
 * make it so. One function, computed from the two plans alone: the node agent (whether to drain),
 * gpupoold's what-if (and the rollouts) and the offline CLI all call it, so they decide alike.
 * The class of each kind of change is in docs/decisions.md, "Disruption classes and what-if". */
#ifndef GPUPOOL_PLAN_DIFF_H
#define GPUPOOL_PLAN_DIFF_H

#include <jansson.h>
#include <stdbool.h>

#include "gpupool/enums.h"

/* The classes, in increasing disruption (a change's class is the highest of its parts). UNSET is
 * no class: a plan that is not a JSON object. */
typedef enum {
  GP_DISRUPTION_UNSET = 0,
  GP_DISRUPTION_NONE,     /* nothing on the node changes (explanations, the generation) */
  GP_DISRUPTION_IN_PLACE, /* node labels or taints only: set through the Kubernetes API */
  GP_DISRUPTION_RESTART,  /* a GPU service restarts (versions, args, components added or removed) */
  GP_DISRUPTION_DRAIN,    /* the GPUs must be idle: MIG layout, driver version, device plugin <-> DRA */
  GP_DISRUPTION_REBOOT    /* MIG mode on <-> off, driver installed <-> none, another machine */
} gp_disruption;

/* "None", "InPlace", "Restart", "Drain", "Reboot". */
extern const gp_enum_names gp_disruption_names;

/* The change from plan `from` to plan `to` on one node: a new object
 *   {"class": "<class>", "changes": [{"path", "from", "to", "class"}, ...]}
 * listing every member of the plans that differs, in the plan's order, each with its class; the
 * class is the highest of them ("None" with no change). from = NULL is a node that has applied no
 * plan yet: it runs nothing gpupool installs, so every component, label and taint of `to` is new
 * (the plans' identity members, vmSize, gpu, osType, osSKU, kubernetesVersion and generation, are
 * what the node is, and are not compared). The values in "from"/"to" are shared with the plans
 * (JSON null where a side has none). *cls (may be NULL) receives the class. NULL when a plan is
 * not a JSON object (*cls UNSET), or when out of memory. */
json_t *gp_plan_diff(const json_t *from, const json_t *to, gp_disruption *cls);

/* Only the class of gp_plan_diff (no list is built): GP_DISRUPTION_UNSET when a plan is not an
 * object. */
gp_disruption gp_plan_disruption(const json_t *from, const json_t *to);

/* Do two plans say the same, apart from their generation? (Then a pool update that produced b
 * from a stores no new generation: nothing reaches the nodes.) */
bool gp_plan_same_content(const json_t *a, const json_t *b);

#endif
