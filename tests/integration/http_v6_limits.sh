#!/bin/sh
# limit: 120
# Per-source caps by IPv6 /64 and a deadline for the whole request header
# (issue 21, fault 8). A host owns a whole /64 and may use any address in
# it: 40 addresses of fd64:1:2:3::/64 opening two connections each must
# not hold more than grid.http_per_source (32 here, the default) between
# them, and a client that sends a header line every few seconds is closed
# once the header has taken HTTP_HEADER_S (15 s), however often it speaks.
# A normal request from another /64 and over IPv4 is served meanwhile.
. "$GRIDBOOT_TOP/tests/lib.sh"

NS=gbv6l$$
ns_add $NS || { not_ok "ip netns add"; t_done; exit 1; }
nsx() { ip netns exec $NS "$@"; }
ip -n $NS link set lo up
ip -n $NS addr add 10.9.64.1/24 dev lo
ip -n $NS -6 addr add fd64:9::1/64 dev lo nodad
i=1
while [ $i -le 40 ]; do
	ip -n $NS -6 addr add fd64:1:2:3::$(printf %x $i)/128 dev lo nodad
	i=$((i + 1))
done
mkdir -p "$T_TMP/files" "$T_TMP/state"
cat >"$T_TMP/grid.cfg" <<EOF2
grid = { name = "t"; server = "10.9.64.1"; files = "$T_TMP/files"; state = "$T_TMP/state"; };
networks = ( { subnet = "10.9.64.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
EOF2
ip netns exec $NS "$GRIDBOOTD" serve -c "$T_TMP/grid.cfg" -d -l debug >>"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
wait_for 10 gb_serving "$T_TMP/gridbootd.log" || { not_ok "daemon up"; cat "$T_TMP/gridbootd.log"; t_done; exit 1; }
metric() { nsx curl -fsS http://10.9.64.1/metrics | sed -n "s/^$1 //p"; }

# 80 connections from 40 addresses of one /64, each sending a header line
# every 2 s; after 3 s, how many are still open; the first one's life.
nsx python3 - >"$T_TMP/hold.out" 2>&1 <<'PY' &
import socket, time, select
socks = []
for i in range(1, 41):
    for k in range(2):
        s = socket.socket(socket.AF_INET6)
        s.bind(("fd64:1:2:3::%x" % i, 0))
        try:
            s.connect(("fd64:9::1", 80))
            s.sendall(b"GET /boot.ipxe HTTP/1.1\r\n")
            socks.append(s)
        except OSError:
            pass
start = time.time()
def alive():
    n = 0
    for s in socks:
        if s.fileno() < 0:
            continue
        r, _, _ = select.select([s], [], [], 0)
        if r:
            try:
                if s.recv(4096, socket.MSG_PEEK) == b"":
                    s.close(); continue
            except OSError:
                s.close(); continue
        n += 1
    return n
time.sleep(3)
print("open_after_3s", alive(), flush=True)
first_closed = None
while time.time() - start < 25:
    for s in socks:
        if s.fileno() >= 0:
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                s.close()
    n = alive()
    if n == 0:
        first_closed = time.time() - start
        break
    time.sleep(2)
print("all_closed_after", "%.1f" % first_closed if first_closed else "never", flush=True)
PY
HOLD=$!
track_pid $HOLD
wait_for 10 grep -q open_after_3s "$T_TMP/hold.out"
open=$(sed -n 's/^open_after_3s //p' "$T_TMP/hold.out")
diag "connections held from one /64: ${open:-?} of 80"
check "40 addresses of one /64 hold at most 32 connections (${open:-?})" [ "${open:-999}" -le 32 ]
check "but they do hold some (the cap, not a refusal of everyone) (${open:-?})" [ "${open:-0}" -ge 16 ]
ref=$(metric 'gridboot_http_refused_total{cap="source"}')
check "gridboot_http_refused_total{cap=\"source\"} counted the refusals (${ref:-none})" [ "${ref:-0}" -ge 40 ]
check "meanwhile a request from another /64 is served" \
	nsx curl -fsS -o /dev/null --max-time 5 -g "http://[fd64:9::1]/metrics"
check "and one over IPv4" nsx curl -fsS -o /dev/null --max-time 5 http://10.9.64.1/metrics
wait_for 40 grep -q all_closed_after "$T_TMP/hold.out"
after=$(sed -n 's/^all_closed_after //p' "$T_TMP/hold.out")
diag "slow headers closed after ${after:-?} s"
check "headers trickled every 2 s are closed by the header deadline (after ${after:-?} s, deadline 15 s)" \
	sh -c "[ '${after:-never}' != never ] && [ \$(echo '${after:-99}' | cut -d. -f1) -le 20 ]"
to=$(metric gridboot_http_header_timeouts_total)
check "gridboot_http_header_timeouts_total counted them (${to:-none})" [ "${to:-0}" -ge 1 ]
check "a normal request from that /64 works again afterwards" \
	nsx curl -fsS -o /dev/null --max-time 5 -g --interface fd64:1:2:3::1 "http://[fd64:9::1]/metrics"
check "the daemon stops cleanly" stop_gridbootd
t_done
