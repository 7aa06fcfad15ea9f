#!/bin/sh
# limit: 60
# make bench's own tools still build and its scripts still parse: the
# benchmarks are not run by make test, so a load client that no longer
# links (bench/auth.sh compiled dhcp_load.c without load_common.c for
# weeks) would otherwise be found only by the next bench run. Each
# script's `cc ... bench/X.c ...` line is run as the script writes it,
# its output in a temporary directory; every script gets `sh -n`, every
# Python helper a parse (ast, which writes no __pycache__ into bench/).
. "$GRIDBOOT_TOP/tests/lib.sh"

cd "$GRIDBOOT_TOP" || exit 1
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
n=0
for b in bench/*.sh; do
	check "$b parses (sh -n)" sh -n "$b"
	# The compile lines: cc, its flags, the sources under bench/, an
	# output under the script's temporary directory ($tmp, $T or $T_TMP).
	grep -E '^[[:space:]]*cc .*bench/[a-z0-9_]+\.c' "$b" | sed 's/ *|| *exit 1 *$//' >"$W/cc" || continue
	while IFS= read -r line; do
		n=$((n + 1))
		out=$(tmp="$W" T="$W" T_TMP="$W" eval "$line" 2>&1)
		rc=$?
		[ $rc -eq 0 ] || echo "$out" | head -5 | sed 's/^/# /'
		check "$b: $(echo "$line" | sed 's/^[[:space:]]*//') builds" [ $rc -eq 0 ]
	done <"$W/cc"
done
check "bench scripts compiled $n tools (want at least 8)" [ "$n" -ge 8 ]
for p in bench/*.py; do
	check "$p parses" python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' "$p"
done
t_done
