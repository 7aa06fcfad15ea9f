#!/bin/sh
# limit: 150
# The ticket service's request limits (issue 21, fault 3; docs/security.md).
# A wrong password never shows as a failure to the server, so AuthPAK and
# AuthTreq are limited per source and per user whatever their outcome:
#  - one source logging in as fast as it can (right password) is refused
#    with AuthErr "too many requests from your address" once past its
#    burst, and gridboot_auth_limited_total{by="source"} moves;
#  - wrong-password logins for bootes from three sources, each under its
#    own source limit, are refused with "too many requests for this user"
#    ({by="user"} moves) while the failure counter never moved: the
#    guesses were invisible as failures, as the issue found;
#  - an all-zero Y (the identity) gets AuthErr and counts as a failure;
#  - a login from a fresh source still works afterwards.
. "$GRIDBOOT_TOP/tests/lib.sh"

G="$GRIDBOOTD"
AF="$(dirname "$GRIDBOOTD")/tools/authflood"
[ -x "$AF" ] || { not_ok "no $AF (make SAN=1 units)"; t_done; exit 1; }
NS="gbal$$"
D="$T_TMP"
ns_add "$NS" || { not_ok "ip netns add"; t_done; exit 1; }
ip -n "$NS" link set lo up
for a in 1 12 13 14 15 16 17; do ip -n "$NS" addr add 10.9.2.$a/24 dev lo; done
nsx() { ip netns exec "$NS" "$@"; }
mkdir -p "$D/files" "$D/state"
cat >"$D/grid.cfg" <<EOC
grid = { name = "grid"; server = "10.9.2.1"; files = "files"; state = "state"; };
networks = ( { subnet = "10.9.2.0/24"; dhcp = "off"; } );
kernels = ( { name = "9pc64"; arch = "amd64"; file = "amd64/9pc64"; } );
roles = { cpu = { kernel = "9pc64"; }; };
EOC
echo gridboot-test | "$G" passwd -c "$D/grid.cfg" glenda >/dev/null 2>&1
echo bootes-pw | "$G" passwd -c "$D/grid.cfg" bootes >/dev/null 2>&1
ip netns exec "$NS" "$G" serve -c "$D/grid.cfg" -d -l debug >>"$D/gridbootd.log" 2>&1 &
GB_PID=$!
track_pid $GB_PID
wait_for 10 grep -q "auth: auth server on port 567" "$D/gridbootd.log" || { not_ok "daemon up"; t_done; exit 1; }
metric() { nsx curl -fsS http://10.9.2.1/metrics | sed -n "s/^$1 //p"; }
af() { timeout 60 ip netns exec "$NS" "$AF" "$@"; }

# ---- one source, right password, as fast as it can
af -b 10.9.2.12 10.9.2.1 567 glenda gridboot-test 40 >"$D/src.out" 2>&1
nok=$(grep -c '^ok$' "$D/src.out")
nlim=$(grep -c 'autherr: too many requests from your address' "$D/src.out")
diag "one source: $nok logins, $nlim refused by the source limit"
check "the first logins from the source worked ($nok)" [ "$nok" -ge 15 ]
check "then the source was refused with AuthErr \"too many requests from your address\" ($nlim of 40)" \
	[ "$nlim" -ge 10 ]
lsrc=$(metric 'gridboot_auth_limited_total{by="source"}')
check "gridboot_auth_limited_total{by=\"source\"} counted them (${lsrc:-none})" sh -c "[ ${lsrc:-0} -gt 0 ] && [ ${lsrc:-0} -ge $nlim ]"

# ---- one user, wrong passwords, from three sources each under its limit
f0=$(metric 'gridboot_auth_failures_total{port="auth"}')
for s in 13 14 15; do
	af -b 10.9.2.$s 10.9.2.1 567 bootes wrong-guess 18 >"$D/user$s.out" 2>&1 &
done
wait_for 60 sh -c "[ \$(cat '$D'/user1[345].out | wc -l) -ge 54 ]"
cat "$D"/user1[345].out >"$D/user.out"
nbad=$(grep -c '^bad password$' "$D/user.out")
nulim=$(grep -c 'autherr: too many requests for this user' "$D/user.out")
diag "one user from three sources: $nbad guesses answered, $nulim refused by the user limit"
check "wrong passwords for bootes were refused by the user limit ($nulim of 54)" [ "$nulim" -ge 5 ]
check "and at most the burst plus the refill got an answer ($nbad)" [ "$nbad" -le 50 ]
lusr=$(metric 'gridboot_auth_limited_total{by="user"}')
check "gridboot_auth_limited_total{by=\"user\"} counted them (${lusr:-none})" sh -c "[ ${lusr:-0} -gt 0 ] && [ ${lusr:-0} -ge $nulim ]"
f1=$(metric 'gridboot_auth_failures_total{port="auth"}')
diag "failures counter before/after the guesses: $f0/$f1 (a wrong password is no failure to the server)"

# ---- the identity as the client's Y (after a new second: failures are
# logged at a bounded rate, and the guesses above may have used this one)
sleep 1.2
af -z -b 10.9.2.16 10.9.2.1 567 glenda gridboot-test 1 >"$D/zero.out" 2>&1
diag "zero Y: $(cat "$D/zero.out")"
check "an all-zero Y is refused with AuthErr" grep -q 'autherr: AuthPAK: degenerate Y' "$D/zero.out"
f2=$(metric 'gridboot_auth_failures_total{port="auth"}')
check "and counted as a failure ($f1 -> $f2)" [ "${f2:-0}" -gt "${f1:-0}" ]
check "the log says so" wait_for 3 grep -q "AuthPAK: a degenerate Y" "$D/gridbootd.log"

# ---- a fresh source still logs in, once the guessed user's bucket has
# refilled (one a second): every login charges the host owner bootes too,
# whose bucket the guesses above emptied
sleep 4
af -b 10.9.2.17 10.9.2.1 567 glenda gridboot-test 1 >"$D/fresh.out" 2>&1
check "a login from a fresh source works ($(cat "$D/fresh.out"))" grep -qx ok "$D/fresh.out"
check "the daemon stops cleanly" stop_gridbootd
t_done
