#!/bin/sh
# The whole grid in the lab, with real 9front binaries (issue 13): `make lab`
# brings up cpu1 (cpu server, BIOS, host owner from its nvram image) and
# term1 (terminal, glenda's password typed on its serial console by the
# lab), both from gridbootd alone; drawterm from the host to cpu1 as glenda
# must print `cpu1`; then the grid is used from the consoles (issue 22),
# each step typed on a serial console and checked, the transcript kept as
# `# NAME| ` lines: on term1 as glenda, `ndb/csquery` translates
# tcp!AUTH!ticket (the generated ndb keeps the service names), `cpu -h cpu1`
# (rcpu where the root has it) prints cpu1 (through gridbootd's auth
# server, by name); on cpu1 as bootes (the host owner, a grid
# administrator) the grid tree is mounted with authentication, listed, and
# term1's role changed by writing machines/term1/role, as the API then
# shows (and changed back); as glenda on term1 the same write is refused;
# `passwd` on term1 changes glenda's password over AuthPass, and drawterm
# then logs in with the new one and not the old. Then `make lab-down` must
# leave nothing behind. Prints
# each machine's power-on -> up time (up: its first 9P attach, gridbootd's
# timeline) and TAP lines. Not part of `make test`: it needs the 9front files
# in kernels/ (docs/lab.md: `make kernels`, or the Feb 2016 binaries), root,
# and takes the lab's lock itself (/tmp/gridboot-lab.lock).
#
#   sh tests/manual/real-9front-lab.sh
#
# WAIT (default 300): seconds for both machines to be up.
set -u
LAB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${GB_LAB_LOCKED:-}" ]; then
	GB_LAB_LOCKED=1 exec flock /tmp/gridboot-lab.lock sh "$0" "$@"
fi
cd "$LAB_TOP" || exit 1
RUN=$LAB_TOP/test-lab/run
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
WAIT=${WAIT:-300}
fails=0 n=0
T0=$(date +%s)
ok() { n=$((n + 1)); echo "ok $n - $* [+$(($(date +%s) - T0)) s]"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $* [+$(($(date +%s) - T0)) s]"; }
api() { ip netns exec gblab curl -s -m 2 "http://10.99.0.1$1"; }
# glenda's lab password as test-lab/lab.sh sets it (passwd below changes it).
LAB_GLENDA_PASSWORD_OLD=${LAB_GLENDA_PASSWORD:-glenda-lab-pw}

for f in amd64/9pc64 root/amd64/init; do
	[ -f "kernels/$f" ] || { echo "1..0 # SKIP no kernels/$f (docs/lab.md)"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "not ok 1 - needs root"; exit 1; }
if ip netns list | grep -q '^gblab'; then
	echo "not ok 1 - a lab is already up (make lab-down first)"
	exit 1
fi
state=$(sed -n 's/^ *state *= *"\([^"]*\)";.*/\1/p' inventory/lab.cfg | head -n1)

t0=$(date +%s)
# --foreground: on a timeout only make is stopped, not the VMs it started
# (make lab-down below stops those by their PID files).
if LAB_WATCH=no timeout --foreground 600 make -s lab >"$T/make-lab.log" 2>&1; then
	ok "make lab started the lab in $(($(date +%s) - t0)) s"
else
	not_ok "make lab"
	tail -n 20 "$T/make-lab.log" | sed 's/^/# /'
fi
sed -n 's/^/# /p' "$RUN/skipped" 2>/dev/null

# Both machines up: state "up" in the API (their 9P attach).
i=0
while [ $i -lt "$WAIT" ]; do
	api /api/v1/machines >"$T/machines.json" 2>/dev/null
	up=$(jq -r '[.machines[] | select((.name == "cpu1" or .name == "term1") and .state == "up")] | length' \
	    "$T/machines.json" 2>/dev/null)
	[ "$up" = 2 ] && break
	sleep 2
	i=$((i + 2))
done
for m in cpu1 term1; do
	st=$(jq -r --arg n "$m" '.machines[] | select(.name == $n) | .state' "$T/machines.json" 2>/dev/null)
	if [ "$st" = up ]; then ok "$m is up"; else not_ok "$m is up (state: ${st:-none})"; fi
done

# Each machine's power-on -> up (first 9P attach from it), and the steps.
api /api/v1/timeline >"$T/timeline.json"
for m in cpu1 term1; do
	mac=$(jq -r --arg n "$m" '.machines[] | select(.name == $n) | .mac' "$T/machines.json" 2>/dev/null)
	start=$(cat "$RUN/$m.started" 2>/dev/null)
	[ -n "$start" ] && [ -n "$mac" ] || continue
	jq -r --arg m "$mac" --argjson s "$start" '.timeline[] | select(.mac == $m) |
	    "#   +\(((.time_ms - $s) / 100 | floor) / 10) s  \(.kind): \(.text)"' "$T/timeline.json" |
	    awk '!seen[$0]++' | head -n 12 >"$T/$m.steps"
	upms=$(jq -r --arg m "$mac" '[.timeline[] | select(.mac == $m and .kind == "9p")][0].time_ms // empty' \
	    "$T/timeline.json")
	[ -n "$upms" ] && echo "# $m: power-on -> up (9P attach) $(( (upms - start) / 1000 )).$(( (upms - start) % 1000 / 100 )) s"
	cat "$T/$m.steps"
done

# term1 reached rc as glenda, with the password typed by the lab.
i=0
until tr -d '\r' <"$RUN/term1.serial" 2>/dev/null | grep -q '^term% ' || [ $i -ge 60 ]; do
	sleep 1
	i=$((i + 1))
done
if tr -d '\r' <"$RUN/term1.serial" | grep -q '^term% '; then
	ok "term1: rc prompt (glenda, password typed on its console: $(tail -n1 "$RUN/term1.typist.log"))"
else
	not_ok "term1: rc prompt"
	tr -d '\r' <"$RUN/term1.serial" | tail -n 15 | sed 's/^/#   /'
fi
# p9_auth is on: an attach names the user its ticket proved.
grep -q 'attach "" as glenda' "$T/term1.steps" && ok "term1 attached its root as glenda (authenticated)" ||
    not_ok "term1 attached its root as glenda"
grep -q 'attach "" as bootes' "$T/cpu1.steps" && ok "cpu1 attached its root as bootes (its nvram)" ||
    not_ok "cpu1 attached its root as bootes"
if grep -q 'user\[\|password:' "$RUN/cpu1.serial"; then not_ok "cpu1 asked for nothing"; else ok "cpu1 asked for nothing"; fi

# drawterm from the host, once cpu1's listeners are up (cpurc runs after
# the attach): bounded retries.
i=0 out=
while [ $i -lt 12 ]; do
	out=$(LAB_DRAWTERM_TIMEOUT=30 sh test-lab/lab.sh drawterm 'cat /dev/sysname' 2>&1)
	echo "$out" | grep -q 'cpu1$' && break
	sleep 5
	i=$((i + 1))
done
echo "$out" | sed 's/^/# drawterm: /'
if echo "$out" | grep -q 'cpu1$'; then
	ok "drawterm -O -G -h 10.99.0.11 -a 10.99.0.1 -u glenda -c 'cat /dev/sysname' printed cpu1"
else
	not_ok "drawterm printed cpu1"
fi

# ---- Using the grid from the consoles (issue 22) ----
# on NAME SECONDS PATTERN LINE...: types the lines on NAME's console (1.5 s
# apart), then waits at most SECONDS for PATTERN (grep -E) in what the
# console printed since; the new output is in $T/out and shown as the
# transcript. Returns grep's verdict.
on() {
	name=$1 secs=$2 pat=$3
	shift 3
	b=$(wc -c <"$RUN/$name.serial")
	for l in "$@"; do printf '%s\n' "$l"; done |
	    python3 test-lab/console-typist.py type "$RUN/$name.sock" "${PAUSE:-1.5}"
	j=0
	while :; do
		tail -c +$((b + 1)) "$RUN/$name.serial" | tr -d '\r' >"$T/out"
		grep -Eq "$pat" "$T/out" && break
		[ $j -ge "$secs" ] && break
		sleep 1
		j=$((j + 1))
	done
	grep -v '^$' "$T/out" | sed "s/^/# $name| /"
	grep -Eq "$pat" "$T/out"
}
role_of() { api "/api/v1/machines/$1" | jq -r '.role // empty' 2>/dev/null; }
auth=10.99.0.1

# The generated ndb keeps 9front's service names (its database= entry).
if on term1 10 "/net/tcp/clone $auth!567" "echo 'tcp!$auth!ticket' | ndb/csquery"; then
	ok "term1: ndb/csquery translates tcp!$auth!ticket to /net/tcp/clone $auth!567"
else
	not_ok "term1: ndb/csquery translates tcp!$auth!ticket"
fi

# term1 -> cpu1 by name, authenticated through gridbootd (p9any, dp9ik).
cpucmd=cpu
[ -f kernels/root/rc/bin/rcpu ] || [ -f kernels/root/amd64/bin/rcpu ] && cpucmd=rcpu
if on term1 60 '^cpu1(term% )?$|^cpu1$' "$cpucmd -h cpu1 -c cat /dev/sysname"; then
	ok "term1: $cpucmd -h cpu1 -c cat /dev/sysname printed cpu1"
else
	not_ok "term1: $cpucmd -h cpu1 -c cat /dev/sysname printed cpu1"
fi

# The grid tree, mounted with authentication by the host owner on cpu1's
# console: a role changed by a write, seen in the API, and changed back.
# Waits for term2, the entry after term1: the lab's serial console has
# twice echoed term1 as "termm1" (ls sorts by name, and it printed that
# line before term2, so the name it read was term1).
if on cpu1 20 'machines/term2' "srv tcp!$auth!9fs gsrv" "mount /srv/gsrv /n/grid grid" "ls /n/grid/machines"; then
	ok "cpu1 (bootes): the grid tree mounted with authentication; ls /n/grid/machines lists the machines"
else
	not_ok "cpu1 (bootes): mount of the grid tree, ls /n/grid/machines"
fi
before=$(role_of term1)
other=cpu
[ "$before" = cpu ] && other=terminal
on cpu1 10 "^$other" "echo $other >/n/grid/machines/term1/role" "cat /n/grid/machines/term1/role"
after=$(role_of term1)
if [ "$after" = "$other" ]; then
	ok "cpu1 (bootes): echo $other >machines/term1/role; the API says role $after (was $before)"
else
	not_ok "cpu1 (bootes): the role write shows in the API (role ${after:-none}, wanted $other)"
fi
on cpu1 10 '# $' "echo $before >/n/grid/machines/term1/role" >/dev/null
[ "$(role_of term1)" = "$before" ] || echo "# term1's role not restored: $(role_of term1)"

# The same write as glenda on term1 is refused: she is no grid administrator.
if on term1 20 'not a grid administrator' "srv tcp!$auth!9fs gsrv" "mount /srv/gsrv /n/grid grid" \
    "cat /n/grid/machines/term1/state" "echo $other >/n/grid/machines/term1/role" &&
    [ "$(role_of term1)" = "$before" ]; then
	ok "term1 (glenda): the role write is refused (not a grid administrator); the API still says $before"
else
	not_ok "term1 (glenda): the role write refused, role unchanged ($(role_of term1))"
fi

# passwd on term1 (AuthPass), then drawterm with the new password and the old.
newpw=glenda-lab-pw-new
PAUSE=3 on term1 20 'Inferno/POP password\? \(y/n\) n' passwd "$LAB_GLENDA_PASSWORD_OLD" y "$newpw" "$newpw" n
i=0
until grep -q "glenda's password changed (AuthPass)" "$RUN/gridbootd.log" || [ $i -ge 10 ]; do
	sleep 1
	i=$((i + 1))
done
if grep "glenda's password changed (AuthPass)" "$RUN/gridbootd.log" | sed 's/^/# gridbootd: /' | grep -q .; then
	ok "term1: passwd changed glenda's password over AuthPass"
else
	not_ok "term1: passwd changed glenda's password (gridbootd's log says nothing)"
fi
out=$(LAB_GLENDA_PASSWORD=$newpw LAB_DRAWTERM_TIMEOUT=30 sh test-lab/lab.sh drawterm 'cat /dev/sysname' 2>&1)
echo "$out" | sed 's/^/# drawterm (new password): /'
if echo "$out" | grep -q 'cpu1$'; then ok "drawterm with the new password printed cpu1"; else not_ok "drawterm with the new password"; fi
out=$(LAB_GLENDA_PASSWORD=$LAB_GLENDA_PASSWORD_OLD LAB_DRAWTERM_TIMEOUT=30 sh test-lab/lab.sh drawterm 'cat /dev/sysname' 2>&1)
echo "$out" | sed 's/^/# drawterm (old password): /'
if echo "$out" | grep -q 'cpu1$'; then not_ok "drawterm with the old password is refused"; else ok "drawterm with the old password is refused"; fi

sh test-lab/lab.sh status | sed 's/^/# /'

# What the consoles showed, for the record (the run directory goes with
# lab-down).
for m in cpu1 term1; do
	echo "# $m console, last lines:"
	tr -d '\r' <"$RUN/$m.serial" 2>/dev/null | grep -v '^$' | tail -n 12 | sed 's/^/#   | /'
done
t1=$(date +%s)
make -s lab-down >/dev/null 2>&1
down_rc=$?
if [ "$down_rc" = 0 ]; then ok "make lab-down in $(($(date +%s) - t1)) s"; else not_ok "make lab-down exited $down_rc"; fi
left=
ip netns list | grep -q '^gblab' && left="$left namespace"
ip link show gblab0 >/dev/null 2>&1 && left="$left veth"
ip route | grep -q '^10.99.0.0/24' && left="$left route"
[ -n "$state" ] && [ -e "$state" ] && left="$left $state"
ls "$RUN"/*.nvram "$RUN"/*.pid "$RUN"/*.sock >/dev/null 2>&1 && left="$left run/*.nvram|pid|sock"
if [ -z "$left" ]; then ok "lab-down left nothing (namespace, veth, route, state with the key file, nvram)"; else not_ok "lab-down left:$left"; fi
rm -rf "$T"
echo "1..$n"
[ $fails = 0 ]
