#!/bin/sh
# rampartctl policy check: every bad case is rejected with file:line and
# the specific message, valid policies pass, and nothing crashes.
set -u
. "$(dirname "$0")/lib.sh"
ctl=${RAMPARTCTL:-build/bin/rampartctl}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

for f in tests/data/bad/*.conf; do
	want=$(sed -n '1s/^# expect: //p' "$f")
	case "$want" in
	:*) want="$f$want" ;;
	esac
	"$ctl" policy check "$f" >"$tmp/out" 2>"$tmp/err"
	expect_rc 1 $? "$f"
	expect_in "$want" "$tmp/err" "$f"
done

# Cases that cannot live in a text file: generated here.
gen() { printf "$2" >"$tmp/$1.conf"; }
gen nul 'deny 10.0.0.0/8\nallow 10.0.0.0/8 port 22\000\n'
gen utf8 'deny 10.0.0.0/8\n# caf\303\n'
gen utf8-overlong 'deny 10.0.0.0/8\n# \300\257\n'
gen utf8-surrogate 'deny 10.0.0.0/8\n# \355\240\200\n'
gen control 'deny 10.0.0.0/8\nallow 10.0.0.0/8\033 port 22\n'
gen cr-inside 'deny 10.0.0.0/8\ndeny 10.1.0.0/16\rdeny 10.2.0.0/16\n'
{
	printf 'deny 10.0.0.0/8\n# '
	head -c 4200 /dev/zero | tr '\0' x
	printf '\n'
} >"$tmp/overlong.conf"
check_gen() {
	"$ctl" policy check "$tmp/$1.conf" >/dev/null 2>"$tmp/err"
	expect_rc 1 $? "$1"
	expect_in "$tmp/$1.conf:$2" "$tmp/err" "$1"
}
check_gen nul "2: NUL byte at column"
check_gen utf8 "2: invalid UTF-8 at column"
check_gen utf8-overlong "2: invalid UTF-8 at column"
check_gen utf8-surrogate "2: invalid UTF-8 at column"
check_gen control "2: control character 0x1b"
check_gen cr-inside "2: control character 0x0d"
check_gen overlong "2: line is longer than 4096 bytes"

# CRLF line ends are accepted.
printf 'deny 10.0.0.0/8\r\nallow 10.1.0.0/16 port 22\r\n' >"$tmp/crlf.conf"
"$ctl" policy check "$tmp/crlf.conf" >/dev/null 2>"$tmp/err"
expect_rc 0 $? "CRLF policy"

# Several errors are all reported, and the file is still rejected.
printf 'allow 10.0.0.1/8 port 22\nallow 10.0.0.0/8 port 0\nbogus\n' \
    >"$tmp/many.conf"
"$ctl" policy check "$tmp/many.conf" >/dev/null 2>"$tmp/err"
expect_rc 1 $? "many errors"
expect_in "many.conf:1:" "$tmp/err" "many errors, 1"
expect_in "many.conf:2:" "$tmp/err" "many errors, 2"
expect_in "many.conf:3:" "$tmp/err" "many errors, 3"

# Not a regular file, missing file, directory.
"$ctl" policy check /dev/zero >/dev/null 2>"$tmp/err"
expect_rc 1 $? "/dev/zero"
expect_in "/dev/zero: is not a regular file" "$tmp/err" "/dev/zero"
"$ctl" policy check "$tmp/absent.conf" >/dev/null 2>"$tmp/err"
expect_rc 1 $? "missing file"
expect_in "absent.conf: cannot open: No such file" "$tmp/err" "missing"
mkfifo "$tmp/fifo"
"$ctl" policy check "$tmp/fifo" >/dev/null 2>"$tmp/err"
expect_rc 1 $? "fifo does not hang"

# The good policies pass.
for f in tests/data/policies/full.conf tests/fuzz/corpus/policy/*.conf; do
	"$ctl" policy check "$f" >"$tmp/out" 2>"$tmp/err"
	expect_rc 0 $? "$f"
	expect_in "$f: OK" "$tmp/out" "$f"
done

# keys-file in authorized_keys format, with a harmless option and an
# option that would widen access if ignored.
keys=$tmp/keys
{ printf 'no-pty '; cat tests/data/keys/ci.pub; } >"$keys"
printf 'user ci\n\tkeys-file %s\n\ttotp none\n\tfrom 192.0.2.0/24\n' \
    "$keys" >"$tmp/kf.conf"
"$ctl" policy check "$tmp/kf.conf" >/dev/null 2>"$tmp/err"
expect_rc 0 $? "keys-file with no-pty"
{ printf 'command="/bin/sh" '; cat tests/data/keys/ci.pub; } >"$keys"
"$ctl" policy check "$tmp/kf.conf" >/dev/null 2>"$tmp/err"
expect_rc 1 $? "keys-file with command="
expect_in "$keys:1: key option \"command\" is not supported" "$tmp/err" \
    "keys-file command="

# Usage errors exit 2; --help exits 0.
"$ctl" policy check >/dev/null 2>&1
expect_rc 2 $? "check without FILE"
"$ctl" policy frobnicate >/dev/null 2>&1
expect_rc 2 $? "unknown subcommand"
"$ctl" bogus >/dev/null 2>&1
expect_rc 2 $? "unknown command"
for sub in "" "policy" "policy check" "policy explain" "policy dump"; do
	# shellcheck disable=SC2086
	"$ctl" $sub --help >"$tmp/out" 2>&1
	expect_rc 0 $? "rampartctl $sub --help"
	expect_in "usage: rampartctl" "$tmp/out" "rampartctl $sub --help"
done

summary
