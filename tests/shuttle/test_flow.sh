#!/bin/sh
# Flow control from the client side: sshuttle (nat) uploads 64 MiB to a
# destination that reads nothing until told to.  The gateway must not
# take the upload into memory meanwhile (its session child grows by at
# most a few MiB: PROTOCOL.sshuttle section 11 caps what it holds), the
# session must stay alive, and once the destination reads, every byte
# arrives (SHA-256).
set -u
. "$(dirname "$0")/lib.sh"
setup_shuttle
no_route_yet
start_gateway
make_blob "$T/blob64"
want=$BLOB_SHA

in_ns "$NS_T" $SHQ sink $TGT 5004 "$T/sink.out" "$T/gate" \
    >"$T/sink.ready" 2>&1 &
PIDS="$PIDS $!"
wait_for 50 grep -qs ready "$T/sink.ready" || not_ok "the sink did not start"

start_shuttle flow "$NS_C" alice nat 10.77.2.0/24 || { summary; exit 1; }
pid=$SH_PID
out=$(in_ns "$NS_C" curl -sS -m 10 http://$TGT/ 2>&1)
expect_same "GET before the upload" "$out" "hello from the private network"
child=$(audit event.action=sshuttle-start user.name=alice \
    --field process.pid | tail -n 1)
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$child/status"; }
before=$(rss)

in_ns "$NS_C" timeout 120 sh -c "nc -N $TGT 5004 <'$T/blob64'" &
up=$!
# Long enough for an unbounded buffer to swallow all 64 MiB.
sleep 6
during=$(rss)
grown=$((during - before))
if [ "$grown" -lt 16384 ]; then ok; else
	not_ok "the session child grew by $grown KiB with a stalled" \
	    "destination (from $before KiB)"
fi
kill -0 $up 2>/dev/null && ok || not_ok "the upload ended while stalled"
kill -0 $child 2>/dev/null && ok || not_ok "the session child is gone"

touch "$T/gate"
wait $up
expect_rc 0 $? "the upload's nc"
wait_for 100 test -s "$T/sink.out"
expect_same "64 MiB after the stall" "$(cat "$T/sink.out")" "$want 67108864"
out=$(in_ns "$NS_C" curl -sS -m 10 http://$TGT/ 2>&1)
expect_same "GET after the upload" "$out" "hello from the private network"
expect_audit "the upload's close record" event.action=channel-close \
    user.name=alice destination.port=5004 source.bytes=67108864
stop_shuttle $pid "$NS_C" nat
expect_no_sanitizer_report
summary
