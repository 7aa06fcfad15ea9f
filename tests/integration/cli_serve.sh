#!/bin/sh
# limit: 120
# The command line (usage, check, plan9ini) and the daemon core: serve
# starts, SIGHUP swaps in a good inventory, keeps the old one on a bad one,
# and SIGTERM exits cleanly (exit 0, so the sanitizers found nothing).
. "$(dirname "$0")/../lib.sh"

G="$GRIDBOOTD"
cd "$GRIDBOOT_TOP"

"$G" --help >/dev/null 2>&1; check "--help exits 0" [ $? -eq 0 ]
"$G" >/dev/null 2>&1; check "no command exits 2" [ $? -eq 2 ]
"$G" frobnicate >/dev/null 2>&1; check "unknown command exits 2" [ $? -eq 2 ]
for c in check plan9ini serve; do
	"$G" $c --help | grep -q "usage: gridbootd $c"; check "$c --help prints its usage" [ $? -eq 0 ]
	"$G" $c -Z >/dev/null 2>&1; check "$c with a bad option exits 2" [ $? -eq 2 ]
done
"$G" plan9ini -c inventory/lab.cfg >/dev/null 2>&1; check "plan9ini without a machine exits 2" [ $? -eq 2 ]

out=$("$G" check -c inventory/lab.cfg); rc=$?
check "check of lab.cfg exits 0" [ $rc -eq 0 ]
case "$out" in "inventory OK: "*" machines") ok "check prints 'inventory OK: N machines'";; *) not_ok "check output: $out";; esac

err=$("$G" check -c tests/inventory/good/basic.cfg 2>&1 >/dev/null); rc=$?
check "warnings do not fail check" [ $rc -eq 0 ]
echo "$err" | grep -q "^warning: tests/inventory/good/basic.cfg:10: machines\[cpu1\]: its bios firmware first fetches grid.loaders.ipxe_bios, which is not set$"
check "check warns about a loader grid.loaders does not name" [ $? -eq 0 ]
echo "$err" | grep -q "^warning: tests/inventory/good/basic.cfg:5: kernels.9pc64.file: amd64/9pc64 is not in .* yet"
check "check warns about a kernel file not in the tree yet" [ $? -eq 0 ]

out=$("$G" check -c tests/inventory/bad/39-many-errors.cfg 2>&1); rc=$?
check "check of a bad inventory exits 1" [ $rc -eq 1 ]
n=$(echo "$out" | grep -c '^tests/inventory/bad/39-many-errors.cfg:[0-9]*: ')
check "every error is reported as FILE:LINE: key: why ($n)" [ "$n" -eq 3 ]

out=$("$G" plan9ini -c inventory/lab.cfg cpu1)
echo "$out" | grep -qx "sysname=cpu1"; check "plan9ini by name has sysname" [ $? -eq 0 ]
out2=$("$G" plan9ini -c inventory/lab.cfg 52:54:00:00:00:11)
check "plan9ini by MAC is the same text" [ "$out" = "$out2" ]
"$G" plan9ini -c inventory/lab.cfg nosuch >/dev/null 2>&1; check "unknown machine exits 1" [ $? -eq 1 ]

# A newcomer's stumbles: what is assumed or wrong must be said.
check "--help names the default inventory" sh -c "'$G' --help | grep -q /etc/gridboot/gridboot.cfg"
check "serve --help names it too" sh -c "'$G' serve --help | grep -q /etc/gridboot/gridboot.cfg"
"$G" plan9ini -c inventory/lab.cfg 52:54:00:zz:00:11 >/dev/null 2>"$T_TMP/err"; rc=$?
check "plan9ini with a malformed MAC says so (rc $rc)" \
	sh -c "[ $rc -eq 2 ] && grep -q 'not a MAC address' '$T_TMP/err'"
"$G" explain -c inventory/lab.cfg --mac 52:54:00:zz:00:11 >/dev/null 2>"$T_TMP/err"; rc=$?
check "explain with a malformed MAC says so, not just the usage (rc $rc)" \
	sh -c "[ $rc -eq 2 ] && grep -q -- '--mac 52:54:00:zz:00:11: not a MAC address' '$T_TMP/err' && ! grep -q usage '$T_TMP/err'"
bios=52:54:00:00:00:11     # lab.cfg's cpu1: amd64, firmware "bios"
"$G" explain -c inventory/lab.cfg --mac "$bios" >"$T_TMP/out" 2>&1
check "explain --mac alone for a BIOS machine ($bios) asks as its PXE ROM and says so" \
	sh -c "grep -q '^assumed: its amd64 bios firmware.s PXE ROM (option 93 0' '$T_TMP/out' && ! grep -q 'plain DHCP client' '$T_TMP/out'"
out=$("$G" explain -c inventory/lab.cfg --mac 02:00:00:00:00:01 2>&1)
check "explain --mac alone for an unknown MAC says it assumed a plain client" \
	sh -c "echo '$out' | grep -q '^assumed: a plain DHCP client'"
err=$("$G" check -c "$T_TMP/nothere.cfg" 2>&1)
check "check of a missing file says why" sh -c "echo '$err' | grep -q 'cannot read the file: No such file or directory'"
mkdir -p "$T_TMP/adir.cfg"
err=$("$G" check -c "$T_TMP/adir.cfg" 2>&1)
check "check of a directory says why" sh -c "echo '$err' | grep -q 'cannot read the file: it is a directory'"
sed 's/mac = "52:54:00:00:00:11"/mac = "ff:ff:ff:ff:ff:ff"/' inventory/lab.cfg >"$T_TMP/bcast.cfg"
sed 's/mac = "52:54:00:00:00:11"/mac = "01:00:5e:00:00:01"/' inventory/lab.cfg >"$T_TMP/mcast.cfg"
check "a broadcast MAC in an inventory is an error" \
	sh -c "'$G' check -c '$T_TMP/bcast.cfg' 2>&1 | grep -q 'is a broadcast address, not a machine'"
check "a multicast MAC in an inventory is an error" \
	sh -c "'$G' check -c '$T_TMP/mcast.cfg' 2>&1 | grep -q 'is a multicast address, not a machine'"

# The daemon, in a namespace of its own so no port it binds can collide.
NS=gbcore$$
ns_add $NS || { not_ok "cannot create network namespace"; t_done; exit 1; }

cfg="$T_TMP/inv.cfg"
mk_inventory() {	# extra machine lines
	cat >"$cfg" <<EOC
grid = { name = "t"; server = "127.0.0.1"; files = "$T_TMP/files"; state = "$T_TMP/state";
         http_port = 18080; tftp_port = 16969; dhcp_port = 16767; proxy_port = 14011; };
networks = ( { subnet = "10.9.0.0/24"; pool = "10.9.0.100-10.9.0.199"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = (
  { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.9.0.11"; role = "cpu"; }
  $1
);
EOC
}
mk_inventory ""
mkdir -p "$T_TMP/files"
ip netns exec $NS "$G" serve -c "$cfg" -d -l debug >"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
wait_for 10 gb_serving "$T_TMP/gridbootd.log"; check "serve starts" [ $? -eq 0 ]

mk_inventory ', { name = "cpu2"; mac = "52:54:00:00:00:12"; ip = "10.9.0.12"; role = "cpu"; }'
kill -HUP $GB_PID
wait_for 10 grep -q "reload: .* OK: 2 machines" "$T_TMP/gridbootd.log"
check "SIGHUP swaps in a good inventory" [ $? -eq 0 ]

mk_inventory ', { name = "cpu2"; mac = "52:54:00:00:00:11"; ip = "10.9.0.300"; role = "cpu"; }'
kill -HUP $GB_PID
wait_for 10 grep -q "still serving the previous inventory" "$T_TMP/gridbootd.log"
check "SIGHUP with a bad inventory keeps the old one" [ $? -eq 0 ]
grep -q "$cfg:8: machines\[cpu2\].ip: \"10.9.0.300\" is not an IPv4 address" "$T_TMP/gridbootd.log"
check "the bad reload logs FILE:LINE: key: why" [ $? -eq 0 ]
grep -q "$cfg:8: machines\[cpu2\].mac: 52:54:00:00:00:11 is already used by cpu1" "$T_TMP/gridbootd.log"
check "the bad reload logs every error" [ $? -eq 0 ]
check "daemon still runs after a bad reload" kill -0 $GB_PID

mk_inventory ""
kill -HUP $GB_PID
wait_for 10 grep -q "reload: .* OK: 1 machines" "$T_TMP/gridbootd.log"
check "a later good inventory is taken again" [ $? -eq 0 ]

kill -TERM $GB_PID
wait $GB_PID; rc=$?
check "SIGTERM exits 0 (sanitizers clean)" [ $rc -eq 0 ]
[ $rc -eq 0 ] || tail -n 40 "$T_TMP/gridbootd.log" | sed 's/^/# /'
T_PIDS=""

# Without -d, a start that fails (the port is taken) says why on stderr
# before it would have detached, syslog or not.
ip netns exec $NS python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 18080)); s.listen(); print('bound', flush=True); time.sleep(30)" >"$T_TMP/hold.out" 2>&1 &
HOLD=$!
track_pid $HOLD
wait_for 5 grep -q bound "$T_TMP/hold.out"
err=$(ip netns exec $NS "$G" serve -c "$cfg" 2>&1 >/dev/null); rc=$?
kill $HOLD 2>/dev/null; wait $HOLD 2>/dev/null
check "serve without -d whose port is taken fails (rc $rc) and says why on stderr" \
	sh -c "[ $rc -ne 0 ] && echo '$err' | grep -q 'http: cannot listen on port 18080'"

# Without -d the daemon detaches (after binding, so start-up errors still
# reach the terminal), writes its pidfile, and still obeys signals.
pidf="$T_TMP/gridbootd.pid"
ip netns exec $NS "$G" serve -c "$cfg" -p "$pidf"; rc=$?
check "serve without -d returns once detached" [ $rc -eq 0 ]
wait_for 10 test -s "$pidf"; check "pidfile written" [ $? -eq 0 ]
dpid=$(cat "$pidf" 2>/dev/null)
[ -n "$dpid" ] && track_pid "$dpid"
check "detached daemon runs" kill -0 "$dpid"
kill -HUP "$dpid" 2>/dev/null; sleep 0.2
check "detached daemon survives SIGHUP" kill -0 "$dpid"
# A lease from the detached daemon: its ACK waits for the journal's sync,
# which runs in a thread; a thread started before daemon()'s fork is not
# in the child, and no ACK would ever come (a version did that).
ip -n $NS addr add 10.9.0.1/24 dev lo
ack=$(ip netns exec $NS timeout 20 python3 - <<'EOP' 2>&1
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.9.0.1", 67))          # the relay's port: replies go to giaddr:67
s.settimeout(5)
mac = bytes([2, 0, 0, 0x9d, 0, 1])
def msg(t, extra=b""):
    p = bytearray(240)
    p[0:4] = bytes([1, 1, 6, 1])
    p[4:8] = struct.pack("!I", 0x5eed)
    p[24:28] = socket.inet_aton("10.9.0.1")
    p[28:34] = mac
    p[236:240] = b"\x63\x82\x53\x63"
    return bytes(p) + bytes([53, 1, t]) + extra + b"\xff"
def answer():
    b, _ = s.recvfrom(1500)
    i, o = 240, {}
    while i + 1 < len(b) and b[i] != 255:
        o[b[i]] = b[i + 2:i + 2 + b[i + 1]]; i += 2 + b[i + 1]
    return o.get(53, b"?")[0], b[16:20], o.get(54, b"")
s.sendto(msg(1), ("10.9.0.1", 16767))
t, yi, sid = answer()
if t != 2:
    sys.exit("no OFFER (type %d)" % t)
s.sendto(msg(3, bytes([50, 4]) + yi + bytes([54, 4]) + sid), ("10.9.0.1", 16767))
t, yi, sid = answer()
print("ACK" if t == 5 else "type %d" % t, socket.inet_ntoa(yi))
EOP
)
check "the detached daemon hands out a lease: ACK after its sync ($ack)" \
	sh -c "echo '$ack' | grep -q '^ACK 10.9.0.1[0-9][0-9]$' && grep -q '020000' '$T_TMP/state/dhcp.leases'"
kill -TERM "$dpid" 2>/dev/null
wait_for 10 sh -c "! kill -0 $dpid"; check "detached daemon stops on SIGTERM" [ $? -eq 0 ]
check "pidfile removed on a clean exit" [ ! -e "$pidf" ]
t_done
