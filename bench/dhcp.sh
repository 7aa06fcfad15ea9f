#!/bin/sh
# DHCP benchmark: whole DORA exchanges per second and their p99 latency,
# gridbootd against Kea (the DHCP server to beat, ../shared/perf-targets)
# and dnsmasq on the same pool, driven by the same client
# (bench/dhcp_load.c, a relay-style closed-loop load generator) in the same
# run, between two network namespaces. All keep their leases on the same
# ext4 disk: gridbootd fdatasyncs its journal before every ACK (group
# commit), Kea's memfile appends without a sync, dnsmasq rewrites its
# lease file. Prints the ratios, and the p99 with and without the first
# window of exchanges (load_common.h). Beside them, in the same runs, the
# floor (bench/dhcp_floor.c): a responder that does no work, its ACKs
# sent at once or held for a sync in a thread as gridbootd's are, so the
# latencies can be read against what this machine's network and disk
# cost before any server's work.
#   DHCP_BENCH_CLIENTS (default 5000), DHCP_BENCH_WINDOW (default 64),
#   DHCP_BENCH_RUNS (default 3; the median run is reported)
set -u
cd "$(dirname "$0")/.."
TOP=$PWD
GRIDBOOTD=${GRIDBOOTD:-$TOP/build/gridbootd}
N=${DHCP_BENCH_CLIENTS:-5000}
W=${DHCP_BENCH_WINDOW:-64}
RUNS=${DHCP_BENCH_RUNS:-3}
tmp=$(mktemp -d "$TOP/build/dhcp-bench.XXXXXX")      # on disk, not tmpfs
BENCH_TMP=$tmp
. bench/lib.sh
bench_init dhcp
bench_need bench/dhcp.sh dnsmasq kea-dhcp4 ip cc
cc -O2 -o "$tmp/dhcp_load" bench/dhcp_load.c bench/load_common.c || exit 1
cc -O2 -Wall -Wextra -Werror -pthread -o "$tmp/dhcp_floor" bench/dhcp_floor.c || exit 1
bench_link 10.92.0.2/16 10.92.0.1/16

cat >"$tmp/grid.cfg" <<EOC
grid = { name = "bench"; server = "10.92.0.1"; files = "$tmp"; state = "$tmp/gb-state"; };
networks = ( { subnet = "10.92.0.0/16"; pool = "10.92.1.1-10.92.255.254"; lease = 3600; } );
EOC

# load MACBYTE: one run of the generator; prints its result line. The
# disk's dirty pages (dnsmasq's rewrites, the last run's) are written
# first, so that no server syncs behind another's writeback.
load() {
	sync
	ip netns exec "$CNS" "$tmp/dhcp_load" 10.92.0.1 10.92.0.2 "$N" "$W" "$1"
}

# median FILE: the result line with the median dora_per_s.
median() {
	sort -t' ' -k10 -n "$1" | sed -n "$(( ($(wc -l <"$1") + 1) / 2 ))p"
}

run_gridbootd() {
	rm -rf "$tmp/gb-state"
	bench_serve "$GRIDBOOTD" serve -c "$tmp/grid.cfg" -d -l warn >"$tmp/gb.log" 2>&1
	sleep 0.5
	load "$1"
	kill $BENCH_PID; wait $BENCH_PID 2>/dev/null
}

cat >"$tmp/kea.json" <<EOC
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "$SIF" ], "dhcp-socket-type": "udp" },
  "lease-database": { "type": "memfile", "persist": true, "name": "$tmp/kea.leases", "lfc-interval": 0 },
  "valid-lifetime": 3600,
  "subnet4": [ { "id": 1, "subnet": "10.92.0.0/16",
                 "pools": [ { "pool": "10.92.1.1 - 10.92.255.254" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "output_options": [ { "output": "stdout" } ], "severity": "WARN" } ]
} }
EOC

run_kea() {
	rm -f "$tmp/kea.leases"*
	bench_serve env KEA_PIDFILE_DIR="$tmp" KEA_LOCKFILE_DIR="$tmp" \
	    kea-dhcp4 -c "$tmp/kea.json" >"$tmp/kea.log" 2>&1
	sleep 1.5
	load "$1"
	kill $BENCH_PID; wait $BENCH_PID 2>/dev/null
}

run_dnsmasq() {
	rm -f "$tmp/dnsmasq.leases"
	bench_serve dnsmasq --no-daemon -C /dev/null --port=0 --user=root \
	    --pid-file="$tmp/dnsmasq.pid" --dhcp-range=10.92.1.1,10.92.255.254,255.255.0.0,1h \
	    --dhcp-leasefile="$tmp/dnsmasq.leases" --dhcp-lease-max=1000000 --no-ping \
	    --dhcp-authoritative --quiet-dhcp --interface="$SIF" >"$tmp/dnsmasq.log" 2>&1
	sleep 0.5
	load "$1"
	kill $BENCH_PID; wait $BENCH_PID 2>/dev/null
}

# run_floor sync|nosync MACBYTE
run_floor() {
	bench_serve "$tmp/dhcp_floor" 10.92.0.1 "$tmp/floor.journal" "$1" >"$tmp/floor.log" 2>&1
	sleep 0.5
	load "$2"
	kill $BENCH_PID; wait $BENCH_PID 2>/dev/null
}

: >"$tmp/fl0.res"
: >"$tmp/fl1.res"
: >"$tmp/gb.res"
: >"$tmp/dm.res"
: >"$tmp/kea.res"
i=0
while [ $i -lt "$RUNS" ]; do
	run_gridbootd $((0x10 + i)) >>"$tmp/gb.res"
	run_floor nosync $((0x50 + i)) >>"$tmp/fl0.res"
	run_floor sync $((0x58 + i)) >>"$tmp/fl1.res"
	run_kea $((0x30 + i)) >>"$tmp/kea.res"
	run_dnsmasq $((0x20 + i)) >>"$tmp/dm.res"
	i=$((i + 1))
done
gb=$(median "$tmp/gb.res")
dm=$(median "$tmp/dm.res")
kea=$(median "$tmp/kea.res")
fl0=$(median "$tmp/fl0.res")
fl1=$(median "$tmp/fl1.res")
echo "dhcp: $N clients, $W in flight, median of $RUNS runs"
echo "dhcp: gridbootd: $gb"
echo "dhcp: kea-dhcp4: $kea"
echo "dhcp: dnsmasq:   $dm"
echo "dhcp: floor, no work, no sync: $fl0"
echo "dhcp: floor, no work, synced:  $fl1"
# Every run's p99, whole and without the first window: on a shared VM one
# median hides how far the runs spread.
for r in gb:gridbootd kea:kea-dhcp4 fl0:floor-nosync fl1:floor-sync; do
	awk -v who="${r#*:}" '{ for (i = 1; i < NF; i++) { if ($i == "p99_ms") p = p " " $(i + 1); if ($i == "steady_p99_ms") q = q " " $(i + 1) } }
	    END { printf "dhcp: p99 of each run, %s:%s (without the first window:%s)\n", who, p, q }' "$tmp/${r%%:*}.res"
done
field() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
awk -v a="$(field "$gb" dora_per_s)" -v b="$(field "$kea" dora_per_s)" \
    -v pa="$(field "$gb" p99_ms)" -v pb="$(field "$kea" p99_ms)" \
    -v sa="$(field "$gb" steady_p99_ms)" -v sb="$(field "$kea" steady_p99_ms)" -v w="$W" 'BEGIN {
	printf "dhcp: DORA/s ratio gridbootd/kea = %.2f; p99 %s ms vs %s ms (Kea'"'"'s memfile does not sync)\n", (b > 0 ? a / b : 0), pa, pb
	printf "dhcp: p99 without the first window (%s clients that met a fresh server): %s ms vs %s ms\n", w, sa, sb
}'
awk -v a="$(field "$gb" dora_per_s)" -v b="$(field "$dm" dora_per_s)" \
    -v pa="$(field "$gb" p99_ms)" -v pb="$(field "$dm" p99_ms)" \
    -v sa="$(field "$gb" steady_p99_ms)" -v sb="$(field "$dm" steady_p99_ms)" -v w="$W" 'BEGIN {
	printf "dhcp: DORA/s ratio gridbootd/dnsmasq = %.2f; p99 %s ms vs %s ms\n", (b > 0 ? a / b : 0), pa, pb
	printf "dhcp: p99 without the first window (%s clients that met a fresh server): %s ms vs %s ms\n", w, sa, sb
}'
