#!/bin/sh
# Boots a real 9front amd64 terminal from gridbootd alone and checks that it
# mounts its root from gridbootd's 9P server (bootargs=tcp) and reaches an
# rc prompt. Not part of `make test` (9front's binaries are never
# committed); run it by hand as root:
#
#   sh tests/manual/real-9front-root.sh EMUL.git 9FRONT.git kernels/root-9emul
#   sh tests/manual/real-9front-terminal.sh /path/to/9pc64 kernels/root-9emul
#
# In a network namespace of its own (test-lab/lib.sh): gridbootd with an
# inventory whose BIOS machine term1 boots 9pc64 by iPXE multiboot (QEMU's
# NIC ROM is iPXE) with plan9.ini service=terminal bootargs=tcp, and whose
# export "" is ROOTDIR. QEMU under TCG; the serial console goes to a unix
# socket whose log is the transcript. Once the prompt shows, the commands
# in $CMDS (default: cat /dev/sysname, ls /, ns | grep boot) are typed on
# the serial line. Passes when `term% ` (or rc's `% `) appears within
# $WAIT seconds (240). The default commands also write a file through the
# writable /tmp (glenda's tmp in ROOTDIR), which must then hold what was
# written; the script removes it. KEEP=1 keeps the temporary directory
# (gridbootd's debug log, the console); PCAP=FILE records the VM's NIC
# (QEMU filter-dump) for a 9P trace.
set -u
kernel=$1 root=$2
WAIT=${WAIT:-240}
CMDS_GIVEN=${CMDS:-}
LAB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$LAB_TOP/test-lab/lib.sh"
root=$(cd "$root" && pwd)
[ -f "$root/amd64/init" ] || { echo "not ok - $root has no amd64/init"; exit 1; }
tmp=$(mktemp -d)
ns=gb9t$$
mac=52:54:00:9f:00:12
cleanup() {
	for f in "$tmp"/*.pid; do lab_pid_stop "$f"; done
	lab_net_down "$ns"
	[ -n "${KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/files/amd64"
cp "$kernel" "$tmp/files/amd64/9pc64"
cat >"$tmp/grid.cfg" <<EOC
grid = { name = "p9"; authdom = "p9.grid"; server = "$LAB_SERVER"; files = "$tmp/files";
  state = "$tmp/state"; interfaces = ["$LAB_BRIDGE"]; };
networks = ( { subnet = "10.99.0.0/24"; router = "$LAB_SERVER"; dns = ["$LAB_SERVER"];
  pool = "10.99.0.100-10.99.0.150"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { terminal = { kernel = "9pc64";
  plan9ini = { service = "terminal"; bootargs = "tcp"; nobootprompt = "tcp";
    user = "glenda"; *nomp = "1"; mouseport = "ps2"; }; }; };
machines = ( { name = "term1"; mac = "$mac"; ip = "10.99.0.12";
  firmware = "bios"; role = "terminal"; plan9ini = { console = "0 b115200"; }; } );
exports = ( { name = ""; path = "$root"; writable = [ "tmp", "usr" ];
  generated = ( { path = "lib/ndb/local"; file = "ndb"; } ); } );
EOC
"$LAB_TOP/build/gridbootd" plan9ini -c "$tmp/grid.cfg" term1 | sed 's/^/# plan9.ini: /'
lab_net_up "$ns" || exit 1
lab_tap_add "$ns" tap9t
ip netns exec "$ns" "$LAB_TOP/build/gridbootd" serve -c "$tmp/grid.cfg" -d -l debug \
    </dev/null >"$tmp/gridbootd.log" 2>&1 &
echo $! >"$tmp/gridbootd.pid"
i=0
until grep -q "serving " "$tmp/gridbootd.log" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done

# The serial console: a unix socket (to type on) whose log is the transcript.
serial=$tmp/term1.serial sock=$tmp/term1.sock
: >"$serial"
ip netns exec "$ns" qemu-system-x86_64 -M pc -accel tcg -m 1024 -display none -monitor none \
    -no-reboot -name term1 -pidfile "$tmp/term1.pid" \
    -chardev "socket,id=s0,path=$sock,server=on,wait=off,logfile=$serial" -serial chardev:s0 \
    -netdev "tap,id=n0,ifname=tap9t,script=no,downscript=no" \
    -device "e1000,netdev=n0,mac=$mac" -boot n \
    ${PCAP:+-object filter-dump,id=f0,netdev=n0,file=$PCAP} </dev/null >"$tmp/qemu.log" 2>&1 &
text() { tr -d '\r' <"$serial" | tr -c '[:print:]\n\t' '?'; }
prompt() { text | grep -q '^\(term\)\?% \|[^a-z]term% '; }
i=0
while [ $i -lt "$WAIT" ] && ! prompt; do
	sleep 1
	i=$((i + 1))
done
ok=0
if prompt; then
	ok=1
	# type on the serial line: one line at a time, a pause between
	mark=gridboot-$$
	rm -f "$root/usr/glenda/tmp/$mark"
	CMDS=${CMDS:-"cat /dev/sysname; echo
ls /
ns | grep -i boot
echo written by \$sysname >/tmp/$mark; cat /tmp/$mark; ls -l /tmp/$mark"}
	python3 - "$sock" "$CMDS" <<'EOP'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
time.sleep(1)
for line in sys.argv[2].split("\n"):
    for ch in line + "\r":
        s.send(ch.encode())
        time.sleep(0.02)
    time.sleep(4)
s.close()
EOP
	sleep 3
	if [ -n "${mark:-}" ] && [ -f "$root/usr/glenda/tmp/$mark" ]; then
		echo "# ROOTDIR/usr/glenda/tmp/$mark: $(cat "$root/usr/glenda/tmp/$mark")"
		grep -q "written by term1" "$root/usr/glenda/tmp/$mark" || ok=0
		rm -f "$root/usr/glenda/tmp/$mark"
	elif [ -n "${mark:-}" ] && [ -z "${CMDS_GIVEN:-}" ]; then
		echo "# the terminal's write to /tmp/$mark did not reach ROOTDIR"
		ok=0
	fi
fi
echo "# gridbootd: $(grep -c " 9p: " "$tmp/gridbootd.log") 9P log lines; events:"
grep -E "event (dhcp|http)" "$tmp/gridbootd.log" | head -n 12 | sed 's/^/#   /'
grep -iE "9p.*(error|refus|denied|unknown|fail)" "$tmp/gridbootd.log" | sort | uniq -c | sort -rn | head -n 20 | sed 's/^/# 9p: /'
text | sed "s/^/# serial: /"; echo
if [ $ok = 1 ]; then
	echo "ok - a 9front terminal mounted its root from gridbootd's 9P and reached an rc prompt in ${i}s"
	exit 0
fi
prompt && echo "not ok - the rc prompt came, the commands did not do their part" ||
    echo "not ok - no rc prompt on the serial console in ${i}s"
exit 1
