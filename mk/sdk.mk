# mk/sdk.mk - real Azure clients against gpupoold (issue 4): the JavaScript SDK
# (@azure/arm-containerservice 25.5.0 from npm, pinned with its lockfile) and Debian's python3-azure.

TEST_TARGETS += test-sdk

.PHONY: test-sdk
test-sdk: $(B)/gpupoold $(B)/tests/security/sectool # the https run mints its JWT with sectool
	@echo "== sdk: javascript"; tests/sdk/run-js.sh $(B)
	@echo "== sdk: python"; tests/sdk/run-python.sh $(B)
