/* rollout.h - what a rollout of a new plan across a pool's machines decides: the pool's
 * upgradeSettings (parsed and checked as AKS names them) and, from the machines as they stand, which
 * machines move next and what halts the rollout.
 *
 * Pure: the caller (gpupoold's rollout controller) reads the machines and the clock and writes what
 * is decided; nothing here reads or writes anything else. */
#ifndef GPUPOOL_ROLLOUT_H
#define GPUPOOL_ROLLOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpupool/error.h"
#include "gpupool/machine.h"
#include "gpupool/plan_diff.h"
#include "gpupool/pool.h"

#define GP_UPGRADE_DRAIN_TIMEOUT_DEFAULT 30 /* minutes */
#define GP_UPGRADE_DRAIN_TIMEOUT_MAX 1440
#define GP_UPGRADE_SOAK_MAX 30
#define GP_UPGRADE_HALT_GRACE_MINUTES 10 /* a moved machine has drainTimeout + this to come back Conformant */

/* A pool's properties.upgradeSettings as the rollouts use them. */
typedef struct {
  int64_t max_unavailable; /* a count, or a percent when percent */
  bool percent;
  int drain_timeout_minutes;
  int soak_minutes;
} gp_upgrade_settings;

/* The defaults: maxUnavailable "1", drainTimeoutInMinutes 30, nodeSoakDurationInMinutes 0. */
void gp_upgrade_settings_default(gp_upgrade_settings *s);
/* Checks properties.upgradeSettings (v may be NULL or null: the defaults) at path (e.g.
 * "properties.upgradeSettings") into out; every violation is added to err (InvalidParameter, target
 * the member's path) and false returned. Members other than the three are left alone (stored and
 * echoed by the caller). */
bool gp_upgrade_settings_parse(const json_t *v, const char *path, gp_upgrade_settings *out, gp_error *err);
/* The rollout settings a stored pool holds (checked when it was written): its upgradeSettings, or the
 * defaults when it has none or they no longer parse. */
gp_upgrade_settings gp_pool_upgrade_settings(const gp_pool *p);
/* maxUnavailable resolved against the number of registered machines: a percent is rounded up; never
 * below 1 (a percent of a few machines still moves one). */
int64_t gp_upgrade_max_unavailable(const gp_upgrade_settings *s, size_t machines);

/* One machine of the pool as the rollout sees it. */
typedef struct {
  const char *name;       /* lower-case: the order of the batches */
  gp_machine_state state; /* as gp_machine_state_of decides it now */
  int64_t applied;        /* appliedGeneration */
  int64_t target;         /* targetGeneration (0 already resolved to the pool's generation) */
  gp_disruption cls;      /* of its move from the plan it applied to the rollout's plan */
  bool in_batch;          /* one of the current batch's machines */
  int64_t moved_ms;       /* in_batch: when it was given the new generation */
} gp_rollout_machine;

typedef enum { GP_HALT_NONE = 0, GP_HALT_UNHEALTHY, GP_HALT_TIMEOUT } gp_halt_reason;

typedef enum {
  GP_ROLLOUT_WAIT = 0, /* nothing to do now: the batch is moving, or soaking, or the budget is spent */
  GP_ROLLOUT_MOVE,     /* move[] get the new generation now */
  GP_ROLLOUT_HALT,     /* halted[] stopped the rollout: nothing moves any more */
  GP_ROLLOUT_DONE      /* every machine has the new generation and the batch is Conformant */
} gp_rollout_verdict;

typedef struct {
  int64_t to_generation;
  int64_t max_unavailable; /* resolved (gp_upgrade_max_unavailable) */
  int drain_timeout_minutes, soak_minutes;
  int64_t minute_ms;     /* how long a minute is (60000; tests make it shorter) */
  int64_t batch_done_ms; /* when the current batch was first seen Conformant (0: not yet, or no batch) */
  int64_t now_ms;
} gp_rollout_input;

/* What gp_rollout_step decided. The index arrays are the caller's, each of room for n. */
typedef struct {
  gp_rollout_verdict verdict;
  size_t *move, nmove;     /* MOVE: machines to give the new generation (free moves, then the batch) */
  size_t nbatch;           /* MOVE: how many of move[] (the last ones) are the new batch */
  size_t *halted, nhalted; /* HALT: the machines that halted it */
  gp_halt_reason *why;     /* HALT: why each of halted[] (same index) */
  bool batch_done;         /* the current batch is Conformant now (the caller records batch_done_ms) */
  size_t updated, pending; /* Conformant at the new generation; the others */
} gp_rollout_decision;

/* Decides the next step of a rollout to in->to_generation over m[0..n):
 *  - a batch machine Unhealthy, or not Conformant at the new generation drain timeout + 10 minutes
 *    after it moved, halts it (every such machine named); nothing moves then;
 *  - machines not yet at the new generation whose move is None or InPlace, or that are unavailable
 *    (Unhealthy, NotReporting), move at once and spend no budget;
 *  - the others move in batches when the current batch is all Conformant at the new generation and
 *    the soak passed since: min(budget, remaining) of them in name order (bytewise), the budget being
 *    max_unavailable minus the machines at the new generation still moving (not Conformant there,
 *    available, class Restart or above: a machine that registered during the rollout counts);
 *  - DONE when every machine has the new generation and the batch is Conformant.
 * d's arrays must be set by the caller; false (d untouched) when one is missing. */
bool gp_rollout_step(const gp_rollout_machine *m, size_t n, const gp_rollout_input *in, gp_rollout_decision *d);

#endif
