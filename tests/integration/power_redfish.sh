#!/bin/sh
# limit: 120
# Power over Redfish (docs/power.md) against a small Redfish BMC written
# for the test (tests/tools/redfish_bmc.py: one ComputerSystem over HTTPS
# with Basic auth, a self-signed certificate made here with openssl).
# gridbootd's redfish driver (libcurl, jansson) powers it on, off, cycles
# it and sets its next boot to Pxe once, through the API and a 9P ctl
# write; the BMC's log shows the exact requests, the state shows in the
# API and machines/NAME/power. The certificate is trusted by a public key
# pin, or by ca_file; a wrong pin fails with its reason on the timeline
# and no request reaches the BMC; so do a certificate nothing vouches for
# and a wrong password (401); a BMC that accepts and never answers times
# out (retried once: a GET is safe to repeat) while HTTP is answered; a
# reload brings a machine's new power settings; a role change with
# "power": "cycle" power cycles the machine into its new role; the web
# page's buttons in headless Chromium (off refused without the token,
# then off and cycle, their outcomes live on the page).
. "${GRIDBOOT_TOP:-.}/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/power-lib.sh"

P9C=${P9C:-$(dirname "$GRIDBOOTD")/tools/p9c}
NS=gbpwr$$
ns_add $NS || { not_ok "network namespace"; t_done; exit 1; }
mkdir -p "$T_TMP/files" "$T_TMP/gstate" "$T_TMP/tls"
cd "$T_TMP/tls" || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem \
    -out cert.pem -days 2 -subj /CN=bmc-lab -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.pem \
    -out othercert.pem -days 2 -subj /CN=other 2>/dev/null
pin_of() { echo "sha256//$(openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)"; }
PIN=$(pin_of cert.pem)
OTHERPIN=$(pin_of othercert.pem)
cd - >/dev/null || exit 1
check "openssl made a certificate and its pin ($PIN)" sh -c "[ -s '$T_TMP/tls/cert.pem' ] && [ ${#PIN} -eq 52 ] && [ '$PIN' != '$OTHERPIN' ]"

printf 'rf-secret-42\n' >"$T_TMP/pw"
printf 'not-it\n' >"$T_TMP/badpw"
ip netns exec $NS python3 "$GRIDBOOT_TOP/tests/tools/redfish_bmc.py" 8443 "$T_TMP/tls/cert.pem" \
    "$T_TMP/tls/key.pem" root rf-secret-42 "$T_TMP/bmc.log" 2>"$T_TMP/bmc.err" &
track_pid $!
# A BMC that accepts TCP and never says a word (not even TLS), counting
# the connections it swallowed.
cat >"$T_TMP/hang.py" <<'EOP'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8444))
s.listen(16)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    open(sys.argv[1], "w").write("%d\n" % len(held))
EOP
ip netns exec $NS python3 "$T_TMP/hang.py" "$T_TMP/hang.count" &
track_pid $!
check "the Redfish BMC answers curl with the password" wait_for 10 sh -c \
    "ip netns exec $NS curl -s -k -u root:rf-secret-42 https://127.0.0.1:8443/redfish/v1/Systems/1 | grep -q PowerState"

rf() {	# name mac-suffix user password-file extra-settings
	echo "  { name = \"$1\"; mac = \"52:54:00:00:01:$2\"; ip = \"10.9.0.$2\"; role = \"cpu\";
    power = { driver = \"redfish\"; address = \"https://127.0.0.1:8443\"; user = \"$3\";
              password_file = \"$4\"; timeout = 3; $5 }; },"
}
cfg=$T_TMP/grid.cfg
{
cat <<EOC
grid = { name = "t"; server = "127.0.0.1"; files = "$T_TMP/files"; state = "$T_TMP/gstate";
         http_port = 18492; tftp_port = 16992; dhcp_port = 16792; proxy_port = 14092;
         p9_port = 15692; api_token = "tok-power-0123456789"; p9_grid_open = true;
         power_poll = 0; web = "$GRIDBOOT_TOP/web"; };
networks = ( { subnet = "10.9.0.0/24"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; term = { kernel = "9pc64"; }; };
machines = (
EOC
rf rf1 11 root "$T_TMP/pw" "pin = \"$PIN\";"
rf rfca 12 root "$T_TMP/pw" "ca_file = \"$T_TMP/tls/cert.pem\";"
rf badpin 13 pinuser "$T_TMP/pw" "pin = \"$OTHERPIN\";"
rf noca 14 nocauser "$T_TMP/pw" ""
rf badpw 15 root "$T_TMP/badpw" "pin = \"$PIN\";"
echo '  { name = "hang"; mac = "52:54:00:00:01:17"; ip = "10.9.0.17"; role = "cpu";'
echo "    power = { driver = \"redfish\"; address = \"https://127.0.0.1:8444\"; user = \"root\";"
echo "              password_file = \"$T_TMP/pw\"; timeout = 2; retries = 1; pin = \"$PIN\"; }; },"
echo '  { name = "plain"; mac = "52:54:00:00:01:16"; ip = "10.9.0.16"; role = "cpu"; }'
echo ');'
} >"$cfg"
out=$("$GRIDBOOTD" check -c "$cfg" 2>&1)
check "the inventory with Redfish settings checks" sh -c "echo '$out' | grep -q 'inventory OK'"
sed -e 's|address = "https://127.0.0.1:8443"; user = "pinuser"|address = "http://127.0.0.1:8443"; user = "pinuser"|' \
    -e "s|pin = \"$PIN\"; }; },|pin = \"sha256//short=\"; }; },|" "$cfg" >"$T_TMP/bad.cfg"
out=$("$GRIDBOOTD" check -c "$T_TMP/bad.cfg" 2>&1)
diag "$out"
check "check: http:// is refused, by line" sh -c "echo '$out' | grep -q 'bad.cfg:[0-9]*: machines\[badpin\].power.address: \"http://127.0.0.1:8443\" is not a Redfish service'"
check "check: a malformed pin is refused" sh -c "echo '$out' | grep -q 'machines\[rf1\].power.pin: \"sha256//short=\" is not a public key pin'"

API_PORT=18492
bmc_has() { grep -q -- "$1" "$T_TMP/bmc.log"; }

ip netns exec $NS "$GRIDBOOTD" serve -c "$cfg" -d -l debug >"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd starts" wait_for 10 gb_serving "$T_TMP/gridbootd.log"

code=$(post rf1 on)
check "API on: 202 (got $code)" [ "$code" = 202 ]
check "on done, on the timeline" wait_for 10 has_event rf1 "on done: redfish https://127.0.0.1:8443: powered on.*power on"
check "the BMC was asked ResetType On at the system's Reset target" bmc_has 'root POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset {"ResetType":"On"} -> 204'
check "the API shows power on" sh -c "[ \"\$(ip netns exec $NS curl -s http://127.0.0.1:18492/api/v1/machines/rf1 | jq -r .power.state)\" = on ]"
check "9P: echo off > machines/rf1/ctl" sh -c "echo off | ip netns exec $NS $P9C -a grid 127.0.0.1 15692 put machines/rf1/ctl"
check "off done" wait_for 10 has_event rf1 "off done: .*powered off.*power off"
check "the BMC was asked ForceOff" bmc_has '"ResetType":"ForceOff"} -> 204'
check "machines/rf1/power says off" sh -c "ip netns exec $NS $P9C -a grid 127.0.0.1 15692 cat machines/rf1/power | grep -qx 'state off'"
code=$(post rf1 cycle)
check "cycle of an Off system: 202, powered on (got $code)" sh -c "[ $code = 202 ]" && wait_for 10 has_event rf1 "cycle done: .*was off: powered on"
code=$(post rf1 cycle)
check "cycle of an On system: PowerCycle (got $code)" wait_for 10 sh -c "grep -q '\"ResetType\":\"PowerCycle\"} -> 204' '$T_TMP/bmc.log'"
check "... its timeline says power cycled" wait_for 10 has_event rf1 "cycle done: .*power cycled"
code=$(post rf1 pxe)
check "API pxe: 202 (got $code)" [ "$code" = 202 ]
check "pxe done" wait_for 10 has_event rf1 "pxe done: .*next boot from the network (Pxe, Once)"
check "the BMC was PATCHed Boot: Pxe, Once" bmc_has 'root PATCH /redfish/v1/Systems/1 {"Boot":{"BootSourceOverrideTarget":"Pxe","BootSourceOverrideEnabled":"Once"}} -> 200'
check "the system now says Pxe, Once" sh -c "ip netns exec $NS curl -s -k -u root:rf-secret-42 https://127.0.0.1:8443/redfish/v1/Systems/1 | jq -e '.Boot.BootSourceOverrideTarget == \"Pxe\" and .Boot.BootSourceOverrideEnabled == \"Once\"' >/dev/null"

# A role change can power cycle the machine into its new role.
role() { api -H "Authorization: Bearer tok-power-0123456789" -X PUT -d "$2" \
    "http://127.0.0.1:18492/api/v1/machines/$1/role"; }
code=$(role rf1 '{"role":"term","power":"dance"}')
check "a role change with a bad power flag: 400 (got $code: $(cat $T_TMP/body))" sh -c "[ $code = 400 ] && grep -q 'may only be' '$T_TMP/body'"
code=$(role rf1 '{"role":"term","power":"cycle"}')
check "a role change with power cycle: 200, the cycle queued (got $code: $(jq -c '{role, power_cycle}' "$T_TMP/body"))" \
    sh -c "[ $code = 200 ] && jq -e '.role == \"term\" and .power_cycle == \"queued\"' '$T_TMP/body' >/dev/null"
check "... the BMC power cycled it into its new role" wait_for 10 has_event rf1 "cycle: asked by the API (into its new role)"
check "... and the BMC was asked a PowerCycle again" wait_for 10 sh -c "[ \$(grep -c '\"ResetType\":\"PowerCycle\"} -> 204' '$T_TMP/bmc.log') -ge 2 ]"
code=$(role plain '{"role":"term","power":"cycle"}')
check "a role change with power cycle of a machine without a BMC says so (got $code: $(jq -c .power_cycle "$T_TMP/body"))" \
    sh -c "[ $code = 200 ] && jq -r .power_cycle '$T_TMP/body' | grep -q 'no power driver'"

code=$(post rfca status)
check "ca_file: status 202 (got $code)" [ "$code" = 202 ]
check "ca_file: the certificate is trusted through it" wait_for 10 has_event rfca "status done: .*power on"

code=$(post badpin on)
check "a wrong pin: 202 (got $code)" [ "$code" = 202 ]
check "a wrong pin: FAILED, saying the key does not match the pin" wait_for 10 has_event badpin "on FAILED: redfish https://127.0.0.1:8443: system: the BMC's public key does not match the pin"
check "... and no request of that machine reached the BMC" sh -c "! grep -q '^pinuser ' '$T_TMP/bmc.log'"
code=$(post noca on)
check "no pin, no ca_file, a self-signed certificate: 202 (got $code)" [ "$code" = 202 ]
check "... FAILED: the certificate is not trusted" wait_for 10 has_event noca "on FAILED: .*the BMC's certificate is not trusted"
check "... and no request of that machine reached the BMC" sh -c "! grep -q '^nocauser ' '$T_TMP/bmc.log'"
code=$(post badpw off)
check "a wrong password: 202 (got $code)" [ "$code" = 202 ]
check "a wrong password: FAILED, the BMC refused user root (401)" wait_for 10 has_event badpw "off FAILED: .*the BMC refused user root (HTTP 401)"
check "... the BMC saw the attempt and answered 401" bmc_has "^root GET /redfish/v1/Systems/1 - -> 401"
check "the power is still on after the refused off" sh -c "ip netns exec $NS curl -s -k -u root:rf-secret-42 https://127.0.0.1:8443/redfish/v1/Systems/1 | jq -e '.PowerState == \"On\"' >/dev/null"
code=$(post hang status)
check "a BMC that never answers: 202 (got $code)" [ "$code" = 202 ]
t0=$(date +%s%N)
code=$(api http://127.0.0.1:18492/api/v1/machines)
t1=$(date +%s%N)
check "HTTP answers while the BMC hangs ($code in $(( (t1 - t0) / 1000000 )) ms)" sh -c "[ $code = 200 ] && [ $(( (t1 - t0) / 1000000 )) -lt 1000 ]"
check "... FAILED: no answer in time, after its retry (a GET is safe to repeat)" wait_for 15 has_event hang "status FAILED: redfish https://127.0.0.1:8444: system: no answer from the BMC in time.*2 attempts"
check "... the hanging BMC swallowed both attempts ($(cat "$T_TMP/hang.count" 2>/dev/null) connections)" [ "$(cat "$T_TMP/hang.count" 2>/dev/null || echo 0)" -ge 2 ]

# A reload brings new power settings: plain gets a driver.
sed -i "s|{ name = \"plain\"; mac = \"52:54:00:00:01:16\"; ip = \"10.9.0.16\"; role = \"cpu\"; }|{ name = \"plain\"; mac = \"52:54:00:00:01:16\"; ip = \"10.9.0.16\"; role = \"cpu\"; power = { driver = \"redfish\"; address = \"https://127.0.0.1:8443\"; user = \"root\"; password_file = \"$T_TMP/pw\"; pin = \"$PIN\"; }; }|" "$cfg"
kill -HUP $GB_PID
check "after a reload plain has a power driver" wait_for 10 sh -c "ip netns exec $NS curl -s http://127.0.0.1:18492/api/v1/machines/plain | jq -e '.power.driver == \"redfish\"' >/dev/null"
code=$(post plain status)
check "... and answers status (got $code)" sh -c "[ $code = 202 ]" && wait_for 10 has_event plain "status done: .*power on"
check "rf1 kept its state across the reload" sh -c "[ \"\$(ip netns exec $NS curl -s http://127.0.0.1:18492/api/v1/machines/rf1 | jq -r .power.state)\" = on ]"
# The web page's power buttons, in headless Chromium (tests/http/browser.js).
if command -v node >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1; then
	ART=${GRIDBOOT_ARTIFACTS:-$(dirname "$GRIDBOOTD")/test-logs}
	mkdir -p "$ART"
	before=$(wc -l <"$T_TMP/bmc.log")
	ip netns exec $NS node "$GRIDBOOT_TOP/tests/http/browser.js" http://127.0.0.1:18492 \
	    tok-power-0123456789 "$ART/power_web.png" "$ART/power_web.dom.html" power rfca \
	    >"$T_TMP/browser.out" 2>&1
	browser_verdicts "$T_TMP/browser.out"
	resets=$(tail -n +$((before + 1)) "$T_TMP/bmc.log" | grep -o '"ResetType":"[A-Za-z]*"' | tr '\n' ' ')
	check "the buttons reached the BMC: ForceOff, then On for the cycle of an off system ($resets)" \
	    [ "$resets" = '"ResetType":"ForceOff" "ResetType":"On" ' ]
else
	ok "# SKIP the web page's buttons need node and chromium (tests/deps.d/http.txt)"
fi

# Without p9_grid_open (and no p9_auth) the grid tree is read-only: ctl too.
lines=$(wc -l <"$T_TMP/bmc.log")
sed -i 's/p9_grid_open = true;/p9_grid_open = false;/' "$cfg"
kill -HUP $GB_PID
wait_for 10 sh -c "[ \$(grep -c 'reload: .* OK' '$T_TMP/gridbootd.log') -ge 2 ]"
out=$(echo on | ip netns exec $NS "$P9C" -a grid 127.0.0.1 15692 put machines/rf1/ctl 2>&1)
check "a read-only grid tree refuses a ctl write, saying why ($out)" sh -c "echo '$out' | grep -q 'the grid tree is read-only'"
sleep 1
check "... and nothing reached the BMC" [ "$(wc -l <"$T_TMP/bmc.log")" = "$lines" ]
check "the daemon still serves HTTP" sh -c "[ \$(ip netns exec $NS curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18492/api/v1/machines) = 200 ]"
{ get machines; get machines/rf1; get timeline; ip netns exec $NS curl -s http://127.0.0.1:18492/metrics
  ip netns exec $NS "$P9C" -a grid 127.0.0.1 15692 cat machines/rf1/power; } >"$T_TMP/all"
check "the password is in no API, 9P or metrics output, nor the log" sh -c \
    "[ -s '$T_TMP/all' ] && ! grep -q 'rf-secret-42' '$T_TMP/all' '$T_TMP/gridbootd.log'"
check "/metrics: the failures counted" sh -c "grep -q '^gridboot_power_ops_total{op=\"on\",result=\"error\"} 2' '$T_TMP/all'"

kill -TERM $GB_PID
wait $GB_PID; rc=$?
check "clean exit (sanitizers) rc=$rc" [ $rc -eq 0 ]
t_done
