#!/bin/sh
# debian-root.sh: prints the path of a Debian 12 root directory with
# systemd as init and the packages named in tests/tools/debian-root.pkgs,
# built by mmdebstrap once and kept in $GRIDBOOT_ROOT_CACHE (default
# /var/cache/gridboot-test) under a name keyed by a hash of that list and
# of this script, so later runs reuse it. The first build fetches from the
# Debian mirror the machine's apt uses (its sources files are handed to
# mmdebstrap; no mirror is named here). Exit 1 with the reason on stderr.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${GRIDBOOT_ROOT_CACHE:-/var/cache/gridboot-test}
pkgs=$(grep -v '^#' "$here/debian-root.pkgs" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
key=$(cat "$here/debian-root.pkgs" "$0" | sha256sum | cut -c1-16)
root=$cache/bookworm-$key
if [ -f "$root/.complete" ]; then
	echo "$root"
	exit 0
fi
command -v mmdebstrap >/dev/null 2>&1 || { echo "mmdebstrap is not installed" >&2; exit 1; }
mkdir -p "$cache"
# The machine's own apt sources: the same mirror apt-get uses here.
srcs=""
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[ -s "$f" ] && srcs="$srcs $f"
done
[ -n "$srcs" ] || { echo "no apt sources on this machine" >&2; exit 1; }
tmp=$root.tmp.$$
rm -rf "$tmp"
# shellcheck disable=SC2086
if ! mmdebstrap --variant=minbase --include="$pkgs" \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--customize-hook='echo gbtest > "$1/etc/hostname"' \
	--customize-hook='rm -f "$1/etc/resolv.conf"' \
	bookworm "$tmp" $srcs >"$cache/build-$key.log" 2>&1; then
	tail -n 20 "$cache/build-$key.log" >&2
	rm -rf "$tmp"
	echo "mmdebstrap failed (log: $cache/build-$key.log)" >&2
	exit 1
fi
touch "$tmp/.complete"
rm -rf "$root"
mv "$tmp" "$root"
echo "$root"
