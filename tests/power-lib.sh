# Shared by the power tests (sourced after tests/lib.sh; NS is the
# test's namespace): OpenIPMI's ipmi_sim as a BMC, and the API calls the
# tests make of gridbootd's power endpoint.

# sim_start NAME PASSWORD [LINE...]: ipmi_sim in $NS on 127.0.0.1:9623,
# its files in $S (made by the caller), user 2 "admin" with PASSWORD and
# each LINE added to its LAN configuration (a chassis_control program, a
# VM's serial link and start command); sets SIM_PID.
sim_start() {
	_sim_name=$1 _sim_pw=$2
	shift 2
	{
		echo "name \"$_sim_name\""
		echo "set_working_mc 0x20"
		echo "  startlan 1"
		echo "    addr 127.0.0.1 9623"
		echo "    priv_limit admin"
		for a in callback user operator admin; do echo "    allowed_auths_$a md5"; done
		echo "    guid a123456789abcdefa123456789abcdef"
		echo "  endlan"
		for l in "$@"; do echo "  $l"; done
		echo "  user 2 true \"admin\" \"$_sim_pw\" admin 10 md5"
	} >"$S/lan.conf"
	printf '%s\n' "mc_setbmc 0x20" "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02" \
	    "mc_enable 0x20" >"$S/sim.emu"
	ip netns exec $NS ipmi_sim -c "$S/lan.conf" -f "$S/sim.emu" -s "$S/state" -n >"$S/sim.log" 2>&1 &
	SIM_PID=$!
	track_pid $SIM_PID
}

# The API on 127.0.0.1:$API_PORT in $NS, with the tests' token.
# api CURL_ARGS...: the status code, the body in $T_TMP/body.
api() { ip netns exec $NS curl -s -m 5 -o "$T_TMP/body" -w '%{http_code}' "$@"; }
# post MACHINE OP: a power operation.
post() { api -H "Authorization: Bearer tok-power-0123456789" -X POST -d "{\"op\":\"$2\"}" \
    "http://127.0.0.1:$API_PORT/api/v1/machines/$1/power"; }
# get PATH: an API document.
get() { ip netns exec $NS curl -s -m 5 "http://127.0.0.1:$API_PORT/api/v1/$1"; }
# events MACHINE: its power events' texts; has_event MACHINE TEXT.
events() { get "machines/$1/timeline" | jq -r '.events[] | select(.kind == "power") | .text'; }
has_event() { events "$1" | grep -q -- "$2"; }
