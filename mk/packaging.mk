# mk/packaging.mk - the Debian package (issue 13) and its test.
#
#   make deb              build/deb/gpupool_VERSION_ARCH.deb, built with dpkg-buildpackage and debhelper
#                         from packaging/debian/ in a copy of the tree (scripts/make-deb.sh)
#   make test-packaging   make install/uninstall into a temporary DESTDIR, then the package built,
#                         inspected, installed into a throwaway root with dpkg --root, run, its unit
#                         verified by systemd-analyze, removed (tests/packaging/run-tests.sh)
#
# `make asan` does not run test-packaging: the package is built from the sources with its own
# (non-sanitizer) flags, so a sanitizer run would repeat the same check.

.PHONY: deb test-packaging
ifneq ($(SAN),1)
TEST_TARGETS += test-packaging
endif

deb: | $(DEPS_OK)
	@scripts/make-deb.sh build/deb

test-packaging: all
	@echo "== packaging (make install, make deb, dpkg -i into a throwaway root)"
	@B=$(B) tests/packaging/run-tests.sh
