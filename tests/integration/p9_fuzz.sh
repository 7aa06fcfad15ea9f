#!/bin/sh
# Short, bounded libFuzzer runs over the 9P decoder and whole 9P sessions
# (about 10 s each; `make fuzz-p9 FUZZ_TIME=600` or `make fuzz-p9sess
# FUZZ_TIME=600` for longer ones). Skipped without clang's libFuzzer runtime.
# limit: 120
. "$GRIDBOOT_TOP/tests/lib.sh"

# The same probe as tftp_fuzz's run.
if ! { echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' \
    >"$T_TMP/probe.c" && clang -fsanitize=fuzzer -o "$T_TMP/probe" "$T_TMP/probe.c" 2>/dev/null; }; then
	ok "# SKIP clang's libFuzzer is not installed (libclang-rt-14-dev)"
	t_done
	exit 0
fi
for target in p9 p9sess; do
	make -s -C "$GRIDBOOT_TOP" "fuzz-$target" FUZZ_TIME=10 BUILD="$T_TMP/fz" \
	    >"$T_TMP/$target.log" 2>&1
	rc=$?
	tail -n 3 "$T_TMP/$target.log" | sed 's/^/# /'
	runs=$(grep -o 'Done [0-9]* runs' "$T_TMP/$target.log")
	check "10 s of libFuzzer on fuzz-$target: no crash ($runs)" \
		sh -c "[ $rc -eq 0 ] && [ -n '$runs' ]"
done
t_done
