# mk/readme.mk - README.md as a test (issue 13): every shell block runs, in order, against a
# `make run`-style gpupoold that the test starts (tests/readme/run.sh says how blocks are marked
# to skip and how they reach the server).

TEST_TARGETS += test-readme

.PHONY: test-readme
test-readme: all
	@echo "== README walkthrough"
	@B=$(B) tests/readme/run.sh README.md
