#!/bin/sh
# limit: 180
# The auth module against a real dp9ik client: Debian's drawterm-9front
# logs in to gridbootd's auth server (567) and rcpu endpoint (17019) in a
# network namespace, with keys made by `gridbootd passwd` from stdin. The
# right password gets through AuthPAK, the tickets, the authenticators and
# TLS-PSK, and drawterm prints the machine list the endpoint writes to its
# /dev/cons; a wrong password and an unknown user are refused with
# drawterm's own words. Garbage on both ports gets AuthErr or a close and
# is counted; a source with too many failures is refused; a bad key file
# on reload keeps the old one; the nvram image is written by the
# subcommand and served only to its machine.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/auth-lib.sh"

auth_setup au 10.9.0.1 10.9.0.11 10.9.0.12
cat >"$D/grid.cfg" <<EOF
grid = { name = "grid"; server = "10.9.0.1"; files = "files"; state = "state";
         serve_nvram = true;
         speaksfor = ( { host = "bootes"; users = [ "*", "!adm" ]; } ); };
networks = ( { subnet = "10.9.0.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; term = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.9.0.11"; role = "cpu"; },
             { name = "term1"; mac = "52:54:00:00:00:12"; ip = "10.9.0.12"; role = "term"; } );
EOF

# --- no key file yet: the daemon serves, the auth module waits
auth_serve
# not "serving ": TFTP's start-up line says that before auth has started
wait_for 10 grep -q "^[0-9:.]* info: serving " "$D/gridbootd.log"
check "without a key file the auth module says it waits for one" \
    grep -q "auth: no key file $D/state/keys: the auth server and rcpu wait" "$D/gridbootd.log"

# --- keys, from stdin
echo gridboot-test | "$G" passwd -c "$D/grid.cfg" glenda >"$D/passwd.out" 2>&1
check "passwd from stdin sets glenda's key" grep -q "key for glenda set (aes)" "$D/passwd.out"
echo bootes-pw | "$G" passwd -c "$D/grid.cfg" bootes >/dev/null 2>&1
check "the key file and its keyseed are 0600" \
    sh -c "[ \$(stat -c %a '$D/state/keys') = 600 ] && [ \$(stat -c %a '$D/state/keyseed') = 600 ]"
"$G" users -c "$D/grid.cfg" >"$D/users.out" 2>&1
check "users lists names, keys and speaks-for" sh -c \
    "grep -qx 'bootes keys: aes  host owner  speaks for: \* !adm' '$D/users.out' && grep -qx 'glenda keys: aes' '$D/users.out'"
check "users prints no key" sh -c "! grep -Eq '[0-9a-f]{32}' '$D/users.out'"

kill -HUP $GB_PID
wait_for 10 grep -q "auth: auth server on port 567" "$D/gridbootd.log"
check "after a reload the auth module listens on 567 and 17019" \
    grep -q "auth: auth server on port 567 (dp9ik), rcpu on port 17019; 2 user(s)" "$D/gridbootd.log"

dt good glenda gridboot-test
check "right password: drawterm exits 0" [ "$(cat "$D/good.rc")" = 0 ]
check "and prints the machine list the endpoint wrote to its /dev/cons" sh -c \
    "grep -qx 'cpu1 52:54:00:00:00:11 10.9.0.11 cpu' '$D/good.out' && grep -qx 'term1 52:54:00:00:00:12 10.9.0.12 term' '$D/good.out'"
check "the daemon logged who logged in, with dp9ik and the TLS-PSK suite" \
    grep -q "rcpu: 10.9.0.1:[0-9]*: glenda authenticated (dp9ik, TLS PSK-CHACHA20-POLY1305)" "$D/gridbootd.log"

dt badpw glenda not-the-password
check "wrong password: drawterm says 'password mismatch with auth server' and exits 1" \
    sh -c "grep -q 'password mismatch with auth server' '$D/badpw.out' && [ \$(cat '$D/badpw.rc') = 1 ]"
dt unknown nobody whatever
check "unknown user: the same words, exit 1" \
    sh -c "grep -q 'password mismatch with auth server' '$D/unknown.out' && [ \$(cat '$D/unknown.rc') = 1 ]"
check "both counted at rcpu as a hang-up before the ticket" \
    sh -c "[ \$(grep -c 'rcpu: 10.9.0.1:[0-9]*: the client hung up before its ticket' '$D/gridbootd.log') -ge 2 ]"

# --- garbage
before=$(metric 'gridboot_auth_failures_total{port="auth"}')
r=$(send 10.9.0.1 567 "474554202f20485454502f312e300d0a0d0a")
check "HTTP on 567: AuthErr 'not a Plan 9 ticket request', then a close" \
    [ "$r" = "05$(hex 'not a Plan 9 ticket request')$(printf '%0*d' $(( (64 - 27) * 2 )) 0)" ]
r=$(send 10.9.0.1 567 "03$(printf '%0280d' 0)")
check "AuthPass naming no user on 567: AuthErr saying so (auth_passwd.sh has the real thing)" \
    sh -c "echo '$r' | grep -q '^05$(hex 'no user named in the password change')'"
after=$(metric 'gridboot_auth_failures_total{port="auth"}')
check "the auth port's failure counter moved ($before -> $after)" [ "$after" -ge $((before + 2)) ]
r=$(send 10.9.0.1 17019 "$(printf '41%.0s' $(seq 200))")
check "200 bytes without a NUL on 17019: the offer, then a close" \
    [ "$r" = "$(hex 'v.2 dp9ik@grid')00" ]
r=$(send 10.9.0.1 17019 "7039736b31206772696400")
check "choosing p9sk1 on 17019 (dp9ik only): a close after the offer" \
    [ "$r" = "$(hex 'v.2 dp9ik@grid')00" ]
check "logged: the choice is not dp9ik" grep -q "rcpu: 10.9.0.1:[0-9]*: p9any: the choice is not" "$D/gridbootd.log"
n=$(metric 'gridboot_auth_failures_total{port="rcpu"}')
check "the rcpu failure counter moved ($n)" [ "$n" -ge 4 ]

# --- the limiter: ten failures from 10.9.0.12 and it is refused; others are not
for i in 1 2 3 4 5 6 7 8 9 10; do send 10.9.0.12 567 "ff" >/dev/null; done
r=$(send 10.9.0.12 567 "ff")
check "the 11th connection from a failing source: AuthErr 'too many failures'" \
    sh -c "echo '$r' | grep -q '^05$(hex 'too many failures from your address')'"
check "gridboot_auth_refused_total counts it" [ "$(metric gridboot_auth_refused_total)" -ge 1 ]
dt good2 glenda gridboot-test
check "another source still logs in, the daemon still serves" \
    sh -c "[ \$(cat '$D/good2.rc') = 0 ] && grep -q '^cpu1 ' '$D/good2.out'"

# --- nvram: the subcommand and HTTP, only to the machine itself
"$G" nvram -c "$D/grid.cfg" cpu1 -o "$D/cpu1.nvr" >"$D/nvram.out" 2>&1
check "nvram writes 512 bytes, 0600" sh -c \
    "[ \$(stat -c %s '$D/cpu1.nvr') = 512 ] && [ \$(stat -c %a '$D/cpu1.nvr') = 600 ]"
check "with the host owner bootes@grid at offsets 31 and 60" sh -c \
    "[ \"\$(dd if='$D/cpu1.nvr' bs=1 skip=31 count=6 2>/dev/null)\" = bootes ] && [ \"\$(dd if='$D/cpu1.nvr' bs=1 skip=60 count=4 2>/dev/null)\" = grid ]"
nsx curl -s --interface 10.9.0.11 -o "$D/http.nvr" http://10.9.0.1/nvram/525400000011
check "cpu1 fetches the same image over HTTP" cmp -s "$D/cpu1.nvr" "$D/http.nvr"
code=$(nsx curl -s --interface 10.9.0.12 -o /dev/null -w '%{http_code}' http://10.9.0.1/nvram/525400000011)
check "another machine asking for cpu1's nvram gets 404 ($code)" [ "$code" = 404 ]

# --- reload: a bad key file keeps the old one
cp "$D/state/keys" "$D/keys.good"
echo "glenda aes=nothex" >"$D/state/keys"
kill -HUP $GB_PID
wait_for 10 grep -q "auth: keeping the key file loaded before (2 user(s))" "$D/gridbootd.log"
check "a bad key file on reload is logged and the old one kept" [ $? -eq 0 ]
dt good3 glenda gridboot-test
check "and glenda still logs in" [ "$(cat "$D/good3.rc")" = 0 ]
check "no key was logged" sh -c "! grep -Eq '[0-9a-f]{32}' '$D/gridbootd.log'"

auth_done 40
