#!/bin/sh
# "make demo" works: tests/demo/demo.sh, run non-interactively under a
# name of its own (so that a demo someone left running is not touched),
# exits 0, says OK for every step and FAILED for none, shows port 22
# silent until a knock and the door knockd opened, the TOTP enrolment and
# the code prompt answered, sshuttle through the bastion (a page fetched
# with plain curl, a denied destination's empty reply, the audit records),
# a reused and a wrong code refused, and leaves nothing behind.  Then KEEP=1 leaves it running and "demo.sh down" removes it,
# and a demo stopped by a signal cleans up too.
set -u
. "$(dirname "$0")/../ctl/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: $(basename "$0") needs root (network namespaces)"
	exit 0
fi
DEMO="$(dirname "$0")/../demo/demo.sh"
BUILD=${BUILD:-build}
NAME=rdemo$$
STEPS=15
OUT=$(mktemp /tmp/rampart-demo-test.XXXXXX)
COPY=$BUILD/$NAME-audit.jsonl
export DEMO_NAME=$NAME BUILD NO_COLOR=1
trap 'sh "$DEMO" down >/dev/null 2>&1; rm -f "$OUT" "$COPY"' EXIT
trap 'exit 1' INT TERM HUP

# nothing_left WHAT: no namespace, /etc/netns entry, work directory or
# process of the demo remains.
nothing_left() {
	left=""
	for ns in $NAME-laptop $NAME-bastion $NAME-private; do
		[ -e "/run/netns/$ns" ] && left="$left netns:$ns"
		[ -e "/etc/netns/$ns" ] && left="$left /etc/netns/$ns"
	done
	[ -e "/run/$NAME" ] && left="$left /run/$NAME"
	for f in /proc/[0-9]*/cmdline; do
		tr '\0' ' ' 2>/dev/null <"$f" | grep -q "/run/$NAME/" &&
		    left="$left pid:$(basename "$(dirname "$f")")"
	done
	if [ -z "$left" ]; then ok; else not_ok "$1: left behind:$left"; fi
}

show_out() { sed 's/^/    /' "$OUT"; }

# 1. The whole demo.
timeout 300 sh "$DEMO" </dev/null >"$OUT" 2>&1
rc=$?
expect_rc 0 $rc "demo exit status"
n_steps=$(grep -c '^[0-9][0-9]*\. ' "$OUT")
n_ok=$(grep -c '^   OK  ' "$OUT")
if [ "$n_steps" = $STEPS ] && [ "$n_ok" = $STEPS ]; then ok; else
	not_ok "demo: $n_ok OK of $n_steps steps, wanted $STEPS"; fi
if grep -q FAILED "$OUT"; then not_ok "demo printed FAILED"; else ok; fi
for want in \
    "OK      the laptop cannot reach app.internal; the bastion can" \
    "OK      rampartctl policy check: the policy is valid" \
    "bastion# rampartctl totp enroll -f totp.secrets alice" \
    "Scan this QR code" \
    "otpauth://totp/Rampart:alice?secret=" \
    "Scratch codes, each good for one login" \
    "oathtool --totp -b " \
    "OK      totp.secrets holds alice's secret (root:nogroup, 0640)" \
    "OK      the gateway listens on 198.51.100.1:22 (pid" \
    ", running as nobody)" \
    "| nc: connect to bastion (198.51.100.1) port 22 (tcp) timed out" \
    "elements = { 198.51.100.10 . 22 timeout 30s expires" \
    "OK      port 22 was silent; after alice's knock, knock4 holds 198.51.100.10 . 22" \
    "/rampart-knock -S /run/$NAME/knock_server.pub -u %r -i /run/$NAME/%r_key --then-connect %h %p" \
    "| (alice@bastion) Verification code: " \
    "| Master running (pid=" \
    "OK      ssh -J reached app.internal's sshd after the key and code " \
    "OK      the web page came through the -L forward" \
    "OK      the web page came through the SOCKS proxy, by name" \
    "Remote: policy: db.internal:5432 not allowed for ci: no rule matches" \
    "OK      all three refused; ssh -v gives the reason" \
    "laptop\$ sshuttle --ssh-cmd 'ssh -F ssh_config' -r alice@bastion 10.20.0.0/24" \
    "| c : Connected to server." \
    "| -A sshuttle-12300 -d 10.20.0.0/24 -p tcp -j REDIRECT --to-ports 12300" \
    "| curl: (52) Empty reply from server" \
    " s: rampart: TCP 10.20.0.20:5432: policy: 10.20.0.20:5432 not allowed for alice: no rule matches" \
    "sshuttle-start      success  alice" \
    "channel-open        success  alice   -> 10.20.0.10:80" \
    "channel-open        failure  alice   -> 10.20.0.20:5432" \
    "OK      sshuttle: curl reached app.internal directly; db.internal: exit 52; audited" \
    "OK      no shell: the text says what alice may reach" \
    "| alice@bastion: Permission denied (keyboard-interactive)." \
    "reason: code reused (step " \
    "reason: wrong code" \
    "OK      the reused code and a wrong one: Permission denied" \
    "OK      allowed (exit 0), denied (exit 1), denied (exit 1)" \
    "| Exit request sent." \
    "OK      every line is a valid record" \
    "knock-accepted      success  alice   from 198.51.100.10:" \
    "knock-accepted      success  ci      from 198.51.100.10:" \
    "Nothing is left behind" \
    "all $STEPS steps OK."
do
	expect_in "$want" "$OUT" "demo output"
done
# The code refused as reused is the one accepted at the login.
code=$(sed -n 's/.*| (alice@bastion) Verification code: \([0-9]\{6\}\)$/\1/p' \
    "$OUT" | head -n 1)
expect_in "laptop\$ CODE=${code:-none} ssh -F ssh_config -S none" "$OUT" \
    "the replayed code"
n=$(python3 "$(dirname "$0")/auditq.py" "$COPY" --count 2>&1)
if [ "${n:-0}" -gt 20 ] 2>/dev/null; then ok; else
	not_ok "audit copy $COPY: $n"; fi
nothing_left "demo"
[ "$fail" -eq 0 ] || show_out

# 2. KEEP=1 leaves it running, with the gateway listening; down removes it.
KEEP=1 timeout 300 sh "$DEMO" </dev/null >"$OUT" 2>&1
rc=$?
expect_rc 0 $rc "KEEP=1 exit status"
expect_in "The demo is still running (KEEP=1)" "$OUT" "KEEP=1"
expect_in "demo.sh down" "$OUT" "KEEP=1"
expect_in "ssh -F ssh_config -J alice@bastion root@app.internal" "$OUT" "KEEP=1"
expect_in "from  oathtool --totp -b " "$OUT" "KEEP=1"
expect_in "sshuttle --ssh-cmd 'ssh -F ssh_config' -r alice@bastion 10.20.0.0/24" \
    "$OUT" "KEEP=1"
expect_in "SSH_ASKPASS=/run/$NAME/phone SSH_ASKPASS_REQUIRE=force" "$OUT" "KEEP=1"
if ip netns exec "$NAME-bastion" ss -Hltn "sport = :22" | grep -q LISTEN
then ok; else not_ok "KEEP=1: the gateway is not listening"; fi
if ip netns exec "$NAME-bastion" nft list set inet rampart knock4 \
    >/dev/null 2>&1
then ok; else not_ok "KEEP=1: knockd's table is not there"; fi
sh "$DEMO" down >"$OUT" 2>&1
expect_rc 0 $? "down exit status"
nothing_left "down"
sh "$DEMO" down >"$OUT" 2>&1
expect_rc 0 $? "down when nothing runs"
expect_in "No demo named $NAME is running" "$OUT" "second down"

# 3. A signal in the middle: exit 130, and everything is gone.
timeout --preserve-status -s TERM 1 sh "$DEMO" </dev/null >"$OUT" 2>&1
rc=$?
case $rc in
130) expect_in "Interrupted: cleaning up" "$OUT" "TERM" ;;
0) echo "note: the demo finished within a second; nothing to interrupt" ;;
*) not_ok "TERM: exit $rc"; show_out ;;
esac
nothing_left "TERM"

summary
