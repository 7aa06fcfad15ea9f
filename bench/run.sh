#!/bin/sh
# Runs every benchmark (bench/*.sh but this one) in turn; each prints its
# own ratios against the anchor servers measured in the same run.
cd "$(dirname "$0")/.."
rc=0
for b in bench/*.sh; do
	[ "$b" = bench/run.sh ] && continue
	echo "== $b"
	sh "$b" || rc=1
done
exit $rc
