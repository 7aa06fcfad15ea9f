#!/bin/sh
# Installs the Debian packages that building and testing gridboot need.
# Idempotent: packages already present are not touched, and apt is not
# consulted at all when nothing is missing. Each concern lists its packages
# in tests/deps.d/*.txt, one per line (# comments allowed).
set -eu
cd "$(dirname "$0")"
want=$(cat deps.d/*.txt | sed 's/#.*//' | tr -s ' \t' '\n\n' | grep -v '^$' | sort -u)
missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
