# Shared set-up for the knock integration tests: the namespaces, keys,
# policy and gateway of tests/gateway/lib.sh, plus rampart-knockd in the
# gateway namespace with real nftables (NftCreate yes: the table lives in
# that namespace and goes with it), rampart-knock in the client namespace,
# and probes that tell a dropped SYN from an answered one.
#
#   client 10.77.1.2 fd77:1::2 --- 10.77.1.1 fd77:1::1 gateway 10.77.2.1
#   other  10.77.3.2 fd77:3::2 --- 10.77.3.1 fd77:3::1 gateway
#
# knockq.py crafts what rampart-knock never sends (old, replayed, flipped,
# foreign); it is checked against the example of PROTOCOL.knock first.

. "$(dirname "$0")/../gateway/lib.sh"

KDIR=$(cd "$(dirname "$0")" && pwd)
AUDITQ="python3 $KDIR/../gateway/auditq.py"
KNOCKQ="python3 $KDIR/knockq.py"
abspath() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
KNOCKD_BIN=$(abspath "${KNOCKD_BIN:-$BUILD/bin/rampart-knockd}")
KNOCK_BIN=$(abspath "${KNOCK_BIN:-$BUILD/bin/rampart-knock}")
CTL_BIN=$(abspath "$CTL_BIN")
KPORT=62022
KAUDIT=$T/klog/knockd-audit.jsonl
KMETRICS=$T/metrics/knockd.prom
GW6=fd77:1::1
CLI6=fd77:1::2
GW6_O=fd77:3::1
OTHER6=fd77:3::2
KNOCKD_PID=

# A failure is easier to read with what knockd said, what it audited and
# the door as nftables holds it.
knock_cleanup() {
	if [ "${fail:-0}" -gt 0 ]; then
		if [ -s "$T/knockd.log" ]; then
			echo "--- knockd's log, last 60 lines:"
			tail -n 60 "$T/knockd.log"
		fi
		if [ -s "$KAUDIT" ]; then
			echo "--- knockd's audit, last 15 records:"
			tail -n 15 "$KAUDIT"
		fi
		if [ -s "$KMETRICS" ]; then
			echo "--- knockd's metrics:"
			grep -v '^#' "$KMETRICS"
		fi
		echo "--- nftables in the gateway namespace:"
		in_ns "$NS_G" nft list ruleset 2>&1 | head -n 40
	fi
	cleanup
}
trap knock_cleanup EXIT
# Stopped from outside (or by the watchdog): a failure, with the logs.
trap 'fail=$((fail + 1)); exit 1' INT TERM HUP

# Every test is bounded: past the limit it fails and still cleans up.
watchdog() {	# watchdog SECONDS
	(
		trap 'kill $sp 2>/dev/null; exit 0' TERM
		sleep "$1" &
		sp=$!
		wait $sp && echo "FAIL: $(basename "$0") took over $1 s" &&
		    kill -TERM $$
	) &
	PIDS="$PIDS $!"
}

need_knock_bins() {
	for b in "$KNOCKD_BIN" "$KNOCK_BIN" "$CTL_BIN"; do
		if [ ! -x "$b" ]; then
			not_ok "$b is not built"
			summary
			exit 1
		fi
	done
	if ! $KNOCKQ selftest >"$T/selftest.out" 2>&1; then
		not_ok "knockq.py disagrees with PROTOCOL.knock section 13:" \
		    "$(cat "$T/selftest.out")"
		summary
		exit 1
	fi
}

# IPv6 on the client and other links (no DAD: usable at once).
setup_v6() {
	in_ns "$NS_C" ip -6 addr add $CLI6/64 dev va${ID}1 nodad
	in_ns "$NS_G" ip -6 addr add $GW6/64 dev vb${ID}1 nodad
	in_ns "$NS_O" ip -6 addr add $OTHER6/64 dev va${ID}3 nodad
	in_ns "$NS_G" ip -6 addr add $GW6_O/64 dev vb${ID}3 nodad
}

# setup_knock: the gateway's set-up, IPv6, and the server key.
setup_knock() {
	need_root
	need_knock_bins
	watchdog "${KNOCK_TEST_LIMIT:-300}"
	setup_net
	setup_v6
	setup_keys
	start_target
	write_policy
	"$CTL_BIN" knock keygen --server "$T/server.key" >"$T/server.pub" \
	    2>"$T/keygen.err"
	expect_rc 0 $? "knock keygen --server"
	# What keygen printed is the public key of the secret it wrote.
	SERVER_PK=$(cat "$T/server.pub")
	want=$(PYTHONDONTWRITEBYTECODE=1 python3 -c 'import sys; sys.path.insert(0, sys.argv[1])
import knockq, base64
print(base64.b64encode(knockq.read_server_sk(sys.argv[2])[1]).decode())' \
	    "$KDIR" "$T/server.key")
	if [ "${#SERVER_PK}" = 44 ] && [ "$SERVER_PK" = "$want" ]; then ok
	else
		not_ok "keygen --server printed \"$SERVER_PK\", want $want"
	fi
	# The probes connect and hang up: that must not get sources penalised.
	GW_EXTRA_CONF="PerSourcePenaltyExemptList 10.77.0.0/16,fd77::/16
${GW_EXTRA_CONF:-}"
}

write_knockd_conf() {	# write_knockd_conf [EXTRA LINES]
	mkdir -p "$T/klog" "$T/metrics"
	chown "${KNOCKD_USER:-nobody}" "$T/klog" "$T/metrics"
	cat >"$T/knockd.conf" <<CFG
ListenPort $KPORT
ServerKey $T/server.key
Policy $T/policy.conf
Ports 22
OpenTime ${KNOCK_OPEN_TIME:-30s}
AuditLog $KAUDIT
MetricsFile $KMETRICS
MetricsInterval 1s
NftCreate yes
User ${KNOCKD_USER:-nobody}
LogLevel ${KNOCKD_LOGLEVEL:-verbose}
${1:-}
CFG
}

# start_knockd [EXTRA knockd.conf LINES]: check the configuration with -t,
# start knockd in the foreground, and wait until it listens and its table
# exists.
start_knockd() {
	write_knockd_conf "${1:-}"
	in_ns "$NS_G" "$KNOCKD_BIN" -t -f "$T/knockd.conf" >"$T/knockd-t.out" 2>&1
	rc=$?
	expect_rc 0 $rc "rampart-knockd -t"
	[ $rc = 0 ] || sed 's/^/    /' "$T/knockd-t.out"
	# A restarted knockd's counters start again: never read the old ones.
	rm -f "$KMETRICS"
	# Not through in_ns: $! must be knockd itself (ip netns exec execs
	# it), not a subshell, so that signals reach it.  Under SAN=1,
	# LeakSanitizer cannot stop the threads of a process that changed its
	# user (it is no longer dumpable) and would turn a clean exit into a
	# failure; ASan and UBSan still abort on any error.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    ip netns exec "$NS_G" "$KNOCKD_BIN" -d -f "$T/knockd.conf" \
	    >>"$T/knockd.log" 2>&1 &
	KNOCKD_PID=$!
	PIDS="$PIDS $KNOCKD_PID"
	i=0
	until in_ns "$NS_G" ss -Hlun "sport = :$KPORT" | grep -q . &&
	    in_ns "$NS_G" nft list set inet rampart knock4 >/dev/null 2>&1
	do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$KNOCKD_PID" 2>/dev/null; then
			not_ok "knockd did not start"
			summary
			exit 1
		fi
		sleep 0.1
	done
	# The first metrics (MetricsInterval 1s), so counters read after this
	# are this knockd's.
	i=0
	until [ -s "$KMETRICS" ] || [ $i -gt 30 ]; do
		i=$((i + 1))
		sleep 0.1
	done
}

# stop_knockd: SIGTERM; knockd must stop cleanly, with exit status 0 (no
# crash, no sanitizer report).  The watchdog bounds the wait.
stop_knockd() {
	[ -n "$KNOCKD_PID" ] || return 0
	kill -TERM "$KNOCKD_PID" 2>/dev/null
	wait "$KNOCKD_PID"
	expect_rc 0 $? "knockd's exit after SIGTERM"
	if grep -q 'Sanitizer\|runtime error' "$T/knockd.log"; then
		not_ok "a sanitizer report in knockd's log"
	fi
}

# knock_summary: stop knockd as above, then the summary line.
knock_summary() {
	if [ -n "$KNOCKD_PID" ] && kill -0 "$KNOCKD_PID" 2>/dev/null; then
		stop_knockd
	fi
	summary
}

expect_knockd_alive() {	# expect_knockd_alive WHAT
	if kill -0 "$KNOCKD_PID" 2>/dev/null; then ok; else
		not_ok "$1: knockd is gone"
	fi
}

# knock_ns NS [rampart-knock ARGS...]: rampart-knock with the server key.
knock_ns() {
	ns=$1
	shift
	in_ns "$ns" timeout 30 "$KNOCK_BIN" -S "$T/server.pub" -p $KPORT "$@"
}
knock() { knock_ns "$NS_C" "$@"; }

# expect_knock WHAT [ARGS...]: rampart-knock exits 0.
expect_knock() {
	what=$1
	shift
	if knock "$@" >"$T/knock.out" 2>&1; then ok; else
		not_ok "$what: rampart-knock $*: exit $?:" \
		    "$(cat "$T/knock.out")"
	fi
}

# capture_knock OUT [ARGS...]: what rampart-knock sends, caught on
# loopback in the client namespace instead of going to knockd.
capture_knock() {
	out=$1
	shift
	in_ns "$NS_C" $KNOCKQ capture 62999 "$out" >"$T/capture.ready" 2>&1 &
	cp=$!
	i=0
	until grep -qs ready "$T/capture.ready" || [ $i -gt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	in_ns "$NS_C" timeout 30 "$KNOCK_BIN" -S "$T/server.pub" -p 62999 \
	    "$@" 127.0.0.1 >"$T/knock.out" 2>&1
	wait $cp
	if [ -s "$out" ]; then ok; else
		not_ok "capture: rampart-knock $* sent nothing:" \
		    "$(cat "$T/knock.out" "$T/capture.ready")"
	fi
}

# send_dgram NS HOST FILE: one datagram to knockd, from NS.
send_dgram() { in_ns "$1" $KNOCKQ send "$2" $KPORT "$3"; }

# syn_answered NS ADDR PORT: 0 if a SYN got an answer (accepted or
# refused), 1 if it got none within 2 s (dropped).
syn_answered() { in_ns "$1" $KNOCKQ syn "$2" "$3" --timeout 2 >/dev/null; }

expect_answered() {	# expect_answered WHAT NS ADDR [PORT]
	r=$(in_ns "$2" $KNOCKQ syn "$3" "${4:-22}" --timeout 2)
	if [ "$r" = open ]; then ok; else
		not_ok "$1: a SYN from $2 to $3 port ${4:-22}: $r, want open"
	fi
}
expect_silent() {	# expect_silent WHAT NS ADDR [PORT]
	r=$(in_ns "$2" $KNOCKQ syn "$3" "${4:-22}" --timeout 2)
	if [ "$r" = silent ]; then ok; else
		not_ok "$1: a SYN from $2 to $3 port ${4:-22}: $r, want silent"
	fi
}

# The door as nftables holds it: door_has ADDR [PORT].
door_has() {
	case $1 in *:*) set6=knock6 ;; *) set6=knock4 ;; esac
	in_ns "$NS_G" nft list set inet rampart $set6 2>/dev/null |
	    grep -Eq "(^|[ {,])$1 \. ${2:-22}([ ,}]|$)"
}
# wait_door ADDR [PORT]: the element appears within 3 s.
wait_door() {
	i=0
	until door_has "$@"; do
		i=$((i + 1))
		[ $i -gt 30 ] && return 1
		sleep 0.1
	done
}
expect_door() {	# expect_door WHAT ADDR [PORT]
	what=$1
	shift
	if wait_door "$@"; then ok; else
		not_ok "$what: no element $1 . ${2:-22} in the set"
	fi
}
expect_no_door() {	# expect_no_door WHAT ADDR [PORT]
	what=$1
	shift
	if door_has "$@"; then not_ok "$what: element $1 . ${2:-22} present"
	else ok; fi
}
# The number of elements in both sets.
door_count() {
	{
		in_ns "$NS_G" nft list set inet rampart knock4
		in_ns "$NS_G" nft list set inet rampart knock6
	} 2>/dev/null | grep -o ' \. [0-9][0-9]*' | wc -l
}

# knockd's audit file.
kaudit() { $AUDITQ "$KAUDIT" "$@"; }
# expect_kaudit WHAT KEY=VALUE...: a matching record within 3 s.
expect_kaudit() {
	what=$1
	shift
	i=0
	while n=$(kaudit "$@" --count 2>/dev/null) && [ "${n:-0}" -lt 1 ] &&
	    [ $i -lt 30 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	if [ "${n:-0}" -ge 1 ]; then ok; else
		not_ok "$what: no knockd audit record with $*"
		tail -n 5 "$KAUDIT" 2>/dev/null | sed 's/^/    /'
	fi
}
# rejected_count REASON: knock-rejected records whose reason starts with
# REASON (the reason may carry a detail, e.g. the skew of "stale").
rejected_count() {
	kaudit event.action=knock-rejected --field event.reason 2>/dev/null |
	    grep -c "^$1"
}
# expect_rejected WHAT REASON BEFORE: more such records than BEFORE.
expect_rejected() {
	i=0
	while [ "$(rejected_count "$2")" -le "$3" ] && [ $i -lt 30 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	if [ "$(rejected_count "$2")" -gt "$3" ]; then ok; else
		not_ok "$1: no knock-rejected record with reason $2"
		tail -n 5 "$KAUDIT" 2>/dev/null | sed 's/^/    /'
	fi
}

# knockd's metrics: kmetric 'rampart_knockd_dropped_total{reason="tag"}'
kmetric() { $KNOCKQ metric "$KMETRICS" "$1"; }
dropped() { kmetric "rampart_knockd_dropped_total{reason=\"$1\"}"; }
# wait_kmetric NAME MIN: 0 once the series reaches MIN (within 5 s).
wait_kmetric() {
	i=0
	while [ "$(kmetric "$1")" -lt "$2" ]; do
		i=$((i + 1))
		[ $i -gt 50 ] && return 1
		sleep 0.1
	done
}
expect_kmetric() {	# expect_kmetric WHAT NAME MIN
	if wait_kmetric "$2" "$3"; then ok; else
		not_ok "$1: $2 is $(kmetric "$2"), want at least $3"
	fi
}

# An ssh-agent in the client namespace holding KEY: start_agent KEY.
start_agent() {
	AGENT_SOCK=$T/agent.sock
	in_ns "$NS_C" ssh-agent -D -a "$AGENT_SOCK" >"$T/agent.out" 2>&1 &
	PIDS="$PIDS $!"
	i=0
	until [ -S "$AGENT_SOCK" ] || [ $i -gt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	SSH_AUTH_SOCK=$AGENT_SOCK ssh-add "$1" >"$T/ssh-add.out" 2>&1
	expect_rc 0 $? "ssh-add $1"
}

# page NS CONFIG DEST: the target's web page fetched with ssh -W through
# the gateway.
page() {
	in_ns "$1" timeout 30 ssh -F "$2" -W $TGT:80 "$3" 2>&1 <<REQ
GET / HTTP/1.0

REQ
}
expect_page() {	# expect_page WHAT NS CONFIG DEST
	out=$(page "$2" "$3" "$4")
	case "$out" in
	*"hello from the private network"*) ok ;;
	*) not_ok "$1: $out" ;;
	esac
}
expect_denied() {	# expect_denied WHAT NS CONFIG DEST
	out=$(page "$2" "$3" "$4")
	case "$out" in
	*"Permission denied"*) ok ;;
	*) not_ok "$1: not refused: $out" ;;
	esac
}
