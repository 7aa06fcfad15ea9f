# Shared by bench/{dhcp,tftp,http}.sh: two network namespaces joined by a
# veth pair (servers in $SNS, clients in $CNS), servers started there and
# killed by PID at exit, the namespaces and $BENCH_TMP removed.
# Set BENCH_TMP before bench_init; it is removed at exit. Sourced from the
# top of the tree; the namespaces are tests/netns-lib.sh's.
. tests/netns-lib.sh

# bench_init TAG: names the namespaces and sets the exit trap.
bench_init() {
	SNS=gb$1s$$
	CNS=gb$1c$$
	SIF=gb$1s$$
	CIF=gb$1c$$
	PIDS=""
	trap bench_cleanup EXIT
	trap 'exit 1' INT TERM HUP PIPE
}

bench_cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	ns_cleanup
	[ -n "${SNS:-}" ] && rm -rf "/etc/netns/$SNS" && rmdir /etc/netns 2>/dev/null
	[ -n "${BENCH_TMP:-}" ] && rm -rf "$BENCH_TMP"
}

# bench_need SCRIPT TOOL...: every tool is installed, or say which is not.
bench_need() {
	who=$1
	shift
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
			echo "$who: $tool missing (sh tests/install-deps.sh)"; exit 1; }
	done
}

# bench_link CLIENT_CIDR SERVER_CIDR...: the namespaces and the veth pair,
# up, with the client's address and one or more server addresses.
bench_link() {
	ns_add "$SNS" "$CNS" && ns_veth "$SNS" "$SIF" "$CNS" "$CIF" "" "$1" || exit 1
	shift
	ns_addr "$SNS" "$SIF" "$@" || exit 1
}

# bench_hosts LINE...: /etc/hosts inside the server namespace (ip netns
# exec binds /etc/netns/NAME/hosts over it), for servers that resolve
# their clients' names; removed at exit.
bench_hosts() {
	mkdir -p "/etc/netns/$SNS" || exit 1
	printf '%s\n' "127.0.0.1 localhost" "$@" >"/etc/netns/$SNS/hosts"
}

# cx CMD...: runs CMD in the client namespace.
cx() { ip netns exec "$CNS" "$@"; }

# bench_serve CMD...: runs CMD in the server namespace in the background
# (redirect the call's output as you like); its PID is BENCH_PID. Not
# through a subshell, so the PID is the server's own.
bench_serve() {
	ip netns exec "$SNS" "$@" &
	BENCH_PID=$!
	PIDS="$PIDS $BENCH_PID"
}
