#!/bin/sh
# limit: 30
# Secrets wiped in curve/ed448.c survive the optimiser: ed448_scalarmul,
# ed448_spake_y and ed448_spake_z clear their intermediate points with
# explicit_bzero (a memset of locals that die is a dead store; at -O2 the
# compiler removed every one, objdump showed no zeroing). Read from the
# object file the daemon was built from.
. "$GRIDBOOT_TOP/tests/lib.sh"

O="$(dirname "$GRIDBOOTD")/obj/curve/ed448.o"
if ! command -v objdump >/dev/null || [ ! -f "$O" ]; then
	ok "explicit_bzero in the Ed448 functions # SKIP no objdump or no $O"
	t_done
	exit 0
fi
# wipes FUNCTION: the explicit_bzero calls in FUNCTION's code
wipes() {
	objdump -dr "$O" | awk -v f="<$1>:" '$2 == f { on = 1; next } on && /^$/ { on = 0 } on' |
	    grep -c 'explicit_bzero'
}
n=$(wipes ed448_scalarmul)
check "ed448_scalarmul wipes its running points ($n explicit_bzero calls, want 3)" [ "$n" -ge 3 ]
n=$(wipes ed448_spake_y)
check "ed448_spake_y wipes x*G + blind ($n)" [ "$n" -ge 1 ]
n=$(wipes ed448_spake_z)
check "ed448_spake_z wipes its points ($n)" [ "$n" -ge 2 ]
t_done
