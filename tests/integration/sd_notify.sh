#!/bin/sh
# limit: 60
# Readiness to systemd without systemd: gridbootd serve with NOTIFY_SOCKET
# set to a datagram socket this test listens on (what systemd hands a
# Type=notify service) says READY=1 with its status once it serves,
# RELOADING=1 then READY=1 around a SIGHUP reload (and READY=1 with "the
# last reload failed" when the new inventory is bad), STOPPING=1 on
# SIGTERM; without NOTIFY_SOCKET it serves and stops as before.
# (systemd_nspawn.sh shows the same under real systemd.)
. "$(dirname "$0")/../lib.sh"

S=$T_TMP/notify.sock
python3 - "$S" "$T_TMP/notify.log" <<'EOP' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1)
end = time.time() + 40
with open(sys.argv[2], "a", buffering=1) as log:
    while time.time() < end:
        try:
            m = s.recv(4096)
        except socket.timeout:
            continue
        log.write(m.decode().replace("\n", "|") + "\n")
EOP
LISTENER=$!
track_pid $LISTENER
wait_for 5 test -S "$S" || { not_ok "the test's notify socket"; t_done; exit 1; }
mkdir -p "$T_TMP/state"
cfg() {
	cat <<EOC
grid = { name = "t"; server = "127.0.0.1"; files = "$T_TMP"; state = "$T_TMP/state";
         http_port = 18402; tftp_port = 16402; dhcp_port = 16802; proxy_port = 14102; p9_port = 15662; };
networks = ( { subnet = "10.9.0.0/24"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.9.0.11"; role = "cpu"; }$1 );
EOC
}
cfg "" >"$T_TMP/grid.cfg"
NOTIFY_SOCKET=$S "$GRIDBOOTD" serve -c "$T_TMP/grid.cfg" -d >"$T_TMP/notified.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "READY=1 with its status once it serves" \
    wait_for 10 grep -q "^READY=1|STATUS=serving $T_TMP/grid.cfg: 1 machines$" "$T_TMP/notify.log"
check "... not before it said so in its log" grep -q "serving $T_TMP/grid.cfg" "$T_TMP/notified.log"
cfg ", { name = \"cpu2\"; mac = \"52:54:00:00:00:12\"; role = \"cpu\"; }" >"$T_TMP/grid.cfg"
kill -HUP $GB_PID
check "SIGHUP: RELOADING=1, then READY=1 with the new inventory" \
    wait_for 10 sh -c "grep -q '^RELOADING=1|STATUS=loading' '$T_TMP/notify.log' && grep -q '^READY=1|STATUS=serving .*: 2 machines$' '$T_TMP/notify.log'"
n=$(grep -c '^READY=1' "$T_TMP/notify.log")
echo "this is not libconfig" >"$T_TMP/grid.cfg"
kill -HUP $GB_PID
check "a bad reload: READY=1 again, saying the last reload failed" \
    wait_for 10 grep -q '^READY=1|STATUS=serving .*: 2 machines (the last reload failed)$' "$T_TMP/notify.log"
kill -TERM $GB_PID
wait $GB_PID; rc=$?
check "SIGTERM: STOPPING=1 and a clean exit ($rc)" sh -c "[ $rc -eq 0 ] && grep -q '^STOPPING=1$' '$T_TMP/notify.log'"
cfg "" >"$T_TMP/grid.cfg"
"$GRIDBOOTD" serve -c "$T_TMP/grid.cfg" -d >"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
# "info: serving CONFIG", not tftp's "serving DIR", which comes before the
# signal handling is set up.
check "without NOTIFY_SOCKET it serves" wait_for 10 grep -q "info: serving $T_TMP/grid.cfg" "$T_TMP/gridbootd.log"
stop_gridbootd
check "... and stops cleanly" [ $? -eq 0 ]
check "... saying nothing about sd_notify" sh -c "! grep -q sd_notify '$T_TMP/gridbootd.log'"
kill $LISTENER 2>/dev/null
diag "$(cat "$T_TMP/notify.log" | tr '\n' ' ')"
t_done
