#!/bin/sh
# limit: 90
# One forged RA must not silence gridbootd's RAs for its router lifetime
# (issue 21, fault 10). With ra = "auto", host F sends RAs with router
# lifetime 65535 s (18 h). The hold is capped (HOLD_MAX_MS, 300 s; 5 s here
# through GRIDBOOT_TEST_RA_HOLD_MAX_MS) and then re-checked with an RS:
#  - while F answers the RS like a router, gridbootd stays quiet;
#  - once F is silent, gridbootd advertises again after the cap and the
#    1 s re-check (rdisc6 from F gets its RA), not 18 h later;
#  - the timeline says whose RA it yielded to (F's address and MAC).
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

command -v rdisc6 >/dev/null || { not_ok "rdisc6 installed (tests/deps.d)"; t_done; exit 1; }
S=gbrhS$$ F=gbrhF$$
dhcp_ns $S $F || { not_ok "namespaces"; t_done; exit 1; }
for n in $S $F; do
	ip netns exec $n sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
done
dhcp_link $S s0 $F f0
ip -n $S addr add 10.96.0.1/24 dev s0
FMAC=$(ip -n $F link show f0 | awk '/link\/ether/ {print $2}')
wait_for 5 sh -c "ip -n $F -6 addr show dev f0 scope link | grep -q inet6"
FLL=$(ip -n $F -6 addr show dev f0 scope link | awk '/inet6/ {sub("/.*","",$2); print $2}')
mkdir -p "$T_TMP/state"
cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.96.0.1"; files = "$T_TMP"; state = "$T_TMP/state"; };
networks = ( { subnet = "10.96.0.0/24"; pool = "10.96.0.50-10.96.0.60"; ra = "auto"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
EOC
GRIDBOOT_TEST_RA_HOLD_MAX_MS=5000 ip netns exec $S "$GRIDBOOTD" serve -c "$T_TMP/grid.cfg" -d -l debug \
    >>"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
wait_for 10 gb_serving "$T_TMP/gridbootd.log" || { not_ok "daemon up"; t_done; exit 1; }
wait_for 5 grep -q "ra: s0: router advertisements auto" "$T_TMP/gridbootd.log"
sleep 1.5	# gridbootd's own start-up RS
metric() { ip netns exec $S curl -fsS -m 2 http://10.96.0.1/metrics | sed -n "s/^$1 //p"; }

# F: one RA with router lifetime 65535 s, then (for SECONDS) an RA in
# answer to every RS it hears; prints how many it answered.
cat >"$T_TMP/forge.py" <<'EOP'
import socket, sys, struct, time, select
ifindex, mac, secs = int(sys.argv[1]), bytes.fromhex(sys.argv[2].replace(":", "")), float(sys.argv[3])
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
# a router hears RSs on all-routers
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
             socket.inet_pton(socket.AF_INET6, "ff02::2") + struct.pack("@I", ifindex))
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 65535, 0, 0) + bytes([1, 1]) + mac
s.sendto(ra, ("ff02::1", 0, 0, ifindex))
answered, end = 0, time.time() + secs
while time.time() < end:
    r, _, _ = select.select([s], [], [], 0.2)
    if r:
        data, src = s.recvfrom(2048)
        if data[0] == 133:
            s.sendto(ra, ("ff02::1", 0, 0, ifindex))
            answered += 1
print("answered", answered, flush=True)
EOP
FIF=$(ip netns exec $F cat /sys/class/net/f0/ifindex)
ip netns exec $F python3 "$T_TMP/forge.py" "$FIF" "$FMAC" 9 >"$T_TMP/forge.out" 2>&1
check "gridbootd went quiet for F's RA" wait_for 3 grep -q "ra: s0: router $FLL" "$T_TMP/gridbootd.log"
check "F answered gridbootd's re-check RS once the 5 s hold was over ($(cat "$T_TMP/forge.out"))" \
	sh -c "[ \$(sed -n 's/^answered //p' '$T_TMP/forge.out') -ge 1 ]"
check "so gridbootd stayed quiet (no 'advertising again' yet)" \
	sh -c "! grep -q 'advertising again' '$T_TMP/gridbootd.log'"
check "the timeline names the router it yields to (address and MAC)" \
	sh -c "ip netns exec $S curl -fsS -m 2 http://10.96.0.1/api/v1/timeline | grep -q 'yielding to router $FLL ($FMAC, lifetime 65535 s)'"
# F is silent now: at most 5 s of hold and 1 s of re-check.
t0=$(date +%s)
check "gridbootd advertises again within 10 s of F's last RA, not after 18 h" \
	wait_for 10 grep -q "ra: s0: no other router advertisement .*advertising again" "$T_TMP/gridbootd.log"
diag "advertising again after $(( $(date +%s) - t0 )) s of F's silence"
check "an RS from F gets gridbootd's RA (router lifetime 0)" \
	sh -c "ip netns exec $F rdisc6 -n -1 -r 2 -w 1000 f0 | grep -q 'Router lifetime *: *0 '"
check "quiet counted once" [ "$(metric gridboot_ra_quiet_total)" = 1 ]
check "the daemon stops cleanly" stop_gridbootd
[ $T_FAILED -gt 0 ] && grep "ra:" "$T_TMP/gridbootd.log" | tail -n 20 | sed 's/^/# /'
t_done
