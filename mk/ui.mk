# mk/ui.mk - the web console (issue 14): the files under ui/ embedded into gpupoold at build time
# (tools/gen-ui-assets.sh -> $(B)/gen/ui_assets.c, linked into gpupoold next to server/ui.c), and
# its test in a real browser (tests/ui/: Debian's chromium, headless, driven by playwright-core).
#
#   make test-ui      the browser suite against a fresh gpupoold (part of `make test`)
#   make bench-ui     the same suite measuring more page loads; figures into bench/RESULTS.md (bench/ui.sh)

UI_FILES := $(sort $(wildcard ui/*.html ui/*.js ui/*.css ui/*.svg))

$(B)/gen/ui_assets.c: tools/gen-ui-assets.sh $(UI_FILES) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	tools/gen-ui-assets.sh $(UI_FILES) > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/ui_assets.o: $(B)/gen/ui_assets.c server/ui_assets.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Iserver $(CFLAGS) -c $< -o $@

# gpupoold's link line (mk/server.mk) expands SERVER_OBJS when it runs, so the assets join it here.
SERVER_OBJS += $(B)/obj/gen/ui_assets.o
$(B)/gpupoold: $(B)/obj/gen/ui_assets.o

TEST_TARGETS += test-ui
.PHONY: test-ui bench-ui
test-ui: $(B)/gpupoold
	@echo "== web console (chromium)"; tests/ui/run.sh $(B)

bench-ui: $(B)/gpupoold
	@bench/ui.sh $(B)
BENCH_TARGETS += bench-ui
