#!/bin/sh
# The exec request and the mux from below: plain ssh sends the exec string
# and bootstrap Debian's sshuttle sent (captured), then frames crafted by
# shuttleq.py.
#   - a command that is not sshuttle's is still refused and audited;
#   - the sync header, exactly one ROUTES, PONG for PING, a GET spoken in
#     frames, late frames for a closed channel dropped;
#   - bad input (bad magic, unknown command, channel reuse while open, a
#     connect on channel 0, a second bootstrap) and bad bootstraps (a first
#     module not "sshuttle", a malformed record, more than 1 MiB) end that
#     session: " s: rampart:" on stderr, exit status 1, a request-refused
#     record; the gateway serves the next session, and a real sshuttle.
set -u
. "$(dirname "$0")/lib.sh"
setup_shuttle
no_route_yet
start_gateway
capture_bootstrap
N=$(echo "$EXEC" | sed -n 's/.*read(\([0-9]*\)).*/\1/p')

# Not sshuttle: refused as before.
refused_exec() {	# refused_exec LABEL COMMAND
	out=$(cssh alice@$GW "$2" </dev/null 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && ! echo "$out" | grep -q "uid=\|SSHUTTLE"; then ok
	else not_ok "$1: ran: rc $rc $out"; fi
	expect_audit "$1: audited" event.action=request-refused \
	    rampart.request=exec "event.reason=$2"
}
refused_exec "plain command" "id"
refused_exec "python, not sshuttle" "python3 -c 'import os; os.system(\"id\")'"
refused_exec "sshuttle's string with a command after it" "$EXEC; id"
refused_exec "sshuttle's string with N out of bounds" \
    "$(echo "$EXEC" | sed 's/read([0-9]*)/read(99999999)/')"

# A good session: sync, one ROUTES, PONG; a GET in frames; late frames
# for a channel that is gone are dropped, and the session goes on.
mux good 3 0:PING:hello 1:TCP_CONNECT:2,$TGT,80 \
    "1:TCP_DATA:GET / HTTP/1.0\\n\\n" 1:TCP_EOF 0:PING:after-get
frames good >"$T/good.frames"
expect_rc 0 $? "good: the gateway's output parses"
expect_same "good: ROUTES frames" "$(grep -c '^0 ROUTES ' "$T/good.frames")" 1
expect_in "0 PONG 5 b'hello'" "$T/good.frames" "good: PONG"
expect_in "0 PONG 9 b'after-get'" "$T/good.frames" "good: second PONG"
$SHQ parse "$T/good.out" --data 1 >"$T/good.page"
expect_in "hello from the private network" "$T/good.page" "good: the page"
expect_in "1 TCP_EOF 0" "$T/good.frames" "good: EOF from upstream"
expect_rc 0 $MUX_RC "good: exit status"
expect_audit "good: the GET audited" event.action=channel-open \
    event.outcome=success rampart.channel.type=sshuttle destination.port=80

mux late 2 0:PING:one 9:TCP_DATA:late 9:TCP_EOF 9:TCP_STOP_SENDING \
    0:PING:two
frames late >"$T/late.frames"
expect_in "0 PONG 3 b'two'" "$T/late.frames" "late frames: PING after them"
expect_rc 0 $MUX_RC "late frames: exit status"

refusals() {
	audit event.action=request-refused rampart.request=sshuttle --count
}
more_refusals() { [ "$(refusals)" -gt "$1" ]; }

# bad LABEL WANT_SYNC REASON SPEC...: the session ends with an error
# whose reason (on stderr and in the record) has REASON in it.
bad() {
	label=$1 sync=$2 reason=$3
	shift 3
	before=$(refusals)
	mux bad 3 "$@"
	expect_rc 1 $MUX_RC "$label: exit status"
	if grep -q " s: rampart: " "$T/bad.err"; then ok; else
		not_ok "$label: stderr: $(cat "$T/bad.err")"; fi
	frames bad >"$T/bad.frames"
	rc=$?
	if [ "$sync" = yes ]; then
		expect_rc 0 $rc "$label: output up to the error parses"
	else
		expect_rc 2 $rc "$label: no sync header"
	fi
	if wait_for 30 more_refusals "$before"; then ok; else
		not_ok "$label: no request-refused record for sshuttle"; fi
	r=$(audit event.action=request-refused rampart.request=sshuttle \
	    --field event.reason | tail -n 1)
	case "$r" in
	*"$reason"*) ok ;;
	*) not_ok "$label: reason \"$r\", want \"$reason\"" ;;
	esac
	expect_in "$reason" "$T/bad.err" "$label: the reason on stderr"
	kill -0 $GW_PID 2>/dev/null && ok || not_ok "$label: master died"
}
bad "bad magic" yes "bad frame magic" 0:PING:x raw:58580000420100017a
bad "unknown command" yes "unknown command 0x4299" 0:0x4299:x
bad "channel reused while open" yes "reused" 1:TCP_CONNECT:2,$TGT,80 \
    1:TCP_CONNECT:2,$TGT,80
bad "connect on channel 0" yes "control channel" 0:TCP_CONNECT:2,$TGT,80
bad "a second bootstrap" yes "bad frame magic" "file:$T/boot.bin"
bad "malformed TCP_CONNECT" yes "bad port" 3:TCP_CONNECT:2,$TGT,0
bad "ROUTES from the client" yes "ROUTES" "0:ROUTES:2,10.0.0.0,8\\n"
bad "empty DNS_REQ" yes "0 bytes" 5:DNS_REQ
bad "DNS_REQ past 4096 bytes" yes "4097 bytes" 5:DNS_REQ:@4097
bad "TCP_DATA on a DNS channel" yes "DNS channel" dnsq:5:$DNS_NAME 5:TCP_DATA:x

# Not errors: EXIT ends the session cleanly; UDP is refused once (and
# audited), its frames dropped, the session goes on.
mux exit 3 0:PING:x 0:EXIT 0:PING:y
expect_rc 0 $MUX_RC "EXIT: exit status"
frames exit >"$T/exit.frames"
expect_in "0 PONG 1 b'x'" "$T/exit.frames" "EXIT: PONG before it"
before=$(refusals)
mux udp 2 2:UDP_OPEN:2 2:UDP_DATA:$TGT,53,x 4:UDP_OPEN:2 0:PING:udp
expect_rc 0 $MUX_RC "UDP: exit status"
frames udp >"$T/udp.frames"
expect_in "0 PONG 3 b'udp'" "$T/udp.frames" "UDP: PONG after it"
expect_in "rampart: " "$T/udp.err" "UDP: refusal on stderr"
wait_for 30 more_refusals "$before"
expect_same "UDP: refusals audited" "$(refusals)" "$((before + 1))"

# Bad bootstraps: the frames are replaced by the file built here.
head -c "$N" "$T/boot.bin" >"$T/asm"
badboot() {	# badboot LABEL REASON TAIL-FILE
	cp "$T/boot.bin" "$T/boot.good"
	cat "$T/asm" "$3" >"$T/boot.bin"
	bad "$1" no "$2"
	cp "$T/boot.good" "$T/boot.bin"
}
printf 'evil\n3\nabc\n\n' >"$T/tail1"
badboot "first module not sshuttle" "not \"sshuttle\"" "$T/tail1"
printf 'sshuttle\nabc\n' >"$T/tail2"
badboot "length not a number" "module length" "$T/tail2"
{ printf 'sshuttle\n1100000\n'; head -c 1100000 /dev/zero; printf '\n'; } \
    >"$T/tail3"
badboot "bootstrap over 1 MiB" "too large" "$T/tail3"

# The gateway still serves: a real client, a GET; and with --python.
start_shuttle after "$NS_C" alice nat 10.77.2.0/24 || { summary; exit 1; }
out=$(in_ns "$NS_C" curl -sS -m 10 http://$TGT/ 2>&1)
expect_same "sshuttle after the bad sessions" "$out" \
    "hello from the private network"
stop_shuttle $SH_PID "$NS_C" nat
start_shuttle python "$NS_C" alice nft --python /usr/bin/python3 \
    10.77.2.0/24 || { summary; exit 1; }
out=$(in_ns "$NS_C" curl -sS -m 10 http://$TGT/ 2>&1)
expect_same "sshuttle --python" "$out" "hello from the private network"
expect_audit "--python form" event.action=sshuttle-start \
    rampart.sshuttle.form=python
stop_shuttle $SH_PID "$NS_C" nft
expect_no_sanitizer_report
summary
