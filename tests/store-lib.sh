# A PostgreSQL server of the test's own (sourced after tests/lib.sh, by
# the store tests and bench/store.sh): initdb in a temporary directory as
# the postgres user (the server refuses root), listening only on a Unix
# socket in that directory, trust authentication for local connections.
# The daemon reaches it as
#   postgresql:///gridboot?host=$PG_DIR&user=postgres
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)

# as_pg CMD...: runs CMD as the postgres user (exec'd, so $! is CMD's).
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups --reset-env -- "$@"; }

# pg_init: makes the cluster; sets PG_DIR, PG_URI.
pg_init() {
	[ -n "$PG_BIN" ] && id postgres >/dev/null 2>&1 || return 1
	PG_DIR=$T_TMP/pg
	mkdir -p "$PG_DIR" && chown postgres: "$PG_DIR" && chmod 700 "$PG_DIR" || return 1
	# T_TMP is root's 0700: let the postgres user through to its own.
	chmod 711 "$T_TMP"
	as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-sync \
	    >"$T_TMP/initdb.log" 2>&1 || return 1
	PG_URI="postgresql:///gridboot?host=$PG_DIR&user=postgres"
}

# pg_start: the server in the background (PG_PID: the postmaster itself,
# setpriv execs it), ready for queries, then the database "gridboot" if
# it is not there yet. At exit it gets a fast shutdown (SIGINT), then
# SIGKILL with its children if it lingers.
pg_start() {
	setpriv --reuid=postgres --regid=postgres --init-groups --reset-env -- \
	    "$PG_BIN/postgres" -D "$PG_DIR/data" -k "$PG_DIR" -c listen_addresses= \
	    -c max_connections=40 -c shared_buffers=32MB >>"$T_TMP/postgres.log" 2>&1 &
	PG_PID=$!
	on_cleanup pg_stop $PG_PID
	wait_for 20 as_pg "$PG_BIN/pg_isready" -q -h "$PG_DIR" || return 1
	as_pg "$PG_BIN/psql" -h "$PG_DIR" -U postgres -Atqc \
	    "select 1 from pg_database where datname = 'gridboot'" postgres | grep -q 1 ||
	    as_pg "$PG_BIN/createdb" -h "$PG_DIR" -U postgres gridboot
}

# pg_kids PID: the postmaster's children (backends, writers).
pg_kids() { ps -o pid= --ppid "$1" 2>/dev/null; }

# pg_stop PID: a fast shutdown of that postmaster, bounded (5 s), then
# SIGKILL for it and its children.
pg_stop() {
	kill -0 "$1" 2>/dev/null || return 0
	_pg_k=$(pg_kids "$1")
	kill -INT "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$1" $_pg_k 2>/dev/null
	return 0
}

# pg_crash: the server killed with SIGKILL (what an acknowledged commit
# must survive), then waited for.
pg_crash() {
	# The postmaster and its children (backends, writers) at once: a
	# machine that lost power, not a shutdown.
	_pg_kids=$(pg_kids "$PG_PID")
	kill -9 "$PG_PID" $_pg_kids 2>/dev/null
	wait "$PG_PID" 2>/dev/null
	i=0
	while [ -n "$_pg_kids" ] && kill -0 $_pg_kids 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# psql_q SQL: one query's rows, unaligned.
psql_q() { as_pg "$PG_BIN/psql" -h "$PG_DIR" -U postgres -AtqF ' ' -c "$1" gridboot; }
