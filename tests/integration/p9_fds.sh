#!/bin/sh
# limit: 240
# 9P cannot take the daemon's descriptors (issue 21, fault 1). The attack:
# five connections each open one read-only file 4 095 times and keep the
# fids open; before the fix each open fid kept a descriptor of its own,
# 20 475 in all, past RLIMIT_NOFILE (20 000 here), and HTTP, new 9P
# connections and accept() starved. Now: a session may hold 512 open fids
# ("too many open files in this session (9P limit 512)"), fids that open
# the same file share one descriptor, and every export together holds at
# most FD_9P_FILES (2 048) distinct open files ("too many files open on
# this server (9P limit 2048)"); HTTP and a new 9P attach keep working
# through both floods, and accept() never pauses.
. "${GRIDBOOT_TOP:-.}/tests/lib.sh"

P9C=${P9C:-$(dirname "$GRIDBOOTD")/tools/p9c}
NS=gbp9f$$
D=$T_TMP
ns_add $NS || { not_ok "network namespace"; t_done; exit 1; }
ip -n $NS link set lo up
X=$D/export
mkdir -p "$X/many" "$D/state" "$D/files"
echo "read only" >"$X/ro.txt"
for d in a b c d e; do
	mkdir "$X/many/$d"
	i=0
	while [ $i -lt 500 ]; do : >"$X/many/$d/f$i"; i=$((i + 1)); done
done
cat >"$D/grid.cfg" <<EOC
grid = { name = "t"; server = "127.0.0.1"; files = "$D/files"; state = "$D/state";
         http_port = 18384; tftp_port = 16984; dhcp_port = 16784; proxy_port = 14084;
         p9_port = 15643; api_token = "tok-0123456789abcdef"; };
networks = ( { subnet = "10.9.0.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.9.0.11"; role = "cpu"; } );
exports = ( { path = "$X"; } );
EOC
ulimit -n 20000 2>/dev/null
ip netns exec $NS "$GRIDBOOTD" serve -c "$D/grid.cfg" -d -l debug >"$D/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd serves 9P" wait_for 10 grep -q "9p: listening on tcp port 15643" "$D/gridbootd.log"

metric() {	# NAME: its value from /metrics, empty when HTTP does not answer
	ip netns exec $NS curl -s -m 5 http://127.0.0.1:18384/metrics |
	    awk -v n="$1" '$1 == n { print $2 }'
}
open_files_is() { [ "$(metric gridboot_9p_open_files)" = "$1" ]; }
nfds() { ls /proc/$GB_PID/fd | wc -l; }
http_ok() { [ "$(ip netns exec $NS curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:18384/metrics)" = 200 ]; }
new_attach() { timeout 10 ip netns exec $NS "$P9C" -n 1 127.0.0.1 15643 stat ro.txt 2>/dev/null; }
all_held() {	# PREFIX COUNT: every holder printed "held N"
	[ "$(cat "$D"/$1*.out 2>/dev/null | grep -c '^held ')" -ge "$2" ]
}
base=$(nfds)
diag "descriptors before: $base"

# (1) five connections open ro.txt 4 095 times each and hold the fids
mkfifo "$D/hold.in"
exec 7<>"$D/hold.in"
for i in 1 2 3 4 5; do
	ip netns exec $NS "$P9C" -n 4095 127.0.0.1 15643 hold ro.txt <"$D/hold.in" >"$D/one$i.out" 2>&1 7>&- &
	track_pid $!
done
wait_for 150 all_held one 5
cat "$D"/one*.out | sed 's/^/# /' | sort | uniq -c | sed 's/^/# /'
check "(1) each connection's 513th open is refused: 'too many open files in this session (9P limit 512)'" \
    sh -c "[ \$(grep -lx 'p9c: refused after 512: too many open files in this session (9P limit 512)' '$D'/one*.out | wc -l) = 5 ]"
n=$(nfds)
diag "descriptors while 2 560 fids are open on ro.txt: $n"
check "(1) the 2 560 open fids of one file share one descriptor (daemon holds $n, was $base)" \
    [ "$n" -le $((base + 10)) ]
check "(1) gridboot_9p_open_files is 1" [ "$(metric gridboot_9p_open_files)" = 1 ]
check "(1) HTTP still answers" http_ok
check "(1) a new 9P connection attaches and stats a file" new_attach
check "(1) and reads ro.txt (its descriptor is shared)" sh -c \
    "timeout 10 ip netns exec $NS '$P9C' 127.0.0.1 15643 cat ro.txt | grep -qx 'read only'"
exec 7>&-
check "(1) the holders end when let go" wait_for 30 open_files_is 0

# (2) five connections open 500 distinct files each: 2 500 > 2 048
exec 7<>"$D/hold.in"
for d in a b c d e; do
	ip netns exec $NS "$P9C" -n 500 127.0.0.1 15643 hold "many/$d/f%d" <"$D/hold.in" >"$D/many$d.out" 2>&1 7>&- &
	track_pid $!
done
wait_for 150 all_held many 5
held=$(cat "$D"/many*.out | sed -n 's/^held //p' | awk '{ s += $1 } END { print s }')
diag "distinct files held: $held; gauge $(metric gridboot_9p_open_files); descriptors $(nfds)"
grep -h '^p9c: refused' "$D"/many*.out | sort | uniq -c | sed 's/^/# /'
check "(2) past 2 048 distinct open files: 'too many files open on this server (9P limit 2048)'" \
    sh -c "grep -q 'too many files open on this server (9P limit 2048)' '$D'/many*.out && [ '$held' = 2048 ]"
check "(2) gridboot_9p_open_files is 2048" [ "$(metric gridboot_9p_open_files)" = 2048 ]
check "(2) the daemon holds no more than that and its own ($(nfds))" [ "$(nfds)" -le $((base + 2048 + 20)) ]
check "(2) HTTP still answers" http_ok
check "(2) a new 9P connection attaches and stats a file" new_attach
check "(2) accept() never paused" [ "$(metric 'gridboot_conn_accept_paused_total{listener="9p"}')" = 0 ]
exec 7>&-
check "(2) every descriptor is given back when the fids go" wait_for 30 open_files_is 0

kill -TERM $GB_PID
wait $GB_PID
check "gridbootd exits cleanly (sanitizers saw nothing)" [ $? -eq 0 ]
[ "$T_FAILED" -gt 0 ] && tail -n 30 "$D/gridbootd.log" | sed 's/^/#   /'
t_done
