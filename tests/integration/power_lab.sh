#!/bin/sh
# limit: 240
# The power chain end to end, all real: OpenIPMI's ipmi_sim is the BMC of
# a QEMU VM (QEMU's ipmi-bmc-extern on ipmi_sim's VM serial link; its
# lan.conf startcmd launches the VM), gridbootd powers it on over IPMI
# (libfreeipmi, RMCP+), the VM's iPXE ROM netboots from gridbootd (DHCP,
# then HTTP boot.ipxe, on its timeline), then a 9P write of "cycle" to machines/vm1/ctl power cycles
# it through ipmi_sim (power off goes to QEMU over the link, which exits;
# ipmi_sim starts a new one) and it netboots again: a second DHCP and
# HTTP after the cycle, from a new QEMU process. Under TCG (no KVM) the
# two boots take about 15 s; the test skips, saying why, only when
# QEMU cannot run an IPMI BMC device at all. The VM's one boot device is
# its NIC (-boot n): Debian 12's ipmi_sim hands boot flags only to a
# chassis_control program, never over the VM link, so "pxe" is checked
# in power_ipmi.sh (its chassis program records "set boot pxe"), not here.
. "${GRIDBOOT_TOP:-.}/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/power-lib.sh"

P9C=${P9C:-$(dirname "$GRIDBOOTD")/tools/p9c}
MAC=52:54:00:00:00:31
if ! command -v ipmi_sim >/dev/null 2>&1 || ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	ok "# SKIP needs ipmi_sim and qemu-system-x86_64 (tests/deps.d/power.txt)"
	t_done
	exit 0
fi
if ! qemu-system-x86_64 -device help 2>/dev/null | grep -q '"ipmi-bmc-extern"'; then
	ok "# SKIP this QEMU has no ipmi-bmc-extern device"
	t_done
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	not_ok "power_lab needs root (network namespace, tap)"
	t_done
	exit 1
fi
accel=tcg
[ -w /dev/kvm ] && accel=kvm
NS=gbpwl$$
ns_add $NS || { not_ok "network namespace"; t_done; exit 1; }
ip -n $NS tuntap add dev tap0 mode tap && ip -n $NS addr add 10.99.0.1/24 dev tap0 &&
    ip -n $NS link set tap0 up || { not_ok "tap0 in $NS"; t_done; exit 1; }
S=$T_TMP/sim
mkdir -p "$S/state" "$T_TMP/files" "$T_TMP/gstate" "$T_TMP/vm"
printf 'lab-bmc-pw\n' >"$T_TMP/pw"

# The VM ipmi_sim starts on power on: BIOS + the e1000's iPXE ROM, no
# disk, its BMC at the other end of 127.0.0.1:9002. Each run writes its
# PID to a new file (vm.pid.N by a counter), so a second boot is provably
# a new process.
cat >"$T_TMP/vm/start.sh" <<EOS
#!/bin/sh
n=\$(cat "$T_TMP/vm/count" 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >"$T_TMP/vm/count"
exec qemu-system-x86_64 -M pc -accel $accel -m 96 -display none -monitor none \\
    -serial file:$T_TMP/vm/serial.\$n -pidfile $T_TMP/vm/pid.\$n -no-reboot \\
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device e1000,netdev=n0,mac=$MAC \\
    -boot n -chardev socket,id=ipmi0,host=127.0.0.1,port=9002,reconnect=10 \\
    -device ipmi-bmc-extern,chardev=ipmi0,id=bmc0 -device isa-ipmi-kcs,bmc=bmc0
EOS
chmod +x "$T_TMP/vm/start.sh"
sim_start gblab lab-bmc-pw "serial 15 127.0.0.1 9002 codec VM" \
    "startcmd \"$T_TMP/vm/start.sh\"" "startnow false" "poweroff_wait 5" "kill_wait 5"
# The VMs are ipmi_sim's children; killed by their pid files at exit.
on_cleanup 'for f in "$T_TMP"/vm/pid.*; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done'

cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "lab"; server = "10.99.0.1"; files = "$T_TMP/files"; state = "$T_TMP/gstate";
         http_port = 80; p9_port = 15693; api_token = "tok-power-0123456789";
         p9_grid_open = true; interfaces = [ "tap0" ]; power_poll = 0; };
networks = ( { subnet = "10.99.0.0/24"; pool = "10.99.0.100-10.99.0.199"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = (
  { name = "vm1"; mac = "$MAC"; ip = "10.99.0.31"; role = "cpu";
    power = { driver = "ipmi"; address = "127.0.0.1:9623"; user = "admin";
              password_file = "$T_TMP/pw"; timeout = 5; workarounds = [ "opensesspriv" ]; }; }
);
EOC
ip netns exec $NS "$GRIDBOOTD" serve -c "$T_TMP/grid.cfg" -d -l debug >"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd starts" wait_for 10 gb_serving "$T_TMP/gridbootd.log"

API_PORT=80
timeline() { ip netns exec $NS curl -s -m 5 http://127.0.0.1/api/v1/machines/vm1/timeline; }
# count KIND PATTERN [AFTER_SEQ]: vm1's events of KIND matching PATTERN after AFTER_SEQ
count() { timeline | jq -r --arg k "$1" --argjson a "${3:-0}" \
    '.events[] | select(.kind == $k and .seq > $a) | .text' | grep -c -- "$2"; }
has() { [ "$(count "$@")" -gt 0 ]; }

code=$(post vm1 on)
check "API on: 202 (got $code)" [ "$code" = 202 ]
check "on done through ipmi_sim" wait_for 15 has power "on done: ipmi 127.0.0.1:9623: powered up"
check "ipmi_sim started the VM (its startcmd)" wait_for 20 test -s "$T_TMP/vm/pid.1"
check "the VM's iPXE got its DHCP lease from gridbootd" wait_for 90 has dhcp "-> ack 10.99.0.31"
check "... and fetched boot.ipxe over HTTP" wait_for 60 has http "boot.ipxe"
mark=$(timeline | jq '[.events[].seq] | max')
pid1=$(cat "$T_TMP/vm/pid.1")
check "9P: echo cycle > machines/vm1/ctl" sh -c "echo cycle | ip netns exec $NS $P9C -a grid 127.0.0.1 15693 put machines/vm1/ctl"
check "cycle done through ipmi_sim" wait_for 20 has power "cycle done: ipmi 127.0.0.1:9623: power cycled" "$mark"
check "the first QEMU was powered off (process $pid1 gone)" wait_for 30 sh -c "! kill -0 $pid1 2>/dev/null"
# Whatever comes now on tap0 is the new VM's: the first one is dead.
gone=$(timeline | jq '[.events[].seq] | max')
check "ipmi_sim started a new VM" wait_for 30 test -s "$T_TMP/vm/pid.2"
check "the new VM ($(cat "$T_TMP/vm/pid.2" 2>/dev/null), not $pid1) netboots again: DHCP after the cycle" \
    wait_for 90 has dhcp "-> ack 10.99.0.31" "$gone"
check "... and boot.ipxe over HTTP again" wait_for 60 has http "boot.ipxe" "$gone"
timeline | jq -r '.events[] | "\(.seq) \(.kind) \(.text)"' | sed 's/^/# /' | tail -n 20
post vm1 off >/dev/null
wait_for 20 has power "off done" "$mark"
kill -TERM $GB_PID
wait $GB_PID; rc=$?
check "clean exit (sanitizers) rc=$rc" [ $rc -eq 0 ]
t_done
