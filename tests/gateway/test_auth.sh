#!/bin/sh
# Who gets in: the right key from an allowed source; not a wrong key, an
# unknown user, an expired account or a wrong source address.  Failed
# attempts penalise the source: it is refused for a while, then let in
# again.
set -u
. "$(dirname "$0")/lib.sh"
setup_all
# The client network is exempt so the refusal cases do not penalise each
# other; the penalty case runs from the other network.
GW_EXTRA_CONF="PerSourcePenaltyExemptList 10.77.1.0/24
PerSourcePenalties authfail:3s noauth:1s error:3s max:10s"
start_gateway

refused() {	# refused LABEL REASON NS USER KEY
	out=$(web "$3" "$4" "$5")
	case "$out" in
	*"Permission denied (publickey)"*) ok ;;
	*) not_ok "$1: not refused: $out" ;;
	esac
	expect_audit "$1" event.action=auth-publickey event.outcome=failure \
	    user.name="$4" event.reason="$2"
}

out=$(web "$NS_C" alice alice)
case "$out" in
*"hello from the private network"*) ok ;;
*) not_ok "alice with her key: $out" ;;
esac
expect_audit "alice accepted" event.action=auth-publickey \
    event.outcome=success user.name=alice

refused "wrong key" "key not listed for user" "$NS_C" alice stranger
refused "unknown user" "unknown user" "$NS_C" mallory alice
refused "expired account" "account expired" "$NS_C" bob bob
refused "wrong source for ci" "source address not allowed for user" \
    "$NS_C" ci ci
# From the other network alice is refused (from 10.77.1.0/24 only) ...
refused "wrong source for alice" "source address not allowed for user" \
    "$NS_O" alice alice
# ... and now that network is penalised: even ci's good key is turned
# away before any SSH byte ...
out=$(web "$NS_O" ci ci)
case "$out" in
*"hello from the private network"*) not_ok "penalty: let in at once" ;;
*) ok ;;
esac
expect_audit "penalty recorded" event.action=penalty source.ip=$OTHER
# ... until the penalty has run out.
sleep 4
out=$(web "$NS_O" ci ci)
case "$out" in
*"hello from the private network"*) ok ;;
*) not_ok "penalty did not expire: $out" ;;
esac

# An exempt source is never penalised, however often it fails.
for i in 1 2 3; do web "$NS_C" alice stranger >/dev/null; done
out=$(web "$NS_C" alice alice)
case "$out" in
*"hello from the private network"*) ok ;;
*) not_ok "exempt source penalised: $out" ;;
esac

summary
