#!/bin/sh
# Forwarding through the real gateway with the real OpenSSH client:
# ssh -J to a target sshd, -W, -L with 64 MiB each way (also across
# rekeys), -D with curl through SOCKS, and the audit trail of each.
set -u
. "$(dirname "$0")/lib.sh"
setup_all
start_gateway

# ssh -J: the target's own sshd answers through the bastion.
out=$(cssh -J alice@$GW root@$TGT 2>&1)
if [ "$out" = rampart-target-ok ]; then ok; else not_ok "-J: $out"; fi
expect_audit "-J channel" event.action=channel-open event.outcome=success \
    destination.ip=$TGT destination.port=22 user.name=alice

# ssh -W to the web server, by name (resolved by the gateway).
out=$(printf 'GET / HTTP/1.0\r\nHost: www\r\n\r\n' |
    cssh -W www.internal:80 alice@$GW 2>&1)
case "$out" in
*"hello from the private network"*) ok ;;
*) not_ok "-W by name: $out" ;;
esac
expect_audit "-W by name" event.action=channel-open \
    destination.address=www.internal destination.ip=$TGT

# -L with 64 MiB each way, SHA-256 compared; then again with rekeys
# every megabyte.
head -c 67108864 /dev/urandom >"$T/blob"
want=$(sha256sum <"$T/blob" | cut -d' ' -f1)
forward_64m() {	# forward_64m LABEL [ssh options]
	label=$1
	shift
	in_ns "$NS_T" timeout 60 sh -c "nc -N -l $TGT 5001 <'$T/blob'" &
	srv=$!
	in_ns "$NS_T" timeout 60 sh -c \
	    "nc -l $TGT 5002 | sha256sum >'$T/up.sum'" &
	up=$!
	sleep 0.3
	cssh "$@" -N -L 7001:$TGT:5001 -L 7002:$TGT:5002 alice@$GW &
	cli=$!
	wait_listen "$NS_C" 7001
	wait_listen "$NS_C" 7002
	got=$(in_ns "$NS_C" timeout 60 sh -c \
	    "nc -d 127.0.0.1 7001 | sha256sum" | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then ok; else
		not_ok "$label download: sha256 $got, wanted $want"; fi
	in_ns "$NS_C" timeout 60 sh -c "nc -N 127.0.0.1 7002 <'$T/blob'"
	wait $up
	got=$(cut -d' ' -f1 "$T/up.sum")
	if [ "$got" = "$want" ]; then ok; else
		not_ok "$label upload: sha256 $got, wanted $want"; fi
	kill_clients
	kill $srv 2>/dev/null
}
forward_64m "-L"
forward_64m "-L RekeyLimit 1M" -o RekeyLimit=1M
expect_audit "-L close with bytes" event.action=channel-close \
    destination.port=5001 source.bytes=0 destination.bytes=67108864
expect_audit "-L upload bytes" event.action=channel-close \
    destination.port=5002 source.bytes=67108864

# -D: curl through the SOCKS proxy, the name resolved at the gateway.
cssh -N -D 127.0.0.1:7080 alice@$GW &
cli=$!
wait_listen "$NS_C" 7080
out=$(in_ns "$NS_C" curl -s --max-time 10 \
    --socks5-hostname 127.0.0.1:7080 http://www.internal/)
if [ "$out" = "hello from the private network" ]; then ok; else
	not_ok "-D curl: $out"; fi
out=$(in_ns "$NS_C" curl -s --max-time 10 \
    --socks5-hostname 127.0.0.1:7080 http://$TGT/)
if [ "$out" = "hello from the private network" ]; then ok; else
	not_ok "-D curl by address: $out"; fi
kill_clients

# The trail: every line is JSON; the session opened and closed.
n=$(audit --count)
if [ "${n:-0}" -gt 5 ]; then ok; else not_ok "audit log unreadable"; fi
expect_audit "connection-open" event.action=connection-open \
    source.ip=$CLI
expect_audit "connection-close" event.action=connection-close \
    event.outcome=success user.name=alice

summary
