#!/bin/sh
# Installs the Debian packages that building and testing gridboot need.
# Idempotent: packages already present are not touched, and apt is not
# consulted at all when nothing is missing. Each concern lists its packages
# in tests/deps.d/*.txt, one per line (# comments allowed).
#   sh tests/install-deps.sh            every concern (make test)
#   sh tests/install-deps.sh core lab   only those (make lab, make kernels)
set -eu
cd "$(dirname "$0")"
files=deps.d/*.txt
[ $# -gt 0 ] && files=$(for c in "$@"; do echo "deps.d/$c.txt"; done)
# shellcheck disable=SC2086
want=$(cat $files | sed 's/#.*//' | tr -s ' \t' '\n\n' | grep -v '^$' | sort -u)
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
# Another apt (the machine's own updates) may hold the lock for a while.
apt-get update -qq -o DPkg::Lock::Timeout=300
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $missing
