#!/bin/sh
# limit: 120
# HTTP from worker threads (grid.http_workers) and small files from memory:
# requests at once are taken by more than one worker (the per-worker
# counter moves on each); a small file is answered from memory (the hit
# counter moves) and a change to it is seen within the cache's second,
# including one that keeps its size; ranges and conditional requests still
# work; a file over the cache's limit comes from its descriptor; a reload
# to http_workers = 0 puts HTTP back on the event loop; SIGTERM with an
# event stream open (a suspended connection in a worker) exits cleanly.
. "$(dirname "$0")/../lib.sh"

NS=gbhwk$$
ns_add $NS || { not_ok "network namespace"; t_done; exit 1; }
cfg="$T_TMP/inv.cfg"
mk() {
	cat >"$cfg" <<EOC
grid = { name = "t"; server = "127.0.0.1"; files = "$T_TMP/files"; state = "$T_TMP/state";
         http_port = 18091; tftp_port = 16981; dhcp_port = 16779; proxy_port = 14023;
         http_per_source = 200; http_workers = $1; };
EOC
}
mkdir -p "$T_TMP/files" "$T_TMP/state"
head -c 300 /dev/urandom >"$T_TMP/files/small.bin"
head -c 100000 /dev/urandom >"$T_TMP/files/big.bin"
mk 2
B=http://127.0.0.1:18091
nx() { ip netns exec $NS "$@"; }
metric() {	# NAME{LABELS}: its value, 0 if absent
	nx curl -fsS "$B/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}

ip netns exec $NS "$GRIDBOOTD" serve -c "$cfg" -d -l debug >"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd starts" wait_for 10 gb_serving "$T_TMP/gridbootd.log"
check "HTTP answers" wait_for 10 nx curl -fsS -o /dev/null "$B/files/small.bin"
check "the log names 2 worker threads" grep -q "http: 2 worker threads" "$T_TMP/gridbootd.log"
# ss shows a listener's backlog as its Send-Q: room for a rack's
# connections at once (512 dropped SYNs in a storm of 1000).
BACKLOG=$(nx ss -Hltn 'sport = :18091' | awk '{ print $3; exit }')
check "the listener's accept queue holds a rack at once (backlog $BACKLOG >= 4096)" \
    [ "${BACKLOG:-0}" -ge 4096 ]

# 16 connections at once, 160 requests a round: both workers take some.
# Which thread accepts is the kernel's choice: up to 5 rounds.
urls=""
i=0
while [ $i -lt 160 ]; do urls="$urls -o /dev/null $B/files/small.bin"; i=$((i + 1)); done
round=0
while [ $round -lt 5 ]; do
	nx curl -s --parallel --parallel-max 16 $urls 2>/dev/null
	w0=$(metric 'gridboot_http_worker_requests_total{worker="0"}')
	w1=$(metric 'gridboot_http_worker_requests_total{worker="1"}')
	[ "$w0" -gt 0 ] && [ "$w1" -gt 0 ] && break
	round=$((round + 1))
done
diag "worker 0: $w0 requests, worker 1: $w1 (after $((round + 1)) rounds of 160)"
check "requests at once are taken by both workers" [ "$w0" -gt 0 ] && [ "$w1" -gt 0 ]
check "the workers' counts add up to at least the requests sent" [ $((w0 + w1)) -ge 160 ]
check "no third worker exists" [ "$(metric 'gridboot_http_worker_requests_total{worker="2"}')" -eq 0 ]

# Small files from memory.
h0=$(metric gridboot_http_small_file_hits_total)
nx curl -fsS -o "$T_TMP/got" "$B/files/small.bin"
check "a small file is served whole" cmp -s "$T_TMP/got" "$T_TMP/files/small.bin"
h1=$(metric gridboot_http_small_file_hits_total)
check "and from memory (hits $h0 -> $h1)" [ "$h1" -gt "$h0" ]
head -c 500 /dev/urandom >"$T_TMP/files/small.bin.new"
mv "$T_TMP/files/small.bin.new" "$T_TMP/files/small.bin"
sleep 1.2
nx curl -fsS -o "$T_TMP/got" "$B/files/small.bin"
check "a replaced file is served new after the cache's second" cmp -s "$T_TMP/got" "$T_TMP/files/small.bin"
head -c 500 /dev/urandom | dd of="$T_TMP/files/small.bin" conv=notrunc status=none
sleep 1.2
nx curl -fsS -o "$T_TMP/got" "$B/files/small.bin"
check "so is one rewritten in place with the same size" cmp -s "$T_TMP/got" "$T_TMP/files/small.bin"
dd if="$T_TMP/files/small.bin" bs=1 skip=10 count=20 status=none >"$T_TMP/want"
nx curl -fsS -r 10-29 -o "$T_TMP/got" "$B/files/small.bin"
check "a range of a cached file is the right bytes" cmp -s "$T_TMP/got" "$T_TMP/want"
etag=$(nx curl -fsSI "$B/files/small.bin" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" { print $2 }')
code=$(nx curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$B/files/small.bin")
check "If-None-Match with its ETag ($etag) is 304" [ "$code" = 304 ]
h2=$(metric gridboot_http_small_file_hits_total)
nx curl -fsS -o "$T_TMP/got" "$B/files/big.bin"
check "a 100 000-byte file is served whole" cmp -s "$T_TMP/got" "$T_TMP/files/big.bin"
nx curl -fsS -o "$T_TMP/got" "$B/files/big.bin"
h3=$(metric gridboot_http_small_file_hits_total)
check "and never from memory (hits $h2 -> $h3)" [ "$h3" -eq "$h2" ]
check "a missing file is still 404" [ "$(nx curl -s -o /dev/null -w '%{http_code}' "$B/files/nope")" = 404 ]

# Back to the loop with a reload.
mk 0
kill -HUP $GB_PID
check "a reload to http_workers = 0 serves on the event loop" \
	wait_for 10 grep -q "http: serving on port 18091 on the event loop" "$T_TMP/gridbootd.log"
check "and HTTP still answers" wait_for 10 nx curl -fsS -o /dev/null "$B/files/small.bin"
w=$(metric 'gridboot_http_worker_requests_total{worker="0"}')
nx curl -fsS -o /dev/null "$B/files/small.bin"
check "no worker counts it" [ "$(metric 'gridboot_http_worker_requests_total{worker="0"}')" -eq "$w" ]
mk 2
kill -HUP $GB_PID
check "and back to 2 workers" wait_for 10 sh -c "grep -c 'http: 2 worker threads' '$T_TMP/gridbootd.log' | grep -q 2"

# An event stream open in a worker (its connection suspended) at SIGTERM.
nx curl -sN "$B/api/v1/events" >"$T_TMP/sse" 2>/dev/null &
track_pid $!
check "an event stream is open" wait_for 10 grep -q . "$T_TMP/sse"
kill -TERM $GB_PID
i=0
while kill -0 $GB_PID 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "SIGTERM with the stream open exits within 10 s" sh -c "! kill -0 $GB_PID 2>/dev/null"
wait $GB_PID; rc=$?
check "cleanly (rc=$rc: no sanitizer report)" [ $rc -eq 0 ]
T_PIDS=$(echo "$T_PIDS" | sed "s/ $GB_PID//")
t_done
