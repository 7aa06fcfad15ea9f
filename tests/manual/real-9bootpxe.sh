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
# plan9.ini that 9bootpxe fetched: console=0): about 25 s under TCG, most
# of it 512-byte lock-step TFTP through an emulated PXE stack. Uses the
# lab's network and VM helpers (test-lab/lib.sh), in a namespace of its own.
set -u
loader=$1 kernel=$2
LAB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$LAB_TOP/test-lab/lib.sh"
tmp=$(mktemp -d)
ns=gb9b$$
cleanup() {
	for f in "$tmp"/*.pid; do lab_pid_stop "$f"; done
	lab_net_down "$ns"
	[ -n "${KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/files/386" "$tmp/files/amd64"
cp "$loader" "$tmp/files/386/9bootpxe"
cp "$kernel" "$tmp/files/amd64/9pc64"
cat >"$tmp/grid.cfg" <<EOC
grid = { name = "p9"; authdom = "p9.grid"; server = "$LAB_SERVER"; files = "$tmp/files";
  state = "$tmp/state"; interfaces = ["$LAB_BRIDGE"];
  loaders = { plan9_bios = "386/9bootpxe"; ipxe_bios = "undionly.kpxe"; }; };
networks = ( { subnet = "10.99.0.0/24"; router = "$LAB_SERVER"; pool = "10.99.0.100-10.99.0.150"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; boot = "9boot";
  plan9ini = { service = "cpu"; bootargs = "tcp"; nobootprompt = "tcp"; }; }; };
machines = ( { name = "cpu9"; mac = "52:54:00:9b:00:01"; ip = "10.99.0.11";
  firmware = "bios"; role = "cpu"; plan9ini = { console = "0 b115200"; }; } );
EOC
lab_net_up "$ns" || exit 1
lab_tap_add "$ns" tap9
ip netns exec "$ns" "$LAB_TOP/build/gridbootd" serve -c "$tmp/grid.cfg" -d -l debug \
    </dev/null >"$tmp/gridbootd.log" 2>&1 &
echo $! >"$tmp/gridbootd.pid"
i=0
until grep -q "info: serving " "$tmp/gridbootd.log" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
lab_vm_start "$ns" cpu9 bios 52:54:00:9b:00:01 512 tap9 "$tmp" >/dev/null
serial=$tmp/cpu9.serial
i=0
while [ $i -lt 180 ] && ! tr -d '\r' <"$serial" | grep -q "Plan 9"; do
	sleep 1
	i=$((i + 1))
done
grep -E "event (tftp|http)" "$tmp/gridbootd.log" | sed 's/^/# /'
if tr -d '\r' <"$serial" | grep -q "Plan 9"; then
	sleep 5
	tr -d '\r' <"$serial" | strings | sed 's/^/# serial: /'
	echo "ok - 9bootpxe from gridbootd booted 9front in ${i}s"
	exit 0
fi
tail -n 30 "$tmp/gridbootd.log" | sed 's/^/# /'
echo "not ok - no kernel banner on the serial port in ${i}s"
exit 1
