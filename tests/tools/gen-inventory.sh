#!/bin/sh
# gen-inventory.sh N DIR [MACBYTE]: writes DIR/grid.cfg, an inventory of N
# machines (and DIR/files with the loader it names), for the scale test
# and bench/inventory.sh. Machine i is m<i>, MAC 02:MACBYTE:<i as 4 bytes>
# (what bench/dhcp_load.c sends for client i), address 10.93.0.0 + i in
# 10.92.0.0/14, whose pool 10.92.1.1-10.92.255.254 serves everyone else
# (over 196 608 machines the addresses run past the /14: the network is
# then 10.64.0.0/10, the same pool).
# Every tenth machine has a plan9.ini entry of its own; roles alternate.
#   GEN_SERVER (10.92.0.1), GEN_PORTS ("" or extra grid keys), GEN_STATE
set -u
n=$1
dir=$2
mb=${3:-16}
server=${GEN_SERVER:-10.92.0.1}
subnet=10.92.0.0/14
[ "$n" -gt 196608 ] && subnet=10.64.0.0/10
mkdir -p "$dir/files/loaders" "$dir/files/amd64" || exit 1
: >"$dir/files/loaders/undionly.kpxe"
: >"$dir/files/amd64/9pc64"
{
cat <<EOC
grid = {
  name = "scale";
  server = "$server";
  files = "$dir/files";
  state = "${GEN_STATE:-$dir/state}";
  loaders = { ipxe_bios = "loaders/undionly.kpxe"; };
  ${GEN_EXTRA:-}
};
networks = (
  { subnet = "$subnet"; router = "$server"; dns = ["$server"];
    pool = "10.92.1.1-10.92.255.254"; lease = 3600; dhcp = "full"; }
);
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = {
  cpu = { kernel = "9pc64"; plan9ini = { service = "cpu"; bootargs = "tcp"; }; };
  terminal = { kernel = "9pc64"; plan9ini = { service = "terminal"; user = "glenda"; }; };
};
machines = (
EOC
awk -v n="$n" -v mb="$mb" 'BEGIN {
	for (i = 0; i < n; i++) {
		a = 93 + int(i / 65536); b = int(i / 256) % 256; c = i % 256
		printf "  { name = \"m%d\"; mac = \"02:%02x:%02x:%02x:%02x:%02x\"; ip = \"10.%d.%d.%d\"; arch = \"amd64\"; firmware = \"bios\"; role = \"%s\";%s }%s\n", \
		    i, mb, int(i / 16777216) % 256, int(i / 65536) % 256, b, c, a, b, c, \
		    (i % 2 ? "terminal" : "cpu"), \
		    (i % 10 == 0 ? " plan9ini = { console = \"0 b115200\"; };" : ""), \
		    (i < n - 1 ? "," : "")
	}
}'
echo ");"
} >"$dir/grid.cfg"
