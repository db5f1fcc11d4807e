#!/bin/sh
# What the policy refuses, the gateway refuses: by CIDR, by port, by the
# built-in deny list, the metadata address, and a name that resolves to a
# denied address.  Each is "administratively prohibited", the reason is
# sent to the client as an SSH debug message (ssh -v shows it), and the
# refusal is audited with the deciding rule.
set -u
. "$(dirname "$0")/lib.sh"
setup_all
start_gateway

# deny_case LABEL HOST PORT REASON_SUBSTRING [RULE]
deny_case() {
	label=$1 host=$2 port=$3 reason=$4 rule=${5:-}
	case "$host" in
	*:*) spec="[$host]:$port" ;;
	*) spec="$host:$port" ;;
	esac
	out=$(cssh -v -W "$spec" alice@$GW </dev/null 2>&1)
	case "$out" in
	*"open failed: administratively prohibited"*) ok ;;
	*) not_ok "$label: not prohibited: $(echo "$out" | tail -n 3)" ;;
	esac
	case "$out" in
	*"Remote: policy: $host:$port not allowed for alice: $reason"*) ok ;;
	*) not_ok "$label: reason not shown: $(echo "$out" |
	    grep -i remote)" ;;
	esac
	if [ -n "$rule" ]; then
		expect_audit "$label" event.action=channel-open \
		    event.outcome=failure destination.address="$host" \
		    destination.port="$port" rule.name="$rule"
	else
		expect_audit "$label" event.action=channel-open \
		    event.outcome=failure destination.address="$host" \
		    destination.port="$port"
	fi
}

deny_case "port not allowed" $TGT 3306 "no rule matches"
deny_case "network not allowed" 10.77.9.9 22 "no rule matches"
deny_case "explicit deny wins" 10.77.2.99 22 \
    "denied by $T/policy.conf:2" "$T/policy.conf:2"
deny_case "metadata address" 169.254.169.254 80 \
    "denied by $T/policy.conf:1" "$T/policy.conf:1"
deny_case "metadata as v4-mapped IPv6" ::ffff:169.254.169.254 80 \
    "denied by $T/policy.conf:1" "$T/policy.conf:1"
deny_case "built-in: loopback" 127.0.0.1 22 \
    "denied by the built-in deny list (127.0.0.0/8)" built-in
deny_case "built-in: link-local v6" fe80::1 22 \
    "denied by the built-in deny list (fe80::/10)" built-in
deny_case "name to the metadata address" metadata.internal 80 \
    "denied by $T/policy.conf:1" "$T/policy.conf:1"
deny_case "name with one bad address" mixed.internal 22 \
    "mixed.internal resolves to 127.0.0.1, denied by the built-in"
deny_case "the gateway itself" $GW_T 22 \
    "$GW_T is an address of the gateway itself"
deny_case "numeric-looking name" 10.77.2 22 "invalid host name"

# A refusal leaves the session usable: the next allowed forward works.
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | cssh -W $TGT:80 alice@$GW 2>&1)
case "$out" in
*"hello from the private network"*) ok ;;
*) not_ok "allowed after refusals: $out" ;;
esac

summary
