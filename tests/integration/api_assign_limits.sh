#!/bin/sh
# limit: 120
# A role change through the API must never leave the inventory unloadable:
# a role whose plan9.ini would break Plan 9's limits for that machine is
# refused (422) and nothing is stored; a bad record already in
# STATE/assignments.json (written by an older version, or by hand) is
# skipped with a warning, never a failed load or a crash.
. "$(dirname "$0")/../lib.sh"

NS=gbasg$$
ip netns add $NS || { not_ok "network namespace"; t_done; exit 1; }
on_cleanup "ip netns del $NS 2>/dev/null"
ip -n $NS link set lo up
long=amd64/kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk
cfg="$T_TMP/inv.cfg"
cat >"$cfg" <<EOC
grid = { name = "t"; server = "127.0.0.1"; files = "$T_TMP/files"; state = "$T_TMP/state";
         http_port = 18081; tftp_port = 16970; dhcp_port = 16768; proxy_port = 14012;
         api_token = "test-token-0123456789"; };
networks = ( { subnet = "10.9.0.0/24"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; },
            { name = "longk"; arch = "amd64"; file = "$long"; },
            { name = "9qemu"; arch = "arm64"; file = "arm64/9qemu.u"; } );
roles = { cpu = { kernel = "9pc64"; }; efi9 = { kernel = "longk"; boot = "9boot"; };
          arm = { kernel = "9qemu"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.9.0.11"; role = "cpu"; } );
EOC
mkdir -p "$T_TMP/files"
api() { ip netns exec $NS curl -s -o "$T_TMP/body" -w '%{http_code}' \
    -H "Authorization: Bearer test-token-0123456789" "$@"; }

ip netns exec $NS "$GRIDBOOTD" serve -c "$cfg" -d -l debug >"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd starts" wait_for 10 grep -q "info: serving " "$T_TMP/gridbootd.log"
wait_for 10 sh -c "ip netns exec $NS curl -s http://127.0.0.1:18081/api/v1/machines >/dev/null"

code=$(api -X PUT -d '{"role":"efi9"}' http://127.0.0.1:18081/api/v1/machines/cpu1/role)
check "a role whose bootfile the BIOS loader cannot take is refused (422, got $code)" [ "$code" = 422 ]
check "the refusal says why" grep -q "bootfile" "$T_TMP/body"
check "nothing was stored" sh -c "! grep -q efi9 '$T_TMP/state/assignments.json' 2>/dev/null"
code=$(api -X PUT -d '{"role":"cpu"}' http://127.0.0.1:18081/api/v1/machines/cpu1/role)
check "a good role change still works (got $code)" [ "$code" = 200 ]

# A bad record planted in the store, for a listed and an unlisted machine.
kill -TERM $GB_PID; wait $GB_PID
cat >"$T_TMP/state/assignments.json" <<EOJ
{"assignments": [
 {"mac": "52:54:00:00:00:11", "role": "efi9", "name": "cpu1", "arch": "amd64", "client_arch": -1},
 {"mac": "52:54:00:00:00:77", "role": "efi9", "name": "new77", "arch": "amd64", "client_arch": -1},
 {"mac": "52:54:00:00:00:88", "role": "arm", "name": "arm88", "arch": "arm64", "firmware": "uefi"}
]}
EOJ
out=$("$GRIDBOOTD" check -c "$cfg" 2>&1); rc=$?
check "check still passes with bad stored records (rc $rc)" [ $rc -eq 0 ]
ip netns exec $NS "$GRIDBOOTD" serve -c "$cfg" -d -l debug >"$T_TMP/gridbootd2.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd starts with bad stored records" wait_for 10 grep -q "info: serving " "$T_TMP/gridbootd2.log"
check "the bad records are logged as skipped" grep -q "role efi9: bootfile .*; skipped" "$T_TMP/gridbootd2.log"
check "a stored arm64 UEFI machine stays UEFI (not U-Boot)" \
	sh -c "ip netns exec $NS curl -s http://127.0.0.1:18081/api/v1/machines/arm88 | grep -q '\"firmware\": *\"uefi\"'"
kill -HUP $GB_PID
check "reload still succeeds" wait_for 10 grep -q "reload: .* OK" "$T_TMP/gridbootd2.log"
kill -TERM $GB_PID
wait $GB_PID; rc=$?
check "clean exit (sanitizers) rc=$rc" [ $rc -eq 0 ]

# Stores that cannot be read are moved aside and kept, never overwritten.
printf '{"assignments": [ {"mac": "52:54:00:00:00:11", "role": "cpu"' >"$T_TMP/state/assignments.json"
printf '[{"mac": "52:54:00:00:00:55", "facts": {"cpus": 3' >"$T_TMP/state/discovered.json"
ip netns exec $NS "$GRIDBOOTD" serve -c "$cfg" -d -l debug >"$T_TMP/gridbootd3.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd starts with corrupt stores" wait_for 10 grep -q "info: serving " "$T_TMP/gridbootd3.log"
check "a corrupt discovered.json is moved aside, kept as it was" \
	sh -c "grep -q '\"cpus\": 3' '$T_TMP'/state/discovered.json.corrupt-* && grep -q 'moved aside to' '$T_TMP/gridbootd3.log'"
code=$(api -X PUT -d '{"role":"cpu"}' http://127.0.0.1:18081/api/v1/machines/cpu1/role)
check "a role change over a corrupt assignments.json is stored ($code)" [ "$code" = 200 ]
check "the corrupt assignments.json is kept beside the new one" \
	sh -c "grep -q '\"role\": \"cpu\"' '$T_TMP'/state/assignments.json.corrupt-*"
check "the new assignments.json is valid" python3 -c "import json; json.load(open('$T_TMP/state/assignments.json'))"
kill -TERM $GB_PID
wait $GB_PID; rc=$?
check "clean exit (sanitizers) rc=$rc" [ $rc -eq 0 ]
T_PIDS=""
t_done
