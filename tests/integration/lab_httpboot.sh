#!/bin/sh
# limit: 600
# UEFI HTTP Boot by real firmware: an amd64 OVMF VM (Debian 12's ovmf,
# OVMF_CODE_4M.fd) netboots the discovery image through the firmware's own
# HTTP boot (NetworkPkg's HttpBootDxe), no PXE and no TFTP:
#   disc-http (kind uefihttp): OVMF DHCP with vendor class
#   HTTPClient:Arch:00016 -> gridbootd's option 60 HTTPClient and
#   http://10.99.0.1:80/files/loaders/ipxe.efi -> the firmware's HTTP GET
#   (User-Agent UefiHttpBoot/1.0) -> ipxe.efi: iPXE DHCP -> HTTP
#   boot.ipxe -> kernel+initrd -> enroll
# OVMF makes one boot option per load-file driver on the NIC and tries
# "UEFI PXEv4" before "UEFI HTTPv4"; PXE would take gridbootd's PXE answer
# and TFTP the loader. So the VM runs with both PXE drivers switched off
# (fw_cfg opt/org.tianocore/IPv4PXESupport and IPv6PXESupport = n, read by
# OvmfPkg's PxeBcPcdLib): its NIC's first boot option is then HTTPv4.
# No TFTP, proved three ways: gridbootd counted no TFTP request
# (gridboot_tftp_requests_total), the machine's timeline has no tftp event,
# and a dump of the VM's NIC (QEMU filter-dump) has no UDP datagram to
# port 69. The firmware's own console lines prove it was HTTP boot.
# An OVMF without HttpBootDxe cannot do this: the test then says so as a
# SKIP with the evidence, never as a pass. Needs root, QEMU, OVMF, Debian's
# ipxe and the discovery image (built here, cached in kernels/.cache).
. "${GRIDBOOT_TOP:-.}/tests/lib.sh"
LAB_TOP=$GRIDBOOT_TOP
. "$LAB_TOP/test-lab/lib.sh"

NS=gbhttp$$
DIR=$T_TMP/lab
DEADLINE=400            # seconds for the VM to power off
NAME=disc-http
MAC=52:54:00:00:00:27
MEM=304                 # MiB: a size no other lab VM has
mkdir -p "$DIR"

if [ "$(id -u)" != 0 ]; then
	not_ok "lab_httpboot needs root (network namespace, taps)"
	t_done
	exit 1
fi

# --- does this OVMF have HTTP boot at all? -----------------------------
# The DXE drivers sit in an LZMA-compressed firmware volume, so plain
# strings(1) on the image finds nothing: decompress the LZMA sections and
# look for the HTTP boot driver's name and its boot-time message.
ovmf_has_httpboot() {
	python3 - "$OVMF_CODE" <<'EOF'
import lzma, re, sys
d = open(sys.argv[1], "rb").read()
found = set()
for m in re.finditer(b"\x5d\x00\x00", d):
    try:
        o = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(d[m.start():m.start() + (16 << 20)])
    except Exception:
        continue
    # The driver's name is its file's UI section (UTF-16).
    if "HttpBootDxe".encode("utf-16-le") in o:
        found.add("HttpBootDxe")
    if "Start HTTP Boot".encode("utf-16-le") in o:
        found.add("msg")
sys.exit(0 if found == {"HttpBootDxe", "msg"} else 1)
EOF
}
if ! [ -f "$OVMF_CODE" ]; then
	ok "# SKIP no OVMF at $OVMF_CODE (Debian's ovmf package)"
	t_done
	exit 0
fi
if ! ovmf_has_httpboot; then
	ok "# SKIP $OVMF_CODE has no HttpBootDxe (no \"Start HTTP Boot\" in its firmware volumes): this OVMF cannot do UEFI HTTP boot"
	t_done
	exit 0
fi
ok "$OVMF_CODE carries HttpBootDxe (UEFI HTTP boot)"

# --- the discovery image and the loaders --------------------------------
if sh "$LAB_TOP/test-lab/build-discovery.sh" amd64 >"$DIR/build.log" 2>&1; then
	ok "discovery image built (amd64)"
else
	sed 's/^/# /' "$DIR/build.log"
	not_ok "discovery image built: see above (Debian's mirror unreachable and no cache?)"
	t_done
	exit 1
fi
lab_ensure_loaders "$LAB_TOP/kernels"
lab_cfg "$DIR/lab.cfg" "$DIR/state"
check "the lab inventory is valid" "$GRIDBOOTD" check -c "$DIR/lab.cfg"
out=$("$GRIDBOOTD" explain -c "$DIR/lab.cfg" --mac $MAC --arch 16 \
    --vendor-class HTTPClient:Arch:00016:UNDI:003001 2>&1)
echo "$out" | sed 's/^/# /'
check "explain: an HTTPClient gets option 60 HTTPClient and the loader's URL under /files/" \
    sh -c "echo '$out' | grep -q 'option 60 \"HTTPClient\"' &&
        echo '$out' | grep -q 'option 67 \"http://10.99.0.1:80/files/loaders/ipxe.efi\"'"

# --- network and daemon ---------------------------------------------------
on_cleanup "lab_net_down $NS"
lab_net_up "$NS" || { not_ok "namespace $NS"; t_done; exit 1; }
lab_tap_add "$NS" tap1 "$LAB_BRIDGE"
ip netns exec "$NS" "$GRIDBOOTD" serve -c "$DIR/lab.cfg" -d -l debug \
    </dev/null >>"$DIR/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
if wait_for 15 gb_serving "$DIR/gridbootd.log"; then
	ok "gridbootd serves in $NS"
else
	tail -n 20 "$DIR/gridbootd.log" | sed 's/^/# /'
	not_ok "gridbootd serves in $NS"
	t_done
	exit 1
fi
api() { ip netns exec "$NS" curl -s -m 5 "http://$LAB_SERVER$1"; }

# --- the VM ---------------------------------------------------------------
LAB_ACCEL_RESOLVED=${LAB_ACCEL:-tcg}
diag "accelerator: $LAB_ACCEL_RESOLVED"
start=$(date +%s)
p=$(lab_vm_start "$NS" $NAME uefihttp $MAC $MEM tap1 "$DIR" \
    "-object filter-dump,id=f0,netdev=n0,file=$DIR/$NAME.pcap")
track_pid "$p"
i=0
while [ $i -lt $DEADLINE ] && kill -0 "$p" 2>/dev/null; do
	sleep 1
	i=$((i + 1))
done
diag "VM ran for $(( $(date +%s) - start )) s"
if kill -0 "$p" 2>/dev/null; then
	not_ok "$NAME powered off within ${DEADLINE}s"
else
	ok "$NAME powered off"
fi
api "/api/v1/timeline?after=0" >"$DIR/timeline.json"
api "/api/v1/discovered/$MAC" >"$DIR/facts.json"
api "/metrics" >"$DIR/metrics.txt"
SER=$DIR/$NAME.serial
tr -d '\r' <"$SER" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' >"$DIR/console.txt"

# --- the firmware said it was HTTP boot -------------------------------------
con() { grep -a -q "$1" "$DIR/console.txt"; }
# (HttpBootDxe's progress, "  Downloading...N%" without newlines, cut
# down to its end.)
sed 's/  Downloading\.\.\.[0-9]*%//g' "$DIR/console.txt" |
    grep -a -E 'BdsDxe|HTTP Boot|URI:|File Size|Station IP|PXE' | cut -c1-200 |
    head -n 12 | sed 's/^/#   console: /'
check "firmware: its boot option is \"UEFI HTTPv4 (MAC:525400000027)\"" \
    con 'BdsDxe: loading Boot[0-9A-F]* "UEFI HTTPv4 (MAC:525400000027)"'
check "firmware: \">>Start HTTP Boot over IPv4\"" con '>>Start HTTP Boot over IPv4'
check "firmware: URI http://10.99.0.1:80/files/loaders/ipxe.efi" \
    con 'URI: http://10.99.0.1:80/files/loaders/ipxe.efi'
check "firmware: no PXE boot option was tried" sh -c "! grep -a -q 'UEFI PXEv' '$DIR/console.txt'"

# --- gridbootd saw the firmware's HTTP boot ---------------------------------
ev() {	# kind text-regex: the machine's first event of KIND matching
	jq -r --arg m "$MAC" --arg k "$1" '.timeline[] | select(.mac == $m and .kind == $k) | .text' \
	    "$DIR/timeline.json" 2>/dev/null | grep -E "$2" | head -n1
}
jq -r --arg m "$MAC" '.timeline[] | select(.mac == $m) | "\(.seq) \(.kind) \(.text)"' \
    "$DIR/timeline.json" 2>/dev/null | head -n 20 | sed 's/^/#   timeline: /'
got=$(ev dhcp 'file http://10.99.0.1:80/files/loaders/ipxe.efi')
check "DHCP: the firmware got http://10.99.0.1:80/files/loaders/ipxe.efi (${got:-none})" [ -n "$got" ]
# HttpBootDxe asks for the size with a HEAD, then GETs the file.
got=$(ev http 'HEAD /files/loaders/ipxe.efi .*UefiHttpBoot/')
check "HTTP: the firmware (UefiHttpBoot) asked ipxe.efi's size (${got:-none})" [ -n "$got" ]
got=$(ev http 'GET /files/loaders/ipxe.efi .*UefiHttpBoot/')
check "HTTP: the firmware (UefiHttpBoot) fetched ipxe.efi (${got:-none})" [ -n "$got" ]
got=$(ev http 'GET /boot.ipxe')
check "HTTP: iPXE then fetched boot.ipxe (${got:-none})" [ -n "$got" ]

# --- and no TFTP at all -----------------------------------------------------
n=$(sed -n 's/^gridboot_tftp_requests_total \([0-9]*\)$/\1/p' "$DIR/metrics.txt")
check "no TFTP: gridboot_tftp_requests_total is 0 (${n:-missing})" [ "${n:-x}" = 0 ]
got=$(ev tftp '.')
check "no TFTP: no tftp event on $NAME's timeline" [ -z "$got" ]
# Every IPv4 UDP datagram the VM sent or got, by destination port, from
# the pcap QEMU wrote. On a tap netdev each frame starts with the 10-byte
# virtio-net header (12 with mergeable buffers): the Ethernet header is
# found after it by its EtherType.
python3 - "$DIR/$NAME.pcap" >"$DIR/udp.txt" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
o, ports = 24, {}
while o + 16 <= len(d):
    n = struct.unpack_from("<I", d, o + 8)[0]
    f = d[o + 16:o + 16 + n]
    o += 16 + n
    for e in (0, 10, 12):
        if f[e + 12:e + 14] in (b"\x08\x00", b"\x86\xdd", b"\x08\x06"):
            f = f[e:]
            break
    if len(f) >= 42 and f[12:14] == b"\x08\x00" and f[23] == 17:
        ihl = (f[14] & 15) * 4
        dport = struct.unpack_from(">H", f, 14 + ihl + 2)[0]
        ports[dport] = ports.get(dport, 0) + 1
for p in sorted(ports):
    print(p, ports[p])
EOF
diag "UDP datagrams by destination port: $(tr '\n' ' ' <"$DIR/udp.txt")"
check "no TFTP: the VM's NIC saw DHCP but no datagram to port 69" \
    sh -c "grep -q '^67 ' '$DIR/udp.txt' && ! grep -q '^69 ' '$DIR/udp.txt'"

# --- the discovery image enrolled -------------------------------------------
res=$(grep -a 'GRIDBOOT-DISCOVERY:' "$SER" | tail -n1 | tr -d '\r')
diag "$NAME: ${res:-no result line}"
case $res in
*" enrolled "*firmware=uefi*) ok "$NAME: discovery image says enrolled, firmware=uefi" ;;
*) not_ok "$NAME: discovery image says enrolled, firmware=uefi"
   tail -n 25 "$DIR/console.txt" | sed 's/^/#   /' ;;
esac
got=$(jq -r .facts.mac "$DIR/facts.json" 2>/dev/null)
check "$NAME: enrolled with its MAC $MAC (API: ${got:-none})" [ "$got" = "$MAC" ]
got=$(jq -r .facts.memory.mb "$DIR/facts.json" 2>/dev/null)
check "$NAME: enrolled with $MEM MiB (API: ${got:-none})" [ "$got" = "$MEM" ]
kinds=$(jq -r --arg m "$MAC" '.timeline[] | select(.mac == $m) | .kind' "$DIR/timeline.json" 2>/dev/null |
    uniq | tr '\n' ' ')
check "$NAME: timeline is dhcp http dhcp http enroll ($kinds)" \
    sh -c "echo '$kinds' | grep -q '^dhcp http dhcp http .*enroll'"

kill -TERM "$GB_PID" 2>/dev/null
wait "$GB_PID"
check "gridbootd exits cleanly" [ $? -eq 0 ]
if [ "$T_FAILED" -gt 0 ]; then
	diag "gridbootd log (last 40 lines):"
	tail -n 40 "$DIR/gridbootd.log" | sed 's/^/#   /'
fi
t_done
