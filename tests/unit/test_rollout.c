/* test_rollout.c - the rollouts' core: upgradeSettings parsing (defaults, counts, percents rounded
 * up, the refused "0"), and gp_rollout_step on hand-made fleets: batches of exactly
 * min(budget, remaining) in name order, free moves for None/InPlace and unavailable machines, the
 * budget spent by machines still moving (a late registration included), the soak, the halts (an
 * Unhealthy batch machine, a timeout at drain timeout + 10 minutes, each named) and the end. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "gpupool/rollout.h"

#define MIN 60000

static json_t *parse(const char *text) {
  json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
  if (!v) fail_msg("bad test JSON: %s", text);
  return v;
}

static bool settings(const char *text, gp_upgrade_settings *s, size_t *nerr) {
  json_t *v = text ? parse(text) : NULL;
  gp_error e;
  gp_error_init(&e);
  bool ok = gp_upgrade_settings_parse(v, "properties.upgradeSettings", s, &e);
  *nerr = e.count;
  gp_error_clear(&e);
  json_decref(v);
  return ok;
}

static void test_settings(void **state) {
  (void)state;
  gp_upgrade_settings s;
  size_t nerr;
  assert_true(settings(NULL, &s, &nerr));
  assert_int_equal(s.max_unavailable, 1);
  assert_false(s.percent);
  assert_int_equal(s.drain_timeout_minutes, 30);
  assert_int_equal(s.soak_minutes, 0);
  assert_int_equal(gp_upgrade_max_unavailable(&s, 6), 1);
  assert_true(
      settings("{\"maxUnavailable\":\"2\",\"drainTimeoutInMinutes\":1,\"nodeSoakDurationInMinutes\":30}", &s, &nerr));
  assert_int_equal(gp_upgrade_max_unavailable(&s, 6), 2);
  assert_int_equal(s.drain_timeout_minutes, 1);
  assert_int_equal(s.soak_minutes, 30);
  assert_true(settings("{\"maxUnavailable\":\"25%\"}", &s, &nerr));
  assert_true(s.percent);
  assert_int_equal(gp_upgrade_max_unavailable(&s, 6), 2); /* 1.5 rounded up */
  assert_int_equal(gp_upgrade_max_unavailable(&s, 8), 2); /* exactly 2 */
  assert_int_equal(gp_upgrade_max_unavailable(&s, 9), 3); /* 2.25 rounded up */
  assert_int_equal(gp_upgrade_max_unavailable(&s, 1), 1);
  assert_int_equal(gp_upgrade_max_unavailable(&s, 0), 1);
  assert_true(settings("{\"maxUnavailable\":\"100%\",\"maxSurge\":\"0\"}", &s, &nerr));
  assert_int_equal(gp_upgrade_max_unavailable(&s, 7), 7);
  assert_true(settings("null", &s, &nerr));
  /* refused, each violation counted */
  const char *bad[] = {
      "{\"maxUnavailable\":\"0\"}",         "{\"maxUnavailable\":\"0%\"}",         "{\"maxUnavailable\":2}",
      "{\"maxUnavailable\":\"101%\"}",      "{\"maxUnavailable\":\"-1\"}",         "{\"maxUnavailable\":\"\"}",
      "{\"maxUnavailable\":\"%\"}",         "{\"maxUnavailable\":\"2 \"}",         "{\"drainTimeoutInMinutes\":0}",
      "{\"drainTimeoutInMinutes\":1441}",   "{\"drainTimeoutInMinutes\":\"5\"}",   "{\"nodeSoakDurationInMinutes\":31}",
      "{\"nodeSoakDurationInMinutes\":-1}", "{\"nodeSoakDurationInMinutes\":1.5}", "[]"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (settings(bad[i], &s, &nerr) || nerr != 1) fail_msg("accepted or miscounted: %s (%zu)", bad[i], nerr);
  }
  assert_false(
      settings("{\"maxUnavailable\":\"0\",\"drainTimeoutInMinutes\":0,\"nodeSoakDurationInMinutes\":99}", &s, &nerr));
  assert_int_equal(nerr, 3);
}

/* A fleet: names given, everyone Conformant at generation 1, class Restart to generation 2. */
typedef struct {
  gp_rollout_machine m[16];
  size_t n;
  size_t move[16], halted[16];
  gp_halt_reason why[16];
  gp_rollout_decision d;
  gp_rollout_input in;
} fleet;

static void fleet_init(fleet *f, const char *const *names, size_t n, int64_t max_unavailable) {
  memset(f, 0, sizeof *f);
  f->n = n;
  for (size_t i = 0; i < n; i++)
    f->m[i] = (gp_rollout_machine){names[i], GP_MACHINE_CONFORMANT, 1, 1, GP_DISRUPTION_RESTART, false, 0};
  f->d.move = f->move;
  f->d.halted = f->halted;
  f->d.why = f->why;
  f->in = (gp_rollout_input){.to_generation = 2,
                             .max_unavailable = max_unavailable,
                             .drain_timeout_minutes = 30,
                             .minute_ms = MIN,
                             .now_ms = 1000000};
}

static gp_rollout_verdict step(fleet *f) {
  assert_true(gp_rollout_step(f->m, f->n, &f->in, &f->d));
  return f->d.verdict;
}

/* What the controller does with a MOVE: the moved get generation 2, the batch is the new batch. */
static void apply_moves(fleet *f) {
  for (size_t i = 0; i < f->n; i++)
    f->m[i].in_batch = false;
  for (size_t k = 0; k < f->d.nmove; k++) {
    gp_rollout_machine *m = &f->m[f->d.move[k]];
    m->target = 2;
    m->state = GP_MACHINE_APPLYING;
    if (k >= f->d.nmove - f->d.nbatch) {
      m->in_batch = true;
      m->moved_ms = f->in.now_ms;
    }
  }
  f->in.batch_done_ms = 0;
}

static void arrive(fleet *f, size_t i) {
  f->m[i].applied = 2;
  f->m[i].state = GP_MACHINE_CONFORMANT;
}

static void test_batches_in_name_order(void **state) {
  (void)state;
  static const char *const names[] = {"n5", "n1", "n3", "n0", "n4", "n2"};
  fleet f;
  fleet_init(&f, names, 6, 2);
  const char *expect[3][2] = {{"n0", "n1"}, {"n2", "n3"}, {"n4", "n5"}};
  for (int b = 0; b < 3; b++) {
    assert_int_equal(step(&f), GP_ROLLOUT_MOVE);
    assert_int_equal(f.d.nmove, 2);
    assert_int_equal(f.d.nbatch, 2);
    assert_string_equal(f.m[f.d.move[0]].name, expect[b][0]);
    assert_string_equal(f.m[f.d.move[1]].name, expect[b][1]);
    assert_int_equal(f.d.updated, (size_t)(2 * b));
    apply_moves(&f);
    size_t a = f.d.move[0], c = f.d.move[1];
    /* nothing more moves while the batch is out, and one back of two is not enough */
    assert_int_equal(step(&f), GP_ROLLOUT_WAIT);
    arrive(&f, a);
    assert_int_equal(step(&f), GP_ROLLOUT_WAIT);
    assert_false(f.d.batch_done);
    /* applied but not yet Conformant (drifted: not uncordoned yet) is not back */
    f.m[c].applied = 2;
    f.m[c].state = GP_MACHINE_DRIFTED;
    assert_int_equal(step(&f), GP_ROLLOUT_WAIT);
    arrive(&f, c);
  }
  assert_int_equal(step(&f), GP_ROLLOUT_DONE);
  assert_int_equal(f.d.updated, 6);
  assert_int_equal(f.d.pending, 0);
}

static void test_remaining_smaller_than_budget(void **state) {
  (void)state;
  static const char *const names[] = {"a", "b", "c"};
  fleet f;
  fleet_init(&f, names, 3, 2);
  assert_int_equal(step(&f), GP_ROLLOUT_MOVE);
  assert_int_equal(f.d.nbatch, 2);
  apply_moves(&f);
  arrive(&f, 0);
  arrive(&f, 1);
  assert_int_equal(step(&f), GP_ROLLOUT_MOVE);
  assert_int_equal(f.d.nbatch, 1); /* min(budget 2, remaining 1) */
  assert_string_equal(f.m[f.d.move[0]].name, "c");
}

static void test_free_moves(void **state) {
  (void)state;
  static const char *const names[] = {"a", "b", "c", "d", "e"};
  fleet f;
  fleet_init(&f, names, 5, 1);
  f.m[1].cls = GP_DISRUPTION_NONE;
  f.m[2].cls = GP_DISRUPTION_IN_PLACE;
  f.m[3].state = GP_MACHINE_NOT_REPORTING;
  f.m[4].state = GP_MACHINE_UNHEALTHY;
  assert_int_equal(step(&f), GP_ROLLOUT_MOVE);
  assert_int_equal(f.d.nmove, 5); /* four free, and a batch of one */
  assert_int_equal(f.d.nbatch, 1);
  assert_string_equal(f.m[f.d.move[4]].name, "a");
  /* a tag change: every machine None, all at once, whatever the budget */
  fleet_init(&f, names, 5, 1);
  for (size_t i = 0; i < 5; i++)
    f.m[i].cls = GP_DISRUPTION_NONE;
  assert_int_equal(step(&f), GP_ROLLOUT_MOVE);
  assert_int_equal(f.d.nmove, 5);
  assert_int_equal(f.d.nbatch, 0);
  apply_moves(&f);
  assert_int_equal(step(&f), GP_ROLLOUT_DONE); /* free moves are not waited for */
}

static void test_budget_spent_by_late_machine(void **state) {
  (void)state;
  static const char *const names[] = {"a", "b", "c", "late"};
  fleet f;
  fleet_init(&f, names, 4, 2);
  /* "late" registered during the rollout: it follows the new generation, has applied nothing */
  f.m[3] = (gp_rollout_machine){"late", GP_MACHINE_APPLYING, 0, 2, GP_DISRUPTION_REBOOT, false, 0};
  assert_int_equal(step(&f), GP_ROLLOUT_MOVE);
  assert_int_equal(f.d.nbatch, 1); /* budget 2 - 1 moving */
  assert_string_equal(f.m[f.d.move[0]].name, "a");
  /* once it is back, the budget is whole again */
  fleet_init(&f, names, 4, 2);
  f.m[3] = (gp_rollout_machine){"late", GP_MACHINE_CONFORMANT, 2, 2, GP_DISRUPTION_NONE, false, 0};
  assert_int_equal(step(&f), GP_ROLLOUT_MOVE);
  assert_int_equal(f.d.nbatch, 2);
  /* a machine moved freely (a label: InPlace) still applying, or one down at the new generation, is
   * not out because of the rollout: the budget is whole */
  fleet_init(&f, names, 4, 2);
  f.m[3] = (gp_rollout_machine){"late", GP_MACHINE_APPLYING, 1, 2, GP_DISRUPTION_IN_PLACE, false, 0};
  assert_int_equal(step(&f), GP_ROLLOUT_MOVE);
  assert_int_equal(f.d.nbatch, 2);
  fleet_init(&f, names, 4, 2);
  f.m[3] = (gp_rollout_machine){"late", GP_MACHINE_NOT_REPORTING, 1, 2, GP_DISRUPTION_REBOOT, false, 0};
  assert_int_equal(step(&f), GP_ROLLOUT_MOVE);
  assert_int_equal(f.d.nbatch, 2);
  /* budget all spent: nothing moves */
  fleet_init(&f, names, 4, 1);
  f.m[3] = (gp_rollout_machine){"late", GP_MACHINE_DRIFTED, 2, 2, GP_DISRUPTION_RESTART, false, 0};
  assert_int_equal(step(&f), GP_ROLLOUT_WAIT);
  assert_int_equal(f.d.nmove, 0);
}

static void test_soak(void **state) {
  (void)state;
  static const char *const names[] = {"a", "b"};
  fleet f;
  fleet_init(&f, names, 2, 1);
  f.in.soak_minutes = 5;
  assert_int_equal(step(&f), GP_ROLLOUT_MOVE); /* the first batch does not soak */
  apply_moves(&f);
  arrive(&f, 0);
  assert_int_equal(step(&f), GP_ROLLOUT_WAIT);
  assert_true(f.d.batch_done); /* the caller records it */
  f.in.batch_done_ms = f.in.now_ms;
  f.in.now_ms += 5 * MIN - 1;
  assert_int_equal(step(&f), GP_ROLLOUT_WAIT);
  f.in.now_ms += 1;
  assert_int_equal(step(&f), GP_ROLLOUT_MOVE);
  assert_string_equal(f.m[f.d.move[0]].name, "b");
}

static void test_halts(void **state) {
  (void)state;
  static const char *const names[] = {"a", "b", "c", "d"};
  fleet f;
  fleet_init(&f, names, 4, 2);
  assert_int_equal(step(&f), GP_ROLLOUT_MOVE);
  apply_moves(&f);
  f.m[1].state = GP_MACHINE_UNHEALTHY;
  assert_int_equal(step(&f), GP_ROLLOUT_HALT);
  assert_int_equal(f.d.nhalted, 1);
  assert_string_equal(f.m[f.d.halted[0]].name, "b");
  assert_int_equal(f.d.why[0], GP_HALT_UNHEALTHY);
  assert_int_equal(f.d.nmove, 0);
  /* a timeout: drain timeout + 10 minutes after the move, not a millisecond earlier */
  fleet_init(&f, names, 4, 2);
  f.in.drain_timeout_minutes = 1;
  assert_int_equal(step(&f), GP_ROLLOUT_MOVE);
  apply_moves(&f);
  f.in.now_ms += 11 * MIN;
  assert_int_equal(step(&f), GP_ROLLOUT_WAIT);
  f.in.now_ms += 1;
  assert_int_equal(step(&f), GP_ROLLOUT_HALT);
  assert_int_equal(f.d.nhalted, 2);
  assert_int_equal(f.d.why[0], GP_HALT_TIMEOUT);
  assert_int_equal(f.d.why[1], GP_HALT_TIMEOUT);
  /* a machine back in time does not halt; one unhealthy outside the batch does not either */
  fleet_init(&f, names, 4, 2);
  assert_int_equal(step(&f), GP_ROLLOUT_MOVE);
  apply_moves(&f);
  arrive(&f, 0);
  f.m[3].state = GP_MACHINE_UNHEALTHY;
  f.in.now_ms += 41 * MIN;
  assert_int_equal(step(&f), GP_ROLLOUT_HALT);
  assert_int_equal(f.d.nhalted, 1);
  assert_string_equal(f.m[f.d.halted[0]].name, "b");
}

static void test_bad_input(void **state) {
  (void)state;
  fleet f;
  fleet_init(&f, NULL, 0, 1);
  assert_int_equal(step(&f), GP_ROLLOUT_DONE); /* no machines: nothing to wait for */
  f.d.move = NULL;
  assert_false(gp_rollout_step(f.m, 0, &f.in, &f.d));
  f.d.move = f.move;
  f.in.minute_ms = 0;
  assert_false(gp_rollout_step(f.m, 0, &f.in, &f.d));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_settings),
      cmocka_unit_test(test_batches_in_name_order),
      cmocka_unit_test(test_remaining_smaller_than_budget),
      cmocka_unit_test(test_free_moves),
      cmocka_unit_test(test_budget_spent_by_late_machine),
      cmocka_unit_test(test_soak),
      cmocka_unit_test(test_halts),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
