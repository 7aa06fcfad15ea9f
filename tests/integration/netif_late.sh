#!/bin/sh
# limit: 90
# A link that comes up after gridbootd started (core/netif.c: the
# interface table hears the kernel's netlink news): within a few seconds,
# not at the old 30 s re-read,
#   - the RA module advertises on it (the log names it);
#   - DHCPv6 has joined ff02::1:2 there: dhclient -6's Solicit is answered
#     and it binds an address from subnet6 (the only way a Solicit is
#     heard; the Solicit's arrival is in the log);
#   - DHCPv4 answers a broadcast on it with our address there (option 54);
# and a link removed is dropped by the RA module.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

for t in dhclient udhcpc; do
	command -v $t >/dev/null || { not_ok "$t installed (tests/deps.d)"; t_done; exit 1; }
done
S=gbnS$$ C=gbnC$$
dhcp_ns $S $C || { not_ok "namespaces"; t_done; exit 1; }
for n in $S $C; do
	ip netns exec $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.94.0.1"; files = "$T_TMP"; state = "$T_TMP/state"; };
networks = ( { subnet = "10.94.0.0/24"; pool = "10.94.0.50-10.94.0.60";
               subnet6 = "fd94::/64"; pool6 = "fd94::100-fd94::1ff"; lease = 60; ra = "on"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
EOC
check "gridbootd starts with no link of the network" dhcp_serve $S "$T_TMP/grid.cfg"
check "dhcp6 listens" wait_for 10 grep -q "dhcp6: listening" "$T_TMP/gridbootd.log"
check "no RA link yet" sh -c "! grep -q 'ra: gbs$$: router advertisements' '$T_TMP/gridbootd.log'"

# The link comes up now, a second after the start.
sleep 1
t0=$(date +%s)
dhcp_link $S gbs$$ $C gbc$$
ip -n $S addr add 10.94.0.1/24 dev gbs$$
ip -n $S addr add fd94::1/64 dev gbs$$ nodad
check "RA advertises on the new link within 5 s" \
    wait_for 5 grep -q "ra: gbs$$: router advertisements on" "$T_TMP/gridbootd.log"
wait_for 5 sh -c "ip -n $C -6 addr show dev gbc$$ | grep -q 'fe80.*scope link'"

cat >"$T_TMP/dhc.sh" <<EOS
#!/bin/sh
env | grep -E '^(reason|new_ip6_address)=' | sort >>"$T_TMP/dhc.env"
EOS
chmod +x "$T_TMP/dhc.sh"
: >"$T_TMP/dhc.conf"
timeout 30 ip netns exec $C dhclient -6 -d -v -cf "$T_TMP/dhc.conf" -lf "$T_TMP/dhc.leases" \
    -pf "$T_TMP/dhc.pid" -sf "$T_TMP/dhc.sh" gbc$$ >>"$T_TMP/dhclient.log" 2>&1 &
DHC=$!
track_pid $DHC
# dhclient's Solicits go out at about 1, 3, 7 s: a join that waited for
# the old 30 s re-read would leave all of them unheard for 15 s.
check "dhclient -6 on the late link binds within 15 s" wait_for 15 grep -q "^reason=BOUND6" "$T_TMP/dhc.env"
kill $DHC 2>/dev/null; wait $DHC 2>/dev/null
t1=$(date +%s)
diag "link up to DHCPv6 binding: $((t1 - t0)) s"
check "its address is from pool6" grep -q "^new_ip6_address=fd94::1[0-9a-f][0-9a-f]$" "$T_TMP/dhc.env"
check "the Solicit reached the server on that link" grep -q "dhcp6: SOLICIT -> ADVERTISE" "$T_TMP/gridbootd.log"

dhcp_script
udhcpc_run $C gbc$$ v4
check "DHCPv4 binds on the late link" [ -f "$T_TMP/v4.bound" ]
check "server id is our address there" [ "$(envval "$T_TMP/v4.bound" serverid)" = "10.94.0.1" ]

ip -n $S link del gbs$$
check "RA drops a link that is gone" wait_for 5 grep -q "ra: gbs$$: gone or no longer served" "$T_TMP/gridbootd.log"
check "gridbootd exits cleanly" stop_gridbootd
[ $T_FAILED -gt 0 ] && { tail -n 40 "$T_TMP/gridbootd.log"; tail -n 20 "$T_TMP/dhclient.log"; } | sed 's/^/# /'
t_done
