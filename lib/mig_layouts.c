/* mig_layouts.c - enumerating valid MIG layouts and placing the most of an invalid one (see
 * mig_layouts.h). Five profiles and at most seven instances make 791 multisets and 2^7 subsets:
 * both searches simply ask gp_mig_place about each. */
#include "gpupool/mig_layouts.h"

#include <string.h>

#include "gpupool/catalog.h"

/* Multisets as counts per profile, visited biggest profile first with the most instances first. */
typedef struct {
  gp_mig_combo *out;
  size_t max, total;
} visit;

static size_t to_list(const int counts[GP_MIG_PROFILE_COUNT + 1], gp_mig_profile *list) {
  size_t n = 0;
  for (int p = GP_MIG_7G; p >= GP_MIG_1G; p--)
    for (int k = 0; k < counts[p]; k++)
      list[n++] = (gp_mig_profile)p;
  return n;
}

static bool can_add_any(const gp_mig_profile *list, size_t n) {
  gp_mig_profile more[GP_MIG_MAX_PER_GPU + 1];
  if (n >= GP_MIG_MAX_PER_GPU) return false;
  memcpy(more, list, n * sizeof *list);
  for (int p = GP_MIG_1G; p <= GP_MIG_7G; p++) {
    more[n] = (gp_mig_profile)p;
    if (gp_mig_place(more, n + 1, NULL)) return true;
  }
  return false;
}

static void walk(visit *v, int counts[GP_MIG_PROFILE_COUNT + 1], int profile, int room) {
  if (profile < GP_MIG_1G) {
    gp_mig_profile list[GP_MIG_MAX_PER_GPU];
    size_t n = to_list(counts, list);
    if (n == 0 || !gp_mig_place(list, n, NULL)) return;
    if (v->total < v->max) {
      gp_mig_combo *c = &v->out[v->total];
      memset(c, 0, sizeof *c);
      c->count = n;
      memcpy(c->profiles, list, n * sizeof *list);
      c->full = !can_add_any(list, n);
    }
    v->total++;
    return;
  }
  for (int k = room; k >= 0; k--) {
    counts[profile] = k;
    walk(v, counts, profile - 1, room - k);
  }
  counts[profile] = 0;
}

size_t gp_mig_valid_layouts(gp_mig_combo *out, size_t max) {
  visit v = {out, out ? max : 0, 0};
  int counts[GP_MIG_PROFILE_COUNT + 1] = {0};
  walk(&v, counts, GP_MIG_7G, GP_MIG_MAX_PER_GPU);
  return v.total;
}

static int memory_slices(const gp_mig_layout *l) {
  int m = 0;
  for (size_t i = 0; i < l->count; i++) {
    const gp_mig_geometry *g = gp_catalog_mig_geometry(l->inst[i].profile);
    m += g ? g->memory_slices : 0;
  }
  return m;
}

size_t gp_mig_place_most(const gp_mig_profile *profiles, size_t n, gp_mig_layout *placed, gp_mig_profile *left) {
  gp_mig_layout best = {0};
  unsigned best_kept = 0;
  int best_mem = -1;
  if (n > GP_MIG_MAX_PER_GPU) n = GP_MIG_MAX_PER_GPU;
  /* kept = the bit set of the profiles placed, bit i for profiles[i]. Among equally good subsets the
   * smallest kept comes first, and it is the one that keeps the profiles given first. */
  for (unsigned kept = 0; kept < (1u << n); kept++) {
    gp_mig_profile sub[GP_MIG_MAX_PER_GPU];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
      if (kept & (1u << i)) sub[k++] = profiles[i];
    gp_mig_layout l = {0};
    if (k > 0 && !gp_mig_place(sub, k, &l)) continue;
    int mem = memory_slices(&l);
    if (best_mem < 0 || l.count > best.count || (l.count == best.count && mem > best_mem)) {
      best = l;
      best_mem = mem;
      best_kept = kept;
    }
  }
  if (placed) *placed = best;
  size_t nleft = 0;
  for (size_t i = 0; i < n; i++)
    if (!(best_kept & (1u << i))) {
      if (left) left[nleft] = profiles[i];
      nleft++;
    }
  return nleft;
}
