# mk/security.mk - the security suite (issue 7): TLS, bearer tokens, JWTs, roles and scopes,
# throttling, audit, and the CLI and the agent against an https server with tokens. Keys,
# certificates and tokens are made at test time by tests/security/sectool.c (GnuTLS).
#
#   make test-security     the suite (part of `make test`; `make asan` runs it under ASan+UBSan)

SECTOOL := $(B)/tests/security/sectool

TEST_TARGETS += test-security

.PHONY: test-security

$(SECTOOL): tests/security/sectool.c tests/security/mint.c tests/security/mint.h | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags gnutls jansson) -o $@ tests/security/sectool.c \
	  tests/security/mint.c $(LDFLAGS) $(shell pkg-config --libs gnutls jansson)

test-security: $(B)/gpupoold $(B)/gpupool $(B)/gpupool-agent $(B)/tests/http-runner $(SECTOOL)
	@echo "== security"
	@B=$(B) tests/security/run-tests.sh
