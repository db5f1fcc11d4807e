#!/bin/sh
# rampart-gateway's command line without starting it: -t accepts a good
# configuration and rejects bad ones with file:line, -T prints the
# effective configuration, usage errors exit 2.
set -u
. "$(dirname "$0")/lib.sh"
gw=${RAMPART_GATEWAY:-$(dirname "${RAMPARTCTL:-build/bin/rampartctl}")/rampart-gateway}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

cat >"$tmp/policy.conf" <<POL
user ci
	key $(cat tests/data/keys/ci.pub)
	totp none
	from 192.0.2.0/24
	allow 10.1.0.0/16 port 22
POL
cat >"$tmp/gateway.conf" <<CFG
ListenAddress 127.0.0.1
Port 2222
HostKey $tmp/host_key
Policy $tmp/policy.conf
TotpSecrets $tmp/totp.secrets
AuditLog $tmp/audit.jsonl
User nobody
CFG

"$gw" -t -f "$tmp/gateway.conf" >"$tmp/out" 2>&1
expect_rc 0 $? "-t on a good configuration"
expect_in "$tmp/gateway.conf: OK" "$tmp/out" "-t says OK"

"$gw" -T -f "$tmp/gateway.conf" >"$tmp/out" 2>&1
expect_rc 0 $? "-T"
expect_in "port 2222" "$tmp/out" "-T shows Port"
expect_in "maxstartups 30:30:100" "$tmp/out" "-T shows defaults"

# A bad configuration: each error with file:line.
cp "$tmp/gateway.conf" "$tmp/bad.conf"
printf 'Port 70000\nLoginGraceTime soon\nFrobnicate yes\n' >>"$tmp/bad.conf"
"$gw" -t -f "$tmp/bad.conf" >"$tmp/out" 2>&1
expect_rc 1 $? "-t on a bad configuration"
expect_in "$tmp/bad.conf:8: Port" "$tmp/out" "bad Port named"
expect_in "$tmp/bad.conf:9: LoginGraceTime" "$tmp/out" "bad duration named"
expect_in "$tmp/bad.conf:10:" "$tmp/out" "unknown keyword named"

# A bad policy stops it too, with the policy's file:line.
echo "allow 10.0.0.1/8 port 22" >>"$tmp/policy.conf"
"$gw" -t -f "$tmp/gateway.conf" >"$tmp/out" 2>&1
expect_rc 1 $? "-t with a bad policy"
expect_in "$tmp/policy.conf:6:" "$tmp/out" "policy error named"

"$gw" -t -f "$tmp/missing.conf" >"$tmp/out" 2>&1
expect_rc 1 $? "-t with a missing file"
expect_in "missing.conf: cannot open" "$tmp/out" "missing file named"

"$gw" -Q >/dev/null 2>&1
expect_rc 2 $? "unknown option"
"$gw" extra >/dev/null 2>&1
expect_rc 2 $? "stray argument"

summary
