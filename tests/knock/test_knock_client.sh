#!/bin/sh
# The client as users run it: the real OpenSSH client with
# "ProxyCommand rampart-knock --then-connect %h %p" and a real ssh-agent
# holding alice's key, for -W and for -J to the target's own sshd, and
# with only a knock.conf.  A knock key from `rampartctl knock keygen`
# knocks (after SIGHUP) but never logs in.  The errors a user meets are
# named.
set -u
. "$(dirname "$0")/lib.sh"
setup_knock
KNOCK_OPEN_TIME=3s
start_gateway
start_knockd
start_agent "$T/alice"
FP_ALICE=$(ssh-keygen -l -f "$T/alice.pub" | cut -d' ' -f2)

cat >"$T/ssh_config_knock" <<CFG
Host gw
	HostName $GW
	User alice
	ProxyCommand $KNOCK_BIN -S $T/server.pub -p $KPORT -u %r --then-connect %h %p
Host gwconf
	HostName $GW
	User alice
	ProxyCommand $KNOCK_BIN --then-connect %h %p
CFG
# The tests' client settings, but only the agent's key: no IdentityFile,
# nothing on disk for ssh to read.
grep -v 'Identit' "$T/ssh_config" >>"$T/ssh_config_knock"
assh() {
	in_ns "$NS_C" env SSH_AUTH_SOCK="$AGENT_SOCK" HOME="$T/home" \
	    timeout 60 ssh -F "$T/ssh_config_knock" "$@"
}
mkdir -p "$T/home"
kpage() { printf 'GET / HTTP/1.0\r\n\r\n' | assh -W $TGT:80 "$1" 2>&1; }
wait_closed() {	# the door of the last knock has timed out
	i=0
	while door_has $CLI && [ $i -lt 100 ]; do
		i=$((i + 1))
		sleep 0.1
	done
}

expect_silent "before any knock" "$NS_C" $GW
out=$(kpage gw)
case "$out" in
*"hello from the private network"*) ok ;;
*) not_ok "ProxyCommand with the agent, -W: $out" ;;
esac
expect_kaudit "the knock was signed by alice's SSH key, through the agent" \
    event.action=knock-accepted user.name=alice \
    rampart.key.fingerprint="$FP_ALICE"

wait_closed
acc=$(kmetric rampart_knockd_accepted_total)
out=$(assh -J gw root@$TGT 2>&1)
if [ "$out" = rampart-target-ok ]; then ok; else not_ok "-J: $out"; fi
expect_kmetric "-J knocked again" rampart_knockd_accepted_total $((acc + 1))

# Only ~/.config/rampart/knock.conf: the server key, knockd's port and
# the user.
wait_closed
mkdir -p "$T/home/.config/rampart"
printf 'ServerKey %s\nKnockPort %s\nUser alice\n' "$T/server.pub" $KPORT \
    >"$T/home/.config/rampart/knock.conf"
out=$(kpage gwconf)
case "$out" in
*"hello from the private network"*) ok ;;
*) not_ok "ProxyCommand with knock.conf only: $out" ;;
esac

# A knock key: made by rampartctl, listed as knock-key, picked up on
# SIGHUP; it opens the door but is no login key.
"$CTL_BIN" knock keygen "$T/kk" >"$T/kk.line" 2>&1
expect_rc 0 $? "knock keygen"
expect_in "knock-key ssh-ed25519 " "$T/kk.line" "keygen prints the policy line"
if [ "$(stat -c %a "$T/kk")" = 600 ]; then ok; else
	not_ok "the knock key file is mode $(stat -c %a "$T/kk")"
fi
if [ "$(ssh-keygen -y -f "$T/kk" | cut -d' ' -f2)" = \
    "$(cut -d' ' -f2 "$T/kk.pub")" ]; then ok; else
	not_ok "ssh-keygen -y disagrees with $T/kk.pub"
fi
"$CTL_BIN" knock keygen "$T/kk" >/dev/null 2>&1
[ $? != 0 ] && ok || not_ok "keygen overwrote $T/kk without --force"
pk=$("$CTL_BIN" knock pubkey "$T/server.key" 2>&1)
if [ "$pk" = "$SERVER_PK" ]; then ok; else not_ok "knock pubkey: $pk"; fi
sed -i "/^user alice/a\\
	$(grep '^knock-key ' "$T/kk.line")" "$T/policy.conf"
wait_closed
expect_knock "the knock key before SIGHUP is unknown" -i "$T/kk" -u alice $GW
sleep 0.5
expect_no_door "the knock key before SIGHUP" $CLI
kill -HUP "$KNOCKD_PID" "$GW_PID"
sleep 1
expect_knock "the knock key after SIGHUP" -i "$T/kk" -u alice $GW
expect_door "the knock key after SIGHUP" $CLI
FP_KK=$(ssh-keygen -l -f "$T/kk.pub" | cut -d' ' -f2)
expect_kaudit "the knock key's knock" event.action=knock-accepted \
    user.name=alice rampart.key.fingerprint="$FP_KK"
out=$(in_ns "$NS_C" timeout 30 ssh -F "$T/ssh_config_stranger" -i "$T/kk" \
    alice@$GW true 2>&1)
case "$out" in
*"Permission denied"*) ok ;;
*) not_ok "alice logged in with a knock key: $out" ;;
esac

# The errors a user meets: exit 1 and a message that names the problem.
err() {	# err WHAT WANT_RC NEEDLE [ENV...] -- ARGS...
	what=$1 rc=$2 needle=$3
	shift 3
	envs=""
	while [ "$1" != -- ]; do envs="$envs $1"; shift; done
	shift
	in_ns "$NS_C" env -u SSH_AUTH_SOCK HOME="$T/home" $envs timeout 30 \
	    "$KNOCK_BIN" "$@" >"$T/err.out" 2>&1
	got=$?
	expect_rc "$rc" $got "$what"
	if grep -q '^rampart-knock: ' "$T/err.out" &&
	    grep -qi -- "$needle" "$T/err.out"; then ok; else
		not_ok "$what: no \"rampart-knock: ...$needle\" in:" \
		    "$(cat "$T/err.out")"
	fi
}
S="-S $T/server.pub -p $KPORT -u alice"
err "no agent" 1 "SSH_AUTH_SOCK" -- $S $GW
err "agent gone" 1 "agent" SSH_AUTH_SOCK=$T/nothing.sock -- $S $GW
in_ns "$NS_C" ssh-agent -D -a "$T/agent2.sock" >/dev/null 2>&1 &
PIDS="$PIDS $!"
ssh-keygen -q -t ecdsa -N '' -f "$T/ecdsa"
i=0
until [ -S "$T/agent2.sock" ] || [ $i -gt 50 ]; do i=$((i + 1)); sleep 0.1; done
SSH_AUTH_SOCK=$T/agent2.sock ssh-add "$T/ecdsa" >/dev/null 2>&1
err "no ed25519 key in the agent" 1 "ed25519" SSH_AUTH_SOCK=$T/agent2.sock -- \
    $S $GW
err "garbled server key" 1 "server" -- -S 'AAAA!' -p $KPORT -u alice \
    -i "$T/alice" $GW
err "host that does not resolve" 1 "no-such-host.invalid" -- $S -i "$T/alice" \
    no-such-host.invalid
err "port never opens" 1 "port 2222 on $GW never opened" -- $S -i "$T/alice" \
    -w 2 --then-connect $GW 2222
ssh-keygen -q -t ed25519 -N 'a passphrase' -f "$T/locked"
err "encrypted key file" 1 "ssh-agent" -- $S -i "$T/locked" $GW
in_ns "$NS_C" "$KNOCK_BIN" >"$T/err.out" 2>&1
expect_rc 2 $? "no host: usage"

knock_summary
