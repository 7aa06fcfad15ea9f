#!/bin/sh
# Store benchmark (issue 24): whole DORA exchanges per second with durable
# leases, gridbootd on PostgreSQL (one instance, then two sharing one
# database) against Kea with its PostgreSQL lease backend, on the same
# database server and driven by the same client in the same run, and the
# file store for reference (bench/dhcp.sh's case, to see it not regress).
# Prints a table and the ratios to Kea (the target: 5 times Kea).
#
# One PostgreSQL of the bench's own (tests/store-lib.sh) on disk under
# build/, fsync and synchronous_commit on; a fresh database for every run
# of every server (gridboot_one, gridboot_two, kea). The client is
# bench/dhcp_load.c, a relay-style closed loop: N clients, W exchanges in
# flight. For two instances it relays like a relay with two helper
# addresses: every message goes to both instances' addresses; the one
# that owns the client's bucket answers the DISCOVER, and the REQUEST
# (sent to both) names it. Both instances sit on one bridge with the
# client, each in its own namespace.
# The loop is closed: gridbootd commits what is in flight at once, so its
# figure grows with W (about W / two commit round trips), Kea's does not
# (one commit, one WAL fsync, per lease).
#   STORE_BENCH_CLIENTS (default 20000), STORE_BENCH_WINDOW (default 64),
#   STORE_BENCH_RUNS (default 3; the median run of each case is reported),
#   STORE_BENCH_KEA_MT=1: Kea with multi-threading (off by default in 2.2)
#   STORE_BENCH_WAITS=1: what the servers' backends wait for, sampled
#     every 20 ms while each PostgreSQL case's load runs (a diagnosis)
set -u
cd "$(dirname "$0")/.."
TOP=$PWD
GRIDBOOTD=${GRIDBOOTD:-$TOP/build/gridbootd}
N=${STORE_BENCH_CLIENTS:-20000}
W=${STORE_BENCH_WINDOW:-64}
RUNS=${STORE_BENCH_RUNS:-3}
KEA_MT=${STORE_BENCH_KEA_MT:-0}
WAITS=${STORE_BENCH_WAITS:-0}
tmp=$(mktemp -d "$TOP/build/store-bench.XXXXXX")    # on disk, not tmpfs
BENCH_TMP=$tmp
. bench/lib.sh
bench_init st
S2NS=gbst2s$$ S2IF=gbst2s$$
bench_need bench/store.sh ip cc curl kea-dhcp4 kea-admin setpriv
[ -x "$GRIDBOOTD" ] || { echo "bench/store.sh: $GRIDBOOTD missing (make)"; exit 1; }

# tests/store-lib.sh's PostgreSQL, with what it needs of tests/lib.sh
# (wait_for comes with bench/lib.sh's tests/netns-lib.sh).
T_TMP=$tmp
track_pid() { PIDS="$PIDS $1"; }
on_cleanup() { :; }     # PostgreSQL is shut down by store_cleanup below
. tests/store-lib.sh

# At exit: the servers, then PostgreSQL shut down cleanly (SIGINT, a
# fast shutdown, at most 10 s), then bench/lib.sh's cleanup.
store_cleanup() {
	for p in $PIDS; do [ "$p" = "${PG_PID:-}" ] || kill "$p" 2>/dev/null; done
	if [ -n "${PG_PID:-}" ] && kill -INT "$PG_PID" 2>/dev/null; then
		_sc_i=0
		while kill -0 "$PG_PID" 2>/dev/null && [ $_sc_i -lt 100 ]; do sleep 0.1; _sc_i=$((_sc_i + 1)); done
	fi
	bench_cleanup
}
trap store_cleanup EXIT

cc -O2 -o "$tmp/dhcp_load" bench/dhcp_load.c bench/load_common.c || exit 1

# The segment: a bridge in the client's namespace, gridbootd (or Kea) at
# 10.92.0.1 in $SNS, the second gridbootd at 10.92.0.3 in $S2NS, the
# client (the relay) at 10.92.0.2.
ns_add "$SNS" "$S2NS" "$CNS" || exit 1
ip -n "$CNS" link add br0 type bridge && ip -n "$CNS" link set br0 up || exit 1
ns_veth "$SNS" "$SIF" "$CNS" gbstp1$$ 10.92.0.1/16 || exit 1
ns_veth "$S2NS" "$S2IF" "$CNS" gbstp2$$ 10.92.0.3/16 || exit 1
ip -n "$CNS" link set gbstp1$$ master br0 && ip -n "$CNS" link set gbstp2$$ master br0 &&
    ns_addr "$CNS" br0 10.92.0.2/16 || exit 1

# PostgreSQL: durable commits, said explicitly (they are the defaults).
pg_init || { echo "bench/store.sh: no PostgreSQL here: $(tail -n1 "$tmp/initdb.log" 2>/dev/null)"; exit 1; }
printf '%s\n' "fsync = on" "synchronous_commit = on" "full_page_writes = on" \
    >>"$PG_DIR/data/postgresql.conf"
pg_start || { echo "bench/store.sh: PostgreSQL did not start: $(tail -n3 "$tmp/postgres.log")"; exit 1; }
# sql DB SQL: one query's rows, unaligned.
sql() { as_pg "$PG_BIN/psql" -h "$PG_DIR" -U postgres -AtqF ' ' -c "$2" "$1"; }
pgver=$(sql postgres "show server_version" | cut -d' ' -f1)
pgdur="fsync=$(sql postgres "show fsync") synchronous_commit=$(sql postgres "show synchronous_commit")"
# fresh DB: the database made anew (nobody may be connected to it).
fresh() {
	as_pg "$PG_BIN/dropdb" -h "$PG_DIR" -U postgres --if-exists "$1" 2>>"$tmp/pg-admin.log" &&
	    as_pg "$PG_BIN/createdb" -h "$PG_DIR" -U postgres "$1" 2>>"$tmp/pg-admin.log"
}
# commits DB: transactions committed in DB so far, reads included (the
# statistics of a backend reach pg_stat_database when it exits, or
# within a second).
commits() { sql postgres "select xact_commit from pg_stat_database where datname = '$1'"; }
# walsyncs: the server's WAL fsyncs so far (every durable commit waits
# for one; one may cover several commits), cluster-wide: the cases run
# one after the other, so the difference across one is its own.
walsyncs() { sql postgres "select wal_sync from pg_stat_wal"; }

# gbcfg NAME ADDR STORE: an instance's inventory.
gbcfg() {
	cat >"$tmp/$1.cfg" <<EOC
grid = { name = "bench"; server = "$2"; files = "$tmp"; state = "$tmp/$1-state";
  store = "$3"; instance = "$1"; };
networks = ( { subnet = "10.92.0.0/16"; pool = "10.92.1.1-10.92.255.254"; lease = 3600; } );
EOC
}
gbcfg one 10.92.0.1 "postgresql:///gridboot_one?host=$PG_DIR&user=postgres"
gbcfg gb1 10.92.0.1 "postgresql:///gridboot_two?host=$PG_DIR&user=postgres"
gbcfg gb2 10.92.0.3 "postgresql:///gridboot_two?host=$PG_DIR&user=postgres"
gbcfg files 10.92.0.1 files

mt=false
[ "$KEA_MT" = 1 ] && mt=true
cat >"$tmp/kea.json" <<EOC
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "$SIF" ], "dhcp-socket-type": "udp" },
  "lease-database": { "type": "postgresql", "name": "kea", "host": "$PG_DIR", "user": "postgres" },
  "multi-threading": { "enable-multi-threading": $mt },
  "valid-lifetime": 3600,
  "subnet4": [ { "id": 1, "subnet": "10.92.0.0/16",
                 "pools": [ { "pool": "10.92.1.1 - 10.92.255.254" } ] } ],
  "loggers": [
    { "name": "kea-dhcp4", "output_options": [ { "output": "stdout" } ], "severity": "INFO" },
    { "name": "kea-dhcp4.leases", "output_options": [ { "output": "stdout" } ], "severity": "WARN" } ]
} }
EOC

# load SERVERS MACBYTE [DB]: one run of the generator; prints its result
# line. With STORE_BENCH_WAITS=1, DB's backends sampled meanwhile.
load() {
	if [ "$WAITS" = 1 ] && [ -n "${3:-}" ]; then
		printf '%s\n' "select state, coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-') from pg_stat_activity where datname = '$3' and pid <> pg_backend_pid()" \
		    '\watch 0.02' | as_pg "$PG_BIN/psql" -h "$PG_DIR" -U postgres -AtqF ' ' postgres \
		    >>"$tmp/$3.waits" 2>/dev/null &
		_ld_s=$!
		PIDS="$PIDS $_ld_s"
	fi
	ip netns exec "$CNS" "$tmp/dhcp_load" "$1" 10.92.0.2 "$N" "$W" "$2"
	[ -n "${_ld_s:-}" ] && { kill "$_ld_s"; wait "$_ld_s"; } 2>/dev/null
	_ld_s=
}

# median FILE: the result line with the median dora_per_s.
median() {
	sort -t' ' -k10 -n "$1" | sed -n "$(( ($(wc -l <"$1") + 1) / 2 ))p"
}

# metric NS ADDR NAME: a counter at gridbootd's /metrics.
metric() {
	ip netns exec "$1" curl -s --max-time 5 "http://$2/metrics" |
	    awk -v m="$3" '$1 == m { print $2 }'
}

# gb NAME NS: starts instance NAME in NS; its PID is GB_NAME.
gb() {
	ip netns exec "$2" "$GRIDBOOTD" serve -c "$tmp/$1.cfg" -d -l info >"$tmp/$1.log" 2>&1 &
	eval "GB_$1=\$!"
	PIDS="$PIDS $!"
}

# stop PID...: each killed (SIGTERM) and waited for, at most 10 s.
stop() {
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for p in "$@"; do
		_st_i=0
		while kill -0 "$p" 2>/dev/null && [ $_st_i -lt 100 ]; do sleep 0.1; _st_i=$((_st_i + 1)); done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}

fail() { echo "bench/store.sh: $*"; exit 1; }

# Each run_* prints the load's line with, after it, the database's
# commits and (gridbootd) the store's puts and syncs.
run_one() {
	fresh gridboot_one || fail "createdb gridboot_one"
	w0=$(walsyncs)
	gb one "$SNS"
	wait_for 20 grep -q 'store: postgresql ready' "$tmp/one.log" &&
	    wait_for 10 gb_ok "$tmp/one.log" || fail "gridbootd (one) did not come up: $(tail -n3 "$tmp/one.log")"
	r=$(load 10.92.0.1 "$1" gridboot_one)
	puts=$(metric "$SNS" 10.92.0.1 gridboot_store_puts_total)
	syncs=$(metric "$SNS" 10.92.0.1 gridboot_store_syncs_total)
	stop $GB_one
	sleep 1
	echo "$r commits $(commits gridboot_one) walsyncs $(($(walsyncs) - w0)) puts ${puts:-0} syncs ${syncs:-0}"
}

run_two() {
	fresh gridboot_two || fail "createdb gridboot_two"
	w0=$(walsyncs)
	gb gb1 "$SNS"
	gb gb2 "$S2NS"
	alive() { grep -q 'instances alive: gb1 gb2' "$tmp/gb1.log" && grep -q 'instances alive: gb1 gb2' "$tmp/gb2.log"; }
	wait_for 20 alive && wait_for 10 gb_ok "$tmp/gb1.log" && wait_for 10 gb_ok "$tmp/gb2.log" ||
	    fail "two instances not both alive: $(tail -n2 "$tmp/gb1.log") / $(tail -n2 "$tmp/gb2.log")"
	r=$(load 10.92.0.1,10.92.0.3 "$1" gridboot_two)
	p1=$(metric "$SNS" 10.92.0.1 gridboot_store_puts_total)
	s1=$(metric "$SNS" 10.92.0.1 gridboot_store_syncs_total)
	p2=$(metric "$S2NS" 10.92.0.3 gridboot_store_puts_total)
	s2=$(metric "$S2NS" 10.92.0.3 gridboot_store_syncs_total)
	a1=$(sql gridboot_two "select count(*) from gridboot_claims where instance = 'gb1'")
	a2=$(sql gridboot_two "select count(*) from gridboot_claims where instance = 'gb2'")
	stop $GB_gb1 $GB_gb2
	# both still alive at the end of the run (nobody took over)
	for l in gb1 gb2; do
		sed -n '/instances alive: gb1 gb2/,$p' "$tmp/$l.log" | grep 'instances alive' |
		    grep -v 'gb1 gb2' | sed "s/^/#   $l: /"
	done >>"$tmp/two.odd"
	sleep 1
	echo "$r commits $(commits gridboot_two) walsyncs $(($(walsyncs) - w0)) puts $((${p1:-0} + ${p2:-0})) syncs $((${s1:-0} + ${s2:-0})) split $a1/$a2"
}

run_kea() {
	fresh kea || fail "createdb kea"
	kea-admin db-init pgsql -u postgres -n kea -h "$PG_DIR" >"$tmp/kea-admin.log" 2>&1 ||
	    fail "kea-admin db-init pgsql: $(tail -n3 "$tmp/kea-admin.log")"
	: >"$tmp/kea.log"
	w0=$(walsyncs)
	bench_serve env KEA_PIDFILE_DIR="$tmp" KEA_LOCKFILE_DIR="$tmp" \
	    kea-dhcp4 -c "$tmp/kea.json" >>"$tmp/kea.log" 2>&1
	kpid=$BENCH_PID
	wait_for 20 grep -q DHCP4_STARTED "$tmp/kea.log" ||
	    fail "kea-dhcp4 did not start: $(tail -n3 "$tmp/kea.log")"
	grep -q 'DHCPSRV_PGSQL_DB' "$tmp/kea.log" || fail "kea-dhcp4 does not say it uses PostgreSQL"
	grep -m1 'DHCPSRV_PGSQL_DB' "$tmp/kea.log" | sed 's/.*\(DHCPSRV_PGSQL_DB\)/\1/' >"$tmp/kea.backend"
	r=$(load 10.92.0.1 "$1" kea)
	stop $kpid
	sleep 1
	echo "$r commits $(commits kea) walsyncs $(($(walsyncs) - w0))"
}

run_files() {
	rm -rf "$tmp/files-state"
	gb files "$SNS"
	wait_for 10 gb_ok "$tmp/files.log" || fail "gridbootd (files) did not come up: $(tail -n3 "$tmp/files.log")"
	r=$(load 10.92.0.1 "$1")
	stop $GB_files
	echo "$r"
}

# gb_ok LOG: the daemon said it serves.
gb_ok() { grep -q "^[0-9:.]* info: serving " "$1"; }

: >"$tmp/one.res"; : >"$tmp/two.res"; : >"$tmp/kea.res"; : >"$tmp/files.res"; : >"$tmp/two.odd"
# (the functions share sh's globals: the runs' counter is named apart)
run=0
while [ $run -lt "$RUNS" ]; do
	run_one $((0x10 + run)) >>"$tmp/one.res" || exit 1
	run_two $((0x20 + run)) >>"$tmp/two.res" || exit 1
	run_kea $((0x30 + run)) >>"$tmp/kea.res" || exit 1
	run_files $((0x40 + run)) >>"$tmp/files.res" || exit 1
	run=$((run + 1))
done
for c in one two kea files; do
	sed "s/^/store: $c run: /" "$tmp/$c.res"
done

field() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
kea_v=$(kea-dhcp4 -v)
kea_mode="single-threaded"
[ "$KEA_MT" = 1 ] && kea_mode="multi-threaded"
echo "store: $N clients, $W exchanges in flight (one relay, closed loop), median of $RUNS runs;"
echo "store: PostgreSQL $pgver ($pgdur) on $(df --output=source "$tmp" | tail -n1), a fresh database per run; $(nproc) cores"
printf 'store: %-31s %7s %7s %7s %6s %8s %8s %9s\n' case DORA/s p50_ms p99_ms failed xacts/s fsyncs/s DORA/fsync
row() {
	l=$(median "$tmp/$1.res")
	awk -v name="$2" -v d="$(field "$l" dora_per_s)" -v p50="$(field "$l" p50_ms)" \
	    -v p99="$(field "$l" p99_ms)" -v f="$(field "$l" failed)" -v s="$(field "$l" seconds)" \
	    -v c="$(field "$l" commits)" -v w="$(field "$l" walsyncs)" -v done="$(field "$l" done)" 'BEGIN {
		if (c == "") printf "store: %-31s %7s %7s %7s %6s %8s %8s %9s\n", name, d, p50, p99, f, "-", "-", "-"
		else printf "store: %-31s %7s %7s %7s %6s %8.0f %8.0f %9.1f\n", name, d, p50, p99, f,
		    (s > 0 ? c / s : 0), (s > 0 ? w / s : 0), (w > 0 ? done / w : 0)
	}'
}
row one "gridbootd, one, postgresql"
row two "gridbootd, two, postgresql"
row kea "Kea $kea_v, pgsql, $kea_mode"
row files "gridbootd, one, files"
one=$(median "$tmp/one.res") two=$(median "$tmp/two.res") kea=$(median "$tmp/kea.res")
awk -v a="$(field "$one" dora_per_s)" -v b="$(field "$two" dora_per_s)" -v k="$(field "$kea" dora_per_s)" 'BEGIN {
	printf "store: DORA/s ratio gridbootd-one/Kea = %.2f, gridbootd-two/Kea = %.2f (target 5); two/one = %.2f\n",
	    (k > 0 ? a / k : 0), (k > 0 ? b / k : 0), (a > 0 ? b / a : 0)
}'
echo "store: gridbootd store, median runs: one: $(field "$one" puts) puts in $(field "$one" syncs) syncs;" \
    "two: $(field "$two" puts) puts in $(field "$two" syncs) syncs, leases by gb1/gb2 $(field "$two" split)"
echo "store: xacts/s: transactions committed in the case's database, reads included; fsyncs/s: PostgreSQL's WAL fsyncs (pg_stat_wal.wal_sync); both over the run's seconds, setup and heartbeats included"
if [ "$WAITS" = 1 ]; then
	for db in gridboot_one gridboot_two kea; do
		echo "store: $db's backends, samples every 20 ms over its runs: $(sort "$tmp/$db.waits" |
		    uniq -c | sort -rn | head -n 6 | awk '{ printf "%s%s %s %s", (NR > 1 ? ", " : ""), $1, $2, $3 }')"
	done
fi
echo "store: Kea's log: $(cat "$tmp/kea.backend")"
[ -s "$tmp/two.odd" ] && { echo "store: odd: an instance saw the other gone:"; cat "$tmp/two.odd"; }
exit 0
