#!/bin/sh
# A short, bounded libFuzzer run over one auth connection's input (about
# 10 s; `make fuzz-authreq FUZZ_TIME=600` for a longer one): the auth
# port's framing, ticket requests and AuthPAK, and the rcpu p9any/dp9ik
# steps. Skipped without clang's libFuzzer runtime.
# limit: 120
. "$GRIDBOOT_TOP/tests/lib.sh"

# The same probe and make target as dhcp_malformed's run.
if ! { echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' \
    >"$T_TMP/probe.c" && clang -fsanitize=fuzzer -o "$T_TMP/probe" "$T_TMP/probe.c" 2>/dev/null; }; then
	ok "# SKIP clang's libFuzzer is not installed (libclang-rt-14-dev)"
	t_done
	exit 0
fi
make -s -C "$GRIDBOOT_TOP" fuzz-authreq FUZZ_TIME=10 BUILD="$T_TMP/fz" >"$T_TMP/fuzz.log" 2>&1
rc=$?
tail -n 3 "$T_TMP/fuzz.log" | sed 's/^/# /'
runs=$(grep -o 'Done [0-9]* runs' "$T_TMP/fuzz.log")
check "10 s of libFuzzer on ticket requests and rcpu: no crash ($runs)" \
	sh -c "[ $rc -eq 0 ] && [ -n '$runs' ]"
t_done
