#!/bin/sh
# The QEMU lab: `make lab` (up), `make lab-down` (down), `sh test-lab/lab.sh
# status`. As root on Debian 12.
#
# up     installs what the lab needs, builds gridbootd and the discovery
#        image, creates the network namespace gblab (bridge br0 at
#        10.99.0.1, one tap per VM, a veth to the host), starts gridbootd in
#        it with inventory/lab.cfg, starts the VMs (serial consoles in
#        test-lab/run/<name>.serial) and shows a live status table until
#        you press q (or Ctrl-C). The lab keeps running after that.
# down   stops what `up` started, by the PID files in test-lab/run/, and
#        removes the namespace and the veth it created.
# status prints the table once.
#
# drawterm [CMD] logs in to cpu1 from the host as glenda with drawterm
#        (gridbootd is the auth server): a window, or with CMD, no window
#        (-G) and CMD's output.
# console NAME types stdin's lines on NAME's serial console (a Plan 9
#        machine's; the transcript is test-lab/run/NAME.serial).
#
# Environment: LAB_ACCEL=tcg|kvm (default: probe), LAB_VMS="name ..." (a
# subset of the machines below), LAB_NS (default gblab), LAB_WATCH=no (up
# returns once the VMs are started: for scripts).
set -eu
LAB_TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$LAB_TOP/test-lab/lib.sh"

NS=${LAB_NS:-gblab}
RUN=$LAB_TOP/test-lab/run
CFG=${LAB_CFG:-$LAB_TOP/inventory/lab.cfg}
GRIDBOOTD=${GRIDBOOTD:-$LAB_TOP/build/gridbootd}
FILES=$LAB_TOP/kernels
HOSTIF=${NS}0
HOSTADDR=10.99.254.1
NSADDR=10.99.254.2
API=http://$LAB_SERVER
# The lab's passwords: LAB SECRETS ONLY, written here and in docs/lab.md so
# anyone can log in to the lab. `up` makes the key file (grid.state/keys)
# from them with `gridbootd passwd`; cpu1's nvram image holds bootes's key.
# A real grid's passwords are typed at `gridbootd passwd` and kept nowhere.
LAB_GLENDA_PASSWORD=${LAB_GLENDA_PASSWORD:-glenda-lab-pw}
LAB_BOOTES_PASSWORD=${LAB_BOOTES_PASSWORD:-bootes-lab-pw}
LAB_CPU=10.99.0.11
LAB_NET=10.99.0.0/24
# The lab's grid.state: cleared when the lab comes up and removed when it
# goes down, so a new lab never shows a machine as discovered before it
# boots. Only a directory named like the lab's own is ever removed.
LAB_STATE=$(sed -n 's/^ *state *= *"\([^"]*\)";.*/\1/p' "$CFG" | head -n1)
clear_state() {
	case $LAB_STATE in
	/var/lib/gridboot/lab*|"$LAB_TOP"/test-lab/*) rm -rf "$LAB_STATE" ;;
	*) [ -n "$LAB_STATE" ] && echo "lab: leaving $LAB_STATE in place (not the lab's own)" >&2 ;;
	esac
}

# The lab's VMs: name, kind (see lib.sh), MAC, memory in MiB, and the
# files under kernels/ it needs ("-": only the discovery image). unknown1
# and unknown6 are deliberately not in inventory/lab.cfg: they are enrolled
# as discovered. disc-uefi6 and unknown6 are on the IPv6-only link (br6).
# disc-http boots through OVMF's own UEFI HTTP boot (no PXE, no TFTP).
lab_machines() {
	cat <<'EOF'
unknown1  bios  52:54:00:00:01:01 256 discovery/amd64/vmlinuz
disc-uefi uefi  52:54:00:00:00:22 256 discovery/amd64/vmlinuz
disc-http uefihttp 52:54:00:00:00:27 256 discovery/amd64/vmlinuz
disc-arm  uboot 52:54:00:00:00:23 256 discovery/arm64/Image
disc-uefi6 uefi6 52:54:00:00:00:26 256 discovery/amd64/vmlinuz
unknown6  bios6 52:54:00:00:01:06 256 discovery/amd64/vmlinuz
cpu1      bios  52:54:00:00:00:11 512 amd64/9pc64
term1     bios  52:54:00:00:00:12 512 amd64/9pc64
term2     uefi  52:54:00:00:00:14 512 amd64/9pc64,386/bootx64.efi
arm1      uboot 52:54:00:00:00:13 512 arm64/9qemu.u
EOF
}

# The 9front EFI loaders known not to boot under Debian 12's OVMF (git
# blob ids, `git hash-object`): Feb 2016's 386/bootx64.efi writes an *e820=
# line of 115-127 entries (4.2-4.6 KB) into the 3.5 KB config area it hands
# the kernel, unchecked, so the kernel gets no console= and no bootargs and
# waits, invisibly, at its bootargs prompt (docs/lab.md).
BAD_EFI_LOADERS="6ce87fd44995b1470fa5cfc011fdc8ecbfdd7a08"

# why_skip NAME NEEDS: the reason a machine is not started, or nothing.
why_skip() {
	if ! has_files "$2"; then
		case $1 in
		arm1) echo "no arm64 9front kernel for QEMU virt (kernels/$2, from the release's arm64 QEMU image when it has one; kernels/README.md)" ;;
		*) echo "no $2 under kernels/ (see kernels/README.md)" ;;
		esac
		return
	fi
	case $2 in *386/bootx64.efi*)
		b=$(git hash-object "$FILES/386/bootx64.efi" 2>/dev/null || :)
		case " $BAD_EFI_LOADERS " in *" $b "*)
			echo "kernels/386/bootx64.efi is the Feb 2016 9front EFI loader, which cannot boot under this OVMF (docs/lab.md): term1 runs the terminal on BIOS instead" ;;
		esac ;;
	esac
}

has_files() {
	for f in $(echo "$1" | tr ',' ' '); do
		[ -f "$FILES/$f" ] || return 1
	done
}

need_root() {
	[ "$(id -u)" = 0 ] || { echo "lab: run as root (it creates a network namespace and taps)" >&2; exit 1; }
}

ns_exists() { ip netns list 2>/dev/null | grep -q "^$NS\( \|$\)"; }

# curl inside the namespace (works with or without the host veth).
api() { ip netns exec "$NS" curl -s -m 2 "$API$1" 2>/dev/null; }

# The packages to build gridbootd and run the lab (tests/deps.d/core.txt
# and lab.txt), not every test's (browsers, nginx, ...).
install_deps() { sh "$LAB_TOP/tests/install-deps.sh" core lab >&2; }

up() {
	need_root
	if ns_exists; then
		echo "lab: already up (namespace $NS); showing status. 'make lab-down' removes it." >&2
		watch_status
		return
	fi
	install_deps
	echo "lab: building gridbootd" >&2
	make -s -C "$LAB_TOP" all >&2
	sh "$LAB_TOP/test-lab/build-discovery.sh" amd64 arm64
	lab_ensure_loaders "$FILES"
	"$GRIDBOOTD" check -c "$CFG" >&2

	mkdir -p "$RUN"
	rm -f "$RUN"/*.pid "$RUN"/*.serial "$RUN"/created "$RUN"/*.nvram "$RUN"/*.sock "$RUN"/*.started
	clear_state
	make_keys
	trap 'echo "lab: failed; cleaning up" >&2; down' EXIT
	lab_net_up "$NS"
	echo "ns $NS" >>"$RUN/created"
	lab_veth_up "$NS" "$HOSTIF" "$HOSTADDR" "$NSADDR"
	echo "link $HOSTIF" >>"$RUN/created"
	# The host reaches the machines (drawterm to cpu1) through the veth:
	# the namespace forwards, and the machines' default route is the
	# bridge's address.
	ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1
	ip route replace "$LAB_NET" via "$NSADDR" dev "$HOSTIF"
	echo "route $LAB_NET" >>"$RUN/created"

	ip netns exec "$NS" "$GRIDBOOTD" serve -c "$CFG" -d -l "${LAB_LOGLEVEL:-info}" \
	    </dev/null >"$RUN/gridbootd.log" 2>&1 &
	echo $! >"$RUN/gridbootd.pid"
	i=0
	until [ -n "$(api /api/v1/machines)" ] || [ $i -ge 100 ]; do
		kill -0 "$(cat "$RUN/gridbootd.pid")" 2>/dev/null ||
		    { tail -n 20 "$RUN/gridbootd.log" >&2; exit 1; }
		sleep 0.1
		i=$((i + 1))
	done

	LAB_ACCEL_RESOLVED=$(lab_accel)
	export LAB_ACCEL_RESOLVED
	echo "$LAB_ACCEL_RESOLVED" >"$RUN/accel"
	n=0
	lab_machines | while read -r name kind mac mem needs; do
		n=$((n + 1))
		if [ -n "${LAB_VMS:-}" ] && ! echo " $LAB_VMS " | grep -q " $name "; then
			continue
		fi
		why=$(why_skip "$name" "$needs")
		if [ -n "$why" ]; then
			echo "$name skipped: $why" >>"$RUN/skipped"
			continue
		fi
		lab_tap_add "$NS" "tap$n" "$(lab_vm_bridge "$kind")"
		if is_plan9 "$needs"; then
			plan9_vm_start "$name" "$kind" "$mac" "$mem" "tap$n"
		else
			lab_vm_start "$NS" "$name" "$kind" "$mac" "$mem" "tap$n" "$RUN" >/dev/null
		fi
		echo "$name $kind $mac $mem" >>"$RUN/vms"
		# power-on time (ms), to measure its boot by against the timeline
		date +%s%3N >"$RUN/$name.started"
	done
	trap - EXIT
	echo "lab: up: gridbootd and $(wc -l <"$RUN/vms") VMs ($LAB_ACCEL_RESOLVED) in namespace $NS" >&2
	echo "lab: web page: http://$NSADDR/ (API token for role changes: $(sed -n 's/^ *api_token = "\(.*\)".*/\1/p' "$CFG"))" >&2
	echo "lab: logs and serial consoles: $RUN/" >&2
	[ "${LAB_WATCH:-yes}" = no ] && return 0
	watch_status
}

# make_keys: the lab's key file (grid.state/keys, removed with the state
# directory) with glenda's and the host owner's keys, from the lab secrets
# above through `gridbootd passwd`'s one line of stdin.
make_keys() {
	authid=$(sed -n 's/^ *authid *= *"\([^"]*\)";.*/\1/p' "$CFG" | head -n1)
	echo "$LAB_BOOTES_PASSWORD" | "$GRIDBOOTD" passwd -c "$CFG" "${authid:-bootes}" >&2
	echo "$LAB_GLENDA_PASSWORD" | "$GRIDBOOTD" passwd -c "$CFG" glenda >&2
}

is_plan9() { case $1 in *amd64/9pc64*|*arm64/9qemu*) return 0 ;; esac; return 1; }

# plan9_vm_start NAME KIND MAC MEM TAP: a Plan 9 machine. Its serial
# console is also a socket (lab.sh console NAME). When its plan9.ini (from
# the inventory) reads nvram from its first IDE disk, the disk is the
# `gridbootd nvram` image of its host owner's keys. A terminal's login
# prompts are answered by test-lab/console-typist.py with glenda's lab
# password.
plan9_vm_start() {
	name=$1 kind=$2 mac=$3 mem=$4 tap=$5
	"$GRIDBOOTD" plan9ini -c "$CFG" "$name" >"$RUN/$name.plan9.ini" 2>/dev/null
	extra=
	if grep -q '^nvram=#S/sdC0/' "$RUN/$name.plan9.ini"; then
		"$GRIDBOOTD" nvram -c "$CFG" "$name" -o "$RUN/$name.nvram" >&2
		extra="-drive file=$RUN/$name.nvram,format=raw,if=ide"
	fi
	lab_vm_start "$NS" "$name" "$kind" "$mac" "$mem" "$tap" "$RUN" "$extra" sock >/dev/null
	if grep -q '^service=terminal' "$RUN/$name.plan9.ini"; then
		user=$(sed -n 's/^user=//p' "$RUN/$name.plan9.ini")
		LAB_PASSWORD=$LAB_GLENDA_PASSWORD python3 "$LAB_TOP/test-lab/console-typist.py" \
		    answer "$RUN/$name.sock" "$RUN/$name.serial" "${user:-glenda}" 900 \
		    </dev/null >"$RUN/$name.typist.log" 2>&1 &
		echo $! >"$RUN/$name.typist.pid"
	fi
}

# One machine's row: state from gridbootd (the inventory's machines list
# or, for a machine not in it, the discovered list; "+facts" once it has
# enrolled), the last timeline event for its MAC, whether its VM still
# runs, and the discovery image's verdict from its console.
row() {	# name kind mac
	name=$1 kind=$2 mac=$3
	vm=off
	[ -f "$RUN/$name.pid" ] && kill -0 "$(cat "$RUN/$name.pid" 2>/dev/null)" 2>/dev/null && vm=running
	state=$(jq -r --arg m "$mac" '[.machines[]? | select(.mac == $m) | .state][0] // empty' \
	    "$RUN/api.machines" 2>/dev/null)
	d=$(jq -r --arg m "$mac" '[.discovered[]? | select(.mac == $m) |
	    (.state + (if .enrolled then "+facts" else "" end))][0] // empty' "$RUN/api.discovered" 2>/dev/null)
	# Live state first (booting, up, idle); "enrolled" once the discovery
	# image has posted facts in this boot (its enroll event makes it "up").
	[ -n "$state" ] || state=${d%+facts}
	case "$state $d" in "up "*+facts) state=enrolled ;; esac
	[ -n "$state" ] || state=-
	ev=$(jq -r --arg m "$mac" '[.timeline[]? | select(.mac == $m)][-1] // empty |
	    "\(.kind): \(.text)"' "$RUN/api.timeline" 2>/dev/null | cut -c1-60)
	res=$(grep -a -o 'GRIDBOOT-DISCOVERY: [a-z]*' "$RUN/$name.serial" 2>/dev/null | tail -n1 | cut -d' ' -f2)
	printf '%-10s %-6s %-8s %-17s %-15s %-8s %-9s %s\n' "$name" "$(lab_vm_arch "$kind")" "$kind" \
	    "$mac" "$state" "$vm" "${res:--}" "${ev:--}"
}

table() {
	api /api/v1/machines >"$RUN/api.machines" || :
	api /api/v1/discovered >"$RUN/api.discovered" || :
	api /api/v1/timeline >"$RUN/api.timeline" || :
	printf '%-10s %-6s %-8s %-17s %-15s %-8s %-9s %s\n' MACHINE ARCH FW MAC STATE VM CONSOLE "LAST EVENT"
	[ -f "$RUN/vms" ] || return 0
	while read -r name kind mac mem; do
		row "$name" "$kind" "$mac"
	done <"$RUN/vms"
	[ -f "$RUN/skipped" ] && sed 's/^/  /' "$RUN/skipped"
	return 0
}

all_off() {
	while read -r name kind mac mem; do
		[ -f "$RUN/$name.pid" ] && kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null && return 1
	done <"$RUN/vms"
	return 0
}

# The live table: redrawn every 2 s; q quits (the lab stays up). Without
# a terminal it prints the table every 10 s until every VM is off or 10
# minutes pass.
watch_status() {
	if [ -t 0 ] && [ -t 1 ]; then
		old=$(stty -g)
		trap 'stty "$old"; echo; quit_msg; exit 0' INT TERM
		# Drop what was typed while the lab came up: a stray q must not
		# end the table before it is shown.
		stty -icanon -echo min 0 time 0
		i=0
		while [ -n "$(dd bs=64 count=1 2>/dev/null)" ] && [ $i -lt 100 ]; do i=$((i + 1)); done
		stty min 0 time 20
		while :; do
			printf '\033[H\033[2J'
			echo "gridboot lab ($NS, $(cat "$RUN/accel" 2>/dev/null)) - web page http://$NSADDR/ - q quits, the lab keeps running"
			echo
			table
			ns_exists || break      # make lab-down ran meanwhile
			k=$(dd bs=1 count=1 2>/dev/null || true)
			[ "$k" = q ] || [ "$k" = Q ] && break
		done
		stty "$old"
		trap - INT TERM
	else
		i=0
		while [ $i -lt 60 ]; do
			table
			echo
			ns_exists || break
			all_off && break
			sleep 10
			i=$((i + 1))
		done
	fi
	quit_msg
}

quit_msg() {
	if ns_exists; then
		echo "lab: still running. Web page: http://$NSADDR/  Consoles: $RUN/*.serial  Remove it: make lab-down" >&2
	else
		echo "lab: down (removed by make lab-down)" >&2
	fi
}

down() {
	need_root
	for f in "$RUN"/*.pid; do
		[ -f "$f" ] || continue
		case $f in */gridbootd.pid) continue ;; esac
		lab_pid_stop "$f"
	done
	[ -f "$RUN/gridbootd.pid" ] && lab_pid_stop "$RUN/gridbootd.pid"
	if [ -f "$RUN/created" ]; then
		while read -r what name; do
			case $what in
			link) ip link del "$name" 2>/dev/null || true ;;
			route) ip route del "$name" via "$NSADDR" 2>/dev/null || true ;;
			ns) ip netns del "$name" 2>/dev/null || true ;;
			esac
		done <"$RUN/created"
		rm -f "$RUN/created"
	fi
	rm -f "$RUN/vms" "$RUN/skipped" "$RUN"/*.vars "$RUN"/*.nvram "$RUN"/*.sock
	clear_state
	echo "lab: down" >&2
}

# drawterm [CMD...]: drawterm-9front from the host to cpu1 as glenda, with
# gridbootd (10.99.0.1) as the auth server and glenda's lab password. The
# 2016 9front cpu server has no rcpu (tcp 17019), so -O: the old cpu
# service (tcp 17010), p9any with dp9ik, then rc4_256/sha1 over ssl.
drawterm_cpu() {
	ns_exists || { echo "lab: not up ('make lab')" >&2; exit 1; }
	command -v drawterm >/dev/null || sh "$LAB_TOP/tests/install-deps.sh" auth >&2
	if [ $# -gt 0 ]; then
		PASS=$LAB_GLENDA_PASSWORD exec timeout "${LAB_DRAWTERM_TIMEOUT:-60}" \
		    drawterm -O -G -h "$LAB_CPU" -a "$LAB_SERVER" -u glenda -c "$*" </dev/null
	fi
	PASS=$LAB_GLENDA_PASSWORD exec drawterm -O -h "$LAB_CPU" -a "$LAB_SERVER" -u glenda
}

# console NAME: stdin's lines typed on NAME's serial console socket.
console_type() {
	[ -S "$RUN/$1.sock" ] || { echo "lab: no console socket $RUN/$1.sock" >&2; exit 1; }
	python3 "$LAB_TOP/test-lab/console-typist.py" type "$RUN/$1.sock" 1
}

case ${1:-} in
up) up ;;
down) down ;;
status) table ;;
drawterm) shift; drawterm_cpu "$@" ;;
console) console_type "${2:?usage: lab.sh console NAME}" ;;
*) echo "usage: lab.sh up|down|status|drawterm [CMD]|console NAME" >&2; exit 2 ;;
esac
