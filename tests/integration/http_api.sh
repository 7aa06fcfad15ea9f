#!/bin/sh
# limit: 120
# The JSON API, its token, role assignments persisted in STATE and merged
# over the inventory, the SSE stream and /metrics, against a real gridbootd
# with curl. Bad input must get a 4xx JSON error and change nothing.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/http/common.sh"

if ! http_start; then
	not_ok "gridbootd starts"; cat "$T_TMP/gridbootd.log"; t_done; exit 1
fi
ok "gridbootd starts on port $HTTP_PORT"
A=$BASE/api/v1
TOK="Authorization: Bearer test-token-0123456789"
D=$T_TMP/api
mkdir -p "$D"
cfgsum=$(md5sum <"$CFG")

jget() { curl -fsS "$1"; }
jerr() {	# STATUS URL [curl args]: status matches and body is {"error": ...}
	want=$1 u=$2; shift 2
	got=$(curl -s -o "$D/err" -w '%{http_code}' "$@" "$u")
	[ "$got" = "$want" ] && grep -q '^{"error": *"' "$D/err"
}
has() { grep -qF -- "$1" "$2"; }

# --- the event stream, opened first so it sees everything below
curl -sN "$A/events" >"$D/sse" 2>/dev/null &
SSE_PID=$!
track_pid $SSE_PID
curl -sN "$A/events?mac=52:54:00:00:00:99" >"$D/sse99" 2>/dev/null &
track_pid $!
wait_for 5 grep -q '^retry:' "$D/sse"

# --- reads
jget "$A/machines" >"$D/machines"
check "GET machines lists the inventory" \
	sh -c "grep -q '\"name\":\"cpu1\"' '$D/machines' && grep -q '\"name\":\"lin1\"' '$D/machines'"
jget "$A/machines/cpu1" >"$D/cpu1"
"$GRIDBOOTD" plan9ini -c "$CFG" cpu1 >"$D/cpu1.ini"
check "GET machines/cpu1 carries its plan9.ini" \
	sh -c "grep -q '\"plan9ini\":\"service=cpu' '$D/cpu1' && grep -q 'sysname=cpu1' '$D/cpu1'"
check "GET machines/52:54:00:00:00:11 finds it by MAC" \
	sh -c "curl -fsS '$A/machines/52:54:00:00:00:11' | grep -q '\"name\":\"cpu1\"'"
check "GET leases lists the reservations" sh -c "curl -fsS '$A/leases' | grep -q '\"ip\":\"127.0.0.11\"'"
check "an unknown machine is 404" jerr 404 "$A/machines/nosuch"
check "an unknown API path is 404" jerr 404 "$A/nothing"
check "POST on a read-only list is 405 (with the token)" jerr 405 "$A/leases" -X POST -H "$TOK" -d '{}'

# --- timeline: boot fetches become http events of that machine
curl -fsS -o /dev/null "$BASE/ipxe/525400000011.ipxe"
curl -fsS -o /dev/null "$BASE/plan9.ini/525400000011"
jget "$A/machines/cpu1/timeline" >"$D/tl"
check "cpu1's timeline has its iPXE and plan9.ini fetches with timestamps" \
	sh -c "grep -q 'GET /ipxe/525400000011.ipxe' '$D/tl' && grep -q 'GET /plan9.ini/525400000011' '$D/tl' && grep -q '\"time_ms\":1' '$D/tl'"
check "cpu1 is booting now" sh -c "curl -fsS '$A/machines/cpu1' | grep -q '\"state\":\"booting\"'"

# --- enroll (the discovery image; no token needed, facts only)
check "enroll with bad JSON is 400" jerr 400 "$A/enroll" -X POST -d '{"mac": '
check "enroll with a non-object is 400" jerr 400 "$A/enroll" -X POST -d '[1,2]'
check "enroll with a bad MAC is 400" jerr 400 "$A/enroll" -X POST -d '{"mac":"zz"}'
check "enroll with no body is 400" jerr 400 "$A/enroll" -X POST
head -c 70000 /dev/zero | tr '\0' a >"$D/big"
check "enroll with a 70 kB body is 413" jerr 413 "$A/enroll" -X POST --data-binary @"$D/big"
printf '{"mac":"52:54:00:00:00:99","junk":"%s"}' "$(head -c 20000 /dev/zero | tr '\0' a)" >"$D/bigfacts"
check "enroll with over 16 KiB of facts is 413" jerr 413 "$A/enroll" --interface $ENROLL_IP -X POST --data-binary @"$D/bigfacts"
# Only the address that holds a lease for the MAC may enroll it.
check "enroll from an address without a lease is 403" \
	jerr 403 "$A/enroll" -X POST -d '{"mac":"52:54:00:00:00:99","cpus":4}'
check "enroll of another MAC than the sender's lease is 403" \
	jerr 403 "$A/enroll" --interface $ENROLL_IP -X POST -d '{"mac":"52:54:00:00:00:97","cpus":4}'
check "enroll of an inventory machine from an unrelated address is 403" \
	jerr 403 "$A/enroll" --interface $ENROLL_IP -X POST -d '{"mac":"52:54:00:00:00:11","cpus":4}'
check "enroll with facts nested 9 deep is 422" \
	jerr 422 "$A/enroll" --interface $ENROLL_IP -X POST -d '{"mac":"52:54:00:00:00:99","a":[[[[[[[[1]]]]]]]]}'
check "nothing was stored by the refused enrolls" \
	sh -c "! curl -fsS '$A/discovered' | grep -q '52:54:00:00:00:9[79]'"
check "enroll with facts from the leased address is accepted" \
	sh -c "curl -fsS --interface $ENROLL_IP -X POST -d '{\"mac\":\"52:54:00:00:00:99\",\"cpus\":4,\"memory_mb\":2048,\"disks\":[{\"name\":\"sda\",\"serial\":\"XYZ123\"}]}' '$A/enroll' | grep -q '\"ok\":true'"
jget "$A/discovered" >"$D/disc"
check "the enrolled machine is listed as discovered with a summary of its facts" \
	sh -c "grep -q '\"mac\":\"52:54:00:00:00:99\"' '$D/disc' && grep -q '\"summary\":{[^}]*\"memory_mb\":2048' '$D/disc' && grep -q '\"enrolled\":true' '$D/disc'"
check "the list does not carry whole facts documents" sh -c "! grep -q 'XYZ123' '$D/disc'"
check "GET /discovered/MAC has all its facts" \
	sh -c "curl -fsS '$A/discovered/52:54:00:00:00:99' | grep -q '\"serial\":\"XYZ123\"'"
check "GET /discovered/MAC of an unknown MAC is 404" jerr 404 "$A/discovered/52:54:00:00:00:77"
# Rate limits: a burst of 10 per source, then 429.
n429=0 i=0
while [ $i -lt 14 ]; do
	c=$(code POST "$A/enroll" --interface 127.0.1.97 -d '{"mac":"52:54:00:00:00:97"}')
	[ "$c" = 429 ] && n429=$((n429 + 1))
	i=$((i + 1))
done
check "14 enrolls from one source in a burst: the last 4 get 429 ($n429)" [ "$n429" -eq 4 ]
# A source far over its limit must not drain the shared bucket: 200 at
# once from it (keep-alive), and meanwhile every 20th request one from
# another source (holding no lease: answered 403, past the rate limits),
# which must never see a 429.
python3 - "$HTTP_PORT" 127.0.1.96 <<'PY' >"$D/flood429"
import http.client, sys
port, other = int(sys.argv[1]), sys.argv[2]
def conn(src):
    return http.client.HTTPConnection("127.0.0.1", port, source_address=(src, 0))
c, codes, others = conn("127.0.1.97"), [], []
for i in range(200):
    c.request("POST", "/api/v1/enroll", body='{"mac":"52:54:00:00:00:97"}')
    r = c.getresponse(); r.read(); codes.append(r.status)
    if i % 20 == 19:
        o = conn(other)
        o.request("POST", "/api/v1/enroll", body='{"mac":"52:54:00:00:00:99","cpus":4,"memory_mb":2048}')
        r = o.getresponse(); r.read(); others.append(r.status); o.close()
print("429s %d, other source %s" % (codes.count(429), ",".join(map(str, sorted(set(others))))))
PY
check "a flood from one source is all 429, another source meanwhile never ($(cat "$D/flood429"))" \
	grep -qx "429s 200, other source 403" "$D/flood429"
check "another source is not limited by it" \
	sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --interface $ENROLL_IP -X POST -d '{\"mac\":\"52:54:00:00:00:99\",\"cpus\":4,\"memory_mb\":2048}' '$A/enroll')\" = 200 ]"
check "/metrics counts refused enrolls" \
	sh -c "curl -fsS '$BASE/metrics' | grep -q '^gridboot_http_enroll_refused_total [1-9]'"
check "its facts are on disk in STATE/discovered.json (within a second)" \
	wait_for 5 grep -q memory_mb "$T_TMP/state/discovered.json"

# --- assigning a role: token, validation, nothing changed on refusal
ASSIGN=$A/discovered/52:54:00:00:00:99/assign
check "assign without a token is 401" jerr 401 "$ASSIGN" -X POST -d '{"role":"cpu"}'
check "assign with a wrong token is 401" jerr 401 "$ASSIGN" -X POST -H "Authorization: Bearer nope" -d '{"role":"cpu"}'
check "assign with bad JSON is 400" jerr 400 "$ASSIGN" -X POST -H "$TOK" -d '{"role":'
check "assign without a role is 400" jerr 400 "$ASSIGN" -X POST -H "$TOK" -d '{"name":"x"}'
check "assign an unknown role is 422" jerr 422 "$ASSIGN" -X POST -H "$TOK" -d '{"role":"nosuch"}'
check "assign a name already in use is 409" jerr 409 "$ASSIGN" -X POST -H "$TOK" -d '{"role":"cpu","name":"cpu1"}'
check "assign a bad name is 409" jerr 409 "$ASSIGN" -X POST -H "$TOK" -d '{"role":"cpu","name":"a b"}'
check "assign to a machine never seen is 404" jerr 404 "$A/discovered/52:54:00:00:00:77/assign" -X POST -H "$TOK" -d '{"role":"cpu"}'
check "assign to a bad MAC is 400" jerr 400 "$A/discovered/xyz/assign" -X POST -H "$TOK" -d '{"role":"cpu"}'
check "PUT role of cpu1 to an arm64 role is 409" jerr 409 "$A/machines/cpu1/role" -X PUT -H "$TOK" -d '{"role":"armcpu"}'
check "no assignments file after refused calls" [ ! -e "$T_TMP/state/assignments.json" ]
check "cpu1's iPXE script is unchanged" sh -c "curl -fsS '$BASE/ipxe/525400000011.ipxe' | grep -q 'role cpu'"

curl -fsS -X POST -H "$TOK" -d '{"role":"cpu","name":"newcpu"}' "$ASSIGN" >"$D/assigned"
check "assign role cpu to the discovered machine" grep -q '"name":"newcpu"' "$D/assigned"
check "it boots Plan 9 by multiboot now" \
	sh -c "curl -fsS '$BASE/ipxe/525400000099.ipxe' | grep -qx 'module $BASE/plan9.ini/525400000099'"
check "its plan9.ini has its name" sh -c "curl -fsS '$BASE/plan9.ini/525400000099' | grep -qx 'sysname=newcpu'"
check "gridbootd plan9ini (another process) sees the merged machine" \
	sh -c "'$GRIDBOOTD' plan9ini -c '$CFG' newcpu | grep -qx 'sysname=newcpu'"
check "PUT role of cpu1 to terminal" \
	sh -c "curl -fsS -X PUT -H '$TOK' -d '{\"role\":\"terminal\"}' '$A/machines/cpu1/role' | grep -q '\"role\":\"terminal\"'"
check "cpu1's plan9.ini now says service=terminal and keeps its own console" \
	sh -c "curl -fsS '$BASE/plan9.ini/525400000011' | grep -qx 'service=terminal' && curl -fsS '$BASE/plan9.ini/525400000011' | grep -qx 'console=0 b115200'"
check "the operator's inventory file is untouched" [ "$(md5sum <"$CFG")" = "$cfgsum" ]
check "assignments are in STATE/assignments.json" \
	sh -c "grep -q '52:54:00:00:00:99' '$T_TMP/state/assignments.json' && grep -q '52:54:00:00:00:11' '$T_TMP/state/assignments.json'"

# --- metrics
curl -fsS "$BASE/metrics" >"$D/metrics"
check "/metrics has HTTP request counters" has 'gridboot_http_requests_total{route="boot",code="2xx"}' "$D/metrics"
check "/metrics counts bad requests" sh -c "grep -q '^gridboot_http_bad_requests_total [1-9]' '$D/metrics'"
check "/metrics has machines by state" \
	sh -c "grep -q '^gridboot_machines{state=\"booting\"} [1-9]' '$D/metrics' && grep -q '^gridboot_machines{state=\"idle\"}' '$D/metrics' && grep -q '^gridboot_machines{state=\"discovered\"}' '$D/metrics'"
# idle is the listed machines not seen: the three states add up to the
# inventory (the census visits only the machines seen).
listed=$(curl -fsS "$A/machines" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d if isinstance(d,list) else d["machines"]))')
states=$(awk -F' ' '/^gridboot_machines\{state="(idle|booting|up)"\}/ {n += $2} END {print n+0}' "$D/metrics")
check "/metrics: idle + booting + up = the $listed listed machines (got $states)" \
	sh -c "[ '$listed' -gt 0 ] && [ '$states' = '$listed' ]"
check "/metrics is Prometheus text" sh -c "grep -q '^# TYPE gridboot_machines gauge' '$D/metrics'"

# --- the live stream saw it all, in order, with ids
check "SSE: live events arrive with id and event lines" \
	wait_for 5 sh -c "grep -q '^id: [0-9]' '$D/sse' && grep -q '^event: boot' '$D/sse'"
check "SSE: the enroll arrived live" wait_for 5 grep -q '"kind":"enroll"' "$D/sse"
check "SSE: the role change arrived live" wait_for 5 grep -q 'role set to cpu through the API' "$D/sse"
check "SSE ?mac= filter: only that machine's events" \
	wait_for 5 sh -c "grep -q 'enrolled' '$D/sse99' && ! grep -q '525400000011' '$D/sse99'"
last=$(sed -n 's/^id: //p' "$D/sse" | tail -n 1)
prev=$((last - 2))
curl -sN --max-time 1 -H "Last-Event-ID: $prev" "$A/events" >"$D/replay" 2>/dev/null
check "SSE: Last-Event-ID replays only what came after it" \
	sh -c "[ \"\$(sed -n 's/^id: //p' '$D/replay' | head -n1)\" = $((prev + 1)) ]"
check "SSE: a bad after= is 400" jerr 400 "$A/events?after=abc"

# --- an acknowledged enroll survives SIGKILL right after its 200
code=$(curl -s -o /dev/null -w '%{http_code}' --interface $ENROLL_IP -X POST \
    -d '{"mac":"52:54:00:00:00:99","gen":"before-the-kill"}' "$A/enroll")
kill -9 $GB_PID
wait $GB_PID 2>/dev/null
check "enroll answered 200 just before SIGKILL ($code)" [ "$code" = 200 ]
check "its facts were on disk already" grep -q before-the-kill "$T_TMP/state/discovered.json"
: >"$T_TMP/gridbootd.log"
start_gridbootd "$CFG"
wait_for 5 curl -fsS -o /dev/null "$BASE/boot.ipxe"
check "and are served after the restart" \
	sh -c "curl -fsS '$A/discovered/52:54:00:00:00:99' | grep -q before-the-kill"

# --- persistence: a restart keeps the assignments
stop_gridbootd
start_gridbootd "$CFG"
wait_for 5 curl -fsS -o /dev/null "$BASE/boot.ipxe"
check "after a restart newcpu is still a machine with role cpu" \
	sh -c "curl -fsS '$A/machines/newcpu' | grep -q '\"role\":\"cpu\"'"
check "after a restart cpu1 is still a terminal" \
	sh -c "curl -fsS '$A/machines/cpu1' | grep -q '\"role\":\"terminal\"'"
check "DELETE an assignment without a token is 401" jerr 401 "$A/assignments/52:54:00:00:00:11" -X DELETE
check "DELETE cpu1's assignment" \
	sh -c "curl -fsS -X DELETE -H '$TOK' '$A/assignments/52:54:00:00:00:11' | grep -q ok"
check "cpu1 is back to its inventory role" \
	sh -c "curl -fsS '$A/machines/cpu1' | grep -q '\"role\":\"cpu\"'"
check "DELETE it again is 404" jerr 404 "$A/assignments/52:54:00:00:00:11" -X DELETE -H "$TOK"

# A stale record (its role gone from the inventory) is skipped, not fatal.
sed 's/  cpu = { kernel = "9pc64"; plan9ini = { service = "cpu"; bootargs = "tcp"; }; };//; s/role = "cpu";/role = "terminal";/' "$CFG" >"$T_TMP/nocpu.cfg"
check "gridbootd check accepts an inventory whose assignment lost its role" \
	"$GRIDBOOTD" check -c "$T_TMP/nocpu.cfg"

# Shutting down with an event stream open (a suspended connection) is clean.
curl -sN "$A/events" >/dev/null 2>&1 &
track_pid $!
sleep 0.3
check "gridbootd exits cleanly with an event stream open" stop_gridbootd
t_done
