# Network namespaces for the tests and benchmarks, in one place (sourced
# by tests/lib.sh and bench/lib.sh). A namespace is named with the PID of
# the script that makes it, so concurrent runs never meet, and is deleted
# by ns_cleanup, which the exit traps of both libraries call: deleting a
# namespace takes its links (and the peers of its veths) with it, and the
# processes in it are the callers', killed by PID before. Variables of
# its own start with _ns_ (sh has no locals; a caller's $n or $ns stays).

NS_MADE=""

# ns_add NAME...: each a new namespace with lo up, deleted at exit. NAME
# must end in the caller's PID ($$).
ns_add() {
	for _ns_n in "$@"; do
		case $_ns_n in
		*$$) ;;
		*) echo "ns_add: $_ns_n does not end in the PID $$" >&2; return 1 ;;
		esac
		ip netns add "$_ns_n" || return 1
		NS_MADE="$NS_MADE $_ns_n"
		ip -n "$_ns_n" link set lo up || return 1
	done
}

# ns_addr NS DEV ADDR/LEN...: addresses on DEV in NS; an IPv6 one without
# duplicate address detection (a test must not wait for it).
ns_addr() {
	_ns_ns=$1 _ns_dev=$2
	shift 2
	for _ns_a in "$@"; do
		case $_ns_a in
		*:*) ip -n "$_ns_ns" addr add "$_ns_a" dev "$_ns_dev" nodad || return 1 ;;
		*) ip -n "$_ns_ns" addr add "$_ns_a" dev "$_ns_dev" || return 1 ;;
		esac
	done
}

# ns_veth NS1 IF1 NS2 IF2 [ADDR1 [ADDR2]]: a veth pair, IF1 in NS1 and IF2
# in NS2 (the same namespace or another), both up, each with its address
# when one is given (ns_addr's rules).
ns_veth() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || return 1
	ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up || return 1
	[ -z "${5:-}" ] || ns_addr "$1" "$2" "$5" || return 1
	[ -z "${6:-}" ] || ns_addr "$3" "$4" "$6"
}

# ns_cleanup: deletes every namespace ns_add made.
ns_cleanup() {
	for _ns_n in $NS_MADE; do ip netns del "$_ns_n" 2>/dev/null; done
	NS_MADE=""
}

# wait_for SECONDS COMMAND...: polls every 0.1 s until COMMAND succeeds
# (here because both libraries need it: the one bounded wait).
wait_for() {
	_wf_limit=$1; shift
	_wf_i=0
	while [ $_wf_i -lt $((_wf_limit * 10)) ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		_wf_i=$((_wf_i + 1))
	done
	return 1
}
