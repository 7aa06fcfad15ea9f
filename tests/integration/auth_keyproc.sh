#!/bin/sh
# limit: 180
# The key process (server/auth/keyproc.c): after a real drawterm login
# (AuthPAK, tickets, rcpu) the network process's memory holds none of the
# known keys (glenda's and the host owner's AES and DES keys, keyseed),
# while a search of the key process's memory finds them (so the search
# works); the key process is confined (grid.user, no capabilities,
# no_new_privs, seccomp filter, no socket but its two pairs); a reload
# re-reads the key file in it; killing it stops the daemon with exit 1 and
# a log line; stopping or killing the daemon takes the key process with it.
. "$GRIDBOOT_TOP/tests/lib.sh"

if ! command -v drawterm >/dev/null; then
	not_ok "drawterm-9front is not installed (sh tests/install-deps.sh auth)"
	t_done
	exit 1
fi
G="$GRIDBOOTD"
MF="$GRIDBOOT_TOP/tests/tools/memfind.py"
NS="gbkp$$"
D="$T_TMP"
chmod 755 "$D"
ip netns add "$NS" || { not_ok "ip netns add"; t_done; exit 1; }
on_cleanup "ip netns del $NS 2>/dev/null"
ip -n "$NS" link set lo up
ip -n "$NS" addr add 10.9.5.1/24 dev lo

mkdir -p "$D/files" "$D/state"
cat >"$D/grid.cfg" <<EOF2
grid = { name = "grid"; server = "10.9.5.1"; files = "files"; state = "state"; auth_des = true;
         user = "nobody"; };
networks = ( { subnet = "10.9.5.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:05:11"; ip = "10.9.5.11"; role = "cpu"; } );
EOF2
chmod 644 "$D/grid.cfg"
echo gridboot-test | "$G" passwd -c "$D/grid.cfg" glenda >/dev/null 2>&1
echo bootes-pw | "$G" passwd -c "$D/grid.cfg" bootes >/dev/null 2>&1

start() {
	: >"$D/gridbootd.log"
	ip netns exec "$NS" "$G" serve -c "$D/grid.cfg" -d -l debug >>"$D/gridbootd.log" 2>&1 &
	GB_PID=$!
	track_pid $GB_PID
	wait_for 10 grep -q "auth: auth server on port 567" "$D/gridbootd.log"
	KP_PID=$(sed -n 's/.*auth: key process \([0-9]*\) holds the key file.*/\1/p' "$D/gridbootd.log" | tail -1)
	[ -n "$KP_PID" ] && track_pid "$KP_PID"
}
start
check "the daemon serves and names its key process ($KP_PID)" \
    sh -c "[ -n '$KP_PID' ] && grep -q 'auth: auth server on port 567' '$D/gridbootd.log'"
check "the key process is the daemon's child" \
    [ "$(awk '/^PPid:/ { print $2 }' /proc/$KP_PID/status 2>/dev/null)" = "$GB_PID" ]

# a real login: AuthPAK for glenda and bootes, tickets, rcpu's server half
PASS=gridboot-test timeout 30 ip netns exec "$NS" drawterm -G -s 'tcp!10.9.5.1!1' \
    -a 'tcp!10.9.5.1!567' -h 'tcp!10.9.5.1!17019' -u glenda -c 'echo hi' >"$D/dt.out" 2>&1
check "drawterm logs in through the key process" grep -q "cpu1 52:54:00:00:05:11" "$D/dt.out"

# the keys, as the key file and keyseed hold them
key() { sed -n "s/^$1 .*$2=\([0-9a-f]*\).*/\1/p" "$D/state/keys"; }
GA=$(key glenda aes) GD=$(key glenda des) BA=$(key bootes aes) BD=$(key bootes des)
SEED=$(od -An -tx1 -v "$D/state/keyseed" | tr -d ' \n')
if [ ${#GA} -eq 32 ] && [ ${#GD} -eq 14 ] && [ ${#BA} -eq 32 ] && [ ${#BD} -eq 14 ] &&
    [ ${#SEED} -eq 64 ]; then
	ok "the known keys are read from the key file and keyseed"
else
	not_ok "the known keys are read from the key file and keyseed ('$GA' '$GD' '$BA' '$BD' '$SEED')"
fi
python3 "$MF" "$GB_PID" "$GA" "$GD" "$BA" "$BD" "$SEED" >"$D/net.hits" 2>"$D/net.err"
python3 "$MF" "$KP_PID" "$GA" "$GD" "$BA" "$BD" "$SEED" >"$D/key.hits" 2>"$D/key.err"
sed 's/^/# network: /' "$D/net.hits" "$D/net.err"
sed 's/^/# key process: /' "$D/key.hits" "$D/key.err"
hits() { awk -v h="$2" '$1 == h { print $2 }' "$D/$1.hits"; }
check "the search works: the key process's memory holds glenda's AES key" [ "$(hits key "$GA")" -gt 0 ]
check "and keyseed" [ "$(hits key "$SEED")" -gt 0 ]
check "and the host owner's AES key" [ "$(hits key "$BA")" -gt 0 ]
check "the network process's memory holds no AES key of glenda's" [ "$(hits net "$GA")" = 0 ]
check "nor her DES key" [ "$(hits net "$GD")" = 0 ]
check "nor the host owner's AES or DES key" sh -c "[ '$(hits net "$BA")' = 0 ] && [ '$(hits net "$BD")' = 0 ]"
check "nor keyseed" [ "$(hits net "$SEED")" = 0 ]

st() { awk -v k="$2:" '$1 == k { print $2 }' /proc/$1/status; }
check "the key process runs as nobody" [ "$(st $KP_PID Uid)" = 65534 ]
check "with no capabilities (CapEff, CapPrm 0)" \
    sh -c "[ '$(st $KP_PID CapEff)' = 0000000000000000 ] && [ '$(st $KP_PID CapPrm)' = 0000000000000000 ]"
check "no_new_privs and a seccomp filter" \
    sh -c "[ '$(st $KP_PID NoNewPrivs)' = 1 ] && [ '$(st $KP_PID Seccomp)' = 2 ]"
nsock=$(ls -l /proc/$KP_PID/fd 2>/dev/null | grep -c 'socket:')
nfd=$(ls /proc/$KP_PID/fd 2>/dev/null | wc -l)
check "its only sockets are its two pairs ($nsock sockets, $nfd descriptors)" \
    sh -c "[ $nsock = 2 ] && [ $nfd -le 5 ]"

# a reload: the key process re-reads the key file (as nobody, filtered)
echo adm-password | "$G" passwd -c "$D/grid.cfg" adm >/dev/null 2>&1
kill -HUP "$GB_PID"
check "a reload re-reads the key file in the key process (3 users)" \
    wait_for 10 grep -q "auth: key file $D/state/keys: 3 user(s)" "$D/gridbootd.log"
check "the key process survived its reload" kill -0 "$KP_PID"

# killing the key process stops the daemon, exit 1, with the reason logged
kill -KILL "$KP_PID"
i=0
while kill -0 "$GB_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$GB_PID"
rc=$?
check "killing the key process stops the daemon with exit 1 ($rc)" [ "$rc" = 1 ]
check "and logs why" grep -q "auth: the key process killed by signal 9 .*: stopping the daemon" "$D/gridbootd.log"

# stopping the daemon takes the key process with it
start
check "restarted" [ -n "$KP_PID" ]
stop_gridbootd
rc=$?
i=0
while kill -0 "$KP_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "a stopped daemon exits 0 ($rc) and its key process is gone" \
    sh -c "[ $rc = 0 ] && ! kill -0 $KP_PID 2>/dev/null"
# a crash of the network process takes the key process with it (PDEATHSIG)
start
check "restarted again" [ -n "$KP_PID" ]
kill -KILL "$GB_PID"
wait "$GB_PID" 2>/dev/null
i=0
while kill -0 "$KP_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "SIGKILL to the daemon: its key process is gone too" sh -c "! kill -0 $KP_PID 2>/dev/null"
grep -E "error|refused" "$D/gridbootd.log" | sed 's/^/# log: /'
t_done
