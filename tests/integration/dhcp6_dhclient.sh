#!/bin/sh
# limit: 150
# ISC dhclient -6 against gridbootd's DHCPv6 server: a reservation by DUID
# (DUID-LL) and a pool address (DUID-LLT), Confirm on restart, Renew at
# T1, Release (gone from the API and journaled), kill -9 and restart with
# the binding replayed from the journal and offered again; a client
# sending option 61 = 7 and vendor class PXEClient gets option 59 with a
# tftp:// URL; then dnsmasq as a DHCPv6 relay with dhclient -6 behind it.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

S=gbdS$$ C=gbdC$$ R=gbdR$$ B=gbdB$$
ns_add $S $C $R $B || { not_ok "namespaces"; t_done; exit 1; }
for n in $S $C $R $B; do
	ip netns exec $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ns_veth $S gbs$$ $C gbc$$
ip -n $C link set gbc$$ address 52:54:00:ff:00:02
ns_addr $S gbs$$ 10.97.0.1/24 fd97::1/64
# relay: S --(fd98::/64)-- R --(fd99::/64)-- B (the relayed client)
ns_veth $S gbsr$$ $R gbrs$$
ns_veth $R gbrb$$ $B gbbr$$
ip -n $B link set gbbr$$ address 52:54:00:ff:00:03
ns_addr $S gbsr$$ fd98::1/64
ns_addr $R gbrs$$ fd98::2/64
ns_addr $R gbrb$$ fd99::1/64
ip -n $S route add fd99::/64 via fd98::2
cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.97.0.1"; files = "$T_TMP"; state = "$T_TMP/state";
  unknown = "cpu"; loaders = { ipxe_efi_x64 = "ipxe.efi"; ipxe_bios = "undionly.kpxe"; }; };
networks = ( { subnet = "10.97.0.0/24"; subnet6 = "fd97::/64"; pool6 = "fd97::100-fd97::1ff";
               dns6 = "fd97::53"; lease = 60; interface = "gbs$$"; },
             { subnet = "10.98.0.0/24"; subnet6 = "fd99::/64"; pool6 = "fd99::100-fd99::1ff"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; boot = "ipxe"; }; };
machines = ( { name = "r6"; mac = "52:54:00:aa:aa:aa"; role = "cpu";
               ip6 = "fd97::10"; duid = "00:03:00:01:52:54:00:ff:00:02"; } );
EOC
# dhclient's script records its environment (dhclient clears the
# environment, so each client's script has its output path written in).
mkscript() {
	cat >"$T_TMP/dhc-$1.sh" <<EOS
#!/bin/sh
env | grep -E '^(reason|new_ip6_address|new_dhcp6_name_servers|new_dhcp6_bootfile_url|new_dhcp6_server_id|old_ip6_address)=' | sort >>"$T_TMP/$1.env"
echo "--" >>"$T_TMP/$1.env"
EOS
	chmod +x "$T_TMP/dhc-$1.sh"
}
for n in res pool pxe relayed; do mkscript $n; done
check "gridbootd starts" dhcp_serve $S "$T_TMP/grid.cfg"
check "dhcp6 listens" wait_for 10 grep -q "dhcp6: listening" "$T_TMP/gridbootd.log"
# Link-local addresses exist at once without DAD; wait until usable.
wait_for 5 sh -c "ip -n $C -6 addr show dev gbc$$ | grep -q 'fe80.*scope link'"

# dhc6 NAME NS IF REASON ARGS...: dhclient -6 in the foreground until its
# script sees REASON; its lease file is $T_TMP/NAME.leases.
dhc6() {
	name=$1 ns=$2 ifc=$3 want=$4
	shift 4
	timeout 60 ip netns exec $ns \
	    dhclient -6 -d -v -cf "$T_TMP/$name.conf" -lf "$T_TMP/$name.leases" \
	    -pf "$T_TMP/$name.pid" -sf "$T_TMP/dhc-$name.sh" "$@" $ifc >>"$T_TMP/dhclient-$name.log" 2>&1 &
	DHC=$!
	track_pid $DHC
	wait_for 20 grep -q "^reason=$want" "$T_TMP/$name.env"
}
stop_dhc() { kill $DHC 2>/dev/null; wait $DHC 2>/dev/null; }
addr_of() { sed -n 's/^new_ip6_address=//p' "$T_TMP/$1.env" | tail -n1; }

echo 'request dhcp6.name-servers;' >"$T_TMP/res.conf"
echo 'request dhcp6.name-servers;' >"$T_TMP/pool.conf"
check "reserved client (DUID-LL) binds" dhc6 res $C gbc$$ BOUND6 -D LL
stop_dhc
check "it got its reservation fd97::10" [ "$(addr_of res)" = "fd97::10" ]
check "DNS server option 23" grep -q "new_dhcp6_name_servers=fd97::53" "$T_TMP/res.env"

check "pool client (DUID-LLT) binds" dhc6 pool $C gbc$$ BOUND6 -D LLT
POOL=$(addr_of pool)
check "pool address ($POOL)" sh -c "echo '$POOL' | grep -q '^fd97::1[0-9a-f][0-9a-f]$'"
check "journal has the binding (B DUID.IAID ADDR ...)" grep -q "^B 0001[0-9a-f]*\.[0-9]* $POOL " "$T_TMP/state/dhcp6.leases"
OWNER=$(awk -v a="$POOL" '$1 == "B" && $3 == a { o = $2 } END { print o }' "$T_TMP/state/dhcp6.leases")
check "API lists the pool lease" sh -c "ip netns exec $S curl -fsS http://10.97.0.1/api/v1/leases | grep -q '\"ip6\": *\"$POOL\"'"
# Renew at T1 (30 s of a 60 s lease) from the still-running client.
check "renews at T1" wait_for 45 grep -q "^reason=RENEW6" "$T_TMP/pool.env"
check "Renew counted" sh -c "ip netns exec $S curl -fsS http://10.97.0.1/metrics | grep -q 'gridboot_dhcp6_messages_total{type=\"RENEW\"} [1-9]'"
stop_dhc

# A restart with the lease file: Confirm, then the same binding.
: >"$T_TMP/pool.env"
# (dhclient runs its script with BOUND6 after a confirmed INIT-REBOOT.)
check "restarted client confirms its lease" dhc6 pool $C gbc$$ BOUND6 -D LLT
stop_dhc
check "Confirm counted" sh -c "ip netns exec $S curl -fsS http://10.97.0.1/metrics | grep -q 'gridboot_dhcp6_messages_total{type=\"CONFIRM\"} [1-9]'"
check "same address after Confirm" [ "$(addr_of pool)" = "$POOL" ]

# kill -9: the binding comes back from the journal, before any client asks.
kill -9 $GB_PID; wait $GB_PID 2>/dev/null
: >"$T_TMP/gridbootd.log"
check "gridbootd restarts after kill -9" dhcp_serve $S "$T_TMP/grid.cfg"
wait_for 10 grep -q "dhcp6: listening" "$T_TMP/gridbootd.log"
wait_for 10 grep -q "http: listening" "$T_TMP/gridbootd.log"
check "the binding survived (API, before any request)" sh -c "ip netns exec $S curl -fsS http://10.97.0.1/api/v1/leases | grep -q '\"ip6\": *\"$POOL\"'"
# Same client, lease file gone: a Solicit without a hint gets the same one.
# Keep only the DUID dhclient made (its DUID-LLT has a time in it).
grep default-duid "$T_TMP/pool.leases" >"$T_TMP/duid.only"
mv "$T_TMP/duid.only" "$T_TMP/pool.leases"
: >"$T_TMP/pool.env"
check "same client solicits again after the restart" dhc6 pool $C gbc$$ BOUND6 -D LLT
stop_dhc
check "same address offered after kill -9 ($(addr_of pool))" [ "$(addr_of pool)" = "$POOL" ]

# Release: the journal records it and the API no longer lists it.
timeout 20 ip netns exec $C dhclient -6 -r -v -cf "$T_TMP/pool.conf" -lf "$T_TMP/pool.leases" \
    -pf "$T_TMP/pool.pid" -sf "$T_TMP/dhc-pool.sh" gbc$$ >>"$T_TMP/dhclient-pool.log" 2>&1
check "release reaches the journal (F $OWNER)" wait_for 5 grep -qx "F $OWNER" "$T_TMP/state/dhcp6.leases"
check "API no longer lists it" sh -c "! ip netns exec $S curl -fsS http://10.97.0.1/api/v1/leases | grep -q '\"ip6\": *\"$POOL\"'"

# A UEFI PXE client over IPv6: option 61 = 7, vendor class PXEClient.
cat >"$T_TMP/pxe.conf" <<EOC
option dhcp6.arch code 61 = unsigned integer 16;
option dhcp6.bootfile-url code 59 = string;
send dhcp6.arch 7;
send dhcp6.vendor-class 343 9 "PXEClient";
request dhcp6.bootfile-url;
also request dhcp6.bootfile-url;
EOC
check "PXE client binds" dhc6 pxe $C gbc$$ BOUND6 -D LL
stop_dhc
grep bootfile "$T_TMP/pxe.env" | sed 's/^/# /'
check "option 59 is the UEFI loader over TFTP on our IPv6 address" \
    grep -q "new_dhcp6_bootfile_url=tftp://\[fd97::1\]/ipxe.efi" "$T_TMP/pxe.env"

# dnsmasq relays for the second network: link-address fd99::1 picks it.
ip netns exec $R dnsmasq --keep-in-foreground --port=0 --no-resolv --log-dhcp \
    --pid-file="$T_TMP/dnsmasq.pid" --dhcp-relay=fd99::1,fd98::1 \
    --log-facility="$T_TMP/dnsmasq.log" >/dev/null 2>&1 &
track_pid $!
sleep 1
: >"$T_TMP/relayed.conf"
relayed() { ip netns exec $S curl -fsS http://10.97.0.1/metrics | sed -n 's/^gridboot_dhcp6_relayed_total //p'; }
r0=$(relayed)
check "relayed client binds through dnsmasq" dhc6 relayed $B gbbr$$ BOUND6 -D LL
stop_dhc
RA=$(addr_of relayed)
check "relayed client got an address of the relay's link ($RA)" sh -c "echo '$RA' | grep -q '^fd99::1[0-9a-f][0-9a-f]$'"
check "Relay-Forw counted (relayed ${r0:-0} -> $(relayed))" [ "$(relayed)" -gt "${r0:-0}" ]
check "the relayed binding has the client's MAC" sh -c "grep '^B [^ ]* $RA ' '$T_TMP/state/dhcp6.leases' | grep -q ' 525400ff0003$'"

check "gridbootd exits cleanly" stop_gridbootd
[ $T_FAILED -gt 0 ] && { tail -n 40 "$T_TMP/gridbootd.log"; tail -n 20 "$T_TMP"/dhclient-*.log; cat "$T_TMP"/*.env; cat "$T_TMP/dnsmasq.log"; } 2>/dev/null | sed 's/^/# /'
t_done
