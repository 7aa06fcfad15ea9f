#!/bin/sh
# limit: 90
# Relayed DHCP: udhcpc in one namespace, dnsmasq as a relay
# (--dhcp-relay) in a second, gridbootd in a third. The request arrives
# with giaddr set; gridbootd picks the network holding giaddr and answers
# the relay on port 67. grid.interfaces makes it bind to that interface
# (SO_BINDTODEVICE).
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

S=gbdS$$ R=gbdR$$ C=gbdC$$
ns_add $S $R $C || { not_ok "namespaces"; t_done; exit 1; }
ns_veth $S gbs$$ $R gbr$$
ns_veth $R gbq$$ $C gbc$$
ns_addr $S gbs$$ 10.97.0.1/24
ns_addr $R gbr$$ 10.97.0.2/24
ns_addr $R gbq$$ 10.96.0.1/24
ip -n $S route add 10.96.0.0/24 via 10.97.0.2
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
dhcp_script
cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.97.0.1"; files = "$T_TMP"; state = "$T_TMP/state";
  unknown = "cpu"; interfaces = ["gbs$$"]; loaders = { ipxe_bios = "undionly.kpxe"; }; };
networks = (
  { subnet = "10.97.0.0/24"; dhcp = "off"; },
  { subnet = "10.96.0.0/24"; router = "10.96.0.1"; pool = "10.96.0.50-10.96.0.60"; lease = 300; }
);
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
EOC
check "gridbootd starts" dhcp_serve $S "$T_TMP/grid.cfg"
ip netns exec $R dnsmasq --no-daemon -C /dev/null --port=0 --user=root \
    --pid-file="$T_TMP/relay.pid" --dhcp-relay=10.96.0.1,10.97.0.1 --interface=gbq$$ \
    --log-dhcp >"$T_TMP/relay.log" 2>&1 &
RELAY=$!
track_pid $RELAY
check "dnsmasq relay runs" wait_for 10 grep -q "DHCP relay from" "$T_TMP/relay.log"

ip -n $C link set gbc$$ address 52:54:00:bb:00:01
udhcpc_run $C gbc$$ rel -V PXEClient:Arch:00000 -x 93:0000
E="$T_TMP/rel.bound"
IP=$(envval "$E" ip)
check "relayed client bound ($IP)" sh -c "echo '$IP' | grep -q '^10\.96\.0\.\(5[0-9]\|60\)$'"
check "router of the relayed network" test "$(envval "$E" router)" = 10.96.0.1
check "server id is the address the relay reached" test "$(envval "$E" serverid)" = 10.97.0.1
check "boot file through the relay" test "$(envval "$E" boot_file)" = undionly.kpxe
check "gridbootd logged the relayed ACK" grep -q "request -> ack 10.96.0.5" "$T_TMP/gridbootd.log"
check "gridbootd exits cleanly" stop_gridbootd
[ $T_FAILED -gt 0 ] && { tail -n 30 "$T_TMP/gridbootd.log"; tail -n 20 "$T_TMP/relay.log"; cat "$T_TMP/udhcpc.log"; } | sed 's/^/# /'
t_done
