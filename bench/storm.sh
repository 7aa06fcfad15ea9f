#!/bin/sh
# Boot storm benchmark: whole PXE chains (DHCP, TFTP of the loader, HTTP of
# the kernel; tests/storm.py) per second and the p99 of a whole chain, for
# STORM_CLIENTS simulated clients at once, once as machines the inventory
# knows (no enroll) and once as unknown ones that enroll (enroll is
# rate-limited to 20 a second overall by design, so that run measures the
# limit). Then a bounded soak: STORM_ROUNDS more storms by the same
# clients, the daemon's resident memory and descriptors after each; the
# verdict says whether they stayed flat (last round within 10 % of the
# second, descriptors equal).
#   STORM_CLIENTS (default 400), STORM_ROUNDS (default 6)
set -u
cd "$(dirname "$0")/.."
GRIDBOOT_TOP=$PWD
GRIDBOOTD=${GRIDBOOTD:-$GRIDBOOT_TOP/build/gridbootd}
N=${STORM_CLIENTS:-400}
ROUNDS=${STORM_ROUNDS:-6}
. tests/lib.sh
. tests/storm-lib.sh
[ -x "$GRIDBOOTD" ] || { echo "bench/storm.sh: build gridbootd first (make)" >&2; exit 1; }
storm_setup || exit 1
storm_start || { cat "$T_TMP/gridbootd.log"; exit 1; }
summary() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%d/%d chains in %.1f s: %.1f chains/s, p50 %s ms, p99 %s ms" % (r["completed"], r["clients"], r["seconds"], r["chains_per_s"], r["p50_ms"], r["p99_ms"]))' "$1"; }
STORM_ENROLL=0 storm_run "$N" "$T_TMP/known.json"
echo "storm, $N known machines (DHCP+TFTP+HTTP): $(summary "$T_TMP/known.json")"
storm_run "$N" "$T_TMP/unknown.json"
echo "storm, $N unknown machines (+enroll, limited to 20/s): $(summary "$T_TMP/unknown.json")"
storm_verify "$T_TMP/unknown.json" | sed 's/^/  /'
mem() { awk '/^VmRSS:/ { print $2 }' /proc/$GB_PID/status; }
fds() { ls /proc/$GB_PID/fd | wc -l; }
r=1
: >"$T_TMP/soak"
while [ $r -le "$ROUNDS" ]; do
	STORM_ENROLL=0 storm_run "$N" "$T_TMP/soak.json"
	echo "$r $(mem) $(fds)" >>"$T_TMP/soak"
	echo "soak round $r: $(summary "$T_TMP/soak.json"); RSS $(mem) kB, $(fds) descriptors"
	r=$((r + 1))
done
awk 'NR == 2 { m2 = $2; f2 = $3 } END { last = $2; verdict = (last <= m2 * 1.1 && $3 == f2) ? "flat" : "GROWING";
    printf "soak: RSS %d kB after round 2, %d kB after round %d; descriptors %d -> %d: %s\n", m2, last, NR, f2, $3, verdict;
    exit verdict != "flat" }' "$T_TMP/soak"
rc=$?
stop_gridbootd
exit $rc
