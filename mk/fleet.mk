# mk/fleet.mk - issue 11 end to end: real `gpupool-agent run` daemons on the fake NVML against a real
# gpupoold (SQLite; PostgreSQL with two replicas in the PostgreSQL suite), machine targets moved
# through the store's own code, and the fleet simulator (bench/fleet/).
#
#   make test-fleet      the integration suite (part of `make test`; `make asan` runs it under ASan+UBSan)
#   make bench-fleet     the scale figures for bench/RESULTS.md (bench/fleet.sh; minutes, not a test)

# The store of gpupoold, linked into a test that acts as one more replica (tests/fleet/targets.c).
FLEET_STORE_OBJS := $(patsubst server/%.c,$(B)/obj/server/%.o,$(wildcard server/store/*.c) server/log.c server/util.c)
# (mk/server.mk's HTTP_TEST_COMMON, spelt out: that file is read after this one)
FLEET_HTTP_COMMON := tests/http/harness.c tests/http/client.c tests/http/store_sql.c tests/http/testutil.c

$(B)/tests/fleet-targets: tests/fleet/targets.c $(FLEET_STORE_OBJS) $(FLEET_HTTP_COMMON) $(wildcard tests/http/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/http -Iserver $(CFLAGS) $(shell pkg-config --cflags $(HTTP_TEST_PKGS)) -o $@ $< \
	  $(FLEET_STORE_OBJS) $(FLEET_HTTP_COMMON) $(shell pkg-config --libs $(HTTP_TEST_PKGS)) -lpthread $(LDFLAGS)

FLEET_DEPS := $(B)/gpupoold $(B)/gpupool $(B)/gpupool-agent $(AGENT_TESTDIR)/libfake-nvml.so \
              $(AGENT_TESTDIR)/agent-testtool $(B)/tests/fleet-targets

TEST_TARGETS += test-fleet
.PHONY: test-fleet
test-fleet: $(FLEET_DEPS) $(B)/tests/security/sectool # (mk/security.mk builds it)
	@echo "== fleet: agents against gpupoold (sqlite)"
	@B=$(B) tests/fleet/test-fleet.sh
	@echo "== fleet: an agent token scoped to one machine (https, --auth tokens)"
	@B=$(B) tests/fleet/test-fleet.sh --tls
	@echo "== fleet: machine targets through the store"
	@$(B)/tests/fleet-targets --server $(B)/gpupoold

# tests/http/pg-suite.sh runs the fleet on two replicas and the targets test beside a replica
test-server-pg: $(FLEET_DEPS)

# ---- benchmark ------------------------------------------------------------------------------------
$(B)/bench-fleetsim: bench/fleet/fleetsim.c | $(DEPS_OK)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS)

.PHONY: bench-fleet
bench-fleet: $(B)/gpupoold $(B)/bench-fleetsim
	@bench/fleet.sh $(B)/gpupoold $(B)/bench-fleetsim
BENCH_TARGETS += bench-fleet
