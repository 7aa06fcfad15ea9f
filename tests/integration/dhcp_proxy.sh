#!/bin/sh
# limit: 150
# proxyDHCP beside a site DHCP server. One LAN (a bridge) joins dnsmasq
# (the site's DHCP server), gridbootd with dhcp = "proxy", a udhcpc client
# and a QEMU guest whose NIC ROM is iPXE. The guest must get its address
# from dnsmasq and its boot file from gridbootd (proxy OFFER on 67, ACK on
# 4011), then fetch that file over HTTP. gridbootd never hands out an
# address.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

L=gbdL$$ S=gbdS$$ D=gbdD$$ C=gbdC$$
ns_add $L $S $D $C || { not_ok "namespaces"; t_done; exit 1; }
ip -n $L link add gbbr$$ type bridge
ip -n $L link set gbbr$$ up
for pair in "$S gbs$$ gbls$$" "$D gbd$$ gbld$$" "$C gbc$$ gblc$$"; do
	set -- $pair
	ns_veth "$1" "$2" $L "$3"
	ip -n $L link set "$3" master gbbr$$
done
ns_addr $S gbs$$ 10.95.0.2/24
ns_addr $D gbd$$ 10.95.0.1/24
dhcp_script
cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.95.0.2"; files = "$T_TMP/files"; state = "$T_TMP/state";
  http_port = 8080; unknown = "cpu"; loaders = { ipxe_bios = "undionly.kpxe"; }; };
networks = ( { subnet = "10.95.0.0/24"; dhcp = "proxy"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
EOC
check "gridbootd starts in proxy mode" dhcp_serve $S "$T_TMP/grid.cfg"
ip netns exec $D dnsmasq --no-daemon -C /dev/null --port=0 --user=root --no-ping \
    --pid-file="$T_TMP/site.pid" --dhcp-range=10.95.0.100,10.95.0.150,1h \
    --dhcp-leasefile="$T_TMP/site.leases" --interface=gbd$$ --log-dhcp \
    >"$T_TMP/site.log" 2>&1 &
track_pid $!
# --no-ping: dnsmasq otherwise pings each address for up to 3 s before its
# OFFER leaves, longer than udhcpc's four tries on a loaded machine.
wait_for 10 grep -q "DHCP, IP range" "$T_TMP/site.log"

# A plain client: address from dnsmasq; gridbootd stays silent.
ip -n $C link set gbc$$ address 52:54:00:dd:00:01
udhcpc_run $C gbc$$ plain
IP=$(envval "$T_TMP/plain.bound" ip)
check "plain client gets its address from the site server ($IP)" \
    test "$(envval "$T_TMP/plain.bound" serverid)" = 10.95.0.1
check "gridbootd ignored the non-PXE client" grep -q "proxy mode: not a PXE client" "$T_TMP/gridbootd.log"

# The iPXE ROM of a QEMU guest, a real proxyDHCP client.
ip -n $L tuntap add gbt$$ mode tap
ip -n $L link set gbt$$ master gbbr$$
ip -n $L link set gbt$$ up
ip netns exec $L qemu-system-x86_64 -M pc -m 128 -display none -vga std -serial null \
    -monitor none -boot n -no-reboot \
    -netdev tap,id=n0,ifname=gbt$$,script=no,downscript=no \
    -device e1000,netdev=n0,mac=52:54:00:dd:00:02 >"$T_TMP/qemu.log" 2>&1 &
QEMU=$!
track_pid $QEMU
# gridbootd's own HTTP module serves boot.ipxe, which chains to the
# machine's script: that second request proves the whole proxy path.
if wait_for 60 grep -q "event http 52:54:00:dd:00:02 GET /ipxe/525400dd0002.ipxe" "$T_TMP/gridbootd.log"; then
	ok "the guest fetched boot.ipxe from gridboot's proxy answer, then chained"
else
	not_ok "the guest fetched boot.ipxe from gridboot's proxy answer, then chained"
fi
kill $QEMU 2>/dev/null
check "the guest's address came from the site server" grep -q "DHCPACK.*52:54:00:dd:00:02" "$T_TMP/site.log"
check "gridbootd sent a proxy offer (no address)" grep -q "discover -> offer (no address) file http://10.95.0.2:8080/boot.ipxe" "$T_TMP/gridbootd.log"
# iPXE boots from the proxy offer itself; port 4011 is covered by dhcp_malformed.
grep -q "request -> ack (no address)" "$T_TMP/gridbootd.log" && diag "the guest also asked on port 4011"
check "gridbootd never offered an address" sh -c "! grep -E -q '(offer|ack) 10\\.' '$T_TMP/gridbootd.log'"
check "gridbootd wrote no lease" sh -c "! grep -q '^B ' '$T_TMP/state/dhcp.leases'"
check "gridbootd exits cleanly" stop_gridbootd
[ $T_FAILED -gt 0 ] && { tail -n 30 "$T_TMP/gridbootd.log"; tail -n 20 "$T_TMP/site.log"; cat "$T_TMP/qemu.log"; } | sed 's/^/# /'
t_done
