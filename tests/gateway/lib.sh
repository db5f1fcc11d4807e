# Shared set-up for the gateway integration tests: three network
# namespaces -- a client, the gateway, and a private target network that
# only the gateway can reach -- a real OpenSSH sshd and HTTP server on the
# target, and the real OpenSSH client.  Everything is torn down on exit,
# even when a test fails.
#
#   client 10.77.1.2 --- 10.77.1.1 gateway 10.77.2.1 --- 10.77.2.2 target
#   other  10.77.3.2 --- 10.77.3.1 (a second client, for source checks)
#
# Nothing leaves these namespaces: they have no route anywhere else.

. "$(dirname "$0")/../ctl/lib.sh"

BUILD=${BUILD:-build}
GW_BIN=${GW_BIN:-$BUILD/bin/rampart-gateway}
GW_TEST_BIN=${GW_TEST_BIN:-$BUILD/tests/rampart-gateway-test}
CTL_BIN=${RAMPARTCTL:-$BUILD/bin/rampartctl}
AUDITQ="python3 $(dirname "$0")/auditq.py"

ID=$$
NS_C=rpc$ID
NS_G=rpg$ID
NS_T=rpt$ID
NS_O=rpo$ID
GW=10.77.1.1
CLI=10.77.1.2
GW_T=10.77.2.1
TGT=10.77.2.2
GW_O=10.77.3.1
OTHER=10.77.3.2

T=$(mktemp -d /tmp/rampart-test.XXXXXX)
chmod 755 "$T"
PIDS=""

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: $(basename "$0") needs root (network namespaces)"
		exit 0
	fi
}

cleanup() {
	[ -n "${KEEP_T:-}" ] && cp -r "$T" /tmp/keep-t
	# A failure is easier to read with what the gateway said.
	if [ "${fail:-0}" -gt 0 ] && [ -s "$T/gateway.log" ]; then
		echo "--- the gateway's log, last 60 lines:"
		tail -n 60 "$T/gateway.log"
	fi
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	for ns in $NS_C $NS_G $NS_T $NS_O; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }

NLINK=0
link() {	# link NS_A ADDR_A NS_B ADDR_B
	NLINK=$((NLINK + 1))
	a=va$ID$NLINK
	b=vb$ID$NLINK
	ip link add "$a" type veth peer name "$b"
	ip link set "$a" netns "$1"
	ip link set "$b" netns "$3"
	in_ns "$1" ip addr add "$2/24" dev "$a"
	in_ns "$3" ip addr add "$4/24" dev "$b"
	in_ns "$1" ip link set "$a" up
	in_ns "$3" ip link set "$b" up
}

setup_net() {
	for ns in $NS_C $NS_G $NS_T $NS_O; do
		ip netns add "$ns"
		in_ns "$ns" ip link set lo up
	done
	link "$NS_C" $CLI "$NS_G" $GW
	link "$NS_G" $GW_T "$NS_T" $TGT
	link "$NS_O" $OTHER "$NS_G" $GW_O
	# The gateway's resolver reads this through "ip netns exec".
	mkdir -p "/etc/netns/$NS_G"
	cat >"/etc/netns/$NS_G/hosts" <<HOSTS
127.0.0.1 localhost
$TGT target.internal
$TGT www.internal
169.254.169.254 metadata.internal
$TGT mixed.internal
127.0.0.1 mixed.internal
HOSTS
	printf 'hosts: files\n' >"/etc/netns/$NS_G/nsswitch.conf"
	: >"/etc/netns/$NS_G/resolv.conf"
}

# Keys: the client's and the target sshd's.
setup_keys() {
	ssh-keygen -q -t ed25519 -N '' -C alice -f "$T/alice"
	ssh-keygen -q -t ed25519 -N '' -C bob -f "$T/bob"
	ssh-keygen -q -t ed25519 -N '' -C ci -f "$T/ci"
	ssh-keygen -q -t ed25519 -N '' -C stranger -f "$T/stranger"
	ssh-keygen -q -t ed25519 -N '' -f "$T/target_host"
	for k in alice bob ci stranger; do
		sed "s|IdentityFile .*|IdentityFile $T/$k|" >"$T/ssh_config_$k" \
		    <<CFG
Host *
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	GlobalKnownHostsFile /dev/null
	BatchMode yes
	LogLevel ERROR
	IdentitiesOnly yes
	IdentityFile x
	ConnectTimeout 10
CFG
	done
	cat >"$T/ssh_config" <<CFG
Host *
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	GlobalKnownHostsFile /dev/null
	BatchMode yes
	LogLevel ERROR
	IdentitiesOnly yes
	IdentityFile $T/alice
	ConnectTimeout 10
CFG
}

# The private target: an OpenSSH sshd that only ever runs one fixed command,
# and a web server.
start_target() {
	mkdir -p /run/sshd "$T/www"
	cat "$T/alice.pub" >"$T/target_authorized_keys"
	cat >"$T/sshd_config" <<CFG
ListenAddress $TGT
Port 22
HostKey $T/target_host
PidFile $T/target_sshd.pid
AuthorizedKeysFile $T/target_authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
ForceCommand echo rampart-target-ok
CFG
	in_ns "$NS_T" /usr/sbin/sshd -f "$T/sshd_config" -E "$T/target_sshd.log"
	echo "hello from the private network" >"$T/www/index.html"
	in_ns "$NS_T" python3 -m http.server 80 --bind $TGT \
	    --directory "$T/www" >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	wait_port "$NS_G" $TGT 22
	wait_port "$NS_G" $TGT 80
}

# wait_listen NS PORT: a TCP listener is up (without connecting to it).
wait_listen() {
	i=0
	while ! in_ns "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "nothing listens on port $2 in $1"
			return 1
		fi
		sleep 0.1
	done
}

wait_port() {	# wait_port NS HOST PORT
	i=0
	while ! in_ns "$1" nc -z -w 1 "$2" "$3" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 50 ]; then
			echo "port $2:$3 never opened in $1"
			return 1
		fi
		sleep 0.1
	done
}

# The policy the tests share; tests may append to it before starting.
write_policy() {
	cat >"$T/policy.conf" <<POL
deny 169.254.0.0/16
deny 10.77.2.99
group engineers
	allow 10.77.2.0/24 port 22,80,5000-5100
	allow *.internal port 22,80

user alice
	key $(cat "$T/alice.pub")
	member engineers
	totp none
	from 10.77.1.0/24
	max-connections 8

user bob
	key $(cat "$T/bob.pub")
	member engineers
	totp none
	from 10.77.1.0/24
	expires 2020-01-01

user ci
	key $(cat "$T/ci.pub")
	totp none
	from 10.77.3.0/24
	allow $TGT port 22,80
POL
}

write_gateway_conf() {
	cat >"$T/gateway.conf" <<CFG
ListenAddress $GW
ListenAddress $GW_O
Port 22
HostKey $T/gw_host
Policy $T/policy.conf
AuditLog $T/log/audit.jsonl
User nobody
LoginGraceTime ${GW_GRACE:-10s}
LogLevel verbose
${GW_EXTRA_CONF:-}
CFG
}

# start_gateway [BINARY [ARGS...]]
start_gateway() {
	bin=${1:-$GW_BIN}
	[ $# -gt 0 ] && shift
	[ -f "$T/gw_host" ] || ssh-keygen -q -t ed25519 -N '' -f "$T/gw_host"
	write_gateway_conf
	in_ns "$NS_G" "$bin" -d -f "$T/gateway.conf" "$@" \
	    >>"$T/gateway.log" 2>&1 &
	PIDS="$PIDS $!"
	# Not by connecting: an aborted connection counts against the source.
	if ! wait_listen "$NS_G" 22; then
		cat "$T/gateway.log"
		not_ok "the gateway did not start"
		summary
		exit 1
	fi
	# The master: the oldest process running this configuration (the
	# children are its forks).
	GW_PID=$(pgrep -o -f "$T/gateway.conf")
	PIDS="$PIDS $GW_PID"
}

# The OpenSSH client in the client namespace.
cssh() { in_ns "$NS_C" timeout 120 ssh -F "$T/ssh_config" "$@"; }
ossh() { in_ns "$NS_O" timeout 120 ssh -F "$T/ssh_config" "$@"; }

# End every process in the client namespaces (ssh -L/-D left running).
kill_clients() {
	for ns in $NS_C $NS_O; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
	done
	sleep 0.2
}

# web NS USER KEY: fetch the target's page through -W as USER with KEY's
# ssh_config, from the client (NS_C) or the other network (NS_O).
web() {
	gw=$GW
	[ "$1" = "$NS_O" ] && gw=$GW_O
	in_ns "$1" timeout 30 ssh -F "$T/ssh_config_$3" \
	    -W $TGT:80 "$2@$gw" 2>&1 <<REQ
GET / HTTP/1.0

REQ
}

audit() { $AUDITQ "$T/log/audit.jsonl" "$@"; }

# expect_audit WHAT KEY=VALUE...: at least one matching record (within
# a few seconds: the master writes when the session has ended).
expect_audit() {
	what=$1
	shift
	i=0
	while n=$(audit "$@" --count) && [ "${n:-0}" -lt 1 ] && [ $i -lt 30 ]
	do
		i=$((i + 1))
		sleep 0.1
	done
	if [ "${n:-0}" -ge 1 ]; then ok; else
		not_ok "$what: no audit record with $*"
		tail -n 5 "$T/log/audit.jsonl" | sed 's/^/    /'
	fi
}

setup_all() {
	need_root
	setup_net
	setup_keys
	start_target
	write_policy
}
