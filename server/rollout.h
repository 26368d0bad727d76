/* rollout.h - the rollout controller: a pool update whose new plan must reach registered machines
 * keeps its operation InProgress while the machines are moved to the new generation in batches
 * (gp_rollout_step decides; each batch is written with the rollout's state in one transaction of
 * finish_operations), and the pool view's properties.status.rollout.
 *
 * It runs inside the reconciler, on the operation it holds: the lease on the operation is what
 * makes one replica, and only one, move a pool's machines; a replica that dies leaves the operation,
 * and so the rollout as last written, to the next one that claims it. */
#ifndef GPUPOOLD_ROLLOUT_H
#define GPUPOOLD_ROLLOUT_H

#include <jansson.h>

#include "gpupool/pool.h"
#include "server.h"

/* What carrying out an operation came to (the reconciler's), owning what r points to. */
typedef struct {
  gpd_op_result r; /* r.status NULL: nothing to write now */
  char *error, *plan, *doc;
  char **keys;
  size_t nkeys;
  bool again; /* the operation goes on: run it again at again_ms (a rollout) */
  int64_t again_ms;
  bool trouble; /* the store failed: retried later */
  bool forget;  /* the operation was ended by someone else (an abort): nothing to write, let it go */
} gpd_outcome;

void gpd_outcome_clear(gpd_outcome *o);

/* How often a progressing rollout looks at its machines when nothing wakes it: a tenth of a
 * rollout minute, between 50 ms and 1 s. */
int64_t gpd_rollout_tick_ms(const gpd_server *srv);

/* The pool's operation op (pool row `row`, its pool p) as far as rollouts are concerned. True when
 * it decided the outcome: the operation belongs to a progressing rollout (the next step), or a PUT
 * whose plan is unchanged resumes a Halted or Aborted rollout. held_lease_until: when this
 * replica's lease on op runs out. */
bool gpd_rollout_continue(gpd_server *srv, const gpd_operation *op, const gpd_resource *row, const gp_pool *p,
                          bool plan_unchanged, int64_t held_lease_until, gpd_outcome *o);
/* A new plan (plan_text, generation) for a pool with registered machines: starts the rollout (the
 * plan stored, the machines that followed the pool pinned to the old generation, the rollout row
 * Progressing), in o. False when the pool has no machine (nothing to roll out) or the store failed
 * (o->trouble). */
bool gpd_rollout_begin(gpd_server *srv, const gpd_operation *op, const gpd_resource *row, const json_t *plan,
                       int64_t generation, gpd_outcome *o);

/* properties.status.rollout of a pool (r NULL: it never had one: Idle). Once Completed, every
 * machine's target is the rollout's generation, so updated and pending are the pool's Conformant
 * machines and the others, from counts (NULL: as the rollout last wrote them): machines moved at
 * once (None, InPlace, unavailable) are not waited for, and come back after it ended. NULL on OOM. */
json_t *gpd_rollout_status(const gpd_rollout *r, const gp_machine_counts *counts);

#endif
