#!/bin/sh
# A short, bounded libFuzzer run over the TFTP request parser (about 20 s;
# `make fuzz-tftp FUZZ_TIME=600` for a longer one). Skipped without clang's
# libFuzzer runtime.
# limit: 120
. "$GRIDBOOT_TOP/tests/lib.sh"

# The same probe and make target as dhcp_malformed's run.
if ! { echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' \
    >"$T_TMP/probe.c" && clang -fsanitize=fuzzer -o "$T_TMP/probe" "$T_TMP/probe.c" 2>/dev/null; }; then
	ok "# SKIP clang's libFuzzer is not installed (libclang-rt-14-dev)"
	t_done
	exit 0
fi
make -s -C "$GRIDBOOT_TOP" fuzz-tftp FUZZ_TIME=20 BUILD="$T_TMP/fz" >"$T_TMP/fuzz.log" 2>&1
rc=$?
tail -n 3 "$T_TMP/fuzz.log" | sed 's/^/# /'
runs=$(grep -o 'Done [0-9]* runs' "$T_TMP/fuzz.log")
check "20 s of libFuzzer on the request parser: no crash ($runs)" \
	sh -c "[ $rc -eq 0 ] && [ -n '$runs' ]"
t_done
