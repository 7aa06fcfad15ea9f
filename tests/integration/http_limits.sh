#!/bin/sh
# limit: 90
# One host must not hold the HTTP server: at most 32 connections from one
# source address (others are still served), at most 4 event streams from
# one address, and an event stream whose client stopped reading is closed
# once its bytes have waited 10 s, instead of keeping its slot forever.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/http/common.sh"

if ! http_start; then
	not_ok "gridbootd starts"; cat "$T_TMP/gridbootd.log"; t_done; exit 1
fi
ok "gridbootd starts on port $HTTP_PORT"
A=$BASE/api/v1
metric() { curl -fsS "$BASE/metrics" | sed -n "s/^$1 //p"; }

# 40 idle connections from 127.0.0.1, held by one python process for 20 s
# (it exits by itself; we kill it sooner).
python3 - "$HTTP_PORT" >"$T_TMP/hold.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(40):
    s = socket.socket()
    s.connect(("127.0.0.1", port))
    socks.append(s)
print("held", len(socks), flush=True)
time.sleep(20)
PY
HOLD=$!
track_pid $HOLD
wait_for 5 grep -q held "$T_TMP/hold.out"
sleep 0.5
check "with 40 connections held from 127.0.0.1, another from it is refused" \
	sh -c "! curl -fsS -o /dev/null --max-time 3 '$BASE/boot.ipxe'"
check "a client at another address is still served" \
	curl -fsS -o /dev/null --max-time 3 --interface 127.0.0.2 "$BASE/boot.ipxe"
kill $HOLD 2>/dev/null
wait $HOLD 2>/dev/null
check "once they are gone 127.0.0.1 is served again" \
	wait_for 5 curl -fsS -o /dev/null --max-time 3 "$BASE/boot.ipxe"

# Event streams: four from one address, the fifth refused.
i=0
while [ $i -lt 4 ]; do
	curl -sN --max-time 20 --interface 127.0.0.3 "$A/events" >/dev/null 2>&1 &
	track_pid $!
	i=$((i + 1))
done
wait_for 5 sh -c "[ \"\$(curl -fsS '$BASE/metrics' | sed -n 's/^gridboot_http_event_streams //p')\" = 4 ]"
check "a fifth event stream from one address is 429" \
	[ "$(code GET "$A/events" --interface 127.0.0.3 --max-time 3)" = 429 ]
check "an event stream from another address is served" \
	sh -c "curl -sN --max-time 1 --interface 127.0.0.4 '$A/events' | grep -q '^retry:'"

# A stream whose client never reads: a tiny receive window, then a few
# hundred KiB of events. Its bytes wait; it must be closed within ~10 s.
python3 - "$HTTP_PORT" >"$T_TMP/stall.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
s.bind(("127.0.0.5", 0))
s.connect(("127.0.0.1", port))
s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
print("connected", flush=True)
time.sleep(120)
PY
STALL=$!
track_pid $STALL
# Its server-side socket, as ss shows it: the HTTP listener is dual-stack,
# so the IPv4 addresses may show as ::ffff:-mapped ones.
STALLED="(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]):$HTTP_PORT +(127\.0\.0\.5|\[::ffff:127\.0\.0\.5\]):"
export STALLED
wait_for 5 grep -q connected "$T_TMP/stall.out"
sleep 0.5
check "the stream that will not read is connected" \
	sh -c "ss -tnH state established | grep -qE \"\$STALLED\""
before=$(metric gridboot_http_event_streams_stalled_total)
: >"$T_TMP/urls"
i=0
while [ $i -lt 2000 ]; do echo "url = \"$BASE/ipxe/525400000011.ipxe\"" >>"$T_TMP/urls"; echo "output = \"/dev/null\"" >>"$T_TMP/urls"; i=$((i + 1)); done
curl -sS --interface 127.0.0.6 -K "$T_TMP/urls"
check "2000 boot events went out" sh -c "curl -fsS '$A/timeline' | grep -q ipxe"
check "the stream that never reads is closed within 20 s" \
	wait_for 20 sh -c "[ \"\$(curl -fsS '$BASE/metrics' | sed -n 's/^gridboot_http_event_streams_stalled_total //p')\" -gt '${before:-0}' ]"
check "its connection is gone" \
	wait_for 5 sh -c "! ss -tnH state established | grep -qE \"\$STALLED\""
kill $STALL 2>/dev/null
check "gridbootd exits cleanly" stop_gridbootd

# The descriptor budget: TFTP's transfers leave room for HTTP's
# connections (a socket and a file each) and 256 more; HTTP takes fewer
# connections when even that does not fit.
fdstart() {	# LIMIT
	: >"$T_TMP/fd.log"
	sh -c "ulimit -n $1 && exec '$GRIDBOOTD' serve -c '$CFG' -d -l debug" >>"$T_TMP/fd.log" 2>&1 &
	GB_PID=$!
	track_pid $GB_PID
	wait_for 10 gb_serving "$T_TMP/fd.log"
}
# FD_RESERVE = 3 x 1000 HTTP (socket, our duplicate, a file) + 256 others
# + 2048 for 9P's open files
fdstart 6000
check "6000 descriptors: 696 TFTP transfers, 5304 kept for HTTP, 9P and the rest" \
	grep -q "tftp: up to 696 transfers (descriptor limit 6000, 5304 kept" "$T_TMP/fd.log"
check "6000 descriptors: HTTP takes 1000 connections" wait_for 5 grep -q "at most 1000 connections, 32 per source" "$T_TMP/fd.log"
check "gridbootd exits cleanly" stop_gridbootd
fdstart 1500
check "1500 descriptors: HTTP takes (1500 - 256) / 3 = 414 connections" \
	wait_for 5 grep -q "at most 414 connections" "$T_TMP/fd.log"
check "gridbootd exits cleanly" stop_gridbootd
t_done
