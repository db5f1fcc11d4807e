#!/bin/sh
# The NAT override: a knock with -a opens only the signed address.  ci
# knocks from the client network for the other network's address (as a
# client behind a NAT names its public address): the other network gets
# in, the knocking address stays closed.  The address is signed: the same
# knock with one address bit changed on the way is refused.
set -u
. "$(dirname "$0")/lib.sh"
setup_knock
start_gateway
start_knockd

expect_knock "ci knocks for $OTHER" -i "$T/ci" -u ci -a $OTHER $GW
expect_door "the signed address" $OTHER
expect_no_door "the knocking address" $CLI
expect_silent "the knocking address" "$NS_C" $GW
expect_answered "the signed address" "$NS_O" $GW_O
expect_kaudit "explicit knock audited" event.action=knock-accepted \
    user.name=ci source.ip=$CLI rampart.knock.address=$OTHER \
    rampart.knock.mode=explicit

expect_page "ci from the signed address" "$NS_O" "$T/ssh_config_ci" ci@$GW_O

# What rampart-knock sends for -a: address type 4 and the address.
capture_knock "$T/k" -i "$T/ci" -u ci -a 10.77.3.3
$KNOCKQ decode -K "$T/server.key" "$T/k" >"$T/k.json"
case "$(cat "$T/k.json")" in
*'"addr": "10.77.3.3"'*'"addr_raw": "0a4d0303000000000000000000000000"'*'"addr_type": 4'*) ok ;;
*) not_ok "the explicit knock on the wire: $(cat "$T/k.json")" ;;
esac
# Changed on the way to 10.77.3.2 (the last bit of the address) and sealed
# again: the signature no longer matches.
rb=$(rejected_count signature)
$KNOCKQ reseal -K "$T/server.key" "$T/k" "$T/k2" --inner-flip $((8 * 32 + 7))
send_dgram "$NS_C" $GW "$T/k2"
expect_rejected "the address changed on the way" signature "$rb"
expect_no_door "the changed address" 10.77.3.3
# The knock as signed still opens its own address.
send_dgram "$NS_C" $GW "$T/k"
expect_door "the knock as signed" 10.77.3.3

knock_summary
