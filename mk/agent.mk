# mk/agent.mk - gpupool-agent, the node agent (agent/), its test helpers and suite (tests/agent/),
# and the portable bundle for running it on a GPU machine without the -dev packages.
#
#   make build/gpupool-agent    the agent
#   make test-agent             its suite (part of `make test`; `make asan` runs it under ASan+UBSan)
#   make agent-bundle           build/agent-bundle.tar.gz (and the directory): the agent, gpupoold and
#                               gpupool, every shared library they need and the plans of the real-GPU
#                               scripts (tests/fixtures/real-h100/run-on-device.sh and
#                               run-daemon-on-device.sh; how to run them is in their headers)

AGENT_PKGS    := jansson libxml-2.0 yaml-0.1 libcurl
AGENT_SRCS    := $(wildcard agent/*.c)
AGENT_OBJS    := $(patsubst agent/%.c,$(B)/obj/agent/%.o,$(AGENT_SRCS))
AGENT_CFLAGS   = $(shell pkg-config --cflags $(AGENT_PKGS))
AGENT_LIBS     = $(shell pkg-config --libs $(AGENT_PKGS)) -ldl -lm -pthread
AGENT_TESTDIR := $(B)/tests/agent

BINS         += $(B)/gpupool-agent
TEST_TARGETS += test-agent

.PHONY: test-agent agent-bundle

$(B)/obj/agent/%.o: agent/%.c $(wildcard agent/*.h include/gpupool/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Iagent $(CFLAGS) $(AGENT_CFLAGS) -c $< -o $@

$(B)/gpupool-agent: $(AGENT_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(AGENT_OBJS) $(LIB) $(AGENT_LIBS)

# The fake NVML is dlopen'ed by the agent, so it is built with the agent's sanitizer flags: under
# `make asan` the ASan runtime of the agent also checks the fake.
$(AGENT_TESTDIR)/libfake-nvml.so: tests/agent/fake_nvml.c agent/nvml_abi.h | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Iagent $(CFLAGS) -fPIC -shared -pthread -o $@ $< $(LDFLAGS) $(shell pkg-config --libs jansson)

$(AGENT_TESTDIR)/agent-testtool: tests/agent/testtool.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags yaml-0.1) -o $@ $< $(LDFLAGS) \
	  $(shell pkg-config --libs jansson yaml-0.1)

$(AGENT_TESTDIR)/planserver: tests/agent/planserver.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS)

# The stand-in for gpupoold that the daemon's tests talk to (machine PUT, per-machine plan long-poll).
$(AGENT_TESTDIR)/fleetserver: tests/agent/fleetserver.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags libmicrohttpd jansson) -pthread -o $@ $< $(LDFLAGS) \
	  $(shell pkg-config --libs libmicrohttpd jansson)

test-agent: $(B)/gpupool-agent $(B)/gpupool $(AGENT_TESTDIR)/libfake-nvml.so $(AGENT_TESTDIR)/agent-testtool \
            $(AGENT_TESTDIR)/planserver
	@echo "== agent"
	@B=$(B) SAN=$(SAN) tests/agent/run-tests.sh

# Portable bundle for a GPU machine that has no jansson/libxml2/libyaml/libcurl: the agent with the
# dynamic loader and every shared library it links (glibc included), so it runs whatever the
# machine's libc is; NVML itself comes from the machine (dlopen). Never an ASan build.
agent-bundle: $(B)/gpupool-agent $(B)/gpupool $(B)/gpupoold $(AGENT_TESTDIR)/agent-testtool
	@test "$(SAN)" != 1 || { echo "agent-bundle: not from a sanitizer build" >&2; exit 1; }
	scripts/make-agent-bundle.sh $(B) build/agent-bundle

# fetch end to end against gpupoold: a pool made through the CLI, its plan fetched with If-None-Match
.PHONY: test-agent-fetch
TEST_TARGETS += test-agent-fetch
test-agent-fetch: $(B)/gpupool-agent $(B)/gpupool $(B)/gpupoold $(AGENT_TESTDIR)/libfake-nvml.so \
                  $(AGENT_TESTDIR)/agent-testtool
	@echo "== agent fetch (against gpupoold)"
	@B=$(B) tests/agent/test-fetch.sh

# `gpupool-agent run` as a real process on the fake NVML against the stand-in server: reports, plan
# long-poll, dry run and --execute with recording commands, injected GPU health events, the server
# going away and coming back, SIGTERM, restart from the state directory.
.PHONY: test-agent-run
TEST_TARGETS += test-agent-run
test-agent-run: $(B)/gpupool-agent $(B)/gpupool $(AGENT_TESTDIR)/libfake-nvml.so $(AGENT_TESTDIR)/agent-testtool \
                $(AGENT_TESTDIR)/fleetserver
	@echo "== agent run (daemon)"
	@B=$(B) SAN=$(SAN) tests/agent/test-run.sh

# The agent's systemd unit, verified by systemd-analyze (packaging/systemd/gpupool-agent.service).
.PHONY: test-agent-unit
TEST_TARGETS += test-agent-unit
test-agent-unit: $(B)/gpupool-agent
	@echo "== agent systemd unit"
	@B=$(B) tests/agent/test-unit.sh
