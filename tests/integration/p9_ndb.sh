#!/bin/sh
# limit: 60
# The generated ndb laid over an export's lib/ndb/local, read by a Linux
# 9P client (tests/tools/p9c, 9P2000 and 9P2000.L) as 9front's ndb/cs
# would open it: it starts with a database= entry naming /net/ndb, itself
# and /lib/ndb/common, so the root's own files stay in the database (without
# it, cs reads the generated file alone and `tcp!AUTH!ticket` cannot be
# translated: issue 22). An export with its own lib/ndb/common gets no
# service entries (the site's file gives them); one without gets ticket 567,
# 9fs 564, rcpu 17019, ncpu 17010 (the old cpu service: 9front's cpu(1)
# dials tcp!HOST!ncpu; a 2016 terminal's `cpu -h cpu1` failed with
# `cs: can't translate service` when this file called it cpu), cpu 17013,
# exportfs 17007 and dns 53, and loses them
# as soon as a common file appears. A service is then looked up through the
# database= chain as libndb's ndbopen orders it.
. "${GRIDBOOT_TOP:-.}/tests/lib.sh"

P9C=${P9C:-$(dirname "$GRIDBOOTD")/tools/p9c}
NS=gbp9n$$
ns_add $NS || { not_ok "network namespace"; t_done; exit 1; }
ip -n $NS link set lo up
SITE=$T_TMP/site BARE=$T_TMP/bare
mkdir -p "$SITE/lib/ndb" "$BARE/lib/ndb" "$T_TMP/state" "$T_TMP/files"
echo "hand-edited" >"$SITE/lib/ndb/local"
# The site's own common file: a port of its choosing shows whose entry won.
printf 'tcp=ticket port=1567\ntcp=9fs port=564\n' >"$SITE/lib/ndb/common"
cat >"$T_TMP/grid.cfg" <<EOC
grid = { name = "t"; server = "127.0.0.1"; files = "$T_TMP/files"; state = "$T_TMP/state";
         http_port = 18392; tftp_port = 16992; dhcp_port = 16792; proxy_port = 14092;
         p9_port = 15651; authdom = "t.grid"; };
networks = ( { subnet = "10.9.0.0/24"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
machines = ( { name = "cpu1"; mac = "52:54:00:00:00:11"; ip = "10.9.0.11"; role = "cpu"; } );
exports = ( { name = ""; path = "$SITE"; generated = ( { path = "lib/ndb/local"; file = "ndb"; } ); },
            { name = "bare"; path = "$BARE"; generated = ( { path = "lib/ndb/local"; file = "ndb"; } ); } );
EOC
ip netns exec $NS "$GRIDBOOTD" serve -c "$T_TMP/grid.cfg" -d -l debug >"$T_TMP/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "gridbootd serves 9P" wait_for 10 grep -q "9p: listening on tcp port 15651" "$T_TMP/gridbootd.log"
p9() { ip netns exec $NS "$P9C" "$@"; }

# The database= entry as 9front's lib/ndb/local has it, with this file in
# its place: three file= lines under an unindented database=.
DB=$(printf 'database=\n\tfile=/net/ndb\n\tfile=/lib/ndb/local\n\tfile=/lib/ndb/common\n')
has_db() { awk -v want="$DB" 'BEGIN { RS = "" } index($0, want) == 1 { f = 1 } END { exit !f }' "$1"; }
# lookup PROTO SERVICE LOCAL COMMON: the first PROTO=SERVICE entry's port in
# the order ndbopen gives (the files of the database= entry, the root file
# where it names itself; a file that is not there is skipped).
lookup() {
	files=$(awk '/^database=/ { d = 1; next } d && /^[ \t]+file=/ { sub(/^[ \t]+file=/, ""); print; next } { d = 0 }' "$3")
	for f in $files; do
		case $f in
		/lib/ndb/local) t=$3 ;;
		/lib/ndb/common) t=$4 ;;
		*) continue ;;	# /net/ndb: the machine's own, not in an export
		esac
		[ -s "$t" ] || continue
		p=$(sed -n "s/^$1=$2[ \t][ \t]*port=\([0-9]*\).*/\1/p" "$t" | head -n 1)
		[ -n "$p" ] && { echo "$p"; return 0; }
	done
	return 1
}

for dl in "" -L; do
	v=${dl:+9P2000.L}; v=${v:-9P2000}
	p9 $dl 127.0.0.1 15651 cat lib/ndb/local >"$T_TMP/site.local" 2>&1
	p9 $dl 127.0.0.1 15651 cat lib/ndb/common >"$T_TMP/site.common" 2>&1
	p9 $dl -a bare 127.0.0.1 15651 cat lib/ndb/local >"$T_TMP/bare.local" 2>&1
	check "$v: an export's lib/ndb/local is the grid's ndb" grep -q 'sys=cpu1 ether=525400000011 ip=10.9.0.11' "$T_TMP/site.local"
	check "$v: ... opening with database= naming /net/ndb, /lib/ndb/local, /lib/ndb/common" has_db "$T_TMP/site.local"
	check "$v: ... with the export's own lib/ndb/common: no service entries of its own" \
	    sh -c "! grep -q '^tcp=\|^udp=' '$T_TMP/site.local'"
	port=$(lookup tcp ticket "$T_TMP/site.local" "$T_TMP/site.common")
	check "$v: ... tcp!AUTH!ticket resolves through the site's common file (port ${port:-none})" [ "${port:-}" = 1567 ]
	check "$v: without lib/ndb/common: the same database= entry" has_db "$T_TMP/bare.local"
	for s in tcp:ticket:567 tcp:9fs:564 tcp:rcpu:17019 tcp:ncpu:17010 tcp:cpu:17013 tcp:exportfs:17007 udp:dns:53; do
		IFS=: read -r proto name want <<EOS
$s
EOS
		port=$(lookup "$proto" "$name" "$T_TMP/bare.local" /nonexistent)
		check "$v: ... $proto!$name resolves to $want from the generated file (${port:-none})" [ "${port:-}" = "$want" ]
	done
done
# The check is made at each open: a common file that appears takes over.
printf 'tcp=ticket port=2567\n' >"$BARE/lib/ndb/common"
p9 -a bare 127.0.0.1 15651 cat lib/ndb/local >"$T_TMP/bare2.local" 2>&1
check "a lib/ndb/common added to the export: the next open has no service entries" \
    sh -c "grep -q '^database=' '$T_TMP/bare2.local' && ! grep -q '^tcp=' '$T_TMP/bare2.local'"
port=$(lookup tcp ticket "$T_TMP/bare2.local" "$BARE/lib/ndb/common")
check "... and ticket resolves through it (port ${port:-none})" [ "${port:-}" = 2567 ]
# The grid tree's ndb stays the plain entries: it is no machine's root.
p9 -a grid 127.0.0.1 15651 cat ndb >"$T_TMP/grid.ndb" 2>&1
check "the grid tree's ndb has the entries and no database= entry" \
    sh -c "grep -q 'sys=cpu1' '$T_TMP/grid.ndb' && ! grep -q '^database=' '$T_TMP/grid.ndb'"
stop_gridbootd
check "gridbootd exits cleanly" [ $? -eq 0 ]
t_done
