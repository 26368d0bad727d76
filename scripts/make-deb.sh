#!/bin/sh
# make-deb.sh - `make deb`: builds the Debian package of this source tree with Debian's own tools
# (dpkg-buildpackage and debhelper, packaging/debian/), in a copy of the tree so that the build
# (which cleans first) never touches the developer's build/. The version is the VERSION file's.
# Usage: scripts/make-deb.sh OUTDIR      the .deb (and its -dbgsym .deb) land in OUTDIR
set -eu
out=${1:-build/deb}
version=$(cat VERSION)
mkdir -p "$out"
out=$(cd "$out" && pwd)
src="$out/gpupool-$version"
rm -rf "$src" "$out"/gpupool_* "$out"/gpupool-dbgsym_*
mkdir -p "$src"
tar --exclude=./build --exclude=./var --exclude=./.git --exclude=node_modules --exclude=./.gl --exclude=./.whl \
  -cf - . | tar -xf - -C "$src"
cp -R packaging/debian "$src/debian"
when=$(date -R ${SOURCE_DATE_EPOCH:+-d @$SOURCE_DATE_EPOCH})
cat >"$src/debian/changelog" <<TXT
gpupool ($version) unstable; urgency=medium

  * gpupool $version, built from its source tree by make deb.

 -- gpupool maintainers <maintainers@gpupool.invalid>  $when
TXT
jobs=$(nproc 2>/dev/null || echo 2)
if ! (cd "$src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-nocheck parallel=$jobs}" \
      dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1); then
  tail -40 "$out/build.log" >&2
  echo "make-deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
  exit 1
fi
rm -rf "$src"
ls "$out"/gpupool_"$version"_*.deb
