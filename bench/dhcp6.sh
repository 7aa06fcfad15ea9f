#!/bin/sh
# DHCPv6 benchmark: whole exchanges per second (Solicit-Advertise-Request-
# Reply, and Solicit-Reply with Rapid Commit) and their p99 latency,
# gridbootd against Kea's DHCPv6 server (Debian's kea-dhcp6-server) on the
# same pool, driven by the same client (bench/dhcp6_load.c, a relay-style
# closed-loop generator) in the same run, between two network namespaces.
# Both keep leases on the same ext4 disk: gridbootd fdatasyncs its journal
# before every Reply that binds (group commit); Kea's memfile appends its
# CSV file (persist true) without a sync. Prints the ratios.
#   DHCP6_BENCH_CLIENTS (default 5000), DHCP6_BENCH_WINDOW (default 64),
#   DHCP6_BENCH_RUNS (default 3; the median run is reported)
set -u
cd "$(dirname "$0")/.."
TOP=$PWD
GRIDBOOTD=${GRIDBOOTD:-$TOP/build/gridbootd}
N=${DHCP6_BENCH_CLIENTS:-5000}
W=${DHCP6_BENCH_WINDOW:-64}
RUNS=${DHCP6_BENCH_RUNS:-3}
mkdir -p "$TOP/build"
tmp=$(mktemp -d "$TOP/build/dhcp6-bench.XXXXXX")      # on disk, not tmpfs
BENCH_TMP=$tmp
. bench/lib.sh
bench_init d6
bench_need bench/dhcp6.sh kea-dhcp6 ip cc
cc -O2 -o "$tmp/dhcp6_load" bench/dhcp6_load.c bench/load_common.c || exit 1
bench_link 10.91.0.2/24 10.91.0.1/24
for ns in "$SNS" "$CNS"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0; done
ns_addr "$SNS" "$SIF" fd91::1/64
ns_addr "$CNS" "$CIF" fd91::2/64
# The relayed clients live on fd92::/64, behind the generator (fd91::2).
ip -n "$SNS" route add fd92::/64 via fd91::2

cat >"$tmp/grid.cfg" <<EOC
grid = { name = "bench"; server = "10.91.0.1"; files = "$tmp"; state = "$tmp/gb-state"; };
networks = ( { subnet = "10.91.0.0/24"; interface = "$SIF"; },
             { subnet = "10.92.0.0/16"; subnet6 = "fd92::/64"; pool6 = "fd92::1:0-fd92::ffff:ffff"; lease = 3600; } );
EOC
cat >"$tmp/kea.json" <<EOC
{ "Dhcp6": {
    "interfaces-config": { "interfaces": [ "$SIF/fd91::1" ] },
    "lease-database": { "type": "memfile", "persist": true, "name": "$tmp/kea-leases6.csv", "lfc-interval": 0 },
    "valid-lifetime": 3600, "preferred-lifetime": 3600, "renew-timer": 1800, "rebind-timer": 2880,
    "server-id": { "type": "EN", "enterprise-id": 2495, "identifier": "0102030405", "persist": false },
    "subnet6": [ { "subnet": "fd92::/64", "id": 1, "rapid-commit": true,
                    "pools": [ { "pool": "fd92::1:0-fd92::ffff:ffff" } ] } ],
    "loggers": [ { "name": "kea-dhcp6", "severity": "WARN", "output_options": [ { "output": "$tmp/kea.log" } ] } ]
} }
EOC

load() {	# SEED [rapid]
	ip netns exec "$CNS" "$tmp/dhcp6_load" fd91::1 fd91::2 fd92::1 "$N" "$W" "$@"
}
median() { sort -t' ' -k10 -n "$1" | sed -n "$(( ($(wc -l <"$1") + 1) / 2 ))p"; }

run_gridbootd() {
	rm -rf "$tmp/gb-state"
	bench_serve "$GRIDBOOTD" serve -c "$tmp/grid.cfg" -d -l warn >"$tmp/gb.log" 2>&1
	sleep 0.7
	load "$@"
	kill $BENCH_PID; wait $BENCH_PID 2>/dev/null
}

run_kea() {
	rm -f "$tmp"/kea-leases6.csv*
	KEA_LOCKFILE_DIR=$tmp KEA_PIDFILE_DIR=$tmp bench_serve env KEA_LOCKFILE_DIR="$tmp" \
	    KEA_PIDFILE_DIR="$tmp" kea-dhcp6 -c "$tmp/kea.json" >"$tmp/kea.out" 2>&1
	sleep 1
	load "$@"
	kill $BENCH_PID; wait $BENCH_PID 2>/dev/null
}

field() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
for mode in sarr rapid; do
	: >"$tmp/gb.res"
	: >"$tmp/kea.res"
	i=0
	while [ $i -lt "$RUNS" ]; do
		extra=""
		[ $mode = rapid ] && extra=rapid
		run_gridbootd $((0x10 + i)) $extra >>"$tmp/gb.res"
		run_kea $((0x20 + i)) $extra >>"$tmp/kea.res"
		i=$((i + 1))
	done
	gb=$(median "$tmp/gb.res")
	kea=$(median "$tmp/kea.res")
	echo "dhcp6 ($mode): $N clients, $W in flight, median of $RUNS runs"
	echo "dhcp6 ($mode): gridbootd: $gb"
	echo "dhcp6 ($mode): kea-dhcp6: $kea"
	awk -v a="$(field "$gb" exchanges_per_s)" -v b="$(field "$kea" exchanges_per_s)" \
	    -v pa="$(field "$gb" p99_ms)" -v pb="$(field "$kea" p99_ms)" -v m=$mode 'BEGIN {
		printf "dhcp6 (%s): exchanges/s ratio gridbootd/kea = %.2f; p99 %s ms vs %s ms\n", m, (b > 0 ? a / b : 0), pa, pb
	}'
done
cat "$tmp/kea.out" "$tmp/kea.log" 2>/dev/null | tail -n 5 | sed "s/^/# kea: /"
exit 0
