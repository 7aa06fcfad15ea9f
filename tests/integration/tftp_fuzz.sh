#!/bin/sh
# A short, bounded libFuzzer run over the TFTP request parser (about 20 s;
# `make fuzz-tftp FUZZ_TIME=600` for a longer one). Skipped without clang's
# libFuzzer runtime.
# limit: 120
. "$GRIDBOOT_TOP/tests/lib.sh"

if ! command -v clang >/dev/null 2>&1; then
	ok "# SKIP clang not installed"
	t_done
	exit 0
fi
bin=$T_TMP/tftp_fuzz
if ! clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
    -I"$GRIDBOOT_TOP/server" -o "$bin" "$GRIDBOOT_TOP/tests/fuzz/tftp_fuzz.c" \
    "$GRIDBOOT_TOP/server/tftp_packet.c" >"$T_TMP/cc.log" 2>&1; then
	if grep -q "libclang_rt.fuzzer\|fuzzer" "$T_TMP/cc.log"; then
		ok "# SKIP no libFuzzer runtime (libclang-rt-14-dev)"
		t_done
		exit 0
	fi
	cat "$T_TMP/cc.log"
	not_ok "fuzz target builds"
	t_done
	exit 1
fi
ok "fuzz target builds"
mkdir -p "$T_TMP/corpus"
printf '\0\1cfg/pxe/525400000011\0octet\0' >"$T_TMP/corpus/9boot"
printf '\0\1k4\0octet\0blksize\0001468\0tsize\0000\0windowsize\0008\0timeout\0003\0' >"$T_TMP/corpus/opts"
printf '\0\1t\0netascii\0x\0y\0' >"$T_TMP/corpus/ascii"
"$bin" -max_total_time=20 -timeout=5 -rss_limit_mb=1024 "$T_TMP/corpus" >"$T_TMP/fuzz.log" 2>&1
rc=$?
tail -n 3 "$T_TMP/fuzz.log" | sed 's/^/# /'
check "20 s of libFuzzer on the request parser: no crash" test "$rc" -eq 0
t_done
