#!/bin/sh
# Knock bindings (docs/PROTOCOL.knock section 12): the master hears "user U
# opened address A until T" on KnockBindSocket, from KnockdUser only, and a
# user with "knock required" then logs in only from an address bound to
# that user.  Here a python script plays knockd: it sends the 112-byte
# messages as KnockdUser (daemon), and also as the wrong users and with
# garbage, which the master must drop without missing a beat.  Without a
# KnockBindSocket such users are refused (fail closed), with a warning.
set -u
. "$(dirname "$0")/lib.sh"
setup_all

KD=daemon			# plays rampart-knockd's user
SOCK=$T/run/knock.sock
# The system's python: a per-user one (pyenv) may be out of other users'
# reach.
PY=/usr/bin/python3
# alice must knock and may come from both client networks, so that only
# the knock decides; dave must knock too; ci need not.
new='& 10.77.3.0/24\n\tknock required'
sed -i "/^user alice/,/^\$/ s|^\tfrom 10.77.1.0/24\$|$new|" "$T/policy.conf"
cat >>"$T/policy.conf" <<POL

user dave
	key $(cat "$T/stranger.pub")
	member engineers
	totp none
	from 10.77.0.0/16
	knock required
POL
# Refusals must not penalise the sources: each case stands alone.
GW_EXTRA_CONF="PerSourcePenaltyExemptList 10.77.0.0/16
KnockBindSocket $SOCK
KnockdUser $KD"
start_gateway

cat >"$T/send.py" <<'PY'
# send.py SOCKET bind USER FAMILY ADDR SECONDS KNOCKID_HEX [TYPE]
# send.py SOCKET garbage | fds
import os, socket, struct, sys, time

def binding(user, fam, addr, secs, kid, typ=1):
    af = socket.AF_INET if fam == 4 else socket.AF_INET6
    u = user.encode()
    return struct.pack(">IBBH16s32sQ32s16s", typ, fam, len(u), 22,
                       socket.inet_pton(af, addr), u,
                       int(time.time()) + secs, b"\xab" * 32,
                       bytes.fromhex(kid))

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
path, mode = sys.argv[1], sys.argv[2]
if mode == "bind":
    a = sys.argv[3:]
    s.sendto(binding(a[0], int(a[1]), a[2], int(a[3]), a[4],
                     int(a[5]) if len(a) > 5 else 1), path)
elif mode == "garbage":
    good = binding("dave", 4, "10.77.1.2", 30, "ee" * 16)
    for d in (b"", b"x", good[:111], good + b"\0", os.urandom(112),
              os.urandom(2000), good[:4] + b"\x05" + good[5:],
              good[:24] + b"Dave" + good[28:],
              good[:12] + b"\x01" + good[13:]):
        s.sendto(d, path)
    for _ in range(500):
        s.sendto(os.urandom(112), path)
elif mode == "fds":
    # A good binding with descriptors attached: refused, and closed.
    s.connect(path)
    fd = os.open("/dev/null", os.O_RDONLY)
    for _ in range(200):
        socket.send_fds(s, [binding("dave", 4, "10.77.1.2", 30,
                                    "ef" * 16)], [fd, fd, fd])
PY

# send AS ARGS...: the script as user AS (uid and primary group).
send() {
	as=$1
	shift
	setpriv --reuid="$as" --regid="$(id -gn "$as")" --clear-groups \
	    $PY "$T/send.py" "$SOCK" "$@"
}

admitted() {	# admitted LABEL NS USER KEY
	out=$(web "$2" "$3" "$4")
	case "$out" in
	*"hello from the private network"*) ok ;;
	*) not_ok "$1: not admitted: $out" ;;
	esac
}

refused() {	# refused LABEL NS USER KEY ADDR
	out=$(web "$2" "$3" "$4")
	case "$out" in
	*"Permission denied (publickey)"*) ok ;;
	*) not_ok "$1: not refused: $out" ;;
	esac
	expect_audit "$1" event.action=auth-publickey event.outcome=failure \
	    user.name="$3" event.reason="knock: no knock by $3 from $5"
}

# The socket: there, 0660, knockd's group, and closed to everyone else.
if [ -S "$SOCK" ] && [ "$(stat -c '%a %G' "$SOCK")" = "660 $KD" ]; then
	ok
else
	not_ok "socket: $(ls -l "$SOCK" 2>&1)"
fi
if send nobody bind alice 4 $CLI 30 "00$(printf '%030d' 0)" 2>/dev/null
then
	not_ok "a user outside knockd's group could write to the socket"
else
	ok
fi

# No knock: alice is refused at the key, with the reason.
refused "alice without a knock" "$NS_C" alice alice $CLI

# alice knocks from the client network: the master records and audits it.
ID_A=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
send $KD bind alice 4 $CLI 30 $ID_A || not_ok "send as $KD failed"
expect_audit "binding audited" event.action=knock-binding \
    event.outcome=success user.name=alice source.ip=$CLI \
    rampart.knock.id=$ID_A destination.port=22
admitted "alice from the address she opened" "$NS_C" alice alice
expect_audit "login names the knock" event.action=auth-publickey \
    event.outcome=success user.name=alice rampart.knock.id=$ID_A
# Not from elsewhere, and her door is not dave's.
refused "alice from another address" "$NS_O" alice alice $OTHER
refused "dave from the address alice opened" "$NS_C" dave stranger $CLI
# A user without "knock required" needs no knock.
admitted "ci without a knock" "$NS_O" ci ci

# Bindings from anyone but KnockdUser are dropped: root, and a process
# that is in knockd's group but not knockd's user.
$PY "$T/send.py" "$SOCK" bind dave 4 $CLI 30 "01$(printf '%030d' 0)"
setpriv --reuid=nobody --regid=$KD --clear-groups \
    $PY "$T/send.py" "$SOCK" bind dave 4 $CLI 30 "02$(printf '%030d' 0)"
# Garbage, an unknown type, an expired binding, an IPv4-mapped IPv6
# address as family 6 (never valid), all from the right user.
send $KD garbage
send $KD bind dave 4 $CLI 30 "03$(printf '%030d' 0)" 2
send $KD bind dave 4 $CLI -5 "04$(printf '%030d' 0)"
send $KD bind dave 6 ::ffff:$CLI 30 "05$(printf '%030d' 0)"
nfd=$(ls /proc/"$GW_PID"/fd | wc -l)
send $KD fds
sleep 0.5
if [ "$(ls /proc/"$GW_PID"/fd | wc -l)" = "$nfd" ]; then ok; else
	not_ok "passed descriptors kept: $nfd, now $(ls /proc/"$GW_PID"/fd |
	    wc -l)"
fi
if grep -q "knock binding dropped: wrong sender (uid 0," "$T/gateway.log" &&
    grep -q "knock binding dropped: wrong sender (uid 65534," \
    "$T/gateway.log"; then ok; else
	not_ok "wrong senders not logged"
fi
if grep -q "knock binding dropped: not 112 bytes" "$T/gateway.log"; then ok
else not_ok "garbage not logged"; fi
# Rate limited: over 500 bad datagrams, a handful of lines.
n=$(grep -c "knock binding dropped" "$T/gateway.log")
if [ "$n" -le 5 ]; then ok; else not_ok "$n lines for bad datagrams"; fi
if [ "$(audit event.action=knock-binding user.name=dave --count)" = 0 ]
then ok; else not_ok "a bad datagram became a binding"; fi
refused "dave after bad datagrams" "$NS_C" dave stranger $CLI
# The master is still there and still serving.
if kill -0 "$GW_PID" 2>/dev/null; then ok; else not_ok "the master died"; fi
admitted "alice after bad datagrams" "$NS_C" alice alice

# IPv6 and a second binding: dave knocks for his address.
send $KD bind dave 4 $CLI 30 "06$(printf '%030d' 0)"
expect_audit "dave's binding" event.action=knock-binding user.name=dave \
    source.ip=$CLI
admitted "dave after his own knock" "$NS_C" dave stranger
send $KD bind dave 6 2001:db8::7 30 "07$(printf '%030d' 0)"
expect_audit "an IPv6 binding" event.action=knock-binding user.name=dave \
    source.ip=2001:db8::7

# A reload keeps the bindings.
kill -HUP "$GW_PID"
expect_audit "reloaded" event.action=policy-reload event.outcome=success
admitted "alice after a reload" "$NS_C" alice alice

# Fail closed: no KnockBindSocket, users who must knock cannot log in,
# and the gateway says why at start and on reload.
kill "$GW_PID"
i=0
while kill -0 "$GW_PID" 2>/dev/null && [ $i -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
: >"$T/gateway.log"
GW_EXTRA_CONF="PerSourcePenaltyExemptList 10.77.0.0/16"
start_gateway
w="WARNING: 2 users with 'knock required' but no KnockBindSocket"
if grep -q "$w" "$T/gateway.log"; then ok; else
	not_ok "no warning at start"
fi
kill -HUP "$GW_PID"
expect_audit "reloaded" event.action=policy-reload event.outcome=success
if [ "$(grep -c "$w" "$T/gateway.log")" = 2 ]; then ok; else
	not_ok "no warning on reload"
fi
refused "alice without a KnockBindSocket" "$NS_C" alice alice $CLI
admitted "ci without a KnockBindSocket" "$NS_O" ci ci

summary
