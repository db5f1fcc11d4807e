#!/bin/sh
# What knockd refuses, each from the other network so that an accepted
# copy would open 10.77.3.2: an exact replay of a captured knock, the same
# knock in a new seal (its nonce replayed), a 5-minute-old knock, a stale
# one that still passes the tag, knocks signed by a key the user does not
# have or for a user who does not exist, flipped bits in every layer, an
# expired account, a port that is no door, an address outside the user's
# "from", and after a restart the knock accepted before it.  Each is
# counted under its reason, the authenticated ones are audited, no door
# opens, and knockd lives on; the untouched knock still opens afterwards.
set -u
. "$(dirname "$0")/lib.sh"
setup_knock
# kim may knock from both networks, so only knockd's checks stand in the
# way.
ssh-keygen -q -t ed25519 -N '' -C kim -f "$T/kim"
cat >>"$T/policy.conf" <<POL

user kim
	key $(cat "$T/kim.pub")
	totp none
	from 10.77.0.0/16
	allow $TGT port 22
POL
start_knockd

# neg WHAT REASON FILE: FILE, sent from the other network, is dropped with
# REASON, opens nothing, and knockd lives on.
neg() {
	before=$(dropped "$2")
	acc=$(kmetric rampart_knockd_accepted_total)
	send_dgram "$NS_O" $GW_O "$3"
	expect_dropped "$1" "$2" "$before" "$acc"
}
expect_dropped() {	# expect_dropped WHAT REASON BEFORE ACCEPTED_BEFORE
	expect_kmetric "$1 (reason $2)" \
	    "rampart_knockd_dropped_total{reason=\"$2\"}" $(($3 + 1))
	expect_no_door "$1" $OTHER
	a=$(kmetric rampart_knockd_accepted_total)
	if [ "$a" = "$4" ]; then ok; else
		not_ok "$1: accepted_total went from $4 to $a"
	fi
	expect_knockd_alive "$1"
}
# neg_audited WHAT REASON FILE: neg, and a knock-rejected record.
neg_audited() {
	rbefore=$(rejected_count "$2")
	neg "$@"
	expect_rejected "$1" "$2" "$rbefore"
}

# What rampart-knock sends, caught on its way: a well-formed knock.
capture_knock "$T/k1" -i "$T/kim" -u kim
$KNOCKQ decode -K "$T/server.key" --pub "$T/kim.pub" "$T/k1" >"$T/k1.json"
now=$(date +%s)
python3 - "$T/k1.json" "$now" <<'PY' && ok || not_ok "k1: $(cat "$T/k1.json")"
import json, sys
d = json.load(open(sys.argv[1]))
now = int(sys.argv[2])
assert d["user"] == "kim" and d["user_pad_zero"] and d["port"] == 22
assert d["addr_type"] == 0 and d["addr_raw"] == "00" * 16
assert d["version"] == 1 and d["flags"] == 0 and d["tag_ok"] and d["sig_ok"]
assert abs(d["ts"] - now) <= 3
PY
# It opens the door for its sender ...
send_dgram "$NS_C" $GW "$T/k1"
expect_door "the captured knock" $CLI
expect_kmetric "the captured knock" rampart_knockd_accepted_total 1

# ... but neither the same bytes again ...
neg "exact replay" duplicate "$T/k1"
# ... nor the same knock in a fresh seal (a new tag, the same nonce).
$KNOCKQ reseal -K "$T/server.key" "$T/k1" "$T/k1r"
neg_audited "replayed nonce" replay "$T/k1r"
expect_kaudit "replay names the sender" event.action=knock-rejected \
    source.ip=$OTHER user.name=kim

# Old knocks: five minutes old dies at the tag; one just outside the
# window but inside a candidate bucket is opened, verified, and stale.
$KNOCKQ craft -S "$T/server.pub" -i "$T/kim" -u kim --age 300 -o "$T/old"
neg "five minutes old" tag "$T/old"
while :; do
	now=$(date +%s)
	r=$(( (now - 30) % 64 ))
	[ $r -ge 1 ] && [ $r -le 50 ] && break
	sleep 1
done
$KNOCKQ craft -S "$T/server.pub" -i "$T/kim" -u kim \
    --ts $((now - 30 - r)) -o "$T/stale"
neg_audited "outside the window" stale "$T/stale"
skew=$(kaudit event.action=knock-rejected --field rampart.knock.skew |
    grep -- '^-' | tail -n 1)
if [ -n "$skew" ] && [ "$skew" -le -31 ]; then ok; else
	not_ok "the stale record's skew: \"$skew\""
fi

# Keys: one kim does not have, a user who does not exist.
before=$(dropped unknown_key)
rbefore=$(rejected_count unknown_key)
acc=$(kmetric rampart_knockd_accepted_total)
knock_ns "$NS_O" -i "$T/stranger" -u kim $GW_O >"$T/knock.out" 2>&1
expect_rc 0 $? "rampart-knock with a key kim does not have (it cannot know)"
expect_dropped "a key kim does not have" unknown_key "$before" "$acc"
expect_rejected "a key kim does not have" unknown_key "$rbefore"
expect_kaudit "the claimed user" event.action=knock-rejected \
    rampart.knock.claimed_user=kim source.ip=$OTHER
$KNOCKQ craft -S "$T/server.pub" -i "$T/kim" -u mallory -o "$T/mallory"
neg_audited "no such user" unknown_key "$T/mallory"

# Flipped bits, in every layer.  k2 itself is sent last and opens.
capture_knock "$T/k2" -i "$T/kim" -u kim
$KNOCKQ flip "$T/k2" "$T/f" 3
neg "a flipped tag bit" tag "$T/f"
$KNOCKQ flip "$T/k2" "$T/f" $((8 * 200 + 1))
neg "a flipped ciphertext bit" tag "$T/f"
$KNOCKQ flip "$T/k2" "$T/f" $((8 * 200 + 1)) --retag "$T/server.pub"
neg_audited "a flipped ciphertext bit, tag made again" seal "$T/f"
$KNOCKQ flip "$T/k2" "$T/f" $((8 * 20 + 6)) --retag "$T/server.pub"
neg_audited "a flipped ephemeral key bit, tag made again" seal "$T/f"
$KNOCKQ flip "$T/k2" "$T/f" $((8 * 50)) --retag "$T/server.pub"
neg_audited "a flipped Poly1305 bit, tag made again" seal "$T/f"
$KNOCKQ reseal -K "$T/server.key" "$T/k2" "$T/f" --inner-flip $((8 * 12 + 5))
neg_audited "a flipped nonce bit, sealed again" signature "$T/f"
$KNOCKQ reseal -K "$T/server.key" "$T/k2" "$T/f" --inner-flip $((8 * 140))
neg_audited "a flipped signature bit, sealed again" signature "$T/f"
$KNOCKQ reseal -K "$T/server.key" "$T/k2" "$T/f" --inner-flip 15
neg_audited "a reserved flag, sealed again" flags "$T/f"
$KNOCKQ reseal -K "$T/server.key" "$T/k2" "$T/f" --inner-flip 7
neg_audited "version 0, sealed again" version "$T/f"
$KNOCKQ reseal -K "$T/server.key" "$T/k2" "$T/f" --inner-flip $((8 * 28))
neg_audited "address type 128, sealed again" malformed "$T/f"
# A sweep: every 13th bit flipped (from a random start), each kept out.
t0=$(dropped tag)
s0=$(dropped seal)
acc=$(kmetric rampart_knockd_accepted_total)
in_ns "$NS_O" $KNOCKQ sweep $GW_O $KPORT "$T/k2" --retag "$T/server.pub" \
    --first $(($(date +%s) % 13)) >"$T/sweep.json"
nt=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tag"])' \
    "$T/sweep.json")
ns=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seal"])' \
    "$T/sweep.json")
expect_kmetric "swept bits, at the tag" \
    'rampart_knockd_dropped_total{reason="tag"}' $((t0 + nt))
expect_kmetric "swept bits, tag made again, at the seal" \
    'rampart_knockd_dropped_total{reason="seal"}' $((s0 + ns))
expect_no_door "after the sweep" $OTHER
a=$(kmetric rampart_knockd_accepted_total)
[ "$a" = "$acc" ] && ok || not_ok "the sweep: accepted_total $acc -> $a"
expect_knockd_alive "after the sweep"
# Over a hundred seal failures in a second or two: the audit keeps to its
# rate (ten knock-rejected records a second) and counts what it left out.
expect_kmetric "knock-rejected records left out" \
    rampart_knockd_audit_suppressed_total 1
n=$(wc -l <"$T/knockd.log")
[ "$n" -lt 200 ] && ok || not_ok "knockd's log grew to $n lines"

send_dgram "$NS_O" $GW_O "$T/k2"
expect_door "the untouched knock after the flipped ones" $OTHER
expect_kaudit "the untouched knock" event.action=knock-accepted \
    user.name=kim source.ip=$OTHER rampart.knock.address=$OTHER

# Policy: an expired account, a port that is no door, an address alice
# could not log in from.  Nothing opens for the client network's second
# address either.
rbefore=$(rejected_count expired)
knock -i "$T/bob" -u bob $GW >/dev/null 2>&1
expect_rejected "bob's account has expired" expired "$rbefore"
rbefore=$(rejected_count port)
knock -i "$T/kim" -u kim -P 2222 $GW >/dev/null 2>&1
expect_rejected "port 2222 is no door" port "$rbefore"
expect_no_door "port 2222" $CLI 2222
rbefore=$(rejected_count from)
knock -i "$T/alice" -u alice -a 10.77.1.99 $GW >/dev/null 2>&1
knock -i "$T/alice" -u alice -a 10.77.3.99 $GW >/dev/null 2>&1
expect_rejected "alice for an address outside her from" from "$rbefore"
expect_no_door "outside alice's from" 10.77.3.99
expect_door "inside alice's from" 10.77.1.99
expect_knockd_alive "after every rejection"

# A restarted knockd has an empty replay cache; it refuses the knock it
# accepted before, because that knock is older than its start.
sleep 1
stop_knockd
start_knockd
expect_no_door "after the restart" $OTHER
neg_audited "the accepted knock after a restart" stale "$T/k2"

knock_summary
