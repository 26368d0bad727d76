# mk/mutate.mk - mutation testing (issue 17): tests/mutation/mutate.py plants one small bug at a time
# in a temporary copy of the tree, rebuilds what changed and runs the suite that covers it; see
# docs/mutation.md. The working tree is never changed.
#
#   make mutate                                   lib/: 100 mutants, seed 17: test-core, test-agent, asan
#   make mutate MUTATE_ARGS="--scope agent --count 40 --seed 5"
#   make mutate MUTATE_ARGS="--list --count 0"    every candidate mutant, nothing run
#   make test-mutation                            the CI sample (part of `make test`): 20 mutants of lib/,
#                                                 fixed seed, test-core only; fails under MUTATE_CI_MIN (80) %

PYTHON          ?= python3
MUTATE_ARGS     ?=
MUTATE_CI_ARGS  ?= --scope lib --count 20 --seed 1 --suites test-core
MUTATE_CI_MIN   ?= 80

.PHONY: mutate test-mutation mutate-suite-server

mutate: all
	@$(PYTHON) tests/mutation/mutate.py --build $(B) $(MUTATE_ARGS)

# Not under `make asan`: the sample builds its own copy with the plain flags (seeded from $(B)), so an
# ASan build directory would not do; and the asan run adds nothing to a mutation sample.
ifneq ($(SAN),1)
TEST_TARGETS += test-mutation
endif
test-mutation: $(CORE_TESTS) $(B)/tests/run-vectors $(B)/gpupool
	@echo "== mutation: the runner's own tests, then a sample of lib/ mutants"
	@$(PYTHON) tests/mutation/test_mutate.py -q
	@$(PYTHON) tests/mutation/mutate.py --build $(B) $(MUTATE_CI_ARGS) --min-score $(MUTATE_CI_MIN)

# The suite the runner uses for server/ mutants: the security unit tests (authz, throttle) and the
# HTTP scenarios (routing), without the slower durability and race runs.
mutate-suite-server: $(B)/gpupoold $(B)/tests/http-runner $(B)/tests/security/test-units
	@$(B)/tests/security/test-units
	@$(B)/tests/http-runner --server $(B)/gpupoold tests/http/*.json
