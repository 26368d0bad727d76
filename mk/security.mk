# mk/security.mk - the security suite (issue 7): TLS, bearer tokens, JWTs, roles and scopes,
# throttling, audit, and the CLI and the agent against an https server with tokens. Keys,
# certificates and tokens are made at test time by tests/security/sectool.c (GnuTLS).
#
#   make test-security     unit tests of the pieces, then the suite (part of `make test`; `make asan`
#                          runs it under ASan+UBSan)

SECTOOL := $(B)/tests/security/sectool

TEST_TARGETS += test-security

.PHONY: test-security

$(SECTOOL): tests/security/sectool.c tests/security/mint.c tests/security/mint.h | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags gnutls jansson) -o $@ tests/security/sectool.c \
	  tests/security/mint.c $(LDFLAGS) $(shell pkg-config --libs gnutls jansson)

# unit tests of the pieces (cmocka), linked with the server's own objects
SECURITY_UNITS := $(B)/tests/security/test-units
SECURITY_UNIT_OBJS := $(patsubst %,$(B)/obj/server/security/%.o,credentials authz auth jwt throttle)
$(SECURITY_UNITS): tests/security/test_units.c $(SECURITY_UNIT_OBJS) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Iserver $(CFLAGS) $(shell pkg-config --cflags cmocka gnutls jansson) -o $@ $< \
	  $(SECURITY_UNIT_OBJS) $(LDFLAGS) $(shell pkg-config --libs cmocka gnutls jansson) -lpthread

test-security: $(B)/gpupoold $(B)/gpupool $(B)/gpupool-agent $(B)/tests/http-runner $(SECTOOL) $(SECURITY_UNITS)
	@echo "== security"
	@$(RUNNER) $(SECURITY_UNITS)
	@B=$(B) tests/security/run-tests.sh
