#!/bin/sh
# The Rampart demo ("make demo"): a laptop, the bastion and a private
# network in three network namespaces, a real OpenSSH sshd and web server
# behind the bastion, and the real OpenSSH client on the laptop.  The
# bastion's SSH port answers nobody until a knock: rampart-knockd runs beside
# the gateway and opens port 22 in nftables for 30 s to the address of a
# valid knock, which rampart-knock sends (by hand first, then as ssh's
# ProxyCommand).  The user, alice, logs in with her key and a TOTP code
# (enrolled with rampartctl totp enroll; oathtool plays her phone).  It
# shows what the gateway lets through, what it refuses and what it records,
# then removes everything it made -- also on Ctrl-C or failure.
#
#   sh tests/demo/demo.sh          run the demo (root; needs a build)
#   KEEP=1 sh tests/demo/demo.sh   leave it running to try by hand
#   sh tests/demo/demo.sh down     tear down a demo left running
#
# Environment: BUILD (default build), DEMO_NAME (default rampart-demo: the
# prefix of the namespaces, and /run/DEMO_NAME is the work directory),
# NO_COLOR.  Exit status 0 when every step worked, 1 otherwise.
#
#   laptop 198.51.100.10 --- 198.51.100.1 bastion 10.20.0.1 --- 10.20.0.10
#                                                                10.20.0.20
# No namespace has a route anywhere else, and the names used are resolved
# from per-namespace hosts files only: nothing leaves these namespaces.
set -u

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) BUILD_DIR=$BUILD ;;
*) BUILD_DIR=$REPO/$BUILD ;;
esac
BIN=$BUILD_DIR/bin
NAME=${DEMO_NAME:-rampart-demo}
KEEP=${KEEP:-0}
W=/run/$NAME
NS_L=$NAME-laptop
NS_B=$NAME-bastion
NS_P=$NAME-private
LAPTOP=198.51.100.10
B_PUB=198.51.100.1
B_PRIV=10.20.0.1
APP=10.20.0.10
DB=10.20.0.20
LIMIT=30		# seconds, for every command run in a namespace
PRETTY="python3 $REPO/tests/demo/audit_pretty.py"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	B=$(printf '\033[1m') G=$(printf '\033[32m') R=$(printf '\033[31m')
	D=$(printf '\033[2m') N=$(printf '\033[0m')
else
	B='' G='' R='' D='' N=''
fi

# --- teardown --------------------------------------------------------------

have_ns() { [ -e "/run/netns/$1" ]; }

# Ends every process in the demo's namespaces, then the namespaces, their
# /etc/netns entries and the work directory.  Idempotent.
teardown() {
	left=""
	for ns in $NS_L $NS_B $NS_P; do
		have_ns "$ns" || continue
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill $pids 2>/dev/null
		left="$left $ns"
	done
	i=0
	while [ -n "$left" ] && [ $i -lt 30 ]; do
		busy=""
		for ns in $left; do
			[ -n "$(ip netns pids "$ns" 2>/dev/null)" ] &&
			    busy="$busy $ns"
		done
		left=$busy
		[ -n "$left" ] && sleep 0.1
		i=$((i + 1))
	done
	for ns in $left; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
	done
	for ns in $NS_L $NS_B $NS_P; do
		have_ns "$ns" && ip netns del "$ns"
		rm -rf "/etc/netns/$ns"
	done
	rm -rf "$W"
}

if [ "${1:-}" = down ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "demo.sh down: run as root" >&2
		exit 1
	fi
	if ! have_ns "$NS_B" && ! have_ns "$NS_L" && ! have_ns "$NS_P" &&
	    [ ! -e "$W" ]; then
		echo "No demo named $NAME is running."
		exit 0
	fi
	teardown
	echo "The demo $NAME is gone: namespaces $NS_L, $NS_B, $NS_P, their processes, /etc/netns entries and $W."
	exit 0
elif [ $# -gt 0 ]; then
	echo "usage: demo.sh [down]" >&2
	exit 2
fi

# --- output helpers --------------------------------------------------------

T0=$(date +%s)
NSTEP=0
NOK=0
NFAIL=0
FAILED_STEPS=""

heading() {
	NSTEP=$((NSTEP + 1))
	printf '\n%s%d. %s%s\n' "$B" "$NSTEP" "$1" "$N"
}
say() { printf '   %s\n' "$@"; }
ok() {
	NOK=$((NOK + 1))
	printf '   %sOK%s      %s\n' "$G" "$N" "$1"
}
failed() {
	NFAIL=$((NFAIL + 1))
	FAILED_STEPS="$FAILED_STEPS $NSTEP"
	printf '   %sFAILED%s  %s\n' "$R" "$N" "$1"
}
# A step everything after depends on.
fatal() {
	failed "$1"
	if [ -s "$W/gateway.log" ]; then
		say "The gateway's log (last lines):"
		tail -n 15 "$W/gateway.log" | indent
	fi
	if [ -s "$W/knockd.log" ]; then
		say "knockd's log (last lines):"
		tail -n 15 "$W/knockd.log" | indent
	fi
	finish
}
indent() { sed "s/^/     $D|$N /"; }
# show_file FILE: a file with line numbers, so that policy.conf:N means
# something.
show_file() {
	printf '   %s%s:%s\n' "$B" "$1" "$N"
	awk '{ printf "     %2d  %s\n", NR, $0 }' "$W/$1"
}

prompt() {
	case $1 in
	"$NS_L") echo 'laptop$' ;;
	"$NS_B") echo 'bastion#' ;;
	"$NS_P") echo 'app.internal#' ;;
	esac
}

# in_ns NS CMD: run the shell command CMD in namespace NS, in the work
# directory, with build/bin and tests/demo on PATH and ./phone answering
# ssh's code prompts, for at most $LIMIT seconds.
in_ns() {
	ip netns exec "$1" env PATH="$BIN:$REPO/tests/demo:$PATH" \
	    SSH_ASKPASS="$W/phone" SSH_ASKPASS_REQUIRE=force \
	    timeout -k 5 $LIMIT sh -c "cd '$W' && $2"
}

# run NS CMD: print the command, run it, print what it wrote; RC is its
# exit status and $W/out its output.
run() {
	printf '   %s %s%s%s\n' "$(prompt "$1")" "$B" "$2" "$N"
	in_ns "$1" "$2" </dev/null >"$W/out" 2>&1
	RC=$?
	if [ -s "$W/out" ]; then indent <"$W/out"; fi
}

# wait_listen NS PORT: a TCP listener is up in NS, seen with ss (never by
# connecting: an aborted connection to the gateway penalises the source).
wait_listen() {
	i=0
	while ! ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN
	do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}

has() { grep -qF -- "$1" "$W/out"; }

# start_daemon NAME: check NAME.conf with rampart-NAME -t, then start
# rampart-NAME -d in the bastion's namespace in the background, its log in
# NAME.log and its PID in NAME.pid.
start_daemon() {
	run "$NS_B" "rampart-$1 -t -f $1.conf"
	[ $RC = 0 ] || fatal "rampart-$1 -t exit $RC"
	printf '   %s %s%s%s\n' "$(prompt "$NS_B")" "$B" \
	    "rampart-$1 -d -f $1.conf >$1.log 2>&1 &" "$N"
	ip netns exec "$NS_B" "$BIN/rampart-$1" -d -f "$W/$1.conf" \
	    >"$W/$1.log" 2>&1 3>&- 4>&- &
	echo $! >"$W/$1.pid"
}

AUDIT=$W/log/audit.jsonl
KAUDIT=$W/log/knockd-audit.jsonl
KPORT=62022
# closes: how many connections the audit log shows closed.  The master
# writes a session's last records (penalties among them) once its child is
# gone, then its connection-close.
closes() { grep -c '"event.action":"connection-close"' "$AUDIT" 2>/dev/null; }
# wait_closes N: until N connections are closed, or no connection is open
# if N is "all"; at most 5 s.
wait_closes() {
	i=0
	while [ $i -lt 50 ]; do
		c=$(closes)
		if [ "$1" = all ]; then
			o=$(grep -c '"event.action":"connection-open"' "$AUDIT" 2>/dev/null)
			[ "${o:-0}" -gt 0 ] && [ "$o" = "$c" ] && return 0
		else
			[ "${c:-0}" -ge "$1" ] && return 0
		fi
		i=$((i + 1))
		sleep 0.1
	done
	return 1
}
# penalty_left: the seconds the newest penalty record gives the laptop.
penalty_left() {
	grep '"event.action":"penalty"' "$AUDIT" 2>/dev/null | tail -n 1 |
	    sed -n 's/.*"rampart.penalty.seconds":\([0-9]*\).*/\1/p'
}

# --- the end: summary, clean-up or KEEP ------------------------------------

CLEANED=0
cleanup() {
	[ $CLEANED = 1 ] && return
	teardown
	CLEANED=1
}

# What is left of the demo after clean-up (nothing, normally).
leftovers() {
	for ns in $NS_L $NS_B $NS_P; do
		have_ns "$ns" && echo "namespace $ns"
		[ -e "/etc/netns/$ns" ] && echo "/etc/netns/$ns"
	done
	[ -e "$W" ] && echo "$W"
}
# report_cleanup: say whether clean-up was complete; 1 if not.
report_cleanup() {
	left=$(leftovers)
	if [ -z "$left" ]; then
		echo "Nothing is left behind: no namespace, process or file of the demo."
		return 0
	fi
	echo "${R}Clean-up incomplete${N}, still there:" $left
	return 1
}

try_by_hand() {
	gw=$(cat "$W/gateway.pid" 2>/dev/null)
	secret=$(sed -n 's/.*oathtool --totp -b \([A-Z2-7]*\).*/\1/p' "$W/phone" 2>/dev/null)
	cat <<EOF

${B}The demo is still running (KEEP=1).${N} Try it by hand, as root:

   cd $W
   ip netns exec $NS_L ssh -F ssh_config -J alice@bastion root@app.internal

   Port 22 of the bastion opens only to a knock: ssh_config's ProxyCommand
   knocks before every new connection (rampart-knock --then-connect).  By
   hand, and the door it opens (30 s):

   ip netns exec $NS_L $BIN/rampart-knock -S knock_server.pub -u alice -i alice_key bastion
   ip netns exec $NS_B nft list set inet rampart knock4

   asks for alice's code after her key: type the one her phone would show,
   from  oathtool --totp -b $secret
   or let ./phone answer:  export SSH_ASKPASS=$W/phone SSH_ASKPASS_REQUIRE=force
   That login stays open for 10 minutes after its last use (ControlPersist),
   and these ride on it with no new code:

   ip netns exec $NS_L ssh -F ssh_config -O forward -L 8080:app.internal:80 alice@bastion
   ip netns exec $NS_L curl http://127.0.0.1:8080/
   ip netns exec $NS_L ssh -F ssh_config alice@bastion
   ip netns exec $NS_L ssh -F ssh_config -O exit alice@bastion    (log out)

   sshuttle: the private network from the laptop, on alice's login (the
   laptop has its default route from step 11); stop it with kill -TERM:

   ip netns exec $NS_L sshuttle --ssh-cmd 'ssh -F ssh_config' -r alice@bastion 10.20.0.0/24 &
   ip netns exec $NS_L curl http://$APP/

   ci, the machine account, needs no code:
   ip netns exec $NS_L ssh -F ssh_config -v -W db.internal:5432 ci@bastion

   ip netns exec $NS_B $BIN/rampartctl policy explain -f policy.conf alice app.internal 22
   ip netns exec $NS_B $BIN/rampartctl totp verify -f totp.secrets -s state/totp.state alice CODE

   A code is good for one login: just after the demo, the current code may be
   the one it used, and is refused as reused; then wait for the next one
   (codes change every 30 s).
EOF
	now=$(date +%s)
	if [ "${PEN_UNTIL:-0}" -gt "$now" ]; then
		echo "   The demo's refused logins keep the laptop's address out for $((PEN_UNTIL - now)) s more."
	fi
	cat <<EOF

   A shell on the laptop:   ip netns exec $NS_L bash
   Change the policy:       edit policy.conf, then kill -HUP $gw
   Follow the audit trail:  tail -f log/audit.jsonl
                            $PRETTY log/audit.jsonl
                            $PRETTY log/knockd-audit.jsonl
   The gateway's own log:   gateway.log; knockd's: knockd.log

Tear it all down (namespaces, processes, files):

   sh $REPO/tests/demo/demo.sh down
EOF
	[ "$NAME" = rampart-demo ] || echo "   (with DEMO_NAME=$NAME in the environment)"
}

finish() {
	secs=$(($(date +%s) - T0))
	echo
	if [ "$KEEP" = 1 ] && [ -e "$W" ]; then
		CLEANED=1
		try_by_hand
	else
		printf '%sClean-up%s: stopping every process in the demo namespaces, deleting the\n' "$B" "$N"
		printf 'namespaces, /etc/netns/%s-* and %s.\n' "$NAME" "$W"
		cleanup
		report_cleanup || NFAIL=$((NFAIL + 1))
		cat <<EOF

To try it by hand: ${B}make demo KEEP=1${N} leaves all of this running and prints
the commands to use it and to tear it down.
EOF
	fi
	echo
	if [ $NFAIL = 0 ]; then
		echo "${G}${B}Demo finished in $secs s: all $NOK steps OK.${N}"
		exit 0
	fi
	echo "${R}${B}Demo finished in $secs s: FAILED at step(s)$FAILED_STEPS ($NOK OK, $NFAIL failed).${N}"
	exit 1
}

# --- start -----------------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
	echo "The demo needs root (it creates network namespaces): run 'make demo' as root." >&2
	exit 1
fi
for f in rampart-gateway rampartctl rampart-knockd rampart-knock; do
	if [ ! -x "$BIN/$f" ]; then
		echo "$BIN/$f is missing: run 'make' first (or 'make demo')." >&2
		exit 1
	fi
done
for c in ip ss ssh ssh-keygen /usr/sbin/sshd curl python3 timeout oathtool \
    nft nc
do
	if ! command -v $c >/dev/null 2>&1; then
		echo "$c is missing: run 'make deps' first (or 'make demo')." >&2
		exit 1
	fi
done

if have_ns "$NS_B" || have_ns "$NS_L" || have_ns "$NS_P" || [ -e "$W" ]
then
	echo "A demo named $NAME is still set up (KEEP=1?): tearing it down first."
	teardown
fi

# A trap may run while a command's output goes to a file: the handler
# writes to the script's own stdout and stderr, kept as fds 3 and 4
# (closed for the processes that stay in the background).
exec 3>&1 4>&2
interrupted() {
	{
		echo
		echo "${R}Interrupted${N}: cleaning up."
		cleanup
		report_cleanup
	} >&3 2>&4
	exit 130
}
trap cleanup EXIT
trap interrupted INT TERM HUP

cat <<EOF
${B}Rampart demo: a hardened SSH bastion between a laptop and a private network${N}

Three network namespaces stand in for three machines; no packet leaves them.

   laptop            bastion                       private network
   $LAPTOP --- $B_PUB    $B_PRIV --- $APP app.internal: sshd, web
                                                   $DB db.internal

The bastion runs the gateway (SSH, port 22) and rampart-knockd (UDP port
$KPORT), which keeps port 22 closed in nftables until a valid knock.

${D}"laptop\$ CMD" means CMD runs in the laptop's namespace (ip netns exec
$NS_L CMD), "bastion# CMD" in the bastion's; always in $W,
with $BUILD/bin and tests/demo on PATH and at most $LIMIT seconds per command.${N}
EOF

# --- 1. the network --------------------------------------------------------

heading "The network: only the bastion can reach the private network"
mkdir -p "$W" "$W/www" /run/sshd || fatal "cannot create $W"
chmod 755 "$W"
setup_net() {
	for ns in $NS_L $NS_B $NS_P; do
		ip netns add "$ns" && ip -n "$ns" link set lo up || return 1
	done
	ip link add eth0 netns "$NS_L" type veth peer name eth0 netns "$NS_B" &&
	ip link add eth1 netns "$NS_B" type veth peer name eth0 netns "$NS_P" &&
	ip -n "$NS_L" addr add $LAPTOP/24 dev eth0 &&
	ip -n "$NS_B" addr add $B_PUB/24 dev eth0 &&
	ip -n "$NS_B" addr add $B_PRIV/24 dev eth1 &&
	ip -n "$NS_P" addr add $APP/24 dev eth0 &&
	ip -n "$NS_P" addr add $DB/24 dev eth0 || return 1
	for l in "$NS_L eth0" "$NS_B eth0" "$NS_B eth1" "$NS_P eth0"; do
		set -- $l
		ip -n "$1" link set "$2" up || return 1
	done
	# The bastion is not a router: nothing crosses it but what the
	# gateway forwards.
	ip netns exec "$NS_B" sh -c \
	    'echo 0 >/proc/sys/net/ipv4/ip_forward' || return 1
	# Names come from hosts files only (no DNS server is asked).  The
	# laptop knows the bastion; only the bastion knows the private names.
	for ns in $NS_L $NS_B $NS_P; do
		mkdir -p "/etc/netns/$ns" &&
		printf 'hosts: files\n' >"/etc/netns/$ns/nsswitch.conf" &&
		: >"/etc/netns/$ns/resolv.conf" || return 1
	done
	printf '127.0.0.1 localhost\n%s bastion\n' $B_PUB \
	    >"/etc/netns/$NS_L/hosts"
	printf '127.0.0.1 localhost\n%s app.internal\n%s db.internal\n' \
	    $APP $DB >"/etc/netns/$NS_B/hosts"
	printf '127.0.0.1 localhost\n%s app.internal\n%s db.internal\n' \
	    $APP $DB >"/etc/netns/$NS_P/hosts"
}
setup_net || fatal "could not create the namespaces and links"

# The target: an OpenSSH sshd that runs one fixed command, and a web page.
ssh-keygen -q -t ed25519 -N '' -C app.internal -f "$W/app_host_key" &&
ssh-keygen -q -t ed25519 -N '' -C bastion -f "$W/bastion_host_key" ||
    fatal "ssh-keygen failed"
echo "demo-public-key-goes-here" >"$W/app_authorized_keys"
cat >"$W/app_sshd_config" <<EOF
ListenAddress $APP
HostKey $W/app_host_key
PidFile $W/app_sshd.pid
AuthorizedKeysFile $W/app_authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
ForceCommand echo "Hello from app.internal: this is its own sshd, and it sees you coming from \${SSH_CLIENT%% *}, the bastion."
EOF
echo "Hello from app.internal, a web server on the private network." \
    >"$W/www/index.html"
ip netns exec "$NS_P" /usr/sbin/sshd -f "$W/app_sshd_config" \
    -E "$W/app_sshd.log" 3>&- 4>&- || fatal "the target's sshd did not start"
ip netns exec "$NS_P" python3 -m http.server 80 --bind $APP \
    --directory "$W/www" >"$W/http.log" 2>&1 3>&- 4>&- &
wait_listen "$NS_P" 22 && wait_listen "$NS_P" 80 ||
    fatal "the target's sshd or web server did not start"

say "The laptop has no route to 10.20.0.0/24, and the bastion does not route"
say "packets (ip_forward is 0): the only way in is through the gateway."
run "$NS_L" "curl -sS --max-time 3 http://$APP/"
laptop_rc=$RC
run "$NS_B" "curl -sS --max-time 3 http://app.internal/"
if [ $laptop_rc != 0 ] && [ $RC = 0 ] && has "Hello from app.internal"; then
	ok "the laptop cannot reach app.internal; the bastion can"
else
	fatal "laptop curl exit $laptop_rc (should fail), bastion curl exit $RC (should work)"
fi

# --- 2. keys ---------------------------------------------------------------

heading "Throwaway keys for alice and ci, and the laptop's ssh_config"
run "$NS_L" "ssh-keygen -q -t ed25519 -N '' -C alice@laptop -f alice_key"
k1=$RC
run "$NS_L" "ssh-keygen -q -t ed25519 -N '' -C ci@laptop -f ci_key"
[ $k1 = 0 ] && [ $RC = 0 ] || fatal "ssh-keygen exit $k1 $RC"
cp "$W/alice_key.pub" "$W/app_authorized_keys"
{
	printf 'bastion %s\n' "$(cut -d' ' -f1,2 "$W/bastion_host_key.pub")"
	printf 'app.internal %s\n' "$(cut -d' ' -f1,2 "$W/app_host_key.pub")"
} >"$W/known_hosts"
cat >"$W/ssh_config" <<EOF
# The laptop's ssh settings for the demo.  Host keys are checked: the
# bastion's and app.internal's are already in known_hosts.
# ci, a machine account: its own key, no code to type, no shared login.
Match user ci
	IdentityFile $W/ci_key
	BatchMode yes
	ControlPath none
# One login to the bastion serves every later ssh: the first keeps its
# connection open, the others ride on it with no new key or code.
# The bastion's port 22 opens only to a knock (step 6): every new
# connection to it knocks first, signed with the user's own key.
Host bastion
	ProxyCommand $BIN/rampart-knock -S $W/knock_server.pub -u %r -i $W/%r_key --then-connect %h %p
	ControlMaster auto
	ControlPath $W/ctl-%r@%h
	ControlPersist 10m
Host *
	IdentityFile $W/alice_key
	IdentitiesOnly yes
	UserKnownHostsFile $W/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	# The bastion asks alice for a code after her key: ssh may ask it
	# (here through SSH_ASKPASS), once per login.
	BatchMode no
	NumberOfPasswordPrompts 1
	ConnectTimeout 10
	LogLevel ERROR
EOF
show_file ssh_config
ok "alice_key, ci_key, and known_hosts with the bastion's and app.internal's host keys"

# --- 3. the policy ---------------------------------------------------------

heading "The policy: who may reach what, and how they log in (docs/policy.md)"
cat >"$W/policy.conf" <<EOF
# Global rules apply to everyone, and a deny always wins.
deny 169.254.0.0/16			# cloud metadata service

group developers
	allow app.internal port 22,80	# its sshd and its web site

user alice				# an engineer
	key $(cut -d' ' -f1,2 "$W/alice_key.pub") alice@laptop
	member developers
	totp required			# her key, then a code (the default)
	allow 10.20.0.10 port 80	# the web site by address, for sshuttle

user ci					# a machine account
	key $(cut -d' ' -f1,2 "$W/ci_key.pub") ci@laptop
	member developers
	totp none			# its key alone, which needs
	from 198.51.100.0/24		# a source restriction: the laptop's network
EOF
show_file policy.conf
say "Nothing else is allowed: db.internal is on the same network, but no rule"
say "names it.  sshuttle asks for addresses, not names, and a rule naming a"
say "host matches requests for that name: alice's last rule is for sshuttle."
run "$NS_B" "rampartctl policy check policy.conf"
if [ $RC = 0 ]; then ok "rampartctl policy check: the policy is valid"; else
	fatal "rampartctl policy check exit $RC"; fi

# --- 4. TOTP enrolment -----------------------------------------------------

heading "alice's second factor: rampartctl totp enroll"
say "The administrator makes alice's secret, on the bastion:"
run "$NS_B" "rampartctl totp enroll -f totp.secrets alice"
secret=$(sed -n 's/.*otpauth:[^ ]*secret=\([A-Z2-7]*\).*/\1/p' "$W/out" |
    head -n 1)
[ $RC = 0 ] && [ -n "$secret" ] && has "Scratch codes" ||
    fatal "rampartctl totp enroll exit $RC, or no secret in its output"
say "alice scans the QR code with her authenticator app.  The otpauth:// URI"
say "under it says the same, to type in by hand: secret= is the shared secret."
say "The scratch codes are for a day without her phone: each works for one"
say "login."
say "The gateway reads the file as its User, nobody (gateway.conf, next step),"
say "whose group is nogroup; nobody else may read it."
run "$NS_B" "chgrp nogroup totp.secrets && chmod 0640 totp.secrets"
[ $RC = 0 ] || fatal "chgrp/chmod exit $RC"
cat >"$W/phone" <<EOF
#!/bin/sh
# alice's phone.  ssh runs it for the bastion's prompt (SSH_ASKPASS) and
# it answers with the current code for the secret in the QR code:
# oathtool --totp stands in for the authenticator app.  CODE=... makes it
# answer with that code instead.  It shows the prompt and its answer as
# they would look on alice's terminal.
code=\${CODE:-\$(oathtool --totp -b $secret)}
printf '%s%s\\n' "\$1" "\$code" >&2
echo "\$code"
EOF
chmod 755 "$W/phone"
say "Her phone, for the demo: ./phone, where oathtool --totp makes the codes."
show_file phone
say "Every laptop\$ command runs with SSH_ASKPASS=./phone SSH_ASKPASS_REQUIRE=force."
code=$(CODE= sh "$W/phone" 'Verification code: ' 2>/dev/null)
case $code in
[0-9][0-9][0-9][0-9][0-9][0-9]) ok "totp.secrets holds alice's secret (root:nogroup, 0640); ./phone has it too" ;;
*) fatal "./phone made no code: \"$code\"" ;;
esac

# --- 5. the gateway --------------------------------------------------------

heading "The gateway's configuration, checked, and the gateway started"
cat >"$W/gateway.conf" <<EOF
# Listen on the bastion's public side only.
ListenAddress $B_PUB
Port 22
HostKey $W/bastion_host_key
Policy $W/policy.conf
# The second factor: the secrets, and where the last accepted time step
# of each user is kept, so that no code is accepted twice.
TotpSecrets $W/totp.secrets
TotpState $W/state/totp.state
AuditLog $AUDIT
# The account it drops to after binding the port and loading its keys.
User nobody
LoginGraceTime 30s
LogLevel verbose
EOF
show_file gateway.conf
start_daemon gateway
gw=$(cat "$W/gateway.pid")
wait_listen "$NS_B" 22 || fatal "nothing listens on $B_PUB:22"
# It binds the port as root, then drops to User.
i=0
while uid=$(awk '/^Uid:/ { print $2 }' "/proc/$gw/status" 2>/dev/null) &&
    [ "$uid" = 0 ] && [ $i -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
if [ -n "$uid" ] && [ "$uid" != 0 ]; then
	ok "the gateway listens on $B_PUB:22 (pid $gw, running as $(id -nu "$uid"))"
else
	fatal "the gateway (pid $gw) is not running as an unprivileged user"
fi

# --- 6. the door: rampart-knockd ------------------------------------------

heading "The door: port 22 answers nobody until a knock (rampart-knockd)"
say "rampart-knockd runs beside the gateway.  It has a key pair of its own:"
say "the secret stays on the bastion, the public key goes to the users."
run "$NS_B" "rampartctl knock keygen --server knock_server.key"
head -n 1 "$W/out" >"$W/knock_server.pub"
[ $RC = 0 ] && [ "$(wc -c <"$W/knock_server.pub")" = 45 ] ||
    fatal "rampartctl knock keygen --server exit $RC"
mkdir -p "$W/log"
cat >"$W/knockd.conf" <<EOF
# Knocks arrive on the bastion's public side, UDP port $KPORT.
ListenAddress $B_PUB
ListenPort $KPORT
ServerKey $W/knock_server.key
# The gateway's policy: a knock is signed with the user's own SSH key.
Policy $W/policy.conf
# The door: TCP port 22, for 30 s, to the address that knocked.
Ports 22
OpenTime 30s
AuditLog $KAUDIT
# knockd makes the nftables table inet rampart, and removes it at exit.
NftCreate yes
User nobody
LogLevel verbose
EOF
show_file knockd.conf
start_daemon knockd
i=0
until ip netns exec "$NS_B" ss -Hlun "sport = :$KPORT" | grep -q . &&
    ip netns exec "$NS_B" nft list set inet rampart knock4 >/dev/null 2>&1
do
	i=$((i + 1))
	[ $i -gt 100 ] && fatal "knockd did not start"
	sleep 0.1
done
say "Its table: established connections pass, port 22 is dropped unless the"
say "source is in the set knock4 (knock6 for IPv6)."
run "$NS_B" "nft list chain inet rampart input"
say "Before a knock, the laptop's SYN to port 22 gets no answer at all:"
run "$NS_L" "nc -z -v -w 2 bastion 22"
closed_rc=$RC
has "timed out" || closed_rc=0
say "alice knocks: one UDP datagram, signed with her SSH key and sealed to"
say "knockd's public key.  knockd never answers; the door just opens."
run "$NS_L" "rampart-knock -S knock_server.pub -u alice -i alice_key bastion"
knock_rc=$RC
# The datagram is on its way: wait (at most 3 s) for the element.
i=0
while ! ip netns exec "$NS_B" nft get element inet rampart knock4 \
    "{ $LAPTOP . 22 }" >/dev/null 2>&1 && [ $i -lt 30 ]; do
	i=$((i + 1))
	sleep 0.1
done
run "$NS_B" "nft list set inet rampart knock4"
say "From here on ssh knocks by itself: ssh_config's ProxyCommand (step 2)"
say "runs rampart-knock --then-connect, which knocks, waits until port 22"
say "answers and then carries the SSH connection."
if [ $closed_rc != 0 ] && [ $knock_rc = 0 ] && has "$LAPTOP . 22"; then
	ok "port 22 was silent; after alice's knock, knock4 holds $LAPTOP . 22 for 30 s"
else
	fatal "nc to port 22 before the knock exit $closed_rc (should time out), rampart-knock exit $knock_rc, or no element $LAPTOP . 22"
fi

# --- 7. ssh -J: the login --------------------------------------------------

heading "ssh -J: log in to app.internal's own sshd through the bastion"
say "The bastion checks alice's key, then asks for a code; ./phone answers."
say "The client asks the bastion for a TCP channel to app.internal:22 and runs"
say "SSH to app.internal inside it, end to end: the bastion sees no plaintext."
run "$NS_L" "ssh -F ssh_config -J alice@bastion root@app.internal"
used=$(sed -n 's/.*Verification code: \([0-9]*\)$/\1/p' "$W/out" | head -n 1)
j_ok=0
[ $RC = 0 ] && [ -n "$used" ] && has "Hello from app.internal: this is its own sshd" &&
    has "coming from $B_PRIV" && j_ok=1
say "This login stays open (ControlMaster, ControlPersist) and the steps below"
say "ride on it: one code per working session, as for an engineer, and no"
say "wait for the next 30 s code, which each new login would need."
run "$NS_L" "ssh -F ssh_config -O check alice@bastion"
if [ $j_ok = 1 ] && has "Master running"; then
	ok "ssh -J reached app.internal's sshd after the key and code $used; the login stays open"
else
	failed "ssh -J exit, or no open login (code \"$used\")"
fi

# --- 8. ssh -L -------------------------------------------------------------

heading "ssh -L: a local port on the laptop forwarded to app.internal:80"
say "-O forward asks alice's open login for the forward: no new login."
run "$NS_L" "ssh -F ssh_config -O forward -L 8080:app.internal:80 alice@bastion"
if [ $RC = 0 ] && wait_listen "$NS_L" 8080; then
	run "$NS_L" "curl -sS --max-time 5 http://127.0.0.1:8080/"
	if [ $RC = 0 ] && has "Hello from app.internal, a web server"; then
		ok "the web page came through the -L forward"
	else
		failed "curl through -L exit $RC"
	fi
else
	failed "ssh -L did not open port 8080"
fi

# --- 9. ssh -D -------------------------------------------------------------

heading "ssh -D: a SOCKS proxy on the laptop; the bastion resolves the name"
say "--socks5-hostname hands the name app.internal to ssh, which sends it to"
say "the bastion: the bastion resolves it, checks the address against the"
say "policy and connects to that very address."
run "$NS_L" "ssh -F ssh_config -O forward -D 1080 alice@bastion"
if [ $RC = 0 ] && wait_listen "$NS_L" 1080; then
	run "$NS_L" "curl -sS --max-time 5 --socks5-hostname 127.0.0.1:1080 http://app.internal/"
	if [ $RC = 0 ] && has "Hello from app.internal, a web server"; then
		ok "the web page came through the SOCKS proxy, by name"
	else
		failed "curl through -D exit $RC"
	fi
else
	failed "ssh -D did not open port 1080"
fi

# --- 10. denied -------------------------------------------------------------

heading "Denied destinations: \"administratively prohibited\", and why"
say "On alice's shared login, ssh only says that the bastion refused:"
deny_ok=1
run "$NS_L" "ssh -F ssh_config -W db.internal:5432 alice@bastion"
[ $RC != 0 ] && has "open refused" || deny_ok=0
say "The reason is sent as an SSH debug message, to the ssh that holds the"
say "connection.  On a connection of its own, ssh -v shows it as \"Remote:"
say "policy: ...\"; here for ci, which logs in with its key alone (only those"
say "lines of ssh -v are kept)."
run "$NS_L" "ssh -F ssh_config -v -W db.internal:5432 ci@bastion 2>&1 | grep -E 'open failed|Remote: policy'"
has "administratively prohibited" &&
    has "Remote: policy: db.internal:5432 not allowed for ci: no rule matches" ||
    deny_ok=0
run "$NS_L" "ssh -F ssh_config -v -W 169.254.169.254:80 ci@bastion 2>&1 | grep -E 'open failed|Remote: policy'"
has "administratively prohibited" &&
    has "Remote: policy: 169.254.169.254:80 not allowed for ci: denied by $W/policy.conf:2" ||
    deny_ok=0
if [ $deny_ok = 1 ]; then
	ok "all three refused; ssh -v gives the reason"
else
	failed "a refusal or its reason is missing"
fi

# --- 11. sshuttle ----------------------------------------------------------

heading "sshuttle: the private network as if the laptop were on it"
say "sshuttle makes a VPN of an SSH login: the laptop's firewall hands each"
say "connection to 10.20.0.0/24 to the sshuttle client, which carries it over"
say "SSH.  With OpenSSH it runs Python through a shell on the server; the"
say "bastion has neither.  The gateway recognises sshuttle's command, reads"
say "and drops the Python code sent after it (never running any), and speaks"
say "sshuttle's protocol itself, checking each connection against the policy."
say "sshuttle catches only what the laptop would send somewhere: like any"
say "laptop, it gets a default route (to the bastion, which routes nothing)."
run "$NS_L" "ip route add default via $B_PUB"
route_rc=$RC
say "One line, on alice's open login (ssh_config: the knock, ControlMaster):"
printf '   %s %s%s%s\n' "$(prompt "$NS_L")" "$B" \
    "sshuttle --ssh-cmd 'ssh -F ssh_config' -r alice@bastion 10.20.0.0/24 >sshuttle.log 2>&1 &" \
    "$N"
ip netns exec "$NS_L" env PATH="$BIN:$PATH" SSH_ASKPASS="$W/phone" \
    SSH_ASKPASS_REQUIRE=force sh -c "cd '$W' && exec sshuttle --ssh-cmd \
    'ssh -F ssh_config' -r alice@bastion 10.20.0.0/24" \
    >"$W/sshuttle.log" 2>&1 3>&- 4>&- &
shpid=$!
echo $shpid >"$W/sshuttle.pid"
# It installs its firewall rules once the gateway has sent its routes.
i=0
until ip netns exec "$NS_L" iptables -w -t nat -S 2>/dev/null |
    grep -q -- "-d 10.20.0.0/24 .*REDIRECT"; do
	i=$((i + 1))
	if [ $i -gt 150 ] || ! kill -0 $shpid 2>/dev/null; then
		break
	fi
	sleep 0.1
done
run "$NS_L" "cat sshuttle.log; iptables -t nat -S sshuttle-12300"
sh_ok=0
[ $route_rc = 0 ] && has "Connected to server." && has "REDIRECT" && sh_ok=1
say "Plain curl to app.internal's address: no -J, no proxy, no forward."
run "$NS_L" "curl -sS --max-time 5 http://$APP/"
[ $RC = 0 ] && has "Hello from app.internal, a web server" || sh_ok=0
say "db.internal is on that network too, but alice's policy does not name"
say "it: the gateway refuses, and sshuttle can only close the connection it"
say "has already accepted: curl sees an empty reply (exit 52)."
run "$NS_L" "curl -sS --max-time 5 http://$DB:5432/"
say "exit status: $RC"
[ $RC = 52 ] && has "Empty reply from server" || sh_ok=0
say "The reason goes to sshuttle's terminal (its standard error), as \" s:\""
say "lines from the server:"
# The line may land a moment after curl's answer.
i=0
until grep -q " s: rampart: " "$W/sshuttle.log" || [ $i -gt 20 ]; do
	i=$((i + 1))
	sleep 0.1
done
run "$NS_L" "grep ' s: ' sshuttle.log"
has "$DB:5432 not allowed for alice" || sh_ok=0
say "alice logs out of sshuttle (SIGTERM; sshuttle removes its rules)."
kill -TERM $shpid 2>/dev/null
# Its firewall helper removes the rules once sshuttle is gone.
i=0
while { kill -0 $shpid 2>/dev/null ||
    ip netns exec "$NS_L" iptables -w -t nat -S | grep -q sshuttle; } &&
    [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.1
done
run "$NS_L" "iptables -t nat -S | grep -c sshuttle"
[ "$(cat "$W/out")" = 0 ] || sh_ok=0
say "What the bastion recorded: the sshuttle session on alice's login, each"
say "connection allowed or denied by the policy's rules, and closed with its"
say "bytes."
wait_shuttle_closes() {
	i=0
	while [ $i -lt 50 ]; do
		n=$(grep -F '"event.action":"channel-close"' "$AUDIT" |
		    grep -cF '"rampart.channel.type":"sshuttle"')
		[ "${n:-0}" -ge 1 ] && return 0
		i=$((i + 1))
		sleep 0.1
	done
	return 1
}
wait_shuttle_closes
run "$NS_B" "grep sshuttle log/audit.jsonl | audit_pretty.py -"
has "sshuttle-start" && has "-> $APP:80" && has "-> $DB:5432" || sh_ok=0
if [ $sh_ok = 1 ]; then
	ok "sshuttle: curl reached app.internal directly; db.internal: exit 52; audited"
else
	failed "sshuttle: no tunnel, a wrong answer, rules left behind or no audit records"
fi

# --- 12. shell -------------------------------------------------------------

heading "A shell on the bastion: refused, with a short text and exit status 1"
run "$NS_L" "ssh -F ssh_config alice@bastion </dev/null"
say "exit status: $RC"
if [ $RC = 1 ] && has "You are alice" && has "allow app.internal port 22,80"
then
	ok "no shell: the text says what alice may reach, and the exit status is 1"
else
	failed "shell request: exit $RC"
fi

# --- 13. the second factor -------------------------------------------------

heading "The second factor: a code works once, and a wrong one is refused"
say "Someone with alice's key (copied from her laptop) and the code she used"
say "in step 7 (seen over her shoulder) tries both, on a login of their own"
say "(-S none: not alice's open one)."
totp_ok=1
c0=$(closes)
run "$NS_L" "CODE=$used ssh -F ssh_config -S none -W app.internal:80 alice@bastion"
[ $RC = 255 ] && has "Verification code: $used" &&
    has "Permission denied (keyboard-interactive)" || totp_ok=0
# Wait for the session's end: then every penalty it earned is recorded.
wait_closes $((c0 + 1))
left=$(penalty_left)
say "The failed login also penalised the laptop's address: the bastion turns"
say "its connections away for ${left:-?} s (PerSourcePenalties).  The demo waits."
sleep "${left:-5}.2" &
wait $!
say "A wrong code:"
run "$NS_L" "CODE=123456 ssh -F ssh_config -S none -W app.internal:80 alice@bastion"
[ $RC = 255 ] && has "Permission denied (keyboard-interactive)" || totp_ok=0
wait_closes $((c0 + 2))
left=$(penalty_left)
PEN_UNTIL=$(($(date +%s) + ${left:-0}))
say "What the bastion recorded:"
run "$NS_B" "grep auth-totp log/audit.jsonl | audit_pretty.py -"
has "success  alice   reason: code accepted" &&
    has "reason: code reused" && has "reason: wrong code" || totp_ok=0
if [ $totp_ok = 1 ]; then
	ok "the reused code and a wrong one: Permission denied (keyboard-interactive)"
else
	failed "a reused or wrong code was not refused as it should be"
fi

# --- 14. explain -----------------------------------------------------------

heading "rampartctl policy explain: the same decisions, offline"
say "Run on the bastion, so names resolve as they do for the gateway."
run "$NS_B" "rampartctl policy explain -f policy.conf alice app.internal 80"
e1=$RC
run "$NS_B" "rampartctl policy explain -f policy.conf alice db.internal 5432"
e2=$RC
run "$NS_B" "rampartctl policy explain -f policy.conf alice 169.254.169.254 80"
e3=$RC
if [ $e1 = 0 ] && [ $e2 = 1 ] && [ $e3 = 1 ]; then
	ok "allowed (exit 0), denied (exit 1), denied (exit 1)"
else
	failed "explain exit statuses $e1 $e2 $e3, wanted 0 1 1"
fi

# --- 15. the audit trail ---------------------------------------------------

heading "The audit trail of this demo"
say "alice logs out: her open login to the bastion ends."
run "$NS_L" "ssh -F ssh_config -O exit alice@bastion"
logout_rc=$RC
# Wait until the master has written every session's last records.
wait_closes all
if [ "$KEEP" != 1 ]; then
	say "The gateway and knockd are stopped first (SIGTERM), so their trails"
	say "end with their service-stop records (and knockd removes its table)."
	gw=$(cat "$W/gateway.pid")
	kd=$(cat "$W/knockd.pid")
	kill -TERM "$gw" "$kd" 2>/dev/null
	i=0
	while { kill -0 "$gw" || kill -0 "$kd"; } 2>/dev/null &&
	    [ $i -lt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
fi
say "One line per JSON record, made by tests/demo/audit_pretty.py: times in"
say "UTC, session = the first 7 hex digits of rampart.session.id; the client's"
say "port, version and PID are only in the raw file."
echo
$PRETTY "$AUDIT" >"$W/out" 2>&1
prc=$?
sed 's/^/   /' "$W/out"
echo
COPY=$BUILD_DIR/$NAME-audit.jsonl
cp "$AUDIT" "$COPY" 2>/dev/null || COPY=""
if [ "$KEEP" = 1 ]; then
	say "The raw records, one JSON object per line (docs/audit.md): $AUDIT"
else
	say "The raw records, one JSON object per line (docs/audit.md), are kept"
	say "in ${COPY:-(copy failed)}."
fi
say "knockd keeps a trail of its own: every knock it accepted, with the"
say "address and port it opened and who signed it (log/knockd-audit.jsonl)."
echo
$PRETTY "$KAUDIT" >"$W/out" 2>&1
kprc=$?
sed 's/^/   /' "$W/out"
echo
knocks() {
	grep '"event.action":"knock-accepted"' "$KAUDIT" 2>/dev/null |
	    grep -c "\"user.name\":\"$1\""
}
n_kalice=$(knocks alice)
n_kci=$(knocks ci)
count() { grep -c "$1" "$AUDIT"; }
# channels ssh opened (direct-tcpip), and sshuttle's connections
chans() { grep "\"event.action\":\"$1\"" "$AUDIT"; }
ssh_chans() { chans "$1" | grep -vF '"rampart.channel.type":"sshuttle"'; }
sh_chans() { chans "$1" | grep -F '"rampart.channel.type":"sshuttle"'; }
n_allow=$(ssh_chans channel-open | grep -c '"event.outcome":"success"')
n_deny=$(ssh_chans channel-open | grep -c '"event.outcome":"failure"')
n_close=$(ssh_chans channel-close | grep -c .)
n_shallow=$(sh_chans channel-open | grep -c '"event.outcome":"success"')
n_shdeny=$(sh_chans channel-open | grep -c '"event.outcome":"failure"')
n_shclose=$(sh_chans channel-close | grep -c .)
n_shstart=$(count '"event.action":"sshuttle-start"')
n_shell=$(count '"rampart.request":"shell"')
n_code=$(grep '"event.action":"auth-totp"' "$AUDIT" | grep -c '"event.outcome":"success"')
n_reuse=$(grep '"event.action":"auth-totp"' "$AUDIT" | grep -c '"event.reason":"code reused')
n_wrong=$(grep '"event.action":"auth-totp"' "$AUDIT" | grep -c '"event.reason":"wrong code')
n_keyonly=$(grep '"event.action":"auth-publickey"' "$AUDIT" | grep '"user.name":"ci"' | grep -c 'key-only account')
if [ $prc = 0 ] && [ $logout_rc = 0 ] && [ "$n_allow" = 3 ] &&
    [ "$n_deny" = 3 ] && [ "$n_shell" = 1 ] && [ "$n_close" = 3 ] &&
    [ "$n_code" = 1 ] && [ "$n_reuse" = 1 ] && [ "$n_wrong" = 1 ] &&
    [ "$n_keyonly" = 2 ] && [ $kprc = 0 ] && [ "${n_kalice:-0}" -ge 2 ] &&
    [ "${n_kci:-0}" -ge 1 ] && [ "$n_shstart" = 1 ] &&
    [ "$n_shallow" = 1 ] && [ "$n_shdeny" = 1 ] && [ "$n_shclose" = 1 ]
then
	ok "every line is a valid record: 1 code accepted, 1 reused and 1 wrong refused; 3 forwards allowed and closed, 3 denied, 1 shell refused; 1 sshuttle session, 1 connection allowed and closed, 1 denied; knocks accepted: alice $n_kalice, ci $n_kci"
else
	failed "audit: valid=$((prc == 0)) logout=$logout_rc codes ok=$n_code reused=$n_reuse wrong=$n_wrong key-only=$n_keyonly allowed=$n_allow denied=$n_deny shell=$n_shell closed=$n_close (wanted 1 0 1 1 1 2 3 3 1 3); sshuttle start=$n_shstart allowed=$n_shallow denied=$n_shdeny closed=$n_shclose (wanted 1 1 1 1); knockd trail valid=$((kprc == 0)) knocks alice=$n_kalice (>= 2) ci=$n_kci (>= 1)"
fi

finish
