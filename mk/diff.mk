# mk/diff.mk - the disruption-class table case by case (tests/diff/, issue 12): every case runs through
# the real `gpupool plan --diff` and `gpupool-agent diff` (the vectors' runner reads both kinds of
# case). Part of `make test`, `make asan`, and of `make valgrind` (RUNNER wraps both programs).

TEST_TARGETS += test-diff

.PHONY: test-diff
test-diff: $(B)/tests/run-vectors $(B)/gpupool $(B)/gpupool-agent
	@echo "== disruption classes (tests/diff)"
	@$(B)/tests/run-vectors --cli "$(RUNNER) $(B)/gpupool" --agent "$(RUNNER) $(B)/gpupool-agent" tests/diff
