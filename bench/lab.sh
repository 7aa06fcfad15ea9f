#!/bin/sh
# Power-on to enrolled, in the QEMU lab: amd64 BIOS VMs (SeaBIOS + iPXE
# ROM) netboot the discovery image and POST their facts, served either by
# gridbootd or by the anchor stack (dnsmasq for DHCP+TFTP, a static Python
# HTTP server that also takes the enroll POST), in the same run, in the
# same namespace, one server at a time.
#   1. one VM: BENCH_LAB_RUNS runs (default 3) per server, alternating; medians
#   2. BENCH_LAB_N VMs (default 4) powered on at once: time until the last
#      one has enrolled (BENCH_LAB_NRUNS runs per server, default 1)
#   3. iPXE's IPv6 wait: one VM served by gridbootd, BENCH_LAB_GAP_RUNS runs
#      (default 2) of each variant; the DHCPACK -> first HTTP request gap
#      from gridbootd's timeline, and power-on to enrolled, medians:
#        ra      gridbootd's own RA (networks[].ra = "auto"), no other router
#        router  another router on the link (radvd in its own namespace,
#                lifetime 0, no prefix): gridbootd stays quiet, radvd's RA
#                ends iPXE's wait. radvd is used only here, not by the lab.
#        none    ra = "off" and no router: iPXE's IPv6 timeout, the old wait
#   4. netboot over IPv6 (issue 15), gridbootd only, on the lab's
#      IPv6-only link (br6): an amd64 UEFI VM with OVMF's own IPv6 PXE
#      (DHCPv6 -> TFTP ipxe.efi -> iPXE DHCPv6 -> HTTP) and an amd64 BIOS
#      VM whose iPXE ROM boots from DHCPv6, one at a time,
#      BENCH_LAB_V6_RUNS runs each (default 1): power-on to enrolled and
#      the steps from gridbootd's timeline.
#      BENCH_LAB_PHASES="1 2 3 4" picks phases (default all).
# The clock runs from starting QEMU to the moment the VM's serial console
# prints "GRIDBOOT-DISCOVERY: enrolled" (polled every 0.1 s), which comes
# right after the server answered the POST. Ratios are anchor / gridbootd:
# above 1 means gridbootd got the machines enrolled sooner. Under TCG
# nearly all the time is the guests' own (SeaBIOS, iPXE's waits, Linux);
# the servers' part is well under a second, so expect ratios near 1, and
# on a loaded host expect noise well beyond that. gridbootd's runs get its
# own router advertisement (server/ra); the anchor's get radvd's, from a
# second namespace on the bridge (tests/deps.d/ra.txt). Needs root.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
LAB_TOP=$TOP
. "$TOP/test-lab/lib.sh"
GRIDBOOTD=${GRIDBOOTD:-$TOP/build/gridbootd}
RUNS=${BENCH_LAB_RUNS:-3}
N=${BENCH_LAB_N:-4}
LIMIT=240               # seconds any one boot may take
NS=gbbench$$
DIR=$(mktemp -d /tmp/gridboot-benchlab.XXXXXX)
RESULTS=$TOP/bench/results

cleanup() {
	# Every process this started has a PID file in DIR (QEMU's -pidfile,
	# the servers'), also those started inside $(boot ...) subshells.
	for f in "$DIR"/*.pid; do
		[ -f "$f" ] && lab_pid_stop "$f"
	done
	lab_router_down "$NS" "$DIR"
	lab_net_down "$NS"
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" = 0 ] || { echo "bench/lab.sh: needs root" >&2; exit 1; }
[ -x "$GRIDBOOTD" ] || { echo "bench/lab.sh: no $GRIDBOOTD (make all)" >&2; exit 1; }
sh "$TOP/test-lab/build-discovery.sh" amd64 || exit 1
lab_ensure_loaders "$TOP/kernels"
LAB_ACCEL_RESOLVED=$(lab_accel)

lab_cfg "$DIR/lab.cfg" "$DIR/state"

# gridbootd's RA stands in for a router (server/ra); phase 3 adds one.
sed 's/dhcp = "full"; ra = "auto";/dhcp = "full"; ra = "off";/' "$DIR/lab.cfg" >"$DIR/lab-raoff.cfg"
grep -q 'ra = "off"' "$DIR/lab-raoff.cfg" || { echo "bench/lab.sh: lab.cfg's network line changed" >&2; exit 1; }
CFG=$DIR/lab.cfg
PHASES=${BENCH_LAB_PHASES:-1 2 3 4}
GAPRUNS=${BENCH_LAB_GAP_RUNS:-2}

lab_net_up "$NS" || exit 1
i=1
while [ $i -le "$N" ]; do lab_tap_add "$NS" "tap$i"; i=$((i + 1)); done
lab_tap_add "$NS" tap6 "$LAB_BRIDGE6"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

server_start() {	# gridbootd|anchor
	if [ "$1" = gridbootd ]; then
		rm -rf "$DIR/state"
		ip netns exec "$NS" "$GRIDBOOTD" serve -c "$CFG" -d -l warn \
		    </dev/null >>"$DIR/gridbootd.log" 2>&1 &
		echo $! >"$DIR/gridbootd.pid"
		i=0
		until ip netns exec "$NS" curl -s -m 1 -o /dev/null "http://$LAB_SERVER/boot.ipxe" ||
		    [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
		kill -0 "$(cat "$DIR/gridbootd.pid")" 2>/dev/null ||
		    { tail -n 5 "$DIR/gridbootd.log" >&2; return 1; }
	else
		rm -f "$DIR/dnsmasq.leases"
		# The anchor sends no router advertisement; radvd (lifetime 0,
		# no prefix) stands in so both servers' iPXE boots skip the
		# IPv6 wait alike.
		lab_router_up "$NS" "$DIR" || return 1
		lab_anchor_start "$NS" "$DIR" "$TOP/kernels" || return 1
	fi
}

server_stop() {
	if [ "$1" = gridbootd ]; then lab_pid_stop "$DIR/gridbootd.pid"; else
		lab_anchor_stop "$DIR"
		lab_router_down "$NS" "$DIR"
	fi
}

# boot K: powers on K BIOS VMs at once (unknown MACs 52:54:00:00:02:0k),
# prints the milliseconds until the last one enrolled, or "fail".
boot() {
	k=$1
	VMPIDS=""
	t0=$(now_ms)
	i=1
	while [ $i -le "$k" ]; do
		p=$(lab_vm_start "$NS" "vm$i" bios "52:54:00:00:02:0$i" 256 "tap$i" "$DIR")
		VMPIDS="$VMPIDS $p"
		eval "pid_$i=$p"
		i=$((i + 1))
	done
	left=$k
	bad=0
	deadline=$((t0 + LIMIT * 1000))
	while [ "$left" -gt 0 ] && [ "$(now_ms)" -lt $deadline ]; do
		sleep 0.1
		left=0 bad=0
		i=1
		while [ $i -le "$k" ]; do
			# A VM is done when its result line is out (enrolled or
			# failed); a failure makes the whole boot "fail".
			res=$(grep -ao 'GRIDBOOT-DISCOVERY: [a-z]*' "$DIR/vm$i.serial" 2>/dev/null)
			case $res in
			*enrolled) ;;
			*failed) bad=$((bad + 1)) ;;
			*)	# gone without a word (a guest panic): failed
				if eval "kill -0 \$pid_$i" 2>/dev/null; then
					left=$((left + 1))
				else
					bad=$((bad + 1))
				fi ;;
			esac
			i=$((i + 1))
		done
	done
	t1=$(now_ms)
	# The VMs power off by themselves; wait (bounded) so the next run
	# starts on an idle machine.
	for p in $VMPIDS; do
		j=0
		while kill -0 "$p" 2>/dev/null && [ $j -lt 300 ]; do sleep 0.1; j=$((j + 1)); done
		kill "$p" 2>/dev/null
	done
	VMPIDS=""
	if [ "$left" -gt 0 ] || [ "$bad" -gt 0 ]; then echo fail; else echo $((t1 - t0)); fi
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "fail")}'; }
secs() { case $1 in fail) echo fail ;; *) awk -v m="$1" 'BEGIN {printf "%.1f s", m / 1000}' ;; esac; }
ratio() {
	case "$1$2" in *fail*) echo "n/a" ;; *) awk -v a="$1" -v g="$2" 'BEGIN {printf "%.2f", a / g}' ;; esac
}

# rounds VMS RUNS LABEL: RUNS rounds of booting VMS VMs at once per
# server, alternating which server goes first; sets G and A to the
# gridbootd and anchor times (ms, or fail), space-separated.
rounds() {
	G="" A=""
	r=1
	while [ $r -le "$2" ]; do
		order="gridbootd anchor"
		[ $((r % 2)) -eq 0 ] && order="anchor gridbootd"
		for s in $order; do
			if server_start $s; then t=$(boot "$1"); else t=fail; fi
			server_stop $s
			echo "lab: $3run $r, $s: $(secs "$t")" >&2
			if [ $s = gridbootd ]; then G="$G $t"; else A="$A $t"; fi
		done
		r=$((r + 1))
	done
}
has_phase() { echo " $PHASES " | grep -q " $1 "; }
mkdir -p "$RESULTS"
: >"$RESULTS/lab.txt.new"
if has_phase 1; then
	rounds 1 "$RUNS" ""
	gm=$(echo "$G" | median) am=$(echo "$A" | median)
	echo "lab ($LAB_ACCEL_RESOLVED): power-on to enrolled, one amd64 BIOS VM, median of $RUNS:" \
	    "gridbootd $(secs "$gm"), dnsmasq+static HTTP $(secs "$am"), ratio $(ratio "$am" "$gm")" |
	    tee -a "$RESULTS/lab.txt.new"
	[ "$gm" != fail ] || FAILED=1
fi
if has_phase 2; then
	rounds "$N" "${BENCH_LAB_NRUNS:-1}" "$N at once, "
	gn=$(echo "$G" | median) an=$(echo "$A" | median)
	echo "lab ($LAB_ACCEL_RESOLVED): $N amd64 BIOS VMs at once, until the last enrolled:" \
	    "gridbootd $(secs "$gn"), dnsmasq+static HTTP $(secs "$an"), ratio $(ratio "$an" "$gn")" |
	    tee -a "$RESULTS/lab.txt.new"
	[ "$gn" != fail ] || FAILED=1
fi

# gap VARIANT: one gridbootd boot of VM 1; appends the ACK -> HTTP gap (ms)
# to GAPS and power-on to enrolled to TIMES.
gap_run() {
	CFG=$DIR/lab.cfg
	[ "$1" = none ] && CFG=$DIR/lab-raoff.cfg
	[ "$1" = router ] && { lab_router_up "$NS" "$DIR" || return 1; sleep 2; }
	if server_start gridbootd; then t=$(boot 1); else t=fail; fi
	ip netns exec "$NS" curl -s -m 5 "http://$LAB_SERVER/api/v1/timeline?after=0" >"$DIR/timeline.json"
	quiet=$(ip netns exec "$NS" curl -s -m 5 "http://$LAB_SERVER/metrics" | sed -n 's/^gridboot_ra_quiet_total //p')
	server_stop gridbootd
	[ "$1" = router ] && lab_router_down "$NS" "$DIR"
	g=$(lab_ack_http_gap "$DIR/timeline.json" 52:54:00:00:02:01)
	[ "$g" = none ] && g=fail
	echo "lab: gap $1: ACK -> HTTP $g ms, power-on to enrolled $(secs "$t"), gridbootd went quiet ${quiet:-?} times" >&2
	GAPS="$GAPS $g" TIMES="$TIMES $t"
}
if has_phase 3; then
	for v in ra router none; do
		GAPS="" TIMES=""
		r=1
		while [ $r -le "$GAPRUNS" ]; do gap_run $v; r=$((r + 1)); done
		gm=$(echo "$GAPS" | median) tm=$(echo "$TIMES" | median)
		case $v in
		ra) gap_ra=$gm time_ra=$tm ;;
		router) gap_router=$gm time_router=$tm ;;
		none) gap_none=$gm time_none=$tm ;;
		esac
	done
	{
	echo "lab ($LAB_ACCEL_RESOLVED): iPXE DHCPACK -> first HTTP request, one amd64 BIOS VM, median of $GAPRUNS:" \
	    "gridbootd's RA $gap_ra ms, another router (radvd) $gap_router ms, no RA at all $gap_none ms"
	echo "lab ($LAB_ACCEL_RESOLVED): power-on to enrolled, same runs:" \
	    "gridbootd's RA $(secs "$time_ra"), another router $(secs "$time_router"), no RA at all $(secs "$time_none")"
	} | tee -a "$RESULTS/lab.txt.new"
	[ "$gap_ra" != fail ] && [ "$gap_router" != fail ] || FAILED=1
fi
# v6_run NAME KIND MAC: one gridbootd boot of that VM on br6; appends
# power-on to enrolled (ms, or fail) to V6T and prints the steps: ms from
# power-on to its first DHCPv6 reply, first TFTP, iPXE's DHCPv6 (the one
# whose URL is http), first HTTP request and the enroll.
v6_run() {
	name=$1 kind=$2 mac=$3
	server_start gridbootd || { V6T="$V6T fail"; return; }
	t0=$(now_ms)
	p=$(lab_vm_start "$NS" "$name" "$kind" "$mac" 256 tap6 "$DIR")
	res=""
	while [ "$(now_ms)" -lt $((t0 + LIMIT * 1000)) ] && kill -0 "$p" 2>/dev/null; do
		res=$(grep -ao 'GRIDBOOT-DISCOVERY: [a-z]*' "$DIR/$name.serial" 2>/dev/null)
		[ -n "$res" ] && break
		sleep 0.1
	done
	t1=$(now_ms)
	j=0
	while kill -0 "$p" 2>/dev/null && [ $j -lt 300 ]; do sleep 0.1; j=$((j + 1)); done
	kill "$p" 2>/dev/null
	ip netns exec "$NS" curl -s -m 5 "http://$LAB_SERVER/api/v1/timeline?after=0" >"$DIR/timeline6.json"
	server_stop gridbootd
	case $res in *enrolled) t=$((t1 - t0)) ;; *) t=fail ;; esac
	V6T="$V6T $t"
	steps=$(jq -r --arg m "$mac" --argjson t0 "$t0" '[.timeline[] | select(.mac == $m)] as $e
	    | def at(f): ($e | map(select(f)) | first | if . then "\(.time_ms - $t0) ms" else "-" end);
	    "DHCPv6 \(at(.kind == "dhcp")), TFTP \(at(.kind == "tftp")), iPXE DHCPv6 \(at(.kind == "dhcp" and (.text | test("url http")))), HTTP \(at(.kind == "http")), enroll \(at(.kind == "enroll"))"' \
	    "$DIR/timeline6.json" 2>/dev/null)
	echo "lab: ipv6 $name ($kind): power-on to enrolled $(secs "$t"); from power-on: $steps" >&2
	V6S=$steps
}
if has_phase 4; then
	for vm in "disc-uefi6 uefi6 52:54:00:00:00:26" "unknown6 bios6 52:54:00:00:01:06"; do
		# shellcheck disable=SC2086
		set -- $vm
		V6T=""
		r=1
		while [ $r -le "${BENCH_LAB_V6_RUNS:-1}" ]; do v6_run "$1" "$2" "$3"; r=$((r + 1)); done
		tm=$(echo "$V6T" | median)
		echo "lab ($LAB_ACCEL_RESOLVED): over IPv6 only, $1 ($2): power-on to enrolled $(secs "$tm"); last run from power-on: $V6S" |
		    tee -a "$RESULTS/lab.txt.new"
		[ "$tm" != fail ] || FAILED=1
	done
fi
mv "$RESULTS/lab.txt.new" "$RESULTS/lab.txt"
[ -z "${FAILED:-}" ]
