#!/bin/sh
# limit: 120
# `make kernels` without the internet: test-lab/fetch-kernels.sh is given
# release media made here in 9front's shapes (an ISO 9660 image with
# Joliet names holding amd64/9pc64 and the 386 loaders, gzipped; a gzipped
# qcow2 disk whose MBR's FAT partition holds 9qemu.u) and must put the
# files where kernels/README.md says, byte for byte.
. "${GRIDBOOT_TOP:-.}/tests/lib.sh"
F=$T_TMP/media
mkdir -p "$F/iso/amd64" "$F/iso/386" "$F/iso/cfg" "$F/iso/rc/bin" "$F/out"
printf '#!/bin/rc\necho termrc\n' >"$F/iso/rc/bin/termrc"
head -c 300000 /dev/urandom >"$F/iso/amd64/9pc64"
head -c 20000 /dev/urandom >"$F/iso/386/9bootpxe"
head -c 40000 /dev/urandom >"$F/iso/386/bootx64.efi"
echo 'bootfile=/amd64/9pc64' >"$F/iso/cfg/plan9.ini"
(cd "$F/iso" && bsdtar -cf "$F/9front-12345.amd64.iso" --format iso9660 \
    --options 'joliet,!rockridge' .) && gzip "$F/9front-12345.amd64.iso"
check "made an ISO" [ -s "$F/9front-12345.amd64.iso.gz" ]

# A 16 MiB disk: MBR with one FAT32-LBA partition at sector 2048.
python3 - "$F/arm.raw" <<'EOF'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.truncate(16 << 20)
    mbr = bytearray(512)
    mbr[446:462] = bytes([0x80, 0, 0, 0, 0x0C, 0, 0, 0]) + struct.pack("<II", 2048, 32768 - 2048)
    mbr[510:512] = b"\x55\xaa"
    f.write(mbr)
EOF
head -c 100000 /dev/urandom >"$F/9qemu.u"
export MTOOLS_SKIP_CHECK=1
mformat -i "$F/arm.raw@@1048576" :: &&
    mcopy -i "$F/arm.raw@@1048576" "$F/9qemu.u" ::9qemu.u &&
    qemu-img convert -O qcow2 "$F/arm.raw" "$F/9front-12345.arm64.qcow2" &&
    gzip "$F/9front-12345.arm64.qcow2"
check "made a qcow2 image" [ -s "$F/9front-12345.arm64.qcow2.gz" ]

if GRIDBOOT_KERNELS=$F/out NINEFRONT_ISO=$F/9front-12345.amd64.iso.gz \
    NINEFRONT_QCOW2=$F/9front-12345.arm64.qcow2.gz \
    sh "$GRIDBOOT_TOP/test-lab/fetch-kernels.sh" >"$F/log" 2>&1; then
	ok "fetch-kernels.sh extracts the release"
else
	sed 's/^/# /' "$F/log"
	not_ok "fetch-kernels.sh extracts the release"
fi
check "amd64/9pc64 identical" cmp -s "$F/iso/amd64/9pc64" "$F/out/amd64/9pc64"
check "386/9bootpxe identical" cmp -s "$F/iso/386/9bootpxe" "$F/out/386/9bootpxe"
check "386/bootx64.efi identical" cmp -s "$F/iso/386/bootx64.efi" "$F/out/386/bootx64.efi"
check "arm64/9qemu.u identical" cmp -s "$F/9qemu.u" "$F/out/arm64/9qemu.u"
check "root/: the ISO's tree (rc/bin/termrc identical)" cmp -s "$F/iso/rc/bin/termrc" "$F/out/root/rc/bin/termrc"
check "root/: the mount points the namespace binds onto" \
    sh -c "for d in env dev proc net srv mnt/term n tmp usr/glenda/lib; do [ -d '$F/out/root/'\$d ] || exit 1; done"
check "root/: nothing left half-made" sh -c "[ ! -e '$F/out/root.new' ] && [ ! -e '$F/out/root.old' ]"
t_done
