#!/bin/sh
# Runs every test against the build in $1 (default build-san): the unit
# test binaries, then each tests/integration/*.sh. Each prints TAP-style
# "ok"/"not ok" lines; this tallies them and ends with one line
# "N passed, N failed", followed by ", N skipped" when any check was
# skipped ("ok ... # SKIP reason": never counted as passed, each listed
# with its reason). A test that dies without a "not ok" counts as one
# failure. Every test runs under a time limit.
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build-san}
export GRIDBOOTD="$PWD/$BUILD/gridbootd"
export GRIDBOOT_TOP="$PWD"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
logdir="$PWD/$BUILD/test-logs"
rm -rf "$logdir"
mkdir -p "$logdir"
pass=0
fail=0
skip=0
failed_names=""
skipped=""

run_one() {	# name, limit in seconds, command...
	name=$1 limit=$2
	shift 2
	log="$logdir/$(echo "$name" | tr '/' '_').log"
	start=$(date +%s)
	timeout -k 10 "$limit" "$@" >"$log" 2>&1
	rc=$?
	s=$(grep -c '^ok .*# *SKIP' "$log")
	p=$(( $(grep -c '^ok ' "$log") - s ))
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		[ "$rc" -eq 124 ] && echo "not ok - $name timed out after ${limit}s" >>"$log"
		[ "$rc" -ne 124 ] && echo "not ok - $name exited $rc" >>"$log"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
	if [ "$s" -gt 0 ]; then
		echo "== $name: $p passed, $f failed, $s skipped ($(( $(date +%s) - start ))s)"
		skipped="$skipped
$(grep '^ok .*# *SKIP' "$log" | sed "s|^ok [0-9]* *-* *|    $name: |")"
	else
		echo "== $name: $p passed, $f failed ($(( $(date +%s) - start ))s)"
	fi
	if [ "$f" -gt 0 ]; then
		failed_names="$failed_names $name"
		grep -v '^ok ' "$log" | tail -n 60 | sed 's/^/    /'
	fi
}

for t in "$BUILD"/tests/*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" 120 "$t"
done
for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	limit=$(sed -n 's/^# limit: *\([0-9]*\).*/\1/p' "$t" | head -n1)
	run_one "integration/$(basename "$t" .sh)" "${limit:-300}" sh "$t"
done
[ -n "$failed_names" ] && echo "failed:$failed_names"
if [ "$skip" -gt 0 ]; then
	echo "skipped:$skipped"
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
