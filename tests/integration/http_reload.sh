#!/bin/sh
# limit: 90
# HTTP across reloads: a port change to a port that is taken leaves HTTP
# down (and says so); putting the old port back with another SIGHUP brings
# it back.
. "$(dirname "$0")/../lib.sh"

NS=gbhrl$$
ip netns add $NS || { not_ok "network namespace"; t_done; exit 1; }
on_cleanup "ip netns del $NS 2>/dev/null"
ip -n $NS link set lo up
cfg="$T_TMP/inv.cfg"
mk() {
	cat >"$cfg" <<EOC
grid = { name = "t"; server = "127.0.0.1"; files = "$T_TMP/files"; state = "$T_TMP/state";
         http_port = $1; tftp_port = 16971; dhcp_port = 16769; proxy_port = 14013; };
EOC
}
mkdir -p "$T_TMP/files"
mk 18082
get() { ip netns exec $NS curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/boot.ipxe"; }

ip netns exec $NS "$GRIDBOOTD" serve -c "$cfg" -d >"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd starts" wait_for 10 grep -q "info: serving " "$T_TMP/gridbootd.log"
check "HTTP answers on 18082" wait_for 10 test "$(get 18082)" = 200

# Something else holds 18083.
ip netns exec $NS python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 18083)); s.listen(1); time.sleep(60)' &
track_pid $!
wait_for 10 sh -c "ip netns exec $NS ss -Hltn 'sport = :18083' | grep -q ."
mk 18083
kill -HUP $GB_PID
check "a taken port is reported" wait_for 10 grep -q "not serving until the next good reload" "$T_TMP/gridbootd.log"
mk 18082
kill -HUP $GB_PID
check "the old port back brings HTTP back" wait_for 10 test "$(get 18082)" = 200
kill -TERM $GB_PID
wait $GB_PID; rc=$?
check "clean exit rc=$rc" [ $rc -eq 0 ]
T_PIDS=$(echo "$T_PIDS" | sed "s/ $GB_PID//")
t_done
