#!/bin/sh
# A client killed mid-transfer: two sshuttle sessions download 64 MiB at
# once, alice's (method nat, client namespace) and ci's (method nft, the
# other namespace).  kill -9 of alice's sshuttle and its ssh halfway
# through: the gateway's master lives on, alice's session process and its
# upstream connection go away, the close is audited, and ci's download
# carries on to a matching SHA-256; afterwards both can connect again.
set -u
. "$(dirname "$0")/lib.sh"
setup_shuttle
no_route_yet
start_gateway
make_blob "$T/www/blob64"
want=$BLOB_SHA
base=$(gw_procs)
# A source that sends 64 MiB at a fixed rate, so a download is still in
# flight at the target whatever the path buffers (sshuttle's client reads
# the mux into memory as fast as the gateway sends).
in_ns "$NS_T" $SHQ slowsrv $TGT 5003 "$T/www/blob64" 4194304 \
    >"$T/slowsrv.out" 2>&1 &
PIDS="$PIDS $!"
wait_for 50 grep -qs ready "$T/slowsrv.out" || not_ok "slowsrv did not start"
# Its established connections: one per download.
upstreams() {
	in_ns "$NS_T" ss -Htn state established "sport = :5003" | wc -l
}
upstreams_are() { [ "$(upstreams)" -eq "$1" ]; }

start_shuttle survivor "$NS_O" ci nft 10.77.2.0/24 || { summary; exit 1; }
spid=$SH_PID
with_one=$(gw_procs)
start_shuttle victim "$NS_C" alice nat 10.77.2.0/24 || { summary; exit 1; }
vpid=$SH_PID
with_two=$(gw_procs)
if [ "$with_two" -gt "$with_one" ] && [ "$with_one" -gt "$base" ]; then ok
else not_ok "gateway processes: $base, $with_one, $with_two"; fi

# Both mid-transfer for a while (64 MiB at 4 MiB/s).
in_ns "$NS_O" timeout 120 sh -c \
    "nc -d $TGT 5003 | sha256sum >'$T/survivor.sum'" &
sdl=$!
in_ns "$NS_C" timeout 120 sh -c "nc -d $TGT 5003 >'$T/victim.out'" &
vdl=$!
sleep 3
have=$(stat -c %s "$T/victim.out" 2>/dev/null || echo 0)
if [ "$have" -gt 1000000 ] && [ "$have" -lt 67108864 ] &&
    kill -0 $vdl 2>/dev/null; then ok
else not_ok "alice's download is not mid-transfer: $have bytes"; fi
expect_same "downloads from the target" "$(upstreams)" 2

vssh=$(pgrep -P $vpid -x ssh)
if [ -n "$vssh" ]; then ok; else not_ok "no ssh under sshuttle $vpid"; fi
kill -9 $vpid $vssh
kill $vdl 2>/dev/null

# The gateway notices, audits and cleans up alice's session.
expect_audit "alice's session closed" event.action=connection-close \
    user.name=alice
expect_audit "alice's interrupted channel closed" \
    event.action=channel-close user.name=alice \
    rampart.channel.type=sshuttle destination.port=5003
wait_for 50 gw_procs_are "$with_one"
expect_same "gateway processes after the kill" "$(gw_procs)" "$with_one"
wait_for 50 upstreams_are 1
expect_same "downloads from the target after the kill" "$(upstreams)" 1
kill -0 $GW_PID 2>/dev/null && ok || not_ok "the master died"

# ci's transfer was still running, and ends correct.
kill -0 $sdl 2>/dev/null && ok || not_ok "ci's download ended early"
wait $sdl
expect_same "ci's 64 MiB sha256" "$(cut -d' ' -f1 "$T/survivor.sum")" \
    "$want"
out=$(in_ns "$NS_O" curl -sS -m 10 http://$TGT/ 2>&1)
expect_same "ci's new connection" "$out" "hello from the private network"
expect_audit "ci's transfer closed with its bytes" \
    event.action=channel-close user.name=ci destination.port=5003 \
    source.bytes=0 destination.bytes=67108864

# alice can come back once her client's firewall helper has undone its
# rules (the helper outlives kill -9 and cleans up on EOF).
wait_for 50 no_rules "$NS_C" nat
start_shuttle again "$NS_C" alice nat 10.77.2.0/24 || { summary; exit 1; }
out=$(in_ns "$NS_C" curl -sS -m 10 http://$TGT/ 2>&1)
expect_same "alice again" "$out" "hello from the private network"
stop_shuttle $SH_PID "$NS_C" nat
stop_shuttle $spid "$NS_O" nft
wait_for 50 gw_procs_are "$base"
expect_same "gateway processes at the end" "$(gw_procs)" "$base"
expect_no_sanitizer_report
summary
