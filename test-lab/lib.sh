# Shared by test-lab/lab.sh, tests/integration/lab_boot.sh and
# bench/lab.sh (sourced by sh): the lab's network (a namespace holding a
# bridge, one tap per VM and optionally a veth to the host) and its VMs.
# Nothing here kills by name: every process is started with a PID file
# and stopped through it.
#
# The lab network is 10.99.0.0/24 and fd99::/64 with the server on the
# bridge br0 at 10.99.0.1 and fd99::1, as in inventory/lab.cfg. A second
# bridge, br6, is an IPv6-only link (fd98::/64, the server at fd98::1, no
# IPv4 at all) for the machines that netboot over IPv6.

LAB_TOP=${LAB_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
LAB_BRIDGE=br0
LAB_SERVER=10.99.0.1
LAB_PREFIX=24
LAB_SERVER6=fd99::1
LAB_BRIDGE6=br6
LAB_SERVER6_ONLY=fd98::1
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
UBOOT_ARM64=/usr/lib/u-boot/qemu_arm64/u-boot.bin

lab_say() { echo "lab: $*" >&2; }

# lab_net_up NS: the namespace with lo and the bridge at the server address.
lab_net_up() {
	ip netns add "$1" || return 1
	ip -n "$1" link set lo up
	ip -n "$1" link add "$LAB_BRIDGE" type bridge
	# No STP and no forwarding delay: a booting ROM's first DHCP packet
	# must not be eaten by a bridge port still "learning".
	ip -n "$1" link set "$LAB_BRIDGE" type bridge stp_state 0 forward_delay 0
	ip -n "$1" addr add "$LAB_SERVER/$LAB_PREFIX" dev "$LAB_BRIDGE"
	# nodad: the addresses are usable at once (a fresh, private link).
	ip -n "$1" addr add "$LAB_SERVER6/64" dev "$LAB_BRIDGE" nodad
	ip -n "$1" link set "$LAB_BRIDGE" up
	ip -n "$1" link add "$LAB_BRIDGE6" type bridge
	ip -n "$1" link set "$LAB_BRIDGE6" type bridge stp_state 0 forward_delay 0
	ip -n "$1" addr add "$LAB_SERVER6_ONLY/64" dev "$LAB_BRIDGE6" nodad
	ip -n "$1" link set "$LAB_BRIDGE6" up
}

# iPXE waits for IPv6 autoconfiguration before it fetches anything; with
# no router advertisement on the link that wait ends only on a timeout
# (~15 s with Debian's ROM). gridbootd's own RA module (server/ra, default
# networks[].ra = "auto") answers it, so the lab runs no router.
#
# lab_router_up NS DIR: "another router" for bench/lab.sh's second
# variant: radvd in its own namespace NS-r on a veth to the bridge,
# advertising every 3-10 s with router lifetime 0 and no prefix, as a
# site router that is no default router would. gridbootd sees it and
# stops its own RAs. PID in DIR/radvd.pid; lab_router_down NS DIR removes it.
lab_router_up() {
	RADVD=$(command -v radvd || echo /usr/sbin/radvd)
	[ -x "$RADVD" ] || { lab_say "radvd missing (tests/deps.d/ra.txt)"; return 1; }
	ip netns add "$1-r" || return 1
	ip netns exec "$1-r" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip -n "$1" link add rtr0 type veth peer name r0 netns "$1-r" || return 1
	ip -n "$1" link set rtr0 master "$LAB_BRIDGE"
	ip -n "$1" link set rtr0 up
	ip -n "$1-r" link set r0 up
	cat >"$2/radvd.conf" <<EOC
interface r0 {
	AdvSendAdvert on;
	MinRtrAdvInterval 3;
	MaxRtrAdvInterval 10;
	AdvDefaultLifetime 0;
};
EOC
	ip netns exec "$1-r" "$RADVD" -n -m stderr -C "$2/radvd.conf" \
	    -p "$2/radvd.run" </dev/null >"$2/radvd.log" 2>&1 &
	echo $! >"$2/radvd.pid"
}

lab_router_down() {
	[ -f "$2/radvd.pid" ] && lab_pid_stop "$2/radvd.pid"
	ip -n "$1" link del rtr0 2>/dev/null
	ip netns del "$1-r" 2>/dev/null
	return 0
}

# lab_ack_http_gap TIMELINE.json MAC: milliseconds from the machine's
# DHCPACK to its first HTTP request, from gridbootd's timeline
# (/api/v1/timeline): the ACK is the last one before that request. With
# no router advertisement on the link, iPXE's IPv6 wait sits in this gap.
# Prints "none" if the timeline lacks either event.
lab_ack_http_gap() {
	jq -r --arg m "$2" '[.timeline[] | select(.mac == $m)] as $e
	    | ($e | map(select(.kind == "http")) | first) as $h
	    | (if $h then ($e | map(select(.kind == "dhcp" and (.text | test("-> ack")) and .seq < $h.seq)) | last) else null end) as $a
	    | if $h and $a then ($h.time_ms - $a.time_ms) else "none" end' "$1" 2>/dev/null || echo none
}

# lab_cfg OUT STATEDIR: inventory/lab.cfg with absolute paths into this
# checkout and a private state directory (tests and benchmarks).
lab_cfg() {
	sed -e "s|files = \"../kernels\"|files = \"$LAB_TOP/kernels\"|" \
	    -e "s|path = \"../kernels/root\"|path = \"$LAB_TOP/kernels/root\"|" \
	    -e "s|templates = \"../plan9ini\"|templates = \"$LAB_TOP/plan9ini\"|" \
	    -e "s|web = \"../web\"|web = \"$LAB_TOP/web\"|" \
	    -e "s|state = \"[^\"]*\"|state = \"$2\"|" \
	    "$LAB_TOP/inventory/lab.cfg" >"$1"
}

# lab_veth_up NS HOSTIF HOSTADDR NSADDR: a veth pair, HOSTIF in the host
# namespace with HOSTADDR/30, its peer "host0" in NS with NSADDR/30, so the
# operator reaches the namespace's services at NSADDR.
lab_veth_up() {
	ip link add "$2" type veth peer name host0 netns "$1" || return 1
	ip addr add "$3/30" dev "$2"
	ip link set "$2" up
	ip -n "$1" addr add "$4/30" dev host0
	ip -n "$1" link set host0 up
}

# lab_tap_add NS TAP [BRIDGE]: a tap on the bridge (default br0) for one VM.
lab_tap_add() {
	ip -n "$1" tuntap add dev "$2" mode tap || return 1
	ip -n "$1" link set "$2" master "${3:-$LAB_BRIDGE}"
	ip -n "$1" link set "$2" up
}

# lab_vm_bridge KIND: the bridge a VM of KIND is on (br6 for the IPv6 kinds).
lab_vm_bridge() {
	case $1 in
	*6) echo "$LAB_BRIDGE6" ;;
	*) echo "$LAB_BRIDGE" ;;
	esac
}

# lab_net_down NS [HOSTIF]: removes the namespace (and with it the bridge,
# the taps and the veth peer) and the host end of the veth.
lab_net_down() {
	[ -n "${2:-}" ] && ip link del "$2" 2>/dev/null
	ip netns del "$1-r" 2>/dev/null
	ip netns del "$1" 2>/dev/null
	return 0
}

# lab_accel: "kvm" when /dev/kvm is usable and a KVM guest behaves, else
# "tcg". KVM is known to misbehave on some hosts of this kind (an iPXE ROM
# that never sends DHCP), so the probe is the real thing: a BIOS VM with
# the e1000's iPXE ROM on QEMU's user network must put a DHCPDISCOVER on
# the wire within 15 s, seen in a packet dump of its NIC. LAB_ACCEL=tcg|kvm
# overrides.
lab_accel() {
	if [ -n "${LAB_ACCEL:-}" ]; then
		echo "$LAB_ACCEL"
		return
	fi
	if [ -c /dev/kvm ] && [ -w /dev/kvm ] && lab_accel_probe kvm; then
		echo kvm
	else
		echo tcg
	fi
}

lab_accel_probe() {	# accel: 0 if the ROM sends DHCP under it
	d=$(mktemp -d /tmp/gb-accel.XXXXXX)
	qemu-system-x86_64 -accel "$1" -M pc -m 64 -display none -monitor none \
	    -serial none -no-reboot -boot n -netdev user,id=n0 \
	    -device e1000,netdev=n0 -object "filter-dump,id=f0,netdev=n0,file=$d/dump" \
	    </dev/null >/dev/null 2>&1 &
	pp=$!
	ok=1 i=0
	while [ $i -lt 150 ] && kill -0 "$pp" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
		# UDP from port 68 to port 67: a DHCP client's packet.
		if od -An -tx1 -v "$d/dump" 2>/dev/null | tr -d ' \n' | grep -q 00440043; then
			ok=0
			break
		fi
	done
	kill "$pp" 2>/dev/null
	wait "$pp" 2>/dev/null
	rm -rf "$d"
	return $ok
}

# The NIC model each kind boots from, and its QEMU command.
#   bios    amd64, SeaBIOS, the e1000's iPXE option ROM
#   uefi    amd64, OVMF with its own virtio-net driver (no NIC ROM): its
#           PXE loads ipxe.efi over TFTP, which goes on over HTTP
#   uboot   arm64 -M virt, Debian's U-Boot qemu_arm64 (distro boot: DHCP,
#           then boot.scr.uimg over TFTP). virtio-net must be modern-only:
#           through the legacy interface U-Boot 2023.01 reads the MAC as
#           52:52:52:52:52:52 and DHCPs with that instead of the NIC's.
#   uefi6   as uefi, on the IPv6-only link, with OVMF's IPv4 PXE switched
#           off and its IPv6 PXE on (fw_cfg opt/org.tianocore/IPv4PXESupport
#           and IPv6PXESupport; OVMF's default is IPv4 only): DHCPv6 ->
#           TFTP ipxe.efi -> iPXE DHCPv6 -> HTTP boot.ipxe, all over IPv6
#   bios6   as bios, on the IPv6-only link: iPXE's DHCPv4 goes unanswered
#           and it boots from DHCPv6's option 59
#   uefihttp as uefi, with both of OVMF's PXE drivers switched off
#           (IPv4PXESupport and IPv6PXESupport "n"): OVMF makes a boot
#           option for each of its load-file drivers on the NIC, and with
#           PXE on, "UEFI PXEv4" comes before "UEFI HTTPv4" and would take
#           gridbootd's PXE answer (TFTP). With PXE off the NIC's first
#           option is HTTPv4: DHCP as HTTPClient -> HTTP GET ipxe.efi (by
#           the firmware) -> iPXE DHCP -> HTTP boot.ipxe; no TFTP at all
lab_vm_arch() {
	case $1 in
	bios|uefi|bios6|uefi6|uefihttp) echo amd64 ;;
	uboot) echo arm64 ;;
	esac
}

# lab_vm_start NS NAME KIND MAC MEM_MB TAP DIR [EXTRA [SOCK]]: starts one VM
# in NS in the background; serial console in DIR/NAME.serial, PID in
# DIR/NAME.pid. The VM exits when its guest powers off (-no-reboot). EXTRA:
# more QEMU arguments (split on blanks, e.g. a disk). SOCK=sock: the serial
# console is also a unix socket DIR/NAME.sock one can type on (the .serial
# file stays its transcript). Prints the PID.
lab_vm_start() {
	ns=$1 name=$2 kind=$3 mac=$4 mem=$5 tap=$6 dir=$7 extra=${8:-} sock=${9:-}
	accel=${LAB_ACCEL_RESOLVED:-tcg}
	net="-netdev tap,id=n0,ifname=$tap,script=no,downscript=no"
	serial="-serial file:$dir/$name.serial"
	[ "$sock" = sock ] && rm -f "$dir/$name.sock" &&
	    serial="-chardev socket,id=s0,path=$dir/$name.sock,server=on,wait=off,logfile=$dir/$name.serial -serial chardev:s0"
	common="-m $mem -display none -monitor none -no-reboot $serial -pidfile $dir/$name.pid -name $name $extra"
	pxe6=""
	case $kind in
	bios|bios6)
		set -- qemu-system-x86_64 -M pc -accel "$accel" $common $net \
		    -device "e1000,netdev=n0,mac=$mac" -boot n
		;;
	uefi|uefi6|uefihttp)
		cp "$OVMF_VARS" "$dir/$name.vars"
		[ "$kind" = uefi6 ] && pxe6="-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n
		    -fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=y"
		[ "$kind" = uefihttp ] && pxe6="-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=n
		    -fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=n"
		# shellcheck disable=SC2086
		set -- qemu-system-x86_64 -M q35 -accel "$accel" $common $net $pxe6 \
		    -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
		    -drive "if=pflash,format=raw,unit=1,file=$dir/$name.vars" \
		    -device "virtio-net-pci,netdev=n0,mac=$mac,romfile=,bootindex=1"
		;;
	uboot)
		set -- qemu-system-aarch64 -M virt -cpu cortex-a57 -accel tcg $common $net \
		    -bios "$UBOOT_ARM64" \
		    -device "virtio-net-pci,netdev=n0,mac=$mac,disable-legacy=on,romfile="
		;;
	*) lab_say "unknown VM kind $kind"; return 1 ;;
	esac
	rm -f "$dir/$name.pid"
	: >"$dir/$name.serial"
	echo "$*" >"$dir/$name.cmd"
	ip netns exec "$ns" "$@" </dev/null >"$dir/$name.qemu.log" 2>&1 &
	echo $!
}

# lab_pid_stop PIDFILE: TERM, a bounded wait, then KILL; removes the file.
lab_pid_stop() {
	[ -f "$1" ] || return 0
	p=$(cat "$1" 2>/dev/null)
	if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		kill "$p" 2>/dev/null
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null || true
	fi
	rm -f "$1"
}

# lab_ensure_loaders FILESDIR: copies the firmware-side loaders the lab
# hands out from Debian's ipxe package into the served tree.
lab_ensure_loaders() {
	mkdir -p "$1/loaders"
	for f in ipxe.efi undionly.kpxe snponly.efi; do
		[ -f "/usr/lib/ipxe/$f" ] || continue
		cmp -s "/usr/lib/ipxe/$f" "$1/loaders/$f" || cp "/usr/lib/ipxe/$f" "$1/loaders/$f"
	done
}

# lab_anchor_start NS DIR FILES: the same boot chain served by the anchor
# stack, for bench/lab.sh: dnsmasq for DHCP (iPXE clients get
# http://SERVER/boot.ipxe, UEFI PXE ROMs ipxe.efi over TFTP, U-Boot its
# script) and TFTP, and test-lab/anchor-httpd.py for the static files and
# the enroll POST. The tree is DIR/anchor: a static boot.ipxe booting the
# amd64 discovery image, boot.scr.uimg (when mkimage exists) for arm64, and
# links to FILES. PIDs in DIR/dnsmasq.pid and DIR/anchor-httpd.pid; the
# enroll bodies in DIR/anchor-enroll.log.
lab_anchor_start() {
	ns=$1 dir=$2 files=$3
	t=$dir/anchor
	mkdir -p "$t"
	ln -sfn "$files/discovery" "$t/discovery"
	ln -sfn "$files/loaders" "$t/loaders"
	cat >"$t/boot.ipxe" <<EOT
#!ipxe
kernel http://$LAB_SERVER/discovery/amd64/vmlinuz initrd=initrd.gz console=ttyS0 panic=5 no_timer_check gridboot.server=http://$LAB_SERVER gridboot.mac=\${net0/mac}
initrd --name initrd.gz http://$LAB_SERVER/discovery/amd64/initrd.gz
boot
EOT
	cat >"$t/boot.txt" <<EOT
tftpboot \${kernel_addr_r} discovery/arm64/Image
tftpboot \${ramdisk_addr_r} discovery/arm64/initrd.gz
setenv bootargs console=ttyAMA0 panic=5 gridboot.server=http://$LAB_SERVER gridboot.mac=\${ethaddr}
booti \${kernel_addr_r} \${ramdisk_addr_r}:\${filesize} \${fdtcontroladdr}
EOT
	command -v mkimage >/dev/null &&
	    mkimage -A arm64 -T script -C none -n anchor -d "$t/boot.txt" "$t/boot.scr.uimg" >/dev/null
	# --user=root: dnsmasq would otherwise drop to nobody, who may not
	# reach the served tree (a 0700 temporary directory, a home).
	# --no-ping: gridbootd sends no ICMP probe before an OFFER either,
	# and the probe would add ~3 s to every anchor boot.
	ip netns exec "$ns" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root --no-ping \
	    --interface="$LAB_BRIDGE" --bind-interfaces --log-facility="$dir/dnsmasq.log" \
	    --dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h \
	    --dhcp-leasefile="$dir/dnsmasq.leases" --dhcp-option=3 --dhcp-option=6 \
	    --enable-tftp --tftp-root="$t" \
	    --dhcp-userclass=set:ipxe,iPXE \
	    --dhcp-match=set:efi64,option:client-arch,7 \
	    --dhcp-match=set:efi64,option:client-arch,9 \
	    --dhcp-boot=tag:ipxe,http://$LAB_SERVER/boot.ipxe \
	    --dhcp-boot=tag:!ipxe,tag:efi64,loaders/ipxe.efi,,$LAB_SERVER \
	    --dhcp-boot=tag:!ipxe,tag:!efi64,boot.scr.uimg,,$LAB_SERVER \
	    </dev/null >/dev/null 2>&1 &
	echo $! >"$dir/dnsmasq.pid"
	ip netns exec "$ns" python3 "$LAB_TOP/test-lab/anchor-httpd.py" "$LAB_SERVER" 80 \
	    "$t" "$dir/anchor-enroll.log" </dev/null >"$dir/anchor-httpd.log" 2>&1 &
	echo $! >"$dir/anchor-httpd.pid"
	i=0
	until ip netns exec "$ns" curl -s -m 1 -o /dev/null "http://$LAB_SERVER/boot.ipxe" ||
	    [ $i -ge 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if ! kill -0 "$(cat "$dir/dnsmasq.pid")" 2>/dev/null; then
		lab_say "dnsmasq did not start: $(tail -n 2 "$dir/dnsmasq.log" 2>/dev/null)"
		return 1
	fi
}

lab_anchor_stop() {
	lab_pid_stop "$1/dnsmasq.pid"
	lab_pid_stop "$1/anchor-httpd.pid"
}
