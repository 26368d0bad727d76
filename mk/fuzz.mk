# mk/fuzz.mk - libFuzzer harnesses (fuzz/, issue 7), built with clang, AddressSanitizer and UBSan:
#   fuzz_body       request body -> model -> policy -> plan (the core)
#   fuzz_router     method + path + query -> route, names, api-version, authorization (gpupoold)
#   fuzz_nvsmi_xml  `nvidia-smi -q -x` output -> inventory (gpupool-agent)
#   fuzz_auth       tokens/assignments files, JWT keys, bearer tokens and JWTs (gpupoold)
# Seeds come from the test data (tests/vectors, tests/corpus, the HTTP scenarios, the nvidia-smi
# fixtures, sectool's keys and tokens); see fuzz/make-seeds.sh.
#
#   make fuzz                    every harness for FUZZ_SECONDS (default 60) each; fails on any crash,
#                                leak or sanitizer report; FUZZ_RECORD=1 writes the executions to
#                                bench/RESULTS.md
#   make fuzz FUZZ_SECONDS=3600  longer
#   make test-fuzz-seeds         every harness over its seeds once (part of `make test`)

FUZZ_B       := $(B)/fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -g -O1 -Wall -Wextra -Werror -Wshadow -Wformat=2 $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_NAMES   := body router nvsmi_xml auth
FUZZ_BINS    := $(patsubst %,$(FUZZ_B)/fuzz_%,$(FUZZ_NAMES))
FUZZ_LIB     := $(patsubst lib/%.c,$(FUZZ_B)/obj/lib/%.o,$(LIB_SRCS)) $(FUZZ_B)/obj/gen/catalog_data.o
FUZZ_SERVER_PKGS := jansson libmicrohttpd gnutls
FUZZ_AGENT_PKGS  := jansson libxml-2.0 yaml-0.1 libcurl

.PHONY: fuzz test-fuzz-seeds fuzz-seeds
ifneq ($(SAN),1) # the harnesses carry their own sanitizers; `make asan` need not build them again
TEST_TARGETS += test-fuzz-seeds
endif

$(FUZZ_B)/obj/lib/%.o: lib/%.c $(wildcard include/gpupool/*.h lib/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(LIB_CPPFLAGS) $(FUZZ_CFLAGS) $(shell pkg-config --cflags jansson) -c $< -o $@

$(FUZZ_B)/obj/gen/catalog_data.o: $(B)/gen/catalog_data.c lib/catalog_tables.h include/gpupool/catalog.h include/gpupool/health.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(LIB_CPPFLAGS) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_B)/obj/server/%.o: server/%.c $(wildcard server/*.h server/*/*.h include/gpupool/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -Iserver $(FUZZ_CFLAGS) $(shell pkg-config --cflags $(FUZZ_SERVER_PKGS)) -c $< -o $@

$(FUZZ_B)/obj/agent/%.o: agent/%.c $(wildcard agent/*.h include/gpupool/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -Iagent $(FUZZ_CFLAGS) $(shell pkg-config --cflags $(FUZZ_AGENT_PKGS)) -c $< -o $@

$(FUZZ_B)/obj/mint.o: tests/security/mint.c tests/security/mint.h | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $(shell pkg-config --cflags gnutls) -c $< -o $@

$(FUZZ_B)/obj/fuzz/%.o: fuzz/%.c $(wildcard server/*.h server/*/*.h agent/*.h tests/security/*.h include/gpupool/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -Iserver -Iagent -Itests/security $(FUZZ_CFLAGS) \
	  $(shell pkg-config --cflags $(FUZZ_SERVER_PKGS) $(FUZZ_AGENT_PKGS)) -c $< -o $@

FUZZ_LINK = $(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^

$(FUZZ_B)/fuzz_body: $(FUZZ_B)/obj/fuzz/fuzz_body.o $(FUZZ_LIB)
	$(FUZZ_LINK) $(shell pkg-config --libs jansson)

$(FUZZ_B)/fuzz_router: $(FUZZ_B)/obj/fuzz/fuzz_router.o $(patsubst %,$(FUZZ_B)/obj/server/%.o,router response security/authz security/credentials) \
                       $(FUZZ_LIB)
	$(FUZZ_LINK) $(shell pkg-config --libs jansson libmicrohttpd)

$(FUZZ_B)/fuzz_nvsmi_xml: $(FUZZ_B)/obj/fuzz/fuzz_nvsmi_xml.o $(patsubst %,$(FUZZ_B)/obj/agent/%.o,xml inventory nvml util) \
                          $(FUZZ_LIB)
	$(FUZZ_LINK) $(shell pkg-config --libs jansson libxml-2.0) -ldl

$(FUZZ_B)/fuzz_auth: $(FUZZ_B)/obj/fuzz/fuzz_auth.o $(patsubst %,$(FUZZ_B)/obj/server/security/%.o,jwt credentials auth authz) \
                     $(FUZZ_B)/obj/mint.o
	$(FUZZ_LINK) $(shell pkg-config --libs jansson gnutls) -lpthread

$(FUZZ_B)/seeds-tool: fuzz/seeds.c tests/http/defaults.h | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/http $(CFLAGS) -o $@ $< $(LDLIBS)

# The seeds are made again each time (a second or so): they follow the test data.
fuzz-seeds: $(FUZZ_B)/seeds-tool $(B)/tests/security/sectool
	@FUZZ_B=$(FUZZ_B) B=$(B) fuzz/make-seeds.sh

fuzz: $(FUZZ_BINS) fuzz-seeds
	@FUZZ_B=$(FUZZ_B) FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh

test-fuzz-seeds: $(FUZZ_BINS) fuzz-seeds
	@echo "== fuzz harnesses over their seeds"
	@FUZZ_B=$(FUZZ_B) fuzz/run.sh --seeds-only
