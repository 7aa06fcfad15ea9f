#!/bin/sh
# TFTP throughput: gridbootd against tftpd-hpa, dnsmasq's TFTP and atftpd
# (threaded, and the one anchor that negotiates windowsize), measured
# in the same run by the same clients, between two network namespaces
# joined by a veth pair. Cases: a 4 MiB kernel at blksize 512 without
# options (what 9boot does: tftp-hpa's client), at blksize 1468 (atftp),
# one client and 50 at once, plus windowsize 8 (atftp) which only gridbootd
# and atftpd negotiate. The 50-read cases run twice: with one client
# process per read (tftp-hpa, atftp), and with bench/tftp_load.c, one
# process for all of them, which costs less CPU than the servers it
# measures (50 atftp processes cost several times more, on the same two
# cores). Prints MiB/s (median of RUNS), gridbootd's ratio to the best
# anchor, and for tftp_load each server's CPU. Needs root, tftp-hpa, atftp, tftpd-hpa, dnsmasq-base.
# Debian's atftpd conflicts with tftpd-hpa (both are in.tftpd), so unless
# it is installed its package is downloaded (apt-get download) and its
# binary run from build/anchors/, never installed.
set -u
cd "$(dirname "$0")/.."
GRIDBOOTD=${GRIDBOOTD:-$PWD/build/gridbootd}
RUNS=${RUNS:-5}
CONC=${CONC:-50}
# TFTP_BENCH_CLIENTS: tools (tftp-hpa and atftp processes, one per read),
# load (bench/tftp_load.c), or both (the default).
CLIENTS=${TFTP_BENCH_CLIENTS:-both}
# VERBOSE=1: each run's seconds under each tftp_load row.
T=$(mktemp -d /tmp/gridboot-bench.XXXXXX)
BENCH_TMP=$T
. bench/lib.sh
bench_init tftp
bench_need bench/tftp.sh tftp atftp in.tftpd dnsmasq ip
ATFTPD=$(command -v atftpd || echo "$PWD/build/anchors/usr/sbin/atftpd")
if [ ! -x "$ATFTPD" ]; then
	mkdir -p build/anchors
	(cd build/anchors && apt-get download atftpd >/dev/null 2>&1 &&
	    dpkg-deb -x atftpd_*.deb .) ||
	    { echo "bench/tftp.sh: cannot get atftpd (apt-get download atftpd)"; exit 1; }
fi
[ -x "$GRIDBOOTD" ] || { echo "bench/tftp.sh: build $GRIDBOOTD first (make)"; exit 1; }
cc -O2 -o "$T/tftp_load" bench/tftp_load.c || exit 1

# The server side holds four addresses, one per server, so every server
# listens on its own address.
bench_link 10.77.0.2/24 10.77.0.1/24 10.77.0.3/24 10.77.0.4/24 10.77.0.5/24
sleep 1

chmod 755 "$T"
mkdir -p "$T/files" "$T/state"
chmod 755 "$T/files"
head -c 4194304 /dev/urandom >"$T/files/k4"
chmod 644 "$T/files/k4"
want=$(sha256sum "$T/files/k4" | cut -d' ' -f1)

cat >"$T/grid.cfg" <<EOF
grid = { name = "bench"; server = "10.77.0.1"; files = "$T/files"; state = "$T/state";
  tftp_port = 1069; http_port = 18081; dhcp_port = 16768; proxy_port = 14012; };
networks = ( { subnet = "10.77.0.0/24"; dhcp = "off"; } );
EOF
# gridbootd binds the wildcard address, so it gets its own port (1069);
# the anchors bind their own address on port 69.
bench_serve "$GRIDBOOTD" serve -c "$T/grid.cfg" -d -l info >"$T/gridbootd.log" 2>&1
PID_gb=$BENCH_PID
bench_serve /usr/sbin/in.tftpd -L -a 10.77.0.3:69 -s "$T/files" >"$T/tftpd.log" 2>&1
PID_hpa=$BENCH_PID
bench_serve dnsmasq -k --port=0 --enable-tftp --tftp-root="$T/files" --tftp-max=500 \
    --listen-address=10.77.0.4 --bind-interfaces --no-resolv --no-hosts \
    --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log"
PID_dm=$BENCH_PID
# atftpd: a thread per transfer (up to 100), as Debian starts it.
bench_serve "$ATFTPD" --daemon --no-fork --port 69 --bind-address 10.77.0.5 --maxthread 100 \
    --logfile "$T/atftpd.log" --verbose=1 "$T/files"
PID_at=$BENCH_PID
sleep 1

# Server table: name address port
SERVERS="gridbootd 10.77.0.1 1069
tftpd-hpa 10.77.0.3 69
dnsmasq 10.77.0.4 69
atftpd 10.77.0.5 69"

# fetch CLIENT ADDR PORT OUT: one 4 MiB read.
fetch() {
	case $1 in
	hpa512) timeout 60 tftp -m binary "$2" "$3" -c get k4 "$4" >/dev/null 2>&1 ;;
	at1468) timeout 60 atftp --option "blksize 1468" -g -r k4 -l "$4" "$2" "$3" >/dev/null 2>&1 ;;
	at1468w8) timeout 60 atftp --option "blksize 1468" --option "windowsize 8" \
	    -g -r k4 -l "$4" "$2" "$3" >/dev/null 2>&1 ;;
	esac
}

# load ADDR PORT N BLKSIZE WINDOW: seconds for N reads at once by
# bench/tftp_load.c, one process in the client namespace that checks
# every byte against the file; empty if any read failed.
load() {
	out=$(cx "$T/tftp_load" "$1" "$2" k4 "$T/files/k4" "$3" "$4" "$5" 2>>"$T/load.err") || return
	echo "$out" | awk '{ for (i = 1; i < NF; i++) if ($i == "seconds") print $(i + 1) }'
}

# cpu_s PID: the CPU seconds a server has used, its reaped children's
# included (atftpd's threads are in its own).
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13 + $14 + $15) / hz }' "/proc/$1/stat"
}

# run CLIENT ADDR PORT N: seconds for N clients at once (in the client ns).
run() {
	cx sh -c '
		. "$0"
		s=$(date +%s.%N)
		i=0
		while [ $i -lt $4 ]; do fetch "$1" "$2" "$3" /dev/null & i=$((i + 1)); done
		wait
		e=$(date +%s.%N)
		echo "$s $e" | awk "{ printf \"%.4f\", \$2 - \$1 }"
	' "$T/fetch.sh" "$@"
}
sed -n '/^fetch() {/,/^}/p' "$0" >"$T/fetch.sh"

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Correctness first: each server hands every client the right bytes, or
# there is nothing to measure.
wrong=$(for c in hpa512 at1468; do
	echo "$SERVERS" | while read -r name addr port; do
		rm -f "$T/check"
		cx sh -c ". $T/fetch.sh; fetch $c $addr $port $T/check"
		got=$(sha256sum "$T/check" 2>/dev/null | cut -d' ' -f1)
		[ "$got" = "$want" ] || echo "bench/tftp.sh: $name via $c: wrong or missing data"
	done
done)
[ -z "$wrong" ] || { echo "$wrong"; exit 1; }

printf '%-34s %10s %10s %10s %10s %7s\n' "case (4 MiB, MiB/s, median of $RUNS)" gridbootd tftpd-hpa \
    dnsmasq atftpd ratio
bench_case() {	# LABEL CLIENT N [WINDOWED_CLIENT]
	label=$1 client=$2 n=$3 wclient=${4:-$2}
	# Rounds interleave the servers, so a burst of load from elsewhere on
	# the machine hits all four alike instead of one server's runs.
	t_gb="" t_hpa="" t_dm="" t_at=""
	r=0
	while [ $r -lt "$RUNS" ]; do
		t_gb="$t_gb $(run "$wclient" 10.77.0.1 1069 "$n")"
		t_hpa="$t_hpa $(run "$client" 10.77.0.3 69 "$n")"
		t_dm="$t_dm $(run "$client" 10.77.0.4 69 "$n")"
		t_at="$t_at $(run "$wclient" 10.77.0.5 69 "$n")"
		r=$((r + 1))
	done
	gb=$(mibs "$n" "$t_gb")
	hpa=$(mibs "$n" "$t_hpa")
	dm=$(mibs "$n" "$t_dm")
	at=$(mibs "$n" "$t_at")
	ratio=$(awk -v a="$gb" -v b="$hpa" -v c="$dm" -v d="$at" \
	    'BEGIN { m = b > c ? b : c; m = d > m ? d : m; printf "%.2f", (m > 0 ? a / m : 0) }')
	printf '%-34s %10s %10s %10s %10s %7s\n' "$label" "$gb" "$hpa" "$dm" "$at" "$ratio"
}
# bench_load LABEL N BLKSIZE WINDOW: the same rounds with tftp_load, plus
# each server's CPU seconds for its runs (median of RUNS).
bench_load() {
	label=$1 n=$2 bs=$3 ws=$4
	t_gb="" t_hpa="" t_dm="" t_at="" c_gb="" c_hpa="" c_dm="" c_at=""
	r=0
	while [ $r -lt "$RUNS" ]; do
		for s in gb:10.77.0.1:1069 hpa:10.77.0.3:69 dm:10.77.0.4:69 at:10.77.0.5:69; do
			k=${s%%:*} a=${s#*:}
			eval pid=\$PID_$k
			c0=$(cpu_s "$pid")
			t=$(load "${a%:*}" "${a#*:}" "$n" "$bs" "$ws")
			c1=$(cpu_s "$pid")
			c=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
			eval "t_$k=\"\$t_$k \${t:-999}\"; c_$k=\"\$c_$k $c\""
		done
		r=$((r + 1))
	done
	gb=$(mibs "$n" "$t_gb") hpa=$(mibs "$n" "$t_hpa") dm=$(mibs "$n" "$t_dm") at=$(mibs "$n" "$t_at")
	ratio=$(awk -v a="$gb" -v b="$hpa" -v c="$dm" -v d="$at" \
	    'BEGIN { m = b > c ? b : c; m = d > m ? d : m; printf "%.2f", (m > 0 ? a / m : 0) }')
	printf '%-34s %10s %10s %10s %10s %7s\n' "$label" "$gb" "$hpa" "$dm" "$at" "$ratio"
	# tftpd-hpa's children are not waited for, so their CPU is nobody's.
	cgb=$(echo "$c_gb" | median) chpa=n/a cdm=$(echo "$c_dm" | median) cat_=$(echo "$c_at" | median)
	printf '%-34s %10s %10s %10s %10s %7s\n' "  server CPU s per run" "$cgb" "$chpa" "$cdm" "$cat_" \
	    "$(awk -v a="$cgb" -v d="$cat_" 'BEGIN { printf "%.2f", (a > 0 ? d / a : 0) }')"
	[ -z "${VERBOSE:-}" ] || echo "  seconds: gridbootd$t_gb; tftpd-hpa$t_hpa; dnsmasq$t_dm; atftpd$t_at"
}
mibs() {	# N "TIMES": MiB/s of the median time
	t=$(echo "$2" | median)
	awk -v n="$1" -v t="$t" 'BEGIN { printf "%.1f", 4 * n / t }'
}
if [ "$CLIENTS" != load ]; then
	bench_case "512 no options, 1 client" hpa512 1
	bench_case "512 no options, $CONC clients" hpa512 "$CONC"
	bench_case "1468, 1 client" at1468 1
	bench_case "1468, $CONC clients" at1468 "$CONC"
	bench_case "1468 windowsize 8, 1 client" at1468 1 at1468w8
	bench_case "1468 windowsize 8, $CONC clients" at1468 "$CONC" at1468w8
fi
if [ "$CLIENTS" != tools ]; then
	bench_load "tftp_load: 512 no options, $CONC" "$CONC" 512 1
	bench_load "tftp_load: 1468, $CONC" "$CONC" 1468 1
	bench_load "tftp_load: 1468 windowsize 8, $CONC" "$CONC" 1468 8
	[ -s "$T/load.err" ] && sed 's/^/  /' "$T/load.err" | sort | uniq -c | head -5
fi
echo "ratio = gridbootd / best of the three anchors (same client; the windowsize"
echo "rows ask every server for windowsize 8, which only gridbootd and atftpd negotiate)."
echo "tftp_load rows: one client process for all $CONC reads (bench/tftp_load.c), so the"
echo "servers, not $CONC client processes, are what is measured; their CPU line's ratio is"
echo "atftpd's CPU over gridbootd's."
echo "targets (issue 23): $CONC clients >= 1.2x atftpd windowed, >= 1.0x lock-step"
grep -i "sanitizer\| err: \| warning: " "$T/gridbootd.log" | head -5
slow=$(grep -c "(blksize " "$T/gridbootd.log")
resends=$(grep -c ": timeout\|last ACK not seen" "$T/gridbootd.log")
echo "gridbootd: $slow transfers logged, $resends timed out or lost their last ACK"
grep "(blksize " "$T/gridbootd.log" | awk '{ n++; if ($12 + 0 > $6 + 0) r++ }
    END { printf "gridbootd: %d of %d transfers needed a resend\n", r, n }'
if [ -n "${KEEP:-}" ]; then cp "$T/gridbootd.log" "$KEEP"; fi
