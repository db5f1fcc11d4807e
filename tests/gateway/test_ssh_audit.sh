#!/bin/sh
# ssh-audit (Debian's 2.5.0) against the gateway: no weak algorithm.
# 2.5.0 does not know the strict-KEX marker kex-strict-s-v00@openssh.com
# (the Terrapin fix; later ssh-audit versions list it as info) and warns
# "unknown algorithm" -- the one warning allowed.  The test asserts what
# matters: the exact algorithm lists, no compression, no [fail], and a
# banner that names no library version.
set -u
. "$(dirname "$0")/lib.sh"
setup_all
start_gateway

in_ns "$NS_C" timeout 60 ssh-audit -n $GW >"$T/sa" 2>&1
sed 's/^/    /' "$T/sa" >"$T/sa.indented"

has() {	# has LABEL PATTERN
	if grep -Eq -- "$2" "$T/sa"; then ok; else
		not_ok "$1"; cat "$T/sa.indented"; fi
}
lines() {	# lines LABEL PREFIX EXPECTED...: exactly these algorithms
	label=$1 prefix=$2
	shift 2
	got=$(sed -n "s/^($prefix) \([^ ]*\).*/\1/p" "$T/sa" | sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	if [ "$got" = "$want" ]; then ok; else
		not_ok "$label: got [$got] wanted [$want]"; fi
}

has "banner" '^\(gen\) banner: SSH-2.0-Rampart$'
has "compression" '^\(gen\) compression: disabled'
lines "kex" kex curve25519-sha256 curve25519-sha256@libssh.org \
    kex-strict-s-v00@openssh.com
lines "host key" key ssh-ed25519
lines "ciphers" enc chacha20-poly1305@openssh.com aes256-gcm@openssh.com \
    aes128-gcm@openssh.com
lines "macs" mac hmac-sha2-256-etm@openssh.com hmac-sha2-512-etm@openssh.com
if grep -q '\[fail\]' "$T/sa"; then not_ok "a [fail]"; else ok; fi
warns=$(grep '\[warn\]' "$T/sa" | grep -vc 'kex-strict-s-v00@openssh.com')
if [ "$warns" -eq 0 ]; then ok; else not_ok "$warns unexpected warnings"; fi
if grep -q 'CVE' "$T/sa"; then not_ok "a CVE is reported"; else ok; fi

summary
