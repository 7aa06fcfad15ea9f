#!/bin/sh
# Boots a real 9front kernel through a real 9bootpxe, served by gridbootd
# alone: QEMU's iPXE ROM gets DHCP from gridbootd, the machine's script
# (boot = "9boot") chains 9bootpxe over HTTP, 9bootpxe runs on iPXE's PXE
# API and fetches cfg/pxe/<mac12> and the kernel over gridbootd's TFTP, and
# the kernel prints on the serial port. Not part of `make test` (9front's
# binaries are never committed); run it by hand as root with files you have:
#
#   sh tests/manual/real-9bootpxe.sh /path/to/9bootpxe /path/to/9pc64
#
# Passes when the kernel's banner reaches the serial console (it read the
# plan9.ini that 9bootpxe fetched: console=0). Takes about a minute under
# TCG: 512-byte lock-step TFTP through an emulated PXE stack.
set -u
loader=$1 kernel=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
ns=gb9b$$ tap=gb9bt$$ qemu= gbd=
cleanup() {
	[ -n "$qemu" ] && kill "$qemu" 2>/dev/null
	[ -n "$gbd" ] && kill "$gbd" 2>/dev/null
	sleep 0.5
	ip netns del "$ns" 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/files/386" "$tmp/files/amd64"
cp "$loader" "$tmp/files/386/9bootpxe"
cp "$kernel" "$tmp/files/amd64/9pc64"
cat >"$tmp/grid.cfg" <<EOC
grid = { name = "p9"; authdom = "p9.grid"; server = "10.98.0.1"; files = "$tmp/files";
  state = "$tmp/state"; interfaces = ["$tap"];
  loaders = { plan9_bios = "386/9bootpxe"; ipxe_bios = "undionly.kpxe"; }; };
networks = ( { subnet = "10.98.0.0/24"; router = "10.98.0.1"; pool = "10.98.0.100-10.98.0.150"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; boot = "9boot";
  plan9ini = { service = "cpu"; bootargs = "tcp"; nobootprompt = "tcp"; }; }; };
machines = ( { name = "cpu9"; mac = "52:54:00:9b:00:01"; ip = "10.98.0.11";
  firmware = "bios"; role = "cpu"; plan9ini = { console = "0 b115200"; }; } );
EOC
ip netns add "$ns" || exit 1
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add "$tap" mode tap
ip -n "$ns" addr add 10.98.0.1/24 dev "$tap"
ip -n "$ns" link set "$tap" up
ip netns exec "$ns" "$top/build/gridbootd" serve -c "$tmp/grid.cfg" -d -l debug >"$tmp/gridbootd.log" 2>&1 &
gbd=$!
sleep 1
ip netns exec "$ns" qemu-system-x86_64 -M pc -m 512 -display none -vga std -monitor none \
	-serial file:"$tmp/serial" -boot n -no-reboot \
	-netdev tap,id=n0,ifname="$tap",script=no,downscript=no \
	-device e1000,netdev=n0,mac=52:54:00:9b:00:01 >"$tmp/qemu.log" 2>&1 &
qemu=$!
i=0
while [ $i -lt 180 ] && ! { [ -f "$tmp/serial" ] && tr -d '\r' <"$tmp/serial" | grep -q "Plan 9"; }; do
	sleep 1
	i=$((i + 1))
done
grep -E "event (tftp|http)" "$tmp/gridbootd.log" | sed 's/^/# /'
if tr -d '\r' <"$tmp/serial" | grep -q "Plan 9"; then
	sleep 5
	tr -d '\r' <"$tmp/serial" | strings | sed 's/^/# serial: /'
	echo "ok - 9bootpxe from gridbootd booted 9front in ${i}s"
	exit 0
fi
tail -n 30 "$tmp/gridbootd.log" | sed 's/^/# /'
echo "not ok - no kernel banner on the serial port in ${i}s"
exit 1
