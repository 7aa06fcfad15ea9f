#!/bin/sh
# limit: 120
# Authenticated 9P against the real daemon in a network namespace: with
# grid.p9_auth, the project's own client (tests/tools/p9c -A) runs Tauth,
# the client side of p9any/dp9ik over the afid (AuthPAK and AuthTreq with
# gridbootd's own auth server), checks the server's As and attaches. The
# right password lists the export; a wrong password and an unknown user
# fail at the ticket (the auth server cannot tell which); an attach
# without an afid is refused; an afid that proved bootes does not let
# its holder attach as glenda; none attaches unproved as a guest that
# only reads, unless grid.p9_nonone; the grid tree takes a role change
# from a grid administrator (grid.admins, by default the host owner
# bootes) and refuses glenda's; the daemon exits cleanly.
. "${GRIDBOOT_TOP:-.}/tests/lib.sh"

P9C=${P9C:-$(dirname "$GRIDBOOTD")/tools/p9c}
G="$GRIDBOOTD"
NS=gbp9a$$
D="$T_TMP"
ns_add $NS || { not_ok "network namespace"; t_done; exit 1; }
X=$D/export
mkdir -p "$X/tmp" "$D/state" "$D/files"
echo "read only" >"$X/ro.txt"
cat >"$D/grid.cfg" <<EOC
grid = { name = "t"; authdom = "grid"; authid = "bootes"; server = "127.0.0.1";
         files = "$D/files"; state = "$D/state";
         http_port = 18383; tftp_port = 16983; dhcp_port = 16783; proxy_port = 14083;
         p9_port = 15642; p9_auth = true; auth_port = 15567; rcpu_port = 15019;
         api_token = "tok-0123456789abcdef"; };
networks = ( { subnet = "10.9.0.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; term = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.9.0.11"; role = "cpu"; } );
exports = ( { path = "$X"; writable = [ "tmp" ]; } );
EOC

# keys from stdin, before the daemon starts
echo bootes-pw | "$G" passwd -c "$D/grid.cfg" bootes >"$D/passwd.out" 2>&1
echo gridboot-test | "$G" passwd -c "$D/grid.cfg" glenda >>"$D/passwd.out" 2>&1
check "passwd sets keys for bootes and glenda" sh -c \
    "grep -q 'key for bootes set' '$D/passwd.out' && grep -q 'key for glenda set' '$D/passwd.out'"
printf 'gridboot-test\n' >"$D/glenda.pw"
printf 'not-the-password\n' >"$D/wrong.pw"
printf 'bootes-pw\n' >"$D/bootes.pw"

ip netns exec $NS "$G" serve -c "$D/grid.cfg" -d -l debug >"$D/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd serves 9P" wait_for 10 grep -q "9p: listening on tcp port 15642" "$D/gridbootd.log"
check "and the auth server on 15567" wait_for 10 grep -q "auth: auth server on port 15567" "$D/gridbootd.log"

# p9 NAME ARGS...: p9c in the namespace; output in $D/NAME.out, status in $D/NAME.rc
p9() {
	name=$1
	shift
	timeout 30 ip netns exec $NS "$P9C" "$@" >"$D/$name.out" 2>&1
	echo $? >"$D/$name.rc"
	sed "s/^/# $name: /" "$D/$name.out"
}
A="-A 127.0.0.1:15567"

# (a) the right password
p9 good $A -P "$D/glenda.pw" -u glenda 127.0.0.1 15642 ls ''
check "(a) glenda with the right password lists the export" sh -c \
    "[ \$(cat '$D/good.rc') = 0 ] && [ \"\$(tr '\n' ' ' <'$D/good.out')\" = 'ro.txt tmp ' ]"
P9C_PASSWORD=gridboot-test p9 goodenv $A -u glenda 127.0.0.1 15642 cat ro.txt
check "(a) the password from \$P9C_PASSWORD reads a file" sh -c \
    "[ \$(cat '$D/goodenv.rc') = 0 ] && grep -qx 'read only' '$D/goodenv.out'"
check "(a) writes under glenda's authenticated attach" sh -c \
    "echo hi | timeout 30 ip netns exec $NS '$P9C' $A -P '$D/glenda.pw' -u glenda 127.0.0.1 15642 put tmp/f && grep -qx hi '$X/tmp/f'"

# (b) a wrong password
p9 badpw $A -P "$D/wrong.pw" -u glenda 127.0.0.1 15642 ls ''
check "(b) a wrong password fails: 'password mismatch with auth server', exit 1" sh -c \
    "[ \$(cat '$D/badpw.rc') = 1 ] && grep -q '^p9c: error: dp9ik: password mismatch with auth server' '$D/badpw.out'"

# (c) an unknown user: the auth server makes a key up, so the same words
p9 unknown $A -P "$D/wrong.pw" -u nobody 127.0.0.1 15642 ls ''
check "(c) an unknown user fails the same way, exit 1" sh -c \
    "[ \$(cat '$D/unknown.rc') = 1 ] && grep -q '^p9c: error: dp9ik: password mismatch with auth server (or unknown user nobody)' '$D/unknown.out'"

# (d) no afid
p9 noauth -u glenda 127.0.0.1 15642 ls ''
check "(d) without -A the attach is refused: 'authentication required'" sh -c \
    "[ \$(cat '$D/noauth.rc') = 1 ] && grep -qx 'p9c: error: authentication required' '$D/noauth.out'"

# (e) an afid that proved bootes, attaching as glenda
p9 bootes $A -P "$D/bootes.pw" -u bootes 127.0.0.1 15642 ls ''
check "(e) bootes with its own password attaches as bootes" sh -c \
    "[ \$(cat '$D/bootes.rc') = 0 ] && grep -qx ro.txt '$D/bootes.out'"
p9 swap $A -P "$D/bootes.pw" -u bootes -U glenda 127.0.0.1 15642 ls ''
check "(e) the same afid (proved bootes) cannot attach as glenda: 'authentication failed'" sh -c \
    "[ \$(cat '$D/swap.rc') = 1 ] && grep -qx 'p9c: error: authentication failed' '$D/swap.out'"

# grid administrators (issue 21, fault 6): on fb6bba1 any authenticated
# user could re-role a machine through the grid tree
echo term | timeout 30 ip netns exec $NS "$P9C" $A -P "$D/glenda.pw" -u glenda -a grid \
    127.0.0.1 15642 put machines/cpu1/role >"$D/glendarole.out" 2>&1
sed 's/^/# glendarole: /' "$D/glendarole.out"
p9 role1 $A -P "$D/bootes.pw" -u bootes -a grid 127.0.0.1 15642 cat machines/cpu1/role
check "(g) glenda, not in grid.admins, may not change a role: 'glenda is not a grid administrator'" sh -c \
    "grep -q 'p9c: error: glenda is not a grid administrator (grid.admins)' '$D/glendarole.out' && grep -qx cpu '$D/role1.out'"
echo term | timeout 30 ip netns exec $NS "$P9C" $A -P "$D/bootes.pw" -u bootes -a grid \
    127.0.0.1 15642 put machines/cpu1/role >"$D/bootesrole.out" 2>&1
p9 role2 $A -P "$D/bootes.pw" -u bootes -a grid 127.0.0.1 15642 cat machines/cpu1/role
check "(g) bootes, the host owner and so the default grid.admins, changes it" sh -c \
    "[ ! -s '$D/bootesrole.out' ] && grep -qx term '$D/role2.out'"
sed 's/authid = "bootes";/authid = "bootes"; admins = [ "bootes", "no good" ];/' "$D/grid.cfg" >"$D/bad.cfg"
"$G" check -c "$D/bad.cfg" >"$D/badcheck.out" 2>&1
check "(g) check names a bad grid.admins entry with file and line" sh -c \
    "grep -q 'bad.cfg:1: grid.admins: element 2 is not a Plan 9 user name' '$D/badcheck.out'"

# none: 9front's aux/listen attaches as none on an authenticated
# connection; an afid that proved bootes may attach as none. As 9front's
# cwfs without nonone, none may also attach unproved, as a guest that only
# reads (the lab's Linux discovery image mounts so); grid.p9_nonone
# refuses it.
p9 asnone $A -P "$D/bootes.pw" -u bootes -U none 127.0.0.1 15642 ls ''
check "an afid that proved bootes may attach as none (aux/listen does)" sh -c \
    "[ \$(cat '$D/asnone.rc') = 0 ] && grep -qx ro.txt '$D/asnone.out'"
p9 nonenoauth -u none 127.0.0.1 15642 cat ro.txt
check "none without authentication reads (a guest)" sh -c \
    "[ \$(cat '$D/nonenoauth.rc') = 0 ] && grep -qx 'read only' '$D/nonenoauth.out'"
echo guest | timeout 30 ip netns exec $NS "$P9C" -u none 127.0.0.1 15642 put tmp/g >"$D/guestput.out" 2>&1
check "the guest may not write: 'none without authentication may only read'" sh -c \
    "grep -q 'none without authentication may only read' '$D/guestput.out' && [ ! -e '$X/tmp/g' ]"
echo guest | timeout 30 ip netns exec $NS "$P9C" -L -u none 127.0.0.1 15642 put tmp/f >"$D/guestputL.out" 2>&1
check "nor over 9P2000.L (Tlopen for writing: EROFS)" sh -c \
    "grep -qi 'read-only file system' '$D/guestputL.out' && grep -qx hi '$X/tmp/f'"
sed 's/p9_auth = true;/p9_auth = true; p9_nonone = true;/' "$D/grid.cfg" >"$D/grid.cfg.new" && mv "$D/grid.cfg.new" "$D/grid.cfg"
kill -HUP $GB_PID
check "reloaded with grid.p9_nonone" wait_for 10 grep -q 'inventory reloaded' "$D/gridbootd.log"
sleep 0.5
p9 nonenone -u none 127.0.0.1 15642 ls ''
check "with p9_nonone, an unauthenticated connection may not attach as none" sh -c \
    "[ \$(cat '$D/nonenone.rc') = 1 ] && grep -qx 'p9c: error: authentication required' '$D/nonenone.out'"

check "the daemon still serves after the failures" sh -c \
    "P9C_PASSWORD=gridboot-test timeout 30 ip netns exec $NS '$P9C' $A -u glenda 127.0.0.1 15642 cat ro.txt | grep -qx 'read only'"
check "no key was logged" sh -c "! grep -Eq '[0-9a-f]{32}' '$D/gridbootd.log'"

# (f)
kill -TERM $GB_PID
wait $GB_PID
check "(f) gridbootd exits cleanly (sanitizers saw nothing)" [ $? -eq 0 ]
[ "$T_FAILED" -gt 0 ] && tail -n 40 "$D/gridbootd.log" | sed 's/^/#   /'
t_done
