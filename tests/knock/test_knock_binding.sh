#!/bin/sh
# The binding: with "knock required", knockd tells the gateway's master
# who opened which address (BindSocket = KnockBindSocket, checked against
# KnockdUser), and the gateway lets a user in only from an address that
# user opened.  alice knocks and logs in; dave, from the very address
# alice opened, is refused until he knocks himself; kim ("knock
# optional") gets in through alice's door without a knock of her own.
set -u
. "$(dirname "$0")/lib.sh"
# knockd must run as a user of its own, not the gateway's (nobody).
KNOCKD_USER=daemon
GW_EXTRA_CONF="KnockBindSocket $T/knock.sock
KnockdUser $KNOCKD_USER"
setup_knock
for u in dave kim; do
	ssh-keygen -q -t ed25519 -N '' -C $u -f "$T/$u"
	sed "s|IdentityFile .*|IdentityFile $T/$u|" "$T/ssh_config_alice" \
	    >"$T/ssh_config_$u"
done
sed -i '1i knock required' "$T/policy.conf"
cat >>"$T/policy.conf" <<POL

user dave
	key $(cat "$T/dave.pub")
	member engineers
	totp none
	from 10.77.1.0/24

user kim
	key $(cat "$T/kim.pub")
	member engineers
	totp none
	from 10.77.1.0/24
	knock optional
POL
start_gateway
start_knockd "BindSocket $T/knock.sock"

let_in() { expect_page "$2" "$NS_C" "$T/ssh_config_$1" "$1@$GW"; }
kept_out() { expect_denied "$2" "$NS_C" "$T/ssh_config_$1" "$1@$GW"; }

expect_silent "before any knock" "$NS_C" $GW
expect_knock "alice knocks" -i "$T/alice" -u alice $GW
expect_door "alice's door" $CLI
let_in alice "alice from the address she opened"
# The master heard of the very knock knockd accepted.
kid=$(kaudit event.action=knock-accepted user.name=alice \
    --field rampart.knock.id | tail -n 1)
expect_audit "the binding, with knockd's knock id" \
    event.action=knock-binding user.name=alice source.ip=$CLI \
    rampart.knock.id="$kid"
kept_out dave "dave from the address alice opened"
expect_audit "dave's refusal" event.outcome=failure user.name=dave \
    event.reason="knock: no knock by dave from $CLI"
let_in kim "kim (knock optional) through alice's door"

expect_knock "dave knocks" -i "$T/dave" -u dave $GW
sleep 0.3
let_in dave "dave after his own knock"
n=$(kmetric rampart_knockd_bind_errors_total)
if [ "$n" = 0 ]; then ok; else not_ok "bind errors: $n"; fi
expect_knockd_alive "after the binding"

knock_summary
