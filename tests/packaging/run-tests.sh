#!/bin/sh
# run-tests.sh - `make test-packaging` (part of `make test`): what lands on a machine.
#
# 1. `make install DESTDIR=... PREFIX=/usr/local` into a temporary directory: binaries, man pages,
#    completion, every packaging/systemd/*.service with @bindir@ replaced, /etc/default/gpupoold,
#    docs; `make uninstall` takes it all away again (but the administrator's /etc/default file).
# 2. The Debian package, built with Debian's tools (scripts/make-deb.sh: dpkg-buildpackage +
#    debhelper, the dpkg-buildflags hardening on top): its control data (version from VERSION,
#    Depends computed by dpkg-shlibdeps, the conffile, no maintainer scripts) and its files.
# 3. `dpkg -i` of that package into a throwaway root (dpkg --root, its own dpkg database: the
#    machine's own packages, dpkg lock and /usr are never touched; the libraries the package
#    depends on are the machine's, so dependencies are forced there and the binaries run against
#    the machine's libraries), then the installed `gpupool version`, `gpupoold --version`,
#    `gpupool-agent --version`, the man pages, the completion, and `systemd-analyze verify --root`
#    of the installed gpupoold unit (clean: no output), then `dpkg -r` and `dpkg --purge`.
#
# Environment: B (build directory, default build). Needs root or fakeroot for dpkg.
set -u
B=${B:-build}
CHECKS_NAME=packaging
. tests/lib/checks.sh
VERSION=$(cat VERSION)
has() { if grep -q -- "$2" "$1"; then ok; else no "$1 lacks '$2'"; sed 's/^/  | /' "$1" | head -20; fi; }
hasnt() { if grep -q -- "$2" "$1"; then no "$1 has '$2'"; else ok; fi; }
eq() { if [ "$1" = "$2" ]; then ok; else no "$3: '$1', expected '$2'"; fi; }
exists() { if [ -e "$1" ]; then ok; else no "missing: $1"; fi; }

echo "-- make install / uninstall (PREFIX=/usr/local, DESTDIR)"
I="$T/inst"
if make --no-print-directory -s install B="$B" DESTDIR="$I" PREFIX=/usr/local >"$T/install.log" 2>&1; then ok; else
  no "make install"
  tail -20 "$T/install.log"
fi
for f in bin/gpupool bin/gpupoold bin/gpupool-agent share/man/man1/gpupool.1 share/man/man8/gpupoold.8 \
  share/man/man8/gpupool-agent.8 share/bash-completion/completions/gpupool lib/systemd/system/gpupoold.service \
  share/doc/gpupool/README.md share/doc/gpupool/examples/pool-a100-mixed-mig.json; do
  exists "$I/usr/local/$f"
done
exists "$I/usr/local/etc/default/gpupoold"
for u in packaging/systemd/*.service; do # every unit, whoever wrote it
  exists "$I/usr/local/lib/systemd/system/${u##*/}"
  hasnt "$I/usr/local/lib/systemd/system/${u##*/}" "@bindir@"
done
has "$I/usr/local/lib/systemd/system/gpupoold.service" "^ExecStart=/usr/local/bin/gpupoold "
eq "$("$I/usr/local/bin/gpupool" --version)" "gpupool $VERSION" "installed gpupool --version"
has "$I/usr/local/share/man/man1/gpupool.1" "nodepool add"
if make --no-print-directory -s uninstall B="$B" DESTDIR="$I" PREFIX=/usr/local >"$T/uninstall.log" 2>&1; then ok; else
  no "make uninstall"
fi
eq "$(cd "$I" && find . -type f | sort)" "$(for d in packaging/default/*; do echo "./usr/local/etc/default/${d##*/}"; done | sort)" \
  "what uninstall leaves (the administrator's settings files)"

echo "-- make deb (dpkg-buildpackage, debhelper)"
if scripts/make-deb.sh "$T/deb" >"$T/deb.out" 2>&1; then ok; else
  no "scripts/make-deb.sh"
  cat "$T/deb.out"
  echo "packaging: $passed checks passed, $failed failed"
  exit 1
fi
DEB="$T/deb/gpupool_${VERSION}_$(dpkg --print-architecture).deb"
exists "$DEB"
dpkg-deb -f "$DEB" Package Version Depends >"$T/control"
has "$T/control" "^Package: gpupool$"
has "$T/control" "^Version: $VERSION$"
for lib in libjansson4 libcurl4 libmicrohttpd12 libsqlite3-0 libpq5 libyaml-0-2 libxml2 libgnutls30 libc6; do
  has "$T/control" "$lib"
done
dpkg-deb -I "$DEB" >"$T/info"
has "$T/info" " conffiles "
hasnt "$T/info" "postinst" # nothing runs at installation: no service is enabled or started
dpkg-deb -c "$DEB" >"$T/contents"
for f in ./usr/bin/gpupool ./usr/bin/gpupoold ./usr/bin/gpupool-agent ./lib/systemd/system/gpupoold.service \
  ./usr/share/man/man1/gpupool.1.gz ./usr/share/man/man8/gpupoold.8.gz ./usr/share/man/man8/gpupool-agent.8.gz \
  ./usr/share/bash-completion/completions/gpupool ./etc/default/gpupoold ./usr/share/doc/gpupool/copyright; do
  has "$T/contents" " $f$"
done

echo "-- dpkg -i into a throwaway root"
R="$T/root"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers"
: >"$R/var/lib/dpkg/status"
: >"$R/var/lib/dpkg/available"
asroot=
if [ "$(id -u)" != 0 ]; then
  if command -v fakeroot >/dev/null 2>&1; then asroot=fakeroot; else no "dpkg needs root or fakeroot"; fi
fi
# --path-include: a machine whose dpkg.cfg leaves out man pages and docs (container images) still
# unpacks them here, where they are checked.
if $asroot dpkg --root="$R" --force-depends --path-include='/*' -i "$DEB" >"$T/dpkg.log" 2>&1; then ok; else
  no "dpkg -i"
  cat "$T/dpkg.log"
fi
dpkg --root="$R" -s gpupool >"$T/status" 2>&1
has "$T/status" "^Status: install ok installed"
has "$T/status" "^Version: $VERSION"
"$R/usr/bin/gpupool" version -o tsv >"$T/out" 2>&1
eq "$(cut -f1,2 "$T/out")" "gpupool	$VERSION" "the installed gpupool version"
eq "$("$R/usr/bin/gpupoold" --version 2>&1)" "gpupoold $VERSION" "the installed gpupoold --version"
eq "$("$R/usr/bin/gpupool-agent" --version 2>&1)" "gpupool-agent $VERSION" "the installed gpupool-agent --version"
"$R/usr/bin/gpupool" plan -f "$R/usr/share/doc/gpupool/examples/pool-a100-mixed-mig.json" --feature ManagedGPU \
  -o table >"$T/out" 2>&1
has "$T/out" "nvidia-smi mig -cgi 14,19,19,9 -C"
gzip -dc "$R/usr/share/man/man8/gpupoold.8.gz" >"$T/man"
has "$T/man" "listen"
bash -c '. "$1"; COMP_WORDS=(gpupool nodepool pl); COMP_CWORD=2; _gpupool; echo "${COMPREPLY[*]}"' sh \
  "$R/usr/share/bash-completion/completions/gpupool" >"$T/out" 2>&1
eq "$(cat "$T/out")" "plan" "the installed completion"
# systemd-analyze verify in the root: it also needs what a real machine has there, systemd's own
# targets and /bin/kill (ExecReload); man finds the unit's man page through MANPATH.
mkdir -p "$R/bin"
cp /bin/kill "$R/bin/"
cp /lib/systemd/system/*.target /lib/systemd/system/*.slice "$R/lib/systemd/system/" 2>/dev/null
MANPATH="$R/usr/share/man" systemd-analyze verify --root="$R" gpupoold.service >"$T/verify" 2>&1
eq "$?" 0 "systemd-analyze verify gpupoold.service"
eq "$(cat "$T/verify")" "" "systemd-analyze verify says nothing"
has "$R/lib/systemd/system/gpupoold.service" "^ExecStart=/usr/bin/gpupoold "
$asroot dpkg --root="$R" -r gpupool >"$T/dpkg.log" 2>&1
if [ -e "$R/usr/bin/gpupool" ]; then no "dpkg -r left /usr/bin/gpupool"; else ok; fi
exists "$R/etc/default/gpupoold" # a conffile stays until purge
$asroot dpkg --root="$R" --purge gpupool >"$T/dpkg.log" 2>&1
if [ -e "$R/etc/default/gpupoold" ]; then no "dpkg --purge left /etc/default/gpupoold"; else ok; fi

echo "packaging: $passed checks passed, $failed failed"
[ "$failed" = 0 ]
