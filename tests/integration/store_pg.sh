#!/bin/sh
# limit: 240
# Two gridbootd on one segment sharing a PostgreSQL store (docs/scale.md),
# with a PostgreSQL of the test's own (tests/store-lib.sh) and clients on
# one bridge (tests/store-dora.py: many MACs, DISCOVER/OFFER/REQUEST/ACK,
# broadcast):
#   1. `check` says whether the database answers, naming the line;
#   2. both instances see each other and split the clients;
#   3. a storm with one instance killed by SIGKILL midway completes on the
#      other: no address acknowledged to two clients, every acknowledged
#      lease in the database, leases made through one seen by the other;
#   4. the database killed midway a second storm: nothing acknowledged is
#      lost, the daemons reconnect, and while it is away machines that
#      restart get their known address again and new ones get nothing.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/store-lib.sh"

if ! pg_init; then
	ok "# SKIP no PostgreSQL server here (tests/deps.d/store.txt): $(tail -n1 "$T_TMP/initdb.log" 2>/dev/null)"
	t_done
	exit 0
fi
check "PostgreSQL of the test's own starts" pg_start

L=gbsL$$ S1=gbs1$$ S2=gbs2$$ C=gbsC$$
ns_add $L $S1 $S2 $C || { not_ok "namespaces"; t_done; exit 1; }
for n in $S1 $S2 $C; do
	ip netns exec $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip -n $L link add br0 type bridge && ip -n $L link set br0 up
for p in "$S1 e1 l1 10.77.0.1/24" "$S2 e2 l2 10.77.0.2/24" "$C ec lc 10.77.0.99/24"; do
	set -- $p
	ns_veth "$1" "$2" $L "$3" "$4"
	ip -n $L link set "$3" master br0
done
ns_addr $S1 e1 fd77::1/64
ns_addr $S2 e2 fd77::2/64

# cfg NAME ADDR: an instance's inventory.
# cfg NAME ADDR [INSTANCE [URI]]: NAME.cfg, with the instance's name
# (NAME unless told) and the database (the test's unless told).
cfg() {
	cat >"$T_TMP/$1.cfg" <<EOC
grid = { name = "t"; server = "$2"; files = "$T_TMP"; state = "$T_TMP/state-$1";
  http_port = 8080; tftp_port = 6969; p9_port = 5640; auth_port = 5670; rcpu_port = 17020;
  store = "${4:-$PG_URI}"; instance = "${3:-$1}"; api_token = "store-test-token-0123456789";
  keys = "$T_TMP/keys"; p9_grid_open = true; };
networks = ( { subnet = "10.77.0.0/24"; pool = "10.77.0.20-10.77.0.250"; lease = 3600;
               subnet6 = "fd77::/64"; pool6 = "fd77::100-fd77::1ff"; } );
kernels = ( { name = "k"; arch = "amd64"; file = "k"; } );
roles = { r = { kernel = "k"; }; r2 = { kernel = "k"; }; };
machines = ( { name = "m1"; mac = "52:54:00:00:00:11"; ip = "10.77.0.11"; role = "r"; } );
EOC
}
cfg gb1 10.77.0.1
cfg gb2 10.77.0.2
: >"$T_TMP/k"
# One key file for both instances (docs/scale.md: shared, not stored).
echo glenda-pw-0 | "$GRIDBOOTD" passwd -c "$T_TMP/gb1.cfg" glenda >/dev/null 2>&1

# 1. check reaches the database, or says why not and where.
"$GRIDBOOTD" check -c "$T_TMP/gb1.cfg" >"$T_TMP/check.out" 2>&1
check "check: the store's database answers ($(tail -n1 "$T_TMP/check.out"))" \
    grep -q 'database answers' "$T_TMP/check.out"
sed "s|host=$PG_DIR|host=$T_TMP/nowhere|" "$T_TMP/gb1.cfg" >"$T_TMP/bad.cfg"
"$GRIDBOOTD" check -c "$T_TMP/bad.cfg" >"$T_TMP/check.out" 2>&1
check "check: an unreachable database is an error on grid.store's line ($(tail -n1 "$T_TMP/check.out"))" \
    grep -q 'bad.cfg:3: grid.store: the database cannot be reached: .*nowhere' "$T_TMP/check.out"

# serve NAME NS: an instance in its namespace, logging to NAME.log (the
# last start's; earlier ones to NAME.log.1); sets PID_NAME.
serve() {
	[ -e "$T_TMP/$1.log" ] && cat "$T_TMP/$1.log" >>"$T_TMP/$1.log.1"
	ip netns exec "$2" "$GRIDBOOTD" serve -c "$T_TMP/$1.cfg" -d -l debug >"$T_TMP/$1.log" 2>&1 &
	eval "PID_$1=\$!"
	track_pid $!
	wait_for 20 gb_serving "$T_TMP/$1.log" &&
	    wait_for 20 grep -q 'store: postgresql ready' "$T_TMP/$1.log"
}
check "instance gb1 serves on the store" serve gb1 $S1
check "instance gb2 serves on the store" serve gb2 $S2
check "each sees both alive" wait_for 10 sh -c \
    "grep -q 'instances alive: gb1 gb2' '$T_TMP/gb1.log' && grep -q 'instances alive: gb1 gb2' '$T_TMP/gb2.log'"

api() { ip netns exec $C curl -s --max-time 5 "http://$1:8080/api/v1/$2"; }
metric() { ip netns exec $C curl -s --max-time 5 "http://$1:8080/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }

# 2.-3. 120 clients; gb1 dies by SIGKILL once 50 have their lease.
dora() { ip netns exec $C python3 "$GRIDBOOT_TOP/tests/store-dora.py" ec "$@"; }
dora 120 "$T_TMP/run1.json" --base 1 --mark 50 "$T_TMP/half1" --limit 90 --pace 40 &
D=$!
track_pid $D
check "50 clients have their lease" wait_for 60 test -e "$T_TMP/half1"
kill -9 $PID_gb1
wait $PID_gb1 2>/dev/null
wait $D
check "gb2 took over gb1's clients (its peers: gb2 only)" grep -q 'instances alive: gb2$' "$T_TMP/gb2.log"

# verify RUN: every client finished; no address acknowledged to two MACs
# nor a MAC left with two; every client's address in the database.
verify() {
	psql_q "select owner, key from gridboot_claims where tab = 'dhcp.leases' and owner <> ''" \
	    >"$T_TMP/db.txt"
	python3 - "$@" "$T_TMP/db.txt" <<'PY'
import json, sys
runs, db = sys.argv[1:-1], sys.argv[-1]
rows = {}
for line in open(db):
    mac, ip = line.split()
    rows[mac] = ip
problems, n, done, byip = [], 0, 0, {}
for f in runs:
    r = json.load(open(f))
    n += r["n"]
    done += r["completed"]
    for mac, ip, sid in r["acks"]:
        m12 = mac.replace(":", "")
        if byip.setdefault(ip, m12) != m12:
            problems.append("%s acknowledged to %s and %s" % (ip, byip[ip], m12))
    for mac, c in r["clients"].items():
        m12 = mac.replace(":", "")
        if rows.get(m12) != c["ip"]:
            problems.append("%s was acknowledged %s, the database has %s" % (mac, c["ip"], rows.get(m12)))
print("completed %d of %d" % (done, n))
print("problems %d" % len(problems))
for p in problems[:10]:
    print("# " + p)
PY
}
verify "$T_TMP/run1.json" >"$T_TMP/v1.out"
sed -n 's/^# /# /p' "$T_TMP/v1.out"
diag "run 1: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["completed"], "in", r["seconds"], "s")' "$T_TMP/run1.json")"
check "every client of the storm has a lease ($(head -n1 "$T_TMP/v1.out"))" grep -qx "completed 120 of 120" "$T_TMP/v1.out"
check "no address to two clients, every acknowledged lease in the database ($(sed -n 2p "$T_TMP/v1.out"))" \
    grep -qx "problems 0" "$T_TMP/v1.out"
by1=$(python3 -c 'import json,sys; print(sum(1 for a in json.load(open(sys.argv[1]))["acks"] if a[2] == "10.77.0.1"))' "$T_TMP/run1.json")
by2=$(python3 -c 'import json,sys; print(sum(1 for a in json.load(open(sys.argv[1]))["acks"] if a[2] == "10.77.0.2"))' "$T_TMP/run1.json")
check "both instances answered clients before the kill (gb1 $by1, gb2 $by2)" test "$by1" -gt 0 -a "$by2" -gt 0
mac1=$(python3 -c 'import json,sys; print([a[0] for a in json.load(open(sys.argv[1]))["acks"] if a[2] == "10.77.0.1"][0])' "$T_TMP/run1.json")
api 10.77.0.2 leases >"$T_TMP/leases2.json"
check "a lease made through gb1 ($mac1) is in gb2's API" grep -q "$mac1" "$T_TMP/leases2.json"
refused=$(metric 10.77.0.2 gridboot_store_refused_total)
diag "gb2: binds the database refused (another instance's): ${refused:-?}"

check "gb1 restarts on the store" serve gb1 $S1
n1=$(api 10.77.0.1 leases | python3 -c 'import json,sys; print(len([l for l in json.load(sys.stdin)["leases"] if l["mac"].startswith("02:00:01:")]))' 2>/dev/null)
check "gb1 after its restart has every lease, gb2's included ($n1 of 120)" test "${n1:-0}" -ge 120

# One grid through either door: an enrollment and a role change made
# through gb1 are served by gb2, and gb1's timeline reaches gb2's.
mac5=02:00:01:00:00:05
ip5=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["clients"][sys.argv[2]]["ip"])' "$T_TMP/run1.json" $mac5)
ip -n $C addr add "$ip5/24" dev ec
code=$(ip netns exec $C curl -s -o "$T_TMP/enroll.out" -w '%{http_code}' --max-time 5 --interface "$ip5" \
    -X POST -d "{\"mac\": \"$mac5\", \"cpu\": \"test-cpu-9\"}" http://10.77.0.1:8080/api/v1/enroll)
check "enroll through gb1 from the machine's leased address $ip5 (HTTP $code)" test "$code" = 200
check "the enrollment is in gb2's API" wait_for 10 sh -c \
    "ip netns exec $C curl -s --max-time 2 http://10.77.0.2:8080/api/v1/discovered/$mac5 | grep -q test-cpu-9"
code=$(ip netns exec $C curl -s -o "$T_TMP/role.out" -w '%{http_code}' --max-time 5 -X PUT \
    -H 'Authorization: Bearer store-test-token-0123456789' -d '{"role": "r2"}' \
    http://10.77.0.1:8080/api/v1/machines/m1/role)
check "a role set through gb1 (HTTP $code)" test "$code" = 200
check "is served by gb2" wait_for 10 sh -c \
    "ip netns exec $C curl -s --max-time 2 http://10.77.0.2:8080/api/v1/machines/m1 | grep -q '\"role\": *\"r2\"'"
check "gb1's timeline reaches gb2's, named" wait_for 5 sh -c \
    "ip netns exec $C curl -s --max-time 2 http://10.77.0.2:8080/api/v1/timeline | grep -q 'gb1: role set to r2'"

# The 9P grid tree of either shows the same grid: gb1's role change and
# gb1's lease in gb2's tree; a role written into gb2's tree is served by gb1.
P9C="$(dirname "$GRIDBOOTD")/tools/p9c"
p9() { ip netns exec $C "$P9C" -a grid "$@"; }
ip1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["clients"][sys.argv[2]]["ip"])' "$T_TMP/run1.json" "$mac1")
check "gb2's grid tree: m1's role is r2" sh -c "[ \"\$(ip netns exec $C $P9C -a grid 10.77.0.2 5640 cat machines/m1/role)\" = r2 ]"
check "gb2's grid tree: gb1's lease $ip1 for $mac1 is listed" sh -c \
    "ip netns exec $C $P9C -a grid 10.77.0.2 5640 cat leases | grep -q '$ip1'"
echo r | p9 10.77.0.2 5640 put machines/m1/role >"$T_TMP/p9put.out" 2>&1
rc=$?
check "a role written into gb2's grid tree (exit $rc: $(cat "$T_TMP/p9put.out"))" test $rc -eq 0
check "is served by gb1" wait_for 10 sh -c \
    "ip netns exec $C curl -s --max-time 2 http://10.77.0.1:8080/api/v1/machines/m1 | grep -q '\"role\": *\"r\"'"

# A login through each instance, and a password changed through one
# works through the other (it is told to read the shared key file again).
AP="$(dirname "$GRIDBOOTD")/tools/authpass"
ap() { timeout 20 ip netns exec $C "$AP" "$@" >"$T_TMP/ap.out" 2>&1; }
check "glenda logs in through gb1's auth server" ap 10.77.0.1 5670 glenda glenda-pw-0
check "glenda logs in through gb2's auth server" ap 10.77.0.2 5670 glenda glenda-pw-0
check "a wrong password is refused by gb2" sh -c "! timeout 20 ip netns exec $C '$AP' 10.77.0.2 5670 glenda wrong-pw-000 >/dev/null 2>&1"
check "glenda changes her password through gb1" ap 10.77.0.1 5670 glenda glenda-pw-0 glenda-pw-0 new-Pw-4821
check "gb2 is told and reads the key file again" wait_for 10 grep -q 'store: gb1 changed a password' "$T_TMP/gb2.log"
check "the new password works through gb2" wait_for 10 ap 10.77.0.2 5670 glenda new-Pw-4821
check "and the old one no longer does" sh -c "! timeout 20 ip netns exec $C '$AP' 10.77.0.2 5670 glenda glenda-pw-0 >/dev/null 2>&1"

# DHCPv6 through the store: dhclient -6 binds through whichever instance
# owns its DUID's bucket; the binding is in the database and both APIs.
cat >"$T_TMP/dhc6.sh" <<EOS
#!/bin/sh
env | grep -E '^(reason|new_ip6_address)=' >>"$T_TMP/dhc6.env"
EOS
chmod +x "$T_TMP/dhc6.sh"
: >"$T_TMP/dhc6.conf"
timeout 60 ip netns exec $C dhclient -6 -d -v -cf "$T_TMP/dhc6.conf" -lf "$T_TMP/dhc6.leases" \
    -pf "$T_TMP/dhc6.pid" -sf "$T_TMP/dhc6.sh" -D LL ec >"$T_TMP/dhclient6.log" 2>&1 &
DHC=$!
track_pid $DHC
check "dhclient -6 binds through the pair" wait_for 30 grep -q '^reason=BOUND6' "$T_TMP/dhc6.env"
kill $DHC 2>/dev/null
wait $DHC 2>/dev/null
A6=$(sed -n 's/^new_ip6_address=//p' "$T_TMP/dhc6.env" | tail -n1)
psql_q "select key from gridboot_claims where tab = 'dhcp6.leases'" >"$T_TMP/db6.txt"
check "its address ${A6:-(none)} is in the database's dhcp6.leases" grep -qx "${A6:-none}" "$T_TMP/db6.txt"
for n in 1 2; do
	check "and in gb$n's API" wait_for 5 sh -c \
	    "ip netns exec $C curl -s --max-time 2 http://10.77.0.$n:8080/api/v1/leases | grep -q '\"ip6\": *\"$A6\"'"
done

# 4. The database dies by SIGKILL once 20 clients of a second storm have
# their lease, and comes back 2 s later.
dora 60 "$T_TMP/run2.json" --base 2 --mark 20 "$T_TMP/half2" --limit 90 --pace 20 &
D=$!
track_pid $D
check "20 clients of the second storm have their lease" wait_for 60 test -e "$T_TMP/half2"
pg_crash
diag "PostgreSQL killed with SIGKILL"
sleep 2
check "PostgreSQL restarts" pg_start
wait $D
check "both instances reconnected" wait_for 15 sh -c \
    "test \$(grep -c 'store: postgresql ready' '$T_TMP/gb2.log') -ge 2 && test \$(grep -c 'store: postgresql ready' '$T_TMP/gb1.log') -ge 2"
verify "$T_TMP/run1.json" "$T_TMP/run2.json" >"$T_TMP/v2.out"
sed -n 's/^# /# /p' "$T_TMP/v2.out"
check "every client of both storms has a lease ($(head -n1 "$T_TMP/v2.out"))" grep -qx "completed 180 of 180" "$T_TMP/v2.out"
check "nothing acknowledged was lost to the database's crash ($(sed -n 2p "$T_TMP/v2.out"))" \
    grep -qx "problems 0" "$T_TMP/v2.out"
check "gb2 logged the loss" grep -q 'store: postgresql: .*answering only renewals' "$T_TMP/gb2.log"

# While it is away: known machines restarting get their address again
# (the rest of their lease), a new machine gets nothing, and it is said.
pg_crash
check "gb2 sees the database gone (gridboot_store_up 0)" wait_for 10 sh -c \
    "test \"\$(ip netns exec $C curl -s --max-time 2 http://10.77.0.2:8080/metrics | awk '\$1 == \"gridboot_store_up\" { print \$2 }')\" = 0"
dora 0 "$T_TMP/reboot.json" --reboot "$T_TMP/run2.json" --limit 20
r=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["completed"], r["n"])' "$T_TMP/reboot.json")
check "while the database is away, 60 restarting machines got their address again ($r)" test "$r" = "60 60"
dora 3 "$T_TMP/new.json" --base 3 --limit 4
r=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["completed"])' "$T_TMP/new.json")
check "and a new machine got nothing ($r of 3)" test "$r" = 0
api 10.77.0.2 timeline >"$T_TMP/timeline2.json"
check "the timeline says why" grep -q 'the store is away' "$T_TMP/timeline2.json"
api 10.77.0.2 store >"$T_TMP/store2.json"
check "the API says the store is away ($(cat "$T_TMP/store2.json"))" grep -q '"up": *false' "$T_TMP/store2.json"
code=$(ip netns exec $C curl -s -o "$T_TMP/role503.out" -w '%{http_code}' --max-time 5 -X PUT \
    -H 'Authorization: Bearer store-test-token-0123456789' -d '{"role": "r2"}' \
    http://10.77.0.2:8080/api/v1/machines/m1/role)
check "a role change meanwhile is refused, 503, with the reason (it could not reach the others)" \
    sh -c "[ $code = 503 ] && grep -q 'database is away' '$T_TMP/role503.out'"
check "PostgreSQL restarts again" pg_start
check "and gb2 is back on it" wait_for 15 sh -c "test \$(grep -c 'store: postgresql ready' '$T_TMP/gb2.log') -ge 3"
dora 3 "$T_TMP/new2.json" --base 3 --limit 20
r=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["completed"])' "$T_TMP/new2.json")
check "then the new machines get leases ($r of 3)" test "$r" = 3

# A database that stops answering (SIGSTOP: the socket stays open, no
# reply ever comes) is given up after 10 s, not waited on for ever.
_pg_kids=$(pg_kids "$PG_PID")
kill -STOP "$PG_PID" $_pg_kids
check "a silent database is given up within 10 s of no answer" wait_for 25 \
    grep -q 'store: postgresql: no answer for 10 s' "$T_TMP/gb2.log"
check "and the API says so" wait_for 5 sh -c \
    "ip netns exec $C curl -s --max-time 2 http://10.77.0.2:8080/api/v1/store | grep -q '\"up\": *false'"
kill -CONT "$PG_PID" $_pg_kids
check "once it answers again gb2 is back on it" wait_for 20 sh -c \
    "test \$(grep -c 'store: postgresql ready' '$T_TMP/gb2.log') -ge 4"

# Two processes beating under one name are told; a database whose schema
# is newer than this gridbootd's is left alone.
S3=gbs3$$
ns_add $S3 && ns_veth $S3 e3 $L l3 10.77.0.3/24 && ip -n $L link set l3 master br0
cfg dup 10.77.0.3 gb2
check "a second process named gb2 serves" serve dup $S3
check "gb2 and it are told the name is taken twice" wait_for 10 sh -c \
    "grep -q 'another gridbootd beats as gb2 too' '$T_TMP/gb2.log' && grep -q 'another gridbootd beats as gb2 too' '$T_TMP/dup.log'"
kill -TERM $PID_dup
check "it exits cleanly" wait $PID_dup
as_pg "$PG_BIN/createdb" -h "$PG_DIR" -U postgres gridboot_new
as_pg "$PG_BIN/psql" -h "$PG_DIR" -U postgres -qc \
    "create table gridboot_schema (version integer); insert into gridboot_schema values (99)" gridboot_new
cfg new 10.77.0.3 new "postgresql:///gridboot_new?host=$PG_DIR&user=postgres"
ip netns exec $S3 "$GRIDBOOTD" serve -c "$T_TMP/new.cfg" -d -l debug >"$T_TMP/new.log" 2>&1 &
PID_new=$!
track_pid $PID_new
check "an instance on a database with schema version 99 refuses it" wait_for 15 \
    grep -q "schema is version 99, newer than this gridbootd's 2" "$T_TMP/new.log"
n=$(as_pg "$PG_BIN/psql" -h "$PG_DIR" -U postgres -Atqc \
    "select count(*) from pg_proc where proname like 'gridboot%'" gridboot_new)
check "and changed nothing there (gridboot functions: $n)" test "$n" = 0
kill -TERM $PID_new
check "it exits cleanly" wait $PID_new

for n in gb1 gb2; do
	eval "p=\$PID_$n"
	kill -TERM "$p"
	check "$n exits cleanly" wait "$p"
done
t_done
