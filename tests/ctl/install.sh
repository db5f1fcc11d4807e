#!/bin/sh
# "make install" into a temporary DESTDIR puts every file where
# rampart-gateway(8), rampart-knockd(8) and the Makefile say, with sane
# modes, writes nothing outside PREFIX, rewrites the units' paths to the
# installed binaries, and can run again.  With systemd-analyze, the installed units pass
# "systemd-analyze verify" (their man pages included) and their offline
# security exposure stays where it was measured (systemd 252: 2.4 for the
# gateway, 1.7 for knockd).
set -u
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# inst DESTDIR PREFIX [VAR=VALUE...]: make install, quietly.
inst() {
	d=$1
	p=$2
	shift 2
	make -C "$root" --no-print-directory install DESTDIR="$d" \
	    PREFIX="$p" "$@" >"$tmp/make.log" 2>&1
	r=$?
	if [ $r -ne 0 ]; then sed 's/^/    /' "$tmp/make.log"; fi
	return $r
}

# mode FILE WANT: a regular file with exactly that mode.
mode() {
	if [ ! -f "$1" ] || [ -L "$1" ]; then
		not_ok "${1#"$tmp"/}: missing or not a regular file"
		return
	fi
	got=$(stat -c %a "$1")
	if [ "$got" = "$2" ]; then ok; else
		not_ok "${1#"$tmp"/}: mode $got, wanted $2"
	fi
}

# same SOURCE INSTALLED: installed unchanged.
same() {
	if cmp -s "$root/$1" "$2"; then ok; else
		not_ok "${2#"$tmp"/}: differs from $1"
	fi
}

d=$tmp/usr
if inst "$d" /usr; then ok; else not_ok "make install PREFIX=/usr"; fi
echo "installed (PREFIX=/usr):"
(cd "$d" && find . -mindepth 1 | sort | sed 's/^\./    /')

mode "$d/usr/bin/rampartctl" 755
mode "$d/usr/sbin/rampart-gateway" 755
mode "$d/usr/share/man/man8/rampartctl.8" 644
mode "$d/usr/share/man/man8/rampart-gateway.8" 644
mode "$d/usr/share/man/man5/gateway.conf.5" 644
mode "$d/usr/lib/systemd/system/rampart-gateway.service" 644
same docs/rampartctl.8 "$d/usr/share/man/man8/rampartctl.8"
same docs/rampart-gateway.8 "$d/usr/share/man/man8/rampart-gateway.8"
same docs/gateway.conf.5 "$d/usr/share/man/man5/gateway.conf.5"
n=0
for f in "$root"/docs/examples/*.conf; do
	n=$((n + 1))
	e=$d/usr/share/doc/rampart/examples/$(basename "$f")
	mode "$e" 644
	same "docs/examples/$(basename "$f")" "$e"
done
if [ $n -ge 1 ]; then ok; else not_ok "no docs/examples/*.conf"; fi

# Directories 0755; nothing writable by group or others, nothing set-id,
# nothing outside PREFIX (no /etc, no /var: the gateway makes those).
bad=$(find "$d" -mindepth 1 \( -type d ! -perm 755 \) -o -perm /7022)
if [ -z "$bad" ]; then ok; else not_ok "bad modes: $bad"; fi
out=$(cd "$d" && find . -mindepth 1 ! -path ./usr ! -path './usr/*')
if [ -z "$out" ]; then ok; else not_ok "outside PREFIX: $out"; fi

# The unit runs the installed binary, and only that.
u=$d/usr/lib/systemd/system/rampart-gateway.service
expect_in "ExecStart=/usr/sbin/rampart-gateway" "$u" "unit ExecStart"
expect_in "ExecStartPre=/usr/sbin/rampart-gateway -t" "$u" \
    "unit ExecStartPre"
if grep -q '^ExecStart=/usr/sbin/rampart-gateway$' "$u" &&
    ! grep -q '^ExecStart=.* -d' "$u"; then ok; else
	not_ok "unit: ExecStart must run the gateway without -d"
fi
if grep -q '^KillMode=mixed$' "$u"; then ok; else
	not_ok "unit: KillMode=mixed (the master ends the sessions)"
fi

# rampart-knockd, its pages, unit and nftables table; rampart-knock and
# its page.
mode "$d/usr/sbin/rampart-knockd" 755
mode "$d/usr/bin/rampart-knock" 755
mode "$d/usr/share/man/man8/rampart-knockd.8" 644
mode "$d/usr/share/man/man5/knockd.conf.5" 644
mode "$d/usr/share/man/man1/rampart-knock.1" 644
mode "$d/usr/lib/systemd/system/rampart-knockd.service" 644
mode "$d/usr/share/doc/rampart/examples/rampart.nft" 644
same docs/rampart-knockd.8 "$d/usr/share/man/man8/rampart-knockd.8"
same docs/knockd.conf.5 "$d/usr/share/man/man5/knockd.conf.5"
same docs/rampart-knock.1 "$d/usr/share/man/man1/rampart-knock.1"
same knockd/rampart.nft "$d/usr/share/doc/rampart/examples/rampart.nft"
ku=$d/usr/lib/systemd/system/rampart-knockd.service
if grep -q '^ExecStart=/usr/sbin/rampart-knockd$' "$ku" &&
    grep -q '^ExecStartPre=/usr/sbin/rampart-knockd -t$' "$ku"; then ok
else
	not_ok "knockd unit: ExecStart and ExecStartPre -t, without -d"
fi
if grep -q '^CapabilityBoundingSet=CAP_NET_ADMIN$' "$ku" &&
    grep -q '^AmbientCapabilities=CAP_NET_ADMIN$' "$ku"; then ok; else
	not_ok "knockd unit: CAP_NET_ADMIN must be its only capability"
fi

# Again into the same place: install is repeatable.
if inst "$d" /usr; then ok; else not_ok "make install, a second time"; fi

# Another PREFIX moves the unit's paths with it; UNITDIR moves the unit.
l=$tmp/local
if inst "$l" /usr/local; then ok; else not_ok "make install PREFIX=/usr/local"; fi
lu=$l/usr/local/lib/systemd/system/rampart-gateway.service
mode "$lu" 644
mode "$l/usr/local/sbin/rampart-gateway" 755
expect_in "ExecStart=/usr/local/sbin/rampart-gateway" "$lu" \
    "PREFIX=/usr/local unit"
if grep -q '/usr/sbin/' "$lu"; then
	not_ok "PREFIX=/usr/local unit still names /usr/sbin"
else ok; fi
o=$tmp/unitdir
if inst "$o" /usr UNITDIR=/lib/systemd/system; then ok; else
	not_ok "make install UNITDIR=/lib/systemd/system"
fi
mode "$o/lib/systemd/system/rampart-gateway.service" 644
mode "$o/lib/systemd/system/rampart-knockd.service" 644
lk=$l/usr/local/lib/systemd/system/rampart-knockd.service
expect_in "ExecStart=/usr/local/sbin/rampart-knockd" "$lk" \
    "PREFIX=/usr/local knockd unit"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: $(basename "$0"): systemd-analyze is not installed" \
	    "(make deps): the unit is not verified"
	summary
	exit
fi

# verify checks that every Exec path is executable, so the paths point
# into DESTDIR; MANPATH lets it find Documentation= among the installed
# pages.
mkdir "$tmp/verify"

# check_unit UNIT MAX: verify, and the offline exposure score at most MAX
# tenths (systemd 252 and later).  Measured when written: the gateway 2.4
# (MAX 25), knockd 1.7 (MAX 18).
# (inst sets d: the first install is in $tmp/usr.)
check_unit() {
	v=$tmp/verify/$1
	i=$tmp/usr/usr
	sed "s|=/usr/sbin/|=$i/sbin/|" "$i/lib/systemd/system/$1" >"$v"
	if command -v man >/dev/null 2>&1; then
		MANPATH=$i/share/man systemd-analyze verify "$v" \
		    >"$tmp/verify.out" 2>&1
	else
		echo "note: man is not installed: Documentation= is not checked"
		systemd-analyze verify --man=no "$v" >"$tmp/verify.out" 2>&1
	fi
	r=$?
	if [ $r -eq 0 ] && [ ! -s "$tmp/verify.out" ]; then ok; else
		not_ok "$1: systemd-analyze verify (exit $r):"
		sed 's/^/    /' "$tmp/verify.out"
	fi
	systemd-analyze security --offline=yes --threshold="$2" "$v" \
	    >"$tmp/sec.out" 2>&1
	r=$?
	score=$(sed -n \
	    's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' \
	    "$tmp/sec.out")
	if [ -z "$score" ] && grep -q -- '--offline' "$tmp/sec.out"; then
		echo "SKIP: this systemd-analyze has no security --offline"
	elif [ $r -eq 0 ] && [ -n "$score" ]; then
		echo "$1: systemd-analyze security --offline: exposure $score"
		ok
	else
		not_ok "$1: systemd-analyze security: exposure ${score:-?}" \
		    "(exit $r)"
		grep -E '✗|Overall' "$tmp/sec.out" | sed 's/^/    /'
	fi
}

check_unit rampart-gateway.service 25
check_unit rampart-knockd.service 18

summary
