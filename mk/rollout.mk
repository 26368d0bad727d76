# mk/rollout.mk - issue 12 end to end: health-gated rollouts with real `gpupool-agent run` daemons on
# the fake NVML against a real gpupoold (SQLite, and PostgreSQL with two replicas), and the rollout
# benchmark on the fleet simulator.
#
#   make test-rollout    the end-to-end suite (part of `make test`; `make asan` runs it under ASan+UBSan)
#   make bench-rollout   one rollout across 10,000 simulated machines, into bench/RESULTS.md

ROLLOUT_DEPS := $(B)/gpupoold $(B)/gpupool $(B)/gpupool-agent $(AGENT_TESTDIR)/libfake-nvml.so \
                $(AGENT_TESTDIR)/agent-testtool

TEST_TARGETS += test-rollout
.PHONY: test-rollout
test-rollout: $(ROLLOUT_DEPS)
	@echo "== rollout: six agents against gpupoold (sqlite, and postgresql with two replicas, side by side)"
	@B=$(B) tests/rollout/run.sh

.PHONY: bench-rollout
bench-rollout: $(B)/gpupoold $(B)/bench-fleetsim
	@bench/rollout.sh $(B)/gpupoold $(B)/bench-fleetsim
BENCH_TARGETS += bench-rollout
