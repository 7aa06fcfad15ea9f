# Helpers for the DHCP integration tests (sourced after tests/lib.sh).
# Namespaces and links are named with the gbd prefix and the test's PID.

# dhcp_ns NAME...: creates network namespaces, removed at exit.
dhcp_ns() {
	for n in "$@"; do
		ip netns add "$n" || return 1
		ip -n "$n" link set lo up
		on_cleanup "ip netns del $n 2>/dev/null"
	done
}

# dhcp_link NS1 IF1 NS2 IF2: a veth pair between two namespaces, both up.
dhcp_link() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || return 1
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# dhcp_serve NS CONFIG: gridbootd in namespace NS; sets GB_PID.
dhcp_serve() {
	ip netns exec "$1" "$GRIDBOOTD" serve -c "$2" -d -l debug >>"$T_TMP/gridbootd.log" 2>&1 &
	GB_PID=$!
	track_pid $GB_PID
	wait_for 10 grep -q "info: serving " "$T_TMP/gridbootd.log"
}

# The udhcpc script: every event's environment into $OUT.<event>.
dhcp_script() {
	cat >"$T_TMP/udhcpc.sh" <<'EOS'
#!/bin/sh
env | grep -E '^(ip|mask|router|dns|serverid|lease|siaddr|boot_file|bootfile|hostname|opt[0-9]+|message)=' | sort >"$OUT.$1"
EOS
	chmod +x "$T_TMP/udhcpc.sh"
}

# udhcpc_run NS IF OUTNAME ARGS...: one bounded DHCP exchange; env lands in
# $T_TMP/OUTNAME.bound when a lease was obtained.
udhcpc_run() {
	ns=$1 ifc=$2 out=$3
	shift 3
	rm -f "$T_TMP/$out".*
	OUT="$T_TMP/$out" timeout 20 ip netns exec "$ns" udhcpc -i "$ifc" -n -q -f -t 4 -T 1 \
	    -s "$T_TMP/udhcpc.sh" "$@" >>"$T_TMP/udhcpc.log" 2>&1
}

# envval FILE KEY: a value from a udhcpc env dump.
envval() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n1; }
