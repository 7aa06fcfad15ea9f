#!/bin/sh
# TFTP, step one: lock-step octet reads with tftp-hpa's client (what 9boot
# does), netascii, the generated plan9.ini files, and containment of the
# static tree (.., absolute paths, symlinks out, devices, FIFOs).
# limit: 120
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/tftp-lib.sh"

tftp_setup || { not_ok "gridbootd started"; t_done; exit 1; }
ok "gridbootd started on udp port $PORT"
cd "$T_TMP"

get() {	# get REMOTE LOCAL [MODE]: tftp-hpa's client, output in $T_TMP/tftp.out
	rm -f "$2"
	timeout 30 tftp -m "${3:-binary}" 127.0.0.1 "$PORT" -c get "$1" "$2" >"$T_TMP/tftp.out" 2>&1
}
refused() {	# refused REMOTE CODE: the client printed that ERROR code
	get "$1" "$T_TMP/junk"
	grep -q "Error code $2" "$T_TMP/tftp.out"
}

get k4 out.k4
check "4 MiB lock-step at 512: same sha256" same_file "$FILES/k4" out.k4

head -c 1024 /dev/urandom >"$FILES/two-blocks"
get two-blocks out.two
check "file of exactly 2 blocks (ends with an empty DATA)" same_file "$FILES/two-blocks" out.two
: >"$FILES/empty"
get empty out.empty
check "empty file" sh -c "[ -f out.empty ] && [ ! -s out.empty ]"
get /k4 out.slash
check "leading / is stripped" same_file "$FILES/k4" out.slash
mkdir -p "$FILES/amd64"
cp "$FILES/two-blocks" "$FILES/amd64/9pc64"
get amd64/9pc64 out.sub
check "file in a subdirectory" same_file "$FILES/amd64/9pc64" out.sub

printf 'line one\nline two\r\nbare\rend\n' >"$FILES/text"
get text out.text ascii
check "netascii round trip through tftp-hpa" same_file "$FILES/text" out.text
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "%d\n\n\r", i }' >"$FILES/bigtext"
get bigtext out.bigtext ascii
check "netascii across many blocks" same_file "$FILES/bigtext" out.bigtext

"$GRIDBOOTD" plan9ini -c "$CFG" cpu1 >want.ini
get cfg/pxe/525400000011 got.ini
check "cfg/pxe/<mac> is the generated plan9.ini" same_file want.ini got.ini
get /cfg/pxe/525400000011 got2.ini
check "/cfg/pxe/<mac> (9boot's spelling) too" same_file want.ini got2.ini
if "$GRIDBOOTD" plan9ini -c "$CFG" default >want.def 2>/dev/null; then
	get cfg/pxe/default got.def
	check "cfg/pxe/default is the generated default" same_file want.def got.def
else
	check "cfg/pxe/default refused when there is none" refused cfg/pxe/default 1
fi
check "cfg/pxe/<unknown mac>: File not found" refused cfg/pxe/0000000000ff 1
check "missing file: File not found" refused nosuchfile 1

echo secret >"$T_TMP/secret"
check "../ refused" refused ../secret 2
check "a/../../ refused" refused amd64/../../secret 2
check "absolute path stays inside the root" refused "$T_TMP/secret" 1
ln -s "$T_TMP/secret" "$FILES/escape"
check "symlink leaving the root refused" refused escape 2
ln -s /etc/passwd "$FILES/abs-escape"
check "absolute symlink refused" refused abs-escape 2
ln -s k4 "$FILES/inside"
get inside out.inside
check "symlink inside the root is followed" same_file "$FILES/k4" out.inside
mknod "$FILES/null" c 1 3
check "character device refused" refused null 2
mkfifo "$FILES/fifo"
check "FIFO refused (and the daemon does not block on it)" refused fifo 2
check "directory refused" refused amd64 2
check "a climb out to /proc/self/root refused" refused ../../../proc/self/root/etc/passwd 2

rm -f up.txt; echo data >up.txt
timeout 10 tftp 127.0.0.1 "$PORT" -c put up.txt up.txt >put.out 2>&1
check "write request refused with ERROR 2" grep -q "Error code 2" put.out
check "nothing was written" test ! -e "$FILES/up.txt"

get k4 out.again
check "daemon still serves after all that" same_file "$FILES/k4" out.again
check "timeline event with file, size, outcome" log_has "event tftp .* k4 size 4194304 in [0-9]* ms: ok"
# A path with a newline and bytes that are not UTF-8 (RRQ "nothere\n12:00:00.000
# err: forged\xff", octet): one log line, and the event still reaches the API.
# Refusals are logged at most a burst a second and the refusals above may
# have used this second's: start a new one.
sleep 1.1
python3 "$GRIDBOOT_TOP/tests/tftp-probe.py" raw "$PORT" \
    "0001$(printf 'nothere\n12:00:00.000 err: forged' | od -An -tx1 | tr -d ' \n')ff006f6374657400" >/dev/null
check "a newline in a TFTP path cannot forge a log line" \
	wait_for 3 sh -c "grep -q 'nothere?12:00:00.000 err: forged?: refused' '$T_TMP/gridbootd.log' && ! grep -q '^12:00:00.000 err: forged' '$T_TMP/gridbootd.log'"
check "the refusal's event reaches the API as valid JSON" \
	sh -c "curl -fsS 'http://127.0.0.1:$HPORT/api/v1/timeline' | python3 -c 'import json,sys; t=json.load(sys.stdin)[\"timeline\"]; sys.exit(0 if any(\"forged?\" in e[\"text\"] for e in t) else 1)'"
# Reload: a new tree and a new port take effect on SIGHUP.
mkdir -p "$T_TMP/files2"
echo "second tree" >"$T_TMP/files2/only2"
OLDPORT=$PORT
PORT=$(free_udp_port)
sed -i "s|files = \"$FILES\"|files = \"$T_TMP/files2\"|; s|tftp_port = $OLDPORT|tftp_port = $PORT|" "$CFG"
kill -HUP "$GB_PID"
check "SIGHUP: new port bound" wait_for 10 log_has "tftp: now on udp port $PORT"
get only2 out.only2
check "SIGHUP: new tree served on the new port" same_file "$T_TMP/files2/only2" out.only2
check "SIGHUP: old port closed" test "$(python3 "$GRIDBOOT_TOP/tests/tftp-probe.py" raw "$OLDPORT" 00016b34006f6374657400)" = nothing

check "daemon exits cleanly (sanitizers quiet)" stop_gridbootd
t_done
