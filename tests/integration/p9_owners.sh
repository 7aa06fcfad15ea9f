#!/bin/sh
# limit: 180
# A file server for more than one user (issue 22, part 4). With
# grid.p9_auth, three users who proved who they are (glenda, bob, alice)
# share one export whose adm/users makes a group proj (leader glenda,
# member bob). Each makes a home and a file in it: the file belongs to its
# creator (stat's uid, gid and muid, and the user.plan9 attribute on disk);
# neither can write the other's 0644 file nor create in the other's 0755
# home ("permission denied"); a group member writes a 0664 file of the
# group and becomes its muid, a stranger may not; only the owner changes a
# mode; removing needs write permission in the directory; none is only
# "other"; an edit of adm/users is seen within seconds. The same rules hold
# for 9P2000.L (p9c -L): the backend checks, not the dialect.
. "${GRIDBOOT_TOP:-.}/tests/lib.sh"

P9C=${P9C:-$(dirname "$GRIDBOOTD")/tools/p9c}
G="$GRIDBOOTD"
NS=gbp9o$$
D="$T_TMP"
ns_add $NS || { not_ok "network namespace"; t_done; exit 1; }
ip -n $NS link set lo up
X=$D/export
mkdir -p "$X/usr" "$X/tmp" "$X/adm" "$D/state" "$D/files"
chmod 0775 "$X/usr"
chmod 0777 "$X/tmp"
echo "everyone reads this" >"$X/motd"
cat >"$X/adm/users" <<'EOU'
-1:adm:adm:bootes
0:none::
10000:sys::glenda,bob,alice
10001:glenda:glenda:
10002:bob:bob:
10003:alice:alice:
10010:proj:glenda:bob
EOU
cat >"$D/grid.cfg" <<EOC
grid = { name = "t"; authdom = "grid"; authid = "bootes"; server = "127.0.0.1";
         files = "$D/files"; state = "$D/state";
         http_port = 18387; tftp_port = 16987; dhcp_port = 16787; proxy_port = 14087;
         p9_port = 15646; p9_auth = true; auth_port = 15570; rcpu_port = 15022;
         api_token = "tok-0123456789abcdef"; };
networks = ( { subnet = "10.9.0.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.9.0.11"; role = "cpu"; } );
exports = ( { path = "$X"; writable = [ "usr", "tmp" ]; owner = "sys"; } );
EOC
for u in bootes glenda bob alice; do
	echo "$u-secret" >"$D/$u.pw"
	"$G" passwd -c "$D/grid.cfg" $u <"$D/$u.pw" >>"$D/passwd.out" 2>&1
done
check "keys for bootes, glenda, bob and alice" [ "$(grep -c 'key for .* set' "$D/passwd.out")" -eq 4 ]

ip netns exec $NS "$G" serve -c "$D/grid.cfg" -d -l debug >"$D/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd serves 9P" wait_for 10 grep -q "9p: listening on tcp port 15646" "$D/gridbootd.log"
check "and the auth server" wait_for 10 grep -q "auth: auth server on port 15570" "$D/gridbootd.log"

# as USER [p9c options] COMMAND PATH: one authenticated p9c run; output in
# $D/last.out (stdin passes through), status returned
# Each user dials from an address of their own (the whole of 127/8 is
# this namespace's loopback), so one user's logins do not spend another's
# share of the auth server's per-source request limit.
auth_addr() { case $1 in glenda) echo 127.0.0.2;; bob) echo 127.0.0.3;; *) echo 127.0.0.4;; esac; }
as() {
	u=$1
	shift
	timeout 30 ip netns exec $NS "$P9C" -S "$(auth_addr $u)" -A 127.0.0.1:15570 -P "$D/$u.pw" -u $u "$@" \
	    >"$D/last.out" 2>&1
	rc=$?
	sed "s/^/# $u: /" "$D/last.out"
	return $rc
}
denied() {	# USER ARGS...: refused with Plan 9's words
	! as "$@" </dev/null && grep -qi 'permission denied' "$D/last.out"
}
put() {		# USER TEXT ARGS...
	u=$1 text=$2
	shift 2
	echo "$text" | as $u "$@"
}
dir_is() {	# USER PATH "MODE UID GID MUID"
	as $1 127.0.0.1 15646 dir "$2" && [ "$(cut -d' ' -f1-4 "$D/last.out")" = "$3" ]
}
xattr() { python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.plan9").decode())' "$1" 2>&1; }
H="127.0.0.1 15646"

# homes: each user makes their own, takes its group, closes it to others
for u in glenda bob; do
	check "$u makes usr/$u (usr is sys's, 0775, and $u is in sys)" as $u $H mkdir usr/$u
	check "$u gives usr/$u to group $u" as $u -G $u $H chgrp usr/$u
	check "$u closes usr/$u to others (0755)" as $u -M 755 $H chmod usr/$u
	check "stat shows usr/$u as 755 $u $u $u" dir_is $u usr/$u "755 $u $u $u"
done
check "glenda writes usr/glenda/notes (0644)" put glenda "glenda's notes" $H put usr/glenda/notes
check "stat: 644 glenda glenda glenda" dir_is bob usr/glenda/notes "644 glenda glenda glenda"
check "on disk: user.plan9 = glenda:glenda:glenda ($(xattr "$X/usr/glenda/notes"))" \
    [ "$(xattr "$X/usr/glenda/notes")" = "glenda:glenda:glenda" ]
check "bob writes usr/bob/plans" put bob "bob's plans" $H put usr/bob/plans

# neither writes the other's
check "bob may not overwrite glenda's 0644 file: 'permission denied'" denied bob $H put usr/glenda/notes
check "bob may not create in glenda's 0755 home" denied bob $H put usr/glenda/new
check "glenda may not overwrite bob's file" denied glenda $H put usr/bob/plans
check "nor with 9P2000.L (Tlopen)" denied glenda -L $H put usr/bob/plans
check "nor create in bob's home with 9P2000.L (Tlcreate)" denied glenda -L $H put usr/bob/x
check "bob's file is as he left it" grep -qx "bob's plans" "$X/usr/bob/plans"
check "but bob reads glenda's 0644 notes" sh -c \
    "timeout 30 ip netns exec $NS '$P9C' -S 127.0.0.3 -A 127.0.0.1:15570 -P '$D/bob.pw' -u bob $H cat usr/glenda/notes | grep -qx \"glenda's notes\""
check "bob may not chmod glenda's file" denied bob -M 666 $H chmod usr/glenda/notes
check "alice may not remove glenda's file (no write in usr/glenda)" denied alice $H rm usr/glenda/notes

# a group's file
check "glenda makes tmp/shared 0664" put glenda "v1" -M 664 $H put tmp/shared
check "and gives it to proj (she leads it)" as glenda -G proj $H chgrp tmp/shared
check "stat: 664 glenda proj glenda" dir_is glenda tmp/shared "664 glenda proj glenda"
check "bob, in proj, writes it" put bob "v2 by bob" $H put tmp/shared
check "and is its last modifier: 664 glenda proj bob" dir_is glenda tmp/shared "664 glenda proj bob"
check "alice, not in proj, may not write it" denied alice $H put tmp/shared
check "alice makes tmp/alice.txt" put alice "a" -M 644 $H put tmp/alice.txt
check "but may not give it to proj (not a member)" denied alice -G proj $H chgrp tmp/alice.txt

# an edit of adm/users is seen: alice joins proj
sed -i 's/^10010:proj:glenda:bob$/10010:proj:glenda:bob,alice/' "$X/adm/users"
sleep 1.2
check "after adm/users adds alice to proj, she writes tmp/shared" put alice "v3 by alice" $H put tmp/shared
check "the tag on disk: glenda:proj:alice ($(xattr "$X/tmp/shared"))" \
    [ "$(xattr "$X/tmp/shared")" = "glenda:proj:alice" ]

# none is only other
printf 'secret\n' >"$X/tmp/none-own"
chmod 0640 "$X/tmp/none-own"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.plan9", b"none:none:none")' "$X/tmp/none-own"
nonecat() { timeout 30 ip netns exec $NS "$P9C" -u none $H cat "$1" >"$D/none.out" 2>&1; }
check "none reads what other may (motd)" nonecat motd
check "none may not read a 0640 file even tagged as its own" sh -c \
    "! timeout 30 ip netns exec $NS '$P9C' -u none $H cat tmp/none-own >'$D/none.out' 2>&1 && grep -q 'permission denied' '$D/none.out'"
check "glenda removes her notes" as glenda $H rm usr/glenda/notes
check "and it is gone" [ ! -e "$X/usr/glenda/notes" ]

kill -TERM $GB_PID
wait $GB_PID
check "gridbootd exits cleanly (sanitizers saw nothing)" [ $? -eq 0 ]
[ "$T_FAILED" -gt 0 ] && tail -n 30 "$D/gridbootd.log" | sed 's/^/#   /'
t_done
