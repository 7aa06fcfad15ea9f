#!/bin/sh
# `make kernels`: downloads the official 9front release and extracts the
# kernels and loaders the lab's Plan 9 machines boot into kernels/ (layout
# in kernels/README.md). Needs the internet (9front.org), so it is never
# part of `make test`.
#
#   amd64: 9front-NNNNN.amd64.iso.gz -> amd64/9pc64, 386/9bootpxe,
#          386/bootx64.efi, 386/bootia32.efi
#          and the whole ISO as root/: the Plan 9 root tree the lab
#          exports over 9P to its diskless machines (docs/9p.md)
#   arm64: 9front-NNNNN.arm64.qcow2.gz (when the release has one) -> the
#          kernel U-Boot boots, arm64/9qemu.u, from its DOS partition
#
# 9front keeps only its newest release in the directory; the script reads
# the listing to find it. NINEFRONT_URL sets another directory (a mirror),
# NINEFRONT_ISO / NINEFRONT_QCOW2 a file or URL to use instead. Downloads
# are kept in kernels/.cache/9front/.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
K=${GRIDBOOT_KERNELS:-$TOP/kernels}
CACHE=$K/.cache/9front
BASE=${NINEFRONT_URL:-https://9front.org/iso/}
say() { echo "kernels: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# Debian packages this needs: tests/deps.d/lab.txt lists them (installed
# when missing and we are root).
sh "$TOP/tests/install-deps.sh" core lab >&2 || die "missing packages"

mkdir -p "$CACHE"

# get NAME-OR-URL: prints a local path, downloading into the cache.
get() {
	case $1 in
	/*|./*) [ -f "$1" ] || die "no file $1"; echo "$1"; return ;;
	http://*|https://*) url=$1 ;;
	*) url=${BASE%/}/$1 ;;
	esac
	f=$CACHE/$(basename "$url")
	if [ ! -s "$f" ]; then
		say "downloading $url"
		curl -fL --retry 2 -o "$f.part" "$url" || { rm -f "$f.part"; return 1; }
		mv "$f.part" "$f"
	fi
	echo "$f"
}

# The newest release file matching a suffix in the directory listing.
newest() {
	[ -n "${LISTING:-}" ] || LISTING=$(curl -fsSL "$BASE") || die "cannot read $BASE"
	echo "$LISTING" | grep -o "9front-[0-9][0-9a-f.]*\.$1" | sort -u |
	    sort -t- -k2 -n | tail -n1
}

# gunzip SRC.gz into the cache once.
unzipped() {
	case $1 in
	*.gz) out=$CACHE/$(basename "$1" .gz)
	      [ -s "$out" ] || gzip -dc "$1" >"$out"
	      echo "$out" ;;
	*) echo "$1" ;;
	esac
}

put() {	# file-in-tree destination
	mkdir -p "$(dirname "$K/$2")"
	cp "$1" "$K/$2.tmp" && mv "$K/$2.tmp" "$K/$2"
	say "$2 ($(wc -c <"$K/$2") bytes)"
}

# --- amd64: the ISO ------------------------------------------------------
iso=${NINEFRONT_ISO:-$(newest 'amd64\.iso\.gz')}
[ -n "$iso" ] || die "no 9front-*.amd64.iso.gz in $BASE"
isog=$(get "$iso") || die "cannot download $iso"
isof=$(unzipped "$isog")
x=$(mktemp -d /tmp/gb-9front.XXXXXX)
trap 'rm -rf "$x"' EXIT
# bsdtar reads ISO 9660 with its Joliet names (9front's mk9660 -j).
bsdtar -x -f "$isof" -C "$x" amd64/9pc64 386/9bootpxe 386/bootx64.efi \
    386/bootia32.efi 2>/dev/null || true
[ -f "$x/amd64/9pc64" ] || die "$iso has no amd64/9pc64"
put "$x/amd64/9pc64" amd64/9pc64
for f in 386/9bootpxe 386/bootx64.efi 386/bootia32.efi; do
	if [ -f "$x/$f" ]; then put "$x/$f" "$f"; else say "$iso has no $f"; fi
done

# --- the root tree: the whole ISO, plus the empty mount points -----------
# The namespace files bind onto these; an ISO 9660 image keeps no empty
# directories for them. Extracted beside, then swapped in whole.
rm -rf "$K/root.new"
mkdir -p "$K/root.new"
bsdtar -x -f "$isof" -C "$K/root.new" 2>/dev/null || die "cannot extract $iso"
for d in env dev proc net net.alt srv mnt/term mnt/wsys mnt/temp n tmp root fd \
    bin shr sys/log usr/glenda/lib usr/glenda/tmp usr/bootes/lib usr/bootes/tmp; do
	mkdir -p "$K/root.new/$d"
done
chmod -R u+w "$K/root.new"
# Plan 9 ownership (docs/9p.md): the export checks permissions per file,
# so each home is its user's (the user.plan9 attribute), and tmp/ is open
# to all. Everything else stays untagged: the export's owner's, readable.
chmod 0777 "$K/root.new/tmp"
python3 - "$K/root.new" <<'EOP' || die "cannot tag the homes (user.plan9)"
import os, sys
root = sys.argv[1]
for user in ("glenda", "bootes"):
    home = os.path.join(root, "usr", user)
    for dirpath, dirs, files in os.walk(home):
        for name in [dirpath] + [os.path.join(dirpath, f) for f in files]:
            os.setxattr(name, "user.plan9", ("%s:%s:%s" % (user, user, user)).encode())
EOP
rm -rf "$K/root.old"
[ -d "$K/root" ] && mv "$K/root" "$K/root.old"
mv "$K/root.new" "$K/root" && rm -rf "$K/root.old"
say "root/ ($(find "$K/root" -type f | wc -l) files)"

# --- arm64: the QEMU image's DOS partition -------------------------------
q=${NINEFRONT_QCOW2:-$(newest 'arm64\.qcow2\.gz' || true)}
if [ -z "$q" ]; then
	say "no arm64 QEMU image in $BASE: arm1 stays off (put 9qemu.u in kernels/arm64/ by hand)"
	exit 0
fi
qg=$(get "$q") || { say "cannot download $q: arm1 stays off"; exit 0; }
qf=$(unzipped "$qg")
qemu-img convert -O raw "$qf" "$x/arm64.raw"
# The first FAT partition of the MBR (types 0x01 0x04 0x06 0x0b 0x0c 0x0e).
off=$(python3 - "$x/arm64.raw" <<'EOF'
import struct, sys
with open(sys.argv[1], "rb") as f:
    mbr = f.read(512)
if mbr[510:512] == b"\x55\xaa":
    for i in range(4):
        e = mbr[446 + 16 * i: 462 + 16 * i]
        if e[4] in (0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E):
            print(struct.unpack("<I", e[8:12])[0] * 512)
            break
EOF
)
[ -n "$off" ] || { say "$q: no DOS partition found: arm1 stays off"; exit 0; }
if MTOOLS_SKIP_CHECK=1 mcopy -n -i "$x/arm64.raw@@$off" ::9qemu.u "$x/9qemu.u" 2>/dev/null; then
	put "$x/9qemu.u" arm64/9qemu.u
else
	say "$q: no 9qemu.u in its DOS partition: arm1 stays off"
fi
