#!/bin/sh
# rampartctl knock and rampart-knock against real OpenSSH tools: keys from
# "rampartctl knock keygen" work with ssh-keygen -y and ssh-add; a REAL
# ssh-agent signs knocks; each knock is exactly one 238-byte UDP datagram
# to a python3 listener on 127.0.0.1, checked by tests/knock/spa_open_tool
# (knockd's own checks: tag, seal, fields, signature); --then-connect
# relays to a loopback TCP server; and every error a user can meet says
# what is wrong.  Everything runs on loopback and is removed at exit.
set -u
. "$(dirname "$0")/lib.sh"
ctl=${RAMPARTCTL:-build/bin/rampartctl}
bindir=$(dirname "$ctl")
knock=$bindir/rampart-knock
libdir=$bindir/../lib
tmp=$(mktemp -d)
pids=""
agents=""
cleanup() {
	for a in $agents; do SSH_AGENT_PID=$a ssh-agent -k >/dev/null 2>&1; done
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
out=$tmp/out
unset RAMPART_KNOCK_CONFIG
export HOME=$tmp/home
mkdir -p "$HOME"

# ---- the test tool ----
# (linked with the libraries of the binaries under test, so with the
# sanitizers when those are the SAN=1 build's)
tool=$tmp/spa_open_tool
san=
case $libdir in */san/*) san=-fsanitize=address,undefined ;; esac
if ! ${CC:-cc} $san -D_GNU_SOURCE -Iknockd -Ipolicy -Icommon \
    tests/knock/spa_open_tool.c "$libdir/libcore.a" "$libdir/libpolicy.a" \
    -lsodium -o "$tool"; then
	not_ok "cannot build spa_open_tool"
	summary
	exit 1
fi

# ---- rampartctl knock keygen / pubkey ----
"$ctl" knock keygen --server "$tmp/server.key" >"$out" 2>&1
expect_rc 0 $? "keygen --server"
spk=$(cat "$out")
printf '%s\n' "$spk" | grep -qE '^[A-Za-z0-9+/]{43}=$' && ok ||
    not_ok "server public key: $spk"
[ "$(stat -c %a "$tmp/server.key")" = 600 ] && ok || not_ok "server.key mode"
"$ctl" knock pubkey "$tmp/server.key" >"$out" 2>&1
expect_rc 0 $? "pubkey"
[ "$(cat "$out")" = "$spk" ] && ok || not_ok "pubkey differs: $(cat "$out")"
"$ctl" knock keygen --server "$tmp/server.key" >"$out" 2>&1
expect_rc 1 $? "keygen --server over an existing file"
expect_in "exists; use --force" "$out" "keygen --server refuses"
[ "$("$ctl" knock pubkey "$tmp/server.key")" = "$spk" ] && ok ||
    not_ok "refused keygen changed the key"
cp "$tmp/server.key" "$tmp/open.key"
chmod 644 "$tmp/open.key"
"$ctl" knock pubkey "$tmp/open.key" >"$out" 2>&1
expect_rc 1 $? "pubkey of a 0644 key"
expect_in "chmod 600 $tmp/open.key" "$out" "too-open server key"
printf 'not a key\n' >"$tmp/bad.key"
chmod 600 "$tmp/bad.key"
"$ctl" knock pubkey "$tmp/bad.key" >"$out" 2>&1
expect_rc 1 $? "pubkey of a garbled key"
expect_in "not a server key file" "$out" "garbled server key"
"$ctl" knock keygen --server --force "$tmp/server2.key" >/dev/null
expect_rc 0 $? "keygen --server --force (new file)"
"$ctl" knock keygen >"$out" 2>&1
expect_rc 2 $? "keygen without FILE"
"$ctl" knock frob >"$out" 2>&1
expect_rc 2 $? "unknown knock command"
"$ctl" knock --help >"$out" 2>&1
expect_rc 0 $? "knock --help"
expect_in "keygen --server" "$out" "knock --help"

"$ctl" knock keygen "$tmp/knock" >"$out" 2>&1
expect_rc 0 $? "keygen"
[ "$(cat "$out")" = "knock-key $(cat "$tmp/knock.pub")" ] && ok ||
    not_ok "policy line \"$(cat "$out")\" is not knock-key + the .pub"
[ "$(stat -c %a "$tmp/knock")" = 600 ] && ok || not_ok "knock key mode"
ssh-keygen -y -f "$tmp/knock" >"$tmp/y" 2>&1
expect_rc 0 $? "ssh-keygen -y on a knock key"
[ "$(cut -d' ' -f1,2 "$tmp/y")" = "$(cut -d' ' -f1,2 "$tmp/knock.pub")" ] &&
    ok || not_ok "ssh-keygen -y: $(cat "$tmp/y") vs $(cat "$tmp/knock.pub")"
"$ctl" knock keygen "$tmp/knock" >"$out" 2>&1
expect_rc 1 $? "keygen over an existing key"
"$ctl" knock keygen --force "$tmp/knock2" >/dev/null 2>&1
expect_rc 0 $? "keygen --force"
key_id=$(cut -d' ' -f2 "$tmp/knock.pub" | base64 -d | sha256sum | cut -c1-64)

# ---- a real ssh-agent, and ssh-add of the knock key ----
# start_agent VAR: an agent of our own; its socket path into VAR.  Its
# askpass always says no, so keys added with -c are never confirmed.
start_agent() {
	eval "$(SSH_ASKPASS=/bin/false DISPLAY=:0 \
	    ssh-agent -s -a "$tmp/$1.sock")" >/dev/null
	agents="$agents $SSH_AGENT_PID"
	eval "$1=$tmp/$1.sock"
}
start_agent agent
main_agent=$SSH_AGENT_PID
export SSH_AUTH_SOCK=$agent
ssh-add "$tmp/knock" >"$out" 2>&1
expect_rc 0 $? "ssh-add of a knock key"
ssh-keygen -q -t ecdsa -N '' -f "$tmp/ecdsa" </dev/null
ssh-add "$tmp/ecdsa" >/dev/null 2>&1

# ---- a UDP listener ----
cat >"$tmp/listen.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
n = 0
while True:
    d, a = s.recvfrom(65536)
    n += 1
    with open("%s/dg.%d" % (sys.argv[2], n), "wb") as f:
        f.write(d)
EOF
mkdir "$tmp/dg"
python3 "$tmp/listen.py" "$tmp/udpport" "$tmp/dg" &
pids="$pids $!"
i=0
while [ ! -s "$tmp/udpport" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
uport=$(cat "$tmp/udpport")
seen=0

# expect_knock WHAT WANT_FIELDS: exactly one new 238-byte datagram that
# opens and verifies with knock.pub and has the fields WANT_FIELDS.
expect_knock() {
	sleep 0.3
	n=$(ls "$tmp/dg" | wc -l)
	if [ "$n" -ne $((seen + 1)) ]; then
		not_ok "$1: $((n - seen)) datagrams, wanted 1"
		seen=$n
		return
	fi
	seen=$n
	dg=$tmp/dg/dg.$n
	[ "$(stat -c %s "$dg")" = 238 ] && ok ||
	    not_ok "$1: datagram of $(stat -c %s "$dg") bytes"
	"$tool" "$tmp/server.key" "${3:-$tmp/knock.pub}" "$dg" >"$out" 2>&1
	expect_rc 0 $? "$1: spa_open_tool"
	expect_in "ok user=alice $2" "$out" "$1"
	expect_in "key_id=${4:-$key_id}" "$out" "$1: key_id"
}
# run_knock WANT_RC ARGS...: rampart-knock at the listener
run_knock() {
	want=$1
	shift
	"$knock" -S "$spk" -p "$uport" "$@" >"$out" 2>&1
	rc=$?
}

# The agent's first ed25519 key (the knock key; ecdsa is skipped).
run_knock 0 -u alice 127.0.0.1
expect_rc 0 $rc "knock through the agent"
expect_knock "agent knock" "port=22 addr=source skew="
# A key file, with no agent at all.
env -u SSH_AUTH_SOCK "$knock" -S "$spk" -p "$uport" -u alice \
    -i "$tmp/knock" 127.0.0.1 >"$out" 2>&1
expect_rc 0 $? "knock with a key file"
expect_knock "key file knock" "port=22 addr=source"
# The agent key that a .pub names; an explicit address; another port.
run_knock 0 -u alice -i "$tmp/knock.pub" -a 203.0.113.7 -P 2222 localhost
expect_rc 0 $rc "knock with -i FILE.pub and -a"
expect_knock "explicit knock" "port=2222 addr=203.0.113.7"
run_knock 0 -4 -u alice -a 2001:db8::7 -v 127.0.0.1
expect_rc 0 $rc "knock for an IPv6 address"
expect_in "knock sent to 127.0.0.1 port $uport" "$out" "-v"
expect_knock "IPv6 explicit knock" "port=22 addr=2001:db8::7"
# A key file that ssh-keygen wrote.
ssh-keygen -q -t ed25519 -N '' -f "$tmp/sshkey" </dev/null
sk_id=$(cut -d' ' -f2 "$tmp/sshkey.pub" | base64 -d | sha256sum | cut -c1-64)
run_knock 0 -u alice -i "$tmp/sshkey" 127.0.0.1
expect_rc 0 $rc "knock with an ssh-keygen key file"
expect_knock "ssh-keygen key" "port=22" "$tmp/sshkey.pub" "$sk_id"
# Each knock is new bytes: the same inputs never make the same datagram.
cmp -s "$tmp/dg/dg.1" "$tmp/dg/dg.2" && not_ok "two knocks identical" || ok
# The datagram is stale for a knockd whose clock is 5 minutes ahead.
"$tool" "$tmp/server.key" "$tmp/knock.pub" "$tmp/dg/dg.1" \
    $(($(date +%s) + 300)) >"$out" 2>&1
expect_rc 1 $? "a 5-minute-old knock"
expect_in "no pre-check tag matched" "$out" "old knock refused at the tag"

# ---- the configuration file ----
mkdir -p "$HOME/.config/rampart"
printf '%s\n' "$spk" >"$tmp/server.pub"
cat >"$HOME/.config/rampart/knock.conf" <<EOF
# the defaults of this test
ServerKey $tmp/server.pub
User alice
Identity $tmp/knock
KnockPort $uport
EOF
env -u SSH_AUTH_SOCK "$knock" 127.0.0.1 >"$out" 2>&1
expect_rc 0 $? "knock from ~/.config/rampart/knock.conf"
expect_knock "configured knock" "port=22"
printf 'User bob\nFrobnicate yes\n' >"$tmp/bad.conf"
RAMPART_KNOCK_CONFIG=$tmp/bad.conf "$knock" 127.0.0.1 >"$out" 2>&1
expect_rc 1 $? "bad config"
expect_in "$tmp/bad.conf:2: unknown keyword \"Frobnicate\"" "$out" \
    "bad config keyword"
RAMPART_KNOCK_CONFIG=$tmp/missing.conf "$knock" 127.0.0.1 >"$out" 2>&1
expect_rc 1 $? "missing config"
expect_in "$tmp/missing.conf: cannot open" "$out" "missing config"
rm "$HOME/.config/rampart/knock.conf"

# ---- errors ----
# expect_err WHAT NEEDLE ARGS...: exit 1 with NEEDLE, and no datagram.
expect_err() {
	what=$1 needle=$2
	shift 2
	"$knock" "$@" >"$out" 2>&1
	expect_rc 1 $? "$what"
	expect_in "$needle" "$out" "$what"
	grep -q '^rampart-knock: ' "$out" && ok ||
	    not_ok "$what: no \"rampart-knock: \" prefix"
	sleep 0.2
	n=$(ls "$tmp/dg" | wc -l)
	[ "$n" -eq "$seen" ] && ok || not_ok "$what: a datagram was sent"
	seen=$n
}
base="-S $spk -p $uport -u alice"
unset SSH_AUTH_SOCK
expect_err "no agent" "no ssh-agent: SSH_AUTH_SOCK is not set" \
    $base 127.0.0.1
export SSH_AUTH_SOCK=$tmp/nowhere.sock
expect_err "no agent socket" \
    "cannot reach ssh-agent at $tmp/nowhere.sock" $base 127.0.0.1
python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$tmp/dead.sock"
SSH_AUTH_SOCK=$tmp/dead.sock
expect_err "dead agent socket" "cannot reach ssh-agent at $tmp/dead.sock \
(SSH_AUTH_SOCK): Connection refused" $base 127.0.0.1
start_agent empty
SSH_AUTH_SOCK=$empty
expect_err "empty agent" \
    "ssh-agent holds no ssh-ed25519 key (0 keys of other types)" \
    $base 127.0.0.1
ssh-add "$tmp/ecdsa" >/dev/null 2>&1
expect_err "agent without ed25519" \
    "ssh-agent holds no ssh-ed25519 key (1 key of other types)" \
    $base 127.0.0.1
# A key that needs a confirmation nobody gives: the agent refuses.
ssh-add -c "$tmp/sshkey" >/dev/null 2>&1
expect_err "key not in the agent" \
    "the key of $tmp/knock.pub is not in ssh-agent" \
    $base -i "$tmp/knock.pub" 127.0.0.1
expect_err "agent refuses" "ssh-agent refused to sign the knock" \
    $base -i "$tmp/sshkey.pub" 127.0.0.1
SSH_AUTH_SOCK=$agent
ssh-keygen -q -t ed25519 -N 'secret words' -f "$tmp/enc" </dev/null
expect_err "encrypted key" "load it into ssh-agent instead" \
    $base -i "$tmp/enc" 127.0.0.1
expect_err "ecdsa key file" "knocking needs an ssh-ed25519 key" \
    $base -i "$tmp/ecdsa" 127.0.0.1
expect_err "garbled server key" "unknown server key \"garbage\"" \
    -S garbage -p "$uport" -u alice 127.0.0.1
printf 'NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYl!=\n' >"$tmp/garbled.pub"
expect_err "garbled server key file" "$tmp/garbled.pub: garbled server key" \
    -S "$tmp/garbled.pub" -p "$uport" -u alice 127.0.0.1
expect_err "no server key" "no server key" -p "$uport" -u alice 127.0.0.1
expect_err "unresolvable host" \
    "host \"no-such-host.invalid\" does not resolve" \
    $base no-such-host.invalid
expect_err "bad user" "user name \"Alice\" is not valid" \
    -S "$spk" -p "$uport" -u Alice 127.0.0.1
expect_err "loopback -a" "-a: 127.0.0.1 cannot be opened" \
    $base -a 127.0.0.1 127.0.0.1
"$knock" >"$out" 2>&1
expect_rc 2 $? "no HOST"
expect_in "usage: rampart-knock" "$out" "usage"
"$knock" -p 0 127.0.0.1 >"$out" 2>&1
expect_rc 2 $? "-p 0"
"$knock" -w 3 127.0.0.1 >"$out" 2>&1
expect_rc 2 $? "-w without --then-connect"

# ---- --then-connect ----
# A port nothing listens on: every connect is refused; -w 1 gives up.
closed=$(python3 -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
t0=$(date +%s)
"$knock" -w 1 $base --then-connect 127.0.0.1 "$closed" </dev/null \
    >"$out" 2>&1
expect_rc 1 $? "closed port"
t1=$(date +%s)
expect_in "rampart-knock: port $closed on 127.0.0.1 never opened" "$out" \
    "closed port"
[ $((t1 - t0)) -le 3 ] && ok || not_ok "-w 1 took $((t1 - t0)) s"
# One knock went out before the attempts.
expect_knock "then-connect knock" "port=$closed"

# A TCP server that answers in upper case what it read, then closes.
cat >"$tmp/echo.py" <<'EOF'
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
c, a = s.accept()
data = b""
while True:
    d = c.recv(65536)
    if not d:
        break
    data += d
c.sendall(data.upper())
c.close()
EOF
python3 "$tmp/echo.py" "$tmp/tcpport" &
pids="$pids $!"
i=0
while [ ! -s "$tmp/tcpport" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
tport=$(cat "$tmp/tcpport")
head -c 300000 /dev/urandom | base64 >"$tmp/payload"
"$knock" $base --then-connect 127.0.0.1 "$tport" <"$tmp/payload" \
    >"$tmp/relayed" 2>"$out"
expect_rc 0 $? "then-connect relay"
tr 'a-z' 'A-Z' <"$tmp/payload" | cmp -s - "$tmp/relayed" && ok ||
    not_ok "relayed data differs ($(wc -c <"$tmp/relayed") bytes back)"
expect_knock "relay knock" "port=$tport"

summary
