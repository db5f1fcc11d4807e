#!/bin/sh
# Garbage does not keep a valid knock out: 10 000 random datagrams of
# random sizes (a tenth of them exactly 238 bytes, so they reach the tag
# check) with a valid knock in their middle, a real knock right after
# them from the other network, and a real knock while another 10 000 are
# on their way.  Every door opens, knockd lives and answers nothing, and
# its metrics count every datagram under the right reason.
set -u
. "$(dirname "$0")/lib.sh"
KNOCK_TEST_LIMIT=240
setup_knock
start_knockd

capture_knock "$T/k1" -i "$T/alice" -u alice
d0=$(kmetric rampart_knockd_datagrams_total)
in_ns "$NS_C" $KNOCKQ garbage $GW $KPORT 10000 --knock "$T/k1" --at 5000 \
    --listen 1 >"$T/garbage.json"
expect_rc 0 $? "sending garbage"
knock_ns "$NS_O" -i "$T/ci" -u ci $GW_O >"$T/knock.out" 2>&1
expect_rc 0 $? "ci knocks right after the garbage"
expect_door "the knock among the garbage" $CLI
expect_door "the knock right after the garbage" $OTHER
expect_knockd_alive "after 10 000 garbage datagrams"

n238=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["size238"])' \
    "$T/garbage.json")
nother=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["other"])' \
    "$T/garbage.json")
[ $((n238 + nother)) = 10000 ] && [ "$n238" -ge 500 ] && ok ||
    not_ok "garbage sizes: $(cat "$T/garbage.json")"
# Not one reply, to the garbage or to the knock among it.
case "$(cat "$T/garbage.json")" in
*'"replies": 0}'*) ok ;;
*) not_ok "knockd answered: $(cat "$T/garbage.json")" ;;
esac
# Every datagram read is counted, the garbage under size and tag only.
expect_kmetric "datagrams counted" rampart_knockd_datagrams_total \
    $((d0 + 10002))
expect_kmetric "accepted" rampart_knockd_accepted_total 2
sleep 1.5	# one more metrics interval: nothing more may come
for m in "rampart_knockd_datagrams_total $((d0 + 10002))" \
    "rampart_knockd_dropped_total{reason=\"size\"} $nother" \
    "rampart_knockd_dropped_total{reason=\"tag\"} $n238" \
    "rampart_knockd_accepted_total 2"; do
	set -- $m
	v=$(kmetric "$1")
	if [ "$v" = "$2" ]; then ok; else not_ok "$1 is $v, want $2"; fi
done

# A real knock while garbage is still arriving from the other network.
in_ns "$NS_O" $KNOCKQ garbage $GW_O $KPORT 10000 --seed 9 >/dev/null &
GP=$!
PIDS="$PIDS $GP"
sleep 0.1
expect_knock "alice knocks during a flood" -i "$T/alice" -u alice -a 10.77.1.7 \
    $GW
expect_door "the knock during the flood" 10.77.1.7
wait $GP
expect_kmetric "the second flood counted" rampart_knockd_datagrams_total \
    $((d0 + 20003))
expect_knockd_alive "after 20 000 garbage datagrams"

# The cheap drops are audited as one summary, not one by one (at most one
# summary a minute).
i=0
until [ "$(kaudit event.action=knock-drop-summary --count 2>/dev/null)" \
    -ge 1 ] 2>/dev/null || [ $i -gt 650 ]; do
	i=$((i + 1))
	sleep 0.1
done
s=$(kaudit event.action=knock-drop-summary --field rampart.drops.size |
    head -n 1)
if [ -n "$s" ] && [ "$s" != None ] && [ "$s" -gt 0 ]; then ok; else
	not_ok "no knock-drop-summary with rampart.drops.size: \"$s\""
fi
n=$(kaudit event.action=knock-rejected --count)
if [ "$n" = 0 ]; then ok; else
	not_ok "garbage audited one by one: $n knock-rejected records"
fi

knock_summary
