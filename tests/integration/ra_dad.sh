#!/bin/sh
# limit: 60
# Router advertisements from an interface whose link-local address is
# still tentative (duplicate address detection, as on a server that has
# just booted: a power cut brings the boot server and its rack up at
# once). Until DAD ends every send from the interface fails with
# EADDRNOTAVAIL. gridbootd used to log a warning per send and lose the
# message: a solicitation then went unanswered (the client waited for its
# next one, or for an unsolicited RA many seconds later) and the start-up
# probe for other routers was never sent. Now what failed is sent again
# every 250 ms once the address is usable (at most 10 s), logged at info.
# Here S's DAD is made to last about 5 s (5 probes), C's is off, and C
# solicits once, at once, while S's address is tentative: the answer must
# come, as a solicited RA.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

command -v rdisc6 >/dev/null || { not_ok "rdisc6 installed (tests/deps.d)"; t_done; exit 1; }

S=gbdS$$ C=gbdC$$ SIF=s$$
ns_add $S $C || { not_ok "namespaces"; t_done; exit 1; }
ip netns exec $S sysctl -qw net.ipv6.conf.default.dad_transmits=5
for k in default all; do
	ip netns exec $C sysctl -qw net.ipv6.conf.$k.accept_dad=0
done
ns_veth $S $SIF $C c0 10.96.0.1/24 || { not_ok "veth"; t_done; exit 1; }
cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.96.0.1"; files = "$T_TMP"; state = "$T_TMP/state"; };
networks = ( { subnet = "10.96.0.0/24"; pool = "10.96.0.50-10.96.0.60"; ra = "auto"; } );
EOC
metric() { ip netns exec $S curl -fsS -m 2 http://10.96.0.1/metrics | sed -n "s/^$1 //p"; }
ge() { [ "${1:-0}" -ge "$2" ] 2>/dev/null; }

check "gridbootd starts" dhcp_serve $S "$T_TMP/grid.cfg"
# C's own link-local (no DAD) is usable within a moment; rdisc6 needs it.
check "C's link-local address is usable" wait_for 5 \
    sh -c "ip -n $C -6 addr show dev c0 scope link | grep -q inet6 && ! ip -n $C -6 addr show dev c0 | grep -q tentative"
if ! ip -n $S -6 addr show dev $SIF | grep -q tentative; then
	ok "solicited while S's link-local is tentative # SKIP DAD was over before the test could solicit"
	t_done
	exit 0
fi
ok "S's link-local address is still tentative (DAD)"
t0=$(date +%s%N)
if ip netns exec $C rdisc6 -n -1 -r 1 -w 9000 c0 >"$T_TMP/rdisc6.out" 2>&1; then
	ok "C's one solicitation answered in $(( ($(date +%s%N) - t0) / 1000000 )) ms (sent during S's DAD)"
else
	not_ok "C's one solicitation answered (sent during S's DAD)"
fi
check "S's address is usable now" wait_for 10 sh -c "! ip -n $S -6 addr show dev $SIF | grep -q tentative"
check "the answer was a solicited RA (it did not wait for an unsolicited one)" \
    ge "$(metric 'gridboot_ra_sent_total{kind="solicited"}')" 1
check "sends did fail during DAD (gridboot_ra_send_errors_total moved)" \
    ge "$(metric gridboot_ra_send_errors_total)" 1
check "logged at info, naming the reason" \
    grep -q "info: ra: $SIF: no usable link-local address yet (duplicate address detection)" "$T_TMP/gridbootd.log"
check "no warning per failed send" sh -c "! grep -q 'ra: $SIF: send: Cannot assign requested address' '$T_TMP/gridbootd.log'"
[ $T_FAILED -gt 0 ] && { sed 's/^/# /' "$T_TMP/rdisc6.out"; grep "ra:" "$T_TMP/gridbootd.log" | tail -n 20 | sed 's/^/# /'; }
t_done
