#!/bin/sh
# limit: 180
# A datacenter's inventory: 100 000 machines generated at test time
# (tests/tools/gen-inventory.sh) load and serve; busybox udhcpc gets its
# reservation; DHCP is answered while a SIGHUP reload of it runs in its
# thread (the test knob GRIDBOOT_TEST_RELOAD_DELAY_MS holds the load open,
# and the reload-running gauge proves it was still running when the reply
# came); a second SIGHUP during the load makes exactly one more load; an
# API role change is derived without a full load and leaves every other
# machine as it was.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"
N=${INVENTORY_SCALE_MACHINES:-100000}

S=gbiS$$ C=gbiC$$ SI=gbis$$ CI=gbic$$
ns_add $S $C || { not_ok "namespaces"; t_done; exit 1; }
ns_veth $S $SI $C $CI
ns_addr $S $SI 10.92.0.1/14
dhcp_script
GEN_EXTRA='http_port = 18090; tftp_port = 16979; p9_port = 15640; auth_port = 15670; rcpu_port = 15671;
  api_token = "scale-token-0123456789";' \
    sh "$GRIDBOOT_TOP/tests/tools/gen-inventory.sh" "$N" "$T_TMP/gen" 16 || { not_ok "generator"; t_done; exit 1; }
CFG=$T_TMP/gen/grid.cfg
check "$N machines generated" test "$(grep -c '{ name = "m' "$CFG")" -eq "$N"

t0=$(date +%s%N)
ip netns exec $S env GRIDBOOT_TEST_RELOAD_DELAY_MS=1500 "$GRIDBOOTD" serve -c "$CFG" -d -l info \
    >>"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd serves $N machines" wait_for 60 grep -q "serving $CFG: $N machines" "$T_TMP/gridbootd.log"
diag "start to serving: $(( ($(date +%s%N) - t0) / 1000000 )) ms (this build)"

metric() {
	ip netns exec $S curl -fsS "http://127.0.0.1:18090/metrics" 2>/dev/null |
	    awk -v k="$1" '$1 == k { print $2 }'
}
metric_is() { test "$(metric "$1")" = "$2"; }
api() { ip netns exec $S curl -fsS "$@"; }
lap() { diag "$1: $(( ($(date +%s%N) - t0) / 1000000 )) ms since start"; }
A=http://127.0.0.1:18090/api/v1
TOK="Authorization: Bearer scale-token-0123456789"

# mach I: MAC and reserved address of generated machine I.
mac_of() { printf '02:10:%02x:%02x:%02x:%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
ip_of() { echo "10.$((93 + $1 / 65536)).$(($1 / 256 % 256)).$(($1 % 256))"; }

# 1. A real client of a machine deep in the list gets its reservation.
ip -n $C link set $CI address "$(mac_of 54321)"
udhcpc_run $C $CI one
check "udhcpc as m54321 is bound" test -f "$T_TMP/one.bound"
check "m54321 gets its reserved $(ip_of 54321)" test "$(envval "$T_TMP/one.bound" ip)" = "$(ip_of 54321)"
api "$A/machines/m54321" >"$T_TMP/m54321.before"
check "m54321 is booting after its DHCP" grep -q '"state":"booting"' "$T_TMP/m54321.before"

lap "first client"
# 2. DHCP during a reload: SIGHUP, then a client while the load runs.
kill -HUP $GB_PID
check "the reload is running in its thread" wait_for 10 metric_is gridboot_inventory_reload_running 1
kill -HUP $GB_PID       # a second one during the load: one more load after it
ip -n $C link set $CI address "$(mac_of 77777)"
udhcpc_run $C $CI two
check "udhcpc as m77777 is bound during the reload" test -f "$T_TMP/two.bound"
check "m77777 gets its reserved $(ip_of 77777)" test "$(envval "$T_TMP/two.bound" ip)" = "$(ip_of 77777)"
check "the reload was still running when the reply came" test "$(metric gridboot_inventory_reload_running)" = 1
check "the second SIGHUP was coalesced" test "$(metric gridboot_inventory_reload_requests_coalesced_total)" -ge 1
check "two loads, no more: the reload and the one asked for during it" \
    wait_for 40 metric_is 'gridboot_inventory_reloads_total{result="ok"}' 2
check "the inventory still has $N machines" test "$(metric gridboot_inventory_machines)" = "$N"
sleep 1.5
check "and no third load" test "$(metric 'gridboot_inventory_reloads_total{result="ok"}')" = 2
diag "load in its thread: $(metric gridboot_inventory_load_ms) ms (incl. the 1500 ms knob); swap held the loop $(metric gridboot_inventory_swap_us) us"

lap "reloads"
# 3. An API role change is derived, fast, and touches only its machine.
# Machines around it, at both ends and where the clients were, as the API
# shows them (a full listing of 100 000 takes too long under ASan).
SAMPLE="0 1 776 777 779 780 4242 54321 77777 99998 99999"
snap() { for i in $SAMPLE; do api "$A/machines/m$i"; echo; done >"$T_TMP/sample.$1"; }
snap before
t1=$(date +%s%N)
api -X PUT -H "$TOK" -d '{"role":"terminal"}' "$A/machines/m778/role" >"$T_TMP/put.out"
ms=$(( ($(date +%s%N) - t1) / 1000000 ))
diag "role change answered in $ms ms"
check "m778's role is terminal" grep -q '"role":"terminal"' "$T_TMP/put.out"
check "it was derived, not a full load" test "$(metric gridboot_inventory_role_changes_derived_total)" = 1
check "swapped in as the third good reload, with no load" \
    test "$(metric 'gridboot_inventory_reloads_total{result="ok"}')" = 3
check "answered within 2 s (ASan build)" test "$ms" -lt 2000
snap after
check "the machines around it are unchanged (m54321 still booting)" \
    sh -c "cmp -s '$T_TMP/sample.before' '$T_TMP/sample.after' && grep -q '\"state\":\"booting\"' '$T_TMP/sample.after'"
check "the inventory still has $N machines" test "$(metric gridboot_inventory_machines)" = "$N"
check "plan9.ini of m778 says terminal" \
    sh -c "ip netns exec $S curl -fsS http://127.0.0.1:18090/plan9.ini/02100000030a | grep -qx service=terminal"
check "gridbootd exits cleanly" stop_gridbootd
t_done
