#!/bin/sh
# build-deb.sh TOP OUTDIR: the Debian package of the tree at TOP, built with
# dpkg-buildpackage -us -uc -b from a copy of the files git would ship
# (tracked and untracked, not ignored), in OUTDIR/deb-HASH where HASH
# covers those files' names and contents outside tests/ (nothing of which
# goes into the package): a second caller with the same tree (package.sh,
# then systemd_nspawn.sh in one make test) reuses the build. Prints the directory (gridbootd_*.deb, the .changes, build.log);
# exit 1 with the log's tail on stderr when the build fails.
set -eu
top=$1 out=$2
hash=$(cd "$top" && git ls-files -co --exclude-standard -z -- . ':!tests' | sort -z |
	xargs -0 sha256sum 2>/dev/null | sha256sum | cut -c1-16)
dir=$out/deb-$hash
if ls "$dir"/gridbootd_*.deb >/dev/null 2>&1; then
	echo "$dir"
	exit 0
fi
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/src/gridboot"
(cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$dir.tmp/src/gridboot") 2>/dev/null
if ! (cd "$dir.tmp/src/gridboot" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b) \
	>"$dir.tmp/build.log" 2>&1; then
	tail -n 30 "$dir.tmp/build.log" >&2
	exit 1
fi
mkdir -p "$dir"
mv "$dir.tmp/build.log" "$dir.tmp"/src/*.deb "$dir.tmp"/src/*.changes "$dir.tmp"/src/*.buildinfo "$dir/"
rm -rf "$dir.tmp"
echo "$dir"
