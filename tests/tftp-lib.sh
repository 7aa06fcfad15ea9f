# Helpers for the TFTP integration tests (sourced after tests/lib.sh):
# a served tree and an inventory in $T_TMP, the daemon on a free high UDP
# port of loopback, and small checks on its descriptors.

# free_udp_port: a port nobody has bound right now.
free_udp_port() { free_port udp; }

# tftp_setup: creates $FILES (with a 4 MiB random k4) and $CFG, starts
# gridbootd serving them on $PORT. Machine cpu1 (52:54:00:00:00:11) has
# 127.0.0.2, so requests from there carry its MAC.
tftp_setup() {
	FILES=$T_TMP/files
	mkdir -p "$FILES" "$T_TMP/state"
	head -c 4194304 /dev/urandom >"$FILES/k4"
	PORT=$(free_udp_port)
	HPORT=$(free_udp_port)
	DPORT=$(free_udp_port)
	XPORT=$(free_udp_port)
	CFG=$T_TMP/grid.cfg
	cat >"$CFG" <<CFGEOF
grid = { name = "t"; server = "127.0.0.1"; files = "$FILES"; state = "$T_TMP/state";
  tftp_port = $PORT; http_port = $HPORT; dhcp_port = $DPORT; proxy_port = $XPORT;
  p9_port = $(free_port tcp); };
networks = ( { subnet = "127.0.0.0/8"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "k4"; } );
roles = { cpu = { kernel = "9pc64"; plan9ini = { service = "cpu"; }; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "127.0.0.2";
    arch = "amd64"; firmware = "bios"; role = "cpu"; } );
CFGEOF
	start_gridbootd "$CFG"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
same_file() { [ -f "$2" ] && [ "$(sha "$1")" = "$(sha "$2")" ]; }
fd_count() { ls "/proc/$GB_PID/fd" | wc -l; }
log_has() { grep -q -- "$1" "$T_TMP/gridbootd.log"; }
