#!/bin/sh
# limit: 120
# A boot storm: 150 simulated PXE clients at once (tests/storm.py: DHCP,
# then TFTP of the loader, then HTTP of the kernel, then enroll), against
# one gridbootd that is killed with SIGKILL once 60 of them have their
# lease, and restarted. Every client must finish; no address may go to two
# clients (nor a client get two addresses); no acknowledged lease and no
# acknowledged enrollment may be lost.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/storm-lib.sh"

storm_setup || { not_ok "namespace"; t_done; exit 1; }
storm_start || { not_ok "gridbootd starts"; cat "$T_TMP/gridbootd.log"; t_done; exit 1; }
ok "gridbootd serves the storm's inventory"
MARK=$T_TMP/half
storm_run 150 "$T_TMP/storm.json" 60 "$MARK" &
STORM=$!
track_pid $STORM
check "60 clients have their lease" wait_for 60 test -e "$MARK"
kill -9 $GB_PID
wait $GB_PID 2>/dev/null
diag "SIGKILL with $(grep -c '^B ' "$T_TMP/state/dhcp.leases") leases journaled"
check "gridbootd restarts after SIGKILL" storm_start
wait $STORM
check "the storm ran" test -s "$T_TMP/storm.json"
diag "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); del r["macs"]; print(json.dumps(r))' "$T_TMP/storm.json" 2>/dev/null)"
storm_verify "$T_TMP/storm.json" >"$T_TMP/verify.out" 2>&1
sed -n 's/^# /# /p' "$T_TMP/verify.out"
check "every client finished its chain ($(head -n1 "$T_TMP/verify.out"))" grep -qx "completed 150 of 150" "$T_TMP/verify.out"
check "no address to two clients, no lease or enrollment lost ($(sed -n 2p "$T_TMP/verify.out"))" \
	grep -qx "problems 0" "$T_TMP/verify.out"
check "gridbootd exits cleanly" stop_gridbootd
t_done
