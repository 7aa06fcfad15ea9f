#!/bin/sh
# limit: 120
# Files root touches in the state directory, which grid.user owns (issue
# 21, fault 2). The daemon's user can plant anything there, so root opens
# each state file by descriptor: never through a symbolic link, never a
# FIFO or other non-regular file, never a file with a second link or a
# stranger's owner, and chowns by descriptor, never by path.
#  - gridbootd passwd, run as root, waits for the password; meanwhile
#    nobody swaps keyseed for a symbolic link to a root-only file: the
#    file stays root's and passwd says why it refused keyseed.
#  - start-up with assignments.json a link to a root-only file: refused,
#    its contents never reach the log; discovered.json a FIFO: start-up
#    does not hang, SIGTERM still stops the daemon; dhcp.leases a link:
#    refused with the reason.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

G="$GRIDBOOTD"
S=gbsfS$$ SI=gbsf$$ CI=gbsfc$$ C=gbsfC$$
dhcp_ns $S $C || { not_ok "namespaces"; t_done; exit 1; }
dhcp_link $S $SI $C $CI
ip -n $S addr add 10.94.0.1/24 dev $SI
chmod 755 "$T_TMP"
mkdir -p "$T_TMP/files" "$T_TMP/state"
chown nobody: "$T_TMP/state"
cat >"$T_TMP/grid.cfg" <<EOF
grid = { name = "t"; server = "10.94.0.1"; files = "$T_TMP/files"; state = "$T_TMP/state";
  keys = "$T_TMP/state/keys"; http_port = 8080; user = "nobody"; };
networks = ( { subnet = "10.94.0.0/24"; router = "10.94.0.1"; pool = "10.94.0.100-10.94.0.150"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
EOF
chmod 644 "$T_TMP/grid.cfg"
asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "$*"; }

# ---- passwd: keyseed swapped for a link while the password is awaited ----
echo password1 | "$G" passwd -c "$T_TMP/grid.cfg" glenda >"$T_TMP/pw1.out" 2>&1
check "a first passwd as root makes the key file and keyseed, given to the directory's owner" \
	sh -c "[ \"\$(stat -c %U '$T_TMP/state/keyseed')\" = nobody ] && [ \"\$(stat -c %U '$T_TMP/state/keys')\" = nobody ]"
echo "root only" >"$T_TMP/rootonly"
chmod 600 "$T_TMP/rootonly"
mkfifo "$T_TMP/pwin"
"$G" passwd -c "$T_TMP/grid.cfg" glenda <"$T_TMP/pwin" >"$T_TMP/pw2.out" 2>&1 &
PW=$!
track_pid $PW
exec 7>"$T_TMP/pwin"
# passwd has read keyseed once it waits on stdin (its wait channel is the pipe).
wait_for 10 sh -c "grep -q pipe_read /proc/$PW/wchan" || sleep 2
asnobody "rm -f '$T_TMP/state/keyseed' && ln -s '$T_TMP/rootonly' '$T_TMP/state/keyseed'"
check "nobody planted the link" [ -L "$T_TMP/state/keyseed" ]
echo password2 >&7
exec 7>&-
wait $PW
check "the root-only file behind the planted keyseed link is still root's ($(stat -c %U "$T_TMP/rootonly"))" \
	[ "$(stat -c %U "$T_TMP/rootonly")" = root ]
check "passwd says it refused keyseed as a symbolic link" \
	grep -q "keyseed: a symbolic link" "$T_TMP/pw2.out"
diag "$(cat "$T_TMP/pw2.out")"
rm -f "$T_TMP/state/keyseed"

# ---- start-up: a link at assignments.json, a FIFO at discovered.json ----
echo "TOPSECRET-$$ not json" >"$T_TMP/rootonly2"
chmod 600 "$T_TMP/rootonly2"
asnobody "ln -s '$T_TMP/rootonly2' '$T_TMP/state/assignments.json' && mkfifo '$T_TMP/state/discovered.json'"
ip netns exec $S "$G" serve -c "$T_TMP/grid.cfg" -d -l debug >>"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "start-up completes with a FIFO at discovered.json" wait_for 10 gb_serving "$T_TMP/gridbootd.log"
check "the contents of the root-only file never reach the log" \
	sh -c "! grep -q TOPSECRET '$T_TMP/gridbootd.log'"
check "assignments.json as a link is refused, saying why" \
	grep -q "assignments.json: a symbolic link" "$T_TMP/gridbootd.log"
check "discovered.json as a FIFO is refused, saying why" \
	grep -q "discovered.json: not a regular file" "$T_TMP/gridbootd.log"
kill -TERM $GB_PID 2>/dev/null
i=0
while kill -0 $GB_PID 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "SIGTERM stops it within 5 s (start-up never hung on the FIFO)" sh -c "! kill -0 $GB_PID 2>/dev/null"
check "root's file is still root's" [ "$(stat -c %U "$T_TMP/rootonly2")" = root ]

# ---- a link at the lease journal: the DHCP module refuses to start ----
asnobody "rm -f '$T_TMP/state/dhcp.leases' && ln -s '$T_TMP/rootonly2' '$T_TMP/state/dhcp.leases'"
ip netns exec $S "$G" serve -c "$T_TMP/grid.cfg" -d -l debug >"$T_TMP/gb2.log" 2>&1 &
GB2=$!
track_pid $GB2
wait_for 10 sh -c "! kill -0 $GB2"
check "dhcp.leases as a link is refused, saying why" \
	grep -q "dhcp: .*dhcp.leases: a symbolic link" "$T_TMP/gb2.log"
check "and the daemon does not serve on it" sh -c "! grep -q 'serving ' '$T_TMP/gb2.log'"
check "root's file is still root's after that start" [ "$(stat -c %U "$T_TMP/rootonly2")" = root ]
[ $T_FAILED -eq 0 ] || sed 's/^/# log: /' "$T_TMP/gridbootd.log" | tail -30
t_done
