# mk/server.mk - gpupoold (the ARM control plane, issue 3): the daemon, its HTTP scenario tests,
# durability and concurrency tests, the same on PostgreSQL plus replicas (issue 6), `make run`,
# `make bench-server` and `make bench-pg`.

SERVER_PKGS := jansson libmicrohttpd sqlite3 libpq
SERVER_PKGS += gnutls # TLS, JWT signatures, token hashes (issue 7)
SERVER_SRCS := $(wildcard server/*.c server/store/*.c server/security/*.c)
SERVER_OBJS := $(patsubst server/%.c,$(B)/obj/server/%.o,$(SERVER_SRCS))
HTTP_TEST_PKGS := jansson libcurl sqlite3 libpq
HTTP_TEST_COMMON := tests/http/harness.c tests/http/client.c tests/http/store_sql.c tests/http/testutil.c

BINS         += $(B)/gpupoold
TEST_TARGETS += test-server test-server-pg

$(B)/obj/server/%.o: server/%.c $(wildcard server/*.h server/*/*.h include/gpupool/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Iserver $(CFLAGS) $(shell pkg-config --cflags $(SERVER_PKGS)) -c $< -o $@

$(B)/gpupoold: $(SERVER_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(SERVER_OBJS) $(LIB) $(shell pkg-config --libs $(SERVER_PKGS)) -lpthread

$(B)/tests/http-%: tests/http/%.c $(HTTP_TEST_COMMON) $(wildcard tests/http/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/http $(CFLAGS) $(shell pkg-config --cflags $(HTTP_TEST_PKGS)) -o $@ $< \
	  $(HTTP_TEST_COMMON) $(shell pkg-config --libs $(HTTP_TEST_PKGS)) -lpthread $(LDFLAGS)

HTTP_TESTS := $(B)/tests/http-runner $(B)/tests/http-durability $(B)/tests/http-race $(B)/tests/http-heartbeats \
              $(B)/tests/http-upgrade $(B)/tests/http-whatif_store $(B)/tests/http-rollout_restart
PG_HTTP_TESTS := $(B)/tests/http-replicas $(B)/tests/http-pg_restart

# Each suite starts its own gpupoold on a free loopback port with a fresh database.
test-server: $(B)/gpupoold $(HTTP_TESTS)
	@echo "== http scenarios"; $(B)/tests/http-runner --server $(B)/gpupoold tests/http/*.json
	@echo "== http durability"; $(B)/tests/http-durability --server $(B)/gpupoold
	@echo "== http race"; $(B)/tests/http-race --server $(B)/gpupoold
	@echo "== http heartbeats"; $(B)/tests/http-heartbeats --server $(B)/gpupoold
	@echo "== http store upgrade"; $(B)/tests/http-upgrade --server $(B)/gpupoold
	@echo "== http what-if writes nothing"; $(B)/tests/http-whatif_store --server $(B)/gpupoold
	@echo "== http rollout: SIGKILL and restart"; $(B)/tests/http-rollout_restart --server $(B)/gpupoold

# The same on PostgreSQL, plus two replicas and a PostgreSQL restart: one throwaway PostgreSQL
# (tests/pg/pg.sh) for all of them, stopped at the end whatever happens.
.PHONY: test-server-pg
test-server-pg: $(B)/gpupoold $(HTTP_TESTS) $(PG_HTTP_TESTS)
	@tests/pg/pg.sh run tests/http/pg-suite.sh $(B)

RUN_DEFINED := 1
PORT ?= 8080
run: all
	@PORT=$(PORT) scripts/run-server.sh $(B)/gpupoold $(RUN_ARGS)

.PHONY: bench-server bench-pg
bench-server: all
	@bench/server.sh $(B)/gpupoold
# PostgreSQL (one and two replicas) next to SQLite, on a throwaway PostgreSQL (tests/pg/pg.sh).
bench-pg: all
	@bench/pg.sh $(B)/gpupoold
BENCH_TARGETS += bench-server bench-pg
