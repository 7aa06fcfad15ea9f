#!/bin/sh
# Checks the direction of use in server/ (docs/ARCHITECTURE.md, "Layers"):
# a file may include headers of its own layer or below, a service folder
# none of its siblings, curve/ nothing outside itself, proto/ only core/,
# and core/ never proto/. Prints one line
# per violation as FILE:LINE: includes HEADER (why) and exits 1 if any.
#
# With OBJ_DIR (the build's objects, laid out as server/: build-san/obj),
# the same rule for where each called function is DEFINED: a header in a
# low layer implemented by a higher folder passes the include check, so
# nm reads every object once, and each symbol an object uses that another
# object of the tree defines must be defined in its own folder or a layer
# below (never a sibling service's folder). A higher module reaches down
# by registration instead (boot/leases.h, core/module.h's daemon_ops).
# Prints OBJ: calls SYMBOL defined in FOLDER (why).
# usage: check-layers.sh [SERVER_DIR [OBJ_DIR]]   (default: server)
dir=${1:-server}
objdir=$2

# The rule, once, for both checks: layer numbers by folder (a path's
# folder relative to SERVER_DIR; "." is the top) and why a use from one
# folder of another is wrong ("" when it is fine).
rules='
function rank(f) {
	if (f == "core" || f == "curve" || f == "proto") return 0
	if (f == "config") return 1
	if (f == "boot" || f == "power") return 2
	if (f == ".") return 4     # main.c, daemon.c, modules.c: the top
	return 3                   # a service: dhcp, tftp, http, p9, auth, ...
}
function folder(p) { if (sub(/\/[^\/]*$/, "", p)) return p; return "." }
function why(from, to,    rf, rt) {
	rf = rank(from); rt = rank(to)
	if (rt > rf) return "a layer above " from
	if (rt == 3 && rf == 3 && to != from) return "a sibling service'"'"'s folder"
	if (from == "curve" && to != "curve") return "curve/ depends on nothing else"
	if (from == "proto" && to != "proto" && to != "core") return "proto/ depends on core/ alone"
	if (from == "core" && to == "proto") return "a layer above core"
	return ""
}'

bad=0
# Includes: one grep over every file. Only our own headers:
# #include "folder/name.h" (or a top-level one).
(cd "$dir" && find . -name '*.[ch]' | sed 's|^\./||' | sort |
    xargs grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' /dev/null) |
    awk "$rules"'
	{
		f = $0; sub(/:.*/, "", f)
		rest = substr($0, length(f) + 2)
		line = rest; sub(/:.*/, "", line)
		hdr = rest; sub(/^[^"]*"/, "", hdr); sub(/".*/, "", hdr)
		w = why(folder(f), folder(hdr))
		if (w != "") {
			printf "%s/%s:%s: includes %s (%s)\n", dir, f, line, hdr, w
			bad = 1
		}
	}
	END { exit bad }' dir="$dir" || bad=1

# Definitions: one nm over every object (-A names the object on each line).
if [ -n "$objdir" ]; then
	# Only objects whose source is still there: a stale one of a removed
	# file would speak for code that no longer exists.
	objs=$( (cd "$objdir" && find . -name '*.o') | sed 's|^\./||' | sort |
	    while read -r o; do [ -f "$dir/${o%.o}.c" ] && echo "$o"; done)
	if [ -z "$objs" ]; then
		echo "$objdir: no objects"
		exit 1
	fi
	(cd "$objdir" && nm -A $objs) | awk "$rules"'
	{
		o = $1; sub(/:.*/, "", o)
		n = NF
		sym = $n; type = $(n - 1)
		if (type == "U") {
			nu++; uobj[nu] = o; usym[nu] = sym
		} else if (type ~ /^[TDBRVWGS]$/) {
			def[sym] = o
		}
	}
	END {
		bad = 0
		for (i = 1; i <= nu; i++) {
			s = usym[i]
			if (!(s in def))
				continue            # libc, a library, the sanitizers
			w = why(folder(uobj[i]), folder(def[s]))
			if (w != "") {
				printf "%s/%s: calls %s defined in %s (%s)\n", dir, uobj[i], s, def[s], w
				bad = 1
			}
		}
		exit bad
	}' dir="$objdir" || bad=1
fi
exit $bad
