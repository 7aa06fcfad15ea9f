#!/bin/sh
# The layering of server/ holds: no file includes a header from a layer
# above it or from a sibling service's folder (tests/tools/check-layers.sh).
# The checker is first shown to catch both kinds of violation in a copy.
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
