#!/bin/sh
# limit: 180
# p9sk1 on the rcpu endpoint (17019) with the real client: with
# grid.p9any = [ "p9sk1" ] gridbootd offers only p9sk1, so Debian's
# drawterm-9front (which takes dp9ik whenever it is offered) runs p9sk1:
# AuthTreq for DES tickets on 567, the DES ticket and authenticators, and
# TLS-PSK with the 8-byte secret p9sk1 yields; it prints the machine list.
# A wrong password is refused. With the default offer ("dp9ik p9sk1")
# drawterm takes dp9ik. With DES off (grid.auth_des = false, authsrv -N)
# p9sk1 is not offered, choosing it anyway is refused with the reason in
# the log, and `check` refuses grid.p9any naming p9sk1.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/auth-lib.sh"

auth_setup sk 10.9.2.1 10.9.2.1
# cfg DES P9ANY: the inventory
cfg() {
	cat >"$D/grid.cfg" <<EOF
grid = { name = "grid"; server = "10.9.2.1"; files = "files"; state = "state";
         auth_des = $1; $2
         speaksfor = ( { host = "bootes"; users = [ "*" ]; } ); };
networks = ( { subnet = "10.9.2.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:02:11"; ip = "10.9.2.11"; role = "cpu"; } );
EOF
}
cfg true 'p9any = [ "p9sk1" ];'
echo gridboot-test | "$G" passwd -c "$D/grid.cfg" glenda >/dev/null 2>&1
echo bootes-pw | "$G" passwd -c "$D/grid.cfg" bootes >/dev/null 2>&1
check "keys with DES for glenda and bootes" \
    sh -c "[ \$(grep -Ec '^(glenda|bootes) aes=[0-9a-f]{32} des=[0-9a-f]{14}\$' '$D/state/keys') = 2 ]"

auth_serve
wait_for 10 grep -q "auth: auth server on port 567" "$D/gridbootd.log"

r=$(send 10.9.2.1 17019 "7800")	# "x": not a choice, so the offer and a close
check "grid.p9any = [\"p9sk1\"]: the offer is v.2 p9sk1@grid" [ "$r" = "$(hex 'v.2 p9sk1@grid')00" ]
dt good glenda gridboot-test
check "drawterm with p9sk1: exit 0" [ "$(cat "$D/good.rc")" = 0 ]
check "and the machine list printed through TLS-PSK on p9sk1's 8-byte secret" \
    grep -qx 'cpu1 52:54:00:00:02:11 10.9.2.11 cpu' "$D/good.out"
check "the daemon logged p9sk1 and the PSK suite" \
    grep -q "rcpu: 10.9.2.1:[0-9]*: glenda authenticated (p9sk1, TLS PSK-" "$D/gridbootd.log"
check "the auth server gave DES tickets" grep -q "auth: 10.9.2.1:[0-9]*: tickets (p9sk1)" "$D/gridbootd.log"
dt bad glenda not-the-password
check "a wrong password: drawterm says 'password mismatch with auth server', exit 1" \
    sh -c "grep -q 'password mismatch with auth server' '$D/bad.out' && [ \$(cat '$D/bad.rc') = 1 ]"

# --- the default offer: dp9ik first, p9sk1 too; drawterm takes dp9ik
cfg true ""
kill -HUP $GB_PID
wait_for 10 grep -q "reload: $D/grid.cfg OK" "$D/gridbootd.log"
r=$(send 10.9.2.1 17019 "7800")	# "x": not a choice, so the offer and a close
check "default with DES on: v.2 dp9ik@grid p9sk1@grid" [ "$r" = "$(hex 'v.2 dp9ik@grid p9sk1@grid')00" ]
dt both glenda gridboot-test
check "drawterm takes dp9ik when both are offered" \
    sh -c "[ \$(cat '$D/both.rc') = 0 ] && grep -q 'glenda authenticated (dp9ik, TLS' '$D/gridbootd.log'"

# --- DES off: p9sk1 neither offered nor accepted
cfg false ""
kill -HUP $GB_PID
wait_for 10 sh -c "[ \$(grep -c 'reload: $D/grid.cfg OK' '$D/gridbootd.log') -ge 2 ]"
r=$(send 10.9.2.1 17019 "$(hex 'p9sk1 grid')00")
check "grid.auth_des = false: the offer is dp9ik alone, choosing p9sk1 gets a close" \
    [ "$r" = "$(hex 'v.2 dp9ik@grid')00" ]
check "logged with the reason" \
    grep -q "rcpu: 10.9.2.1:[0-9]*: p9any: the choice is not \"dp9ik DOM\" (p9sk1 is off" "$D/gridbootd.log"
dt off glenda gridboot-test
check "drawterm still logs in with dp9ik" [ "$(cat "$D/off.rc")" = 0 ]

cfg false 'p9any = [ "p9sk1" ];'
"$G" check -c "$D/grid.cfg" >"$D/check.out" 2>&1
check "check refuses grid.p9any naming p9sk1 with DES off" \
    grep -q "grid.p9any: p9sk1 needs grid.auth_des = true" "$D/check.out"
cfg true 'p9any = [ "dp9ik", "dp9ik" ];'
"$G" check -c "$D/grid.cfg" >"$D/check2.out" 2>&1
check "and a protocol listed twice" grep -q "grid.p9any: dp9ik is listed twice" "$D/check2.out"

auth_done 30
