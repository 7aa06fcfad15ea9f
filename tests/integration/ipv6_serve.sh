#!/bin/sh
# limit: 90
# TFTP and HTTP on IPv6 (issue 15): gridbootd in namespace S listens on
# both families; a client namespace C on a veth fetches the same files
# over IPv4 (unchanged), over the server's ULA address, over its
# link-local address (scope on the veth), and S fetches over ::1, with
# tftp-hpa's client (-6) and curl. A 3 MB lock-step read shows the
# transfer sockets work on IPv6 too; the per-source event-stream limit
# holds for IPv6 clients; a client's IPv6 reservation makes its HTTP and
# TFTP fetches its machine's, and lets it enroll for its own MAC only.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

for t in tftp curl; do
	command -v $t >/dev/null || { not_ok "$t installed (tests/deps.d)"; t_done; exit 1; }
done
S=gb6S$$ C=gb6C$$
ns_add $S $C || { not_ok "namespaces"; t_done; exit 1; }
for n in $S $C; do ip netns exec $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0; done
ns_veth $S s0 $C c0 10.93.0.1/24 10.93.0.2/24
ns_addr $S s0 fd93::1/64
ns_addr $C c0 fd93::2/64
LL=$(ip -n $S -6 addr show dev s0 scope link | awk '/inet6/ {sub("/.*", "", $2); print $2}')

FILES=$T_TMP/files
mkdir -p "$FILES/amd64"
head -c 3000000 /dev/urandom >"$FILES/amd64/9pc64"
echo hello >"$FILES/small"
cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "10.93.0.1"; files = "$FILES"; state = "$T_TMP/state"; };
networks = ( { subnet = "10.93.0.0/24"; ra = "off"; subnet6 = "fd93::/64"; dhcp6 = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = ( { name = "v6m"; mac = "52:54:00:93:00:02"; role = "cpu"; ip6 = "fd93::2"; } );
EOC
check "gridbootd starts" dhcp_serve $S "$T_TMP/grid.cfg"
check "tftp says it listens on both families" grep -q "tftp: serving .* (IPv4 and IPv6)" "$T_TMP/gridbootd.log"
check "http says it listens on both families" grep -q "http: listening on port 80, IPv4 and IPv6" "$T_TMP/gridbootd.log"

same() { cmp -s "$1" "$2"; }
tget() {	# NS HOST FILE OUT [OPTIONS...]: tftp-hpa's client
	ns=$1 host=$2 f=$3 out=$4
	shift 4
	rm -f "$out"
	fam=-4
	case $host in *:*) fam=-6 ;; esac
	timeout 30 ip netns exec "$ns" tftp $fam "$host" -m binary "$@" -c get "$f" "$out" >"$T_TMP/tftp.out" 2>&1
}
hget() {	# NS URL OUT
	rm -f "$3"
	ip netns exec "$1" curl -g -fsS -m 20 -o "$3" "$2" 2>"$T_TMP/curl.err"
}

tget $C 10.93.0.1 amd64/9pc64 "$T_TMP/o4"
check "TFTP over IPv4 still works" same "$FILES/amd64/9pc64" "$T_TMP/o4"
tget $C fd93::1 amd64/9pc64 "$T_TMP/o6"
check "TFTP over IPv6 (fd93::1), 3 MB lock-step" same "$FILES/amd64/9pc64" "$T_TMP/o6"
tget $C "$LL%c0" small "$T_TMP/oll"
check "TFTP over IPv6 link-local ($LL%c0)" same "$FILES/small" "$T_TMP/oll"
tget $S ::1 small "$T_TMP/olo"
check "TFTP over ::1" same "$FILES/small" "$T_TMP/olo"
check "TFTP over IPv6: transfers logged with the v6 peer" grep -q "tftp: fd93::2:[0-9]* amd64/9pc64: 3000000 bytes" "$T_TMP/gridbootd.log"
tget $C fd93::1 nosuchfile "$T_TMP/onf"
check "TFTP over IPv6: a missing file is refused with ERROR 1" grep -q "Error code 1" "$T_TMP/tftp.out"

hget $C http://10.93.0.1/files/amd64/9pc64 "$T_TMP/h4"
check "HTTP over IPv4 still works" same "$FILES/amd64/9pc64" "$T_TMP/h4"
hget $C "http://[fd93::1]/files/amd64/9pc64" "$T_TMP/h6"
check "HTTP over IPv6 (fd93::1)" same "$FILES/amd64/9pc64" "$T_TMP/h6"
hget $C "http://[$LL%25c0]/files/small" "$T_TMP/hll"
check "HTTP over IPv6 link-local" same "$FILES/small" "$T_TMP/hll"
hget $S "http://[::1]/files/small" "$T_TMP/hlo"
check "HTTP over ::1" same "$FILES/small" "$T_TMP/hlo"
hget $C "http://[fd93::1]/boot.ipxe" "$T_TMP/boot6"
check "HTTP over IPv6: generated boot.ipxe" grep -q "#!ipxe" "$T_TMP/boot6"
# iPXE on an IPv6-only link must be sent on over IPv6: the scripts' URLs
# name the address the client reached, over IPv4 grid.server.
check "HTTP over IPv6: boot.ipxe chains to http://[fd93::1]/ipxe/..." \
    grep -q 'chain http://\[fd93::1\]/ipxe/' "$T_TMP/boot6"
hget $C "http://[fd93::1]/ipxe/525400930002.ipxe" "$T_TMP/m6"
check "HTTP over IPv6: the machine's script fetches its kernel over IPv6" \
    grep -q 'http://\[fd93::1\]/files/amd64/9pc64' "$T_TMP/m6"
hget $C "http://10.93.0.1/boot.ipxe" "$T_TMP/boot4"
check "HTTP over IPv4: boot.ipxe still names grid.server" grep -q 'chain http://10.93.0.1/ipxe/' "$T_TMP/boot4"
# Who an IPv6 client is: fd93::2 is v6m's reservation (boot/leases6.h), so
# its fetches are v6m's and it may enroll for v6m's MAC, not another's.
hget $C "http://[fd93::1]/files/small" "$T_TMP/hv6m"
tget $C fd93::1 small "$T_TMP/tv6m"
hget $C "http://[fd93::1]/api/v1/machines/v6m/timeline" "$T_TMP/tl6"
check "HTTP over IPv6: the fetch is on v6m's timeline (client known by its IPv6 address)" \
    grep -q 'GET /files/small' "$T_TMP/tl6"
check "TFTP over IPv6: the transfer is on v6m's timeline" grep -q '"kind":"tftp"' "$T_TMP/tl6"
enroll6() {	# SRC-NS MAC: the HTTP status of an enroll from there
	ip netns exec $1 curl -g -s -m 5 -o "$T_TMP/enroll.out" -w '%{http_code}' -X POST \
	    -d "{\"mac\":\"$2\",\"cpus\":4}" 'http://[fd93::1]/api/v1/enroll'
}
st=$(enroll6 $C 52:54:00:93:00:02)
check "HTTP over IPv6: enroll from v6m's reserved address for its MAC is 200 ($st)" test "$st" = 200
st=$(enroll6 $C 52:54:00:93:00:99)
check "HTTP over IPv6: enroll from it for another MAC is 403 ($st)" \
    sh -c "[ '$st' = 403 ] && grep -q 'holds no lease' '$T_TMP/enroll.out'"
ip -n $C addr add fd93::3/64 dev c0 nodad
check "HTTP over IPv6: enroll from an address with no lease is 403" \
    sh -c "[ \"\$(ip netns exec $C curl -g -s -m 5 -o /dev/null -w '%{http_code}' --interface fd93::3 -X POST \
    -d '{\"mac\":\"52:54:00:93:00:02\"}' 'http://[fd93::1]/api/v1/enroll')\" = 403 ]"
check "the facts are stored for v6m's MAC" sh -c "ip netns exec $C curl -g -fsS -m 5 'http://[fd93::1]/api/v1/discovered/52:54:00:93:00:02' | grep -q '\"cpus\":4'"
# Per-source limits hold for IPv6 clients too: four event streams from
# fd93::2, a fifth is 429 (as from one IPv4 address).
for i in 1 2 3 4; do
	ip netns exec $C curl -g -sN -m 15 -o /dev/null "http://[fd93::1]/api/v1/events" &
	track_pid $!
done
sleep 1
check "HTTP over IPv6: a fifth event stream from one address is 429" \
    sh -c "ip netns exec $C curl -g -s -m 3 -o /dev/null -w '%{http_code}' 'http://[fd93::1]/api/v1/events' | grep -qx 429"
check "HTTP over IPv6: another IPv6 address still gets one" \
    sh -c "ip netns exec $S curl -g -s -m 2 -o /dev/null -w '%{http_code}' 'http://[::1]/api/v1/events' | grep -qx 200"
check "gridbootd exits cleanly" stop_gridbootd
[ $T_FAILED -gt 0 ] && { tail -n 30 "$T_TMP/gridbootd.log"; cat "$T_TMP/tftp.out" "$T_TMP/curl.err"; } | sed 's/^/# /'
t_done
