#!/bin/sh
# Limits and abuse: LoginGraceTime; per-user max connections; per-
# connection max channels; idle and absolute session timeouts from the
# policy; and a legitimate user still gets in while 500 unauthenticated
# connections hammer the gateway from another network.
set -u
. "$(dirname "$0")/lib.sh"
setup_all
key=$(cat "$T/alice.pub")
cat >>"$T/policy.conf" <<POL

user dave
	key $key
	totp none
	from 10.77.1.0/24
	allow $TGT port 22,80
	max-connections 2

user erin
	key $key
	totp none
	from 10.77.1.0/24
	allow $TGT port 22,80
	max-channels 2

user frank
	key $key
	totp none
	from 10.77.1.0/24
	allow $TGT port 22,80
	idle-timeout 2s

user gina
	key $key
	totp none
	from 10.77.1.0/24
	allow $TGT port 22,80
	max-session-time 3s
POL
GW_GRACE=2s
GW_EXTRA_CONF="PerSourceMaxStartups 10
PerSourcePenaltyExemptList 10.77.1.0/24"
start_gateway

page() {	# page USER
	printf 'GET / HTTP/1.0\r\n\r\n' | cssh -W $TGT:80 "$1@$GW" 2>&1
}

# LoginGraceTime: a client that says nothing is dropped.
start=$(date +%s)
in_ns "$NS_C" timeout 20 nc $GW 22 </dev/null >/dev/null 2>&1
took=$(( $(date +%s) - start ))
if [ $took -ge 2 ] && [ $took -le 10 ]; then ok; else
	not_ok "silent client held for ${took}s (grace 2s)"; fi
expect_audit "grace audited" event.action=connection-close \
    event.outcome=failure source.ip=$CLI

# max-connections 2 for dave: the third session is refused.
cssh -N dave@$GW & cssh -N dave@$GW &
i=0
while [ "$(audit event.action=auth-publickey event.outcome=success \
    user.name=dave --count)" -lt 2 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
out=$(page dave)
case "$out" in
*"Permission denied"*) ok ;;
*) not_ok "third session for dave: $out" ;;
esac
expect_audit "limit audited" event.action=auth-publickey \
    event.outcome=failure user.name=dave \
    "event.reason=too many connections for user"
kill_clients
sleep 0.5
case "$(page dave)" in
*"hello from the private network"*) ok ;;
*) not_ok "dave after his sessions ended" ;;
esac

# max-channels 2 for erin: two held channels, the third is refused.
cssh -N -L 7001:$TGT:22 erin@$GW &
wait_listen "$NS_C" 7001
in_ns "$NS_C" timeout 20 nc 127.0.0.1 7001 </dev/null >/dev/null &
in_ns "$NS_C" timeout 20 nc 127.0.0.1 7001 </dev/null >/dev/null &
sleep 1
out=$(in_ns "$NS_C" timeout 5 nc 127.0.0.1 7001 </dev/null 2>&1)
case "$out" in
SSH-*) not_ok "third channel for erin opened" ;;
*) ok ;;
esac
expect_audit "channel limit audited" event.action=request-refused \
    user.name=erin "event.reason=too many channels (limit 2)"
kill_clients

# idle-timeout 2s for frank: an idle session is closed.
start=$(date +%s)
cssh -N frank@$GW
took=$(( $(date +%s) - start ))
if [ $took -ge 2 ] && [ $took -le 8 ]; then ok; else
	not_ok "idle session lasted ${took}s (idle-timeout 2s)"; fi
expect_audit "idle audited" event.action=connection-close user.name=frank \
    "event.reason=idle timeout"

# max-session-time 3s for gina: closed even while busy.
cssh -N -L 7002:$TGT:80 gina@$GW &
wait_listen "$NS_C" 7002
start=$(date +%s)
while [ $(( $(date +%s) - start )) -lt 10 ] &&
    in_ns "$NS_C" curl -s --max-time 2 http://127.0.0.1:7002/ >/dev/null
do
	sleep 0.2
done
took=$(( $(date +%s) - start ))
if [ $took -ge 2 ] && [ $took -le 8 ]; then ok; else
	not_ok "busy session lasted ${took}s (max-session-time 3s)"; fi
expect_audit "lifetime audited" event.action=connection-close \
    user.name=gina "event.reason=session lifetime reached"
kill_clients

# 500 unauthenticated connections from the other network, while alice
# logs in five times.
in_ns "$NS_O" timeout 60 python3 "$(dirname "$0")/flood.py" $GW_O 22 500 \
    12 >"$T/flood.out" 2>&1 &
flood=$!
sleep 2
good=0
for i in 1 2 3 4 5; do
	case "$(page alice)" in
	*"hello from the private network"*) good=$((good + 1)) ;;
	esac
	sleep 0.5
done
if [ $good -eq 5 ]; then ok; else not_ok "alice got in $good/5 times"; fi
wait $flood
cat "$T/flood.out"
expect_audit "flood refusals audited" event.action=connection-refused \
    source.ip=$OTHER
kill -0 $GW_PID 2>/dev/null && ok || not_ok "master died under the flood"

summary
