#!/bin/sh
# limit: 120
# A reload that tightens 9P's authentication reaches the sessions already
# open (issue 21, fault 5). The attack on fb6bba1: a connection attached
# while the grid tree was open to anyone (p9_grid_open, no p9_auth) kept
# its fids after a SIGHUP turned p9_auth on, and wrote machines/cpu1/role
# after it. Now the reload closes every session let in under the looser
# policy ("9P authentication policy changed by reload"), so the write
# never lands; and a connection that never attaches is cut when the 10 s
# handshake runs out (it was over at Tversion before, so such a connection
# stayed for ever).
. "${GRIDBOOT_TOP:-.}/tests/lib.sh"

P9C=${P9C:-$(dirname "$GRIDBOOTD")/tools/p9c}
NS=gbp9r$$
D=$T_TMP
ns_add $NS || { not_ok "network namespace"; t_done; exit 1; }
ip -n $NS link set lo up
mkdir -p "$D/export" "$D/state" "$D/files"
cat >"$D/grid.cfg" <<EOC
grid = { name = "t"; server = "127.0.0.1"; files = "$D/files"; state = "$D/state";
         http_port = 18385; tftp_port = 16985; dhcp_port = 16785; proxy_port = 14085;
         p9_port = 15644; auth_port = 15568; rcpu_port = 15020;
         api_token = "tok-0123456789abcdef"; p9_grid_open = true; };
networks = ( { subnet = "10.9.0.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; term = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.9.0.11"; role = "cpu"; } );
exports = ( { path = "$D/export"; } );
EOC
echo bootes-pw | "$GRIDBOOTD" passwd -c "$D/grid.cfg" bootes >/dev/null 2>&1
ip netns exec $NS "$GRIDBOOTD" serve -c "$D/grid.cfg" -d -l debug >"$D/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd serves 9P" wait_for 10 grep -q "9p: listening on tcp port 15644" "$D/gridbootd.log"
role() { ip netns exec $NS curl -s -m 5 http://127.0.0.1:18385/api/v1/machines/cpu1 | jq -r .role; }

# A writer attaches and opens cpu1's role while anyone may, then waits
# for its stdin (the fifo) before it writes.
mkfifo "$D/w.in"
exec 7<>"$D/w.in"
ip netns exec $NS "$P9C" -a grid -u glenda 127.0.0.1 15644 put machines/cpu1/role \
    <"$D/w.in" >"$D/writer.out" 2>&1 7>&- &
WPID=$!
track_pid $WPID
attached() { ip netns exec $NS curl -s -m 5 http://127.0.0.1:18385/metrics | grep -q '^gridboot_9p_attaches_total 1$'; }
check "the writer attached to the open grid tree" wait_for 10 attached
sleep 0.5

sed 's/p9_grid_open = true;/p9_auth = true;/' "$D/grid.cfg" >"$D/grid.cfg.new" && mv "$D/grid.cfg.new" "$D/grid.cfg"
kill -HUP $GB_PID
check "reloaded with grid.p9_auth on and the grid tree no longer open" \
    wait_for 10 grep -q 'inventory reloaded' "$D/gridbootd.log"
check "the session from before is closed: '9P authentication policy changed by reload'" \
    wait_for 10 grep -q 'closed: 9P authentication policy changed by reload' "$D/gridbootd.log"
echo term >&7
exec 7>&-
wait $WPID
rc=$?
sed 's/^/# writer: /' "$D/writer.out"
check "its write after the reload does not land (p9c exit $rc)" sh -c \
    "[ $rc -ne 0 ] && [ \"\$(ip netns exec $NS curl -s -m 5 http://127.0.0.1:18385/api/v1/machines/cpu1 | jq -r .role)\" = cpu ]"

# A connection that sends Tversion and a Tauth but never attaches.
exec 7<>"$D/w.in"
ip netns exec $NS "$P9C" -n 1 -u glenda 127.0.0.1 15644 auths <"$D/w.in" >"$D/noattach.out" 2>&1 7>&- &
track_pid $!
check "a connection that never attaches is cut when its 10 s handshake runs out" \
    wait_for 25 grep -q 'closed: handshake timeout' "$D/gridbootd.log"
exec 7>&-

kill -TERM $GB_PID
wait $GB_PID
check "gridbootd exits cleanly (sanitizers saw nothing)" [ $? -eq 0 ]
[ "$T_FAILED" -gt 0 ] && tail -n 30 "$D/gridbootd.log" | sed 's/^/#   /'
t_done
