# Shared by the HTTP module's integration tests (sourced after tests/lib.sh):
# a small kernel tree, web page and inventory in $T_TMP, a free TCP port,
# and curl helpers. Not a test itself (tests/run.sh runs only
# tests/integration/*.sh).

# Free ports for the daemon: HTTP_PORT and the three after it (TFTP, DHCP,
# proxyDHCP), derived from our PID, below the kernel's ephemeral range
# (32768 on), where a client's source port of another test could take one
# between our check and the bind, and checked with ss for sockets in any
# state, not only listeners: a connected socket on the port makes the
# daemon's dual-stack bind fail too (http_limits once failed "Address
# already in use" on 32898).
http_pick_port() {
	HTTP_PORT=$((10000 + ($$ * 7) % 22000))
	i=0
	while ss -tuanH "( sport = :$HTTP_PORT or sport = :$((HTTP_PORT + 1)) or sport = :$((HTTP_PORT + 2)) or sport = :$((HTTP_PORT + 3)) )" |
	    grep -q . && [ $i -lt 100 ]; do
		HTTP_PORT=$((HTTP_PORT + 4)); i=$((i + 1))
	done
	BASE="http://127.0.0.1:$HTTP_PORT"
}

# http_tree: kernels and loaders under $T_TMP/files (random bytes, so a
# corrupted transfer cannot compare equal by accident).
http_tree() {
	F=$T_TMP/files
	mkdir -p "$F/amd64" "$F/arm64" "$F/discovery/amd64" "$F/discovery/arm64" "$F/efi" "$T_TMP/state"
	head -c 1048576 /dev/urandom >"$F/amd64/9pc64"
	head -c 300000 /dev/urandom >"$F/arm64/9qemu.u"
	head -c 200000 /dev/urandom >"$F/discovery/amd64/vmlinuz"
	head -c 100000 /dev/urandom >"$F/discovery/amd64/initrd.gz"
	head -c 200000 /dev/urandom >"$F/discovery/arm64/Image"
	head -c 50000 /dev/urandom >"$F/efi/bootx64.efi"
	head -c 7608 /dev/urandom >"$F/efi/9bootpxe"
	echo secret >"$T_TMP/outside.txt"
	ln -s ../outside.txt "$F/escape"
	ln -s amd64/9pc64 "$F/inside"
	mkfifo "$F/fifo"
}

# http_inventory FILE: the test grid. API token "test-token-0123456789".
http_inventory() {
	cat >"$1" <<CFG
grid = {
  name = "httptest";
  server = "127.0.0.1";
  files = "$T_TMP/files";
  state = "$T_TMP/state";
  web = "$GRIDBOOT_TOP/web";
  ipxe_scripts = "$GRIDBOOT_TOP/ipxe-scripts";
  http_port = $HTTP_PORT;
  tftp_port = $((HTTP_PORT + 1));
  dhcp_port = $((HTTP_PORT + 2));
  proxy_port = $((HTTP_PORT + 3));
  p9_port = $(free_port tcp);
  api_token = "test-token-0123456789";
  unknown = "discover";
  loaders = { plan9_efi_x64 = "efi/bootx64.efi"; plan9_bios = "efi/9bootpxe"; };
};
networks = (
  { subnet = "127.0.0.0/8"; pool = "127.0.1.1-127.0.1.200"; dhcp = "full"; }
);
kernels = (
  { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; },
  { name = "9qemu"; arch = "arm64"; file = "arm64/9qemu.u"; },
  { name = "discovery-amd64"; arch = "amd64"; type = "linux";
    file = "discovery/amd64/vmlinuz"; initrd = "discovery/amd64/initrd.gz";
    cmdline = "console=ttyS0 quiet"; },
  { name = "discovery-arm64"; arch = "arm64"; type = "linux";
    file = "discovery/arm64/Image"; cmdline = "console=ttyAMA0"; }
);
roles = {
  cpu = { kernel = "9pc64"; plan9ini = { service = "cpu"; bootargs = "tcp"; }; };
  terminal = { kernel = "9pc64"; plan9ini = { service = "terminal"; }; };
  armcpu = { kernel = "9qemu"; plan9ini = { service = "cpu"; }; };
  discover = { kernel = "discovery-amd64"; };
  armdiscover = { kernel = "discovery-arm64"; };
};
machines = (
  { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "127.0.0.11";
    arch = "amd64"; firmware = "bios"; role = "cpu";
    plan9ini = { console = "0 b115200"; }; },
  { name = "term1"; mac = "52:54:00:00:00:12"; ip = "127.0.0.12";
    arch = "amd64"; firmware = "uefi"; role = "terminal"; },
  { name = "cpu9"; mac = "52:54:00:00:00:13"; ip = "127.0.0.13";
    arch = "amd64"; firmware = "bios"; role = "cpu"; boot = "9boot"; },
  { name = "arm1"; mac = "52:54:00:00:00:21"; ip = "127.0.0.21";
    arch = "arm64"; role = "armcpu"; },
  { name = "armlin"; mac = "52:54:00:00:00:22"; ip = "127.0.0.22";
    arch = "arm64"; role = "armdiscover"; },
  { name = "lin1"; mac = "52:54:00:00:00:31"; ip = "127.0.0.31";
    arch = "amd64"; role = "discover"; }
);
CFG
}

# http_start: tree, inventory and a running daemon on a free port. The
# lease journal starts with one live lease: 52:54:00:00:00:99 (the machine
# tests enroll) holds 127.0.1.99, so an enroll from that address (curl
# --interface $ENROLL_IP) speaks for it, as the discovery image does from
# the address DHCP gave it.
ENROLL_IP=127.0.1.99
http_start() {
	http_pick_port
	http_tree
	CFG=$T_TMP/grid.cfg
	http_inventory "$CFG"
	echo "B 525400000099 $ENROLL_IP $(( $(date +%s) + 86400 )) -" >"$T_TMP/state/dhcp.leases"
	start_gridbootd "$CFG" && wait_for 5 curl -fsS -o /dev/null "$BASE/boot.ipxe"
}

# code METHOD URL [curl args...]: prints the status code only.
code() {
	m=$1 u=$2; shift 2
	curl -s -o /dev/null -w '%{http_code}' -X "$m" "$@" "$u"
}
