#!/bin/sh
# Runs every benchmark (bench/*.sh except this one) in turn. Each prints
# its ratios against the anchor server it measures in the same run.
cd "$(dirname "$0")/.."
rc=0
for b in bench/*.sh; do
	case $b in bench/run.sh | bench/lib.sh) continue ;; esac
	echo "== $b"
	sh "$b" || rc=1
done
exit $rc
