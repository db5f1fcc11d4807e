#!/bin/sh
# rampartctl policy explain: the verdict, the deciding rule as file:line,
# per-address decisions for names (resolved by the real system resolver
# from a private /etc/hosts in a mount namespace), exit codes.
set -u
. "$(dirname "$0")/lib.sh"
ctl=${RAMPARTCTL:-build/bin/rampartctl}
pol=tests/data/policies/full.conf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# explain WANT_RC WANT_TEXT ARGS...: run, check exit code and output.
explain() {
	want_rc=$1 want=$2
	shift 2
	"$ctl" policy explain -a 2027-01-01 -f "$pol" "$@" >"$tmp/out" 2>&1
	expect_rc "$want_rc" $? "explain $*"
	expect_in "$want" "$tmp/out" "explain $*"
}

explain 0 "rule:   $pol:13" alice 10.0.0.5 22
explain 0 "allow: alice -> 10.0.0.5 port 22" alice 10.0.0.5 22
explain 0 "rule:   $pol:13" alice 2001:db8::1 22
explain 1 "reason: no rule matches" alice 10.0.0.5 3306
explain 1 "deny: alice -> 10.0.0.5 port 3306" alice 10.0.0.5 3306
# Deny wins: global over group allow, group deny over group allow,
# user deny over group allow.
explain 1 "rule:   $pol:9" alice 10.9.1.1 22
explain 1 "rule:   $pol:15" alice 10.66.1.1 22
explain 1 "rule:   $pol:35" bob 10.0.0.99 22
explain 0 "rule:   $pol:13" bob 10.0.0.98 22
# The metadata address, also written as v4-mapped IPv6.
explain 1 "rule:   $pol:7" alice 169.254.169.254 80
explain 1 "rule:   $pol:7" alice ::ffff:169.254.169.254 80
explain 1 "rule:   $pol:7" alice ::ffff:a9fe:a9fe 22
explain 1 "rule:   $pol:9" alice ::ffff:10.9.0.1 22
# The built-in list, and the one address lifted from it.
explain 1 "denied by the built-in deny list (127.0.0.0/8)" alice 127.0.0.2 22
explain 1 "reason: no rule matches" alice 127.0.0.1 22
explain 1 "denied by the built-in deny list (fe80::/10)" alice fe80::1 22
explain 1 "denied by the built-in deny list (::1/128)" alice ::1 22
explain 1 "denied by the built-in deny list (0.0.0.0/8)" alice 0.0.0.0 22
explain 1 "built-in deny list (fd00:ec2::254/128)" alice fd00:ec2::254 80
# Ports at the edges and in lists and ranges.
explain 0 "rule:   $pol:10" bob 10.10.10.10 80
explain 1 "no rule matches" bob 10.10.10.10 81
explain 1 "no rule matches" alice 10.20.0.5 5431
explain 0 "rule:   $pol:18" alice 10.20.0.5 5432
# Accounts: expiry (the whole expiry day still works), unknown user.
explain 0 "allow:" alice 10.0.0.5 22
"$ctl" policy explain -a 2027-06-30T23:59:59Z -f "$pol" alice 10.0.0.5 22 \
    >"$tmp/out" 2>&1
expect_rc 0 $? "last second before expiry"
"$ctl" policy explain -a 2027-07-01 -f "$pol" alice 10.0.0.5 22 \
    >"$tmp/out" 2>&1
expect_rc 1 $? "day after expiry"
expect_in "account expired (2027-06-30)" "$tmp/out" "expired"
explain 1 "reason: unknown user" mallory 10.0.0.5 22
# Numeric-looking names are refused, not resolved.
explain 1 "invalid host name \"10.1\"" alice 10.1 22
explain 1 "invalid host name \"0x7f.1\"" alice 0x7f.1 22
# Usage errors.
"$ctl" policy explain -f "$pol" alice 10.0.0.5 0 >/dev/null 2>&1
expect_rc 2 $? "port 0"
"$ctl" policy explain -f "$pol" alice 10.0.0.5 >/dev/null 2>&1
expect_rc 2 $? "missing port"
"$ctl" policy explain -a 2027-13-01 -f "$pol" alice 10.0.0.5 22 \
    >/dev/null 2>&1
expect_rc 2 $? "bad -a date"

# Names, through the real resolver with our own hosts file.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	cat >"$tmp/hosts" <<HOSTS
10.20.0.5 db-1.internal.example.com
2001:db8::5 db-1.internal.example.com
10.0.0.5 mixed.internal.example.com
169.254.169.254 mixed.internal.example.com
10.0.0.7 evil.corp.example.com
HOSTS
	printf 'hosts: files\n' >"$tmp/nsswitch"
	ns() {
		unshare -m sh -c 'mount --bind "$1" /etc/hosts &&
		    mount --bind "$2" /etc/nsswitch.conf && shift 2 &&
		    exec "$@"' sh "$tmp/hosts" "$tmp/nsswitch" "$@"
	}
	ns "$ctl" policy explain -a 2027-01-01 -f "$pol" alice \
	    db-1.internal.example.com 5432 >"$tmp/out" 2>&1
	expect_rc 0 $? "name, all addresses allowed"
	expect_in "rule:   $pol:18" "$tmp/out" "name rule decides"
	expect_in "10.20.0.5" "$tmp/out" "v4 address listed"
	expect_in "2001:db8::5" "$tmp/out" "v6 address listed"
	ns "$ctl" policy explain -a 2027-01-01 -f "$pol" alice \
	    DB-1.Internal.Example.COM. 5432 >"$tmp/out" 2>&1
	expect_rc 0 $? "upper case and trailing dot"
	ns "$ctl" policy explain -a 2027-01-01 -f "$pol" alice \
	    mixed.internal.example.com 22 >"$tmp/out" 2>&1
	expect_rc 1 $? "one denied address denies the name"
	expect_in "resolves to 169.254.169.254" "$tmp/out" "bad address named"
	expect_in "rule:   $pol:7" "$tmp/out" "metadata rule decides"
	ns "$ctl" policy explain -a 2027-01-01 -f "$pol" alice \
	    evil.corp.example.com 22 >"$tmp/out" 2>&1
	expect_rc 1 $? "name deny"
	expect_in "rule:   $pol:8" "$tmp/out" "name deny rule"
	ns "$ctl" policy explain -a 2027-01-01 -f "$pol" alice \
	    nowhere.internal.example.com 22 >"$tmp/out" 2>&1
	expect_rc 1 $? "unresolvable"
	expect_in "did not resolve" "$tmp/out" "unresolvable reason"
else
	echo "SKIP: name resolution cases need root and unshare"
fi

summary
