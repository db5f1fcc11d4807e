#!/bin/sh
# The second factor with the real OpenSSH client: the key, then a code
# from `oathtool --totp` typed at "Verification code: " (through
# SSH_ASKPASS).  Wrong codes, a replayed code, the next step's code, a
# scratch code used twice, lockout and recovery (the test build's clock
# hook moves the gateway's clock instead of sleeping), key-only accounts,
# a secrets file with loose permissions, and ssh -J end to end.
set -u
. "$(dirname "$0")/lib.sh"
setup_all
# alice now needs a code; ci stays a key-only account.
sed -i '/^user alice/,/^$/ s/^\ttotp none$/\ttotp required/' "$T/policy.conf"
sed -i '/^user alice/,/^$/ s/^\tfrom 10.77.1.0\/24$//' "$T/policy.conf"

SECRETS=$T/totp.secrets
"$CTL_BIN" totp enroll -f "$SECRETS" alice >"$T/enroll.out" 2>&1
expect_rc 0 $? "enroll alice"
secret=$(sed -n 's/.*otpauth:[^ ]*secret=\([A-Z2-7]*\).*/\1/p' \
    "$T/enroll.out" | head -n 1)
scratch=$(sed -n '/Scratch codes/,$p' "$T/enroll.out" | grep -Eo '\b[0-9]{8}\b' |
    head -n 1)
[ -n "$secret" ] && ok || not_ok "no secret in: $(cat "$T/enroll.out")"
chown root:nogroup "$SECRETS"
chmod 0640 "$SECRETS"

echo 0 >"$T/clock"
export RAMPART_TEST_CLOCK="$T/clock"
GW_EXTRA_CONF="TotpSecrets $SECRETS
TotpState $T/state/totp.state
PerSourceMaxStartups 10
PerSourcePenaltyExemptList 10.77.1.0/24"
start_gateway "$GW_TEST_BIN" -X

offset() { echo "$1" >"$T/clock"; }
code_at() {	# code_at OFFSET: the code for the gateway's clock
	oathtool --totp -b "$secret" \
	    --now "$(date -u -d "@$(( $(date +%s) + $1 ))" '+%Y-%m-%d %H:%M:%S UTC')"
}
# -J starts a second ssh that sees only -F, not -o: a config that prompts.
sed 's/BatchMode yes/BatchMode no/' "$T/ssh_config" >"$T/ssh_config_totp"
echo "	NumberOfPasswordPrompts 1" >>"$T/ssh_config_totp"
cat >"$T/askpass" <<ASK
#!/bin/sh
cat "$T/code"
ASK
chmod 755 "$T/askpass"

# login CODE [ssh args...]: fetch the page through -W answering with CODE.
login() {
	echo "$1" >"$T/code"
	shift
	printf 'GET / HTTP/1.0\r\n\r\n' | in_ns "$NS_C" env \
	    SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
	    timeout 30 ssh -F "$T/ssh_config_totp" "$@" -W $TGT:80 alice@$GW \
	    2>&1
}
let_in() { case "$2" in *"hello from the private network"*) ok ;;
	*) not_ok "$1: $2" ;; esac; }
kept_out() { case "$2" in *"hello from the private network"*) not_ok "$1" ;;
	*) ok ;; esac; }

# Wait for the start of a step, so the codes below cannot straddle one.
while [ $(( $(date +%s) % 30 )) -gt 20 ]; do sleep 1; done

c=$(code_at 0)
let_in "key + code" "$(login "$c")"
expect_audit "totp success" event.action=auth-totp event.outcome=success \
    user.name=alice
kept_out "replayed code" "$(login "$c")"
expect_audit "replay refused" event.action=auth-totp event.outcome=failure \
    user.name=alice
if audit event.action=auth-totp event.outcome=failure --field event.reason |
    grep -qi "reuse\|replay"; then ok; else not_ok "replay reason"; fi
offset 30
let_in "next step's code" "$(login "$(code_at 30)")"

# Only the key is not enough, and a wrong code is refused.
kept_out "wrong code" "$(login 000000)"
kept_out "no code" "$(login '')"

# Scratch code: once.
let_in "scratch code" "$(login "$scratch")"
kept_out "scratch code again" "$(login "$scratch")"

# Lockout: three wrong codes, then even the right one is refused ...
offset 60
for i in 1 2 3; do login 123456 >/dev/null; done
kept_out "locked out" "$(login "$(code_at 60)")"
if audit event.action=auth-totp event.outcome=failure --field event.reason |
    grep -qi "locked"; then ok; else not_ok "lockout reason"; fi
# ... until the lock time has passed (30 s on the gateway's clock).
offset 120
let_in "after the lock" "$(login "$(code_at 120)")"

# ssh -J with key + code, to the target's own sshd.
offset 150
echo "$(code_at 150)" >"$T/code"
res=$(in_ns "$NS_C" env SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force \
    DISPLAY=:0 timeout 30 ssh -F "$T/ssh_config_totp" -J alice@$GW \
    root@$TGT 2>&1)
if [ "$res" = rampart-target-ok ]; then ok; else not_ok "-J with TOTP: $res"; fi

# The key-only account needs no code from its network ...
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | in_ns "$NS_O" timeout 30 \
    ssh -F "$T/ssh_config_ci" -W $TGT:80 ci@$GW_O 2>&1)
let_in "key-only account" "$out"
# ... and is refused from anywhere else.
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | in_ns "$NS_C" timeout 30 \
    ssh -F "$T/ssh_config_ci" -W $TGT:80 ci@$GW 2>&1)
case "$out" in *"hello from"*) not_ok "ci from the wrong network" ;;
*) ok ;; esac

# A secrets file others can read stops the gateway from starting.
kill -TERM $GW_PID
sleep 1
chmod 0644 "$SECRETS"
in_ns "$NS_G" "$GW_BIN" -t -f "$T/gateway.conf" >"$T/t.out" 2>&1
expect_rc 1 $? "-t with a world-readable secrets file"
expect_in "$SECRETS" "$T/t.out" "the message names the file"
expect_in "chmod" "$T/t.out" "the message says how to fix it"

summary
