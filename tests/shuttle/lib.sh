# Shared set-up for the sshuttle tests: the namespaces, keys, target and
# gateway of tests/gateway/lib.sh, Debian's real sshuttle client (1.1.1)
# in the client namespaces with the nat or nft method, a DNS server that
# only the gateway can reach, and a policy with DNS allowed for alice and
# denied for bob.
#
#   client 10.77.1.2 --- 10.77.1.1 gateway 10.77.2.1 --- 10.77.2.2 target
#   other  10.77.3.2 --- 10.77.3.1 gateway                 (DNS on :53)
#
# The client namespaces get a default route into their own loopback: a
# packet to the target has a route (so sshuttle's firewall rules can catch
# it) but goes nowhere.  Whatever reaches the target went through the
# tunnel.  shuttleq.py (frames, parsing, expected routes, DNS server) is
# written from the protocol notes, not from Rampart's code.

# Every test is bounded: the script runs again under timeout(1), whose
# SIGTERM past the limit counts as a failure and still cleans up.
if [ -z "${SHUTTLE_BOUNDED:-}" ]; then
	SHUTTLE_BOUNDED=1 exec timeout --foreground "${SHUTTLE_TEST_LIMIT:-400}" \
	    sh "$0" "$@"
fi

. "$(dirname "$0")/../gateway/lib.sh"

SDIR=$(cd "$(dirname "$0")" && pwd)
AUDITQ="python3 $SDIR/../gateway/auditq.py"
SHQ="env PYTHONDONTWRITEBYTECODE=1 python3 $SDIR/shuttleq.py"
# A resolver address the client namespaces believe in; nothing has it.
FAKE_NS=10.77.9.53
DNS_NAME=secret.shuttle.test
DNS_ADDR=10.77.2.77
SHUTTLE_NAMES=""

# A failure is easier to read with what each client said and the rules
# it had installed.
shuttle_cleanup() {
	if [ "${fail:-0}" -gt 0 ]; then
		for n in $SHUTTLE_NAMES; do
			echo "--- sshuttle $n, last 30 lines:"
			tail -n 30 "$T/sshuttle-$n.log" 2>/dev/null
		done
		for ns in $NS_C $NS_O; do
			echo "--- iptables nat and nft in $ns:"
			in_ns "$ns" iptables -t nat -S 2>/dev/null | grep sshuttle
			in_ns "$ns" nft list ruleset 2>/dev/null | grep -A3 sshuttle
		done
		if [ -s "$T/log/audit.jsonl" ]; then
			echo "--- the audit trail, last 15 records:"
			tail -n 15 "$T/log/audit.jsonl"
		fi
	fi
	# The namespaces go with their rules; sshuttle's own processes are
	# in them and killed with them (cleanup).
	cleanup
}
trap shuttle_cleanup EXIT
# Stopped from outside (or by the time limit): a failure, with the logs.
trap 'echo "FAIL: $(basename "$0") stopped by a signal or its time limit"
    fail=$((fail + 1)); exit 1' INT TERM HUP PIPE

# wait_for TENTHS COMMAND...: poll until COMMAND succeeds, at most TENTHS
# tenths of a second; its status is the last try's.
wait_for() {
	wt=$1
	shift
	wi=0
	until "$@"; do
		wi=$((wi + 1))
		[ $wi -ge "$wt" ] && return 1
		sleep 0.1
	done
}

write_shuttle_policy() {
	cat >"$T/policy.conf" <<POL
deny 169.254.0.0/16
deny 10.77.2.99
group engineers
	allow 10.77.2.0/24 port 80,5000-5100
	allow www.internal port 80
	deny 10.77.2.192/26

user alice
	key $(cat "$T/alice.pub")
	member engineers
	totp none
	from 10.77.1.0/24
	dns allow
	allow 10.99.0.0/16 port 22
	deny 10.99.128.0/17

user bob
	key $(cat "$T/bob.pub")
	member engineers
	totp none
	from 10.77.1.0/24
	dns deny

user ci
	key $(cat "$T/ci.pub")
	totp none
	from 10.77.3.0/24
	allow $TGT port 80,5000-5100
POL
}

# What -N must install for alice, computed here from the policy above
# and the gateway's addresses as the kernel lists them.
alice_routes() {
	$SHQ expect-routes \
	    --gw $(in_ns "$NS_G" ip -4 -o addr show | awk '{ print $4 }' |
	        cut -d/ -f1) \
	    --allow 10.77.2.0/24 10.99.0.0/16 \
	    --deny 169.254.0.0/16 10.77.2.99/32 10.77.2.192/26 10.99.128.0/17
}

start_dnsd() {
	: >"$T/dns.log"
	in_ns "$NS_T" $SHQ dnsd $TGT 53 "$T/dns.log" "$DNS_NAME=$DNS_ADDR" \
	    >"$T/dnsd.out" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 50 grep -qs ready "$T/dnsd.out" ||
	    not_ok "the DNS server did not start: $(cat "$T/dnsd.out")"
	# The gateway's resolver (c-ares reads it through "ip netns exec").
	echo "nameserver $TGT" >"/etc/netns/$NS_G/resolv.conf"
	# The clients' resolver, which sshuttle --dns intercepts.
	for ns in $NS_C $NS_O; do
		mkdir -p "/etc/netns/$ns"
		echo "nameserver $FAKE_NS" >"/etc/netns/$ns/resolv.conf"
	done
}

setup_shuttle() {
	need_root
	for b in "$GW_BIN" "$CTL_BIN"; do
		if [ ! -x "$b" ]; then
			not_ok "$b is not built"
			summary
			exit 1
		fi
	done
	if ! command -v sshuttle >/dev/null; then
		not_ok "sshuttle is not installed (make deps)"
		summary
		exit 1
	fi
	setup_net
	setup_keys
	start_target
	start_dnsd
	write_shuttle_policy
	# The tests connect and hang up often: no penalties.
	GW_EXTRA_CONF="PerSourcePenaltyExemptList 10.77.0.0/16
${GW_EXTRA_CONF:-}"
}

# no_route_yet: before any tunnel the client cannot reach the target
# (no route at all), and with the loopback default route it still cannot
# (the packets go nowhere); then that route stays for sshuttle's rules.
no_route_yet() {
	for ns in $NS_C $NS_O; do
		if in_ns "$ns" ip route get $TGT >/dev/null 2>&1; then
			not_ok "$ns has a route to $TGT before the test"
		else ok; fi
	done
	in_ns "$NS_C" curl -s -m 3 -o /dev/null http://$TGT/
	expect_rc 7 $? "curl to the target without a route"
	in_ns "$NS_C" ip route add default dev lo src $CLI
	in_ns "$NS_O" ip route add default dev lo src $OTHER
	in_ns "$NS_C" curl -s -m 3 -o /dev/null http://$TGT/
	expect_rc 28 $? "curl to the target with the loopback route only"
	if in_ns "$NS_C" dig +time=1 +tries=1 @$TGT $DNS_NAME >/dev/null 2>&1
	then not_ok "the DNS server answers the client directly"; else ok; fi
}

# redirected NS METHOD: what the client's firewall redirects (TCP).
redirected() {
	if [ "$2" = nat ]; then
		in_ns "$1" iptables -t nat -S >"$T/rules.$1" 2>&1
	else
		in_ns "$1" nft list ruleset >"$T/rules.$1" 2>&1
	fi
	$SHQ rules "$2" "$T/rules.$1"
}

# start_shuttle NAME NS USER METHOD [sshuttle ARGS...]: the real client,
# in the background, until its firewall redirects something (it installs
# its rules only once the gateway's ROUTES has arrived).  SH_PID is its
# pid (ip netns exec execs sshuttle).  Returns 1 if it never got there.
start_shuttle() {
	name=$1 ns=$2 user=$3 method=$4
	shift 4
	gw=$GW
	[ "$ns" = "$NS_O" ] && gw=$GW_O
	SHUTTLE_NAMES="$SHUTTLE_NAMES $name"
	ip netns exec "$ns" sshuttle -v --method "$method" \
	    --ssh-cmd "ssh -F $T/ssh_config_$user" -r "$user@$gw" "$@" \
	    >"$T/sshuttle-$name.log" 2>&1 &
	SH_PID=$!
	PIDS="$PIDS $SH_PID"
	if wait_for 150 shuttle_up "$ns" "$method" $SH_PID &&
	    [ -n "$(redirected "$ns" "$method")" ]; then ok; else
		not_ok "sshuttle $name ($method, $user) never redirected" \
		    "anything: $(tail -n 5 "$T/sshuttle-$name.log")"
		return 1
	fi
}
# shuttle_up NS METHOD PID: rules are in (or the client is gone).
shuttle_up() {
	[ -n "$(redirected "$1" "$2")" ] || ! kill -0 "$3" 2>/dev/null
}
no_rules() { [ -z "$(redirected "$1" "$2")" ]; }

# stop_shuttle PID NS METHOD: SIGTERM (SIGINT is ignored in the
# background); the client must remove every rule it installed.
stop_shuttle() {
	kill -TERM "$1" 2>/dev/null
	wait_for 100 gone "$1"
	if wait_for 50 no_rules "$2" "$3"; then ok; else
		not_ok "sshuttle left rules behind in $2"
	fi
}
gone() { ! kill -0 "$1" 2>/dev/null; }

# expect_same WHAT GOT WANT
expect_same() {
	if [ "$2" = "$3" ]; then ok; else
		not_ok "$1: got \"$2\", want \"$3\""
	fi
}

# make_blob PATH: 64 MiB of random bytes; BLOB_SHA is their SHA-256.
make_blob() {
	head -c 67108864 /dev/urandom >"$1"
	BLOB_SHA=$(sha256sum <"$1" | cut -d' ' -f1)
}

# sha NS URL: the SHA-256 of what curl fetched in NS.
sha_get() {
	in_ns "$1" timeout 120 curl -s --max-time 110 "$2" | sha256sum |
	    cut -d' ' -f1
}

# Under SAN=1 a sanitizer report in a child is in the gateway's log.
expect_no_sanitizer_report() {
	if grep -q "Sanitizer\|runtime error" "$T/gateway.log"; then
		not_ok "a sanitizer report in the gateway's log"
	else ok; fi
}

# The gateway's processes (the master and its children).
gw_procs() { pgrep -f "$T/gateway.conf" | wc -l; }
gw_procs_are() { [ "$(gw_procs)" -eq "$1" ]; }

# capture_bootstrap: what Debian's sshuttle sends, caught by a stand-in
# for ssh: the exec string into $T/exec.txt, the bootstrap (stdin) into
# $T/boot.bin.  The client gives up when no sync header comes.
capture_bootstrap() {
	cat >"$T/fakessh" <<SH
#!/bin/sh
for a in "\$@"; do last=\$a; done
printf '%s' "\$last" >"$T/exec.txt"
exec timeout 3 cat >"$T/boot.bin"
SH
	chmod 755 "$T/fakessh"
	in_ns "$NS_C" timeout 30 sshuttle --ssh-cmd "$T/fakessh" \
	    -r alice@$GW 10.77.2.0/24 >"$T/capture.log" 2>&1
	EXEC=$(cat "$T/exec.txt")
	case "$EXEC" in
	*"sys.stdin.read("*) ok ;;
	*) not_ok "no exec string captured: $EXEC $(cat "$T/capture.log")" ;;
	esac
	n=$(stat -c %s "$T/boot.bin")
	if [ "$n" -gt 10000 ]; then ok; else
		not_ok "bootstrap of $n bytes captured"; fi
}

# mux NAME HOLD SPEC...: the captured exec string over plain ssh as
# alice, stdin the captured bootstrap then the frames of SPEC (see
# shuttleq.py), kept open HOLD seconds more.  Sets MUX_RC, and leaves
# $T/NAME.out (stdout) and $T/NAME.err.
mux() {
	name=$1 hold=$2
	shift 2
	$SHQ frames "$T/$name.in" --prefix "$T/boot.bin" "$@"
	{ cat "$T/$name.in"; sleep "$hold"; } | in_ns "$NS_C" timeout 60 \
	    ssh -F "$T/ssh_config_alice" alice@$GW "$EXEC" \
	    >"$T/$name.out" 2>"$T/$name.err"
	MUX_RC=$?
}

# frames NAME: what the gateway sent in mux NAME, one frame a line.
frames() { $SHQ parse "$T/$1.out"; }
