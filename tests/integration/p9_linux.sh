#!/bin/sh
# limit: 600
# Linux's own 9P client against gridbootd: a QEMU guest (Debian's kernel
# and our discovery initramfs, booted directly so the test spends its time
# on 9P, not on firmware) takes DHCP from gridbootd, then runs a script it
# fetched from gridbootd that mounts exports with version=9p2000.L and
# version=9p2000 and reports each check as a "P9T ok/not ok" line on the
# serial console: list, a 64 MiB file's sha256, a write where the export
# allows it, a refused write where it does not, Plan 9 ownership as another
# user (bob reads but may not write glenda's 0644 file; his own new file is
# tagged his), and a role change written
# into the grid tree, which the API must then show.
. "${GRIDBOOT_TOP:-.}/tests/lib.sh"
LAB_TOP=$GRIDBOOT_TOP
. "$LAB_TOP/test-lab/lib.sh"

NS=gbp9l$$
DIR=$T_TMP/p9
MAC=52:54:00:00:09:01
mkdir -p "$DIR/files/t" "$DIR/export/tmp" "$DIR/export/lib/ndb" "$DIR/state"

if [ "$(id -u)" != 0 ]; then
	not_ok "p9_linux needs root (network namespace, taps)"
	t_done
	exit 1
fi
if sh "$LAB_TOP/test-lab/build-discovery.sh" amd64 >"$DIR/build.log" 2>&1; then
	ok "discovery image built (amd64)"
else
	sed 's/^/# /' "$DIR/build.log"
	not_ok "discovery image built"
	t_done
	exit 1
fi

# --- the export: a big file, a read-only file, a writable tmp/ ------------
head -c $((64 << 20)) /dev/urandom >"$DIR/export/big"
BIGSUM=$(sha256sum "$DIR/export/big" | cut -d' ' -f1)
echo "read only" >"$DIR/export/ro.txt"
# Plan 9 ownership (issue 22, part 4): a 0644 file of glenda's that bob,
# attaching as bob, may read but not write; tmp/ is open to all (0777) so
# that bob may create there.
chmod 0777 "$DIR/export/tmp"
echo "glenda's" >"$DIR/export/tmp/glenda-file"
chmod 0644 "$DIR/export/tmp/glenda-file"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.plan9", b"glenda:glenda:glenda")' \
    "$DIR/export/tmp/glenda-file"
echo "hand-edited, hidden by the generated one" >"$DIR/export/lib/ndb/local"

# The guest's script, served by gridbootd's own HTTP from grid.files.
cat >"$DIR/files/t/p9.sh" <<EOS
t() { if "\$@"; then echo "P9T ok - \$D"; else echo "P9T not ok - \$D"; fi; }
for v in 9p2000.L 9p2000; do
	mkdir -p /mnt/\$v /mnt/grid-\$v
	D="\$v: mount the root export"; t mount -t 9p -o trans=tcp,port=564,version=\$v,uname=glenda \$HOST /mnt/\$v
	D="\$v: list it"; t sh -c "ls /mnt/\$v | grep -qx ro.txt"
	D="\$v: sha256 of the 64 MiB file"; t sh -c "sha256sum /mnt/\$v/big | grep -q $BIGSUM"
	D="\$v: read a small file"; t sh -c "grep -qx 'read only' /mnt/\$v/ro.txt"
	D="\$v: write in tmp/ (writable)"; t sh -c "echo hello-\$v >/mnt/\$v/tmp/hello-\$v && grep -qx hello-\$v /mnt/\$v/tmp/hello-\$v"
	D="\$v: refused outside tmp/"; t sh -c "! echo no >/mnt/\$v/nope 2>/dev/null"
	D="\$v: refused to change ro.txt"; t sh -c "! echo no >>/mnt/\$v/ro.txt 2>/dev/null"
	D="\$v: lib/ndb/local is the grid's ndb"; t sh -c "grep -q 'sys=cpu1 ether=525400000011' /mnt/\$v/lib/ndb/local"
	D="\$v: mount the grid tree"; t mount -t 9p -o trans=tcp,port=564,version=\$v,uname=glenda,aname=grid \$HOST /mnt/grid-\$v
	D="\$v: grid tree lists cpu1"; t sh -c "ls /mnt/grid-\$v/machines | grep -qx cpu1"
	D="\$v: cpu1's plan9.ini"; t sh -c "grep -qx sysname=cpu1 /mnt/grid-\$v/machines/cpu1/plan9.ini"
	umount /mnt/\$v /mnt/grid-\$v
done
mkdir -p /mnt/bob
D="9p2000.L as bob: mount"; t mount -t 9p -o trans=tcp,port=564,version=9p2000.L,uname=bob \$HOST /mnt/bob
D="9p2000.L as bob: reads glenda's 0644 file"; t grep -qx "glenda's" /mnt/bob/tmp/glenda-file
D="9p2000.L as bob: may not write it (permission denied)"; t sh -c "(echo bob >>/mnt/bob/tmp/glenda-file) 2>/mnt/bob-err; [ \\\$? -ne 0 ] && grep -qi 'permission denied' /mnt/bob-err"
D="9p2000.L as bob: creates tmp/bob-file"; t sh -c "echo bob >/mnt/bob/tmp/bob-file"
umount /mnt/bob
mount -t 9p -o trans=tcp,port=564,version=9p2000.L,uname=glenda,aname=grid \$HOST /mnt/grid-9p2000.L
D="grid: a bad role is refused as invalid"; t sh -c "echo cpuu 2>&1 >/mnt/grid-9p2000.L/machines/cpu1/role | grep -q 'Invalid argument'"
D="grid: write a role"; t sh -c "echo term >/mnt/grid-9p2000.L/machines/cpu1/role"
D="grid: the role reads back"; t sh -c "grep -qx term /mnt/grid-9p2000.L/machines/cpu1/role"
umount /mnt/grid-9p2000.L
echo "P9T done"
EOS

cat >"$DIR/grid.cfg" <<EOC
grid = { name = "p9t"; server = "$LAB_SERVER"; authdom = "p9t.grid";
         files = "$DIR/files"; state = "$DIR/state"; api_token = "tok-0123456789abcdef";
         p9_grid_open = true; };
networks = ( { subnet = "10.99.0.0/24"; pool = "10.99.0.100-10.99.0.120"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; term = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.99.0.11"; role = "cpu"; } );
exports = ( { name = ""; path = "$DIR/export"; writable = [ "tmp" ];
              generated = ( { path = "lib/ndb/local"; file = "ndb"; } ); } );
EOC
check "the inventory is valid" "$GRIDBOOTD" check -c "$DIR/grid.cfg"

on_cleanup "lab_net_down $NS"
lab_net_up "$NS" || { not_ok "namespace $NS"; t_done; exit 1; }
lab_tap_add "$NS" tap1
ip netns exec "$NS" "$GRIDBOOTD" serve -c "$DIR/grid.cfg" -d -l debug \
    </dev/null >>"$DIR/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd serves" wait_for 15 gb_serving "$DIR/gridbootd.log"

K=$LAB_TOP/kernels/discovery/amd64
ip netns exec "$NS" qemu-system-x86_64 -M pc -accel tcg -m 384 -display none \
    -monitor none -no-reboot -serial "file:$DIR/guest.serial" \
    -netdev tap,id=n0,ifname=tap1,script=no,downscript=no \
    -device "virtio-net-pci,netdev=n0,mac=$MAC,romfile=" \
    -kernel "$K/vmlinuz" -initrd "$K/initrd.gz" \
    -append "console=ttyS0 quiet gridboot.server=http://$LAB_SERVER gridboot.mac=$MAC gridboot.script=t/p9.sh" \
    </dev/null >"$DIR/qemu.log" 2>&1 &
VM=$!
track_pid $VM
i=0
while kill -0 $VM 2>/dev/null && [ $i -lt 400 ]; do sleep 1; i=$((i + 1)); done
diag "guest ran for $i s"
check "the guest finished its script" grep -q "P9T done" "$DIR/guest.serial"
grep -a '^P9T \(ok\|not ok\) - ' "$DIR/guest.serial" | tr -d '\r' >"$DIR/p9t"
while IFS= read -r l; do
	case $l in
	"P9T ok - "*) ok "guest: ${l#P9T ok - }" ;;
	*) not_ok "guest: ${l#P9T not ok - }" ;;
	esac
done <"$DIR/p9t"
n=$(grep -ac '^P9T \(ok\|not ok\) - ' "$DIR/guest.serial")
check "the guest ran all 29 checks (ran $n)" [ "$n" -eq 29 ]
tag() { python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.plan9").decode())' "$1" 2>&1; }
check "bob's file is his on disk: user.plan9 $(tag "$DIR/export/tmp/bob-file")" \
    [ "$(tag "$DIR/export/tmp/bob-file")" = "bob:glenda:bob" ]
check "glenda's file is unchanged" grep -qx "glenda's" "$DIR/export/tmp/glenda-file"

role=$(ip netns exec "$NS" curl -s -m 5 "http://$LAB_SERVER/api/v1/machines/cpu1" | jq -r .role)
check "the API shows the role written over 9P (role: $role)" [ "$role" = term ]
check "the role change is stored like an API change" grep -q '"term"' "$DIR/state/assignments.json"
api() { ip netns exec "$NS" curl -s -m 5 "http://$LAB_SERVER/api/v1$1"; }
n=$(api "/timeline?after=0" | jq --arg m "$MAC" '[.timeline[] | select(.mac == $m and .kind == "9p")] | length')
check "the guest's 9P attaches are on its timeline ($n)" [ "${n:-0}" -ge 4 ]
st=$(api /discovered | jq -r --arg m "$MAC" '.discovered[] | select(.mac == $m) | .state')
check "and it is shown as up (state: $st)" [ "$st" = up ]
kill -TERM $GB_PID; wait $GB_PID
check "gridbootd exits cleanly" [ $? -eq 0 ]
if [ "$T_FAILED" -gt 0 ]; then
	grep -a -v '^\[' "$DIR/guest.serial" | tr -d '\r' | tail -n 40 | sed 's/^/#   guest: /'
	tail -n 30 "$DIR/gridbootd.log" | sed 's/^/#   /'
fi
t_done
