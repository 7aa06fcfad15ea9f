#!/bin/sh
# One real 9front amd64 machine booted from gridbootd alone, outside the lab
# (for the whole grid in the lab: real-9front-lab.sh). Not part of `make
# test` (9front's binaries are never committed); run it by hand as root:
#
#   sh tests/manual/real-9front-root.sh EMUL.git 9FRONT.git kernels/root-9emul
#   sh tests/manual/real-9front.sh MODE /path/to/9pc64 kernels/root-9emul
#
# MODE:
#   terminal       term1 (service=terminal user=glenda), 9P without
#                  authentication: it mounts its root (bootargs=tcp) and
#                  reaches `term% `.
#   auth-terminal  the same with grid.p9_auth: the key file gets bootes's and
#                  glenda's keys ($PASSWORD, default gridboot-lab) from
#                  `gridbootd passwd` on stdin; factotum's `user[glenda]:` and
#                  `password:` on the serial console are answered (with
#                  $TYPED instead, when given: a wrong password, to see how
#                  the terminal fails); gridbootd must log the attach as
#                  glenda and /dev/user must say glenda.
#   auth-cpu       cpu1 (service=cpu) with grid.p9_auth and the host owner's
#                  credentials in a `gridbootd nvram` image as its first IDE
#                  disk (plan9.ini nvram=#S/sdC0/data nvroff=0 nvrlen=512):
#                  factotum -S reads authid, authdom and the key from there,
#                  nothing may be asked on the console, the attach is as
#                  bootes, cpurc ends at `cpu1# `, and the default commands
#                  show aux/listen's listeners (netstat -n).
#
# In a network namespace of its own (test-lab/lib.sh): gridbootd with an
# inventory whose BIOS machine boots 9pc64 by iPXE multiboot (QEMU's NIC ROM
# is iPXE) and whose export "" is ROOTDIR. QEMU under TCG; the serial
# console goes to a unix socket whose log is the transcript. Once the prompt
# shows, the commands in $CMDS are typed on the serial line (the terminal
# modes' defaults also write a file through the writable /tmp, glenda's tmp
# in ROOTDIR, which must then hold what was written; it is removed). Passes
# when the prompt appears within $WAIT seconds (240) and the mode's checks
# hold. KEEP=1 keeps the temporary directory (gridbootd's debug log, the
# console); PCAP=FILE records the VM's NIC (QEMU filter-dump).
set -u
mode=${1:-} kernel=${2:-} root=${3:-}
case $mode in
terminal|auth-terminal) name=term1 mac=52:54:00:9f:00:12 ip=10.99.0.12 ;;
auth-cpu) name=cpu1 mac=52:54:00:9f:00:11 ip=10.99.0.11 ;;
*) echo "usage: real-9front.sh terminal|auth-terminal|auth-cpu 9PC64 ROOTDIR" >&2; exit 2 ;;
esac
[ -n "$root" ] || { echo "usage: real-9front.sh $mode 9PC64 ROOTDIR" >&2; exit 2; }
WAIT=${WAIT:-240}
CMDS_GIVEN=${CMDS:-}
PASSWORD=${PASSWORD:-gridboot-lab}
LAB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$LAB_TOP/test-lab/lib.sh"
G=$LAB_TOP/build/gridbootd
root=$(cd "$root" && pwd)
[ -f "$root/amd64/init" ] || { echo "not ok - $root has no amd64/init"; exit 1; }
tmp=$(mktemp -d)
ns=gb9m$$ tap=tap9m
cleanup() {
	for f in "$tmp"/*.pid; do lab_pid_stop "$f"; done
	lab_net_down "$ns"
	[ -n "${KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/files/amd64"
cp "$kernel" "$tmp/files/amd64/9pc64"

auth= role=
case $mode in
auth-*) auth='authid = "bootes"; p9_auth = true;' ;;
esac
case $mode in
auth-cpu) role='cpu = { kernel = "9pc64";
  plan9ini = { service = "cpu"; bootargs = "tcp"; nobootprompt = "tcp"; *nomp = "1";
    nvram = "#S/sdC0/data"; nvroff = "0"; nvrlen = "512"; }; };' ;;
*) role='terminal = { kernel = "9pc64";
  plan9ini = { service = "terminal"; bootargs = "tcp"; nobootprompt = "tcp";
    user = "glenda"; *nomp = "1"; mouseport = "ps2"; }; };' ;;
esac
cat >"$tmp/grid.cfg" <<EOC
grid = { name = "p9"; authdom = "p9.grid"; $auth server = "$LAB_SERVER"; files = "$tmp/files";
  state = "$tmp/state"; interfaces = ["$LAB_BRIDGE"]; };
networks = ( { subnet = "10.99.0.0/24"; router = "$LAB_SERVER"; dns = ["$LAB_SERVER"];
  pool = "10.99.0.100-10.99.0.150"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { $role };
machines = ( { name = "$name"; mac = "$mac"; ip = "$ip";
  firmware = "bios"; role = "${role%% *}"; plan9ini = { console = "0 b115200"; }; } );
exports = ( { name = ""; path = "$root"; writable = [ "tmp", "usr" ];
  generated = ( { path = "lib/ndb/local"; file = "ndb"; } ); } );
EOC
"$G" plan9ini -c "$tmp/grid.cfg" "$name" | sed 's/^/# plan9.ini: /'
disk=
case $mode in
auth-*)
	echo bootes-lab | "$G" passwd -c "$tmp/grid.cfg" bootes | sed 's/^/# passwd: /'
	echo "$PASSWORD" | "$G" passwd -c "$tmp/grid.cfg" glenda | sed 's/^/# passwd: /'
	;;
esac
if [ "$mode" = auth-cpu ]; then
	"$G" nvram -c "$tmp/grid.cfg" cpu1 -o "$tmp/cpu1.nvram" || exit 1
	disk="-drive file=$tmp/cpu1.nvram,format=raw,if=ide"
fi
lab_net_up "$ns" || exit 1
lab_tap_add "$ns" "$tap"
ip netns exec "$ns" "$G" serve -c "$tmp/grid.cfg" -d -l debug </dev/null >"$tmp/gridbootd.log" 2>&1 &
echo $! >"$tmp/gridbootd.pid"
i=0
until grep -q "info: serving " "$tmp/gridbootd.log" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done

# The serial console: a unix socket (to type on) whose log is the transcript.
serial=$tmp/$name.serial sock=$tmp/$name.sock
: >"$serial"
# shellcheck disable=SC2086
ip netns exec "$ns" qemu-system-x86_64 -M pc -accel tcg -m 1024 -display none -monitor none \
    -no-reboot -name "$name" -pidfile "$tmp/$name.pid" \
    -chardev "socket,id=s0,path=$sock,server=on,wait=off,logfile=$serial" -serial chardev:s0 \
    -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
    -device "e1000,netdev=n0,mac=$mac" -boot n $disk \
    ${PCAP:+-object filter-dump,id=f0,netdev=n0,file=$PCAP} </dev/null >"$tmp/qemu.log" 2>&1 &
text() { tr -d '\r' <"$serial" | tr -c '[:print:]\n\t' '?'; }
# rc's prompt: `term% `, or cpurc's `$sysname# `, or a bare `% `
prompt() {
	case $mode in
	auth-cpu) text | grep -q '^cpu1# \|^\(cpu\)\?% \|[^a-z]cpu% ' ;;
	*) text | grep -q '^\(term\)\?% \|[^a-z]term% ' ;;
	esac
}
# type_line TEXT: one line on the serial console (through stdin: a
# password never shows in ps)
type_line() { printf '%s\n' "$1" | python3 "$LAB_TOP/test-lab/console-typist.py" type "$sock" 0.5; }
i=0
answered=0
while [ $i -lt "$WAIT" ] && ! prompt; do
	# factotum's key prompts (`!Adding key: dom=p9.grid proto=dp9ik`, then
	# `user[glenda]: ` and `password: `): answer each new one once, in order
	text | grep -o 'user\[[^]]*\]: \|password: ' | sed -n "$((answered + 1)),\$p" |
	    while read -r p; do echo "$p"; done >"$tmp/prompts"
	while read -r p; do
		answered=$((answered + 1))
		case $p in
		user*) echo "# answering '$p' with glenda after ${i}s"; type_line glenda ;;
		password*) echo "# answering '$p' after ${i}s"; type_line "${TYPED:-$PASSWORD}" ;;
		esac
	done <"$tmp/prompts"
	sleep 1
	i=$((i + 1))
done
ok=0
if prompt; then
	ok=1
	mark=
	case $mode in
	auth-cpu) CMDS=${CMDS:-"cat /dev/user; echo
cat /dev/sysname; echo
ns | grep -i boot
ps | grep -i listen
netstat -n | grep -i listen"} ;;
	*)	mark=gridboot-$$
		rm -f "$root/usr/glenda/tmp/$mark"
		CMDS=${CMDS:-"cat /dev/user; echo
cat /dev/sysname; echo
ls /
ns | grep -i boot
echo written by \$sysname >/tmp/$mark; cat /tmp/$mark; ls -l /tmp/$mark"} ;;
	esac
	# type on the serial line: one line at a time, a pause between
	printf '%s\n' "$CMDS" | python3 "$LAB_TOP/test-lab/console-typist.py" type "$sock" 4 1
	sleep 3
	if [ -n "$mark" ] && [ -f "$root/usr/glenda/tmp/$mark" ]; then
		echo "# ROOTDIR/usr/glenda/tmp/$mark: $(cat "$root/usr/glenda/tmp/$mark")"
		grep -q "written by term1" "$root/usr/glenda/tmp/$mark" || ok=0
		rm -f "$root/usr/glenda/tmp/$mark"
	elif [ -n "$mark" ] && [ -z "$CMDS_GIVEN" ]; then
		echo "# the terminal's write to /tmp/$mark did not reach ROOTDIR"
		ok=0
	fi
fi
echo "# gridbootd: $(grep -c " 9p: " "$tmp/gridbootd.log") 9P log lines; events:"
grep -E "event (dhcp|http)" "$tmp/gridbootd.log" | head -n 12 | sed 's/^/#   /'
case $mode in
auth-*)
	user=glenda
	[ "$mode" = auth-cpu ] && user=bootes
	echo "# gridbootd auth and attach lines:"
	grep -iE " auth|ticket|attach|afid" "$tmp/gridbootd.log" | head -n 40 | sed 's/^/#   /'
	grep -q "as $user" "$tmp/gridbootd.log" || { echo "# no attach 'as $user' in gridbootd's log"; ok=0; }
	[ -n "$CMDS_GIVEN" ] || text | grep -q "^$user" || { echo "# /dev/user did not say $user"; ok=0; }
	;;
esac
if [ "$mode" = auth-cpu ] && [ "$answered" != 0 ]; then
	echo "# $answered console prompt(s) had to be answered"
	ok=0
fi
grep -iE "9p.*(error|refus|denied|unknown|fail)" "$tmp/gridbootd.log" | sort | uniq -c | sort -rn | head -n 20 | sed 's/^/# 9p: /'
text | sed "s/^/# serial: /"; echo
if [ $ok = 1 ]; then
	case $mode in
	terminal) echo "ok - a 9front terminal mounted its root from gridbootd's 9P and reached an rc prompt in ${i}s" ;;
	auth-terminal) echo "ok - a 9front terminal mounted its root from gridbootd's 9P and reached an rc prompt in ${i}s, authenticated as glenda" ;;
	auth-cpu) echo "ok - a 9front cpu server mounted its root from gridbootd's 9P and reached an rc prompt in ${i}s, unattended, as bootes from its nvram" ;;
	esac
	exit 0
fi
prompt && echo "not ok - the rc prompt came, the commands did not do their part" ||
    echo "not ok - no rc prompt on the serial console in ${i}s"
exit 1
