#!/bin/sh
# limit: 60
# A DHCPv6 Relay-Forw obeys grid.interfaces as a direct Solicit does
# (issue 21, fault 9). The server has two links: gbsv (served, named in
# grid.interfaces) and gbun (not served). A Relay-Forw arriving on gbun is
# dropped (gridboot_dhcp6_drops_total{reason="interface"} moves, no
# Advertise); the same message on gbsv gets its Relay-Reply.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

S=gbriS$$ C=gbriC$$ U=gbriU$$
dhcp_ns $S $C $U || { not_ok "namespaces"; t_done; exit 1; }
SV=gbsv$$ UN=gbun$$
dhcp_link $S $SV $C gbcv$$
dhcp_link $S $UN $U gbcu$$
ip -n $S addr add 10.9.80.1/24 dev $SV
ip -n $S addr add fd80::1/64 dev $SV nodad
ip -n $C addr add fd80::50/64 dev gbcv$$ nodad
ip -n $S addr add fd81::1/64 dev $UN nodad
ip -n $U addr add fd81::50/64 dev gbcu$$ nodad
mkdir -p "$T_TMP/state"
cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.9.80.1"; files = "$T_TMP"; state = "$T_TMP/state";
  interfaces = [ "$SV" ]; unknown = "cpu"; loaders = { ipxe_efi_x64 = "ipxe.efi"; }; };
networks = ( { subnet = "10.9.80.0/24"; subnet6 = "fd80::/64"; pool6 = "fd80::100-fd80::1ff"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; boot = "ipxe"; }; };
EOC
P="python3 $GRIDBOOT_TOP/tests/tools/dhcp6_probe.py"
check "gridbootd starts" dhcp_serve $S "$T_TMP/grid.cfg"
wait_for 10 grep -q "dhcp6: listening" "$T_TMP/gridbootd.log"
metric() { ip netns exec $S curl -fsS http://10.9.80.1/metrics | sed -n "s/^$1 //p"; }

d0=$(metric 'gridboot_dhcp6_drops_total{reason="interface"}')
out=$(ip netns exec $U $P fd81::1 relay fd80::1 1); echo "$out" | sed 's/^/# unserved: /'
check "a Relay-Forw on the unserved interface gets no reply" sh -c "echo '$out' | grep -q '^reply none'"
d1=$(metric 'gridboot_dhcp6_drops_total{reason="interface"}')
check "it is counted as an interface drop (${d0:-0} -> ${d1:-0})" [ "${d1:-0}" -gt "${d0:-0}" ]
out=$(ip netns exec $C $P fd80::1 relay fd80::1 1); echo "$out" | sed 's/^/# served: /'
check "the same Relay-Forw on the served interface gets its Relay-Reply" \
	sh -c "echo '$out' | grep -q 'type 2 relays 1 '"
check "the daemon stops cleanly" stop_gridbootd
t_done
