#!/bin/sh
# The layering of server/ holds: no file includes a header from a layer
# above it or from a sibling service's folder, and no object calls a
# function defined in one (tests/tools/check-layers.sh, over the build's
# objects next to $GRIDBOOTD). The checker is first shown to catch each
# kind of violation in a planted copy.
# limit: 60
cd "${GRIDBOOT_TOP:-.}" || exit 1
check=tests/tools/check-layers.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/core" "$tmp/dhcp" "$tmp/tftp"
printf '#include "core/a.h"\n' > "$tmp/core/ok.c"
printf '#include "dhcp/x.h"\n' > "$tmp/core/up.c"
printf '#include "dhcp/x.h"\n#include "core/a.h"\n' > "$tmp/tftp/side.c"
out=$(sh "$check" "$tmp")
rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "core/up.c:1: includes dhcp/x.h (a layer above core)" &&
    echo "$out" | grep -q "tftp/side.c:1: includes dhcp/x.h (a sibling service's folder)" &&
    ! echo "$out" | grep -q "ok.c\|side.c:2"; then
	echo "ok - the checker catches an upward include and a sibling service's include"
else
	echo "not ok - the checker missed a planted violation (rc $rc): $out"
fi

# proto/ (the 9P codec) sits beside core/: it may use core/ only, and
# core/ may not use it.
mkdir -p "$tmp/proto" "$tmp/p9" "$tmp/auth"
rm -f "$tmp/core/up.c" "$tmp/tftp/side.c"
printf '#include "core/buf.h"\n#include "config/x.h"\n#include "curve/x.h"\n' > "$tmp/proto/codec.c"
printf '#include "proto/codec.h"\n' > "$tmp/core/low.c"
printf '#include "proto/codec.h"\n' > "$tmp/p9/use.c"
printf '#include "proto/codec.h"\n' > "$tmp/auth/use.c"
out=$(sh "$check" "$tmp")
rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "proto/codec.c:2: includes config/x.h (a layer above proto)" &&
    echo "$out" | grep -q "proto/codec.c:3: includes curve/x.h (proto/ depends on core/ alone)" &&
    echo "$out" | grep -q "core/low.c:1: includes proto/codec.h (a layer above core)" &&
    [ "$(echo "$out" | wc -l)" -eq 3 ]; then
	echo "ok - proto/ uses core/ alone, core/ never proto/, and two services share it"
else
	echo "not ok - the checker's proto/ rules (rc $rc): $out"
fi

if out=$(sh "$check" server); then
	echo "ok - server/: every include goes down the layers or within a folder"
else
	echo "not ok - server/ breaks the layering:"
	echo "$out" | sed 's/^/#   /'
fi

# Definitions: planted objects where core/ and a service call up into
# dhcp/ through no include at all (a declaration written out), and one
# that calls down (allowed).
o="$tmp/obj"
src="$tmp/src"
mkdir -p "$o/core" "$o/dhcp" "$o/tftp" "$o/boot" "$src/core" "$src/dhcp" "$src/tftp" "$src/boot"
printf 'int core_ok(void); int core_ok(void) { return 1; }\n' > "$src/core/ok.c"
printf 'int dhcp_fn(void); int core_ok(void);\nint dhcp_fn(void) { return core_ok(); }\n' > "$src/dhcp/d.c"
printf 'int dhcp_fn(void); int up(void);\nint up(void) { return dhcp_fn(); }\n' > "$src/boot/up.c"
printf 'int dhcp_fn(void); int side(void);\nint side(void) { return dhcp_fn(); }\n' > "$src/tftp/side.c"
if cc -c -o "$o/core/ok.o" "$src/core/ok.c" && cc -c -o "$o/dhcp/d.o" "$src/dhcp/d.c" &&
    cc -c -o "$o/boot/up.o" "$src/boot/up.c" && cc -c -o "$o/tftp/side.o" "$src/tftp/side.c"; then
	out=$(sh "$check" "$src" "$o")
	rc=$?
	if [ $rc -ne 0 ] &&
	    echo "$out" | grep -q "boot/up.o: calls dhcp_fn defined in dhcp/d.o (a layer above boot)" &&
	    echo "$out" | grep -q "tftp/side.o: calls dhcp_fn defined in dhcp/d.o (a sibling service's folder)" &&
	    ! echo "$out" | grep -q "core_ok"; then
		echo "ok - the checker catches a call up a layer and into a sibling by where the function is defined"
	else
		echo "not ok - the checker missed a planted up-call (rc $rc): $out"
	fi
else
	echo "not ok - could not compile the planted objects"
fi

objdir=$(dirname "${GRIDBOOTD:-build-san/gridbootd}")/obj
if [ ! -d "$objdir" ]; then
	echo "ok - server/: calls go down the layers # SKIP no objects at $objdir"
elif out=$(sh "$check" server "$objdir"); then
	echo "ok - server/: every function called is defined in its folder or a layer below"
else
	echo "not ok - server/ calls up the layers:"
	echo "$out" | sed 's/^/#   /'
fi
