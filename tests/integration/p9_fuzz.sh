#!/bin/sh
# Short, bounded libFuzzer runs over the 9P decoder and whole 9P sessions
# (about 10 s each; `make fuzz-p9 FUZZ_TIME=600` or `make fuzz-p9sess
# FUZZ_TIME=600` for longer ones). Skipped without clang's libFuzzer runtime.
# limit: 120
. "$GRIDBOOT_TOP/tests/lib.sh"

for target in p9 p9sess; do
	fuzz_run $target 10 fuzz-$target
done
t_done
