/* test_mig.c - MIG placement: the layout examples of reference/mig-geometry.md, the fill counts of
 * gpuInstanceProfile, and a property test: for every multiset of the five profiles with up to 7
 * instances, gp_mig_place agrees with an independent brute-force search. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "gpupool/gpupool.h"

#define M1 GP_MIG_1G
#define M2 GP_MIG_2G
#define M3 GP_MIG_3G
#define M4 GP_MIG_4G
#define M7 GP_MIG_7G

static bool fits(const gp_mig_profile *p, size_t n) { return gp_mig_place(p, n, NULL); }

static void test_layout_examples(void **state) {
  (void)state;
  gp_mig_profile a[] = {M3, M2, M1, M1};
  assert_true(fits(a, 4));
  gp_mig_profile b[] = {M4, M2, M1};
  assert_true(fits(b, 3));
  gp_mig_profile c[] = {M2, M2, M2, M1};
  assert_true(fits(c, 4));
  gp_mig_profile d[] = {M3, M3, M1};
  assert_false(fits(d, 3)); /* 7 compute slices, still cannot be placed */
  gp_mig_profile e[] = {M2, M2, M2, M2};
  assert_false(fits(e, 4));
  gp_mig_profile f[] = {M1, M1, M1, M1, M1, M1, M1, M1};
  assert_false(fits(f, 8));
  gp_mig_profile g[] = {M7, M1};
  assert_false(fits(g, 2));
}

static void test_placement_is_legal(void **state) {
  (void)state;
  gp_mig_profile a[] = {M3, M2, M1, M1};
  gp_mig_layout l;
  assert_true(gp_mig_place(a, 4, &l));
  assert_int_equal(l.count, 4);
  unsigned used = 0;
  int last = -1;
  for (size_t i = 0; i < l.count; i++) {
    const gp_mig_geometry *g = gp_catalog_mig_geometry(l.inst[i].profile);
    assert_non_null(g);
    assert_true(g->start_mask & (1u << l.inst[i].start)); /* a legal start */
    unsigned bits = ((1u << g->memory_slices) - 1u) << l.inst[i].start;
    assert_int_equal(used & bits, 0); /* no overlap */
    used |= bits;
    assert_true(l.inst[i].start > last); /* sorted by start: the creation order */
    last = l.inst[i].start;
  }
  /* the example of the reference: 3g at 4-7, 2g at 0-1, 1g at 2 and 3 */
  assert_int_equal(l.inst[0].profile, M2);
  assert_int_equal(l.inst[0].start, 0);
  assert_int_equal(l.inst[3].profile, M3);
  assert_int_equal(l.inst[3].start, 4);
}

static void test_fill_counts(void **state) {
  (void)state;
  /* SPEC §5: MIG1g x7, MIG2g x3, MIG3g x2, MIG4g x1, MIG7g x1 */
  const struct {
    gp_mig_profile p;
    size_t n;
  } want[] = {{M1, 7}, {M2, 3}, {M3, 2}, {M4, 1}, {M7, 1}};
  for (size_t i = 0; i < 5; i++) {
    gp_mig_layout l;
    assert_true(gp_mig_fill(want[i].p, &l));
    assert_int_equal(l.count, want[i].n);
    for (size_t k = 0; k < l.count; k++)
      assert_int_equal(l.inst[k].profile, want[i].p);
  }
}

static void test_rejects_bad_input(void **state) {
  (void)state;
  gp_mig_profile none[] = {GP_MIG_UNSET};
  assert_false(fits(none, 1));
  assert_false(fits(NULL, 0));
  gp_mig_profile bad[] = {(gp_mig_profile)42};
  assert_false(fits(bad, 1));
}

/* ---- brute force: every instance tries every start of the reference table, no pruning ---- */

static const struct {
  gp_mig_profile p;
  int compute, memory;
  int starts[8];
  int nstarts;
} ref[] = {
    /* reference/mig-geometry.md, typed in independently of data/mig-placements.csv */
    {M1, 1, 1, {0, 1, 2, 3, 4, 5, 6}, 7},
    {M2, 2, 2, {0, 2, 4}, 3},
    {M3, 3, 4, {0, 4}, 2},
    {M4, 4, 4, {0}, 1},
    {M7, 7, 8, {0}, 1},
};

static int ref_index(gp_mig_profile p) {
  for (int i = 0; i < 5; i++)
    if (ref[i].p == p) return i;
  return -1;
}

static bool brute(const gp_mig_profile *p, size_t n, size_t k, int used_mem[8]) {
  if (k == n) return true;
  int r = ref_index(p[k]);
  for (int s = 0; s < ref[r].nstarts; s++) {
    int st = ref[r].starts[s], ok = 1;
    for (int m = st; m < st + ref[r].memory; m++)
      if (m > 7 || used_mem[m]) ok = 0;
    if (!ok) continue;
    for (int m = st; m < st + ref[r].memory; m++)
      used_mem[m] = 1;
    bool found = brute(p, n, k + 1, used_mem);
    for (int m = st; m < st + ref[r].memory; m++)
      used_mem[m] = 0;
    if (found) return true;
  }
  return false;
}

static bool brute_fits(const gp_mig_profile *p, size_t n) {
  int compute = 0, used[8] = {0};
  for (size_t i = 0; i < n; i++)
    compute += ref[ref_index(p[i])].compute;
  return compute <= 7 && brute(p, n, 0, used);
}

static int checked, fitting;

static void every_multiset(gp_mig_profile *cur, size_t n, int from) {
  if (n > 0) {
    bool want = brute_fits(cur, n);
    bool got = fits(cur, n);
    if (want != got) {
      char buf[64] = "";
      for (size_t i = 0; i < n; i++)
        strcat(buf, gp_enum_name(&gp_mig_profile_names, cur[i]));
      fail_msg("multiset %s: gp_mig_place says %d, brute force says %d", buf, got, want);
    }
    checked++;
    fitting += want;
  }
  if (n == 7) return;
  for (int p = from; p < 5; p++) {
    cur[n] = ref[p].p;
    every_multiset(cur, n + 1, p);
  }
}

static void test_property_every_multiset(void **state) {
  (void)state;
  gp_mig_profile cur[7];
  checked = fitting = 0;
  every_multiset(cur, 0, 0);
  /* multisets of 5 kinds with 1..7 elements: C(5+7,7) - 1 = 791 */
  assert_int_equal(checked, 791);
  assert_true(fitting > 10 && fitting < checked); /* both verdicts occur */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout_examples),
      cmocka_unit_test(test_placement_is_legal),
      cmocka_unit_test(test_fill_counts),
      cmocka_unit_test(test_rejects_bad_input),
      cmocka_unit_test(test_property_every_multiset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
