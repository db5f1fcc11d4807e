#!/bin/sh
# IPv6: a knock sent over IPv6 opens the knock6 element of its source and
# nothing else (not the same client's IPv4 address, not the other
# network); the SSH login then works over IPv6.  An explicit address
# crosses families: a knock over IPv6 opens an IPv4 address.
set -u
. "$(dirname "$0")/lib.sh"
GW_EXTRA_CONF="ListenAddress [$GW6]:22
ListenAddress [$GW6_O]:22"
setup_knock
# alice may come from her IPv6 network too.
sed -i "/^user alice/,/^\$/ s|^\tfrom 10.77.1.0/24\$|&\n\tfrom fd77:1::/64|" \
    "$T/policy.conf"
grep -q 'from fd77:1::/64' "$T/policy.conf" && ok || not_ok "policy edit"
start_gateway
start_knockd

expect_silent "IPv6 before any knock" "$NS_C" $GW6
expect_silent "IPv4 before any knock" "$NS_C" $GW

expect_knock "alice knocks over IPv6" -6 -i "$T/alice" -u alice $GW6
expect_door "the knock6 element" $CLI6
expect_answered "IPv6 after the knock" "$NS_C" $GW6
expect_no_door "her IPv4 address" $CLI
expect_silent "her IPv4 address" "$NS_C" $GW
expect_silent "the other network over IPv6" "$NS_O" $GW6_O
expect_kaudit "accepted over IPv6" event.action=knock-accepted \
    user.name=alice source.ip=$CLI6 rampart.knock.address=$CLI6 \
    rampart.knock.mode=source

expect_page "ssh over IPv6 through the door" "$NS_C" "$T/ssh_config" \
    alice@$GW6
expect_audit "the gateway saw IPv6" event.action=auth-publickey \
    event.outcome=success user.name=alice source.ip=$CLI6

# Over IPv6, for an IPv4 address (a dual-stack client's explicit mode).
expect_knock "alice knocks over IPv6 for IPv4" -6 -i "$T/alice" -u alice \
    -a $CLI $GW6
expect_door "the knock4 element" $CLI
expect_answered "IPv4 after the explicit knock" "$NS_C" $GW
expect_kaudit "explicit across families" event.action=knock-accepted \
    source.ip=$CLI6 rampart.knock.address=$CLI rampart.knock.mode=explicit
# And over IPv4, for the other network's IPv6 address (ci's from is
# 10.77.3.0/24 only, so that is refused; alice's is not hers either).
rb=$(rejected_count from)
knock -4 -i "$T/alice" -u alice -a $OTHER6 $GW >/dev/null 2>&1
expect_rejected "alice for an IPv6 address outside her from" from "$rb"
expect_no_door "outside alice's from" $OTHER6

knock_summary
