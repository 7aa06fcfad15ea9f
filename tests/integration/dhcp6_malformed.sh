#!/bin/sh
# limit: 150
# Broken DHCPv6 datagrams (truncated, an option longer than the message,
# a relay nest 40 deep, 200 IA_NAs, a Relay-Forw without a message, a bad
# DUID, a server's message type, IA_NA and IAADDR overruns) are each
# dropped and counted, and the daemon goes on serving: a rapid-commit
# Solicit with option 61 = 7 gets a Reply with its address and option 59,
# a Solicit inside 32 relay layers gets 32 Relay-Replies with the
# interface-id echoed, an iPXE client gets its script URL over HTTP on
# IPv6, proxy mode answers boot options only, and explain6 agrees. Ends with a bounded
# libFuzzer run of the parser when clang's libFuzzer is installed.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

S=gbdS$$ C=gbdC$$
ns_add $S $C || { not_ok "namespaces"; t_done; exit 1; }
for n in $S $C; do
	ip netns exec $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ns_veth $S gbs$$ $C gbc$$
ns_addr $S gbs$$ 10.9.0.1/24 fd9a::1/64 fd9b::1/64
ns_addr $C gbc$$ fd9a::50/64 fd9b::50/64
cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.9.0.1"; files = "$T_TMP"; state = "$T_TMP/state";
  unknown = "cpu"; loaders = { ipxe_efi_x64 = "ipxe.efi"; }; };
networks = ( { subnet = "10.9.0.0/24"; subnet6 = "fd9a::/64"; pool6 = "fd9a::100-fd9a::1ff"; },
             { subnet = "10.10.0.0/24"; subnet6 = "fd9b::/64"; dhcp6 = "proxy"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; boot = "ipxe"; }; };
EOC
P="python3 $GRIDBOOT_TOP/tests/tools/dhcp6_probe.py"
check "gridbootd starts" dhcp_serve $S "$T_TMP/grid.cfg"
wait_for 10 grep -q "dhcp6: listening" "$T_TMP/gridbootd.log"
wait_for 10 grep -q "http: listening" "$T_TMP/gridbootd.log"
ip netns exec $C $P fd9a::1 malformed | sed 's/^/# /'
metric() { ip netns exec $S curl -fsS http://10.9.0.1/metrics | awk -v m="$1" 'index($0, m) == 1 { n += $2 } END { print n + 0 }'; }
wait_for 5 sh -c "[ \$(ip netns exec $S curl -fsS http://10.9.0.1/metrics | awk '/^gridboot_dhcp6_drops_total/ { n += \$2 } END { print n + 0 }') -ge 9 ]"
drops=$(metric gridboot_dhcp6_drops_total)
check "all 9 broken datagrams counted as drops ($drops)" [ "$drops" = 9 ]
for r in short option hops too_many_ia no_relay_msg duid type; do
	check "drop reason $r counted" [ "$(metric "gridboot_dhcp6_drops_total{reason=\"$r\"}")" = 1 ]
done
check "both IA overruns counted" [ "$(metric 'gridboot_dhcp6_drops_total{reason="ia"}')" = 2 ]
check "drops were logged (rate-limited)" grep -q "dhcp6: dropped a malformed datagram" "$T_TMP/gridbootd.log"

out=$(ip netns exec $C $P fd9a::1 pxe); echo "$out" | sed 's/^/# /'
check "rapid commit: a Reply (type 7) with an address from the pool" sh -c "echo '$out' | grep -q 'type 7 relays 0 .*addr fd9a::1[0-9a-f][0-9a-f]'"
check "rapid commit option echoed" sh -c "echo '$out' | grep -q ' rapid'"
check "option 59: the UEFI x64 loader over TFTP on IPv6" sh -c "echo '$out' | grep -q 'url tftp://\[fd9a::1\]/ipxe.efi'"
check "the rapid-commit binding is journaled" grep -q "^B [^ ]* fd9a::1" "$T_TMP/state/dhcp6.leases"

out=$(ip netns exec $C $P fd9a::1 relay fd9a::1 32); echo "$out" | sed 's/^/# /'
check "32 relay layers answered with 32 Relay-Replies" sh -c "echo '$out' | grep -q 'type 2 relays 32 outer-ifid if31'"
check "UEFI HTTP client behind relays: http URL and HTTPClient" sh -c "echo '$out' | grep -q 'url http://\[fd9a::1\]:80/files/ipxe.efi vendor HTTPClient'"

out=$(ip netns exec $C $P fd9a::1 ipxe); echo "$out" | sed 's/^/# /'
check "iPXE gets its boot script over HTTP on IPv6" sh -c "echo '$out' | grep -q 'url http://\[fd9a::1\]:80/boot.ipxe'"

out=$(ip netns exec $C $P fd9b::1 pxe); echo "$out" | sed 's/^/# /'
check "proxy mode: an Advertise with option 59 and no address" sh -c "echo '$out' | grep -q 'type 2 relays 0 ia-status 2 url tftp://\[fd9b::1\]/ipxe.efi'"

# explain6 gives the answer the server gave the PXE client above.
check "explain6 names the same option 59" sh -c "'$GRIDBOOTD' explain6 -c '$T_TMP/grid.cfg' --mac 52:54:00:ee:00:61 --arch 7 --server6 fd9a::1 2>/dev/null | grep -q 'option 59 tftp://\[fd9a::1\]/ipxe.efi'"
# explain covers DHCPv6: --v6 (or a DHCPv6-only option) gives explain6's answer.
"$GRIDBOOTD" explain6 -c "$T_TMP/grid.cfg" --mac 52:54:00:ee:00:61 --arch 7 >"$T_TMP/x6" 2>&1
"$GRIDBOOTD" explain --v6 -c "$T_TMP/grid.cfg" --mac 52:54:00:ee:00:61 --arch 7 >"$T_TMP/xv6" 2>&1
check "explain --v6 answers as explain6 (option 59 and address)" \
    sh -c "cmp -s '$T_TMP/x6' '$T_TMP/xv6' && grep -q 'option 59 ' '$T_TMP/xv6' && grep -q IA_NA '$T_TMP/xv6'"
check "explain --duid is DHCPv6 without --v6" sh -c "'$GRIDBOOTD' explain -c '$T_TMP/grid.cfg' \
    --duid 00:03:00:01:52:54:00:ee:00:61 --arch 7 2>&1 | grep -q 'client DUID 00:03:00:01:52:54:00:ee:00:61'"
check "explain without --v6 stays DHCPv4 (option 93, no DUID)" sh -c "'$GRIDBOOTD' explain -c '$T_TMP/grid.cfg' \
    --mac 52:54:00:ee:00:61 --arch 7 2>&1 | grep -v DUID | grep -q 'option 93'"
check "gridbootd is alive" kill -0 $GB_PID
check "gridbootd exits cleanly (no sanitizer report)" stop_gridbootd
[ $T_FAILED -gt 0 ] && tail -n 30 "$T_TMP/gridbootd.log" | sed 's/^/# /'

# A short fuzzing run of the parser, if libFuzzer is here.
fuzz_run dhcp6 20 "the DHCPv6 parser"
t_done
