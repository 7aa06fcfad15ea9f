#!/bin/sh
# limit: 180
# The 9P server over TCP with the real daemon and the project's own client
# (tests/tools/p9c) in a network namespace: both dialects list, read (a
# checksum), write where the export allows and are refused where not; the
# grid tree's files and a role change the API then shows; a generated ndb
# over the export; malformed input (oversized, unknown type, 17 names, bad
# strings, unknown version, fid misuse, a frame below the header) gets an
# Rerror or a close and the daemon serves on; a client that never reads is
# cut; a blocked events read is answered by the next event and a flushed
# one never is.
. "${GRIDBOOT_TOP:-.}/tests/lib.sh"

P9C=${P9C:-$(dirname "$GRIDBOOTD")/tools/p9c}
NS=gbp9b$$
ns_add $NS || { not_ok "network namespace"; t_done; exit 1; }
X=$T_TMP/export
mkdir -p "$X/tmp" "$X/lib/ndb" "$T_TMP/state" "$T_TMP/files"
echo "read only" >"$X/ro.txt"
echo "hand-edited" >"$X/lib/ndb/local"
head -c 3000000 /dev/urandom >"$X/big"
ln -s /etc/passwd "$X/escape"
cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "127.0.0.1"; files = "$T_TMP/files"; state = "$T_TMP/state";
         http_port = 18382; tftp_port = 16982; dhcp_port = 16782; proxy_port = 14082;
         p9_port = 15641; api_token = "tok-0123456789abcdef"; p9_grid_open = true; };
networks = ( { subnet = "10.9.0.0/24"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; term = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.9.0.11"; role = "cpu"; } );
exports = ( { path = "$X"; writable = [ "tmp" ];
              generated = ( { path = "lib/ndb/local"; file = "ndb"; } ); } );
EOC
ip netns exec $NS "$GRIDBOOTD" serve -c "$T_TMP/grid.cfg" -d -l debug >"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd serves 9P" wait_for 10 grep -q "9p: listening on tcp port 15641" "$T_TMP/gridbootd.log"
p9() { ip netns exec $NS "$P9C" "$@"; }
SUM=$(sha256sum "$X/big" | cut -d' ' -f1)

for dl in "" -L; do
	v=${dl:+9P2000.L}; v=${v:-9P2000}
	check "$v: lists the export" sh -c "[ \"\$(ip netns exec $NS $P9C $dl 127.0.0.1 15641 ls '' | tr '\n' ' ')\" = 'big lib ro.txt tmp ' ]"
	check "$v: the 3 MB file's sha256" sh -c "ip netns exec $NS $P9C $dl 127.0.0.1 15641 cat big | sha256sum | grep -q $SUM"
	check "$v: writes in tmp/" sh -c "echo hi-$v | ip netns exec $NS $P9C $dl 127.0.0.1 15641 put tmp/f && grep -qx hi-$v '$X/tmp/f'"
	out=$(echo no | p9 $dl 127.0.0.1 15641 put nope 2>&1)
	check "$v: refused outside tmp/ ($out)" sh -c "[ ! -e '$X/nope' ] && echo '$out' | grep -q 'permission denied\|Permission denied'"
	check "$v: ro.txt unchanged by a refused write" sh -c "! echo x | ip netns exec $NS $P9C $dl 127.0.0.1 15641 put ro.txt 2>/dev/null; grep -qx 'read only' '$X/ro.txt'"
	out=$(p9 $dl 127.0.0.1 15641 cat escape 2>&1)
	check "$v: a symlink out of the export is refused ($out)" sh -c "! echo '$out' | grep -q root:"
	check "$v: lib/ndb/local is the grid's ndb" sh -c "ip netns exec $NS $P9C $dl 127.0.0.1 15641 cat lib/ndb/local | grep -q 'sys=cpu1 ether=525400000011 ip=10.9.0.11'"
	check "$v: the grid tree lists cpu1" sh -c "ip netns exec $NS $P9C $dl -a grid 127.0.0.1 15641 ls machines | grep -qx cpu1"
done
"$GRIDBOOTD" plan9ini -c "$T_TMP/grid.cfg" cpu1 >"$T_TMP/p9ini"
check "grid: plan9.ini as gridbootd plan9ini prints it" sh -c \
    "ip netns exec $NS $P9C -a grid 127.0.0.1 15641 cat machines/cpu1/plan9.ini | cmp -s - '$T_TMP/p9ini' && [ -s '$T_TMP/p9ini' ]"
out=$(echo cpuu | p9 -a grid 127.0.0.1 15641 put machines/cpu1/role 2>&1)
check "grid: an unknown role is refused, saying which exist ($out)" sh -c "echo '$out' | grep -q 'no role \"cpuu\"; roles: cpu term'"
check "grid: write a role" sh -c "echo term | ip netns exec $NS $P9C -a grid 127.0.0.1 15641 put machines/cpu1/role"
role=$(ip netns exec $NS curl -s http://127.0.0.1:18382/api/v1/machines/cpu1 | jq -r .role)
check "grid: the API shows it (role $role)" [ "$role" = term ]
check "grid: the role file reads it back" sh -c "[ \"\$(ip netns exec $NS $P9C -a grid 127.0.0.1 15641 cat machines/cpu1/role)\" = term ]"
check "grid: stored like an API change" grep -q '"term"' "$T_TMP/state/assignments.json"

# --- malformed input ------------------------------------------------------
raw() {	# kind: the replies, one a line
	python3 "$GRIDBOOT_TOP/tests/tools/p9frames.py" write "$1" "$T_TMP/$1.bin"
	p9 127.0.0.1 15641 rawfile "$T_TMP/$1.bin" 2>&1
}
out=$(raw oversized)
check "a frame over msize closes the connection ($(echo $out))" sh -c "echo '$out' | grep -q '^closed'"
out=$(raw unknowntype)
check "an unknown type gets an Rerror ($(echo $out))" sh -c "echo '$out' | grep -q 'Rerror tag 5'"
out=$(raw walk17)
check "17 walk names get an Rerror ($(echo $out))" sh -c "echo '$out' | grep -q 'Rerror tag 7'"
out=$(raw badstring)
check "a string past the frame's end gets an Rerror ($(echo $out))" sh -c "echo '$out' | grep -q 'Rerror tag 6'"
out=$(raw badversion)
check "an unknown version is answered 'unknown' ($(echo $out))" sh -c "echo '$out' | grep -q 'Rversion [0-9]* unknown'"
out=$(raw fids)
check "a duplicate fid and a clunked fid get Rerrors ($(echo $out))" sh -c \
    "echo '$out' | grep -q 'Rerror tag 2' && echo '$out' | grep -q 'Rerror tag 4'"
out=$(raw tiny)
check "a frame below the header closes ($(echo $out))" sh -c "echo '$out' | grep -q '^closed'"
check "the daemon still serves after all that" sh -c "ip netns exec $NS $P9C 127.0.0.1 15641 cat ro.txt | grep -qx 'read only'"
check "4 clients at once, 3 000 walk+open+clunk each: every one answered" sh -c \
    "ip netns exec $NS $P9C -n 3000 -c 4 127.0.0.1 15641 walkopen ro.txt 2>&1 | grep -q 'walkopen 12000'"

# --- blocked reads ----------------------------------------------------------
ev() {	# out [flush]: a blocked events read (flushed), then a SIGHUP's event
	ip netns exec $NS python3 "$GRIDBOOT_TOP/tests/tools/p9frames.py" events 127.0.0.1 15641 \
	    ${2:-} >"$T_TMP/$1" 2>&1 &
	evpid=$!
	wait_for 5 grep -q "^R${3:-113} " "$T_TMP/$1"
	kill -HUP $GB_PID
	wait $evpid
	sed "s/^/# $1: /" "$T_TMP/$1"
}
ev events.out
check "a blocked events read is answered by the next event" grep -q "^Rread tag 10: .*inventory reloaded" "$T_TMP/events.out"
ev flushed.out flush 109
check "a flushed read gets Rflush" grep -q "^R109 tag 11" "$T_TMP/flushed.out"
check "and never its Rread" sh -c "! grep -q '^Rread tag 10' '$T_TMP/flushed.out'"

# Without p9_grid_open (and without p9_auth) the grid tree is read-only:
# the API asks a token for a role change, 9P must not take it for free.
sed -i 's/ p9_grid_open = true;//' "$T_TMP/grid.cfg"
kill -HUP $GB_PID
wait_for 5 sh -c "[ \$(grep -c 'reload: .* OK' '$T_TMP/gridbootd.log') -ge 3 ]"
out=$(echo cpu | p9 -a grid 127.0.0.1 15641 put machines/cpu1/role 2>&1)
check "a closed grid tree refuses a role change, saying why ($out)" sh -c \
    "echo '$out' | grep -q 'the grid tree is read-only' && [ \"\$(ip netns exec $NS curl -s http://127.0.0.1:18382/api/v1/machines/cpu1 | jq -r .role)\" = term ]"

kill -TERM $GB_PID
wait $GB_PID
check "gridbootd exits cleanly (sanitizers saw nothing)" [ $? -eq 0 ]
[ "$T_FAILED" -gt 0 ] && tail -n 30 "$T_TMP/gridbootd.log" | sed 's/^/#   /'
t_done
