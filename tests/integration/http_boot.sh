#!/bin/sh
# limit: 90
# HTTP boot paths fetched with curl from a real gridbootd: boot.ipxe, the
# per-machine iPXE scripts for every boot kind, plan9.ini (compared with
# `gridbootd plan9ini`), U-Boot script images (checked with mkimage -l),
# kernels with Range/HEAD/ETag, containment, and bad input.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/http/common.sh"

if ! http_start; then
	not_ok "gridbootd starts and serves HTTP"; cat "$T_TMP/gridbootd.log"; t_done; exit 1
fi
ok "gridbootd starts and serves HTTP on port $HTTP_PORT"
D=$T_TMP/dl
mkdir -p "$D"

# --- boot.ipxe: the entry script chains to the per-machine script
curl -fsS "$BASE/boot.ipxe" >"$D/boot.ipxe"
check "boot.ipxe is an iPXE script" grep -q '^#!ipxe' "$D/boot.ipxe"
check "boot.ipxe chains to ipxe/\${mac:hexraw}.ipxe" \
	grep -qF "chain $BASE/ipxe/\${mac:hexraw}.ipxe" "$D/boot.ipxe"

# --- Plan 9 BIOS: multiboot over HTTP, kernel and plan9.ini module
curl -fsS "$BASE/ipxe/525400000011.ipxe" >"$D/cpu1.ipxe"
check "cpu1 (BIOS, Plan 9): kernel line names its kernel" \
	grep -qx "kernel $BASE/files/amd64/9pc64" "$D/cpu1.ipxe"
check "cpu1: module line names its plan9.ini" \
	grep -qx "module $BASE/plan9.ini/525400000011" "$D/cpu1.ipxe"
check "cpu1: boot" grep -qx boot "$D/cpu1.ipxe"
# Every URL the script names must be fetchable and be what the inventory says.
curl -fsS "$(sed -n 's/^kernel //p' "$D/cpu1.ipxe")" -o "$D/k"
check "cpu1: the kernel URL serves the kernel file" cmp -s "$D/k" "$T_TMP/files/amd64/9pc64"
curl -fsS "$(sed -n 's/^module //p' "$D/cpu1.ipxe")" -o "$D/ini"
"$GRIDBOOTD" plan9ini -c "$CFG" cpu1 >"$D/ini.cli"
check "cpu1: the module URL serves what gridbootd plan9ini prints" cmp -s "$D/ini" "$D/ini.cli"
curl -fsS "$BASE/cfg/pxe/525400000011" -o "$D/ini2"
check "cfg/pxe/<mac> is the same plan9.ini" cmp -s "$D/ini2" "$D/ini.cli"
"$GRIDBOOTD" plan9ini -c "$CFG" default >"$D/def.cli"
curl -fsS "$BASE/cfg/pxe/default" -o "$D/def"
check "cfg/pxe/default is what gridbootd plan9ini default prints" cmp -s "$D/def" "$D/def.cli"

# --- Plan 9 UEFI: chain to 9front's EFI loader
curl -fsS "$BASE/ipxe/525400000012.ipxe" >"$D/term1.ipxe"
check "term1 (UEFI, Plan 9): chains to grid.loaders.plan9_efi_x64" \
	grep -qx "chain $BASE/files/efi/bootx64.efi" "$D/term1.ipxe"
curl -fsS "$BASE/ipxe/525400000013.ipxe" >"$D/cpu9.ipxe"
check "cpu9 (BIOS, boot = 9boot) under iPXE: chains to grid.loaders.plan9_bios" \
	grep -qx "chain $BASE/files/efi/9bootpxe" "$D/cpu9.ipxe"
check "cpu9: its plan9.ini names the kernel for 9bootpxe" \
	sh -c "curl -fsS '$BASE/cfg/pxe/525400000013' | grep -qx 'bootfile=/amd64/9pc64'"
curl -fsS "$BASE/files/efi/bootx64.efi" -o "$D/efi"
check "term1: the loader URL serves the loader" cmp -s "$D/efi" "$T_TMP/files/efi/bootx64.efi"
check "term1: its plan9.ini names the kernel for the EFI loader (bootfile)" \
	sh -c "curl -fsS '$BASE/plan9.ini/525400000012' | grep -qx 'bootfile=/amd64/9pc64'"

# --- Linux payload: kernel + initrd + args with server URL and MAC
curl -fsS "$BASE/ipxe/525400000031.ipxe" >"$D/lin1.ipxe"
check "lin1 (Linux): kernel line with cmdline, server URL and MAC" \
	grep -qx "kernel $BASE/files/discovery/amd64/vmlinuz initrd=initrd console=ttyS0 quiet gridboot.server=$BASE gridboot.mac=52:54:00:00:00:31" "$D/lin1.ipxe"
check "lin1: initrd line" \
	grep -qx "initrd --name initrd $BASE/files/discovery/amd64/initrd.gz" "$D/lin1.ipxe"
curl -fsS "$BASE/files/discovery/amd64/initrd.gz" -o "$D/initrd"
check "lin1: the initrd URL serves the initrd" cmp -s "$D/initrd" "$T_TMP/files/discovery/amd64/initrd.gz"

# --- unknown machine: grid.unknown's role (the discovery image)
curl -fsS "$BASE/ipxe/5254000000ff.ipxe" >"$D/unk.ipxe"
check "unknown MAC gets grid.unknown (discovery) with its own MAC" \
	grep -q "gridboot.mac=52:54:00:00:00:ff" "$D/unk.ipxe"

# --- U-Boot script images
curl -fsS "$BASE/uboot/525400000021.scr.uimg" -o "$D/arm1.uimg"
mkimage -l "$D/arm1.uimg" >"$D/arm1.l" 2>&1
check "arm1 uboot image: mkimage -l sees an AArch64 script" grep -q "AArch64 Linux Script" "$D/arm1.l"
tail -c +73 "$D/arm1.uimg" >"$D/arm1.scr"
check "arm1 script clears CONFADDR then loads plan9.ini to 0x40010000" \
	sh -c "grep -qx 'mw.b 0x40010000 0x0 0x10000' '$D/arm1.scr' && grep -qx 'tftpboot 0x40010000 cfg/pxe/525400000021' '$D/arm1.scr'"
check "arm1 script loads the kernel to 0x40100000 and bootm" \
	sh -c "grep -qx 'tftpboot 0x40100000 arm64/9qemu.u' '$D/arm1.scr' && grep -qx 'bootm 0x40100000' '$D/arm1.scr'"
curl -fsS --interface 127.0.0.21 "$BASE/boot.scr.uimg" -o "$D/arm1b.uimg"
check "boot.scr.uimg from arm1's address is arm1's image" cmp -s "$D/arm1.uimg" "$D/arm1b.uimg"
curl -fsS "$BASE/uboot/52:54:00:00:00:22.scr.uimg" -o "$D/armlin.uimg"
check "armlin (Linux) image passes mkimage -l's CRC checks" \
	sh -c "mkimage -l '$D/armlin.uimg' | grep -q 'AArch64 Linux Script'"
tail -c +73 "$D/armlin.uimg" >"$D/armlin.scr"
# mkimage itself, given the same script, must build the same bytes.
SOURCE_DATE_EPOCH=0 mkimage -A arm64 -O linux -T script -C none -n "gridboot armlin" \
	-d "$D/armlin.scr" "$D/armlin.ref" >/dev/null 2>&1
check "armlin image is byte-for-byte what mkimage -T script builds" cmp -s "$D/armlin.uimg" "$D/armlin.ref"
check "armlin script: booti with the server URL and MAC on the command line" \
	sh -c "grep -q 'gridboot.server=$BASE gridboot.mac=52:54:00:00:00:22' '$D/armlin.scr' && grep -q '^booti ' '$D/armlin.scr'"
curl -fsS "$BASE/boot.scr.uimg" -o "$D/chain.uimg"
check "boot.scr.uimg from an address with no lease chains by \${ethaddr}" \
	sh -c "mkimage -l '$D/chain.uimg' >/dev/null && tail -c +73 '$D/chain.uimg' | grep -q 'uboot/\${ethaddr}.scr.uimg'"
# A corrupted image must fail mkimage's CRC check (so the check above means something).
cp "$D/arm1.uimg" "$D/bad.uimg"
printf 'X' | dd of="$D/bad.uimg" bs=1 seek=80 conv=notrunc 2>/dev/null
check "mkimage -l does not take a corrupted copy for a script (the CRC check is real)" \
	sh -c "! mkimage -l '$D/bad.uimg' 2>&1 | grep -q 'Linux Script'"

# --- kernels: HEAD, Range, ETag, conditional requests
K=$BASE/files/amd64/9pc64
curl -fsS -I "$K" >"$D/head"
check "HEAD: Content-Length is the kernel's size" grep -qi "^Content-Length: 1048576" "$D/head"
check "HEAD: Accept-Ranges, ETag, Last-Modified" \
	sh -c "grep -qi '^Accept-Ranges: bytes' '$D/head' && grep -qi '^ETag: \"' '$D/head' && grep -qi '^Last-Modified: ' '$D/head'"
etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *\(.*\)\r$/\1/p' "$D/head")
lm=$(sed -n 's/^[Ll]ast-[Mm]odified: *\(.*\)\r$/\1/p' "$D/head")
curl -fsS -r 1000-1999 -D "$D/rh" "$K" -o "$D/r1"
check "Range 1000-1999: 206 with Content-Range" \
	sh -c "grep -q '^HTTP/1.1 206' '$D/rh' && grep -qi 'Content-Range: bytes 1000-1999/1048576' '$D/rh'"
dd if="$T_TMP/files/amd64/9pc64" bs=1000 skip=1 count=1 2>/dev/null >"$D/r1.want"
check "Range 1000-1999: the right bytes" cmp -s "$D/r1" "$D/r1.want"
curl -fsS -r -100 "$K" -o "$D/r2"
tail -c 100 "$T_TMP/files/amd64/9pc64" >"$D/r2.want"
check "Range -100: the last 100 bytes" cmp -s "$D/r2" "$D/r2.want"
curl -fsS -r 1048000- "$K" -o "$D/r3"
check "Range 1048000-: 576 bytes" [ "$(wc -c <"$D/r3")" -eq 576 ]
check "Range past the end: 416" [ "$(code GET "$K" -r 2000000-)" = 416 ]
check "If-None-Match with the ETag: 304" [ "$(code GET "$K" -H "If-None-Match: $etag")" = 304 ]
check "If-Modified-Since its Last-Modified: 304" [ "$(code GET "$K" -H "If-Modified-Since: $lm")" = 304 ]
check "If-Range with a stale ETag: the whole file (200)" \
	[ "$(code GET "$K" -r 0-9 -H 'If-Range: "stale"')" = 200 ]
check "If-Range with the current ETag: 206" [ "$(code GET "$K" -r 0-9 -H "If-Range: $etag")" = 206 ]
head -c 524288 "$T_TMP/files/amd64/9pc64" >"$D/resume"
curl -fsS -C - "$K" -o "$D/resume"
check "a resumed download (curl -C -) completes the file" cmp -s "$D/resume" "$T_TMP/files/amd64/9pc64"
curl -fsS "$BASE/files/inside" -o "$D/inside"
check "a symlink inside the tree is served" cmp -s "$D/inside" "$T_TMP/files/amd64/9pc64"

# --- containment and bad input: 4xx with a JSON error
jerr() {	# STATUS URL [curl args]: status matches and body is {"error": ...}
	want=$1 u=$2; shift 2
	got=$(curl -s -o "$D/err" -w '%{http_code}' "$@" "$u")
	[ "$got" = "$want" ] && grep -q '^{"error": *"' "$D/err"
}
check "traversal with .. is refused (400)" jerr 400 "$BASE/files/../outside.txt" --path-as-is
check "encoded traversal %2e%2e is refused (400)" jerr 400 "$BASE/files/%2e%2e/outside.txt" --path-as-is
check "a symlink leading out of the tree is refused (403)" jerr 403 "$BASE/files/escape"
check "a FIFO is refused without blocking (403)" jerr 403 "$BASE/files/fifo"
check "a directory is not served (403, like any non-regular file)" jerr 403 "$BASE/files/amd64"
check "a missing kernel is 404" jerr 404 "$BASE/files/amd64/nothere"
check "a bad MAC in ipxe/ is 400" jerr 400 "$BASE/ipxe/zz.ipxe"
check "a bad MAC in plan9.ini/ is 400" jerr 400 "$BASE/plan9.ini/52540000001"
check "a bad MAC in uboot/ is 400" jerr 400 "$BASE/uboot/nothing.scr.uimg"
check "plan9.ini of an unknown machine is 404" jerr 404 "$BASE/plan9.ini/5254000000ff"
long=$(head -c 3000 /dev/zero | tr '\0' a)
check "an overlong URL is 414" jerr 414 "$BASE/files/$long"
check "overlong headers are 431" jerr 431 "$BASE/boot.ipxe" -H "X-Junk: $long$long$long"
check "POST to a boot path is 405" jerr 405 "$BASE/boot.ipxe" -X POST -d x
check "the daemon still serves after all that" curl -fsS -o /dev/null "$BASE/boot.ipxe"
check "boot fetches are on the timeline as http events" \
	grep -q "event http 52:54:00:00:00:11 GET /ipxe/525400000011.ipxe" "$T_TMP/gridbootd.log"

# --- what `gridbootd explain` (the DHCP module) says a client fetches
# next must be what HTTP serves. explain is always built (the DHCP module
# adds it): if it does not answer --help, that is a failure, not a skip.
check "gridbootd explain --help works" sh -c "'$GRIDBOOTD' explain --help >/dev/null 2>&1"
if "$GRIDBOOTD" explain --help >/dev/null 2>&1; then
	sed 's/dhcp = "off"/dhcp = "full"/' "$CFG" >"$T_TMP/explain.cfg"
	ex() { "$GRIDBOOTD" explain -c "$T_TMP/explain.cfg" "$@" 2>&1; }
	for mac in 525400000011 525400000012 525400000031 5254000000ff; do
		colon=$(echo $mac | sed 's/\(..\)/\1:/g; s/:$//')
		ex --mac "$colon" --arch 0 --user-class iPXE >"$D/ex.$mac"
		url=$(sed -n 's/^  option 67 "\(http:.*\)"$/\1/p' "$D/ex.$mac")
		next=$(sed -n 's/^  2\. HTTP GET \([^ ]*\) (chained by boot.ipxe)$/\1/p' "$D/ex.$mac")
		check "explain $colon (iPXE): option 67 is our boot.ipxe and it is served" \
			sh -c "[ '$url' = '$BASE/boot.ipxe' ] && curl -fsS '$url' | grep -qF 'ipxe/\${mac:hexraw}.ipxe'"
		check "explain $colon: the chained script it names ($next) is served" \
			sh -c "[ '$next' = 'ipxe/$mac.ipxe' ] && curl -fsS '$BASE/$next' | grep -q '^#!ipxe'"
	done
	ex --mac 52:54:00:00:00:12 --arch 7 >"$D/ex.efi"
	f=$(sed -n 's/^  file      //p' "$D/ex.efi")
	check "explain term1 (UEFI PXE): its loader $f is served under /files/" \
		sh -c "[ -n '$f' ] && curl -fsS '$BASE/files/$f' | cmp -s - '$T_TMP/files/$f'"
	k=$(sed -n 's/^  3\. TFTP the kernel named by bootfile= (\(.*\))$/\1/p' "$D/ex.efi")
	check "explain term1: the kernel it names ($k) is plan9.ini's bootfile" \
		sh -c "[ -n '$k' ] && curl -fsS '$BASE/cfg/pxe/525400000012' | grep -qx 'bootfile=/$k'"
	ex --mac 52:54:00:00:00:21 --arch 22 >"$D/ex.arm"
	f=$(sed -n 's/^  file      //p' "$D/ex.arm")
	check "explain arm1 (U-Boot): its file $f is arm1's script image" \
		sh -c "[ '$f' = boot.scr.uimg ] && curl -fsS --interface 127.0.0.21 '$BASE/$f' | cmp -s - '$D/arm1.uimg'"
fi

check "gridbootd exits cleanly on SIGTERM" stop_gridbootd
t_done
