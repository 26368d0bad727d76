# mk/hardening.mk - issue 16: gpupoold against idle and hostile connections, ambiguous HTTP, a
# second process on one SQLite file, a store that goes away, log injection and JWT work; and the
# long-poll facility under load (bench). Each test starts its own gpupoold (tests/http/harness.c).
#
#   make test-hardening    the suite (part of `make test`; `make asan` runs it under ASan+UBSan)
#   make bench-hardening   figures for bench/RESULTS.md (held connections, /metrics, long-polls)

HARDENING_COMMON = tests/hardening/hlib.c $(HTTP_TEST_COMMON)
HARDENING_PROGS := framing conns bodies metrics store logs longpoll jwt
HARDENING_TESTS := $(patsubst %,$(B)/tests/hardening-%,$(HARDENING_PROGS))

TEST_TARGETS += test-hardening

$(B)/tests/hardening-%: tests/hardening/%.c $(HARDENING_COMMON) $(wildcard tests/hardening/*.h tests/http/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/http -Itests/hardening $(CFLAGS) $(shell pkg-config --cflags $(HTTP_TEST_PKGS)) -o $@ \
	  $< $(HARDENING_COMMON) $(shell pkg-config --libs $(HTTP_TEST_PKGS)) -lpthread $(LDFLAGS)

# JWTs are signed at test time with GnuTLS (tests/security/mint.c)
$(B)/tests/hardening-jwt: tests/hardening/jwt.c tests/security/mint.c $(HARDENING_COMMON) $(wildcard tests/hardening/*.h tests/http/*.h tests/security/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/http -Itests/hardening -Itests/security $(CFLAGS) \
	  $(shell pkg-config --cflags $(HTTP_TEST_PKGS) gnutls) -o $@ $< tests/security/mint.c $(HARDENING_COMMON) \
	  $(shell pkg-config --libs $(HTTP_TEST_PKGS) gnutls) -lpthread $(LDFLAGS)

.PHONY: test-hardening
test-hardening: $(B)/gpupoold $(HARDENING_TESTS)
	@echo "== hardening"
	@set -e; for t in $(HARDENING_TESTS); do $$t --server $(B)/gpupoold; done

# tests/http/pg-suite.sh runs the long-poll test across two replicas on PostgreSQL too
test-server-pg: $(B)/tests/hardening-longpoll

# ---- benchmark ------------------------------------------------------------------------------------
$(B)/bench-hardening-load: bench/hardening/load.c | $(DEPS_OK)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags sqlite3) -o $@ $< $(shell pkg-config --libs sqlite3) -lpthread $(LDFLAGS)

.PHONY: bench-hardening
bench-hardening: $(B)/gpupoold $(B)/bench-hardening-load
	@bench/hardening.sh $(B)/gpupoold $(B)/bench-hardening-load
BENCH_TARGETS += bench-hardening
