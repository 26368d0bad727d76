/* mig.h - MIG layouts on one GPU: a placement search over the 8 memory slices (SPEC §5).
 *
 * A layout is valid only when every instance gets a legal start position at once, with no two
 * instances sharing a memory slice and at most 7 compute slices in use; adding up slices is not
 * enough (MIG3g,MIG3g,MIG1g uses 7 compute slices and still cannot be placed). */
#ifndef GPUPOOL_MIG_H
#define GPUPOOL_MIG_H

#include <stdbool.h>
#include <stddef.h>

#include "gpupool/enums.h"

#define GP_MIG_MAX_PER_GPU 7
#define GP_MIG_COMPUTE_SLICES 7
#define GP_MIG_MEMORY_SLICES 8

typedef struct {
  gp_mig_profile profile;
  int start; /* first memory slice */
} gp_mig_instance;

typedef struct {
  size_t count;
  gp_mig_instance inst[GP_MIG_MAX_PER_GPU]; /* sorted by start: the order to create them in */
} gp_mig_layout;

/* Places the given instances on one GPU. Returns true and fills out (if non-NULL) when a legal
 * placement exists; false otherwise (also for more than 7 instances or an unknown profile). */
bool gp_mig_place(const gp_mig_profile *profiles, size_t n, gp_mig_layout *out);

/* The layout `gpuInstanceProfile` gives: the profile as many times as fits on one GPU. */
bool gp_mig_fill(gp_mig_profile p, gp_mig_layout *out);

#endif
