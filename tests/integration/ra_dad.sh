#!/bin/sh
# limit: 120
# Router advertisements from an interface whose link-local address is
# still tentative (duplicate address detection, as on a server that has
# just booted: a power cut brings the boot server and its rack up at
# once). Until DAD ends every send from the interface fails with
# EADDRNOTAVAIL. gridbootd used to log a warning per send and lose the
# message: a solicitation went unanswered (the client waited for its next
# one), and auto mode's start-up RS, its probe for other routers, never
# went out. Now what failed is sent again every 250 ms once the address is
# usable (for at most 10 s), logged once at info. S's DAD is made to last about
# 5 s (5 probes), C's is off. Three cases, each on a fresh link:
#   - ra = "on": C solicits once while S's address is tentative; the
#     answer comes when DAD ends, as a solicited RA (on_respond's retry);
#   - ra = "auto": S's start-up RS reaches C (a raw socket in ff02::2
#     there) after DAD, and C's solicitation is answered after that probe;
#   - a DAD of 15 s, past the 10 s of retries: one warning, then quiet,
#     and answers again once the address is usable.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

command -v rdisc6 >/dev/null || { not_ok "rdisc6 installed (tests/deps.d)"; t_done; exit 1; }

# Prints "rs MS SOURCE" when the first router solicitation from another
# host reaches C's c0 (MS from the start), or "none" after 15 s. C's own
# kernel solicits too when c0 comes up: its addresses are left out.
cat >"$T_TMP/rs_listen.py" <<'EOP'
import socket, struct, sys, time
ifindex = socket.if_nametoindex("c0")
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
             socket.inet_pton(socket.AF_INET6, "ff02::2") + struct.pack("@I", ifindex))
t0 = time.time()
sys.stdout.write("listening\n"); sys.stdout.flush()
while time.time() - t0 < 15:
    s.settimeout(max(0.1, 15 - (time.time() - t0)))
    try:
        b, a = s.recvfrom(2048)
    except socket.timeout:
        break
    own = set()
    for line in open("/proc/net/if_inet6"):
        h = line.split()[0]
        own.add(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(h)))
    if b and b[0] == 133 and a[0].split("%")[0] not in own:
        print("rs %d %s" % ((time.time() - t0) * 1000, a[0])); sys.exit(0)
print("none")
EOP

metric() { ip netns exec $S curl -fsS -m 2 http://10.96.0.1/metrics | sed -n "s/^$1 //p"; }
ge() { [ "${1:-0}" -ge "$2" ] 2>/dev/null; }
tentative() { ip -n $S -6 addr show dev $SIF | grep -q tentative; }

# dad_link NAME PROBES [MODE]: a fresh link whose S side runs DAD for
# PROBES seconds (one probe a second), C's without; C's listener;
# gridbootd on it with ra = MODE (default NAME). 1 if any of it failed.
dad_link() {
	S=gbd$1S$$ C=gbd$1C$$ SIF=s$1$$ MODE=${3:-$1} GB_PID= LISTEN=
	ns_add $S $C || { not_ok "$1: namespaces"; return 1; }
	# S's kernel must not solicit itself: the RS C hears is gridbootd's.
	ip netns exec $S sysctl -qw net.ipv6.conf.default.dad_transmits=$2 \
	    net.ipv6.conf.default.router_solicitations=0
	for k in default all; do
		ip netns exec $C sysctl -qw net.ipv6.conf.$k.accept_dad=0
	done
	ns_veth $S $SIF $C c0 10.96.0.1/24 || { not_ok "$1: veth"; return 1; }
	ip netns exec $C python3 "$T_TMP/rs_listen.py" >"$T_TMP/rs.$1" 2>&1 &
	LISTEN=$!
	track_pid $LISTEN
	wait_for 5 grep -q listening "$T_TMP/rs.$1"
	cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.96.0.1"; files = "$T_TMP"; state = "$T_TMP/state.$1"; };
networks = ( { subnet = "10.96.0.0/24"; pool = "10.96.0.50-10.96.0.60"; ra = "$MODE"; } );
EOC
	: >"$T_TMP/gridbootd.log"
	if ! dhcp_serve $S "$T_TMP/grid.cfg"; then
		not_ok "$1: gridbootd starts"
		return 1
	fi
	ok "$1: gridbootd starts"
}

# dad_case MODE: dad_link with a DAD of 5 s, C soliciting once during
# it. Returns 1 (skipped) when DAD was over first.
dad_case() {
	dad_link $1 5 || return 1
	# C's own link-local (no DAD) is usable within a moment; rdisc6 needs it.
	check "$1: C's link-local address is usable" wait_for 5 \
	    sh -c "ip -n $C -6 addr show dev c0 scope link | grep -q inet6 && ! ip -n $C -6 addr show dev c0 | grep -q tentative"
	if ! tentative; then
		ok "$1: solicited while S's link-local is tentative # SKIP DAD was over before the test could solicit"
		return 1
	fi
	ok "$1: S's link-local address is still tentative (DAD)"
	t0=$(date +%s%N)
	if ip netns exec $C rdisc6 -n -1 -r 1 -w 9000 c0 >"$T_TMP/rdisc6.out" 2>&1; then
		ok "$1: C's one solicitation answered in $(( ($(date +%s%N) - t0) / 1000000 )) ms (sent during S's DAD)"
	else
		not_ok "$1: C's one solicitation answered (sent during S's DAD)"
	fi
	check "$1: S's address is usable now" wait_for 10 sh -c "! ip -n $S -6 addr show dev $SIF | grep -q tentative"
	check "$1: the answer was a solicited RA" ge "$(metric 'gridboot_ra_sent_total{kind="solicited"}')" 1
	check "$1: sends did fail during DAD (gridboot_ra_send_errors_total moved)" \
	    ge "$(metric gridboot_ra_send_errors_total)" 1
	n=$(grep -c "info: ra: $SIF: no usable link-local address yet (duplicate address detection)" "$T_TMP/gridbootd.log")
	check "$1: logged once at info, naming the reason ($n lines, for every retry of the wait)" [ "$n" -eq 1 ]
	check "$1: no warning per failed send" \
	    sh -c "! grep -q 'ra: $SIF: send: Cannot assign requested address' '$T_TMP/gridbootd.log'"
	return 0
}

# dad_end: stops this case's daemon and listener, removes its namespaces.
dad_end() {
	kill $GB_PID 2>/dev/null; wait $GB_PID 2>/dev/null
	kill $LISTEN 2>/dev/null; wait $LISTEN 2>/dev/null
	[ $T_FAILED -gt 0 ] && { sed 's/^/# /' "$T_TMP/rdisc6.out"; grep "ra:" "$T_TMP/gridbootd.log" | tail -n 12 | sed 's/^/# /'; }
	ns_cleanup
}

dad_case on
dad_end

if dad_case auto; then
	wait_for 16 grep -q "^rs \|^none" "$T_TMP/rs.auto"
	rs=$(grep -v listening "$T_TMP/rs.auto")
	echo "# C heard: $rs"
	check "auto: S's start-up RS reached C after all (it could not go out during DAD)" \
	    grep -q "^rs " "$T_TMP/rs.auto"
fi
dad_end

# A DAD longer than the 10 s the retries last (15 probes: a link whose
# address never becomes usable looks the same for that long): one warning
# names the link 10 s after the first refused send, the retries stop (the
# info line is still the only other one), and once the address is usable
# the next solicitation is answered at once: giving up is for that wait,
# not for good.
# log_ms TEXT: the milliseconds of the day of the first log line with TEXT.
log_ms() {
	grep -m1 "$1" "$T_TMP/gridbootd.log" |
	    awk '{ split($1, t, ":"); printf "%d\n", (t[1] * 3600 + t[2] * 60 + t[3]) * 1000 }'
}
if dad_link long 15 on; then
	check "long: S's link-local address is still tentative (DAD)" tentative
	check "long: sends failed during DAD (gridboot_ra_send_errors_total moved)" \
	    wait_for 5 sh -c "ip netns exec $S curl -fsS -m 2 http://10.96.0.1/metrics | grep -q '^gridboot_ra_send_errors_total [1-9]'"
	if wait_for 15 grep -q "warn: ra: $SIF: still no usable link-local address after 10 s" \
	    "$T_TMP/gridbootd.log"; then
		ok "long: a warning naming the link"
		a=$(log_ms "no usable link-local address yet") b=$(log_ms "still no usable link-local address")
		dt=$(( ${b:-0} - ${a:-0} ))
		[ "$dt" -lt 0 ] && dt=$((dt + 86400000))     # past midnight
		check "long: ... 10 s after the first refused send, not before ($dt ms)" \
		    sh -c "[ -n '$a' ] && [ '$dt' -ge 9900 ] && [ '$dt' -le 12000 ]"
	else
		not_ok "long: a warning naming the link after 10 s"
	fi
	errs=$(metric gridboot_ra_send_errors_total)
	# About 40 retries in 10 s (one every 250 ms) for each message waiting
	# (41-68 failed sends seen in all); not a spin, and then none.
	check "long: retried every 250 ms for the wait (${errs:-no} failed sends)" \
	    sh -c "[ '${errs:-0}' -ge 20 ] && [ '${errs:-0}' -le 130 ]"
	check "long: S's address is usable at last" wait_for 10 sh -c "! ip -n $S -6 addr show dev $SIF | grep -q tentative"
	errs2=$(metric gridboot_ra_send_errors_total)
	# Until DAD ends (about 5 s more) a message that comes meanwhile (C's
	# kernel solicits every 4 s, an RA falls due) is tried once, not every
	# 250 ms: a few failures, where retrying would add about 20.
	check "long: no retries after the warning (${errs:-no} then ${errs2:-no} failed sends)" \
	    sh -c "[ -n '$errs' ] && [ '${errs2:-999}' -le '$(( ${errs:-0} + 4 ))' ]"
	sol=$(metric 'gridboot_ra_sent_total{kind="solicited"}')
	if ip netns exec $C rdisc6 -n -1 -r 1 -w 3000 c0 >"$T_TMP/rdisc6.out" 2>&1; then
		ok "long: a solicitation after DAD is answered"
	else
		not_ok "long: a solicitation after DAD is answered"
	fi
	sol2=$(metric 'gridboot_ra_sent_total{kind="solicited"}')
	check "long: ... by a solicited RA (${sol:-no} then ${sol2:-no} sent)" \
	    sh -c "[ '${sol2:-0}' -ge '$(( ${sol:-0} + 1 ))' ]"
	check "long: one warning in all" [ "$(grep -c "still no usable link-local address" "$T_TMP/gridbootd.log")" -eq 1 ]
	check "long: one info line in all" \
	    [ "$(grep -c "no usable link-local address yet" "$T_TMP/gridbootd.log")" -eq 1 ]
fi
dad_end
t_done
