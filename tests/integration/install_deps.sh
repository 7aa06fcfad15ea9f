#!/bin/sh
# limit: 60
# tests/install-deps.sh against stub apt-get, dpkg-query, systemctl and
# update-rc.d (nothing is installed): the test peers it installs (nginx,
# tftpd-hpa, radvd) may not start while installing (a policy-rc.d that
# says 101 is in place, and removed after), and end stopped and disabled
# as host services; a peer that was there before is left alone; a second
# run installs nothing and is quiet again.
. "$GRIDBOOT_TOP/tests/lib.sh"

S=$T_TMP/stub
mkdir -p "$S/bin" "$S/init.d"
: >"$S/installed"
cat >"$S/bin/dpkg-query" <<STUB
#!/bin/sh
eval "p=\\\${\$#}"
grep -qx "\$p" "$S/installed" && printf 'install ok installed'
exit 0
STUB
cat >"$S/bin/apt-get" <<STUB
#!/bin/sh
[ "\$1" = install ] || exit 0
if [ -x "$S/policy-rc.d" ]; then "$S/policy-rc.d" nginx start; echo "policy \$?" >>"$S/log"; else echo "policy none" >>"$S/log"; fi
for a in "\$@"; do case \$a in -*|install) ;; *) echo "\$a" >>"$S/installed" ;; esac; done
STUB
cat >"$S/bin/systemctl" <<STUB
#!/bin/sh
echo "systemctl \$*" >>"$S/log"
STUB
cat >"$S/bin/update-rc.d" <<STUB
#!/bin/sh
echo "update-rc.d \$*" >>"$S/log"
STUB
for p in nginx tftpd-hpa radvd; do printf '#!/bin/sh\necho "init.d %s $*" >>"%s/log"\n' "$p" "$S" >"$S/init.d/$p"; done
chmod +x "$S"/bin/* "$S"/init.d/*
# Everything in deps.d is "installed" except the peers and curl; radvd
# was there before (the operator's).
sed 's/#.*//' "$GRIDBOOT_TOP"/tests/deps.d/*.txt | tr -s ' \t' '\n\n' | grep -v '^$' |
	grep -vx 'nginx\|tftpd-hpa\|radvd\|curl' >"$S/installed"
echo radvd >>"$S/installed"
run() {
	PATH="$S/bin:$PATH" POLICY_RC_D="$S/policy-rc.d" GRIDBOOT_DEPS_STATE="$S/state/peers" \
	    GRIDBOOT_INITD="$S/init.d" sh "$GRIDBOOT_TOP/tests/install-deps.sh" >"$S/out" 2>&1
}
check "install-deps installs what is missing" run
check "... nginx, tftpd-hpa and curl" sh -c "grep -q 'installing.* curl' '$S/out' && grep -qx nginx '$S/installed' && grep -qx tftpd-hpa '$S/installed'"
check "while installing, policy-rc.d forbids starting services (101)" grep -qx "policy 101" "$S/log"
check "the policy-rc.d it made is gone afterwards" [ ! -e "$S/policy-rc.d" ]
check "nginx is disabled as a host service" grep -qx "systemctl disable nginx" "$S/log"
check "tftpd-hpa is disabled (systemd and its SysV script)" \
	sh -c "grep -qx 'systemctl disable tftpd-hpa' '$S/log' && grep -qx 'update-rc.d tftpd-hpa disable' '$S/log'"
check "radvd, installed before, is left alone" sh -c "! grep -q radvd '$S/log'"
: >"$S/log"
check "a second run succeeds" run
check "... installs nothing" sh -c "! grep -q installing '$S/out' && ! grep -q policy '$S/log'"
check "... and disables the peers it installed again (idempotent)" \
	sh -c "grep -qx 'systemctl disable nginx' '$S/log' && ! grep -q radvd '$S/log'"
t_done
