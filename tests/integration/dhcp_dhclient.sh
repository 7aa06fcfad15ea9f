#!/bin/sh
# limit: 90
# ISC dhclient against gridbootd in full mode: bind, renew (dhclient -n
# style: a second run with the lease file in INIT-REBOOT), release. The
# journal shows the binding and the release.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

S=gbdS$$ C=gbdC$$
ns_add $S $C || { not_ok "namespaces"; t_done; exit 1; }
ns_veth $S gbs$$ $C gbc$$
ns_addr $S gbs$$ 10.93.0.1/24
ip -n $C link set gbc$$ address 52:54:00:ff:00:01
cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.93.0.1"; files = "$T_TMP"; state = "$T_TMP/state"; };
networks = ( { subnet = "10.93.0.0/24"; router = "10.93.0.1"; dns = ["10.93.0.1"];
               pool = "10.93.0.20-10.93.0.30"; lease = 120; } );
EOC
# dhclient's script: record the environment, configure nothing.
# (dhclient clears the environment, so the output path is written in.)
cat >"$T_TMP/dhc.sh" <<EOS
#!/bin/sh
env | grep -E '^(reason|new_ip_address|new_routers|new_subnet_mask|new_dhcp_server_identifier|new_dhcp_lease_time)=' | sort >>"$T_TMP/dhc.env"
echo "--" >>"$T_TMP/dhc.env"
EOS
chmod +x "$T_TMP/dhc.sh"
check "gridbootd starts" dhcp_serve $S "$T_TMP/grid.cfg"

dhc() {	# REASON: run dhclient until its script sees REASON
	want=$1
	timeout 30 ip netns exec $C dhclient -1 -v -d \
	    -lf "$T_TMP/dhc.leases" -pf "$T_TMP/dhc.pid" -sf "$T_TMP/dhc.sh" gbc$$ \
	    >>"$T_TMP/dhclient.log" 2>&1 &
	DHC=$!
	track_pid $DHC
	wait_for 20 grep -q "^reason=$want" "$T_TMP/dhc.env"
}
: >"$T_TMP/dhc.env"
check "dhclient binds" dhc BOUND
# dhclient writes its lease file after running the script: wait for it, or
# the restart below has nothing to reboot from.
wait_for 10 grep -q "fixed-address" "$T_TMP/dhc.leases"
kill $DHC 2>/dev/null; wait $DHC 2>/dev/null
IP=$(sed -n 's/^new_ip_address=//p' "$T_TMP/dhc.env" | head -n1)
check "address from the pool ($IP)" sh -c "echo '$IP' | grep -q '^10\.93\.0\.\(2[0-9]\|30\)$'"
check "router and mask" sh -c "grep -q new_routers=10.93.0.1 '$T_TMP/dhc.env' && grep -q new_subnet_mask=255.255.255.0 '$T_TMP/dhc.env'"
check "lease time 120" grep -q "new_dhcp_lease_time=120" "$T_TMP/dhc.env"
check "journal has the binding" grep -q "^B 525400ff0001 $IP " "$T_TMP/state/dhcp.leases"

# Second start with the lease file: INIT-REBOOT (REQUEST without server id).
: >"$T_TMP/dhc.env"
check "dhclient reboots into the same lease" dhc REBOOT
kill $DHC 2>/dev/null; wait $DHC 2>/dev/null
check "same address after INIT-REBOOT" grep -q "new_ip_address=$IP" "$T_TMP/dhc.env"

# Release: the journal records it. (Our script configures nothing, so
# give the interface its address for dhclient's unicast RELEASE.)
ip -n $C addr add "$IP/24" dev gbc$$
timeout 20 ip netns exec $C dhclient -r -v -lf "$T_TMP/dhc.leases" \
    -pf "$T_TMP/dhc.pid" -sf "$T_TMP/dhc.sh" gbc$$ >>"$T_TMP/dhclient.log" 2>&1
check "release reaches the journal" wait_for 5 grep -q "^F 525400ff0001" "$T_TMP/state/dhcp.leases"
check "gridbootd exits cleanly" stop_gridbootd
[ $T_FAILED -gt 0 ] && { tail -n 30 "$T_TMP/gridbootd.log"; tail -n 30 "$T_TMP/dhclient.log"; cat "$T_TMP/dhc.env"; } | sed 's/^/# /'
t_done
