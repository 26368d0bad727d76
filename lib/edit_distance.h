/* edit_distance.h - how far apart two names are, for "did you mean" suggestions (internal). */
#ifndef GPUPOOL_EDIT_DISTANCE_H
#define GPUPOOL_EDIT_DISTANCE_H

#include <stddef.h>

/* Names longer than this are not compared (no suggestion is better than a slow one). */
#define GP_EDIT_DISTANCE_MAX_LEN 200

/* Levenshtein distance of a and b, ignoring ASCII case: the fewest single-character insertions,
 * deletions and substitutions that turn one into the other. (size_t)-1 when either is longer than
 * GP_EDIT_DISTANCE_MAX_LEN. No allocation. */
size_t gp_edit_distance_ci(const char *a, const char *b);

#endif
