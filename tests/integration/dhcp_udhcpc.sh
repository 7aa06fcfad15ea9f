#!/bin/sh
# limit: 120
# Full-mode DHCP against busybox udhcpc in a network namespace: a
# reservation with the Plan 9 vendor class and option 43 read back, a PXE
# ROM from the pool with its loader, iPXE, the lease journal across
# kill -9, and `gridbootd explain`.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

S=gbdS$$ C=gbdC$$ SI=gbs$$ CI=gbc$$
ns_add $S $C || { not_ok "namespaces"; t_done; exit 1; }
ns_veth $S $SI $C $CI
ns_addr $S $SI 10.98.0.1/24
dhcp_script
cat >"$T_TMP/grid.cfg" <<EOC
grid = {
  name = "t"; server = "10.98.0.1"; files = "$T_TMP"; state = "$T_TMP/state";
  http_port = 8080; unknown = "discover"; fs = ["10.98.0.5"]; auth = ["10.98.0.6"];
  loaders = { ipxe_bios = "undionly.kpxe"; ipxe_efi_x64 = "ipxe.efi";
              plan9_efi_x64 = "bootx64.efi"; plan9_bios = "9bootpxe"; };
};
networks = ( { subnet = "10.98.0.0/24"; router = "10.98.0.1"; dns = ["10.98.0.1"];
               pool = "10.98.0.100-10.98.0.199"; lease = 600; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; discover = { kernel = "9pc64"; }; };
machines = (
  { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.98.0.11"; arch = "amd64";
    firmware = "bios"; role = "cpu"; }
);
EOC
check "gridbootd starts in the namespace" dhcp_serve $S "$T_TMP/grid.cfg"

# 1. A reserved Plan 9 machine: option 43 carries fs/auth as sub-options.
ip -n $C link set $CI address 52:54:00:00:00:11
udhcpc_run $C $CI p9 -V plan9_amd64 -O 43 -O hostname
E="$T_TMP/p9.bound"
check "plan9 client bound" test -f "$E"
check "reservation 10.98.0.11" test "$(envval "$E" ip)" = 10.98.0.11
check "hostname from the inventory" test "$(envval "$E" hostname)" = cpu1
o43=$(envval "$E" opt43)
diag "option 43: $o43"
# 128 len 4 10.98.0.5; 129 len 4 10.98.0.6; 130 count 1 "10.98.0.5\0"
check "option 43 sub-option 128 fs binary" sh -c "echo $o43 | grep -q '^80040a620005'"
check "option 43 sub-option 129 auth binary" sh -c "echo $o43 | grep -q '81040a620006'"
check "option 43 sub-option 130 fs text" sh -c "echo $o43 | grep -q '820b0131302e39382e302e3500'"
check "option 43 sub-option 132 ipaddr text" sh -c "echo $o43 | grep -q '840c0131302e39382e302e313100'"

# 2. An unknown BIOS PXE ROM: a pool address and the iPXE loader.
ip -n $C link set $CI address 52:54:00:aa:00:01
udhcpc_run $C $CI pxe -V PXEClient:Arch:00000:UNDI:002001 -x 93:0000
E="$T_TMP/pxe.bound"
PXEIP=$(envval "$E" ip)
check "PXE client got a pool address ($PXEIP)" sh -c "echo '$PXEIP' | grep -q '^10\.98\.0\.1[0-9][0-9]$'"
check "PXE boot file is the BIOS iPXE loader" test "$(envval "$E" boot_file)" = undionly.kpxe
check "PXE siaddr is the server" test "$(envval "$E" siaddr)" = 10.98.0.1
check "unknown PXE client recorded as discovered (within a second)" wait_for 5 grep -q '52:54:00:aa:00:01' "$T_TMP/state/discovered.json"

# 3. iPXE (user class) gets the HTTP boot script, never the loader again.
ip -n $C link set $CI address 52:54:00:aa:00:02
udhcpc_run $C $CI ipxe -V PXEClient:Arch:00000 -x 93:0000 -x 0x4d:69505845 -O 175
check "iPXE gets http://SERVER:PORT/boot.ipxe" \
    test "$(envval "$T_TMP/ipxe.bound" boot_file)" = http://10.98.0.1:8080/boot.ipxe
check "iPXE is told not to wait for ProxyDHCP (175: no-pxedhcp=1)" \
    test "$(envval "$T_TMP/ipxe.bound" opt175)" = b00101

# 4. kill -9, restart: the journal keeps the binding; nobody else gets it.
kill -9 $GB_PID; wait $GB_PID 2>/dev/null
check "journal holds the PXE lease" grep -q "^B 525400aa0001 $PXEIP " "$T_TMP/state/dhcp.leases"
: >"$T_TMP/gridbootd.log"
check "gridbootd restarts after kill -9" dhcp_serve $S "$T_TMP/grid.cfg"
ip -n $C link set $CI address 52:54:00:aa:00:03
udhcpc_run $C $CI other -r "$PXEIP"
OTHER=$(envval "$T_TMP/other.bound" ip)
check "another client asking for $PXEIP gets a different address ($OTHER)" \
    sh -c "[ -n '$OTHER' ] && [ '$OTHER' != '$PXEIP' ]"
ip -n $C link set $CI address 52:54:00:aa:00:01
udhcpc_run $C $CI again -V PXEClient:Arch:00000 -x 93:0000
check "the first client gets its address back after the restart" \
    test "$(envval "$T_TMP/again.bound" ip)" = "$PXEIP"

# 5. RENEWING: a bound client (address configured by its script) renews
# by unicast on SIGUSR1; the ACK comes back to ciaddr.
cat >"$T_TMP/renew.sh" <<EOS
#!/bin/sh
[ "\$1" = bound ] && ip addr add "\$ip/\$mask" dev "\$interface"
echo "\$1 \$ip" >>"$T_TMP/renew.events"
EOS
chmod +x "$T_TMP/renew.sh"
ip -n $C link set $CI address 52:54:00:aa:00:04
ip netns exec $C udhcpc -i $CI -f -t 4 -T 1 -s "$T_TMP/renew.sh" >>"$T_TMP/udhcpc.log" 2>&1 &
UD=$!
track_pid $UD
wait_for 10 grep -q "^bound " "$T_TMP/renew.events"
kill -USR1 $UD
check "unicast renewal ACKed" wait_for 10 grep -q "^renew " "$T_TMP/renew.events"
check "the server saw a RENEWING request (ciaddr set)" grep -q "request -> ack .*: renewing" "$T_TMP/gridbootd.log"
kill $UD 2>/dev/null; wait $UD 2>/dev/null
ip -n $C addr flush dev $CI

# 6. SIGHUP: a reservation added to the inventory is served at once.
sed -i 's|^machines = (|machines = (\n  { name = "new1"; mac = "52:54:00:aa:00:05"; ip = "10.98.0.15"; arch = "amd64"; firmware = "bios"; role = "cpu"; },|' "$T_TMP/grid.cfg"
kill -HUP $GB_PID
wait_for 5 grep -q "reload: .* OK" "$T_TMP/gridbootd.log"
ip -n $C link set $CI address 52:54:00:aa:00:05
udhcpc_run $C $CI hup
check "reservation added by SIGHUP is served" test "$(envval "$T_TMP/hup.bound" ip)" = 10.98.0.15

# 7. explain says the same as the server.
X=$("$GRIDBOOTD" explain -c "$T_TMP/grid.cfg" --mac 52:54:00:00:00:11 --arch 0 --vendor-class PXEClient)
check "explain names the loader" sh -c "echo '$X' | grep -q 'file      undionly.kpxe'"
X=$("$GRIDBOOTD" explain -c "$T_TMP/grid.cfg" --mac 52:54:00:00:00:11 --vendor-class plan9_amd64)
check "explain shows option 43" sh -c "echo '$X' | grep -q '128=10.98.0.5 129=10.98.0.6'"
check "the log shows the ACKs" grep -q "request -> ack" "$T_TMP/gridbootd.log"
check "gridbootd exits cleanly" stop_gridbootd
[ $T_FAILED -gt 0 ] && tail -n 40 "$T_TMP/gridbootd.log" | sed 's/^/# /'
t_done
