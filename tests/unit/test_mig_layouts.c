/* test_mig_layouts.c - the catalog of valid MIG layouts (gp_mig_valid_layouts) and the partial
 * placement that explains a refused layout (gp_mig_place_most). gp_mig_place itself is checked
 * against a brute force in test_mig.c; here every multiset is visited again by nested loops and the
 * list must hold exactly the placeable ones, once each, with `full` right. */
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

static gp_mig_combo all[1024];
static size_t nall;

static int setup(void **state) {
  (void)state;
  nall = gp_mig_valid_layouts(all, sizeof all / sizeof all[0]);
  return nall <= sizeof all / sizeof all[0] ? 0 : -1;
}

/* Index of the combo with these counts per profile, or -1. */
static int find(const int counts[6]) {
  for (size_t i = 0; i < nall; i++) {
    int c[6] = {0};
    for (size_t k = 0; k < all[i].count; k++)
      c[all[i].profiles[k]]++;
    if (memcmp(c, counts, sizeof c) == 0) return (int)i;
  }
  return -1;
}

static void test_exactly_the_placeable_multisets(void **state) {
  (void)state;
  size_t placeable = 0;
  int c[6] = {0};
  for (c[M7] = 0; c[M7] <= 7; c[M7]++)
    for (c[M4] = 0; c[M7] + c[M4] <= 7; c[M4]++)
      for (c[M3] = 0; c[M7] + c[M4] + c[M3] <= 7; c[M3]++)
        for (c[M2] = 0; c[M7] + c[M4] + c[M3] + c[M2] <= 7; c[M2]++)
          for (c[M1] = 0; c[M7] + c[M4] + c[M3] + c[M2] + c[M1] <= 7; c[M1]++) {
            gp_mig_profile list[7];
            size_t n = 0;
            for (int p = M1; p <= M7; p++)
              for (int k = 0; k < c[p]; k++)
                list[n++] = (gp_mig_profile)p;
            bool fits = n > 0 && gp_mig_place(list, n, NULL);
            int at = find(c);
            if (fits) {
              placeable++;
              assert_true(at >= 0);
              /* full: no profile can be added */
              bool more = false;
              for (int p = M1; p <= M7 && n < 7; p++) {
                list[n] = (gp_mig_profile)p;
                more = more || gp_mig_place(list, n + 1, NULL);
              }
              assert_int_equal(all[at].full, !more);
            } else {
              assert_int_equal(at, -1);
            }
          }
  assert_int_equal(nall, placeable); /* and so each one once */
  assert_true(nall > 10);
}

static void test_order_and_examples(void **state) {
  (void)state;
  /* biggest profile first within a combo, and the list starts with the biggest layouts */
  for (size_t i = 0; i < nall; i++)
    for (size_t k = 1; k < all[i].count; k++)
      assert_true(all[i].profiles[k - 1] >= all[i].profiles[k]);
  assert_int_equal(all[0].count, 1);
  assert_int_equal(all[0].profiles[0], M7);
  assert_true(all[0].full);
  assert_int_equal(all[nall - 1].count, 1);
  assert_int_equal(all[nall - 1].profiles[0], M1);
  int a[6] = {0, 2, 1, 1, 0, 0}; /* 3g+2g+1g+1g: the reference's example */
  assert_true(find(a) >= 0);
  assert_true(all[find(a)].full);
  int b[6] = {0, 1, 0, 2, 0, 0}; /* 3g+3g+1g: 7 compute slices, no room */
  assert_int_equal(find(b), -1);
  int d[6] = {0, 7, 0, 0, 0, 0};
  assert_true(all[find(d)].full);
  int e[6] = {0, 0, 0, 1, 0, 0}; /* a lone 3g leaves room */
  assert_false(all[find(e)].full);
  /* a NULL list only counts */
  assert_int_equal(gp_mig_valid_layouts(NULL, 0), nall);
}

static void test_place_most(void **state) {
  (void)state;
  gp_mig_layout l;
  gp_mig_profile left[7];
  gp_mig_profile a[] = {M3, M3, M1};
  assert_int_equal(gp_mig_place_most(a, 3, &l, left), 1);
  assert_int_equal(left[0], M1);
  assert_int_equal(l.count, 2);
  assert_int_equal(l.inst[0].start, 0);
  assert_int_equal(l.inst[1].start, 4);
  /* the same count of instances: the one using more memory slices stays */
  gp_mig_profile b[] = {M1, M7};
  assert_int_equal(gp_mig_place_most(b, 2, &l, left), 1);
  assert_int_equal(left[0], M1);
  assert_int_equal(l.inst[0].profile, M7);
  /* equal choices: the profile given last is left out */
  gp_mig_profile c[] = {M2, M2, M2, M2};
  assert_int_equal(gp_mig_place_most(c, 4, &l, left), 1);
  assert_int_equal(l.count, 3);
  gp_mig_profile d[] = {M4, M3, M3};
  assert_int_equal(gp_mig_place_most(d, 3, &l, left), 1);
  assert_int_equal(left[0], M3);
  assert_int_equal(l.inst[0].profile, M4);
  /* a layout that fits leaves nothing out and is gp_mig_place's */
  gp_mig_profile e[] = {M3, M2, M1, M1};
  gp_mig_layout want;
  assert_true(gp_mig_place(e, 4, &want));
  assert_int_equal(gp_mig_place_most(e, 4, &l, NULL), 0);
  assert_int_equal(l.count, want.count);
  for (size_t i = 0; i < l.count; i++) {
    assert_int_equal(l.inst[i].profile, want.inst[i].profile);
    assert_int_equal(l.inst[i].start, want.inst[i].start);
  }
  /* nothing at all */
  assert_int_equal(gp_mig_place_most(e, 0, &l, left), 0);
  assert_int_equal(l.count, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exactly_the_placeable_multisets),
      cmocka_unit_test(test_order_and_examples),
      cmocka_unit_test(test_place_most),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
