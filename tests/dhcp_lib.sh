# Helpers for the DHCP integration tests (sourced after tests/lib.sh).
# Namespaces and links: tests/netns-lib.sh (ns_add, ns_veth), named with
# the test's PID.

# dhcp_serve NS CONFIG: gridbootd in namespace NS; sets GB_PID.
dhcp_serve() {
	ip netns exec "$1" "$GRIDBOOTD" serve -c "$2" -d -l debug >>"$T_TMP/gridbootd.log" 2>&1 &
	GB_PID=$!
	track_pid $GB_PID
	wait_for 10 gb_serving "$T_TMP/gridbootd.log"
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

# dhcp_ns NS...: namespaces for a DHCP test (tests/netns-lib.sh's ns_add);
# dhcp_link NS1 IF1 NS2 IF2: a veth pair between them, both ends up.
dhcp_ns() { ns_add "$@"; }
dhcp_link() { ns_veth "$1" "$2" "$3" "$4"; }
