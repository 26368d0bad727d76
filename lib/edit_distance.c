/* edit_distance.c - Levenshtein distance without case, for the closest known VM sizes. */
#include "edit_distance.h"

#include <ctype.h>
#include <string.h>

size_t gp_edit_distance_ci(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  size_t row[GP_EDIT_DISTANCE_MAX_LEN + 1];
  if (la > GP_EDIT_DISTANCE_MAX_LEN || lb > GP_EDIT_DISTANCE_MAX_LEN) return (size_t)-1;
  /* one row of the table: row[j] = distance of a[0..i) and b[0..j) */
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0]; /* the cell above-left, before it is overwritten */
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
      size_t best = diag + cost;
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      diag = up;
      row[j] = best;
    }
  }
  return row[lb];
}
