#!/bin/sh
# limit: 240
# 9P memory is bounded per session and in total (issue 21, fault 4). The
# attack on fb6bba1: fids that each open and read a 3 000-entry directory
# keep a listing each (400 of them grew the daemon's RSS from 15 to
# 228 MB), and Tauth after Tauth builds an exchange each (4 000 cost 8 MB).
# Now the listings and generated texts a session's fids hold are charged
# to a budget of 32 MiB a session ("out of 9P memory for this session
# (limit 32 MiB)") and 128 MiB for all ("out of 9P memory on this server
# (limit 128 MiB)"), shown as gridboot_9p_bytes_held; a session has at most
# two afids ("too many authentication fids in this session (9P limit 2)").
# Fids that start reading the same unchanged directory within a second
# share one listing, so the daemon's RSS stays near where it was (each
# fid is still charged the listing's bytes).
. "${GRIDBOOT_TOP:-.}/tests/lib.sh"

P9C=${P9C:-$(dirname "$GRIDBOOTD")/tools/p9c}
NS=gbp9m$$
D=$T_TMP
ns_add $NS || { not_ok "network namespace"; t_done; exit 1; }
ip -n $NS link set lo up
X=$D/export
mkdir -p "$X/big" "$D/state" "$D/files"
i=0
while [ $i -lt 3000 ]; do : >"$X/big/file-$i"; i=$((i + 1)); done
cat >"$D/grid.cfg" <<EOC
grid = { name = "t"; authdom = "grid"; authid = "bootes"; server = "127.0.0.1";
         files = "$D/files"; state = "$D/state";
         http_port = 18386; tftp_port = 16986; dhcp_port = 16786; proxy_port = 14086;
         p9_port = 15645; p9_auth = true; auth_port = 15569; rcpu_port = 15021;
         api_token = "tok-0123456789abcdef"; };
networks = ( { subnet = "10.9.0.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.9.0.11"; role = "cpu"; } );
exports = ( { path = "$X"; } );
EOC
echo bootes-pw | "$GRIDBOOTD" passwd -c "$D/grid.cfg" bootes >/dev/null 2>&1
echo gridboot-test | "$GRIDBOOTD" passwd -c "$D/grid.cfg" glenda >/dev/null 2>&1
printf 'gridboot-test\n' >"$D/glenda.pw"
ip netns exec $NS "$GRIDBOOTD" serve -c "$D/grid.cfg" -d -l debug >"$D/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd serves 9P" wait_for 10 grep -q "9p: listening on tcp port 15645" "$D/gridbootd.log"
check "and the auth server" wait_for 10 grep -q "auth: auth server on port 15569" "$D/gridbootd.log"

A="-A 127.0.0.1:15569 -P $D/glenda.pw -u glenda"
metric() {
	ip netns exec $NS curl -s -m 5 http://127.0.0.1:18386/metrics |
	    awk -v n="$1" '$1 == n { print $2 }'
}
held_is() { [ "$(metric gridboot_9p_bytes_held)" = "$1" ]; }
rss_mb() { awk '/^VmRSS/ { print int($2 / 1024) }' /proc/$GB_PID/status; }
all_held() { [ "$(cat "$D"/$1*.out 2>/dev/null | grep -c '^held ')" -ge "$2" ]; }
MIB=1048576
rss0=$(rss_mb)
mkfifo "$D/hold.in"

# (1) one session: 400 fids open and read big/ (3 000 entries)
exec 7<>"$D/hold.in"
ip netns exec $NS "$P9C" $A -n 400 127.0.0.1 15645 hold big <"$D/hold.in" >"$D/one.out" 2>&1 7>&- &
track_pid $!
wait_for 120 all_held one 1
sed 's/^/# /' "$D/one.out"
held=$(metric gridboot_9p_bytes_held)
diag "bytes held: $held; RSS $rss0 -> $(rss_mb) MB"
check "(1) a session's listings stop at 32 MiB: 'out of 9P memory for this session (limit 32 MiB)'" \
    grep -q '^p9c: refused after [0-9]*: out of 9P memory for this session (limit 32 MiB)$' "$D/one.out"
check "(1) gridboot_9p_bytes_held is within 32 MiB ($held)" \
    sh -c "[ -n '$held' ] && [ '$held' -gt 0 ] && [ '$held' -le $((32 * MIB)) ]"
rss1=$(rss_mb)
check "(1) the fids share one listing: RSS grew by less than 40 MB ($rss0 -> $rss1 MB; 562 on fb6bba1)" \
    [ $((rss1 - rss0)) -lt 40 ]
exec 7>&-
check "(1) and given back when the session ends" wait_for 30 held_is 0

# (2) ten sessions, 40 fids each: 10 x 32 MiB would pass the 128 MiB total
exec 7<>"$D/hold.in"
for i in 0 1 2 3 4 5 6 7 8 9; do
	ip netns exec $NS "$P9C" $A -n 40 127.0.0.1 15645 hold big <"$D/hold.in" >"$D/ten$i.out" 2>&1 7>&- &
	track_pid $!
	# one at a time: the auth server takes 8 connections an address
	wait_for 30 grep -q '^held\|error' "$D/ten$i.out"
done
grep -h '^p9c: refused\|^held' "$D"/ten*.out | sort | uniq -c | sed 's/^/# /'
held=$(metric gridboot_9p_bytes_held)
diag "bytes held: $held; RSS $rss0 -> $(rss_mb) MB"
check "(2) all sessions together stop at 128 MiB: 'out of 9P memory on this server (limit 128 MiB)'" \
    grep -q 'out of 9P memory on this server (limit 128 MiB)' "$D"/ten*.out
check "(2) gridboot_9p_bytes_held is within 128 MiB ($held)" \
    sh -c "[ -n '$held' ] && [ '$held' -le $((128 * MIB)) ]"
rss2=$(rss_mb)
check "(2) RSS grew by less than 160 MB ($rss0 -> $rss2 MB)" [ $((rss2 - rss0)) -lt 160 ]
check "(2) a new session still lists a small directory" sh -c \
    "timeout 20 ip netns exec $NS '$P9C' $A 127.0.0.1 15645 ls '' | grep -qx big"
exec 7>&-
check "(2) every byte is given back when the sessions end" wait_for 30 held_is 0

# (3) Tauth after Tauth on one connection, never attaching
exec 7<>"$D/hold.in"
ip netns exec $NS "$P9C" -n 4000 -u glenda 127.0.0.1 15645 auths <"$D/hold.in" >"$D/auths.out" 2>&1 7>&- &
track_pid $!
wait_for 60 grep -q '^authed' "$D/auths.out"
sed 's/^/# /' "$D/auths.out"
check "(3) the third Tauth of a session is refused: 'too many authentication fids in this session (9P limit 2)'" \
    grep -qx 'p9c: refused after 2: too many authentication fids in this session (9P limit 2)' "$D/auths.out"

# Stopped while that session still holds its two afids: p9 must close its
# sessions (and their key-process exchanges) before auth stops the key
# process (a heap-use-after-free in kc_close when auth went first).
kill -TERM $GB_PID
wait $GB_PID
check "gridbootd stops with afids open and exits cleanly (sanitizers saw nothing)" [ $? -eq 0 ]
exec 7>&-
[ "$T_FAILED" -gt 0 ] && tail -n 30 "$D/gridbootd.log" | sed 's/^/#   /'
t_done
