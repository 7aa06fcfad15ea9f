#!/bin/sh
# Builds the discovery image: Debian's own kernel plus a small initramfs
# (busybox-static, the NIC/virtio/9p modules, test-lab/discovery/init) for
# each architecture asked for (default: amd64 arm64), into
#   kernels/discovery/<arch>/vmlinuz     (amd64: bzImage)
#   kernels/discovery/<arch>/Image       (arm64: uncompressed, for booti)
#   kernels/discovery/<arch>/initrd.gz
#   kernels/discovery/<arch>/version     (kernel package, busybox, init hash)
#
# Packages come from Debian with `apt-get download` (never installed) and
# are cached in kernels/.cache/debs/<arch>/, so a rebuild with the cache
# filled needs no network. An image whose inputs have not changed is not
# rebuilt at all. Needs root only to add the arm64 architecture to apt the
# first time. Exits non-zero, loudly, when the packages cannot be had.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=${GRIDBOOT_DISCOVERY_OUT:-$TOP/kernels/discovery}
CACHE=${GRIDBOOT_CACHE:-$TOP/kernels/.cache}
SRC=$TOP/test-lab/discovery

say() { echo "build-discovery: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# Modules the init loads, by name; their dependencies are added from
# modules.dep. Drivers built into Debian's kernel are skipped. 9pnet_fd
# is the TCP transport, a module of its own since Linux 6.1.
mods_amd64="e1000 e1000e virtio_pci virtio_net 9p 9pnet 9pnet_fd"
mods_arm64="virtio_pci virtio_mmio virtio_net 9p 9pnet 9pnet_fd"

# Makes sure apt knows the packages of architecture $1 (foreign arm64
# needs `dpkg --add-architecture` and a fresh package list once).
apt_ready() {
	a=$1
	if [ "$a" != "$(dpkg --print-architecture)" ] &&
	    ! dpkg --print-foreign-architectures | grep -qx "$a"; then
		[ "$(id -u)" = 0 ] || return 1
		say "adding architecture $a to apt"
		dpkg --add-architecture "$a"
		apt-get update -qq -o DPkg::Lock::Timeout=300 || return 1
	fi
	if ! apt-cache show "linux-image-$a:$a" >/dev/null 2>&1; then
		[ "$(id -u)" = 0 ] || return 1
		apt-get update -qq -o DPkg::Lock::Timeout=300 || return 1
		apt-cache show "linux-image-$a:$a" >/dev/null 2>&1 || return 1
	fi
}

# fetch ARCH PACKAGE: prints the path of PACKAGE's .deb in the cache,
# downloading it if absent.
fetch() {
	a=$1 p=$2
	d=$CACHE/debs/$a
	mkdir -p "$d"
	f=$(ls -t "$d/${p}_"*"_$a.deb" 2>/dev/null | head -n1 || true)
	if [ -z "$f" ]; then
		say "downloading $p:$a"
		# apt drops privileges to _apt for downloads; let it write here.
		chmod 0777 "$d" 2>/dev/null || true
		(cd "$d" && apt-get download -q "$p:$a" >&2) || return 1
		f=$(ls -t "$d/${p}_"*"_$a.deb" 2>/dev/null | head -n1 || true)
	fi
	[ -n "$f" ] || return 1
	echo "$f"
}

# The real kernel package behind the linux-image-ARCH metapackage; with no
# package list (offline), the newest one already in the cache.
kernel_pkg() {
	a=$1
	p=$(apt-cache depends "linux-image-$a:$a" 2>/dev/null |
	    sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*\).*/\1/p' | head -n1)
	if [ -z "$p" ]; then
		f=$(ls -t "$CACHE/debs/$a/linux-image-"[0-9]*"_$a.deb" 2>/dev/null | head -n1 || true)
		[ -n "$f" ] && p=$(basename "$f" | sed 's/_.*//')
	fi
	echo "$p"
}

build_arch() {
	a=$1
	case $a in
	amd64) mods=$mods_amd64 ;;
	arm64) mods=$mods_arm64 ;;
	*) die "unknown architecture $a (amd64 or arm64)" ;;
	esac
	apt_ready "$a" || say "warning: no apt package list for $a; trying the cache"
	kp=$(kernel_pkg "$a")
	[ -n "$kp" ] || die "cannot find Debian's linux-image-$a (no package list and nothing cached in $CACHE/debs/$a): the discovery image needs Debian's mirror once"
	kdeb=$(fetch "$a" "$kp") || die "cannot download $kp:$a from Debian's mirror"
	bdeb=$(fetch "$a" busybox-static) || die "cannot download busybox-static:$a from Debian's mirror"

	dest=$OUT/$a
	stamp="kernel=$(basename "$kdeb") busybox=$(basename "$bdeb") init=$(cat "$SRC/init" "$SRC/udhcpc.script" "$SRC/dhcp6c.c" "$0" | md5sum | cut -c1-12)"
	if [ -f "$dest/version" ] && [ "$(cat "$dest/version")" = "$stamp" ] &&
	    [ -f "$dest/initrd.gz" ]; then
		say "$a: up to date ($stamp)"
		return 0
	fi
	say "$a: building from $(basename "$kdeb") and $(basename "$bdeb")"

	w=$(mktemp -d /tmp/gb-discovery.XXXXXX)
	# shellcheck disable=SC2064
	trap "rm -rf '$w'" EXIT
	dpkg-deb -x "$kdeb" "$w/k"
	dpkg-deb -x "$bdeb" "$w/b"
	# The modules live in /lib or /usr/lib depending on the package.
	mroot=$w/k
	[ -d "$w/k/lib/modules" ] || mroot=$w/k/usr
	kver=$(ls "$mroot/lib/modules" | head -n1)
	[ -n "$kver" ] || die "$kdeb holds no modules"
	depmod -b "$mroot" "$kver"

	r=$w/root
	mkdir -p "$r/bin" "$r/etc" "$r/lib/modules" "$r/proc" "$r/sys" "$r/dev" \
	    "$r/tmp" "$r/mnt" "$r/run"
	cp "$w/b/bin/busybox" "$r/bin/busybox"
	cp "$SRC/init" "$r/init"
	cp "$SRC/udhcpc.script" "$r/etc/udhcpc.script"
	chmod 0755 "$r/init" "$r/etc/udhcpc.script" "$r/bin/busybox"
	ln -s busybox "$r/bin/sh"
	# The DHCPv6 client for netboots over IPv6 (busybox-static has no
	# udhcpc6), static; without a compiler for $a the image is IPv4 only.
	case $a in
	amd64) dcc=cc ;;
	arm64) dcc=aarch64-linux-gnu-gcc ;;
	esac
	if command -v "$dcc" >/dev/null && "$dcc" -static -Os -s -o "$r/bin/dhcp6c" "$SRC/dhcp6c.c"; then
		:
	else
		say "warning: $a: no static $dcc: the image has no DHCPv6 client"
	fi

	# Each wanted module and its dependencies, dependencies first, in the
	# order the init loads them (/etc/modules).
	: >"$r/etc/modules"
	for m in $mods; do
		modprobe -d "$mroot" -S "$kver" --show-depends "$m" 2>/dev/null |
		    sed -n 's/^insmod \([^ ]*\).*/\1/p' || true
	done | awk '!seen[$0]++' >"$w/modlist"
	while read -r f; do
		b=$(basename "$f")
		case $b in
		*.ko.xz) xz -dc "$f" >"$r/lib/modules/${b%.xz}"; b=${b%.xz} ;;
		*.ko.zst) zstd -qdc "$f" >"$r/lib/modules/${b%.zst}"; b=${b%.zst} ;;
		*.ko.gz) gzip -dc "$f" >"$r/lib/modules/${b%.gz}"; b=${b%.gz} ;;
		*) cp "$f" "$r/lib/modules/$b" ;;
		esac
		echo "$b" >>"$r/etc/modules"
	done <"$w/modlist"
	for m in $mods; do
		grep -q "/$m\.ko" "$w/modlist" ||
		    grep -q "/$m\.ko" "$mroot/lib/modules/$kver/modules.builtin" ||
		    die "$a: module $m is neither built in nor a module of $kver"
	done
	echo "$stamp" >"$r/etc/gridboot-discovery"

	mkdir -p "$dest"
	(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	    gzip -9n >"$dest/initrd.gz.tmp"
	case $a in
	amd64) cp "$w/k/boot/vmlinuz-$kver" "$dest/vmlinuz.tmp"
	       mv "$dest/vmlinuz.tmp" "$dest/vmlinuz" ;;
	# U-Boot's booti wants the plain Image (Debian's arm64 vmlinuz is
	# one; gunzip it should a later package ship it compressed).
	arm64) if gzip -t "$w/k/boot/vmlinuz-$kver" 2>/dev/null; then
	           gzip -dc "$w/k/boot/vmlinuz-$kver" >"$dest/Image.tmp"
	       else
	           cp "$w/k/boot/vmlinuz-$kver" "$dest/Image.tmp"
	       fi
	       mv "$dest/Image.tmp" "$dest/Image" ;;
	esac
	mv "$dest/initrd.gz.tmp" "$dest/initrd.gz"
	echo "$stamp" >"$dest/version"
	say "$a: $(wc -l <"$r/etc/modules") modules, initrd $(wc -c <"$dest/initrd.gz") bytes -> $dest"
	rm -rf "$w"
	trap - EXIT
}

[ $# -gt 0 ] || set -- amd64 arm64
for a in "$@"; do
	build_arch "$a"
done
