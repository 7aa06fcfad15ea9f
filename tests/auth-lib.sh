# Shared by the auth tests that drive the real client, Debian's
# drawterm-9front (auth_drawterm.sh, auth_p9sk1.sh, auth_passwd.sh;
# sourced after tests/lib.sh): one network namespace whose loopback holds
# the grid's addresses, the daemon started in it, drawterm and raw bytes
# against its auth server (567) and rcpu endpoint (17019), its metrics.
# The caller writes $D/grid.cfg; $AUTH_IP is the server's address.

# auth_setup TAG SERVER_IP [IP...]: needs drawterm (else a "not ok" and
# exit); the namespace gb<TAG><PID> with the addresses (/24) on lo; sets
# NS, G (the daemon), D (the test's directory, with files/ and state/).
auth_setup() {
	if ! command -v drawterm >/dev/null; then
		not_ok "drawterm-9front is not installed (sh tests/install-deps.sh auth)"
		t_done
		exit 1
	fi
	G="$GRIDBOOTD"
	NS="gb$1$$"
	AUTH_IP=$2
	D="$T_TMP"
	ns_add "$NS" || { not_ok "ip netns add"; t_done; exit 1; }
	shift
	for a in "$@"; do ns_addr "$NS" lo "$a/24"; done
	mkdir -p "$D/files" "$D/state"
}

nsx() { ip netns exec "$NS" "$@"; }

# auth_serve: the daemon in the namespace, its log appended to
# $D/gridbootd.log; sets GB_PID. Not through nsx: GB_PID must be the
# daemon itself (ip netns exec execs it). The caller waits for its line.
auth_serve() {
	ip netns exec "$NS" "$G" serve -c "$D/grid.cfg" -d -l debug >>"$D/gridbootd.log" 2>&1 &
	GB_PID=$!
	track_pid $GB_PID
}

# dt NAME USER PASSWORD: drawterm in the namespace; output in $D/NAME.out,
# status in $D/NAME.rc, the output echoed as comments.
dt() {
	# -s points secstore at a closed port: drawterm would otherwise try the auth host
	PASS=$3 timeout 30 ip netns exec "$NS" drawterm -G -s "tcp!$AUTH_IP!1" -a "tcp!$AUTH_IP!567" \
	    -h "tcp!$AUTH_IP!17019" -u "$2" -c 'echo hi' >"$D/$1.out" 2>&1
	echo $? >"$D/$1.rc"
	sed "s/^/# $1 drawterm: /" "$D/$1.out"
}

# send SRC PORT HEX: raw bytes from address SRC to the server's PORT;
# prints what came back (until a close, or TIMEOUT after 5 s), in hex.
send() {
	nsx python3 - "$AUTH_IP" "$@" <<'EOP'
import socket, sys
s = socket.socket()
s.bind((sys.argv[2], 0))
s.settimeout(5)
s.connect((sys.argv[1], int(sys.argv[3])))
s.sendall(bytes.fromhex(sys.argv[4]))
out = b""
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
except socket.timeout:
    out += b"TIMEOUT"
print(out.hex())
EOP
}

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
metric() { nsx curl -fsS "http://$AUTH_IP/metrics" | sed -n "s/^$1 //p"; }

# auth_done LINES: stops the daemon, checks it exits 0, prints the last
# LINES lines of its log (warnings left out) and the plan.
auth_done() {
	stop_gridbootd
	check "gridbootd exits 0 (no sanitizer report)" [ $? -eq 0 ]
	sed 's/^/# log: /' "$D/gridbootd.log" | grep -v warn | tail -n "$1"
	t_done
}
