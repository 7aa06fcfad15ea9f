#!/bin/sh
# limit: 150
# Router advertisements (server/ra): gridbootd in namespace S on a bridge,
# a host C (rdisc6, and the kernel's own accept_ra) and a router R (radvd)
# on veths to it.
#   - C's solicitation is answered within MAX_RA_DELAY_TIME by an RA with
#     router lifetime 0, no prefix, M=0 O=0; C's kernel takes no default
#     route and no address from it;
#   - malformed ICMPv6 (crafted by python3 on a raw socket) is dropped and
#     counted by reason, and does not silence gridbootd;
#   - radvd advertising on the link: gridbootd goes quiet (log, counter)
#     and C's solicitations get no RA from it; radvd stopped: gridbootd
#     advertises again once radvd's RAs aged out;
#   - networks[].ra = "off": nothing sent, solicitations only counted;
#   - M=1 with dhcp6 full, O=1 with dhcp6 proxy (after a reload), subnet6
#     as an on-link-only prefix (L=1, A=0: a route, no address), and an
#     IPv6-only network's link found by its address in subnet6;
#   - 10 s of libFuzzer on the parser (make fuzz-ra).
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

for t in rdisc6 python3; do
	command -v $t >/dev/null || { not_ok "$t installed (tests/deps.d)"; t_done; exit 1; }
done
RADVD=$(command -v radvd || echo /usr/sbin/radvd)

S=gbrS$$ C=gbrC$$ R=gbrR$$
dhcp_ns $S $C $R || { not_ok "namespaces"; t_done; exit 1; }
# No duplicate address detection: link-local addresses usable at once.
for n in $S $C $R; do
	ip netns exec $n sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
done
ip netns exec $C sysctl -qw net.ipv6.conf.default.accept_ra=1
ip -n $S link add br0 type bridge
ip -n $S link set br0 type bridge stp_state 0 forward_delay 0
dhcp_link $S sc$$ $C c0
dhcp_link $S sr$$ $R r0
ip -n $S link set sc$$ master br0
ip -n $S link set sr$$ master br0
ip -n $S addr add 10.95.0.1/24 dev br0
ip -n $S link set br0 up

cfg() {	# RA-MODE
	cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.95.0.1"; files = "$T_TMP"; state = "$T_TMP/state"; };
networks = ( { subnet = "10.95.0.0/24"; pool = "10.95.0.50-10.95.0.60"; ra = "$1"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
EOC
}
metric() { ip netns exec $S curl -fsS -m 2 http://10.95.0.1/metrics | sed -n "s/^$1 //p"; }
ge() { [ "${1:-0}" -ge "$2" ] 2>/dev/null; }
CIF=$(ip netns exec $C cat /sys/class/net/c0/ifindex)
sol() { ip netns exec $C rdisc6 -n -1 -r "${2:-1}" -w "${1:-1000}" c0 >"$T_TMP/rdisc6.out" 2>&1; }

# --- auto, alone on the link ----------------------------------------------
cfg auto
check "gridbootd starts" dhcp_serve $S "$T_TMP/grid.cfg"
check "ra watches br0 in auto mode" wait_for 5 grep -q "ra: br0: router advertisements auto" "$T_TMP/gridbootd.log"
sleep 1.2	# the start-up probe (our own RS) waits 1 s for other routers
t0=$(date +%s%N)
if sol 1000 1; then
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	ok "C's solicitation answered in $ms ms (one try, 1 s wait)"
else
	not_ok "C's solicitation answered"
fi
sed 's/^/#   /' "$T_TMP/rdisc6.out"
check "router lifetime 0" grep -q "Router lifetime *: *0 (0x00000000) seconds" "$T_TMP/rdisc6.out"
check "no prefix announced" sh -c "! grep -qi prefix '$T_TMP/rdisc6.out'"
check "M flag clear (no stateful addresses: no DHCPv6 here)" grep -q "Stateful address conf\. *: *No" "$T_TMP/rdisc6.out"
check "O flag clear" grep -q "Stateful other conf\. *: *No" "$T_TMP/rdisc6.out"
check "hop limit, reachable time, retrans timer unspecified" \
    sh -c "grep -q 'Hop limit *: *undefined' '$T_TMP/rdisc6.out' && grep -q 'Reachable time *: *unspecified' '$T_TMP/rdisc6.out'"
check "source link-layer option is br0's MAC" \
    grep -qi "Source link-layer address: *$(ip -n $S link show br0 | awk '/link\/ether/ {print $2}')" "$T_TMP/rdisc6.out"
# The kernel of C took the RA (accept_ra=1) but got no router and no address.
check "C's kernel: no default route from it" sh -c "[ -z \"\$(ip -n $C -6 route show default)\" ]"
check "C's kernel: no global address from it" sh -c "[ -z \"\$(ip -n $C -6 addr show dev c0 scope global)\" ]"
check "metrics: solicitation seen" ge "$(metric gridboot_ra_solicitations_total)" 1
check "metrics: solicited RA sent" ge "$(metric 'gridboot_ra_sent_total{kind="solicited"}')" 1

# --- malformed ICMPv6 -----------------------------------------------------
cat >"$T_TMP/craft.py" <<'EOP'
import socket, sys, struct
ifindex = int(sys.argv[1])
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
def send(pkt, hops=255, dst="ff02::2"):
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, hops)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
    s.sendto(pkt, (dst, 0, 0, ifindex))   # the kernel fills the checksum
rs = struct.pack("!BBHI", 133, 0, 0, 0)
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
send(rs + bytes([1, 0]) + bytes(6))           # option of length 0
send(rs + bytes([1, 2]) + bytes(6))           # option running past the end
send(rs, hops=64)                             # crossed a router
send(struct.pack("!BBHI", 133, 7, 0, 0))      # code 7
send(bytes([133, 0, 0, 0]))                   # shorter than an RS
send(ra[:10], dst="ff02::1")                  # shorter than an RA
send(ra + bytes([3, 0]) + bytes(6), dst="ff02::1")  # an RA with a zero-length option
print("sent 7")
EOP
if ip netns exec $C python3 "$T_TMP/craft.py" "$CIF" >"$T_TMP/craft.out" 2>&1; then
	ok "7 malformed ICMPv6 messages sent from C"
else
	not_ok "malformed ICMPv6 messages sent from C"; sed 's/^/# /' "$T_TMP/craft.out"
fi
sleep 0.5
check "dropped: bad options (3)" ge "$(metric 'gridboot_ra_drops_total{reason="option"}')" 3
check "dropped: hop limit not 255" ge "$(metric 'gridboot_ra_drops_total{reason="hoplimit"}')" 1
check "dropped: code not 0" ge "$(metric 'gridboot_ra_drops_total{reason="code"}')" 1
check "dropped: short (2)" ge "$(metric 'gridboot_ra_drops_total{reason="short"}')" 2
check "the malformed RAs did not count as another router" test "$(metric gridboot_ra_quiet_total)" = 0
check "the drop is logged" grep -q "ra: br0: dropped a malformed ICMPv6 message" "$T_TMP/gridbootd.log"
check "still answering after the malformed input" sol 1000 2

# --- another router on the link -------------------------------------------
ip netns exec $R sysctl -qw net.ipv6.conf.all.forwarding=1
cat >"$T_TMP/radvd.conf" <<EOC
interface r0 {
	AdvSendAdvert on;
	MinRtrAdvInterval 3;
	MaxRtrAdvInterval 4;
	AdvDefaultLifetime 0;
};
EOC
ip netns exec $R "$RADVD" -n -m stderr -C "$T_TMP/radvd.conf" -p "$T_TMP/radvd.pid" \
    </dev/null >"$T_TMP/radvd.log" 2>&1 &
RA_PID=$!
track_pid $RA_PID
check "gridbootd sees radvd and goes quiet" \
    wait_for 10 grep -q "ra: br0: router fe80::.* advertises .*; not advertising here" "$T_TMP/gridbootd.log"
check "metrics: quiet once, other router counted" \
    sh -c "[ \"$(metric gridboot_ra_quiet_total)\" = 1 ] && [ \"$(metric gridboot_ra_other_router_total)\" -ge 1 ]"
s1=$(metric 'gridboot_ra_sent_total{kind="solicited"}')
u1=$(metric 'gridboot_ra_sent_total{kind="unsolicited"}')
r1=$(metric gridboot_ra_solicitations_total)
sol 1000 2
sleep 1
check "solicitations still seen while quiet" ge "$(metric gridboot_ra_solicitations_total)" $((r1 + 1))
check "no solicited RA from gridbootd while radvd advertises" \
    test "$(metric 'gridboot_ra_sent_total{kind="solicited"}')" = "$s1"
check "no unsolicited RA from gridbootd while radvd advertises" \
    test "$(metric 'gridboot_ra_sent_total{kind="unsolicited"}')" = "$u1"
check "C's answer came from radvd" grep -q "from $(ip -n $R -6 addr show dev r0 scope link | awk '/inet6/ {sub("/.*","",$2); print $2}')" "$T_TMP/rdisc6.out"
kill "$RA_PID"; wait "$RA_PID" 2>/dev/null
# radvd's RAs came every 3-4 s: they age out after three of its longest gaps.
check "radvd gone: gridbootd advertises again (aged out)" \
    wait_for 30 grep -q "ra: br0: no other router advertisement for .* advertising again" "$T_TMP/gridbootd.log"
check "answering solicitations again" sol 1000 2
check "gridbootd exits cleanly" stop_gridbootd

# --- forced off -----------------------------------------------------------
cfg off
: >"$T_TMP/gridbootd.log"
check "gridbootd starts with ra = off" dhcp_serve $S "$T_TMP/grid.cfg"
check "ra off on br0" wait_for 5 grep -q "ra: br0: router advertisements off" "$T_TMP/gridbootd.log"
ip netns exec $C rdisc6 -n -d -w 1500 -1 c0 >"$T_TMP/listen.out" 2>&1 &
LPID=$!
track_pid $LPID
if sol 1000 3; then not_ok "no answer with ra = off"; else ok "no answer with ra = off (3 solicitations)"; fi
wait $LPID 2>/dev/null
check "nothing unsolicited either" sh -c "! grep -q 'Router lifetime' '$T_TMP/listen.out'"
check "metrics: solicitations counted, none answered" \
    sh -c "[ \"$(metric gridboot_ra_solicitations_total)\" -ge 3 ] && [ \"$(metric 'gridboot_ra_sent_total{kind="solicited"}')\" = 0 ] && [ \"$(metric 'gridboot_ra_sent_total{kind="unsolicited"}')\" = 0 ]"
check "gridbootd exits cleanly" stop_gridbootd
# --- two gridbootd on one link ----------------------------------------------
# Each sees the other's RA; if both went quiet the link would have none.
# The one with the lower MAC keeps advertising, the other yields.
cfg auto
: >"$T_TMP/gridbootd.log"
check "gridbootd starts (auto) in S" dhcp_serve $S "$T_TMP/grid.cfg"
ip -n $R addr add 10.95.0.2/24 dev r0
mkdir -p "$T_TMP/r"
cat >"$T_TMP/r/grid.cfg" <<EOC
grid = { name = "t2"; server = "10.95.0.2"; files = "$T_TMP"; state = "$T_TMP/r/state"; };
networks = ( { subnet = "10.95.0.0/24"; dhcp = "off"; ra = "auto"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
EOC
ip netns exec $R "$GRIDBOOTD" serve -c "$T_TMP/r/grid.cfg" -d -l debug >"$T_TMP/r/gridbootd.log" 2>&1 &
R_PID=$!
track_pid $R_PID
check "a second gridbootd starts in R" wait_for 10 grep -q "info: serving " "$T_TMP/r/gridbootd.log"
rmetric() { ip netns exec $R curl -fsS -m 2 http://10.95.0.2/metrics | sed -n "s/^$1 //p"; }
smac=$(ip -n $S link show br0 | awk '/link\/ether/ {print $2}')
rmac=$(ip -n $R link show r0 | awk '/link\/ether/ {print $2}')
# The lower one's first unsolicited RA comes within 16 s (RFC 4861's
# MAX_INITIAL_RTR_ADVERT_INTERVAL); wait until one has yielded, 25 s at most.
i=0
while [ $i -lt 50 ]; do
	qs=$(metric gridboot_ra_quiet_total) qr=$(rmetric gridboot_ra_quiet_total)
	[ $((${qs:-0} + ${qr:-0})) -ge 1 ] && break
	sleep 0.5; i=$((i + 1))
done
sleep 1	# and neither yields after that
qs=$(metric gridboot_ra_quiet_total) qr=$(rmetric gridboot_ra_quiet_total)
diag "S ($smac) quiet $qs time(s), R ($rmac) quiet $qr time(s), after $((i / 2)) s"
# (The one that yields may never have sent: its start-up probe heard the
# other first.)
check "the other's RA was seen on the link" \
    sh -c "[ \"$(metric gridboot_ra_other_router_total)\" -ge 1 ] || [ \"$(rmetric gridboot_ra_other_router_total)\" -ge 1 ]"
if [ "$(printf '%s\n%s\n' "$smac" "$rmac" | sort | head -n1)" = "$smac" ]; then
	check "S has the lower MAC: it advertises, R yields" sh -c "[ '$qs' = 0 ] && [ '$qr' = 1 ]"
else
	check "R has the lower MAC: it advertises, S yields" sh -c "[ '$qs' = 1 ] && [ '$qr' = 0 ]"
fi
check "C's solicitation is answered" sol 1000 2
kill "$R_PID"; wait "$R_PID" 2>/dev/null
check "gridbootd exits cleanly" stop_gridbootd

# --- M and O follow gridbootd's DHCPv6 on the network ------------------------
# dhcp6 full: M=1 (addresses from DHCPv6), O=0; a reload to dhcp6 proxy:
# M=0, O=1 (boot options only); an IPv6-only network (subnet6, no subnet,
# no interface) is found by br0's address in subnet6.
ip -n $S addr add fd95::1/64 dev br0 nodad
cfg6() {	# DHCP6-MODE [v6only]
	if [ "${2:-}" = v6only ]; then net='subnet6 = "fd95::/64"'; else
		net='subnet = "10.95.0.0/24"; pool = "10.95.0.50-10.95.0.60"; subnet6 = "fd95::/64"'; fi
	[ "$1" = full ] && net="$net; pool6 = \"fd95::100-fd95::1ff\""
	cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.95.0.1"; files = "$T_TMP"; state = "$T_TMP/state"; };
networks = ( { $net; dhcp6 = "$1"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
EOC
}
flags() {	# M O: C's solicitation answered with these flags
	sol 1000 2 && grep -q "Stateful address conf\. *: *$1" "$T_TMP/rdisc6.out" &&
	    grep -q "Stateful other conf\. *: *$2" "$T_TMP/rdisc6.out"
}
cfg6 full
: >"$T_TMP/gridbootd.log"
check "gridbootd starts (subnet6, dhcp6 full)" dhcp_serve $S "$T_TMP/grid.cfg"
check "ra watches br0" wait_for 5 grep -q "ra: br0: router advertisements auto" "$T_TMP/gridbootd.log"
sleep 1.2
check "dhcp6 full: M flag set, O clear" flags Yes No
sed 's/^/#   /' "$T_TMP/rdisc6.out" | grep -i "stateful\|prefix\|on-link\|autonomous"
check "subnet6 announced as a prefix, on-link only (L=1, A=0)" sh -c "grep -q 'Prefix *: *fd95::/64' '$T_TMP/rdisc6.out' &&
    grep -q 'On-link *: *Yes' '$T_TMP/rdisc6.out' && grep -q 'Autonomous address conf.*: *No' '$T_TMP/rdisc6.out'"
check "C's kernel: an on-link route for fd95::/64, no address from it" \
    sh -c "ip -n $C -6 route show fd95::/64 | grep -q c0 && [ -z \"\$(ip -n $C -6 addr show dev c0 scope global)\" ]"
cfg6 proxy
kill -HUP $GB_PID
check "reloaded" wait_for 10 grep -q "reload: .* OK" "$T_TMP/gridbootd.log"
sleep 0.5
check "dhcp6 proxy after a reload: M clear, O set" flags No Yes
check "gridbootd exits cleanly" stop_gridbootd
cfg6 full v6only
: >"$T_TMP/gridbootd.log"
check "gridbootd starts (an IPv6-only network)" dhcp_serve $S "$T_TMP/grid.cfg"
check "ra finds br0 by its address in subnet6" wait_for 5 grep -q "ra: br0: router advertisements auto" "$T_TMP/gridbootd.log"
sleep 1.2
check "IPv6-only network, dhcp6 full: M set, O clear" flags Yes No
check "gridbootd exits cleanly" stop_gridbootd

# --- the parser under libFuzzer (make fuzz-ra), skipped without clang's runtime
if echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' \
    >"$T_TMP/probe.c" && clang -fsanitize=fuzzer -o "$T_TMP/probe" "$T_TMP/probe.c" 2>/dev/null; then
	make -s -C "$GRIDBOOT_TOP" fuzz-ra FUZZ_TIME=10 BUILD="$T_TMP/fz" >"$T_TMP/fuzz.log" 2>&1
	rc=$?
	runs=$(grep -o 'Done [0-9]* runs' "$T_TMP/fuzz.log")
	check "10 s of libFuzzer on the RS/RA parser: no crash ($runs)" sh -c "[ $rc -eq 0 ] && [ -n '$runs' ]"
else
	ok "# SKIP clang's libFuzzer is not installed (libclang-rt-14-dev)"
fi
[ $T_FAILED -gt 0 ] && { tail -n 40 "$T_TMP/gridbootd.log"; tail -n 10 "$T_TMP/radvd.log"; } | sed 's/^/# /'
t_done
