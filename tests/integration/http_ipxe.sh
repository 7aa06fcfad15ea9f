#!/bin/sh
# limit: 120
# End to end with a real iPXE: QEMU's iPXE NIC ROM gets DHCP from dnsmasq
# (standing in for the site's server, pointing it at our boot.ipxe), runs
# boot.ipxe, chains to the machine's script, and boots by multiboot over
# HTTP. The "kernel" is a 60-byte multiboot image built here whose code
# copies the first module (what a 9front kernel reads as plan9.ini) to the
# serial port, then halts: the serial output must be exactly the plan9.ini
# gridbootd generates for that machine.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/http/common.sh"

for tool in qemu-system-x86_64 dnsmasq ip; do
	command -v $tool >/dev/null 2>&1 || [ -x /usr/sbin/$tool ] || {
		not_ok "$tool is installed (sh tests/install-deps.sh)"; t_done; exit 1; }
done
N=gbhttpq$$
TAP=gbhq$$
ip netns add $N || { not_ok "create a network namespace"; t_done; exit 1; }
on_cleanup "ip netns del $N 2>/dev/null"
ip -n $N link set lo up
ip -n $N tuntap add $TAP mode tap
ip -n $N addr add 10.96.0.1/24 dev $TAP
ip -n $N link set $TAP up

http_pick_port
http_tree
# The test kernel: a multiboot header with the address fields (flags
# 0x10003, loaded at 1 MiB, entry right after the header), then code:
#   mov dx,0x3f8; mov esi,[ebx+24]; mov ecx,[esi]; mov edi,[esi+4]
#   l: cmp ecx,edi; jae d; mov al,[ecx]; out dx,al; inc ecx; jmp l
#   d: mov al,'#'; out dx,al; cli; hlt; jmp $-1
printf '\002\260\255\033\003\000\001\000\373\117\121\344\000\000\020\000\000\000\020\000\000\000\000\000\000\000\000\000\040\000\020\000' >"$T_TMP/files/amd64/9pc64"
printf '\146\272\370\003\213\163\030\213\016\213\176\004\071\371\163\006\212\001\356\101\353\366\260\043\356\372\364\353\375' >>"$T_TMP/files/amd64/9pc64"
CFG=$T_TMP/grid.cfg
cat >"$CFG" <<EOF
grid = { name = "ipxetest"; server = "10.96.0.1"; files = "$T_TMP/files";
  state = "$T_TMP/state"; http_port = $HTTP_PORT; tftp_port = $((HTTP_PORT + 1));
  dhcp_port = $((HTTP_PORT + 2)); proxy_port = $((HTTP_PORT + 3)); };
networks = ( { subnet = "10.96.0.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; plan9ini = { service = "cpu"; bootargs = "tcp"; }; }; };
machines = ( { name = "qcpu"; mac = "52:54:00:00:00:51"; ip = "10.96.0.51";
  firmware = "bios"; role = "cpu"; plan9ini = { console = "0 b115200"; }; } );
EOF
ip netns exec $N "$GRIDBOOTD" serve -c "$CFG" -d -l debug >"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd serves in the namespace" wait_for 10 grep -q "info: serving " "$T_TMP/gridbootd.log"

ip netns exec $N dnsmasq --no-daemon -C /dev/null --port=0 --user=root --no-ping \
	--pid-file="$T_TMP/dnsmasq.pid" --interface=$TAP --bind-interfaces \
	--dhcp-range=10.96.0.100,10.96.0.150,1h --dhcp-host=52:54:00:00:00:51,10.96.0.51 \
	--dhcp-leasefile="$T_TMP/dnsmasq.leases" \
	--dhcp-boot="http://10.96.0.1:$HTTP_PORT/boot.ipxe" --log-dhcp \
	>"$T_TMP/dnsmasq.log" 2>&1 &
track_pid $!
# --no-ping: no 3 s ICMP probe before each OFFER.
wait_for 10 grep -q "DHCP, IP range" "$T_TMP/dnsmasq.log"

# TCG: KVM guests' iPXE sent no DHCP here (../shared/lab-facts.md).
ip netns exec $N qemu-system-x86_64 -M pc -m 128 -display none -vga std -monitor none \
	-serial file:"$T_TMP/serial" -boot n -no-reboot \
	-netdev tap,id=n0,ifname=$TAP,script=no,downscript=no \
	-device e1000,netdev=n0,mac=52:54:00:00:00:51 >"$T_TMP/qemu.log" 2>&1 &
QEMU=$!
track_pid $QEMU
wait_for 60 grep -q '#' "$T_TMP/serial"
kill $QEMU 2>/dev/null

"$GRIDBOOTD" plan9ini -c "$CFG" qcpu >"$T_TMP/want"
printf '#' >>"$T_TMP/want"
ev() { grep -q "event http 52:54:00:00:00:51 $1" "$T_TMP/gridbootd.log"; }
check "iPXE fetched boot.ipxe" ev "GET /boot.ipxe"
check "boot.ipxe chained to the machine's script" ev "GET /ipxe/525400000051.ipxe"
check "the script fetched the kernel over HTTP" ev "GET /files/amd64/9pc64"
check "and plan9.ini as the multiboot module" ev "GET /plan9.ini/525400000051"
check "the booted kernel found gridboot's plan9.ini as its first module" cmp -s "$T_TMP/serial" "$T_TMP/want"
check "gridbootd exits cleanly" stop_gridbootd
if [ $T_FAILED -gt 0 ]; then
	{ echo "serial:"; cat "$T_TMP/serial"; tail -n 20 "$T_TMP/gridbootd.log";
	  tail -n 20 "$T_TMP/dnsmasq.log"; cat "$T_TMP/qemu.log"; } | sed 's/^/# /'
fi
t_done
