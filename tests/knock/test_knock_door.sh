#!/bin/sh
# The door: before a knock a SYN to the gateway's SSH port gets no answer;
# after alice's knock it connects from her address, and still not from the
# other network.  A repeated knock refreshes the element.  When OpenTime
# has passed new connections are dropped again, while an SSH session
# opened before (a -L forward) stays up and still carries data.  SIGTERM
# removes the table knockd made.
set -u
. "$(dirname "$0")/lib.sh"
setup_knock
KNOCK_OPEN_TIME=4s
start_gateway
start_knockd

# Closed to everybody: the SYN is dropped, not refused.
expect_silent "before any knock" "$NS_C" $GW
expect_silent "before any knock, other network" "$NS_O" $GW_O
expect_no_door "before any knock" $CLI

expect_knock "alice knocks" -i "$T/alice" -u alice $GW
t1=$(date +%s%N)
expect_door "after alice's knock" $CLI
expect_answered "after alice's knock" "$NS_C" $GW
expect_silent "the other network after alice's knock" "$NS_O" $GW_O
expect_no_door "the other network after alice's knock" $OTHER
expect_kaudit "knock accepted" event.action=knock-accepted \
    event.outcome=success user.name=alice source.ip=$CLI \
    rampart.knock.address=$CLI rampart.knock.mode=source destination.port=22
expect_kmetric "accepted counted" rampart_knockd_accepted_total 1

# A real login through the open door.
expect_page "alice through the door" "$NS_C" "$T/ssh_config" alice@$GW

# A second knock, 2.5 s after the first, renews the element instead of
# adding another: it is still there 4.8 s after the first (OpenTime 4s).
ms() { echo $(( ($(date +%s%N) - t1) / 1000000 )); }
while [ "$(ms)" -lt 2500 ]; do sleep 0.1; done
expect_knock "alice knocks again" -i "$T/alice" -u alice $GW
expect_kmetric "second knock accepted" rampart_knockd_accepted_total 2
n=$(door_count)
if [ "$n" = 1 ]; then ok; else not_ok "two knocks: $n elements, want 1"; fi
while [ "$(ms)" -lt 4800 ]; do sleep 0.1; done
expect_door "4.8 s after the first knock, 2.3 s after the second" $CLI

# An SSH session with a forward, opened while the door is open ...
in_ns "$NS_C" timeout 120 ssh -F "$T/ssh_config" -N \
    -L 127.0.0.1:18080:$TGT:80 alice@$GW >"$T/fwd.log" 2>&1 &
FWD=$!
PIDS="$PIDS $FWD"
wait_listen "$NS_C" 18080 && ok || not_ok "the -L forward never listened"
fetch() { in_ns "$NS_C" curl -s -m 10 http://127.0.0.1:18080/; }
case "$(fetch)" in
*"hello from the private network"*) ok ;;
*) not_ok "the forward before the timeout" ;;
esac

# ... the door closes by itself after OpenTime ...
i=0
while door_has $CLI && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.1
done
expect_no_door "after OpenTime" $CLI
expect_silent "a new connection after OpenTime" "$NS_C" $GW
out=$(in_ns "$NS_C" timeout 20 ssh -F "$T/ssh_config" -o ConnectTimeout=3 \
    alice@$GW true 2>&1)
case "$out" in
*"timed out"*) ok ;;
*) not_ok "ssh after OpenTime: $out" ;;
esac

# ... and the session opened before still works, with new data.
if kill -0 $FWD 2>/dev/null; then ok; else
	not_ok "the SSH session died when the door closed: $(cat "$T/fwd.log")"
fi
case "$(fetch)" in
*"hello from the private network"*) ok ;;
*) not_ok "the forward after the timeout carried nothing" ;;
esac
kill $FWD 2>/dev/null

# SIGTERM: knockd goes and takes its table with it (NftCreate yes).
stop_knockd
if kill -0 "$KNOCKD_PID" 2>/dev/null; then not_ok "knockd ignored SIGTERM"
else ok; fi
if in_ns "$NS_G" nft list table inet rampart >/dev/null 2>&1; then
	not_ok "the table stayed after SIGTERM"
else ok; fi

knock_summary
