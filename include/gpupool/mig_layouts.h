/* mig_layouts.h - what can go on one MIG GPU, for people choosing a layout: every multiset of
 * profiles the placement search accepts (the valid `migProfiles` of a Mixed pool), and for a layout
 * that cannot be placed, the most of it that can (so a tool can show why the rest does not fit).
 * Both are answers of gp_mig_place (mig.h); nothing here is listed by hand. */
#ifndef GPUPOOL_MIG_LAYOUTS_H
#define GPUPOOL_MIG_LAYOUTS_H

#include <stdbool.h>
#include <stddef.h>

#include "gpupool/enums.h"
#include "gpupool/mig.h"

typedef struct {
  size_t count;
  gp_mig_profile profiles[GP_MIG_MAX_PER_GPU]; /* biggest profile first */
  bool full;                                   /* no other instance of any profile can be added */
} gp_mig_combo;

/* The number of multisets of 1 to 7 MIG profiles that can be placed on one GPU (every MIG-capable
 * model has the same geometry). Up to max of them are written to out (out may be NULL with max 0),
 * ordered by their profiles, biggest first (MIG7g; MIG4g, MIG3g; …; MIG1g×7). */
size_t gp_mig_valid_layouts(gp_mig_combo *out, size_t max);

/* Places as many of the n profiles as can go on one GPU together: the placement with the most
 * instances, then the most memory slices in use, then the one that leaves out the profiles listed
 * last. *placed gets that layout (sorted by start); left (room for n) gets the profiles left out,
 * in the order given. Returns how many were left out: 0 when gp_mig_place accepts them all. */
size_t gp_mig_place_most(const gp_mig_profile *profiles, size_t n, gp_mig_layout *placed, gp_mig_profile *left);

#endif
