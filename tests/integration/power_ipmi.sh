#!/bin/sh
# limit: 180
# Power over IPMI (docs/power.md) against a real BMC: OpenIPMI's ipmi_sim
# in a network namespace, its chassis (power, boot device) kept by a
# chassis_control script that records every set. gridbootd's ipmi driver
# (libfreeipmi, RMCP+) powers the machine on, off and cycles it, and sets
# its next boot to PXE, through the API and through 9P writes to
# machines/NAME/ctl; the state shows in the API, /metrics and
# machines/NAME/power; the first poll finds the state by itself. Faults,
# each with its reason on the timeline: a wrong password, a BMC address
# where nothing listens, a BMC that reads and never answers (a UDP socket
# that counts what it swallowed); meanwhile HTTP is answered at once.
# A second operation while one runs is 409; no token 401; the password
# shows nowhere; `gridbootd check` names bad power settings by line.
. "${GRIDBOOT_TOP:-.}/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/power-lib.sh"

P9C=${P9C:-$(dirname "$GRIDBOOTD")/tools/p9c}
if ! command -v ipmi_sim >/dev/null 2>&1; then
	ok "# SKIP ipmi_sim is not installed (tests/deps.d/power.txt: openipmi)"
	t_done
	exit 0
fi
NS=gbpwi$$
ns_add $NS || { not_ok "network namespace"; t_done; exit 1; }
S=$T_TMP/sim
mkdir -p "$S/state" "$T_TMP/files" "$T_TMP/gstate" "$T_TMP/pw"
echo 0 >"$S/power"
# The chassis: what ipmi_sim's chassis_control program is asked
# (lanserv/ipmi_sim_chassiscontrol's interface), each request logged.
cat >"$S/chassis.sh" <<EOS
#!/bin/sh
shift
op=\$1; shift
echo "\$op \$*" >>"$S/chassis.log"
case \$op in
get) for p in "\$@"; do case \$p in
	power) echo "power:\$(cat "$S/power")" ;;
	boot) echo "boot:default" ;;
	esac; done ;;
set) while [ \$# -ge 2 ]; do
	case \$1 in power) echo "\$2" >"$S/power" ;; esac
	shift 2; done ;;
*) exit 1 ;;
esac
EOS
chmod +x "$S/chassis.sh"
sim_start gbsim bmc-secret-77 "chassis_control \"$S/chassis.sh 0x20\""
# The silent BMC: reads datagrams on 9625, never answers, counts them.
cat >"$T_TMP/silent.py" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 9625))
n = 0
while True:
    s.recvfrom(2048)
    n += 1
    open(sys.argv[1], "w").write("%d\n" % n)
EOP
ip netns exec $NS python3 "$T_TMP/silent.py" "$T_TMP/silent.count" &
track_pid $!

printf 'bmc-secret-77\n' >"$T_TMP/pw/good"
printf 'wrong-password\n' >"$T_TMP/pw/bad"
chmod 600 "$T_TMP/pw/good" "$T_TMP/pw/bad"
cfg=$T_TMP/grid.cfg
cat >"$cfg" <<EOC
grid = { name = "t"; server = "127.0.0.1"; files = "$T_TMP/files"; state = "$T_TMP/gstate";
         http_port = 18491; tftp_port = 16991; dhcp_port = 16791; proxy_port = 14091;
         p9_port = 15691; api_token = "tok-power-0123456789"; p9_grid_open = true;
         power_poll = 3600; power_workers = 2; };
networks = ( { subnet = "10.9.0.0/24"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = (
  { name = "bmc1"; mac = "52:54:00:00:00:11"; ip = "10.9.0.11"; role = "cpu";
    power = { driver = "ipmi"; address = "127.0.0.1:9623"; user = "admin";
              password_file = "$T_TMP/pw/good"; timeout = 3;
              workarounds = [ "opensesspriv" ]; }; },
  { name = "badpw"; mac = "52:54:00:00:00:12"; ip = "10.9.0.12"; role = "cpu";
    power = { driver = "ipmi"; address = "127.0.0.1:9623"; user = "admin";
              password_file = "$T_TMP/pw/bad"; timeout = 3;
              workarounds = [ "opensesspriv" ]; }; },
  { name = "gone"; mac = "52:54:00:00:00:13"; ip = "10.9.0.13"; role = "cpu";
    power = { driver = "ipmi"; address = "127.0.0.1:9624"; user = "admin";
              password_file = "$T_TMP/pw/good"; timeout = 1; retries = 1; }; },
  { name = "silent"; mac = "52:54:00:00:00:14"; ip = "10.9.0.14"; role = "cpu";
    power = { driver = "ipmi"; address = "127.0.0.1:9625"; user = "admin";
              password_file = "$T_TMP/pw/good"; timeout = 3; retries = 0; }; },
  { name = "plain"; mac = "52:54:00:00:00:15"; ip = "10.9.0.15"; role = "cpu"; }
);
EOC
out=$("$GRIDBOOTD" check -c "$cfg" 2>&1)
check "the inventory with power settings checks ($out)" [ $? -eq 0 ]

# Bad settings, each named by line and key.
sed -e 's/driver = "ipmi"; address = "127.0.0.1:9624"/driver = "smtp"; address = "127.0.0.1:9624"/' \
    -e 's/address = "127.0.0.1:9625"/address = "127.0.0.1:99999"/' \
    -e "s|password_file = \"$T_TMP/pw/bad\"|password_file = \"$T_TMP/pw/none\"|" "$cfg" >"$T_TMP/bad.cfg"
out=$("$GRIDBOOTD" check -c "$T_TMP/bad.cfg" 2>&1)
diag "$out"
check "check: an unknown driver, by line" sh -c "echo '$out' | grep -q 'bad.cfg:[0-9]*: machines\[gone\].power.driver: \"smtp\" is not one of ipmi, redfish'"
check "check: a port out of range" sh -c "echo '$out' | grep -q 'machines\[silent\].power.address: \"127.0.0.1:99999\" is not a BMC address'"
check "check: a password file that is not there" sh -c "echo '$out' | grep -q 'machines\[badpw\].power.password_file: cannot read .*/pw/none'"

cat >"$T_TMP/bad2.cfg" <<EOC
grid = { name = "t"; server = "127.0.0.1"; files = "$T_TMP/files"; state = "$T_TMP/gstate"; };
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = (
  { name = "m1"; mac = "52:54:00:00:00:21"; role = "cpu";
    power = { driver = "ipmi"; address = "10.0.0.1"; user = "admin";
              password_file = "$T_TMP/pw/good"; timeout = 0; passwd = "x";
              pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
              workarounds = [ "nosuch" ]; }; },
  { name = "m2"; mac = "52:54:00:00:00:22"; role = "cpu"; power = "ipmi://10.0.0.2"; }
);
EOC
out=$("$GRIDBOOTD" check -c "$T_TMP/bad2.cfg" 2>&1)
diag "$out"
check "check: a Redfish key on an IPMI machine" sh -c "echo '$out' | grep -q 'bad2.cfg:8: machines\[m1\].power.pin: only for driver = \"redfish\"'"
check "check: an unknown workaround" sh -c "echo '$out' | grep -q 'machines\[m1\].power.workarounds: element 1 is not one of authcap'"
check "check: a timeout out of range" sh -c "echo '$out' | grep -q 'machines\[m1\].power.timeout: 0 is out of range 1..120'"
check "check: an unknown key in power (a password in the file is refused)" sh -c "echo '$out' | grep -q 'machines\[m1\].power.*passwd'"
check "check: power must be a group" sh -c "echo '$out' | grep -q 'machines\[m2\].power: must be a group'"

API_PORT=18491
pstate() { get "machines/$1" | jq -r .power.state; }
p9() { ip netns exec $NS "$P9C" -a grid 127.0.0.1 15691 "$@"; }

ip netns exec $NS "$GRIDBOOTD" serve -c "$cfg" -d -l debug >"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd starts" wait_for 10 gb_serving "$T_TMP/gridbootd.log"
check "the first poll finds bmc1 off" wait_for 15 sh -c "[ \"\$(ip netns exec $NS curl -s http://127.0.0.1:18491/api/v1/machines/bmc1 | jq -r .power.state)\" = off ]"
# The first round polls every machine; wait until it has ended (silent
# and gone each take their timeouts) so the operations below find them idle.
check "the first poll round ends" wait_for 20 sh -c "ip netns exec $NS curl -s http://127.0.0.1:18491/metrics | grep -qx 'gridboot_power_queue 0'"
check "the poll's failure is on gone's timeline" has_event gone "poll FAILED"

code=$(api -X POST -d '{"op":"on"}' http://127.0.0.1:18491/api/v1/machines/bmc1/power)
check "no token: 401 (got $code)" [ "$code" = 401 ]
code=$(post bmc1 dance)
check "an unknown op: 400 saying which exist (got $code: $(cat $T_TMP/body))" sh -c "[ $code = 400 ] && grep -q 'on, off, cycle, pxe' '$T_TMP/body'"
code=$(post plain on)
check "a machine without a driver: 404 (got $code)" sh -c "[ $code = 404 ] && grep -q 'no power driver' '$T_TMP/body'"

# --- on, off, cycle, pxe --------------------------------------------------
code=$(post bmc1 on)
check "API on: 202 (got $code)" [ "$code" = 202 ]
check "on done, on the timeline" wait_for 10 has_event bmc1 "on done: ipmi 127.0.0.1:9623: powered up"
check "ipmi_sim's chassis was told power 1" grep -qx "set power 1" "$S/chassis.log"
check "the API shows power on" sh -c "[ \"\$(ip netns exec $NS curl -s http://127.0.0.1:18491/api/v1/machines/bmc1 | jq -r .power.state)\" = on ]"
check "/metrics counts it" sh -c "ip netns exec $NS curl -s http://127.0.0.1:18491/metrics | grep -q '^gridboot_power_machines{state=\"on\"} 1' &&
    ip netns exec $NS curl -s http://127.0.0.1:18491/metrics | grep -q '^gridboot_power_ops_total{op=\"on\",result=\"ok\"} 1'"
check "9P machines/bmc1/power says on" sh -c "ip netns exec $NS $P9C -a grid 127.0.0.1 15691 cat machines/bmc1/power | grep -qx 'state on'"

: >"$S/chassis.log"
check "9P: echo off > machines/bmc1/ctl" sh -c "echo off | ip netns exec $NS $P9C -a grid 127.0.0.1 15691 put machines/bmc1/ctl"
check "off done" wait_for 10 has_event bmc1 "off done: ipmi 127.0.0.1:9623: powered down"
check "the off was asked by the grid tree" has_event bmc1 "off: asked by the grid tree (glenda) (ipmi)"
check "ipmi_sim's chassis was told power 0" grep -qx "set power 0" "$S/chassis.log"
check "9P power file says off" sh -c "ip netns exec $NS $P9C -a grid 127.0.0.1 15691 cat machines/bmc1/power | grep -qx 'state off'"

check "9P: echo cycle > ctl of a machine that is off" sh -c "echo cycle | ip netns exec $NS $P9C -a grid 127.0.0.1 15691 put machines/bmc1/ctl"
check "cycle of an off machine powers it up" wait_for 10 has_event bmc1 "cycle done: .*was off: powered up"
: >"$S/chassis.log"
code=$(post bmc1 cycle)
check "API cycle: 202 (got $code)" [ "$code" = 202 ]
check "cycle done: power cycled" wait_for 10 has_event bmc1 "cycle done: ipmi 127.0.0.1:9623: power cycled"
diag "chassis after cycle: $(tr '\n' ';' <"$S/chassis.log")"
# ipmi_sim powers down at once and up again a moment later.
check "ipmi_sim's chassis was power cycled (off, then on)" wait_for 10 sh -c "grep -q 'set power 0' '$S/chassis.log' && grep -q 'set power 1' '$S/chassis.log'"

check "9P: echo pxe > ctl" sh -c "echo pxe | ip netns exec $NS $P9C -a grid 127.0.0.1 15691 put machines/bmc1/ctl"
check "pxe done: next boot from the network" wait_for 10 has_event bmc1 "pxe done: .*next boot from the network"
check "ipmi_sim's chassis was told boot pxe" grep -qx "set boot pxe" "$S/chassis.log"
out=$(echo dance | p9 put machines/bmc1/ctl 2>&1)
check "9P: an unknown ctl word is refused, saying which exist ($out)" sh -c "echo '$out' | grep -q 'on, off, cycle, pxe'"

# --- faults -------------------------------------------------------------
sets=$(grep -c 'set ' "$S/chassis.log")
code=$(post badpw on)
check "API on for badpw: 202 (got $code)" [ "$code" = 202 ]
check "a wrong password: FAILED, saying the BMC refused the password" wait_for 15 has_event badpw "on FAILED: ipmi 127.0.0.1:9623: session: the BMC refused the password of admin"
check "... and the chassis was not touched" [ "$(grep -c 'set ' "$S/chassis.log")" = "$sets" ]

code=$(post gone status)
check "API status for gone: 202 (got $code)" [ "$code" = 202 ]
check "nothing listening: FAILED, no answer, after its retry" wait_for 15 has_event gone "status FAILED: ipmi 127.0.0.1:9624: session: no answer from the BMC within 1000 ms.*2 attempts"

before=$(cat "$T_TMP/silent.count" 2>/dev/null || echo 0)
code=$(post silent on)
check "API on for silent: 202 (got $code)" [ "$code" = 202 ]
code=$(post silent off)
check "a second op while one runs for the machine: 409 (got $code: $(cat $T_TMP/body))" sh -c "[ $code = 409 ] && grep -q 'already queued or running' '$T_TMP/body'"
t0=$(date +%s%N)
code=$(api http://127.0.0.1:18491/api/v1/machines)
t1=$(date +%s%N)
check "HTTP answers while the BMC is silent ($code in $(( (t1 - t0) / 1000000 )) ms)" sh -c "[ $code = 200 ] && [ $(( (t1 - t0) / 1000000 )) -lt 1000 ]"
check "the silent BMC: FAILED, no answer" wait_for 15 has_event silent "on FAILED: ipmi 127.0.0.1:9625: session: no answer from the BMC within 3000 ms"
after=$(cat "$T_TMP/silent.count" 2>/dev/null || echo 0)
check "the silent BMC swallowed the requests ($before -> $after datagrams)" [ "$after" -gt "$before" ]
check "the failure is in the API's power.error" sh -c "ip netns exec $NS curl -s http://127.0.0.1:18491/api/v1/machines/silent | jq -r .power.error | grep -q 'no answer'"
check "/metrics counts the failures" sh -c "ip netns exec $NS curl -s http://127.0.0.1:18491/metrics | grep -q '^gridboot_power_ops_total{op=\"on\",result=\"error\"} 2'"
check "DHCP-less daemon still serves HTTP after the faults" sh -c "[ \$(ip netns exec $NS curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18491/api/v1/roles) = 200 ]"

# --- the password shows nowhere ---------------------------------------------
{ get machines; get machines/bmc1; get timeline; p9 cat machines/bmc1/power
  ip netns exec $NS curl -s http://127.0.0.1:18491/metrics; } >"$T_TMP/all"
check "the BMC password is in no API, 9P or metrics output" sh -c "[ -s '$T_TMP/all' ] && ! grep -q 'bmc-secret-77\|wrong-password' '$T_TMP/all'"
check "... nor in the log" sh -c "! grep -q 'bmc-secret-77\|wrong-password' '$T_TMP/gridbootd.log'"

kill -TERM $GB_PID
wait $GB_PID; rc=$?
check "clean exit (sanitizers) rc=$rc" [ $rc -eq 0 ]
t_done
