#!/bin/sh
# Checks the direction of use in server/ (docs/ARCHITECTURE.md, "Layers"):
# a file may include headers of its own layer or below, a service folder
# none of its siblings, curve/ nothing outside itself, and proto/ (wire
# codecs more than one service speaks) only core/, which never includes it. Prints one line
# per violation as FILE:LINE: includes HEADER (why) and exits 1 if any.
# usage: check-layers.sh [SERVER_DIR]   (default: server)
dir=${1:-server}

rank() {	# folder of a path relative to SERVER_DIR -> layer number
	case $1 in
	core|curve|proto) echo 0 ;;
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
		elif [ "$from" = proto ] && [ "$to" != proto ] && [ "$to" != core ]; then
			why="proto/ depends on core/ alone"
		elif [ "$from" = core ] && [ "$to" = proto ]; then
			why="a layer above core"
		fi
		if [ -n "$why" ]; then
			echo "$dir/$f:$line: includes $hdr ($why)"
			bad=1
		fi
	done < /tmp/check-layers.$$
	rm -f /tmp/check-layers.$$
done
exit $bad
