#!/bin/sh
# TFTP options (RFC 2347/2348/2349) and windowsize (RFC 7440) with atftp
# and curl, the OACK as a strict client sees it, option errors, and the
# 65535-block limit.
# limit: 180
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/tftp-lib.sh"
PROBE="python3 $GRIDBOOT_TOP/tests/tftp-probe.py"

tftp_setup || { not_ok "gridbootd started"; t_done; exit 1; }
ok "gridbootd started on udp port $PORT"
cd "$T_TMP"

atget() {	# atget REMOTE LOCAL OPTION...: atftp with --option each
	r=$1 l=$2; shift 2
	set -- $(for o in "$@"; do printf -- '--option\n%s\n' "$o"; done | tr ' ' '@')
	args=""
	for a in "$@"; do args="$args '$(echo "$a" | tr '@' ' ')'"; done
	rm -f "$l"
	eval timeout 60 atftp $args -g -r "$r" -l "$l" 127.0.0.1 "$PORT" >atftp.out 2>&1
}

atget k4 a1.k4 "blksize 1468"
check "atftp blksize 1468: same sha256" same_file "$FILES/k4" a1.k4
if atftp --help 2>&1 | grep -qi windowsize || atftp --option "windowsize 8" -h >/dev/null 2>&1; then
	atget k4 a2.k4 "blksize 1468" "windowsize 8"
	check "atftp blksize 1468 windowsize 8: same sha256" same_file "$FILES/k4" a2.k4
	check "transfer ran with window 8" log_has "k4: 4194304 bytes .*blksize 1468, window 8): ok"
	atget k4 a3.k4 "blksize 65464" "windowsize 64" "tsize 0" "timeout 2"
	check "atftp blksize 65464 windowsize 64 tsize timeout: same sha256" same_file "$FILES/k4" a3.k4
	check "huge window negotiated down to what fits in flight" log_has "blksize 65464, window 2): ok"
else
	ok "# SKIP this atftp build has no windowsize"
fi
head -c 20000 /dev/urandom >"$FILES/small"
atget small a4 "blksize 8"
check "atftp blksize 8 (the minimum): same sha256" same_file "$FILES/small" a4

rm -f c1.k4 c2.k4
timeout 60 curl -s --tftp-blksize 1468 -o c1.k4 "tftp://127.0.0.1:$PORT/k4"
check "curl --tftp-blksize 1468: same sha256" same_file "$FILES/k4" c1.k4
timeout 60 curl -s -o c2.k4 "tftp://127.0.0.1:$PORT/k4"
check "curl defaults: same sha256" same_file "$FILES/k4" c2.k4
timeout 60 curl -s --tftp-no-options -o c3.k4 "tftp://127.0.0.1:$PORT/k4"
check "curl --tftp-no-options: same sha256" same_file "$FILES/k4" c3.k4

$PROBE oack "$PORT" k4 blksize=1468 tsize=0 timeout=3 windowsize=8 >o1 2>&1
check "OACK carries every option, tsize the real size" \
    grep -qx "OACK blksize=1468 tsize=4194304 timeout=3 windowsize=8" o1
$PROBE oack "$PORT" k4 BlkSize=1024 x-unknown=7 >o2 2>&1
check "option names are case-insensitive, unknown options ignored" grep -qx "OACK blksize=1024" o2
$PROBE oack "$PORT" k4 blksize=99999 windowsize=500 >o3 2>&1
check "blksize and windowsize above range are answered smaller" \
    grep -qx "OACK blksize=65464 windowsize=2" o3
$PROBE oack "$PORT" k4 blksize=4 >o4 2>&1
check "blksize 4: ERROR 8" grep -q "^ERROR 8" o4
$PROBE oack "$PORT" k4 timeout=0 >o5 2>&1
check "timeout 0: ERROR 8" grep -q "^ERROR 8" o5
$PROBE oack "$PORT" k4 blksize=512 blksize=1024 >o6 2>&1
check "duplicate option: ERROR 8" grep -q "^ERROR 8.*duplicate" o6
$PROBE oack "$PORT" k4 blksize=12ab >o7 2>&1
check "non-numeric value: ERROR 8" grep -q "^ERROR 8" o7
$PROBE oack "$PORT" k4 windowsize=0 >o8 2>&1
check "windowsize 0: ERROR 8" grep -q "^ERROR 8" o8
$PROBE get "$PORT" k4 p1.k4 0 tsize=0 >/dev/null 2>&1
check "tsize alone then lock-step at 512: same sha256" same_file "$FILES/k4" p1.k4

# 40 MiB (sparse) needs 81920 blocks of 512: refused, naming the limit.
truncate -s 40M "$FILES/big"
rm -f big.out
timeout 20 tftp -m binary 127.0.0.1 "$PORT" -c get big big.out >big.txt 2>&1
check "file over 65535 blocks at 512: ERROR naming the limit" grep -q "65535" big.txt
atget big a5 "blksize 1468" "windowsize 8"
check "the same file at blksize 1468 is served" same_file "$FILES/big" a5

check "daemon exits cleanly (sanitizers quiet)" stop_gridbootd
t_done
