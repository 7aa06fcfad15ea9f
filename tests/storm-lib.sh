# Shared by tests/integration/boot_storm.sh and bench/storm.sh (sourced
# after tests/lib.sh): a network namespace with only loopback, the storm's
# inventory (network 127.0.0.0/8, a pool of 1000, unknown PXE clients boot
# the discovery role) and tree, and helpers. Not a test itself.
STORM_HTTP=8080 STORM_TFTP=6969 STORM_DHCP=1067
STORM_LOADER_SIZE=${STORM_LOADER_SIZE:-65536}
STORM_KERNEL_SIZE=${STORM_KERNEL_SIZE:-262144}

storm_setup() {	# sets NS, CFG; makes the tree and inventory in $T_TMP
	NS=gbstorm$$
	ns_add $NS || return 1
	F=$T_TMP/files
	mkdir -p "$F/disc" "$T_TMP/state"
	head -c "$STORM_LOADER_SIZE" /dev/urandom >"$F/undionly.kpxe"
	head -c "$STORM_KERNEL_SIZE" /dev/urandom >"$F/disc/vmlinuz"
	head -c 1000 /dev/urandom >"$F/disc/initrd.gz"
	CFG=$T_TMP/storm.cfg
	cat >"$CFG" <<CFG
grid = { name = "storm"; server = "127.0.0.1"; files = "$F"; state = "$T_TMP/state";
  http_port = $STORM_HTTP; tftp_port = $STORM_TFTP; dhcp_port = $STORM_DHCP; proxy_port = 14011;
  unknown = "disc"; loaders = { ipxe_bios = "undionly.kpxe"; }; };
networks = ( { subnet = "127.0.0.0/8"; pool = "127.1.0.1-127.1.3.232"; lease = 3600; } );
kernels = ( { name = "disc"; arch = "amd64"; type = "linux"; file = "disc/vmlinuz";
  initrd = "disc/initrd.gz"; cmdline = "quiet"; } );
roles = { disc = { kernel = "disc"; }; };
machines = ( { name = "m1"; mac = "52:54:00:00:00:11"; ip = "127.0.0.11"; role = "disc"; } );
CFG
}

storm_start() {	# [BINARY]: gridbootd in the namespace; sets GB_PID
	: >"$T_TMP/gridbootd.log"
	ip netns exec $NS "${1:-$GRIDBOOTD}" serve -c "$CFG" -d -l info >>"$T_TMP/gridbootd.log" 2>&1 &
	GB_PID=$!
	track_pid $GB_PID
	wait_for 10 gb_serving "$T_TMP/gridbootd.log"
}

storm_run() {	# N OUT [MARK_AT MARK_FILE]: runs the storm in the namespace
	storm_run_in $NS $STORM_HTTP $STORM_TFTP $STORM_DHCP "$@"
}

# storm_run_in NS HTTP TFTP DHCP N OUT [MARK_AT MARK_FILE]: the same storm
# against other servers on those ports in NS (bench/storm.sh's dnsmasq
# and nginx), serving the same tree.
storm_run_in() {
	ip netns exec "$1" python3 "$GRIDBOOT_TOP/tests/storm.py" "$5" "$2" "$3" "$4" \
	    undionly.kpxe "$STORM_LOADER_SIZE" disc/vmlinuz "$STORM_KERNEL_SIZE" \
	    ${7:--1} ${8:-""} >"$6" 2>"$6.err"
}

# storm_verify RESULT: checks against the running daemon's API that every
# client finished, no address went to two clients nor a client to two
# addresses, every lease is still there and every enrollment kept.
storm_verify() {
	ip netns exec $NS python3 - "$1" "$STORM_HTTP" <<'PY'
import json, sys, urllib.request
r = json.load(open(sys.argv[1]))
base = "http://127.0.0.1:%s/api/v1" % sys.argv[2]
leases = {l["mac"]: l["ip"] for l in json.load(urllib.request.urlopen(base + "/leases"))["leases"]}
disc = {d["mac"]: d for d in json.load(urllib.request.urlopen(base + "/discovered"))["discovered"]}
owner, problems = {}, []
for mac, c in r["macs"].items():
    if len(set(c["ips"])) > 1:
        problems.append("%s was given %s" % (mac, sorted(set(c["ips"]))))
    for ip in set(c["ips"]):
        if owner.setdefault(ip, mac) != mac:
            problems.append("%s given to %s and %s" % (ip, owner[ip], mac))
    if c["ips"] and leases.get(mac) != c["ips"][-1]:
        problems.append("%s: lease %s lost (API says %s)" % (mac, c["ips"][-1], leases.get(mac)))
    if c["enrolled"] and not disc.get(mac, {}).get("enrolled"):
        problems.append("%s: enrollment lost" % mac)
print("completed %d of %d" % (r["completed"], r["clients"]))
print("problems %d" % len(problems))
for p in problems[:20]:
    print("# " + p)
PY
}
