#!/bin/sh
# A short, bounded libFuzzer run over one auth connection's input (about
# 10 s; `make fuzz-authreq FUZZ_TIME=600` for a longer one): the auth
# port's framing, ticket requests and AuthPAK, and the rcpu p9any/dp9ik
# steps. Skipped without clang's libFuzzer runtime.
# limit: 120
. "$GRIDBOOT_TOP/tests/lib.sh"

fuzz_run authreq 10 "ticket requests and rcpu"
t_done
