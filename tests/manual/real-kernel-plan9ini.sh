#!/bin/sh
# Checks a generated plan9.ini against a real 9front amd64 kernel, without
# any network: QEMU loads the kernel by multiboot with plan9.ini as the
# module, as iPXE does. Not part of `make test` (kernels are never
# committed); run it by hand with a kernel you have:
#
#   sh tests/manual/real-kernel-plan9ini.sh /path/to/9pc64 [INVENTORY [MACHINE]]
#
# Passes when the kernel prints on the serial console (console= was read)
# and goes past the bootargs prompt (nobootprompt= was read).
set -eu
kernel=$1
inv=${2:-inventory/lab.cfg}
machine=${3:-cpu1}
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$top/build/gridbootd" plan9ini -c "$inv" "$machine" >"$tmp/plan9.ini"
timeout 30 qemu-system-x86_64 -m 512 -nographic -no-reboot -net none \
	-kernel "$kernel" -initrd "$tmp/plan9.ini" >"$tmp/serial" 2>&1 || true
tr -d '\r' <"$tmp/serial" | strings >"$tmp/text"
if grep -q "^Plan 9" "$tmp/text" && ! grep -q "bootargs is" "$tmp/text"; then
	echo "ok - $machine's plan9.ini: serial console and nobootprompt honoured"
	exit 0
fi
echo "not ok - kernel output:"; tail -n 20 "$tmp/text"
exit 1
