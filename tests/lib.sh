# Shared helpers for integration tests (sourced by sh). Each test prints
# TAP-style lines through ok/not_ok, starts only processes it kills by PID,
# and removes what it made in its cleanup trap (network namespaces made
# with tests/netns-lib.sh's ns_add included).
set -u
: "${GRIDBOOTD:=$PWD/build-san/gridbootd}"
: "${GRIDBOOT_TOP:=$PWD}"
T_N=0
T_FAILED=0
T_PIDS=""
T_CLEANUPS=""
T_TMP=$(mktemp -d /tmp/gridboot-test.XXXXXX)
. "$GRIDBOOT_TOP/tests/netns-lib.sh"
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
	ns_cleanup
	[ -n "${KEEP:-}" ] || rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 1' INT TERM


# gb_serving LOG: the daemon's own "serving" line is in LOG: logged once
# every module has started and privileges are dropped (a module's line
# such as "tftp: serving DIR" comes before it).
gb_serving() { grep -q "^[0-9:.]* info: serving " "$1"; }

# free_port udp|tcp: a port of loopback nobody has bound right now (for
# a daemon in the host's namespace, where other tests run at once).
free_port() {
	python3 -c 'import socket, sys; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}

# start_gridbootd CONFIG [ARGS...]: serve in the foreground, logs in
# $T_TMP/gridbootd.log; sets GB_PID.
start_gridbootd() {
	cfg=$1; shift
	"$GRIDBOOTD" serve -c "$cfg" -d -l debug "$@" >>"$T_TMP/gridbootd.log" 2>&1 &
	GB_PID=$!
	track_pid $GB_PID
	wait_for 10 gb_serving "$T_TMP/gridbootd.log"
}

# stop_gridbootd: SIGTERM and wait; returns the daemon's exit status
# (non-zero when a sanitizer found something at exit).
stop_gridbootd() {
	kill -TERM "$GB_PID" 2>/dev/null
	wait "$GB_PID"
}

# fuzz_run TARGET SECONDS WHAT: `make fuzz-TARGET` for SECONDS, one check
# "SECONDS s of libFuzzer on WHAT: no crash (Done N runs)" (it ran and
# exited 0); a SKIP without clang's libFuzzer runtime.
fuzz_run() {
	if ! { echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' \
	    >"$T_TMP/probe.c" && clang -fsanitize=fuzzer -o "$T_TMP/probe" "$T_TMP/probe.c" 2>/dev/null; }; then
		ok "# SKIP clang's libFuzzer is not installed (libclang-rt-14-dev)"
		return 0
	fi
	make -s -C "$GRIDBOOT_TOP" "fuzz-$1" FUZZ_TIME="$2" BUILD="$T_TMP/fz" >"$T_TMP/fuzz-$1.log" 2>&1
	_fz_rc=$?
	_fz_runs=$(grep -o 'Done [0-9]* runs' "$T_TMP/fuzz-$1.log")
	if [ $_fz_rc -eq 0 ] && [ -n "$_fz_runs" ]; then
		tail -n 3 "$T_TMP/fuzz-$1.log" | sed 's/^/# /'
		ok "$2 s of libFuzzer on $3: no crash ($_fz_runs)"
	else
		tail -n 30 "$T_TMP/fuzz-$1.log" | sed 's/^/# /'
		not_ok "$2 s of libFuzzer on $3: exit $_fz_rc, ${_fz_runs:-no runs}"
	fi
}

# browser_verdicts FILE: tests/http/browser.js's output as checks (PASS
# and FAIL lines; the rest as comments), and a failure if it ran none.
browser_verdicts() {
	while read -r _bv_verdict _bv_what; do
		case $_bv_verdict in
		PASS) ok "browser: $_bv_what" ;;
		FAIL) not_ok "browser: $_bv_what" ;;
		*) diag "$_bv_verdict $_bv_what" ;;
		esac
	done <"$1"
	grep -q '^PASS' "$1" || not_ok "the browser session ran"
}

t_done() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}
