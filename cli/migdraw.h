/* migdraw.h - pictures of MIG layouts in the terminal: a GPU as a row of its 8 memory slices with
 * the GPU instances drawn over the slices they occupy, numbered in the order `nvidia-smi mig -cgi`
 * creates them. Plain text (colour only when asked for: on a terminal without NO_COLOR). The facts
 * (geometry, placements, profile names and ids) all come from the core's catalog and placement
 * search; this file only draws them. */
#ifndef GPUPOOL_CLI_MIGDRAW_H
#define GPUPOOL_CLI_MIGDRAW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "gpupool/mig.h"

/* The longest list of profiles the CLI reads: more than a GPU holds, to show why. */
#define CLI_MIG_MAX_LIST 16

/* The layout of each GPU of a plan (its migLayout), with the -cgi order. False (nothing drawn)
 * when the plan has no MIG layout. */
bool mig_draw_plan(FILE *f, const json_t *plan, bool color);

/* A layout given as profiles (a pool's migProfiles) on one GPU of gpu_model: placed and drawn
 * when the placement search accepts it; otherwise the most of it that fits is drawn and each
 * instance left out is named with the reason it cannot be placed. Returns whether it fits. */
bool mig_draw_profiles(FILE *f, const char *gpu_model, const gp_mig_profile *profiles, size_t n, bool color);

/* Where each profile of gpu_model may be placed: one row per profile, a box at each legal start. */
void mig_draw_geometry(FILE *f, const char *gpu_model, bool color);

/* Parses "MIG3g,MIG2g,..." (any case) into out (room for CLI_MIG_MAX_LIST); false on an unknown
 * name or a longer list. */
bool mig_parse_list(const char *text, gp_mig_profile *out, size_t *n);

#endif
