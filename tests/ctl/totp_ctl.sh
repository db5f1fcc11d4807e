#!/bin/sh
# rampartctl totp: enroll, verify, reset and import, checked against
# oathtool (an independent RFC 6238 implementation) and zbarimg (a real QR
# decoder); malformed inputs give file:line errors and exit 1, usage
# errors exit 2.  Codes are made for the real current time: verify looks
# one step either side of now, and settle() keeps clear of step ends.
set -u
. "$(dirname "$0")/lib.sh"
ctl=${RAMPARTCTL:-build/bin/rampartctl}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
sec=$tmp/totp.secrets
out=$tmp/out
err=$tmp/err

# Wait if the current PERIOD-second step ends within 3 s.
settle() {
	p=${1:-30}
	s=$(($(date +%s) % p))
	if [ "$s" -ge $((p - 3)) ]; then sleep $((p - s + 1)); fi
}
# The time OFFSET seconds from now, for oathtool --now.
at() { date -u -d "@$(($(date +%s) + $1))" '+%Y-%m-%d %H:%M:%S UTC'; }
# uri_param NAME URI
uri_param() { printf '%s\n' "$2" | sed -n "s/.*[?&]$1=\([^&]*\).*/\1/p"; }
# expect_not_in NEEDLE FILE WHAT
expect_not_in() {
	if grep -qF -- "$1" "$2"; then not_ok "$3: \"$1\" found"; else ok; fi
}
# verify WANT_RC NEEDLE WHAT ARGS...
verify() {
	want=$1 needle=$2 what=$3
	shift 3
	"$ctl" totp verify "$@" >"$out" 2>&1
	expect_rc "$want" $? "$what"
	expect_in "$needle" "$out" "$what"
}
# A secret of N random bytes, as hex or base32 (no padding).
rand_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
rand_b32() {
	python3 -c 'import base64,os,sys
print(base64.b32encode(os.urandom(int(sys.argv[1]))).decode().rstrip("="))' \
	    "$1"
}

# ---- enroll ----

"$ctl" totp enroll -f "$sec" alice >"$out" 2>"$err"
expect_rc 0 $? "enroll alice"
cp "$out" "$tmp/enroll.out"
uri=$(grep -o 'otpauth://[^ ]*' "$out" | head -n 1)
case "$uri" in
"otpauth://totp/Rampart:alice?"*) ok ;;
*) not_ok "URI label: $uri" ;;
esac
secret=$(uri_param secret "$uri")
if printf '%s' "$secret" | grep -qE '^[A-Z2-7]{32}$'; then ok; else
	not_ok "URI secret is not 160 bits of base32: $secret"
fi
[ "$(uri_param issuer "$uri")" = Rampart ] && ok || not_ok "issuer: $uri"
[ "$(uri_param algorithm "$uri")" = SHA1 ] && ok || not_ok "alg: $uri"
[ "$(uri_param digits "$uri")" = 6 ] && ok || not_ok "digits: $uri"
[ "$(uri_param period "$uri")" = 30 ] && ok || not_ok "period: $uri"
mode=$(stat -c %a "$sec")
[ "$mode" = 600 ] && ok || not_ok "new secrets file has mode $mode"
expect_in "shown only now" "$out" "scratch code warning"
expect_in "systemctl reload rampart-gateway" "$out" "SIGHUP hint"
expect_in "chmod 0640" "$out" "hint for a new file"
# The secret is in the file only as base32/hex of its own, never the
# scratch codes in clear.
scratch=$(sed -n '/^Scratch codes/,/^$/p' "$out" | grep -oE '[0-9]{8}')
n=$(printf '%s\n' "$scratch" | grep -c .)
[ "$n" = 10 ] && ok || not_ok "$n scratch codes printed, wanted 10"
for c in $scratch; do expect_not_in "$c" "$sec" "scratch code in clear"; done

# The QR code decodes to the printed URI: read the modules back from the
# half blocks (a block is a light module), draw them as a PBM and let a
# real decoder read it.
qr_decode() {
	python3 - "$1" "$tmp/qr.pbm" <<'EOF' || return 1
import re, sys
cells = {"\u2588": (0, 0), "\u2580": (0, 1), "\u2584": (1, 0), " ": (1, 1)}
text = re.sub("\x1b\\[[0-9;]*m", "", open(sys.argv[1], encoding="utf-8").read())
rows = [l for l in text.split("\n")
        if len(l) > 20 and all(c in cells for c in l) and "\u2588" in l]
mods = []
for l in rows:
    mods.append([cells[c][0] for c in l])
    mods.append([cells[c][1] for c in l])
s = 4
with open(sys.argv[2], "w") as f:
    f.write("P1\n%d %d\n" % (len(mods[0]) * s, len(mods) * s))
    for r in mods:
        line = " ".join(str(m) for m in r for _ in range(s))
        for _ in range(s):
            f.write(line + "\n")
EOF
	zbarimg -q --raw "$tmp/qr.pbm" 2>/dev/null
}
if ! command -v zbarimg >/dev/null; then
	not_ok "zbarimg is missing (make deps installs zbar-tools)"
else
	got=$(qr_decode "$out")
	[ "$got" = "$uri" ] && ok || not_ok "QR decodes to \"$got\", not $uri"
	# On a terminal the colours are set; the code still decodes.
	script -qec "$ctl totp enroll -f $tmp/tty.secrets carol" /dev/null \
	    >"$tmp/tty.out" 2>&1
	expect_rc 0 $? "enroll on a tty"
	expect_in "$(printf '\033[97;40m')" "$tmp/tty.out" "tty colours"
	turi=$(tr -d '\r' <"$tmp/tty.out" | grep -o 'otpauth://[^ ]*' |
	    head -n 1)
	tr -d '\r' <"$tmp/tty.out" >"$tmp/tty.txt"
	got=$(qr_decode "$tmp/tty.txt")
	[ -n "$turi" ] && [ "$got" = "$turi" ] && ok ||
	    not_ok "tty QR decodes to \"$got\", not $turi"
fi

# ---- verify ----

settle
verify 0 "alice: valid for the current step" "code from oathtool" \
    -f "$sec" alice "$(oathtool --totp -b "$secret")"
settle
verify 0 "valid for the previous step (clock skew -30s)" "previous step" \
    -f "$sec" alice "$(oathtool --totp -b --now "$(at -30)" "$secret")"
settle
verify 0 "valid for the next step (clock skew +30s)" "next step" \
    -f "$sec" alice "$(oathtool --totp -b --now "$(at 30)" "$secret")"
settle
verify 1 "wrong code" "two steps back, window 1" \
    -f "$sec" alice "$(oathtool --totp -b --now "$(at -60)" "$secret")"
settle
verify 0 "valid for 2 steps back (clock skew -60s)" "two steps back, -w 2" \
    -f "$sec" -w 2 alice "$(oathtool --totp -b --now "$(at -60)" "$secret")"
settle
verify 1 "wrong code" "previous step, -w 0" \
    -f "$sec" -w 0 alice "$(oathtool --totp -b --now "$(at -30)" "$secret")"
settle
good=$(oathtool --totp -b "$secret")
bad=$(printf '%s' "$good" | tr 0123456789 1234567890)
verify 1 "alice: wrong code" "wrong code" -f "$sec" alice "$bad"
first=$(printf '%s\n' "$scratch" | head -n 1)
verify 0 "valid scratch code (number 1 of 10)" "scratch code" \
    -f "$sec" alice "$first"
verify 0 "valid scratch code (number 1 of 10)" "scratch code not used up" \
    -f "$sec" alice "$first"
i=0
for c in $scratch; do
	i=$((i + 1))
	verify 0 "number $i of 10" "scratch code $i" -f "$sec" alice "$c"
done
verify 1 "has no TOTP secret" "unknown user" -f "$sec" zed 123456
verify 1 "No such file" "missing secrets file" -f "$tmp/none" alice 123456

# ---- enroll: options, --force, refusals ----

"$ctl" totp enroll -f "$sec" alice >"$out" 2>&1
expect_rc 1 $? "enroll over an existing entry"
expect_in "alice already has a TOTP secret (--force replaces it)" "$out" \
    "enroll over an existing entry"
"$ctl" totp enroll -f "$sec" --force alice >"$out" 2>&1
expect_rc 0 $? "enroll --force"
uri2=$(grep -o 'otpauth://[^ ]*' "$out" | head -n 1)
secret2=$(uri_param secret "$uri2")
[ "$secret2" != "$secret" ] && ok || not_ok "--force kept the secret"
expect_not_in "chmod 0640" "$out" "no new-file hint for an existing file"
settle
verify 1 "wrong code" "old secret no longer valid" \
    -f "$sec" alice "$(oathtool --totp -b "$secret")"
settle
verify 0 "current step" "new secret valid" \
    -f "$sec" alice "$(oathtool --totp -b "$secret2")"

"$ctl" totp enroll -f "$sec" -a sha256 -d 8 -p 60 -i "Example Corp" bob \
    >"$out" 2>&1
expect_rc 0 $? "enroll sha256/8/60"
uri=$(grep -o 'otpauth://[^ ]*' "$out" | head -n 1)
b=$(uri_param secret "$uri")
case "$uri" in
"otpauth://totp/Example%20Corp:bob?"*) ok ;;
*) not_ok "URI label with issuer: $uri" ;;
esac
[ "$(uri_param issuer "$uri")" = "Example%20Corp" ] && ok ||
    not_ok "issuer: $uri"
[ "$(uri_param algorithm "$uri")" = SHA256 ] && ok || not_ok "alg: $uri"
[ "$(uri_param digits "$uri")" = 8 ] && ok || not_ok "digits: $uri"
[ "$(uri_param period "$uri")" = 60 ] && ok || not_ok "period: $uri"
settle 60
verify 0 "bob: valid for the current step" "sha256, 8 digits, 60 s" \
    -f "$sec" bob "$(oathtool --totp=sha256 -d 8 -s 60 -b "$b")"
"$ctl" totp enroll -f "$sec" -a sha512 -d 7 dave >"$out" 2>&1
expect_rc 0 $? "enroll sha512/7"
uri=$(grep -o 'otpauth://[^ ]*' "$out" | head -n 1)
settle
verify 0 "dave: valid for the current step" "sha512, 7 digits" -f "$sec" \
    dave "$(oathtool --totp=sha512 -d 7 -b "$(uri_param secret "$uri")")"

# A secrets file that others may read is refused, and left alone.
cp "$sec" "$tmp/loose"
chmod 0644 "$tmp/loose"
"$ctl" totp enroll -f "$tmp/loose" erin >"$out" 2>&1
expect_rc 1 $? "world-readable secrets file"
expect_in "$tmp/loose" "$out" "world-readable secrets file"
cmp -s "$sec" "$tmp/loose" && ok || not_ok "loose file was changed"
# A broken secrets file: file:line, nothing written.
printf 'garbage\n' >"$tmp/broken"
chmod 0600 "$tmp/broken"
"$ctl" totp enroll -f "$tmp/broken" erin >"$out" 2>&1
expect_rc 1 $? "broken secrets file"
expect_in "$tmp/broken:1:" "$out" "broken secrets file"
[ "$(cat "$tmp/broken")" = garbage ] && ok || not_ok "broken file changed"

# ---- reset ----

"$ctl" totp reset -f "$sec" alice >"$out" 2>&1
expect_rc 0 $? "reset alice"
expect_in "TOTP secret of alice removed" "$out" "reset alice"
verify 1 "alice has no TOTP secret" "verify after reset" -f "$sec" alice \
    "$(oathtool --totp -b "$secret2")"
"$ctl" totp reset -f "$sec" alice >"$out" 2>&1
expect_rc 1 $? "reset again"
expect_in "alice has no TOTP secret" "$out" "reset again"
settle 60
verify 0 "current step" "bob survives alice's reset" \
    -f "$sec" bob "$(oathtool --totp=sha256 -d 8 -s 60 -b "$b")"
mode=$(stat -c %a "$sec")
[ "$mode" = 600 ] && ok || not_ok "mode after rewrite: $mode"

# ---- verify -s, reset -s: the gateway's state file ----

# mkstate STATE SECRETS USER LAST_STEP LOCKED_UNTIL FAILURES SCRATCH_USED:
# a state file holding one record, laid out as totp/totp_state.c writes
# it: a 128-byte header, then 128-byte little-endian records closed by
# BLAKE2b-128 of the record and its slot number.  The scratch set's
# fingerprint is computed from the user's line in the secrets file.
mkstate() {
	python3 - "$@" <<'EOF'
import hashlib, struct, sys, time
path, secrets, user, last, locked, failures, used = sys.argv[1:]
sid = 0
for line in open(secrets):
    f = line.split()
    sc = [x for x in f[5:] if x.startswith("scratch=")]
    if f and f[0] == user and sc:
        g = hashlib.blake2b(digest_size=8)
        for pair in sc[0][8:].split(","):
            salt, h = pair.split(":")
            g.update(bytes.fromhex(salt) + bytes.fromhex(h))
        sid = int.from_bytes(g.digest(), "big") or 1
now = int(time.time())
hdr = (b"RAMPTOTP" + struct.pack("<IIQ", 1, 128, now)).ljust(128, b"\0")
rec = user.encode().ljust(32, b"\0") + struct.pack("<QqqQqIII",
    int(last), int(locked), 0, sid, now, int(failures), int(used), 0)
rec = rec.ljust(112, b"\0")
rec += hashlib.blake2b(rec + struct.pack("<Q", 1), digest_size=16).digest()
with open(path, "wb") as f:
    f.write(hdr + rec + b"\0" * 128 * 62)
EOF
	chmod 0600 "$1"
}
ssec=$tmp/state.secrets
state=$tmp/totp.state
"$ctl" totp enroll -f "$ssec" olga >"$out" 2>&1
expect_rc 0 $? "enroll olga"
o=$(uri_param secret "$(grep -o 'otpauth://[^ ]*' "$out" | head -n 1)")
osc=$(sed -n '/^Scratch codes/,/^$/p' "$out" | grep -oE '[0-9]{8}')
o1=$(printf '%s\n' "$osc" | sed -n 1p)
o2=$(printf '%s\n' "$osc" | sed -n 2p)
mkdir "$tmp/tmpdir"
settle
mkstate "$state" "$ssec" olga $(($(date +%s) / 30)) 0 0 1
cp "$state" "$tmp/state.before"
TMPDIR=$tmp/tmpdir verify 1 "$state: the gateway would refuse it: replay" \
    "-s: current step already used" \
    -f "$ssec" -s "$state" olga "$(oathtool --totp -b "$o")"
expect_in "olga: valid for the current step" "$out" "-s: code still valid"
TMPDIR=$tmp/tmpdir verify 0 "$state: the gateway would accept it" \
    "-s: next step not used yet" \
    -f "$ssec" -s "$state" olga "$(oathtool --totp -b --now "$(at 30)" "$o")"
TMPDIR=$tmp/tmpdir verify 1 "replay (scratch code 1 already used)" \
    "-s: used scratch code" -f "$ssec" -s "$state" olga "$o1"
TMPDIR=$tmp/tmpdir verify 0 "the gateway would accept it" \
    "-s: unused scratch code" -f "$ssec" -s "$state" olga "$o2"
TMPDIR=$tmp/tmpdir verify 1 "olga: wrong code" "-s: wrong code" \
    -f "$ssec" -s "$state" olga 00000000
cmp -s "$state" "$tmp/state.before" && ok || not_ok "verify -s wrote state"
[ -z "$(ls -A "$tmp/tmpdir")" ] && ok || not_ok "verify -s left files"
mkstate "$state" "$ssec" olga 0 $(($(date +%s) + 600)) 5 0
settle
verify 1 "the gateway would refuse it: locked out until" "-s: locked" \
    -f "$ssec" -s "$state" olga "$(oathtool --totp -b "$o")"
cp "$ssec" "$tmp/state2.secrets"
"$ctl" totp reset -f "$tmp/state2.secrets" -s "$state" olga >"$out" 2>&1
expect_rc 0 $? "reset -s"
expect_in "$state: replay and lockout state of olga cleared" "$out" \
    "reset -s"
settle
verify 0 "the gateway would accept it" "-s: after reset" \
    -f "$ssec" -s "$state" olga "$(oathtool --totp -b "$o")"
verify 1 "$tmp/absent.state: cannot read" "-s: missing state file" \
    -f "$ssec" -s "$tmp/absent.state" olga "$o2"
printf 'not a state file\n' >"$tmp/garbage.state"
chmod 0600 "$tmp/garbage.state"
verify 1 "not a Rampart TOTP state file" "-s: not a state file" \
    -f "$ssec" -s "$tmp/garbage.state" olga "$o2"
"$ctl" totp reset -f "$ssec" -s "$tmp/absent.state" olga >"$out" 2>&1
expect_rc 1 $? "reset -s with a missing state file"
expect_in "$tmp/absent.state: No such file" "$out" "reset -s, missing"

# ---- import --pam-oath ----

h1=$(rand_hex 20)
h2=$(rand_hex 20)
h3=$(rand_hex 32)
h4=$(rand_hex 20)
oath=$tmp/users.oath
cat >"$oath" <<EOF
# pam_oath users
HOTP/T30	frank	-	$h1

HOTP/T30/8 gina + $h2 0 2024-01-01T00:00:00L
HOTP/T60/6 hank - $h3
HOTP/T30/7 ivan - $h4
EOF
chmod 0600 "$oath"
isec=$tmp/import.secrets
"$ctl" totp import -f "$isec" --pam-oath "$oath" >"$out" 2>&1
expect_rc 0 $? "pam_oath import"
expect_in "4 users written to $isec" "$out" "pam_oath import"
expect_in "$oath:4: the counter and last-use fields are not carried over" \
    "$out" "pam_oath extra fields reported"
settle
verify 0 "frank: valid for the current step" "pam_oath HOTP/T30" \
    -f "$isec" frank "$(oathtool --totp "$h1")"
settle
verify 0 "gina: valid for the current step" "pam_oath HOTP/T30/8" \
    -f "$isec" gina "$(oathtool --totp -d 8 "$h2")"
settle 60
verify 0 "hank: valid for the current step" "pam_oath HOTP/T60/6" \
    -f "$isec" hank "$(oathtool --totp -s 60 "$h3")"
settle
verify 0 "ivan: valid for the current step" "pam_oath HOTP/T30/7" \
    -f "$isec" ivan "$(oathtool --totp -d 7 "$h4")"
[ "$(stat -c %a "$isec")" = 600 ] && ok || not_ok "imported file mode"

"$ctl" totp import -f "$isec" --pam-oath "$oath" >"$out" 2>&1
expect_rc 1 $? "pam_oath import over existing users"
expect_in "$oath:2: frank already has a TOTP secret" "$out" \
    "pam_oath import over existing users"
cp "$isec" "$tmp/before"
h5=$(rand_hex 20)
printf 'HOTP/T30/8 gina - %s\n' "$h5" >"$tmp/gina.oath"
"$ctl" totp import -f "$isec" --force --pam-oath "$tmp/gina.oath" \
    >"$out" 2>&1
expect_rc 0 $? "pam_oath import --force"
settle
verify 0 "gina: valid" "replaced secret" \
    -f "$isec" gina "$(oathtool --totp -d 8 "$h5")"
settle
verify 0 "frank: valid" "others kept" \
    -f "$isec" frank "$(oathtool --totp "$h1")"

# Only the users named.
"$ctl" totp import -f "$tmp/some.secrets" --pam-oath "$oath" hank >"$out" \
    2>&1
expect_rc 0 $? "pam_oath import of one user"
expect_in "1 user written" "$out" "pam_oath import of one user"
verify 1 "frank has no TOTP secret" "a user not named is not imported" \
    -f "$tmp/some.secrets" frank 123456
"$ctl" totp import -f "$tmp/none.secrets" --pam-oath "$oath" zed >"$out" \
    2>&1
expect_rc 1 $? "pam_oath import of a user not in the file"
expect_in "$oath: no line for zed" "$out" "no line for zed"
[ ! -e "$tmp/none.secrets" ] && ok || not_ok "file written on error"

# Malformed usersfiles: file:line, exit 1, nothing written.
# bad_oath NAME LINE... -- the last line is the bad one
bad_oath() {
	name=$1 want=$2
	shift 2
	printf '%s\n' "HOTP/T30 okuser - $h1" "$@" >"$tmp/$name"
	cp "$isec" "$tmp/before"
	"$ctl" totp import -f "$isec" --pam-oath "$tmp/$name" >"$out" 2>&1
	expect_rc 1 $? "$name"
	expect_in "$tmp/$name:$want" "$out" "$name"
	cmp -s "$isec" "$tmp/before" && ok || not_ok "$name: file changed"
}
bad_oath users.oath "3: unsupported type HOTP/E" \
    "HOTP/T30 jack - $h2" "HOTP/E kate - $h3"
expect_not_in "imported from" "$out" "nothing reported imported on error"
bad_oath event.oath "2: unsupported type HOTP (event-based" "HOTP jack - $h2"
bad_oath digits9.oath "2: unsupported type HOTP/T30/9" "HOTP/T30/9 jack - $h2"
bad_oath period.oath "2: unsupported type HOTP/T10" "HOTP/T10 jack - $h2"
bad_oath totp.oath "2: unsupported type TOTP" "TOTP jack - $h2"
bad_oath password.oath "2: jack has a password in the usersfile" \
    "HOTP/T30 jack s3cretpw $h2"
expect_not_in "s3cretpw" "$out" "the password is not echoed"
bad_oath short.oath "2: the secret is 8 bytes; 10 to 64 are needed" \
    "HOTP/T30 jack - 3132333435363738"
bad_oath odd.oath "2: the secret is not hexadecimal" \
    "HOTP/T30 jack - 3132333435363738393"
bad_oath nothex.oath "2: the secret is not hexadecimal" \
    "HOTP/T30 jack - 31323334353637383930zz"
bad_oath fields.oath "2: expected TYPE USER PASSWORD SECRET" "HOTP/T30 jack -"
bad_oath name.oath "2: \"Jack\" is not a valid user name" \
    "HOTP/T30 Jack - $h2"
bad_oath dup.oath "2: okuser already on line 1" "HOTP/T30 okuser - $h2"
printf 'HOTP/T30 jack - %s\001\n' "$h2" >"$tmp/ctrl.oath"
"$ctl" totp import -f "$isec" --pam-oath "$tmp/ctrl.oath" >"$out" 2>&1
expect_rc 1 $? "control character"
expect_in "$tmp/ctrl.oath:1: control character" "$out" "control character"
"$ctl" totp import -f "$isec" --pam-oath "$tmp/absent" >"$out" 2>&1
expect_rc 1 $? "missing usersfile"
expect_in "$tmp/absent: cannot open" "$out" "missing usersfile"
printf '# nothing\n' >"$tmp/empty.oath"
"$ctl" totp import -f "$isec" --pam-oath "$tmp/empty.oath" >"$out" 2>&1
expect_rc 1 $? "usersfile without entries"

# ---- import --google-authenticator ----

g=$(rand_b32 16)
ga=$tmp/google_authenticator
{
	printf '%s\n' "$g"
	printf '" RATE_LIMIT 3 30 1700000000\n'
	printf '" WINDOW_SIZE 17\n'
	printf '" DISALLOW_REUSE 56666666\n'
	printf '" TOTP_AUTH\n'
	printf '" FANCY_OPTION\n'
	printf '12345678\n87654321\n55550000\n'
} >"$ga"
"$ctl" totp import -f "$isec" --google-authenticator lena "$ga" >"$out" 2>&1
expect_rc 0 $? "google-authenticator import"
expect_in "$ga:2: RATE_LIMIT not carried over" "$out" "RATE_LIMIT reported"
expect_in "$ga:3: WINDOW_SIZE 17 not carried over" "$out" "WINDOW_SIZE"
expect_in "$ga:4: DISALLOW_REUSE not carried over" "$out" "DISALLOW_REUSE"
expect_in "$ga:6: unknown option FANCY_OPTION not carried over" "$out" \
    "unknown option reported"
expect_in "lena: imported from $ga:1 (sha1, 6 digits, 30 s, 3 scratch codes)" \
    "$out" "scratch codes imported"
settle
verify 0 "lena: valid for the current step" "google-authenticator code" \
    -f "$isec" lena "$(oathtool --totp -b "$g")"
verify 0 "valid scratch code (number 2 of 3)" "imported scratch code" \
    -f "$isec" lena 87654321
verify 1 "wrong code" "not a scratch code" -f "$isec" lena 11112222
expect_not_in 87654321 "$isec" "imported scratch code in clear"

g=$(rand_b32 10)
printf '%s\n" STEP_SIZE 60\n" TOTP_AUTH\n' "$g" >"$ga"
"$ctl" totp import -f "$isec" --google-authenticator mona "$ga" >"$out" 2>&1
expect_rc 0 $? "google-authenticator STEP_SIZE 60, 80-bit secret"
expect_in "mona: imported from $ga:1 (sha1, 6 digits, 60 s)" "$out" \
    "STEP_SIZE carried over"
settle 60
verify 0 "mona: valid for the current step" "STEP_SIZE 60 code" \
    -f "$isec" mona "$(oathtool --totp -s 60 -b "$g")"
"$ctl" totp import -f "$isec" --google-authenticator mona "$ga" >"$out" 2>&1
expect_rc 1 $? "google-authenticator over an existing user"
expect_in "mona already has a TOTP secret" "$out" "existing user"

bad_ga() {
	name=$1 want=$2
	shift 2
	printf '%s\n' "$@" >"$tmp/$name"
	cp "$isec" "$tmp/before"
	"$ctl" totp import -f "$isec" --google-authenticator nina \
	    "$tmp/$name" >"$out" 2>&1
	expect_rc 1 $? "$name"
	expect_in "$tmp/$name:$want" "$out" "$name"
	cmp -s "$isec" "$tmp/before" && ok || not_ok "$name: file changed"
}
g=$(rand_b32 20)
bad_ga hotp.ga "2: HOTP_COUNTER: event-based HOTP cannot be imported" \
    "$g" '" HOTP_COUNTER 1'
bad_ga b32.ga "1: the secret is not base32" "0189!!" '" TOTP_AUTH'
bad_ga short.ga "1: the secret is 5 bytes" "JBSWY3DP" '" TOTP_AUTH'
bad_ga scratch.ga "3: not a scratch code" "$g" '" TOTP_AUTH' 1234
bad_ga step.ga "2: STEP_SIZE: the gateway takes 15 to 300 seconds" \
    "$g" '" STEP_SIZE 10'
bad_ga option-first.ga "1: the first line must be the base32 secret" \
    '" TOTP_AUTH' "$g"
: >"$tmp/empty.ga"
"$ctl" totp import -f "$isec" --google-authenticator nina "$tmp/empty.ga" \
    >"$out" 2>&1
expect_rc 1 $? "empty google-authenticator file"
expect_in "empty file" "$out" "empty google-authenticator file"

# ---- usage errors exit 2; --help exits 0 ----

usage_err() {
	what=$1
	shift
	"$ctl" "$@" >/dev/null 2>&1
	expect_rc 2 $? "$what"
}
usage_err "totp alone" totp
usage_err "unknown totp command" totp frobnicate
usage_err "enroll without user" totp enroll -f "$sec"
usage_err "enroll, two users" totp enroll -f "$sec" a b
usage_err "enroll, bad user" totp enroll -f "$sec" Alice
usage_err "enroll -a md5" totp enroll -f "$sec" -a md5 zoe
usage_err "enroll -d 9" totp enroll -f "$sec" -d 9 zoe
usage_err "enroll -d 5" totp enroll -f "$sec" -d 5 zoe
usage_err "enroll -p 10" totp enroll -f "$sec" -p 10 zoe
usage_err "enroll -p 301" totp enroll -f "$sec" -p 301 zoe
usage_err "enroll -i a:b" totp enroll -f "$sec" -i a:b zoe
usage_err "enroll -i ''" totp enroll -f "$sec" -i '' zoe
usage_err "enroll -x" totp enroll -f "$sec" -x zoe
usage_err "verify without code" totp verify -f "$sec" bob
usage_err "verify, letters in code" totp verify -f "$sec" bob 12ab56
usage_err "verify, short code" totp verify -f "$sec" bob 12345
usage_err "verify, long code" totp verify -f "$sec" bob 123456789
usage_err "verify -w 11" totp verify -f "$sec" -w 11 bob 123456
usage_err "reset without user" totp reset -f "$sec"
usage_err "import without a source" totp import -f "$sec"
usage_err "import with both sources" totp import -f "$sec" \
    --pam-oath "$oath" --google-authenticator bob "$ga"
usage_err "google-authenticator without file" totp import -f "$sec" \
    --google-authenticator bob
usage_err "pam-oath, bad user" totp import -f "$sec" --pam-oath "$oath" Bob
verify 1 "zoe has no TOTP secret" "nothing enrolled by usage errors" \
    -f "$sec" zoe 123456
for sub in "totp" "totp enroll" "totp verify" "totp reset" "totp import"; do
	# shellcheck disable=SC2086
	"$ctl" $sub --help >"$out" 2>&1
	expect_rc 0 $? "rampartctl $sub --help"
	expect_in "usage: rampartctl $sub" "$out" "rampartctl $sub --help"
done
"$ctl" --help >"$out" 2>&1
expect_in "totp" "$out" "rampartctl --help lists totp"

summary
