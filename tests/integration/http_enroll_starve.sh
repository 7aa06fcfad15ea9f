#!/bin/sh
# limit: 90
# Enroll cannot be starved by hosts that hold no lease (issue 21, fault
# 7). Sources in 60 IPv6 /64s, each under its own enroll limit, post
# enrolls for a MAC that is not theirs as fast as they can: each gets 403
# (no lease), or 429 from its own source bucket, but none of them spends
# the shared bucket, which only enrolls that pass the lease check use.
# Meanwhile the real machine (its reservation's address) enrolls five
# times, as the discovery image tries, and must get 200 every time; before
# the fix the shared bucket was charged first and it got 429.
. "$GRIDBOOT_TOP/tests/lib.sh"

NS=gbes$$
ns_add $NS || { not_ok "ip netns add"; t_done; exit 1; }
nsx() { ip netns exec $NS "$@"; }
ip -n $NS link set lo up
ip -n $NS addr add 10.9.70.1/24 dev lo
ip -n $NS addr add 10.9.70.11/24 dev lo
ip -n $NS -6 addr add fd70::1/64 dev lo nodad
i=1
while [ $i -le 60 ]; do
	ip -n $NS -6 addr add fd70:$(printf %x $i)::1/128 dev lo nodad
	i=$((i + 1))
done
mkdir -p "$T_TMP/files" "$T_TMP/state"
cat >"$T_TMP/grid.cfg" <<EOF2
grid = { name = "t"; server = "10.9.70.1"; files = "$T_TMP/files"; state = "$T_TMP/state"; };
networks = ( { subnet = "10.9.70.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:70:11"; ip = "10.9.70.11"; role = "cpu"; } );
EOF2
ip netns exec $NS "$GRIDBOOTD" serve -c "$T_TMP/grid.cfg" -d -l debug >>"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
wait_for 10 gb_serving "$T_TMP/gridbootd.log" || { not_ok "daemon up"; cat "$T_TMP/gridbootd.log"; t_done; exit 1; }
metric() { nsx curl -fsS http://10.9.70.1/metrics | sed -n "s/^$1 //p"; }

# The crowd: 60 /64s round robin for 8 s, a new connection per enroll.
nsx python3 - >"$T_TMP/crowd.out" 2>&1 <<'PY' &
import http.client, time, collections
codes = collections.Counter()
start = time.time()
i = 0
while time.time() - start < 8:
    src = "fd70:%x::1" % (i % 60 + 1)
    i += 1
    try:
        c = http.client.HTTPConnection("fd70::1", 80, timeout=3, source_address=(src, 0))
        c.request("POST", "/api/v1/enroll", body='{"mac":"52:54:00:00:70:99","cpu":"x"}',
                  headers={"Content-Type": "application/json"})
        codes[c.getresponse().status] += 1
        c.close()
    except OSError:
        codes["err"] += 1
print("crowd", " ".join("%s=%d" % kv for kv in sorted(codes.items(), key=str)), flush=True)
PY
CROWD=$!
track_pid $CROWD
sleep 2
: >"$T_TMP/holder.codes"
k=0
while [ $k -lt 5 ]; do
	nsx curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 --interface 10.9.70.11 \
	    -X POST -H 'Content-Type: application/json' -d '{"mac":"52:54:00:00:70:11","cpu":"real"}' \
	    http://10.9.70.1/api/v1/enroll >>"$T_TMP/holder.codes"
	sleep 0.5
	k=$((k + 1))
done
wait $CROWD
diag "$(cat "$T_TMP/crowd.out")"
diag "the lease holder got: $(tr '\n' ' ' <"$T_TMP/holder.codes")"
check "the crowd got 403 for the MAC it does not hold" grep -q "403=" "$T_TMP/crowd.out"
n200=$(grep -c '^200$' "$T_TMP/holder.codes")
check "the real lease holder's five enrolls were all stored during the flood ($n200 of 5 got 200)" \
	[ "$n200" -eq 5 ]
check "none of them got 429" sh -c "! grep -q '^429$' '$T_TMP/holder.codes'"
ref=$(metric gridboot_http_enroll_refused_total)
check "gridboot_http_enroll_refused_total counted the crowd (${ref:-none})" [ "${ref:-0}" -ge 100 ]
check "the daemon stops cleanly" stop_gridbootd
t_done
