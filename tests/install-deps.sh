#!/bin/sh
# Installs the Debian packages that building and testing gridboot need.
# Idempotent: packages already present are not touched, and apt is not
# consulted at all when nothing is missing. Each concern lists its packages
# in tests/deps.d/*.txt, one per line (# comments allowed).
#   sh tests/install-deps.sh            every concern (make test)
#   sh tests/install-deps.sh core lab   only those (make lab, make kernels)
#
# Some packages are servers the tests and benchmarks run as peers, each
# with its own configuration (PEERS below: nginx, tftpd-hpa, radvd). Left
# as Debian installs them they would start at once and at every boot and
# hold ports 80 and 69, and `gridbootd serve` could not bind. So they are
# installed with a policy-rc.d that forbids starting anything, and the
# ones this script installed (recorded in $STATE_FILE) are stopped and
# disabled as host services, on every run. A peer you installed yourself
# is left alone.
set -eu
cd "$(dirname "$0")"
PEERS="nginx tftpd-hpa radvd"
POLICY=${POLICY_RC_D:-/usr/sbin/policy-rc.d}
STATE_FILE=${GRIDBOOT_DEPS_STATE:-/var/lib/gridboot-test-deps/installed-peers}
INITD=${GRIDBOOT_INITD:-/etc/init.d}    # (the three overrides are for tests/integration/install_deps.sh)
files=deps.d/*.txt
[ $# -gt 0 ] && files=$(for c in "$@"; do echo "deps.d/$c.txt"; done)
# shellcheck disable=SC2086
want=$(cat $files | sed 's/#.*//' | tr -s ' \t' '\n\n' | grep -v '^$' | sort -u)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# Stops and disables the peers this script installed (idempotent).
quiet_peers() {
	[ -f "$STATE_FILE" ] || return 0
	for p in $(cat "$STATE_FILE"); do
		installed "$p" || continue
		if command -v systemctl >/dev/null 2>&1; then
			[ -d /run/systemd/system ] && systemctl stop "$p" >/dev/null 2>&1 || :
			systemctl disable "$p" >/dev/null 2>&1 || :
		fi
		# The SysV script too (tftpd-hpa has only that).
		if [ -x "$INITD/$p" ]; then
			[ -d /run/systemd/system ] || "$INITD/$p" stop >/dev/null 2>&1 || :
			command -v update-rc.d >/dev/null 2>&1 && update-rc.d "$p" disable >/dev/null 2>&1 || :
		fi
	done
}

missing=""
for p in $want; do
	installed "$p" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	[ "$(id -u)" = 0 ] && quiet_peers
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
mkdir -p "$(dirname "$STATE_FILE")"
for p in $missing; do
	case " $PEERS " in *" $p "*) echo "$p" >>"$STATE_FILE" ;; esac
done
[ -f "$STATE_FILE" ] && sort -u -o "$STATE_FILE" "$STATE_FILE"
# Nothing the install brings may start (invoke-rc.d asks policy-rc.d;
# 101: action forbidden). Ours only if there was none, removed after.
made_policy=""
if [ ! -e "$POLICY" ]; then
	printf '#!/bin/sh\n# gridboot tests/install-deps.sh: no service starts while it installs.\nexit 101\n' >"$POLICY"
	chmod 755 "$POLICY"
	made_policy=1
fi
trap '[ -n "$made_policy" ] && rm -f "$POLICY"' EXIT
export DEBIAN_FRONTEND=noninteractive
# Another apt (the machine's own updates) may hold the lock for a while.
apt-get update -qq -o DPkg::Lock::Timeout=300
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $missing
quiet_peers
