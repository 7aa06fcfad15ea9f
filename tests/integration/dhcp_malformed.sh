#!/bin/sh
# limit: 180
# Malformed DHCP packets (truncated, wrong op, bad hlen, bad cookie,
# options past the end, bad overload, giant option 55, unknown type) are
# dropped and the daemon keeps answering; a well-formed PXE REQUEST to the
# proxy port (4011) then gets a proxy ACK. Ends with a bounded libFuzzer
# run of the parser when clang's libFuzzer is installed.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

S=gbdS$$ C=gbdC$$
ns_add $S $C || { not_ok "namespaces"; t_done; exit 1; }
ns_veth $S gbs$$ $C gbc$$
ns_addr $S gbs$$ 10.94.0.1/24
ns_addr $C gbc$$ 10.94.0.50/24
cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.94.0.1"; files = "$T_TMP"; state = "$T_TMP/state";
  unknown = "cpu"; loaders = { ipxe_bios = "undionly.kpxe"; }; };
networks = ( { subnet = "10.94.0.0/24"; dhcp = "proxy"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
EOC
check "dhcp_send builds" cc -o "$T_TMP/dhcp_send" "$GRIDBOOT_TOP/tests/tools/dhcp_send.c"
check "gridbootd starts" dhcp_serve $S "$T_TMP/grid.cfg"
out=$(ip netns exec $C timeout 10 "$T_TMP/dhcp_send" 10.94.0.1 67 4011 10.94.0.50)
echo "$out" | sed "s/^/# /"
# Every one of the nine kinds must be dropped and counted, not only one.
drops=$(ip netns exec $S curl -fsS http://10.94.0.1/metrics |
    awk '/^gridboot_dhcp_drops_total/ { n += $2 } END { print n + 0 }')
check "all 9 malformed packets counted as drops ($drops)" [ "$drops" = 9 ]
check "proxy ACK on port 4011 after the junk" sh -c "echo '$out' | grep -q 'reply type 5 yiaddr 0.0.0.0 siaddr 10.94.0.1 file undionly.kpxe opt43 1 opt97 1'"
check "drops were logged (rate-limited)" grep -q "dropped a malformed packet" "$T_TMP/gridbootd.log"
check "gridbootd is alive" kill -0 $GB_PID
check "gridbootd exits cleanly (no sanitizer report)" stop_gridbootd
[ $T_FAILED -gt 0 ] && tail -n 30 "$T_TMP/gridbootd.log" | sed 's/^/# /'

# A short fuzzing run of the parser, if libFuzzer is here.
fuzz_run dhcp 20 "the DHCP parser"
t_done
