#!/bin/sh
# limit: 240
# AuthPass (a password change on the ticket service, 567) against the
# running daemon: the project's client (tests/tools/authpass, the steps of
# 9front's auth/passwd) changes glenda's password over dp9ik, then the real
# client, Debian's drawterm-9front, logs in with the new password and is
# refused with the old one. A wrong old password, a short and a trivial
# new one are refused with their reasons on one connection, which then
# succeeds; p9sk1's DES form works when the grid allows DES and is refused
# with "DES is disabled" when it does not; the key file stays 0600, keeps
# the other users, and the change survives a restart.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/auth-lib.sh"

AP="$(dirname "$GRIDBOOTD")/tools/authpass"
[ -x "$AP" ] || { not_ok "no $AP (make SAN=1 units)"; t_done; exit 1; }
auth_setup ap 10.9.1.1 10.9.1.1 10.9.1.12
# cfg DES: the inventory, with grid.auth_des = DES
cfg() {
	cat >"$D/grid.cfg" <<EOF
grid = { name = "grid"; server = "10.9.1.1"; files = "files"; state = "state"; auth_des = $1; };
networks = ( { subnet = "10.9.1.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:01:11"; ip = "10.9.1.11"; role = "cpu"; } );
EOF
}
cfg true
echo gridboot-test | "$G" passwd -c "$D/grid.cfg" glenda >/dev/null 2>&1
echo bootes-pw | "$G" passwd -c "$D/grid.cfg" bootes >/dev/null 2>&1
echo adm-password | "$G" passwd -c "$D/grid.cfg" adm >/dev/null 2>&1
grep '^adm ' "$D/state/keys" >"$D/adm.before"

# start: the daemon, waiting for its auth server's line (one more than before)
start() {
	n=$(grep -c "auth: auth server on port 567" "$D/gridbootd.log" 2>/dev/null)
	auth_serve
	wait_for 10 sh -c "[ \$(grep -c 'auth: auth server on port 567' '$D/gridbootd.log') -gt ${n:-0} ]"
}
start
check "the auth server is up with DES allowed" \
    grep -q "auth: auth server on port 567 (dp9ik and p9sk1)" "$D/gridbootd.log"

# ap NAME ARGS...: authpass in the namespace, output in $D/NAME.out, status in $D/NAME.rc
ap() {
	name=$1; shift
	timeout 30 ip netns exec "$NS" "$AP" "$@" >"$D/$name.out" 2>&1
	echo $? >"$D/$name.rc"
	sed "s/^/# $name: /" "$D/$name.out"
}
rc() { cat "$D/$1.rc"; }

# --- dp9ik: one connection, refusals first, then the change
fails0=$(metric 'gridboot_auth_failures_total{port="auth"}')
ap dp9ik 10.9.1.1 567 glenda gridboot-test \
    wrong-old-pw new-password-1 \
    gridboot-test short \
    gridboot-test anonymous \
    gridboot-test new-password-1
check "dp9ik: AuthPAK for glenda, then a form 1 AuthTp ticket that opens" \
    grep -qx "ticket: AuthTp for glenda (form 1)" "$D/dp9ik.out"
check "a wrong old password: refused: bad password" sh -c "sed -n 2p '$D/dp9ik.out' | grep -qx 'refused: bad password'"
check "a short new one: refused: password too short (at least 8 characters)" \
    sh -c "sed -n 3p '$D/dp9ik.out' | grep -qx 'refused: password too short (at least 8 characters)'"
check "a trivial one: refused: trivial password" sh -c "sed -n 4p '$D/dp9ik.out' | grep -qx 'refused: trivial password'"
check "then the right old password and a good new one: ok (exit 0)" \
    sh -c "sed -n 5p '$D/dp9ik.out' | grep -qx ok && [ $(rc dp9ik) = 0 ]"
check "the daemon logged the change, no key" \
    grep -q "notice: auth: glenda's password changed (AuthPass); $D/state/keys rewritten, 3 user(s)" "$D/gridbootd.log"
check "gridboot_auth_password_changes_total is 1" [ "$(metric gridboot_auth_password_changes_total)" = 1 ]
fails1=$(metric 'gridboot_auth_failures_total{port="auth"}')
check "only the wrong old password counted as a failure ($fails0 -> $fails1)" [ "$fails1" = $((fails0 + 1)) ]
check "the key file is still 0600" [ "$(stat -c %a "$D/state/keys")" = 600 ]
check "adm's line is untouched" sh -c "grep '^adm ' '$D/state/keys' | cmp -s - '$D/adm.before'"
check "glenda's line has both keys of the new password" \
    sh -c "grep -Eq '^glenda aes=[0-9a-f]{32} des=[0-9a-f]{14}\$' '$D/state/keys'"

dt new glenda new-password-1
check "drawterm logs in with the new password" sh -c "[ $(rc new) = 0 ] && grep -q '^cpu1 ' '$D/new.out'"
dt old glenda gridboot-test
check "and is refused with the old one" \
    sh -c "[ $(rc old) = 1 ] && grep -q 'password mismatch with auth server' '$D/old.out'"

ap oldpw 10.9.1.1 567 glenda gridboot-test gridboot-test new-password-2
check "authpass with the old password: its ticket does not open (bad password, exit 1)" \
    sh -c "grep -qx 'bad password' '$D/oldpw.out' && [ $(rc oldpw) = 1 ]"

# --- p9sk1: the DES ticket and request
ap des -1 10.9.1.1 567 glenda new-password-1 new-password-1 new-password-2
check "p9sk1: a DES AuthTp ticket, the DES Passwordreq accepted" \
    sh -c "grep -qx 'ticket: AuthTp for glenda (DES)' '$D/des.out' && grep -qx ok '$D/des.out' && [ $(rc des) = 0 ]"

# --- a restart: the change is on disk
stop_gridbootd
check "gridbootd exits 0 (no sanitizer report)" [ $? -eq 0 ]
start
dt restart glenda new-password-2
check "after a restart drawterm logs in with the newest password" \
    sh -c "[ $(rc restart) = 0 ] && grep -q '^cpu1 ' '$D/restart.out'"
dt restart_old glenda new-password-1
check "and not with the one before" [ "$(rc restart_old)" = 1 ]

# --- DES off (authsrv -N): the p9sk1 form is refused with the reason
cfg false
kill -HUP $GB_PID
wait_for 10 grep -q "auth: key file $D/state/keys: 3 user(s)" "$D/gridbootd.log"
ap nodes -1 10.9.1.1 567 glenda new-password-2 new-password-2 new-password-3
check "with grid.auth_des off, a p9sk1 AuthPass: remote: DES is disabled" \
    sh -c "grep -qx 'error: remote: DES is disabled' '$D/nodes.out' && [ $(rc nodes) = 1 ]"
ap dp9ik2 10.9.1.1 567 glenda new-password-2 new-password-2 new-password-3
check "dp9ik still changes it, and the new line has no DES key" \
    sh -c "[ $(rc dp9ik2) = 0 ] && grep -Eq '^glenda aes=[0-9a-f]{32}\$' '$D/state/keys'"

# --- a key file that cannot be written: a directory where the daemon's
# temporary file goes (write_file_atomic_mode: PATH.tmp.PID)
mkdir "$D/state/keys.tmp.$GB_PID"
ap ro 10.9.1.1 567 glenda new-password-3 new-password-3 new-password-4
check "a key file that cannot be written: refused: can't write key: see the auth server's log" \
    grep -qx "refused: can't write key: see the auth server's log" "$D/ro.out"
check "the log says why" grep -q "auth: password change for glenda: $D/state/keys" "$D/gridbootd.log"
rmdir "$D/state/keys.tmp.$GB_PID"
dt ro_old glenda new-password-3
check "and the password in use is still the one before" [ "$(rc ro_old)" = 0 ]
check "no key was logged" sh -c "! grep -Eq '[0-9a-f]{32}' '$D/gridbootd.log'"
auth_done 30
