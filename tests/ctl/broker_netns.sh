#!/bin/sh
# The broker's unit tests once more, inside a private network and mount
# namespace (unshare -n -m), where the parts that need one run too: our own
# /etc/hosts (a name with two addresses, 33 addresses, duplicates, an
# address of the gateway), a resolv.conf whose server is 127.0.0.1 (first
# nobody there, then a socket that never answers; a search domain that
# must not be used), and an extra address on lo.  Only lo exists in there,
# so nothing leaves the machine.  Skipped, not failed, where root or
# unshare is missing.
set -u
. "$(dirname "$0")/lib.sh"
ctl=${RAMPARTCTL:-build/bin/rampartctl}
bin=${BROKER_TEST:-$(dirname "$(dirname "$ctl")")/tests/test_broker}
me=$(basename "$0")

skip() {
	echo "$me: skipped ($*)"
	exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root"
command -v unshare >/dev/null 2>&1 || skip "no unshare"
command -v ip >/dev/null 2>&1 || skip "no ip"
[ -x "$bin" ] || skip "$bin is not built"
unshare -n -m true 2>/dev/null || skip "unshare -n -m does not work here"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

{
	echo "127.0.0.1 localhost"
	echo "127.0.0.1 dual.test"
	echo "::1 dual.test"
	echo "10.77.0.1 self.test"
	echo "127.0.0.1 self.test"
	i=1
	while [ $i -le 40 ]; do
		echo "127.0.0.1 dup.test"
		[ $i -le 33 ] && echo "10.0.0.$i many.test"
		[ $i -le 32 ] && echo "10.0.1.$i thirtytwo.test"
		i=$((i + 1))
	done
} >"$tmp/hosts"
printf 'nameserver 127.0.0.1\nsearch corp.test\n' >"$tmp/resolv.conf"

# shellcheck disable=SC2016
unshare -n -m sh -c '
	mount --bind "$1/hosts" /etc/hosts &&
	mount --bind "$1/resolv.conf" /etc/resolv.conf &&
	ip link set lo up &&
	RAMPART_TEST_NETNS=1 exec "$2"' sh "$tmp" "$bin" >"$tmp/out" 2>&1
rc=$?
expect_rc 0 $rc "test_broker in a private namespace"
if [ $rc != 0 ]; then
	sed 's/^/    /' "$tmp/out"
elif grep -q SKIPPED "$tmp/out"; then
	not_ok "tests were skipped inside the namespace:"
	grep SKIPPED "$tmp/out" | sed 's/^/    /'
else
	ok
	grep -E '^(connect|lookup|127|localhost|[0-9]+ orphaned)' "$tmp/out" | sed 's/^/    /'
fi
summary
