#!/bin/sh
# A short, bounded libFuzzer run over the TFTP request parser (about 20 s;
# `make fuzz-tftp FUZZ_TIME=600` for a longer one). Skipped without clang's
# libFuzzer runtime.
# limit: 120
. "$GRIDBOOT_TOP/tests/lib.sh"

fuzz_run tftp 20 "the request parser"
t_done
