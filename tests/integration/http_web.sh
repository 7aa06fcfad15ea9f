#!/bin/sh
# limit: 120
# The web page in headless Chromium (Debian's chromium) against a real
# gridbootd, driven through the DevTools protocol by tests/http/browser.js:
# machines and states, the live timeline, a machine's plan9.ini, enrolling
# and assigning a role with real clicks and typing. Keeps the screenshot
# and the final DOM in the test-log directory.
. "$GRIDBOOT_TOP/tests/lib.sh"
. "$GRIDBOOT_TOP/tests/http/common.sh"

if ! http_start; then
	not_ok "gridbootd starts"; cat "$T_TMP/gridbootd.log"; t_done; exit 1
fi
ok "gridbootd starts on port $HTTP_PORT"
ART=${GRIDBOOT_ARTIFACTS:-$(dirname "$GRIDBOOTD")/test-logs}
mkdir -p "$ART"

check "GET / serves the page" sh -c "curl -fsS '$BASE/' | grep -q '<title>gridboot</title>'"
check "app.js and style.css are served with their types" \
	sh -c "curl -fsSI '$BASE/app.js' | grep -qi 'content-type: text/javascript' && curl -fsSI '$BASE/style.css' | grep -qi 'content-type: text/css'"
check "a missing page file is a JSON 404" \
	sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$BASE/nothere.js')\" = 404 ]"

# The discovered machine the browser session assigns enrolls from the
# address leased to it (tests/http/common.sh).
check "a discovered machine enrolls from its leased address" \
	sh -c "curl -fsS --interface $ENROLL_IP -X POST -d '{\"mac\":\"52:54:00:00:00:99\",\"cpus\":8,\"memory_mb\":4096}' '$BASE/api/v1/enroll' | grep -q '\"ok\":true'"
node "$GRIDBOOT_TOP/tests/http/browser.js" "$BASE" "test-token-0123456789" \
	"$ART/http_web.png" "$ART/http_web.dom.html" >"$T_TMP/browser.out" 2>&1
browser_verdicts "$T_TMP/browser.out"
diag "screenshot: $ART/http_web.png"
check "gridbootd exits cleanly after the browser left" stop_gridbootd
t_done
