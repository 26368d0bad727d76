# mk/rollout.mk - issue 12 end to end: health-gated rollouts with real `gpupool-agent run` daemons on
# the fake NVML against a real gpupoold (SQLite, and PostgreSQL with two replicas), and the rollout
# benchmark on the fleet simulator.
#
#   make test-rollout    the end-to-end suite (part of `make test`; `make asan` runs it under ASan+UBSan)
#   make bench-rollout   one rollout across 10,000 simulated machines, into bench/RESULTS.md

.PHONY: bench-rollout
bench-rollout: $(B)/gpupoold $(B)/bench-fleetsim
	@bench/rollout.sh $(B)/gpupoold $(B)/bench-fleetsim
BENCH_TARGETS += bench-rollout
