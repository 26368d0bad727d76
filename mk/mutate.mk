# mk/mutate.mk - mutation testing (issue 17): tests/mutation/mutate.py plants one small bug at a time
# in a temporary copy of the tree, rebuilds what changed and runs the suite that covers it; see
# docs/mutation.md. The working tree is never changed.
#
#   make mutate                                   lib/: 100 mutants, seed 17: the core's tests and tests/diff,
#                                                 test-agent, then the core's tests under ASan
#   make mutate MUTATE_ARGS="--scope agent --count 40 --seed 5"
#   make mutate MUTATE_ARGS="--list --count 0"    every candidate mutant, nothing run
#   make test-mutation                            the CI sample (part of `make test`): 20 mutants of lib/,
#                                                 fixed seed, the core's tests only; fails under MUTATE_CI_MIN (80) %

PYTHON          ?= python3
MUTATE_ARGS     ?=
MUTATE_CI_ARGS  ?= --scope lib --count 20 --seed 1 --suites mutate-suite-core
MUTATE_CI_MIN   ?= 80

.PHONY: mutate test-mutation mutate-suite-core mutate-suite-server

mutate: all
	@$(PYTHON) tests/mutation/mutate.py --build $(B) $(MUTATE_ARGS)

# Not under `make asan`: the sample builds its own copy with the plain flags (seeded from $(B)), so an
# ASan build directory would not do; and the asan run adds nothing to a mutation sample.
ifneq ($(SAN),1)
TEST_TARGETS += test-mutation
endif
test-mutation: $(CORE_TESTS) $(B)/tests/run-vectors $(B)/gpupool $(B)/gpupool-agent
	@echo "== mutation: the runner's own tests, then a sample of lib/ mutants"
	@$(PYTHON) tests/mutation/test_mutate.py -q
	@$(PYTHON) tests/mutation/mutate.py --build $(B) $(MUTATE_CI_ARGS) --min-score $(MUTATE_CI_MIN)

# The suite the runner uses for server/ mutants: the security unit tests (authz, throttle) and the
# HTTP scenarios (routing), without the slower durability and race runs. One scenario file at a time,
# stopping at the first that fails: a mutant that breaks routing fails them all, and waiting for
# every one of them (3 minutes) tells nothing more.
mutate-suite-server: $(B)/gpupoold $(B)/tests/http-runner $(B)/tests/security/test-units
	@$(B)/tests/security/test-units
	@set -e; for f in tests/http/*.json; do $(B)/tests/http-runner --server $(B)/gpupoold $$f; done

# The suite the runner uses first for lib/ mutants: test-core's unit tests and vectors, then the
# disruption-class vectors of test-diff, cheapest first, stopping at the first failure. Each program
# is linked just before it runs, so a mutant the first unit test catches relinks one program, not
# twenty; the allocation-failure test (the slowest, 7 s) runs last. The same tests as test-core and
# test-diff, in another order: it catches exactly the mutants they catch, sooner.
MUTATE_CORE_LAST := $(B)/tests/test_alloc_failure
mutate-suite-core: $(LIB)
	@set -e; for t in $(filter-out $(MUTATE_CORE_LAST),$(CORE_TESTS)); do \
	  $(MAKE) --no-print-directory -s $$t; echo "== $$t"; $(RUNNER) $$t; done
	@$(MAKE) --no-print-directory -s $(B)/tests/run-vectors $(B)/gpupool
	@echo "== vectors"; $(B)/tests/run-vectors --cli "$(RUNNER) $(B)/gpupool" tests/vectors
	@$(MAKE) --no-print-directory -s $(B)/gpupool-agent
	@echo "== disruption classes (tests/diff)"
	@$(B)/tests/run-vectors --cli "$(RUNNER) $(B)/gpupool" --agent "$(RUNNER) $(B)/gpupool-agent" tests/diff
	@set -e; for t in $(MUTATE_CORE_LAST); do $(MAKE) --no-print-directory -s $$t; echo "== $$t"; $(RUNNER) $$t; done
