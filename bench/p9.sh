#!/bin/sh
# 9P file service: gridbootd against diod serving the same directory (a
# 64 MiB file made here, a small file) in the same run, to the same client
# (the project's tests/tools/p9c), between two network namespaces joined by
# a veth pair. diod speaks 9P2000.L only, so p9c talks 9P2000.L to both;
# gridbootd is also measured in 9P2000 (what Plan 9 speaks) as a third
# column. Cases: the 64 MiB read at msize 8216 (Plan 9's usual) and 65560
# (64 KiB of data per read), stat (Tgetattr / Tstat) per second and
# walk+open+clunk per second, each by 1 client and by CONC at once (one
# connection each). Rounds interleave the servers; each figure is the
# median of RUNS. The ratio is gridbootd (9P2000.L) / diod. Needs root,
# diod (sh tests/install-deps.sh p9), and `make all units`.
set -u
cd "$(dirname "$0")/.."
GRIDBOOTD=${GRIDBOOTD:-$PWD/build/gridbootd}
P9C=${P9C:-$(dirname "$GRIDBOOTD")/tools/p9c}
RUNS=${RUNS:-3}
CONC=${CONC:-50}
T=$(mktemp -d /tmp/gridboot-bench.XXXXXX)
BENCH_TMP=$T
. bench/lib.sh
bench_init p9
bench_need bench/p9.sh diod ip timeout
[ -x "$GRIDBOOTD" ] || { echo "bench/p9.sh: build $GRIDBOOTD first (make)"; exit 1; }
[ -x "$P9C" ] || { echo "bench/p9.sh: build $P9C first (make all units)"; exit 1; }
bench_link 10.79.0.2/24 10.79.0.1/24
# diod refuses a client whose address getnameinfo cannot name.
bench_hosts "10.79.0.1 p9server" "10.79.0.2 p9client"
sleep 1

chmod 755 "$T"
X=$T/export
mkdir -p "$X" "$T/state" "$T/files"
chmod 755 "$X"
head -c 67108864 /dev/urandom >"$X/big"
echo "a small file" >"$X/small"
chmod 644 "$X/big" "$X/small"
want=$(sha256sum "$X/big" | cut -d' ' -f1)

cat >"$T/grid.cfg" <<EOF
grid = { name = "bench"; server = "10.79.0.1"; files = "$T/files"; state = "$T/state";
  p9_port = 5641; http_port = 18083; tftp_port = 16970; dhcp_port = 16769; proxy_port = 14013; };
networks = ( { subnet = "10.79.0.0/24"; dhcp = "off"; } );
exports = ( { name = ""; path = "$X"; } );
EOF
bench_serve "$GRIDBOOTD" serve -c "$T/grid.cfg" -d -l info >"$T/gridbootd.log" 2>&1
GB_PID=$BENCH_PID
# diod as shipped (16 worker threads), no auth; it serves 9P2000.L only and
# looks the attaching user up, so every client attaches as root.
bench_serve /usr/sbin/diod -f -n -e "$X" -l 10.79.0.1:5640 >"$T/diod.log" 2>&1
DIOD_PID=$BENCH_PID
i=0
while [ $i -lt 50 ] && ! grep -q "9p: listening" "$T/gridbootd.log"; do
	sleep 0.1; i=$((i + 1))
done
sleep 0.5

# p9c's options for column COL: gridbootd in 9P2000.L (gbL) and 9P2000
# (gb), diod (9P2000.L; its attach name is the exported path).
opts() {
	case $1 in
	gbL) echo "-L -u root" ;;
	diod) echo "-L -u root -a $X" ;;
	gb) echo "-u root" ;;
	esac
}
port() { if [ "$1" = diod ]; then echo 5640; else echo 5641; fi; }
# p9 COL ARGS...: one p9c command, bounded by 120 s.
p9() {
	col=$1
	shift
	# shellcheck disable=SC2046
	cx timeout 120 "$P9C" $(opts "$col") 10.79.0.1 "$(port "$col")" "$@"
}
# The server's CPU time so far (user + system, all threads), in ticks.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# run COL MSIZE CONNS COUNT CMD PATH: one p9c run; appends "rate ops
# cpu-ticks" (ops: bytes for read) to $T/res.COL.
run() {
	col=$1 msize=$2 conns=$3 count=$4 cmd=$5 path=$6
	pid=$GB_PID
	[ "$col" = diod ] && pid=$DIOD_PID
	c0=$(cpu "$pid")
	# shellcheck disable=SC2046
	out=$(cx timeout 120 "$P9C" $(opts "$col") -m "$msize" -c "$conns" -n "$count" \
	    10.79.0.1 "$(port "$col")" "$cmd" "$path" 2>&1)
	c1=$(cpu "$pid")
	echo "$out" >>"$T/p9c.$col.log"
	# "p9c: read N bytes in S s: X MiB/s" / "p9c: stat N in S s: R/s"
	echo "$out" | awk -v cpu=$((c1 - c0)) '/^p9c: (read|stat|walkopen) [0-9]+ / {
		v = $NF; if (v == "MiB/s") v = $(NF - 1); sub(/\/s$/, "", v); r = v; n = $3 }
		/error/ { bad = 1 } END { print ((bad || r == "") ? 0 : r), n + 0, cpu }' \
	    >>"$T/res.$col"
}

# Correctness first: every server gives the 64 MiB file's bytes.
wrong=""
for col in gbL diod gb; do
	got=$(p9 "$col" cat big | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || wrong="$wrong $col"
done
[ -z "$wrong" ] || {
	echo "bench/p9.sh: wrong or missing bytes from:$wrong"
	cat "$T/gridbootd.log" "$T/diod.log"; exit 1; }

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }

TCK=$(getconf CLK_TCK)
printf '%-30s %11s %11s %11s %6s %6s\n' "case (median of $RUNS)" "gb 9P2000.L" diod "gb 9P2000" ratio ratio2
: >"$T/cost"
# bench_case LABEL MSIZE CONNS COUNT CMD PATH
bench_case() {
	label=$1
	shift
	: >"$T/res.gbL"; : >"$T/res.diod"; : >"$T/res.gb"
	r=0
	while [ $r -lt "$RUNS" ]; do
		run gbL "$@"
		run diod "$@"
		run gb "$@"
		r=$((r + 1))
	done
	gbL=$(cut -d' ' -f1 "$T/res.gbL" | median)
	di=$(cut -d' ' -f1 "$T/res.diod" | median)
	gb=$(cut -d' ' -f1 "$T/res.gb" | median)
	printf '%-30s %11s %11s %11s %6s %6s\n' "$label" "$gbL" "$di" "$gb" \
	    "$(ratio "$gbL" "$di")" "$(ratio "$gb" "$di")"
	# Server CPU per operation over every run of the case: µs per stat
	# or walk+open+clunk, ms per MiB read.
	unit=1000000 per=1
	[ "$4" = read ] && unit=1000 per=1048576
	for col in gbL diod gb; do
		awk -v t="$TCK" -v u=$unit -v p=$per '{ n += $2; c += $3 }
		    END { printf " %11.1f", (n > 0) ? c / t * u / (n / p) : 0 }' "$T/res.$col"
	done | { read -r a b c; printf '%-30s %11s %11s %11s\n' "$label" "$a" "$b" "$c"; } >>"$T/cost"
}
# Counts: a second or more of work per run at diod's rates.
bench_case "read 64M msize 8216, 1 (MiB/s)" 8216 1 2 read big
bench_case "read 64M msize 8216, $CONC" 8216 "$CONC" 1 read big
bench_case "read 64M msize 65560, 1" 65560 1 8 read big
bench_case "read 64M msize 65560, $CONC" 65560 "$CONC" 1 read big
bench_case "stat/s, 1" 8216 1 20000 stat small
bench_case "stat/s, $CONC" 8216 "$CONC" 2000 stat small
bench_case "walk+open+clunk/s, 1" 8216 1 8000 walkopen small
bench_case "walk+open+clunk/s, $CONC" 8216 "$CONC" 800 walkopen small
echo "ratio = gridbootd 9P2000.L / diod, ratio2 = gridbootd 9P2000 / diod;"
echo "target >= 1 on every case (../shared/perf-targets.md)"
echo
echo "server CPU (user+sys, every thread) per operation: ms per MiB read, us per stat or walk+open+clunk"
printf '%-30s %11s %11s %11s\n' case "gb 9P2000.L" diod "gb 9P2000"
cat "$T/cost"
# A fast wrong answer is no answer: show any errors a client saw.
grep -h "error\|closed" "$T"/p9c.*.log | sort | uniq -c | head -5
grep -i "sanitizer\| err: \| warning: " "$T/gridbootd.log" | head -5
exit 0
