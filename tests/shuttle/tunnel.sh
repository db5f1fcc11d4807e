# The tunnel suite, run once per firewall method by test_tunnel_nat.sh
# and test_tunnel_nft.sh: Debian's sshuttle client through the gateway.
#
#   - the client namespace has no route to the target before the tunnel;
#   - HTTP GET through the tunnel, audited as an sshuttle channel;
#   - 64 MiB down and up, SHA-256 compared, bytes in the close record;
#   - 20 parallel connections, each file different, all correct;
#   - policy-denied destinations: curl exit 52 and an audit record with
#     the reason (and the deciding rule);
#   - --dns: answered by a DNS server only the gateway reaches when the
#     policy allows DNS (alice), REFUSED and audited when not (bob);
#   - -N: the client redirects exactly alice's allowed IPv4 networks minus
#     the denies minus the gateway's own addresses.

# tunnel_suite METHOD
tunnel_suite() {
	m=$1
	setup_shuttle
	no_route_yet
	start_gateway
	make_blob "$T/www/blob64"
	want=$BLOB_SHA
	i=1
	while [ $i -le 20 ]; do
		head -c $((200000 + i * 7919)) /dev/urandom >"$T/www/p$i"
		i=$((i + 1))
	done

	start_shuttle "alice-$m" "$NS_C" alice "$m" --dns 10.77.2.0/24 || {
		summary
		exit 1
	}
	pid=$SH_PID
	expect_audit "sshuttle-start" event.action=sshuttle-start \
	    user.name=alice

	# GET through the tunnel.
	out=$(in_ns "$NS_C" curl -sS -m 10 http://$TGT/ 2>&1)
	expect_same "$m: GET through the tunnel" "$out" \
	    "hello from the private network"
	expect_audit "$m: channel audited as sshuttle" \
	    event.action=channel-open event.outcome=success user.name=alice \
	    rampart.channel.type=sshuttle destination.ip=$TGT \
	    destination.port=80

	# 64 MiB down, then up.
	got=$(sha_get "$NS_C" http://$TGT/blob64)
	expect_same "$m: 64 MiB download sha256" "$got" "$want"
	in_ns "$NS_T" timeout 120 sh -c \
	    "nc -l $TGT 5002 | sha256sum >'$T/up.sum'" &
	up=$!
	wait_listen "$NS_T" 5002
	in_ns "$NS_C" timeout 120 sh -c "nc -N $TGT 5002 <'$T/www/blob64'"
	expect_rc 0 $? "$m: 64 MiB upload: nc's exit"
	wait $up
	expect_same "$m: 64 MiB upload sha256" "$(cut -d' ' -f1 "$T/up.sum")" \
	    "$want"
	expect_audit "$m: upload's close record" event.action=channel-close \
	    rampart.channel.type=sshuttle destination.port=5002 \
	    source.bytes=67108864

	# 20 connections at once.
	pp=""
	i=1
	while [ $i -le 20 ]; do
		sha_get "$NS_C" http://$TGT/p$i >"$T/par.$i" &
		pp="$pp $!"
		i=$((i + 1))
	done
	for p in $pp; do wait $p; done
	bad=""
	i=1
	while [ $i -le 20 ]; do
		[ "$(cat "$T/par.$i")" = "$(sha256sum <"$T/www/p$i" |
		    cut -d' ' -f1)" ] || bad="$bad p$i"
		i=$((i + 1))
	done
	expect_same "$m: 20 parallel fetches, wrong ones" "$bad" ""

	# Denied by policy: an empty reply, and the reason in the trail.
	in_ns "$NS_C" curl -s -m 10 http://$TGT:3306/ >/dev/null
	expect_rc 52 $? "$m: port not allowed: curl's exit"
	expect_audit "$m: port not allowed audited" \
	    event.action=channel-open event.outcome=failure \
	    rampart.channel.type=sshuttle destination.ip=$TGT \
	    destination.port=3306
	r=$(audit event.action=channel-open destination.port=3306 \
	    --field event.reason | tail -n 1)
	case "$r" in
	*"no rule matches"*) ok ;;
	*) not_ok "$m: reason for port 3306: $r" ;;
	esac
	# The client's terminal gets the reason too (the gateway's stderr).
	expect_in "rampart: TCP $TGT:3306" "$T/sshuttle-alice-$m.log" \
	    "$m: the refusal on the client's terminal"
	in_ns "$NS_C" curl -s -m 10 http://10.77.2.99/ >/dev/null
	expect_rc 52 $? "$m: denied address: curl's exit"
	expect_audit "$m: denied address audited with its rule" \
	    event.action=channel-open event.outcome=failure \
	    rampart.channel.type=sshuttle destination.ip=10.77.2.99 \
	    destination.port=80 rule.name="$T/policy.conf:2"
	in_ns "$NS_C" curl -s -m 10 http://10.77.2.200/ >/dev/null
	expect_rc 52 $? "$m: group deny: curl's exit"
	expect_audit "$m: group deny audited with its rule" \
	    event.action=channel-open event.outcome=failure \
	    destination.ip=10.77.2.200 rule.name="$T/policy.conf:6"
	# ... and the tunnel still works after the refusals.
	out=$(in_ns "$NS_C" curl -sS -m 10 http://$TGT/ 2>&1)
	expect_same "$m: GET after refusals" "$out" \
	    "hello from the private network"

	# --dns, allowed for alice: answered by the server behind the gateway.
	out=$(in_ns "$NS_C" dig +short +time=5 +tries=1 @$FAKE_NS $DNS_NAME)
	expect_same "$m: --dns answer for alice" "$out" "$DNS_ADDR"
	n=$(grep -c "^$DNS_NAME\$" "$T/dns.log")
	if [ "$n" -ge 1 ]; then ok; else
		not_ok "$m: the DNS server never saw alice's query"; fi
	out=$(in_ns "$NS_C" dig +time=5 +tries=1 @$FAKE_NS nothing.shuttle.test)
	case "$out" in
	*"status: NXDOMAIN"*) ok ;;
	*) not_ok "$m: NXDOMAIN not passed through: $out" ;;
	esac

	stop_shuttle $pid "$NS_C" "$m"
	expect_audit "$m: alice's session closed" \
	    event.action=connection-close user.name=alice
	n=$(audit event.action=connection-close user.name=alice \
	    --field rampart.dns.relayed | tail -n 1)
	if [ "${n:-0}" -ge 2 ] 2>/dev/null; then ok; else
		not_ok "$m: DNS queries relayed for alice: $n, want 2 or more"; fi

	# --dns, denied for bob: REFUSED, audited, nothing reaches the server.
	start_shuttle "bob-$m" "$NS_C" bob "$m" --dns 10.77.2.0/24 || {
		summary
		exit 1
	}
	pid=$SH_PID
	before=$(wc -l <"$T/dns.log")
	out=$(in_ns "$NS_C" dig +time=5 +tries=1 @$FAKE_NS $DNS_NAME)
	case "$out" in
	*"status: REFUSED"*) ok ;;
	*) not_ok "$m: bob's DNS query not refused: $out" ;;
	esac
	expect_same "$m: queries reaching the server for bob" \
	    "$(wc -l <"$T/dns.log")" "$before"
	expect_audit "$m: bob's DNS refusal audited" \
	    event.action=sshuttle-dns event.outcome=failure user.name=bob
	r=$(audit event.action=sshuttle-dns user.name=bob \
	    --field event.reason | tail -n 1)
	case "$r" in
	*"not allowed"*) ok ;;
	*) not_ok "$m: reason for bob's DNS refusal: $r" ;;
	esac
	out=$(in_ns "$NS_C" curl -sS -m 10 http://$TGT/ 2>&1)
	expect_same "$m: bob's GET" "$out" "hello from the private network"
	stop_shuttle $pid "$NS_C" "$m"
	expect_audit "$m: bob's refusal counted in his close record" \
	    event.action=connection-close user.name=bob rampart.dns.refused=1

	# -N: the routes come from the gateway, and are exactly alice's.
	start_shuttle "auto-$m" "$NS_C" alice "$m" -N || {
		summary
		exit 1
	}
	pid=$SH_PID
	got=$(redirected "$NS_C" "$m" | tr '\n' ' ')
	wantr=$(alice_routes | tr '\n' ' ')
	# Not two empty lists: the target's /31, alice's own /17, no
	# gateway address.
	case "$wantr" in
	*" 10.77.2.2/31 "*" 10.99.0.0/17 ") ok ;;
	*) not_ok "$m: expected routes: $wantr" ;;
	esac
	expect_same "$m: -N routes" "$got" "$wantr"
	out=$(in_ns "$NS_C" curl -sS -m 10 http://$TGT/ 2>&1)
	expect_same "$m: GET with -N" "$out" "hello from the private network"
	stop_shuttle $pid "$NS_C" "$m"

	kill -0 $GW_PID 2>/dev/null && ok || not_ok "$m: the master is gone"
	expect_no_sanitizer_report
	summary
}
