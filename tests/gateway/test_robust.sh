#!/bin/sh
# The master survives what happens to children, and reloads safely:
# a child that makes a forbidden system call is killed by seccomp and the
# master logs and audits it; kill -9 of one session leaves the others and
# the master alive; SIGHUP with a broken policy keeps the old one; SIGHUP
# with a changed policy applies to new requests while open tunnels keep
# flowing; SIGTERM ends everything cleanly.
set -u
. "$(dirname "$0")/lib.sh"
setup_all
# Not penalising the client keeps each step independent of the last.
GW_EXTRA_CONF="PerSourcePenaltyExemptList 10.77.1.0/24"
start_gateway "$GW_TEST_BIN" -X

page() {	# page [PORT]: fetch the target page through -W
	printf 'GET / HTTP/1.0\r\n\r\n' | cssh -W $TGT:80 alice@$GW 2>&1
}
has_page() {	# has_page LABEL TEXT
	case "$2" in
	*"hello from the private network"*) ok ;;
	*) not_ok "$1: $2" ;;
	esac
}

# A long-lived tunnel that must survive everything below.
cssh -N -L 7001:$TGT:80 alice@$GW &
wait_listen "$NS_C" 7001
tunnel() {
	in_ns "$NS_C" curl -s --max-time 10 http://127.0.0.1:7001/
}
has_page "tunnel up" "$(tunnel)"

# 1. The sandbox: the test hook makes the child call socket(2).
out=$(cssh -W forbidden-syscall.rampart-test:80 alice@$GW </dev/null 2>&1)
expect_audit "sandbox violation audited" event.action=sandbox-violation \
    user.name=alice
expect_audit "and the connection closed" event.action=connection-close \
    event.reason="sandbox violation"
if grep -q "killed by its seccomp filter" "$T/gateway.log"; then ok; else
	not_ok "sandbox violation not logged"; fi
kill -0 $GW_PID 2>/dev/null && ok || not_ok "master died with the child"
has_page "tunnel after the violation" "$(tunnel)"

# 2. kill -9 of one session.
cssh -N -L 7002:$TGT:80 alice@$GW &
wait_listen "$NS_C" 7002
has_page "second tunnel" "$(in_ns "$NS_C" curl -s --max-time 10 \
    http://127.0.0.1:7002/)"
victim=$(audit event.action=connection-open --field process.pid | tail -n 1)
kill -9 "$victim"
expect_audit "killed session audited" event.action=connection-close \
    process.pid="$victim" event.outcome=failure
kill -0 $GW_PID 2>/dev/null && ok || not_ok "master died with kill -9"
has_page "first tunnel after kill -9" "$(tunnel)"
has_page "new session after kill -9" "$(page)"

# 3. SIGHUP with a broken policy: the old one stays.
cp "$T/policy.conf" "$T/policy.good"
echo "allow 10.0.0.1/8 port 22" >>"$T/policy.conf"
kill -HUP $GW_PID
expect_audit "failed reload audited" event.action=policy-reload \
    event.outcome=failure
has_page "old policy still applies" "$(page)"
kill -0 $GW_PID 2>/dev/null && ok || not_ok "master died on a bad policy"

# 4. SIGHUP with a changed policy: alice may no longer reach port 80.
sed 's/port 22,80,5000-5100/port 22/; s/port 22,80$/port 22/' \
    "$T/policy.good" >"$T/policy.conf"
kill -HUP $GW_PID
expect_audit "reload audited" event.action=policy-reload \
    event.outcome=success
out=$(page)
case "$out" in
*"hello from the private network"*) not_ok "new policy not applied" ;;
*) ok ;;
esac
# The open session keeps its tunnel, but each new connection through it
# is a new request, decided by the new policy.
in_ns "$NS_C" curl -s --max-time 10 http://127.0.0.1:7001/ >"$T/out" 2>&1
if grep -q "hello from" "$T/out"; then not_ok "old session bypassed"; else
	ok; fi
expect_audit "new request denied" event.action=channel-open \
    event.outcome=failure destination.port=80 user.name=alice

# An idle gateway -- master and an open but idle session -- does not
# spend CPU: at most one clock tick each over three seconds.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
child=$(audit event.action=connection-open --field process.pid | head -n 1)
m0=$(cpu $GW_PID)
c0=$(cpu "$child" 2>/dev/null || echo 0)
sleep 3
m1=$(cpu $GW_PID)
c1=$(cpu "$child" 2>/dev/null || echo 0)
if [ $((m1 - m0)) -le 1 ]; then ok; else
	not_ok "idle master used $((m1 - m0)) ticks in 3 s"; fi
if [ $((c1 - c0)) -le 1 ]; then ok; else
	not_ok "idle session used $((c1 - c0)) ticks in 3 s"; fi

# 5. SIGTERM: the master stops, sessions end, nothing is left behind.
unknown_before=$(audit event.action=channel-close event.outcome=unknown \
    --count)
kill -TERM $GW_PID
i=0
while kill -0 $GW_PID 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -0 $GW_PID 2>/dev/null && not_ok "master still running" || ok
expect_audit "stop audited" event.action=service-stop
# The open tunnel's session ended cleanly, with its byte counts.
expect_audit "session ended by the stop" event.action=connection-close \
    event.outcome=success "event.reason=gateway stopping"
n=$(audit event.action=channel-close event.outcome=unknown --count)
if [ "$n" -eq "$unknown_before" ]; then ok; else
	not_ok "channels closed without byte counts at the stop"; fi
n=$(audit event.action=penalty "event.reason=gateway stopping" --count)
if [ "$n" -eq 0 ]; then ok; else not_ok "the stop penalised clients"; fi
left=0
for p in $(ip netns pids "$NS_G"); do
	grep -q rampart-gateway "/proc/$p/cmdline" 2>/dev/null &&
	    left=$((left + 1))
done
if [ "$left" -eq 0 ]; then ok; else not_ok "$left gateway processes left"; fi

summary
