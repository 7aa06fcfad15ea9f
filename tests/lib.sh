# Shared helpers for integration tests (sourced by sh). Each test prints
# TAP-style lines through ok/not_ok, starts only processes it kills by PID,
# and removes what it made in its cleanup trap.
set -u
: "${GRIDBOOTD:=$PWD/build-san/gridbootd}"
: "${GRIDBOOT_TOP:=$PWD}"
T_N=0
T_FAILED=0
T_PIDS=""
T_CLEANUPS=""
T_TMP=$(mktemp -d /tmp/gridboot-test.XXXXXX)
[ -n "${KEEP:-}" ] && echo "# tmp: $T_TMP"

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
# check DESCRIPTION COMMAND...: ok if the command succeeds.
check() { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
diag() { echo "# $*"; }

# Registers a PID we started, to be killed at exit.
track_pid() { T_PIDS="$T_PIDS $1"; }
on_cleanup() { T_CLEANUPS="$T_CLEANUPS
$*"; }
t_cleanup() {
	for p in $T_PIDS; do kill "$p" 2>/dev/null; done
	for p in $T_PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
	eval "$T_CLEANUPS"
	[ -n "${KEEP:-}" ] || rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 1' INT TERM

# wait_for SECONDS COMMAND...: polls every 0.1 s until COMMAND succeeds.
wait_for() {
	limit=$1; shift
	i=0
	while [ $i -lt $((limit * 10)) ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# start_gridbootd CONFIG [ARGS...]: serve in the foreground, logs in
# $T_TMP/gridbootd.log; sets GB_PID.
start_gridbootd() {
	cfg=$1; shift
	"$GRIDBOOTD" serve -c "$cfg" -d -l debug "$@" >>"$T_TMP/gridbootd.log" 2>&1 &
	GB_PID=$!
	track_pid $GB_PID
	wait_for 10 grep -q "info: serving " "$T_TMP/gridbootd.log"
}

# stop_gridbootd: SIGTERM and wait; returns the daemon's exit status
# (non-zero when a sanitizer found something at exit).
stop_gridbootd() {
	kill -TERM "$GB_PID" 2>/dev/null
	wait "$GB_PID"
}

t_done() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}
