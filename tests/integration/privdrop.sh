#!/bin/sh
# limit: 90
# grid.user: gridbootd binds as root, then runs as nobody with only
# net_bind_service and net_admin (no net_raw), no_new_privs. Everything must still work that
# needs them or the state directory: a DHCP lease (journal written, reply
# unicast through SIOCSARP), TFTP, an enroll (discovered.json rewritten by
# rename), a reload that moves HTTP to port 81, and a clean exit.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

S=gbpS$$ C=gbpC$$ SI=gbps$$ CI=gbpc$$
dhcp_ns $S $C || { not_ok "namespaces"; t_done; exit 1; }
dhcp_link $S $SI $C $CI
ip -n $S addr add 10.93.0.1/24 dev $SI
dhcp_script
# nobody must reach the state directory and the files through $T_TMP.
chmod 755 "$T_TMP"
mkdir -p "$T_TMP/files/amd64" "$T_TMP/state"
head -c 100000 /dev/urandom >"$T_TMP/files/amd64/9pc64"
chmod -R a+rX "$T_TMP/files"
mkcfg() {	# HTTP_PORT USER
	cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.93.0.1"; files = "$T_TMP/files"; state = "$T_TMP/state";
  http_port = $1; user = "$2"; unknown = "cpu"; loaders = { ipxe_bios = "undionly.kpxe"; }; };
networks = ( { subnet = "10.93.0.0/24"; router = "10.93.0.1"; pool = "10.93.0.100-10.93.0.150"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
EOC
	chmod 644 "$T_TMP/grid.cfg"
}

mkcfg 8080 no-such-user-gb
check "check names grid.user when the user does not exist" \
	sh -c "'$GRIDBOOTD' check -c '$T_TMP/grid.cfg' 2>&1 | grep -q 'grid.cfg:2: grid.user: \"no-such-user-gb\": no such user'"

# Links planted in the state directory must not turn root's files over.
echo secret >"$T_TMP/rootfile"
ln "$T_TMP/rootfile" "$T_TMP/state/hardlink"
ln -s "$T_TMP/rootfile" "$T_TMP/state/symlink"
mkcfg 8080 nobody
# check warns about what nobody could not read after the drop.
mkdir -m 700 "$T_TMP/private"
sed "s|files = \"$T_TMP/files\"|files = \"$T_TMP/private\"|" "$T_TMP/grid.cfg" >"$T_TMP/private.cfg"
chmod 644 "$T_TMP/private.cfg"
check "check warns that nobody cannot reach grid.files in a 0700 directory" \
	sh -c "'$GRIDBOOTD' check -c '$T_TMP/private.cfg' 2>&1 | grep -q 'private.cfg:2: grid.user: nobody cannot read grid.files: $T_TMP/private (mode 700, owner 0) is not readable by nobody'"
check "and says nothing when everything is readable" \
	sh -c "! '$GRIDBOOTD' check -c '$T_TMP/grid.cfg' 2>&1 | grep -q 'cannot read'"
check "gridbootd starts and drops to nobody" dhcp_serve $S "$T_TMP/grid.cfg"
check "a hard or symbolic link in the state directory did not give root's file away" \
	[ "$(stat -c %U "$T_TMP/rootfile")" = root ]
check "it says so" grep -q "running as nobody" "$T_TMP/gridbootd.log"
uid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' /proc/$GB_PID/status)
check "real, effective, saved and fs uid are nobody's ($uid)" [ "$uid" = "65534 65534 65534 65534" ]
capeff=$(awk '/^CapEff:/ { print $2 }' /proc/$GB_PID/status)
capprm=$(awk '/^CapPrm:/ { print $2 }' /proc/$GB_PID/status)
check "effective capabilities: net_bind_service, net_admin only, no net_raw ($capeff)" \
	[ "$capeff" = 0000000000001400 ]
check "permitted capabilities: the same two ($capprm)" [ "$capprm" = 0000000000001400 ]
nnp=$(awk '/^NoNewPrivs:/ { print $2 }' /proc/$GB_PID/status)
check "no_new_privs is set ($nnp)" [ "$nnp" = 1 ]

ip -n $C link set $CI address 52:54:00:00:93:01
udhcpc_run $C $CI p -V PXEClient:Arch:00000 -x 93:0000
check "a PXE client gets a lease from the unprivileged daemon" test -n "$(envval "$T_TMP/p.bound" ip)"
# The unicast reply to a client without an address needs SIOCSARP, hence
# net_admin: the entry it made is in the server's neighbour table before
# the client has configured anything.
check "the unprivileged daemon could still set an ARP entry (SIOCSARP, net_admin)" \
	sh -c "ip -n $S neigh show | grep -qi '52:54:00:00:93:01'"
check "the lease journal is nobody's and holds the binding" \
	sh -c "[ \"\$(stat -c %U '$T_TMP/state/dhcp.leases')\" = nobody ] && grep -q '^B 525400009301 ' '$T_TMP/state/dhcp.leases'"

IP=$(envval "$T_TMP/p.bound" ip)
ip -n $C addr add "$IP/24" dev $CI 2>/dev/null
(cd "$T_TMP" && ip netns exec $C timeout 10 tftp -m binary 10.93.0.1 -c get amd64/9pc64 got) >/dev/null 2>&1
check "TFTP serves the kernel" cmp -s "$T_TMP/got" "$T_TMP/files/amd64/9pc64"

check "an enroll is stored (discovered.json rewritten as nobody)" \
	sh -c "ip netns exec $C curl -fsS -X POST -H 'Content-Type: application/json' \
	    -d '{\"mac\":\"52:54:00:00:93:01\",\"facts\":{\"cpus\":2}}' http://10.93.0.1:8080/api/v1/enroll >/dev/null"
check "discovered.json is written by the tick" wait_for 5 grep -q '"cpus"' "$T_TMP/state/discovered.json"

mkcfg 81 nobody
kill -HUP $GB_PID
check "a reload moves HTTP to port 81 (net_bind_service kept)" \
	wait_for 10 sh -c "ip netns exec $C curl -fsS -o /dev/null http://10.93.0.1:81/boot.ipxe"
mkcfg 81 root
kill -HUP $GB_PID
check "a reload cannot take root back: it says grid.user waits for a restart" \
	wait_for 10 grep -q "grid.user changed; it takes effect at the next start" "$T_TMP/gridbootd.log"
check "still nobody after it" [ "$(awk '/^Uid:/ { print $3 }' /proc/$GB_PID/status)" = 65534 ]
check "gridbootd exits cleanly" stop_gridbootd

# A pidfile in a directory only root may write: emptied at exit.
mkdir -m 755 "$T_TMP/run"
mkcfg 81 nobody
: >"$T_TMP/gridbootd.log"
ip netns exec $S "$GRIDBOOTD" serve -c "$T_TMP/grid.cfg" -d -p "$T_TMP/run/gb.pid" >>"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "with a pidfile: serving" wait_for 10 grep -q "info: serving " "$T_TMP/gridbootd.log"
check "the pidfile holds its PID and is nobody's" \
	sh -c "[ \"\$(cat '$T_TMP/run/gb.pid')\" = $GB_PID ] && [ \"\$(stat -c %U '$T_TMP/run/gb.pid')\" = nobody ]"
check "gridbootd exits cleanly" stop_gridbootd
check "the pidfile is empty after exit" sh -c "[ ! -s '$T_TMP/run/gb.pid' ]"
t_done
