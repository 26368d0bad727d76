/* mig.c - MIG placement search over memory slices.
 *
 * Depth-first search: instances are placed biggest first (fewest start choices first prunes the
 * tree early); each tries every legal start whose memory slices are free. At most 7 instances and
 * 8 slices keep the search tiny. Identical profiles are placed at increasing starts so that equal
 * instances are not permuted. */
#include "gpupool/mig.h"

#include <stdlib.h>
#include <string.h>

#include "gpupool/catalog.h"

typedef struct {
  const gp_mig_geometry *geo[GP_MIG_MAX_PER_GPU];
  gp_mig_profile prof[GP_MIG_MAX_PER_GPU];
  int start[GP_MIG_MAX_PER_GPU];
  size_t n;
} search;

static bool place(search *s, size_t k, unsigned used) {
  if (k == s->n) return true;
  const gp_mig_geometry *g = s->geo[k];
  unsigned run = (1u << g->memory_slices) - 1u;
  int first = (k > 0 && s->prof[k - 1] == s->prof[k]) ? s->start[k - 1] + 1 : 0;
  for (int st = first; st < GP_MIG_MEMORY_SLICES; st++) {
    if (!(g->start_mask & (1u << st))) continue;
    if (st + g->memory_slices > GP_MIG_MEMORY_SLICES) continue;
    unsigned bits = run << st;
    if (used & bits) continue;
    s->start[k] = st;
    if (place(s, k + 1, used | bits)) return true;
  }
  return false;
}

static int by_start(const void *a, const void *b) {
  const gp_mig_instance *x = a, *y = b;
  return x->start - y->start;
}

bool gp_mig_place(const gp_mig_profile *profiles, size_t n, gp_mig_layout *out) {
  search s;
  int compute = 0;
  if (n == 0 || n > GP_MIG_MAX_PER_GPU) return false;
  memset(&s, 0, sizeof s);
  s.n = n;
  /* Order biggest profile first (insertion sort keeps it simple for n <= 7). */
  for (size_t i = 0; i < n; i++) {
    const gp_mig_geometry *g = gp_catalog_mig_geometry(profiles[i]);
    if (!g) return false;
    compute += g->compute_slices;
    size_t j = i;
    while (j > 0 && s.prof[j - 1] < profiles[i]) {
      s.prof[j] = s.prof[j - 1];
      s.geo[j] = s.geo[j - 1];
      j--;
    }
    s.prof[j] = profiles[i];
    s.geo[j] = g;
  }
  if (compute > GP_MIG_COMPUTE_SLICES) return false;
  if (!place(&s, 0, 0)) return false;
  if (out) {
    out->count = n;
    for (size_t i = 0; i < n; i++) {
      out->inst[i].profile = s.prof[i];
      out->inst[i].start = s.start[i];
    }
    qsort(out->inst, n, sizeof out->inst[0], by_start);
  }
  return true;
}

bool gp_mig_fill(gp_mig_profile p, gp_mig_layout *out) {
  const gp_mig_geometry *g = gp_catalog_mig_geometry(p);
  gp_mig_profile list[GP_MIG_MAX_PER_GPU];
  if (!g || g->max_instances < 1 || g->max_instances > GP_MIG_MAX_PER_GPU) return false;
  for (int i = 0; i < g->max_instances; i++)
    list[i] = p;
  return gp_mig_place(list, (size_t)g->max_instances, out);
}
