# Makefile - builds libgpupool and the gpupool binaries, runs the tests. See README.md.
#
#   make            build everything under build/
#   make test       build and run every test (installs missing Debian packages first)
#   make asan       the whole test suite under AddressSanitizer + UBSan (build/asan/)
#   make valgrind   the core suites under valgrind
#   make run        the main job (see README.md)
#   make install    binaries, man pages, completion, systemd units (PREFIX, DESTDIR; mk/install.mk)
#   make deb        a Debian package under build/deb/ (mk/packaging.mk)
#   make bench      benchmarks; figures go to bench/RESULTS.md
#
# Components add their own rules in mk/*.mk (binaries, test suites, packages).

B       ?= build
CC      ?= cc
OPT     ?= -O2
SAN     ?=
ifeq ($(SAN),1)
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  OPT      := -O1
endif
PKGS    := jansson
CPPFLAGS = -Iinclude -D_GNU_SOURCE
# The one version of every binary and of the Debian package (lib/version.c compiles it in).
GP_VERSION := $(shell cat VERSION)
# Only the library's own objects see its internal headers (lib/*.h): everything else gets the public API.
LIB_CPPFLAGS = $(CPPFLAGS) -Ilib -DGP_VERSION='"$(GP_VERSION)"'
# EXTRA_CFLAGS / EXTRA_LDFLAGS: a packager's flags on top (the Debian package passes dpkg-buildflags').
CFLAGS   = -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-truncation -g $(OPT) $(SANFLAGS) $(shell pkg-config --cflags $(PKGS)) $(EXTRA_CFLAGS)
LDFLAGS  = $(SANFLAGS) $(EXTRA_LDFLAGS)
LDLIBS   = $(shell pkg-config --libs $(PKGS))
DEPS_OK := build/.deps-ok

DATA := data/gpu-vm-sizes.csv data/mig-profiles.csv data/mig-placements.csv data/driver-families.csv \
        data/components.csv data/gpu-models.csv data/xid.csv

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst lib/%.c,$(B)/obj/lib/%.o,$(LIB_SRCS)) $(B)/obj/gen/catalog_data.o
LIB      := $(B)/libgpupool.a

CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(patsubst cli/%.c,$(B)/obj/cli/%.o,$(CLI_SRCS))
CLI_PKGS := libcurl yaml-0.1

BINS         := $(B)/gpupool
TEST_TARGETS := test-core
CORE_TESTS   := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))

.DEFAULT_GOAL := all
.PHONY: all deps test asan valgrind run bench bench-core clean test-core format

# Components (server, agent, ...) add binaries to BINS, suites to TEST_TARGETS and their rules here.
-include $(sort $(wildcard mk/*.mk))

all: $(LIB) $(BINS)

# Packages: install what scripts/packages.txt lists and is missing (once, then when the list changes).
# NO_DEPS=1 skips it (a package build, whose Build-Depends are already checked).
$(DEPS_OK): scripts/packages.txt scripts/ensure-deps.sh
	@mkdir -p $(dir $@)
	@$(if $(filter 1,$(NO_DEPS)),true,scripts/ensure-deps.sh)
	@touch $@
deps: $(DEPS_OK)

$(B)/gen/catalog_data.c: tools/gen-catalog.awk $(DATA) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	awk -f tools/gen-catalog.awk $(DATA) > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/catalog_data.o: $(B)/gen/catalog_data.c lib/catalog_tables.h include/gpupool/catalog.h include/gpupool/health.h
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/obj/lib/%.o: lib/%.c $(wildcard include/gpupool/*.h lib/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/obj/lib/version.o: VERSION

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/obj/cli/%.o: cli/%.c $(wildcard include/gpupool/*.h cli/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Icli $(CFLAGS) $(if $(CLI_PKGS),$(shell pkg-config --cflags $(CLI_PKGS))) -c $< -o $@

$(B)/gpupool: $(CLI_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LDLIBS) $(if $(CLI_PKGS),$(shell pkg-config --libs $(CLI_PKGS)))

# ---- core tests -------------------------------------------------------------------------------
$(B)/tests/%: tests/unit/%.c $(LIB) $(wildcard tests/unit/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(shell pkg-config --cflags cmocka) -o $@ $< $(LIB) \
	  $(LDLIBS) $(shell pkg-config --libs cmocka) $(LDFLAGS)

# The allocation-failure test sees every allocation of the library: the allocator (and json_loadb,
# see the test) is wrapped at link time.
ALLOC_WRAPPED := malloc calloc realloc free strdup strndup asprintf json_loadb
$(B)/tests/test_alloc_failure: LDFLAGS += $(foreach f,$(ALLOC_WRAPPED),-Wl,--wrap=$(f))

$(B)/tests/run-vectors: tests/vectors/run_vectors.c $(LIB) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS) $(LDFLAGS)

$(B)/bench-core: bench/core/bench_core.c $(LIB) | $(DEPS_OK)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS) $(LDFLAGS)

bench-core: $(B)/bench-core
	bench/run-core.sh

test-core: $(CORE_TESTS) $(B)/tests/run-vectors $(B)/gpupool
	@set -e; for t in $(CORE_TESTS); do echo "== $$t"; GP_BUILD=$(B) $(RUNNER) $$t; done
	@echo "== vectors"; $(B)/tests/run-vectors --cli "$(RUNNER) $(B)/gpupool" tests/vectors

# make test builds and runs its suites side by side, one job a CPU (every suite uses its own free ports
# and temporary directories), each suite's output kept together; TEST_JOBS=1 runs them one after
# another. A -j given to make itself wins.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
TEST_PAR = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(TEST_JOBS) --output-sync=target)
test: $(DEPS_OK)
	@$(MAKE) --no-print-directory $(TEST_PAR) all
	@$(MAKE) --no-print-directory $(TEST_PAR) $(TEST_TARGETS)
	@echo "make test: all suites passed"

asan:
	@$(MAKE) --no-print-directory B=build/asan SAN=1 test

valgrind: all
	@$(MAKE) --no-print-directory $(TEST_PAR) test-core test-diff RUNNER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

bench: bench-core $(BENCH_TARGETS)

clean:
	rm -rf build

# `make run` and `make bench` are defined by the components (mk/*.mk); core fallbacks:
ifndef RUN_DEFINED
run: all
	@scripts/run-examples.sh $(B)/gpupool
endif
