#!/bin/sh
# Inventory scale: for inventories of 1 000, 10 000, 100 000 and 1 000 000 machines
# (tests/tools/gen-inventory.sh) and the one-machine baseline, prints
# `check` time and memory, start -> serving time, the daemon's RSS, DORA/s
# closed loop (bench/dhcp_load.c, as bench/dhcp.sh; pool clients and
# reserved ones), and the longest wait between two DHCP replies while a
# SIGHUP reload runs under that load; beside it Kea's `kea-dhcp4 -t` time
# and memory for the same reservations, in the same run.
#   INV_BENCH_SIZES (default "1 1000 10000 100000 1000000"; Kea needs about 3 GB for the last), INV_BENCH_CLIENTS (5000)
set -u
cd "$(dirname "$0")/.."
TOP=$PWD
GRIDBOOTD=${GRIDBOOTD:-$TOP/build/gridbootd}
SIZES=${INV_BENCH_SIZES:-1 1000 10000 100000 1000000}
NC=${INV_BENCH_CLIENTS:-5000}
tmp=$(mktemp -d "$TOP/build/inv-bench.XXXXXX")
BENCH_TMP=$tmp
. bench/lib.sh
bench_init inv
bench_need bench/inventory.sh kea-dhcp4 ip cc curl
cc -O2 -o "$tmp/dhcp_load" bench/dhcp_load.c bench/load_common.c || exit 1
bench_link 10.92.0.2/14 10.92.0.1/14

ms() { echo $(( $(date +%s%N) / 1000000 )); }
# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
field() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
metric() {
	ip netns exec "$SNS" curl -fsS "http://127.0.0.1:18091/metrics" 2>/dev/null |
	    awk -v k="$1" '$1 == k { print $2 }'
}

# kea_cfg N FILE: Kea's config with the same N reservations.
kea_cfg() {
	awk -v n="$1" -v dir="$tmp" 'BEGIN {
		printf "{ \"Dhcp4\": { \"interfaces-config\": { \"interfaces\": [] },\n"
		printf "  \"lease-database\": { \"type\": \"memfile\", \"persist\": false },\n"
		printf "  \"valid-lifetime\": 3600,\n  \"subnet4\": [ { \"id\": 1, \"subnet\": \"%s\",\n", (n > 196608 ? "10.64.0.0/10" : "10.92.0.0/14")
		printf "    \"pools\": [ { \"pool\": \"10.92.1.1 - 10.92.255.254\" } ],\n"
		printf "    \"option-data\": [ { \"name\": \"routers\", \"data\": \"10.92.0.1\" } ],\n"
		printf "    \"reservations\": [\n"
		for (i = 0; i < n; i++)
			printf "      { \"hw-address\": \"02:10:%02x:%02x:%02x:%02x\", \"ip-address\": \"10.%d.%d.%d\", \"hostname\": \"m%d\" }%s\n", \
			    int(i / 16777216) % 256, int(i / 65536) % 256, int(i / 256) % 256, i % 256, \
			    93 + int(i / 65536), int(i / 256) % 256, i % 256, i, (i < n - 1 ? "," : "")
		printf "    ] } ] } }\n"
	}' >"$2"
}

# timed CMD...: "SECONDS MAXRSS_KB" of one run.
timed() {
	/usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >/dev/null 2>&1
	cat "$tmp/time"
}

row() { printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$@"; }

echo "inventory: $(nproc) cores; gridbootd $GRIDBOOTD; median of 3 for check and kea -t"
row machines "check s" "check MB" "start→serving ms" "RSS MB" "DORA/s pool" "DORA/s reserved" \
    "max reply gap during reload ms (reload ms)" "kea -t s" "kea -t MB"
row --- --- --- --- --- --- --- --- --- ---
for n in $SIZES; do
	d=$tmp/g$n
	GEN_STATE=$d/state GEN_EXTRA='http_port = 18091; tftp_port = 16989; p9_port = 15650; auth_port = 15680; rcpu_port = 15681;' \
	    sh tests/tools/gen-inventory.sh "$n" "$d" 16 || exit 1
	for i in 1 2 3; do timed "$GRIDBOOTD" check -c "$d/grid.cfg"; done >"$tmp/check"
	ct=$(awk '{ print $1 }' "$tmp/check" | median)
	cm=$(awk '{ print $2 }' "$tmp/check" | median)
	kea_cfg "$n" "$tmp/kea$n.json"
	for i in 1 2 3; do timed kea-dhcp4 -t "$tmp/kea$n.json"; done >"$tmp/kea"
	kt=$(awk '{ print $1 }' "$tmp/kea" | median)
	km=$(awk '{ print $2 }' "$tmp/kea" | median)

	rm -rf "$d/state"
	: >"$tmp/gb.log"
	t0=$(ms)
	bench_serve "$GRIDBOOTD" serve -c "$d/grid.cfg" -d -l info >"$tmp/gb.log" 2>&1
	i=0
	while ! grep -q "serving " "$tmp/gb.log" && [ $i -lt 6000 ]; do sleep 0.01; i=$((i + 1)); done
	st=$(( $(ms) - t0 ))
	rss=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/$BENCH_PID/status)
	pool=$(ip netns exec "$CNS" "$tmp/dhcp_load" 10.92.0.1 10.92.0.2 "$NC" 64 32)
	nr=$NC; [ "$n" -lt "$nr" ] && nr=$n
	res=$(ip netns exec "$CNS" "$tmp/dhcp_load" 10.92.0.1 10.92.0.2 "$nr" 64 16)
	# Under load (pool clients, a fresh MAC range), a SIGHUP half a second in.
	ip netns exec "$CNS" "$tmp/dhcp_load" 10.92.0.1 10.92.0.2 50000 64 48 >"$tmp/gap" &
	lp=$!
	sleep 0.5
	before=$(metric 'gridboot_inventory_reloads_total{result="ok"}')
	kill -HUP "$BENCH_PID"
	wait $lp
	# A million machines load for longer than the load runs: wait (60 s).
	i=0
	while [ "$(metric 'gridboot_inventory_reloads_total{result="ok"}')" = "$before" ] && [ $i -lt 600 ]; do
		sleep 0.1; i=$((i + 1))
	done
	after=$(metric 'gridboot_inventory_reloads_total{result="ok"}')
	gap=$(field "$(cat "$tmp/gap")" max_gap_ms)
	lms=$(metric gridboot_inventory_load_ms)
	[ "$after" = "$((before + 1))" ] || gap="$gap (no reload seen!)"
	kill "$BENCH_PID"; wait "$BENCH_PID" 2>/dev/null
	row "$n" "$ct" "$(awk -v k="$cm" 'BEGIN { printf "%.0f", k / 1024 }')" "$st" "$rss" \
	    "$(field "$pool" dora_per_s)" "$(field "$res" dora_per_s)" "$gap ($lms)" "$kt" \
	    "$(awk -v k="$km" 'BEGIN { printf "%.0f", k / 1024 }')"
	rm -rf "$d"
done
