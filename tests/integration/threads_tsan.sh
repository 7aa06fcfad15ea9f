#!/bin/sh
# limit: 720
# The threads under ThreadSanitizer: gridbootd built with -fsanitize=thread
# runs the tests that exercise every thread beside the loop (HTTP's
# workers with enrolls, role changes, event streams and the per-source
# caps; the group commit's sync thread and a reload's free thread in a
# boot storm; the slice reader in a large inventory's load; the power
# threads with IPMI and Redfish BMCs, their 9P writes through the SAN
# build's p9c). Each must
# pass, and TSan must have written no report (a data race, or a lock
# taken in two orders). The build goes to build-tsan/ (kept between runs,
# so only what changed is rebuilt).
. "$(dirname "$0")/../lib.sh"

top=$GRIDBOOT_TOP
tsan=$top/build-tsan
if ! make -s -C "$top" -j2 BUILD=build-tsan \
    CFLAGS="-O1 -g -fsanitize=thread -std=c11 -D_GNU_SOURCE" LDFLAGS=-fsanitize=thread \
    all >"$T_TMP/build.log" 2>&1; then
	tail -n 20 "$T_TMP/build.log" | sed 's/^/# /'
	not_ok "gridbootd builds with -fsanitize=thread"
	t_done
	exit 1
fi
ok "gridbootd builds with -fsanitize=thread"

mkdir -p "$T_TMP/reports"
for t in http_workers http_api http_limits boot_storm inventory_scale power_redfish power_ipmi; do
	TSAN_OPTIONS="halt_on_error=0 exitcode=66 log_path=$T_TMP/reports/$t" \
	    P9C="${P9C:-$top/build-san/tools/p9c}" \
	    GRIDBOOTD="$tsan/gridbootd" timeout 240 sh "$top/tests/integration/$t.sh" \
	    >"$T_TMP/$t.log" 2>&1
	rc=$?
	n=$(grep -c '^ok' "$T_TMP/$t.log")
	bad=$(grep -c '^not ok' "$T_TMP/$t.log")
	[ "$rc" -eq 0 ] || grep '^not ok' "$T_TMP/$t.log" | head -5 | sed 's/^/# /'
	check "$t under TSan: $n passed, $bad failed (rc $rc)" [ "$rc" -eq 0 ] && [ "$n" -gt 0 ]
done
reports=$(ls "$T_TMP/reports" 2>/dev/null | wc -l)
if [ "$reports" -gt 0 ]; then
	cat "$T_TMP"/reports/* | grep -E '^WARNING|^    #[0-4] ' | head -40 | sed 's/^/# /'
fi
check "ThreadSanitizer reported nothing ($reports report files)" [ "$reports" -eq 0 ]
t_done
