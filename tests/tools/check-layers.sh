#!/bin/sh
# Checks the direction of use in server/ (docs/ARCHITECTURE.md, "Layers"):
# a file may include headers of its own layer or below, a service folder
# none of its siblings, and curve/ nothing outside itself. Prints one line
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

rank() {	# folder of a path relative to SERVER_DIR -> layer number
	case $1 in
	core|curve) echo 0 ;;
	config) echo 1 ;;
	boot) echo 2 ;;
	.) echo 4 ;;    # main.c, daemon.c, modules.c: the top
	*) echo 3 ;;    # a service: dhcp, tftp, http, p9, auth, ...
	esac
}

bad=0
for f in $(cd "$dir" && find . -name '*.[ch]' | sed 's|^\./||' | sort); do
	from=$(dirname "$f")
	rf=$(rank "$from")
	# Only our own headers: #include "folder/name.h" (or a top-level one).
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$dir/$f" |
	    sed 's/^\([0-9]*\):.*"\(.*\)".*/\1 \2/' > /tmp/check-layers.$$
	while read -r line hdr; do
		to=$(dirname "$hdr")
		rt=$(rank "$to")
		why=
		if [ "$rt" -gt "$rf" ]; then
			why="a layer above $from"
		elif [ "$rt" -eq 3 ] && [ "$rf" -eq 3 ] && [ "$to" != "$from" ]; then
			why="a sibling service's folder"
		elif [ "$from" = curve ] && [ "$to" != curve ]; then
			why="curve/ depends on nothing else"
		fi
		if [ -n "$why" ]; then
			echo "$dir/$f:$line: includes $hdr ($why)"
			bad=1
		fi
	done < /tmp/check-layers.$$
	rm -f /tmp/check-layers.$$
done

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
	(cd "$objdir" && nm -A $objs) | awk '
	function rank(f) {
		if (f == "core" || f == "curve") return 0
		if (f == "config") return 1
		if (f == "boot") return 2
		if (f == ".") return 4
		return 3
	}
	function folder(o) { if (sub(/\/[^\/]*$/, "", o)) return o; return "." }
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
			from = folder(uobj[i]); to = folder(def[s])
			rf = rank(from); rt = rank(to); why = ""
			if (rt > rf)
				why = "a layer above " from
			else if (rt == 3 && rf == 3 && to != from)
				why = "a sibling service'"'"'s folder"
			else if (from == "curve" && to != "curve")
				why = "curve/ depends on nothing else"
			if (why != "") {
				printf "%s/%s: calls %s defined in %s (%s)\n", dir, uobj[i], s, def[s], why
				bad = 1
			}
		}
		exit bad
	}' dir="$objdir" || bad=1
fi
exit $bad
