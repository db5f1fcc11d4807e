#!/bin/sh
# rampart-knockd's command line without starting it: -t accepts a good
# configuration (with its server key and policy) and rejects bad ones with
# file:line, each golden file in tests/data/bad-knockd with exactly the
# error its "# expect:" line gives, a readable server key, a garbled one
# and a bad policy; -T prints the effective configuration; usage errors
# exit 2.
set -u
. "$(dirname "$0")/lib.sh"
ctl=${RAMPARTCTL:-build/bin/rampartctl}
kd=${RAMPART_KNOCKD:-$(dirname "$ctl")/rampart-knockd}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

"$ctl" knock keygen --server "$tmp/server.key" >"$tmp/pub" 2>&1
expect_rc 0 $? "rampartctl knock keygen --server"
cat >"$tmp/policy.conf" <<POL
user ci
	key $(cat tests/data/keys/ci.pub)
	totp none
	from 192.0.2.0/24
POL
cat >"$tmp/knockd.conf" <<CFG
ListenAddress 127.0.0.1
ListenPort 62099
ServerKey $tmp/server.key
Policy $tmp/policy.conf
AuditLog $tmp/audit.jsonl
User nobody
Ports 22,2222
CFG

"$kd" -t -f "$tmp/knockd.conf" >"$tmp/out" 2>&1
expect_rc 0 $? "-t on a good configuration"
expect_in "$tmp/knockd.conf: OK" "$tmp/out" "-t says OK"

"$kd" -T -f "$tmp/knockd.conf" >"$tmp/out" 2>&1
expect_rc 0 $? "-T"
expect_in "listenport 62099" "$tmp/out" "-T shows ListenPort"
expect_in "ports 22,2222" "$tmp/out" "-T shows Ports"
expect_in "openrate 4000" "$tmp/out" "-T shows defaults"

# The golden files: the one error each names, at its line.
for f in tests/data/bad-knockd/*.conf; do
	want=$(sed -n '1s/^# expect: //p' "$f")
	"$kd" -t -f "$f" >"$tmp/out" 2>&1
	expect_rc 1 $? "-t $f"
	expect_in "$f$want" "$tmp/out" "$f"
	expect_in "rampart-knockd: $f: not started" "$tmp/out" "$f"
done

# The server key: one that others may read, and garbage.
chmod 644 "$tmp/server.key"
"$kd" -t -f "$tmp/knockd.conf" >"$tmp/out" 2>&1
expect_rc 1 $? "-t with a world-readable server key"
expect_in "ServerKey $tmp/server.key" "$tmp/out" "readable key named"
expect_in "chmod 600" "$tmp/out" "readable key: the fix is said"
echo "not base64" >"$tmp/server.key"
chmod 600 "$tmp/server.key"
"$kd" -t -f "$tmp/knockd.conf" >"$tmp/out" 2>&1
expect_rc 1 $? "-t with a garbled server key"
expect_in "ServerKey $tmp/server.key" "$tmp/out" "garbled key named"
rm -f "$tmp/server.key"
"$kd" -t -f "$tmp/knockd.conf" >"$tmp/out" 2>&1
expect_rc 1 $? "-t with no server key file"
"$ctl" knock keygen --server "$tmp/server.key" >/dev/null 2>&1

# A bad policy stops it too, with the policy's file:line.
echo "knock-key ssh-rsa AAAA" >>"$tmp/policy.conf"
"$kd" -t -f "$tmp/knockd.conf" >"$tmp/out" 2>&1
expect_rc 1 $? "-t with a bad policy"
expect_in "$tmp/policy.conf:5:" "$tmp/out" "policy error named"

"$kd" -t -f "$tmp/missing.conf" >"$tmp/out" 2>&1
expect_rc 1 $? "-t with a missing file"
expect_in "missing.conf: cannot open" "$tmp/out" "missing file named"

"$kd" -Q >/dev/null 2>&1
expect_rc 2 $? "unknown option"
"$kd" extra >/dev/null 2>&1
expect_rc 2 $? "stray argument"

summary
