#!/bin/sh
# strace -f of the gateway: once a session child has loaded its seccomp
# filter, it makes no open, socket or connect call -- through a whole
# session with key exchange, authentication and forwarding.
set -u
. "$(dirname "$0")/lib.sh"
if ! command -v strace >/dev/null; then
	echo "SKIP: strace is not installed"
	exit 0
fi
setup_all
[ -f "$T/gw_host" ] || ssh-keygen -q -t ed25519 -N '' -f "$T/gw_host"
write_gateway_conf
mkdir "$T/trace"
in_ns "$NS_G" strace -f -ff -qq -o "$T/trace/t" "$GW_BIN" -d \
    -f "$T/gateway.conf" >>"$T/gateway.log" 2>&1 &
PIDS="$PIDS $!"
wait_listen "$NS_G" 22
GW_PID=$(pgrep -o -f "$T/gateway.conf" | head -n 1)

out=$(printf 'GET / HTTP/1.0\r\n\r\n' | cssh -W $TGT:80 alice@$GW 2>&1)
case "$out" in
*"hello from the private network"*) ok ;;
*) not_ok "session under strace: $out" ;;
esac
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | cssh -W www.internal:80 \
    alice@$GW 2>&1)
expect_audit "session done" event.action=connection-close user.name=alice

children=0
for f in "$T"/trace/t.*; do
	# A child: it loaded a filter of its own and is not the master.
	grep -q 'seccomp(SECCOMP_SET_MODE_FILTER' "$f" || continue
	grep -q 'epoll_wait' "$f" && continue
	children=$((children + 1))
	after=$(sed -n '/seccomp(SECCOMP_SET_MODE_FILTER/,$p' "$f" |
	    grep -E '^(open|openat|openat2|socket|connect)\(' || true)
	if [ -z "$after" ]; then ok; else
		not_ok "child $(basename "$f"): after the filter: $after"; fi
	# And it did real work after the filter.
	if sed -n '/seccomp(SECCOMP_SET_MODE_FILTER/,$p' "$f" |
	    grep -q '^recvfrom\|^read('; then ok; else
		not_ok "child $(basename "$f") did nothing after the filter"
	fi
done
if [ $children -ge 2 ]; then ok; else not_ok "saw $children children"; fi

summary
