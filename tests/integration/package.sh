#!/bin/sh
# limit: 600
# Packaging: `make install` with DESTDIR and PREFIX; the Debian package
# builds with dpkg-buildpackage -us -uc -b and lintian reports no errors;
# installed, it makes the gridboot user, ships the sandboxed unit disabled
# and the example inventory as /etc/gridboot/gridboot.cfg; and the
# installed unit's ExecStartPre and ExecStart lines, run as they are in a
# network namespace holding the example's server address, serve the web
# page and drop to the gridboot user. systemd itself is not running in the
# test environment (no /run/systemd/system), so the unit is not started by
# systemctl: its lines are. The package is purged at the end (and the
# gridboot user removed if this test made it).
. "$GRIDBOOT_TOP/tests/lib.sh"

for t in dpkg-buildpackage dh lintian fakeroot; do
	command -v $t >/dev/null 2>&1 || { not_ok "$t is installed (tests/deps.d/package.txt)"; t_done; exit 1; }
done
if dpkg-query -W -f='${Status}' gridbootd 2>/dev/null | grep -q "install ok installed"; then
	not_ok "gridbootd is already installed on this host: not touching it"
	t_done
	exit 1
fi

# make install, staged.
D=$T_TMP/destdir
check "make install DESTDIR=... PREFIX=/opt/gb" \
	make -s -C "$GRIDBOOT_TOP" install SAN=1 BUILD=build-san DESTDIR="$D" PREFIX=/opt/gb
check "... the daemon, both man pages, the unit, the web page" \
	sh -c "[ -x '$D/opt/gb/sbin/gridbootd' ] && [ -f '$D/opt/gb/share/man/man8/gridbootd.8' ] && [ -f '$D/opt/gb/share/man/man5/gridboot.cfg.5' ] && [ -f '$D/opt/gb/share/gridboot/web/index.html' ] && grep -q '^ExecStart=/opt/gb/sbin/gridbootd serve' '$D/opt/gb/lib/systemd/system/gridbootd.service'"
check "... the example inventory at the default path, its paths under PREFIX" \
	sh -c "grep -q 'templates = \"/opt/gb/share/gridboot/plan9ini\"' '$D/etc/gridboot/gridboot.cfg'"
echo '# mine' >>"$D/etc/gridboot/gridboot.cfg"
make -s -C "$GRIDBOOT_TOP" install SAN=1 BUILD=build-san DESTDIR="$D" PREFIX=/opt/gb >/dev/null 2>&1
check "a second make install keeps an existing inventory" grep -q '^# mine' "$D/etc/gridboot/gridboot.cfg"
check "the default inventory path is in --help and the man page" \
	sh -c "'$GRIDBOOTD' --help | grep -q /etc/gridboot/gridboot.cfg && grep -q 'etc/gridboot/gridboot.cfg' '$GRIDBOOT_TOP/man/gridbootd.8'"

# The Debian package, built from a copy of the tree (tests/tools/build-deb.sh,
# kept beside the daemon for systemd_nspawn.sh).
DEBDIR=$(sh "$GRIDBOOT_TOP/tests/tools/build-deb.sh" "$GRIDBOOT_TOP" "$(dirname "$GRIDBOOTD")" 2>"$T_TMP/build.log")
check "dpkg-buildpackage -us -uc -b builds the package" test -f "$DEBDIR/gridbootd_0.1_amd64.deb"
[ -f "$DEBDIR/gridbootd_0.1_amd64.deb" ] || { tail -n 30 "$T_TMP/build.log" | sed 's/^/# /'; t_done; exit 1; }
lintian "$DEBDIR/gridboot_0.1_amd64.changes" >"$T_TMP/lintian.log" 2>&1
sed 's/^/# lintian: /' "$T_TMP/lintian.log" | grep -v 'root privileges'
check "lintian reports no errors" sh -c "! grep -q '^E:' '$T_TMP/lintian.log'"

had_user=$(getent passwd gridboot >/dev/null && echo yes || echo no)
on_cleanup "dpkg --purge gridbootd >/dev/null 2>&1; [ $had_user = no ] && deluser --system gridboot >/dev/null 2>&1; rm -rf /srv/gridboot 2>/dev/null"
check "the package installs" sh -c "dpkg -i '$DEBDIR/gridbootd_0.1_amd64.deb' >'$T_TMP/dpkg.log' 2>&1"
check "it made the gridboot user" sh -c "getent passwd gridboot >/dev/null"
check "the unit is installed and not enabled" \
	sh -c "[ -f /lib/systemd/system/gridbootd.service ] && [ ! -e /etc/systemd/system/multi-user.target.wants/gridbootd.service ]"
check "the unit is sandboxed (ProtectSystem, PrivateTmp, capabilities, state directory), Type=notify" \
	sh -c "grep -q '^ProtectSystem=strict' /lib/systemd/system/gridbootd.service && grep -q '^PrivateTmp=yes' /lib/systemd/system/gridbootd.service && grep -q '^CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_ADMIN CAP_NET_RAW' /lib/systemd/system/gridbootd.service && grep -q '^ReadWritePaths=/var/lib/gridboot' /lib/systemd/system/gridbootd.service && grep -q '^Type=notify' /lib/systemd/system/gridbootd.service && grep -q '^RestrictAddressFamilies=.*AF_INET6' /lib/systemd/system/gridbootd.service"
if command -v systemd-analyze >/dev/null 2>&1; then
	check "systemd-analyze verify accepts the unit" \
		sh -c "systemd-analyze verify /lib/systemd/system/gridbootd.service 2>&1 | grep -v 'gridbootd.service' | { ! grep -qi 'error\\|invalid'; }"
fi
check "the example inventory is /etc/gridboot/gridboot.cfg" grep -q 'name = "example"' /etc/gridboot/gridboot.cfg
check "the man pages are installed" sh -c "man -w gridbootd >/dev/null && man -w 5 gridboot.cfg >/dev/null"

# The installed unit's own lines, run as systemd would (without its sandbox).
pre=$(sed -n 's/^ExecStartPre=//p' /lib/systemd/system/gridbootd.service)
start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/gridbootd.service)
diag "ExecStartPre: $pre"
diag "ExecStart: $start"
NS=gbpkg$$
ns_add $NS || { not_ok "network namespace"; t_done; exit 1; }
ns_veth $NS gbpkg0 $NS gbpkg1 192.168.50.1/24
check "ExecStartPre (check) passes with the installed example inventory" \
	sh -c "ip netns exec $NS $pre >'$T_TMP/pre.log' 2>&1"
ip netns exec $NS $start >"$T_TMP/serve.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
check "ExecStart serves the installed example inventory" wait_for 10 grep -q "serving /etc/gridboot/gridboot.cfg" "$T_TMP/serve.log"
check "the web page is served from /usr/share/gridboot/web" \
	sh -c "ip netns exec $NS curl -fsS http://192.168.50.1/ | grep -q '<title>gridboot</title>'"
check "it runs as the gridboot user" \
	sh -c "[ \"\$(awk '/^Uid:/ { print \$3 }' /proc/$GB_PID/status)\" = \"\$(id -u gridboot)\" ]"
check "the state directory is gridboot's" sh -c "[ \"\$(stat -c %U /var/lib/gridboot)\" = gridboot ]"
kill -TERM $GB_PID
wait $GB_PID; rc=$?
check "it stops on SIGTERM (rc $rc)" [ $rc -eq 0 ]
T_PIDS=""
check "the package purges" sh -c "dpkg --purge gridbootd >/dev/null 2>&1 && [ ! -e /etc/gridboot/gridboot.cfg ]"
t_done
