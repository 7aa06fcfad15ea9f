#!/bin/sh
# limit: 1200
# The package under real systemd: a Debian 12 root (mmdebstrap, cached by
# tests/tools/debian-root.sh) booted with systemd as its init by
# `systemd-nspawn -b --register=no --keep-unit` on an overlay (the cached
# root is never written), its network a namespace this test makes, with a
# veth to a second namespace, the "host side", where the clients run. The
# .deb (tests/tools/build-deb.sh, shared with package.sh) is installed in
# it, an inventory serving the veth written, and `systemctl enable --now
# gridbootd` run. From the host side: DHCPv4 (udhcpc), DHCPv6 (dhclient -6)
# and an RA (rdisc6) answered, a file over TFTP and HTTP, a 9P attach; then
# `systemctl reload` re-reads the inventory, `systemctl stop` leaves the
# lease journal whole (the next start gives the client its address again),
# and after SIGKILL systemd restarts it. Type=notify shows as READY with the
# daemon's status text. `systemd-analyze security gridbootd` is printed
# (docs/install.md keeps its figure). Skipped, with the reason, only where
# nspawn cannot run: no systemd-nspawn or mmdebstrap, no root to build
# from the machine's apt mirror, or a container that does not boot.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/dhcp_lib.sh"

skip_all() { ok "systemd-nspawn test # SKIP $*"; t_done; exit 0; }
for t in systemd-nspawn mmdebstrap; do
	command -v $t >/dev/null 2>&1 || skip_all "$t is not installed (tests/deps.d/package.txt)"
done
for t in udhcpc dhclient rdisc6 tftp curl dpkg-buildpackage; do
	command -v $t >/dev/null 2>&1 || { not_ok "$t is installed (tests/deps.d)"; t_done; exit 1; }
done
P9C=${P9C:-$(dirname "$GRIDBOOTD")/tools/p9c}
t0=$(date +%s)
ROOT=$(sh "$GRIDBOOT_TOP/tests/tools/debian-root.sh" 2>"$T_TMP/root.err") ||
	skip_all "no Debian 12 root: $(tail -n 1 "$T_TMP/root.err")"
diag "root $ROOT ($(( $(date +%s) - t0 ))s)"
DEBDIR=$(sh "$GRIDBOOT_TOP/tests/tools/build-deb.sh" "$GRIDBOOT_TOP" "$(dirname "$GRIDBOOTD")" 2>"$T_TMP/build.err")
check "the package builds" test -f "$DEBDIR/gridbootd_0.1_amd64.deb"
[ -f "$DEBDIR/gridbootd_0.1_amd64.deb" ] || { sed 's/^/# /' "$T_TMP/build.err"; t_done; exit 1; }
diag "package $DEBDIR ($(( $(date +%s) - t0 ))s)"

# The container's network namespace (gridbootd's side) and the host side.
NSC=gbnsC$$ NSH=gbnsH$$ IFC=gbv$$s IFH=gbv$$c
dhcp_ns $NSC $NSH || { not_ok "namespaces"; t_done; exit 1; }
dhcp_link $NSC $IFC $NSH $IFH
ip -n $NSC addr add 10.77.0.1/24 dev $IFC
ip -n $NSC addr add fd77::1/64 dev $IFC nodad
ip -n $NSH link set $IFH address 52:54:00:77:00:21
ip -n $NSH addr add 10.77.0.50/24 dev $IFH
ip -n $NSH addr add fd77::50/64 dev $IFH nodad
ip netns exec $NSH sysctl -qw net.ipv6.conf.$IFH.accept_ra=0

# The root: an overlay over the cached one, so nothing of this run stays.
M=$T_TMP/m
mkdir -p $M/up $M/work $M/root $M/share
mount -t overlay overlay -o "lowerdir=$ROOT,upperdir=$M/up,workdir=$M/work" $M/root ||
	skip_all "overlayfs cannot be mounted here"
on_cleanup "umount $M/root 2>/dev/null || umount -l $M/root 2>/dev/null"
cp "$DEBDIR/gridbootd_0.1_amd64.deb" $M/share/
head -c 300000 /dev/urandom >$M/share/9pc64
SUM=$(sha256sum <$M/share/9pc64 | cut -d' ' -f1)
inventory() {	# inventory EXTRA-MACHINE-LINE
	cat <<EOC
grid = { name = "ns"; server = "10.77.0.1"; files = "/srv/gridboot/files";
         templates = "/usr/share/gridboot/plan9ini"; state = "/var/lib/gridboot";
         web = "/usr/share/gridboot/web"; user = "gridboot"; unknown = "cpu"; };
networks = ( { subnet = "10.77.0.0/24"; router = "10.77.0.1"; pool = "10.77.0.100-10.77.0.150";
               dhcp = "full"; subnet6 = "fd77::/64"; pool6 = "fd77::100-fd77::1ff"; ra = "on"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.77.0.11"; role = "cpu"; }$1 );
exports = ( { name = ""; path = "/srv/gridboot/root";
              generated = ( { path = "lib/ndb/local"; file = "ndb"; } ); } );
EOC
}
inventory "" >$M/share/gridboot.cfg
inventory ",
             { name = \"cpu2\"; mac = \"52:54:00:00:00:12\"; ip = \"10.77.0.12\"; role = \"cpu\"; }" >$M/share/gridboot2.cfg

# CAP_NET_ADMIN: nspawn grants it with --network-veth or --private-network
# but not with a namespace it is handed, and gridbootd keeps it after the
# privilege drop (ARP entries for replies to clients without an address).
systemd-nspawn -q -b -D $M/root --register=no --keep-unit -M gbns$$ \
    --network-namespace-path=/run/netns/$NSC --capability=CAP_NET_ADMIN --bind-ro=$M/share:/mnt/share \
    </dev/null >$T_TMP/console.log 2>&1 &
NSPAWN=$!
# Stopped by SIGTERM: nspawn asks the container's systemd to power off.
on_cleanup "kill -TERM $NSPAWN 2>/dev/null; i=0; while kill -0 $NSPAWN 2>/dev/null && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done; kill -KILL $NSPAWN 2>/dev/null"
LEADER=""
# The container's init: nspawn's child named systemd (an intermediate
# child of nspawn's comes and goes first).
leader() { LEADER=$(ps --ppid $NSPAWN -o pid=,comm= 2>/dev/null | awk '$2 == "systemd" { print $1; exit }'); [ -n "$LEADER" ]; }
wait_for 20 leader || skip_all "systemd-nspawn did not start a container ($(tail -n 1 $T_TMP/console.log))"
in_c() { nsenter -t "$LEADER" -a -- "$@"; }
booted() { s=$(in_c systemctl is-system-running 2>/dev/null); [ "$s" = running ] || [ "$s" = degraded ]; }
wait_for 60 booted || kill -0 $NSPAWN 2>/dev/null || { sed 's/^/# console: /' $T_TMP/console.log | tail -n 20; skip_all "the container stopped while booting"; }
wait_for 1 booted || skip_all "the container's systemd did not finish booting ($(in_c systemctl is-system-running 2>&1))"
ok "Debian 12 booted with systemd as init in nspawn ($(( $(date +%s) - t0 ))s)"
check "the package installs in it" sh -c "nsenter -t $LEADER -a -- dpkg -i /mnt/share/gridbootd_0.1_amd64.deb >$T_TMP/dpkg.log 2>&1"
sed 's/^/# dpkg: /' $T_TMP/dpkg.log | grep -i 'warn\|error'
check "... without adduser's warning about the home directory" sh -c "! grep -q 'home dir' $T_TMP/dpkg.log"
in_c sh -c 'install -d -m 0755 /srv/gridboot/files/amd64 /srv/gridboot/root/lib/ndb &&
    cp /mnt/share/9pc64 /srv/gridboot/files/amd64/9pc64 && echo hello >/srv/gridboot/root/hello &&
    cp /mnt/share/gridboot.cfg /etc/gridboot/gridboot.cfg'
check "systemctl enable --now gridbootd (returns once READY=1 came)" \
    sh -c "nsenter -t $LEADER -a -- timeout 60 systemctl enable --now gridbootd >$T_TMP/enable.log 2>&1"
show() { in_c systemctl show -p "$1" --value gridbootd; }
check "active, Type=notify, status from sd_notify ($(show StatusText))" \
    sh -c "[ \"\$(nsenter -t $LEADER -a -- systemctl show -p ActiveState --value gridbootd)\" = active ] &&
           [ \"\$(nsenter -t $LEADER -a -- systemctl show -p Type --value gridbootd)\" = notify ] &&
           nsenter -t $LEADER -a -- systemctl show -p StatusText --value gridbootd | grep -q '^serving /etc/gridboot/gridboot.cfg'"
in_c journalctl -u gridbootd --no-pager -o cat >$T_TMP/journal.log 2>&1
check "nothing refused by the sandbox (IPv6, raw ICMPv6)" \
    sh -c "! grep -qi 'not supported\|no ICMPv6 socket\|IPv4 only\|failed to start\|Operation not permitted' $T_TMP/journal.log"
wait_for 10 sh -c "nsenter -t $LEADER -a -- journalctl -u gridbootd -o cat | grep -q 'ra: '" || true

# --- the host side's clients ---------------------------------------------
dhcp_script
udhcpc_run $NSH $IFH v4
check "DHCPv4: udhcpc bound from the pool ($(envval $T_TMP/v4.bound ip))" \
    sh -c "envval() { sed -n \"s/^\$2=//p\" \"\$1\" | head -n1; }; envval $T_TMP/v4.bound ip | grep -q '^10\.77\.0\.1[0-5][0-9]$'"
V4=$(envval $T_TMP/v4.bound ip)
cat >$T_TMP/dhc6.sh <<EOS
#!/bin/sh
env | grep -E '^(reason|new_ip6_address)=' >>$T_TMP/v6.env
EOS
chmod +x $T_TMP/dhc6.sh
# dhclient -6 binds its link-local address: wait until DAD is over (a
# tentative address cannot be bound: "Cannot assign requested address").
wait_for 10 sh -c "ip -n $NSH -6 addr show dev $IFH | grep -q 'fe80.*scope link' && ! ip -n $NSH -6 addr show dev $IFH | grep -q tentative"
timeout 40 ip netns exec $NSH dhclient -6 -d -v -cf /dev/null -lf $T_TMP/v6.leases -pf $T_TMP/v6.pid \
    -sf $T_TMP/dhc6.sh $IFH >$T_TMP/dhclient.log 2>&1 &
DHC=$!
track_pid $DHC
wait_for 25 grep -q '^reason=BOUND6' $T_TMP/v6.env
kill $DHC 2>/dev/null; wait $DHC 2>/dev/null
check "DHCPv6: dhclient -6 bound ($(sed -n 's/^new_ip6_address=//p' $T_TMP/v6.env | head -n 1))" \
    grep -q '^new_ip6_address=fd77::1[0-9a-f][0-9a-f]$' $T_TMP/v6.env
ip netns exec $NSH rdisc6 -1 -w 1500 -r 3 $IFH >$T_TMP/rdisc6.out 2>&1
check "RA: rdisc6's solicitation answered (router lifetime 0, managed)" \
    sh -c "grep -q 'Router lifetime *: *0 ' $T_TMP/rdisc6.out && grep -q 'Stateful address conf.*Yes' $T_TMP/rdisc6.out"
(cd $T_TMP && timeout 30 ip netns exec $NSH tftp -m binary 10.77.0.1 -c get amd64/9pc64 tftp.out) >/dev/null 2>&1
check "TFTP: amd64/9pc64 whole (sha256)" sh -c "[ \"\$(sha256sum <$T_TMP/tftp.out | cut -d' ' -f1)\" = $SUM ]"
check "HTTP: /files/amd64/9pc64 whole (sha256)" \
    sh -c "[ \"\$(ip netns exec $NSH curl -fsS http://10.77.0.1/files/amd64/9pc64 | sha256sum | cut -d' ' -f1)\" = $SUM ]"
check "HTTP over IPv6: the web page at [fd77::1]" \
    sh -c "ip netns exec $NSH curl -gfsS 'http://[fd77::1]/' | grep -q '<title>gridboot</title>'"
check "9P: attach the export and read a file" \
    sh -c "[ \"\$(ip netns exec $NSH $P9C 10.77.0.1 564 cat hello)\" = hello ]"
check "9P: its lib/ndb/local is the grid's, with the database= entry" \
    sh -c "ip netns exec $NSH $P9C 10.77.0.1 564 cat lib/ndb/local | grep -q '^database='"

# --- reload, stop, SIGKILL -------------------------------------------------
api() { ip netns exec $NSH curl -s -o /dev/null -w '%{http_code}' "http://10.77.0.1/api/v1/machines/$1"; }
check "before the reload the API does not know cpu2 ($(api cpu2))" [ "$(api cpu2)" = 404 ]
in_c cp /mnt/share/gridboot2.cfg /etc/gridboot/gridboot.cfg
check "systemctl reload gridbootd" sh -c "nsenter -t $LEADER -a -- timeout 30 systemctl reload gridbootd"
check "... re-read the inventory: the API knows cpu2" wait_for 10 sh -c "[ \"\$(ip netns exec $NSH curl -s -o /dev/null -w '%{http_code}' http://10.77.0.1/api/v1/machines/cpu2)\" = 200 ]"
check "... the state directory is still grid.user's (systemd does not take it back)" \
    sh -c "[ \"\$(nsenter -t $LEADER -a -- stat -c %U /var/lib/gridboot)\" = gridboot ]"
check "... and the unit is READY again ($(show StatusText))" \
    sh -c "[ \"\$(nsenter -t $LEADER -a -- systemctl show -p ActiveState --value gridbootd)\" = active ] && nsenter -t $LEADER -a -- systemctl show -p StatusText --value gridbootd | grep -q '^serving .*2 machines'"
check "systemctl stop gridbootd" sh -c "nsenter -t $LEADER -a -- timeout 30 systemctl stop gridbootd"
in_c cat /var/lib/gridboot/dhcp.leases >$T_TMP/leases 2>/dev/null
# The journal keeps padding (spaces, no newline) after its last record.
check "the lease journal is whole: its last record ends in a newline, holds the client's lease" \
    sh -c "[ -s $T_TMP/leases ] && [ \"\$(tr -d ' ' <$T_TMP/leases | tail -c 1 | od -An -c | tr -d ' ')\" = '\\n' ] && grep -q '525400770021 $V4 ' $T_TMP/leases"
check "systemctl start: served again" sh -c "nsenter -t $LEADER -a -- timeout 60 systemctl start gridbootd"
udhcpc_run $NSH $IFH again
check "... the client gets its address again from the replayed journal ($(envval $T_TMP/again.bound ip))" \
    [ "$(envval $T_TMP/again.bound ip)" = "$V4" ]
PID1=$(show MainPID)
in_c systemctl kill -s KILL gridbootd
restarted() { p=$(show MainPID); [ "$p" != 0 ] && [ "$p" != "$PID1" ] && [ "$(show ActiveState)" = active ]; }
check "after SIGKILL systemd restarts it (MainPID $PID1 -> $(wait_for 20 restarted; show MainPID), NRestarts $(show NRestarts))" \
    sh -c "[ \"\$(nsenter -t $LEADER -a -- systemctl show -p NRestarts --value gridbootd)\" -ge 1 ]"
check "... and it serves: TFTP again" sh -c "cd $T_TMP && rm -f tftp.out && timeout 30 ip netns exec $NSH tftp -m binary 10.77.0.1 -c get amd64/9pc64 tftp.out >/dev/null 2>&1 && [ \"\$(sha256sum <tftp.out | cut -d' ' -f1)\" = $SUM ]"

in_c systemd-analyze security --no-pager gridbootd >$T_TMP/security.log 2>&1
sed 's/^/# security: /' $T_TMP/security.log | grep -v '^# security: *✓' 
EXPO=$(sed -n 's/.*Overall exposure level for gridbootd.service: *\([0-9.]*\).*/\1/p' $T_TMP/security.log)
diag "systemd-analyze security: exposure $EXPO (docs/install.md)"
check "systemd-analyze security gives an exposure figure ($EXPO)" [ -n "$EXPO" ]
in_c journalctl -u gridbootd --no-pager -o cat >$T_TMP/journal.log 2>&1
check "the journal has no refusal from the sandbox over the whole run" \
    sh -c "! grep -qi 'not supported\|no ICMPv6 socket\|IPv4 only\|Operation not permitted\|Permission denied' $T_TMP/journal.log"
if [ $T_FAILED -gt 0 ]; then
	in_c journalctl -u gridbootd --no-pager -o cat 2>&1 | tail -n 40 | sed 's/^/# journal: /'
	tail -n 15 $T_TMP/dhclient.log | sed 's/^/# dhclient: /'
	sed 's/^/# rdisc6: /' $T_TMP/rdisc6.out
fi
diag "$(( $(date +%s) - t0 ))s in all"
t_done
