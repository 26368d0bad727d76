# mk/cli.mk - the CLI's suite against a live gpupoold (tests/cli/run-tests.sh) and its benchmark.

TEST_TARGETS += test-cli

.PHONY: test-cli bench-cli
test-cli: $(B)/gpupool $(B)/gpupoold
	@echo "== cli"
	@B=$(B) tests/cli/run-tests.sh

bench-cli: all
	@bench/cli.sh $(B)
bench: bench-cli
