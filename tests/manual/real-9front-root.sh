#!/bin/sh
# Assembles a diskless 9front amd64 root for gridbootd's 9P export from two
# fetched git repositories, at run time: nothing of 9front is committed.
#
#   sh tests/manual/real-9front-root.sh SRC9EMUL_GITDIR SRC9FRONT_GITDIR OUTDIR
#
# SRC9EMUL_GITDIR: a git dir of github.com/Plan9-Archive/9emul (Feb 2016
# binaries): amd64/bin, amd64/init, amd64/lib. SRC9FRONT_GITDIR: a git dir
# of github.com/9front/9front; its commit 3d20565a (2016-02-08, the source
# of those binaries) gives rc/, lib/, adm/. Blobs the mirrors lack are
# skipped and listed. Then the empty mount points the namespace and
# termrc bind onto, and glenda's home. OUTDIR is made or refreshed; keep it
# out of git (kernels/root-9emul: kernels/* is ignored).
#
# The profile written here is the project's own, for a terminal on a
# serial console: 9front's own starts rio, which needs a screen and mouse.
set -eu
emul=$1 front=$2 out=$3
rev9front=${REV9FRONT:-3d20565a78358ed2589359aafeca8a4e7270b57e}
rev9emul=${REV9EMUL:-HEAD}
mkdir -p "$out"
out=$(cd "$out" && pwd)
missing=$(mktemp)
trap 'rm -f "$missing"' EXIT

# extract GITDIR REV PATH...: every file under PATH into $out, with its
# mode, through a scratch index (git checkout-index: one process, not one
# per file); a blob the mirror does not hold is left out and listed at the end.
extract() {
	gd=$1 rev=$2
	shift 2
	idx=$(mktemp)
	git --git-dir="$gd" ls-tree -r "$rev" -- "$@" >"$idx.list"
	awk '$2 == "blob" { print $3 }' "$idx.list" |
	    git --git-dir="$gd" cat-file --batch-check | awk '$2 == "missing" { print $1 }' >"$idx.gone"
	awk 'NR == FNR { gone[$1] = 1; next } $2 == "blob" { split($0, f, "\t"); print (($3 in gone) ? "-" : "+") f[2] }' \
	    "$idx.gone" "$idx.list" >"$idx.paths"
	sed -n 's/^-//p' "$idx.paths" >>"$missing"
	rm -f "$idx"
	GIT_INDEX_FILE=$idx git --git-dir="$gd" read-tree "$rev"
	sed -n 's/^+//p' "$idx.paths" |
	    GIT_INDEX_FILE=$idx GIT_WORK_TREE=$out git --git-dir="$gd" checkout-index -f --stdin
	rm -f "$idx" "$idx.list" "$idx.gone" "$idx.paths"
}

echo "# binaries from $emul ($rev9emul)"
extract "$emul" "$rev9emul" amd64/bin amd64/init amd64/lib
echo "# rc/ lib/ adm/ from $front ($rev9front)"
extract "$front" "$rev9front" rc lib adm

# Mount points: lib/namespace, bootrc and termrc bind and mount onto these.
for d in env dev proc net net.alt srv mnt/term mnt/wsys mnt/temp mnt/factotum \
    mnt/exportfs n n/other tmp root fd bin shr sys/log cfg \
    usr/glenda/lib usr/glenda/tmp usr/glenda/bin/rc usr/glenda/bin/amd64; do
	mkdir -p "$out/$d"
done
# gridbootd lays the grid's ndb over lib/ndb/local; the directory must exist.
mkdir -p "$out/lib/ndb"
[ -f "$out/lib/ndb/local" ] || : >"$out/lib/ndb/local"
chmod 777 "$out/tmp" "$out/usr/glenda/tmp"
# init copies /adm/timezone/local into $timezone (and says so when it is
# missing): GMT, from the same tree.
[ -f "$out/adm/timezone/GMT" ] && cp "$out/adm/timezone/GMT" "$out/adm/timezone/local"

cat >"$out/usr/glenda/lib/profile" <<'EOP'
# glenda's profile for a diskless terminal on a serial console (gridboot's
# manual test): no rio, no plumber; an rc prompt.
bind -a $home/bin/rc /bin
bind -a $home/bin/$cputype /bin
bind -c $home/tmp /tmp
prompt=('term% ' '	')
fn term%{ $* }
echo gridboot-profile: $user on $sysname
EOP

# Plan 9 ownership (docs/9p.md): gridbootd checks permissions per file, so
# each home is its user's (the user.plan9 attribute); the rest stays
# untagged, the export owner's, readable by all.
mkdir -p "$out/usr/bootes/lib" "$out/usr/bootes/tmp"
chmod 777 "$out/usr/bootes/tmp"
python3 - "$out" <<'EOT' || { echo "not ok - cannot tag the homes (user.plan9)"; exit 1; }
import os, sys
for user in ("glenda", "bootes"):
    for dirpath, dirs, files in os.walk(os.path.join(sys.argv[1], "usr", user)):
        for name in [dirpath] + [os.path.join(dirpath, f) for f in files]:
            os.setxattr(name, "user.plan9", ("%s:%s:%s" % (user, user, user)).encode())
EOT

n=$(wc -l <"$missing")
echo "# root in $out: $(find "$out" -type f | wc -l) files; $n blobs missing from the mirrors:"
sed 's/^/#   /' "$missing"
for f in amd64/init amd64/bin/rc rc/lib/rcmain rc/bin/termrc lib/namespace usr/glenda/lib/profile; do
	[ -f "$out/$f" ] || { echo "not ok - $f missing"; exit 1; }
done
echo "ok - root assembled in $out"
