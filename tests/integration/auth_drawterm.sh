#!/bin/sh
# limit: 120
# A real dp9ik client against server/auth and server/curve: Debian's
# drawterm-9front talks to tests/tools/authsrv_probe.c (an auth server on
# one loopback port, the p9any/dp9ik/TLS-PSK start of a cpu server on
# another). With the right password drawterm must get through AuthPAK,
# the tickets, the authenticators and the TLS-PSK handshake keyed by the
# session secret, and send its script; with a wrong password, or as an
# unknown user, it must say exactly what it says to a 9front auth server.
. "$GRIDBOOT_TOP/tests/lib.sh"

if ! command -v drawterm >/dev/null; then
	not_ok "drawterm-9front is not installed (sh tests/install-deps.sh auth)"
	t_done
	exit 1
fi
LIB="$(dirname "$GRIDBOOTD")/libgridboot.a"
SAN=""
case "$GRIDBOOTD" in *build-san*) SAN="-fsanitize=address,undefined" ;; esac
check "authsrv_probe builds" cc -std=c11 -D_GNU_SOURCE -I"$GRIDBOOT_TOP/server" -o "$T_TMP/probe" \
    "$GRIDBOOT_TOP/tests/tools/authsrv_probe.c" "$LIB" $SAN -lssl -lcrypto

# run_dt NAME USER PASSWORD: one probe, one drawterm; logs in $T_TMP/NAME.*
run_dt() {
	name=$1 user=$2 pw=$3
	aport=$((20000 + $$ % 20000)) cport=$((20001 + $$ % 20000))
	ASAN_OPTIONS=detect_leaks=0 "$T_TMP/probe" $aport $cport grid bootes bootes-pw glenda gridboot-test \
	    "$T_TMP/$name.tx" >"$T_TMP/$name.probe" 2>&1 &
	ppid=$!
	track_pid $ppid
	wait_for 10 grep -q "^probe: " "$T_TMP/$name.probe"
	# -s points secstore at a closed port: drawterm would otherwise try the auth port
	PASS=$pw timeout 30 drawterm -G -s "tcp!127.0.0.1!1" -a "tcp!127.0.0.1!$aport" \
	    -h "tcp!127.0.0.1!$cport" -u "$user" -c 'echo hi' >"$T_TMP/$name.dt" 2>&1
	echo $? >"$T_TMP/$name.rc"
	wait $ppid
	echo $? >"$T_TMP/$name.prc"
	sed "s/^/# $name probe: /" "$T_TMP/$name.probe"
	sed "s/^/# $name drawterm: /" "$T_TMP/$name.dt"
}

run_dt good glenda gridboot-test
check "drawterm's AuthPAK finished at the auth server" grep -q "^auth: PAK finished" "$T_TMP/good.probe"
check "the cpu side opened the ticket drawterm relayed" grep -q "^cpu: ticket Ts opened: cuid=glenda" "$T_TMP/good.probe"
check "and drawterm's authenticator" grep -q "^cpu: authenticator Ac opened" "$T_TMP/good.probe"
check "drawterm accepted our As: TLS-PSK with the session secret" grep -q "^cpu: TLS handshake done" "$T_TMP/good.probe"
check "drawterm sent its script over TLS" grep -q "service=cpu" "$T_TMP/good.probe"
check "the probe's cpu side succeeded" [ "$(cat "$T_TMP/good.prc")" = 0 ]

run_dt badpw glenda not-the-password
check "wrong password: drawterm says so and exits 1" \
    sh -c "grep -q 'password mismatch with auth server' '$T_TMP/badpw.dt' && [ \$(cat '$T_TMP/badpw.rc') = 1 ]"

run_dt unknown nobody whatever
check "unknown user: the same words as a wrong password" \
    sh -c "grep -q 'password mismatch with auth server' '$T_TMP/unknown.dt' && [ \$(cat '$T_TMP/unknown.rc') = 1 ]"
t_done
